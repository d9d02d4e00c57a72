#!/usr/bin/env bash
# Where the forwarding lcore's time goes under `netcap mbuf --inject`, A/B of two netcap builds
# against ONE dpdk-testpmd (io mode, net_null0 <-> net_null1, forwarding lcore "rte-worker-1" on
# CPU 1, netcap on CPU 0): each build's netcap loads its own agent (the libnetcap-agent.so beside
# it) in turn, with a filter matching nothing (FILTER, default "tcp port 80": net_null's
# zero-filled packets) at POINTS (default rx_burst:0,tx_burst:0), and `perf record -C 1` samples
# the lcore for 2 s. Prints, per window, the share of the lcore's samples in the agent library and
# in the agent's compiled filter (perf's "[JIT]": code in anonymous executable memory), then the
# medians. Unlike a rate, the share does not move with what else runs on the machine (a rate
# swings 2x on a shared one); 1 - share is about the rate kept. Reports, never asserts.
# Usage: bench/inject_share.sh NETCAP_A NETCAP_B [ROUNDS] [POINTS] [FILTER]   (root, perf)
set -euo pipefail
a=${1:?usage: bench/inject_share.sh NETCAP_A NETCAP_B [ROUNDS] [POINTS] [FILTER]}
b=${2:?usage: bench/inject_share.sh NETCAP_A NETCAP_B [ROUNDS] [POINTS] [FILTER]}
rounds=${3:-5}
points=${4:-rx_burst:0,tx_burst:0}
filter=${5:-tcp port 80}
command -v perf >/dev/null || {
	echo "inject_share.sh: perf is missing (apt-get install linux-perf)" >&2
	exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nc-inject-share.XXXXXX")
prefix=nc-inject-share-$$
pmd=
cleanup() {
	[[ -z $pmd ]] || {
		kill -TERM "$pmd" 2>/dev/null || true
		wait "$pmd" 2>/dev/null || true
	}
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT

dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$prefix" -l 0-1 --vdev net_null0 \
	--vdev net_null1 -- --forward-mode=io --stats-period 3600 --total-num-mbufs 8192 \
	>"$tmp/testpmd.out" 2>&1 </dev/null &
pmd=$!
for _ in $(seq 200); do
	grep -q 'Port 1: ' "$tmp/testpmd.out" && break
	sleep 0.05
done
sleep 1

declare -A agent=() total=()
for ((i = 0; i < rounds; i++)); do
	for which in A B; do
		netcap=$a
		[[ $which == A ]] || netcap=$b
		rm -f "$tmp/ready"
		taskset -c 0 "$netcap" mbuf --inject --pid "$pmd" -f "$points" -e "$filter" -w /dev/null \
			--ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
		pid=$!
		for _ in $(seq 200); do
			[[ -e $tmp/ready ]] && break
			sleep 0.05
		done
		[[ -e $tmp/ready ]] || {
			echo "inject_share.sh: $netcap did not attach: $(cat "$tmp/netcap.err")" >&2
			exit 1
		}
		sleep 0.2
		perf record -q -C 1 -o "$tmp/perf.data" -- sleep 2 >/dev/null 2>&1
		kill -INT "$pid"
		wait "$pid" || true
		perf report -i "$tmp/perf.data" --no-children --stdio --comms rte-worker-1 --sort dso \
			-g none 2>/dev/null | grep -v '^#' | grep . >"$tmp/report" || true
		ag=$(awk '/libnetcap-agent/ { s += $1 } END { printf "%.1f", s }' "$tmp/report")
		all=$(awk '/libnetcap-agent|\[JIT\]/ { s += $1 } END { printf "%.1f", s }' "$tmp/report")
		echo "$which round $((i + 1)): agent $ag %, agent + compiled filter $all %"
		agent[$which]+=" $ag" total[$which]+=" $all"
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "| $points, filter \"$filter\": share of the lcore's samples (median of $rounds) | agent | agent + compiled filter |"
echo "|---|---:|---:|"
echo "| A: $a | $(median <<<"${agent[A]}") % | $(median <<<"${total[A]}") % |"
echo "| B: $b | $(median <<<"${agent[B]}") % | $(median <<<"${total[B]}") % |"
