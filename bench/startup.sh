#!/usr/bin/env bash
# bench/startup: how long from starting the capture tool until its uprobe is attached, and its
# peak memory, for netcap (`netcap mbuf -f fwd_burst@1@2`, attached when it writes its ready
# file) against bpftrace attaching the same uprobe (counted from its "Attaching 1 probe" line,
# printed just before it attaches, which flatters bpftrace slightly; its stdout is line-buffered
# with stdbuf, else the line reaches the file only when it exits). Medians of several runs.
# Usage: startup.sh NETCAP NC_FWD [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: startup.sh NETCAP NC_FWD [RUNS]}
export NC_FWD=${2:?usage: startup.sh NETCAP NC_FWD [RUNS]}
runs=${3:-7}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp
command -v bpftrace >/dev/null || nc_fail "bpftrace is missing (apt-get install bpftrace)"
nc_fwd_start -- --vdev net_null0 >/dev/null
exe=$(readlink -f "/proc/$NC_FWD_PID/exe")

now() { date +%s%N; }
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# wait_for COND: poll every 2 ms for at most 20 s
wait_for() {
	for _ in $(seq 10000); do eval "$1" && return 0; sleep 0.002; done
	return 1
}

nc_ms=() nc_kb=() bt_ms=() bt_kb=()
for _ in $(seq "$runs"); do
	rm -f "$tmp/ready" "$tmp/nc.time"
	t0=$(now)
	/usr/bin/time -f %M -o "$tmp/nc.time" "$netcap" mbuf -f fwd_burst@1@2 --pid "$NC_FWD_PID" \
		-w /dev/null --ready-file "$tmp/ready" --duration 0.3 2>/dev/null &
	nc=$!
	wait_for '[[ -e $tmp/ready ]]' || nc_fail "netcap did not attach"
	t1=$(now)
	wait "$nc" || true
	nc_ms+=($(((t1 - t0) / 100000)))
	nc_kb+=("$(tail -1 "$tmp/nc.time")")

	rm -f "$tmp/bt.out" "$tmp/bt.time"
	t0=$(now)
	/usr/bin/time -f %M -o "$tmp/bt.time" stdbuf -oL bpftrace -e "uprobe:$exe:fwd_burst { @n = count(); }" \
		>"$tmp/bt.out" 2>/dev/null &
	bt=$!
	if ! wait_for 'grep -q Attaching "$tmp/bt.out" 2>/dev/null'; then
		pkill -KILL -P "$bt" bpftrace 2>/dev/null || true
		nc_fail "bpftrace did not attach in 20 s"
	fi
	t1=$(now)
	sleep 0.3
	# bpftrace may miss an interrupt that comes while it is still attaching: repeat it, then kill
	for _ in $(seq 20); do
		pkill -INT -P "$bt" bpftrace 2>/dev/null || break
		sleep 0.5
	done
	pkill -KILL -P "$bt" bpftrace 2>/dev/null || true
	wait "$bt" || true
	bt_ms+=($(((t1 - t0) / 100000)))
	bt_kb+=("$(tail -1 "$tmp/bt.time")")
done
nc_fwd_stop >/dev/null || true

n=$(echo "${nc_ms[*]}" | median)
b=$(echo "${bt_ms[*]}" | median)
printf 'Start-up to an attached uprobe on the fixture'"'"'s fwd_burst, median of %s runs (0.1 ms units shown as ms).\n\n' "$runs"
printf '| tool | start to attached, ms | peak RSS, MiB |\n|---|---:|---:|\n'
printf '| netcap | %.1f | %.1f |\n' "$(echo "$n / 10" | bc -l)" "$(echo "$(echo "${nc_kb[*]}" | median) / 1024" | bc -l)"
printf '| bpftrace %s | %.1f | %.1f |\n' "$(bpftrace --version | awk '{print $2}')" "$(echo "$b / 10" | bc -l)" \
	"$(echo "$(echo "${bt_kb[*]}" | median) / 1024" | bc -l)"
printf '\nbpftrace / netcap: %.2f (above 1: netcap attaches sooner).\n' "$(echo "$b / $n" | bc -l)"
