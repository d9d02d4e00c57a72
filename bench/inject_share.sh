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
# shellcheck source=testpmd_lib.sh
source "$(dirname "$0")/testpmd_lib.sh"
tp_start inject-share
sleep 1

declare -A agent=() total=()
for ((i = 0; i < rounds; i++)); do
	for which in A B; do
		netcap=$a
		[[ $which == A ]] || netcap=$b
		tp_inject "$netcap" "$points" "$filter"
		sleep 0.2
		perf record -q -C 1 -o "$tmp/perf.data" -- sleep 2 >/dev/null 2>&1
		kill -INT "$tp_cap"
		wait "$tp_cap" || true
		perf report -i "$tmp/perf.data" --no-children --stdio --comms rte-worker-1 --sort dso \
			-g none 2>/dev/null | grep -v '^#' | grep . >"$tmp/report" || true
		ag=$(awk '/libnetcap-agent/ { s += $1 } END { printf "%.1f", s }' "$tmp/report")
		all=$(awk '/libnetcap-agent|\[JIT\]/ { s += $1 } END { printf "%.1f", s }' "$tmp/report")
		echo "$which round $((i + 1)): agent $ag %, agent + compiled filter $all %"
		agent[$which]+=" $ag" total[$which]+=" $all"
	done
done
echo
echo "| $points, filter \"$filter\": share of the lcore's samples (median of $rounds) | agent | agent + compiled filter |"
echo "|---|---:|---:|"
echo "| A: $a | $(tp_median <<<"${agent[A]}") % | $(tp_median <<<"${total[A]}") % |"
echo "| B: $b | $(tp_median <<<"${agent[B]}") % | $(tp_median <<<"${total[B]}") % |"
