#!/usr/bin/env bash
# The benchmark scripts (what scripts/bench runs) still run and still print their tables: each
# is run once with the smallest settings, and what its table must say regardless of speed is
# checked (rows, the packets the filters let through, loss accounting). No timing is asserted.
# Usage: test_bench.sh NETCAP NC_FWD BENCH_FILTER CORPUS_PCAP
set -euo pipefail
netcap=${1:?usage: test_bench.sh NETCAP NC_FWD BENCH_FILTER CORPUS_PCAP}
nc_fwd=${2:?} bench_filter=${3:?} corpus=${4:?}
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# rows FILE: the data rows of the Markdown table in FILE
rows() { grep '^| ' "$1" | grep -v '^| *[a-z ]*|.*---' | tail -n +2; }

run() { # NAME COMMAND...: run a benchmark, its output in $tmp/NAME
	local name=$1
	shift
	"$@" >"$tmp/$name" 2>"$tmp/$name.err" || fail "$name exited $?: $(tail -5 "$tmp/$name.err")"
	echo "--- $name"
	cat "$tmp/$name"
}

run filter "$bench_filter" "$corpus" 10 1
(($(rows "$tmp/filter" | wc -l) >= 5)) || fail "filter: too few rows"

run startup bash "$top/bench/startup.sh" "$netcap" "$nc_fwd" 1
[[ $(rows "$tmp/startup" | cut -d'|' -f2 | awk '{print $1}' | paste -sd,) == netcap,bpftrace ]] ||
	fail "startup: want rows netcap and bpftrace"

run rate bash "$top/bench/mbuf_rate.sh" "$netcap" "$nc_fwd" 1 1
(($(rows "$tmp/rate" | wc -l) == 11)) || fail "mbuf_rate: want 11 rows (baseline + 5 hooks x 2 filters)"

run dumpcap bash "$top/bench/dumpcap.sh" "$netcap" "$nc_fwd" 1 1
(($(rows "$tmp/dumpcap" | wc -l) == 5)) || fail "dumpcap: want 5 rows"
# the filter that matches nothing lets nothing through, the empty one everything
while IFS='|' read -r _ tool filter _ _ written _; do
	written=${written// /}
	case $filter in
	*none*) [[ $written == 0 ]] || fail "dumpcap: $tool wrote $written packets through a filter that matches none" ;;
	*all*) ((written > 0)) || fail "dumpcap: $tool wrote nothing without a filter" ;;
	esac
done < <(rows "$tmp/dumpcap" | tail -n +2)

run throughput bash "$top/bench/throughput.sh" "$netcap" "$nc_fwd" 1
(($(rows "$tmp/throughput" | wc -l) == 10)) || fail "throughput: want 10 rows"
# whatever the speed, netcap's reported drops equal what the file misses
rows "$tmp/throughput" | awk -F'|' '{gsub(/ /, "", $9); if ($9 != "yes") bad++} END {exit bad > 0}' ||
	fail "throughput: reported drops differ from the packets missing from the file"

run profile bash "$top/bench/profile.sh" "$netcap" "$nc_fwd" fwd_burst@1@2 1
grep -q 'capture_mbuf' "$tmp/profile" || fail "profile: netcap's capture_mbuf is not among the symbols"
echo "PASS: every benchmark ran and printed its table"
