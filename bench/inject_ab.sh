#!/usr/bin/env bash
# A/B of two netcap builds' in-process capture (`netcap mbuf --inject`) against ONE dpdk-testpmd
# (io mode, net_null0 <-> net_null1, forwarding lcore on CPU 1, netcap on CPU 0): each build's
# netcap loads its own agent (the libnetcap-agent.so beside it) into the same process, in turn,
# with a no-hook window between any two, so that both see the same machine load. Conditions: a
# filter matching nothing ("tcp port 80": net_null's zero-filled packets) at rx_burst:0, and at
# rx_burst:0 + tx_burst:0. Per condition and build: the median over ROUNDS of (port 0's receive
# rate over 1 s, from testpmd's telemetry) / (the mean of the no-hook windows just before and
# after it). Reports, never asserts.
# Usage: bench/inject_ab.sh NETCAP_A NETCAP_B [ROUNDS]   (root)
set -euo pipefail
a=${1:?usage: bench/inject_ab.sh NETCAP_A NETCAP_B [ROUNDS]}
b=${2:?usage: bench/inject_ab.sh NETCAP_A NETCAP_B [ROUNDS]}
rounds=${3:-5}
[[ $EUID == 0 ]] || {
	echo "inject_ab.sh: needs root" >&2
	exit 1
}
# shellcheck source=testpmd_lib.sh
source "$(dirname "$0")/testpmd_lib.sh"
tp_start inject-ab

# hooked NETCAP POINTS: the rate while that netcap's agent holds the hooks
hooked() {
	local r
	tp_inject "$1" "$2" "tcp port 80"
	sleep 0.2
	r=$(tp_rate 1)
	kill -INT "$tp_cap"
	wait "$tp_cap" || true
	echo "$r"
}

declare -A ratios=()
sleep 1
b0=$(tp_rate 1)
for ((i = 0; i < rounds; i++)); do
	for points in rx_burst:0 rx_burst:0,tx_burst:0; do
		for which in A B; do
			netcap=$a
			[[ $which == A ]] || netcap=$b
			r=$(hooked "$netcap" "$points")
			b1=$(tp_rate 1)
			ratios[$which $points]+=" $(awk -v r="$r" -v x="$b0" -v y="$b1" 'BEGIN { printf "%.3f", 2 * r / (x + y) }')"
			b0=$b1
		done
	done
done
echo "| hooks, filter \"tcp port 80\" (matches nothing) | A: $a | B: $b |"
echo "|---|---:|---:|"
for points in rx_burst:0 rx_burst:0,tx_burst:0; do
	printf '| %s | %.0f %% (%s) | %.0f %% (%s) |\n' "$points" \
		"$(tp_median <<<"${ratios[A $points]}" | awk '{ print 100 * $1 }')" "${ratios[A $points]# }" \
		"$(tp_median <<<"${ratios[B $points]}" | awk '{ print 100 * $1 }')" "${ratios[B $points]# }"
done
