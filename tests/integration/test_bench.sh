#!/usr/bin/env bash
# The benchmark scripts (what scripts/bench runs) still run and still print their tables: each
# is run once with the smallest settings, and what its table must say regardless of speed is
# checked (rows and columns, the packets the filters let through, loss accounting: the drops
# each tool reports, the packets in each tool's file as capinfos counts them against what the
# tool says it wrote). No timing is asserted.
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

# header FILE: the header row of the Markdown table in FILE, cells trimmed, joined by '|'
header() { grep -m1 '^| ' "$1" | sed 's/^| *//; s/ *|$//; s/ *| */|/g'; }
num() { [[ $1 =~ ^[0-9]+$ ]]; }
dec() { [[ $1 =~ ^[0-9]+[.][0-9]$ ]]; }
trim() { local v=$1; v=${v#"${v%%[! ]*}"}; printf '%s' "${v%"${v##*[! ]}"}"; }

run startup bash "$top/bench/startup.sh" "$netcap" "$nc_fwd" 1
[[ $(header "$tmp/startup") == "tool|start to first packet, exit, ms|start to attached, ms|detaching, ms|peak RSS, MiB" ]] ||
	fail "startup: header $(header "$tmp/startup")"
[[ $(rows "$tmp/startup" | cut -d'|' -f2 | awk '{print $1 ($2 == "--inject" ? " --inject" : "")}' | paste -sd,) == "netcap,bpftrace,netcap --inject" ]] ||
	fail "startup: want rows netcap, bpftrace and netcap --inject"
grep -qE '^`--inject`: the application thread stopped to load the agent, per run: [a-z_-]+ ×1; the longest [0-9.]+ ms' "$tmp/startup" ||
	fail "startup: no line on the thread the injection stopped"
while IFS='|' read -r _ tool first attached detach rss _; do
	tool=$(trim "$tool") first=$(trim "$first") attached=$(trim "$attached") rss=$(trim "$rss")
	detach=$(trim "$detach")
	dec "$first" && dec "$rss" || fail "startup: $tool: '$first' ms, '$rss' MiB"
	# the detach is timed for netcap through uprobes only (under strace, when it is installed)
	if [[ $tool == netcap && $(command -v strace) ]]; then
		dec "$detach" || fail "startup: netcap detached in '$detach' ms"
	else
		[[ $detach == – ]] || fail "startup: $tool has a detach time '$detach'"
	fi
	case $tool in
	netcap*)
		dec "$attached" || fail "startup: $tool attached at '$attached'"
		# attached comes before the first packet, which comes before the exit
		[[ $(echo "$attached <= $first" | bc) == 1 ]] ||
			fail "startup: netcap attached ($attached ms) after its first packet and exit ($first ms)"
		;;
	*) [[ $attached == – ]] || fail "startup: $tool has an attach time '$attached'" ;;
	esac
done < <(rows "$tmp/startup")

run rate bash "$top/bench/mbuf_rate.sh" "$netcap" "$nc_fwd" 1 1
[[ $(header "$tmp/rate") == "hook point|kind|filter|forwarded Mpps|kept|per CPU second, Mpps|kept|dropped" ]] ||
	fail "mbuf_rate: header $(header "$tmp/rate")"
(($(rows "$tmp/rate" | wc -l) == 26)) ||
	fail "mbuf_rate: want 26 rows (baseline, the empty uprobe, 5 hooks and 2 USDT probes through uprobes, 3 functions and 2 USDT probes in-process, x 2 filters)"
[[ $(rows "$tmp/rate" | sed -n 2p | cut -d'|' -f2,9 | tr -d ' ') == '`fwd_burst`(bpftrace,`{}`)|–' ]] ||
	fail "mbuf_rate: second row is not the empty uprobe: $(rows "$tmp/rate" | sed -n 2p)"
[[ $(rows "$tmp/rate" | head -1 | cut -d'|' -f9 | tr -d ' ') == – ]] || fail "mbuf_rate: the baseline has drops"
# every hook row reports netcap's drops; a filter that matches nothing leaves nothing to drop
while IFS='|' read -r _ spec _ filter _ _ cpu _ dropped _; do
	cpu=$(trim "$cpu")
	[[ $cpu =~ ^[0-9]+[.][0-9]+$ ]] || fail "mbuf_rate: $spec $filter: '$cpu' Mpps per CPU second"
	dropped=$(trim "$dropped")
	num "$dropped" || fail "mbuf_rate: $spec $filter: dropped '$dropped'"
	[[ $filter != *none* || $dropped == 0 ]] || fail "mbuf_rate: $spec dropped $dropped through a filter that matches none"
done < <(rows "$tmp/rate" | tail -n +3)

# two ring sizes x two wake-up thresholds, one round: every row a size, a threshold, rates and
# the drops netcap reported, in the order asked
run ring bash "$top/bench/ring_policy.sh" "$netcap" "$nc_fwd" 1 1 1024,4096 32,8
[[ $(header "$tmp/ring") == "ring, KiB|reader woken at|forwarded Mpps|kept|per CPU second, Mpps|kept|dropped" ]] ||
	fail "ring_policy: header $(header "$tmp/ring")"
[[ $(rows "$tmp/ring" | cut -d'|' -f2,3 | tr -d ' ' | paste -sd,) == "1024|1/32,1024|1/8,4096|1/32,4096|1/8" ]] ||
	fail "ring_policy: want rows 1024 and 4096 KiB x 1/32 and 1/8: $(rows "$tmp/ring" | cut -d'|' -f2,3 | paste -sd,)"
while IFS='|' read -r _ size wake rate _ cpu _ dropped _; do
	rate=$(trim "$rate") cpu=$(trim "$cpu") dropped=$(trim "$dropped")
	[[ $rate =~ ^[0-9]+[.][0-9]+$ && $cpu =~ ^[0-9]+[.][0-9]+$ ]] && num "$dropped" ||
		fail "ring_policy: $size $wake: '$rate' Mpps, '$cpu' per CPU second, dropped '$dropped'"
done < <(rows "$tmp/ring")

run dumpcap bash "$top/bench/dumpcap.sh" "$netcap" "$nc_fwd" 1 1
[[ $(header "$tmp/dumpcap") == "tool|filter|forwarded Mpps|kept|seen|written|in file|dropped" ]] ||
	fail "dumpcap: header $(header "$tmp/dumpcap")"
(($(rows "$tmp/dumpcap" | wc -l) == 7)) || fail "dumpcap: want 7 rows (baseline + dpdk-dumpcap, netcap, netcap --inject x 2 filters)"
# each tool's file holds what it says it wrote; netcap wrote and dropped only what it saw (not
# dpdk-dumpcap: a copy it lost for want of an mbuf is dropped without being "received"); the
# filter that matches nothing lets nothing through (nothing written, nothing dropped), the empty
# one everything
while IFS='|' read -r _ tool filter _ _ seen written infile dropped _; do
	tool=$(trim "$tool") seen=$(trim "$seen") written=$(trim "$written") infile=$(trim "$infile")
	dropped=$(trim "$dropped")
	num "$seen" && num "$written" && num "$infile" && num "$dropped" ||
		fail "dumpcap: $tool $filter: seen '$seen', written '$written', in file '$infile', dropped '$dropped'"
	((infile == written)) || fail "dumpcap: $tool says it wrote $written packets, its file holds $infile"
	[[ $tool != netcap* ]] || ((written + dropped <= seen)) ||
		fail "dumpcap: $tool wrote $written and dropped $dropped of $seen seen"
	case $filter in
	*none*) ((written == 0 && dropped == 0)) || fail "dumpcap: $tool wrote $written and dropped $dropped packets through a filter that matches none" ;;
	*all*) ((written > 0)) || fail "dumpcap: $tool wrote nothing without a filter" ;;
	esac
done < <(rows "$tmp/dumpcap" | tail -n +2)

# DPDK 24.11's dpdk-testpmd and dpdk-dumpcap in the Debian 13 root (tests/dpdk/roots.sh), netcap
# --inject on the host: where the root cannot be made the script says so in one line
run dumpcap2411 bash "$top/bench/dumpcap_2411.sh" "$netcap" "${NC_ROOTS:?NC_ROOTS must name the DPDK roots cache}" 1 1
if grep -q '^Not run: ' "$tmp/dumpcap2411"; then
	echo "dumpcap_2411: $(cat "$tmp/dumpcap2411")"
else
	[[ $(header "$tmp/dumpcap2411") == "condition|port 0 rx, median|kept|written to the file, median (M/s)|windows (Mpps)" ]] ||
		fail "dumpcap_2411: header $(header "$tmp/dumpcap2411")"
	# a condition whose one run the application did not survive has no row; netcap's always
	for want in "no capture" "netcap --inject, filter matching nothing" "netcap --inject, everything"; do
		rows "$tmp/dumpcap2411" | grep -q "^| $want |" || fail "dumpcap_2411: no row \"$want\""
	done
	# block NAME: the last round's lines of NAME
	block() { awk -v name="$1:" '$0 == name {on = 1; next} /^[^ ]/ {on = 0} on' "$tmp/dumpcap2411"; }
	sum() { awk -v k="$1" '/: seen / {for (i = 1; i < NF; i++) if ($i == k) n += $(i + 1)} END {print n + 0}'; }
	for cond in "filter matching nothing" everything; do
		b=$(block "netcap --inject, $cond")
		seen=$(sum seen <<<"$b") matched=$(sum matched <<<"$b")
		written=$(sum written <<<"$b") dropped=$(sum dropped <<<"$b")
		infile=$(awk '/^ *in file:/ {print $3}' <<<"$b")
		# every packet the filter kept is in the file or counted as dropped
		((seen > 0 && written + dropped == matched && infile == written)) ||
			fail "dumpcap_2411: netcap --inject, $cond: seen $seen, matched $matched, written $written, dropped $dropped, in file $infile"
		if [[ $cond == everything ]]; then
			((matched == seen)) || fail "dumpcap_2411: netcap --inject without a filter matched $matched of $seen"
		else
			((matched == 0)) || fail "dumpcap_2411: netcap --inject matched $matched packets through a filter that matches none"
		fi
		b=$(block "dpdk-dumpcap 24.11, $cond")
		[[ -z $b ]] && continue # that run ended with the application's death: reported below the table
		captured=$(awk '/^ *Packets captured:/ {print $3}' <<<"$b")
		infile=$(awk '/^ *in file:/ {print $3}' <<<"$b")
		[[ -n $captured && $captured == "$infile" ]] ||
			fail "dumpcap_2411: dpdk-dumpcap, $cond: captured '$captured', in file '$infile'"
	done
	grep -qE '^dpdk-testpmd after [0-9]+ detaches of dpdk-dumpcap: died or stopped forwarding [0-9]+ times\.$' "$tmp/dumpcap2411" ||
		fail "dumpcap_2411: no line on the application's survival"
fi

run throughput bash "$top/bench/throughput.sh" "$netcap" "$nc_fwd" 1
(($(rows "$tmp/throughput" | wc -l) == 10)) || fail "throughput: want 10 rows"
# whatever the speed, netcap's reported drops equal what the file misses
rows "$tmp/throughput" | awk -F'|' '{gsub(/ /, "", $9); if ($9 != "yes") bad++} END {exit bad > 0}' ||
	fail "throughput: reported drops differ from the packets missing from the file"

run profile bash "$top/bench/profile.sh" "$netcap" "$nc_fwd" fwd_burst@1@2 1
grep -q 'capture_mbuf' "$tmp/profile" || fail "profile: netcap's capture_mbuf is not among the symbols"
echo "PASS: every benchmark ran and printed its table"
