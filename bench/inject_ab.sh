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
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nc-inject-ab.XXXXXX")
prefix=nc-inject-ab-$$
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
telemetry=/var/run/dpdk/$prefix/dpdk_telemetry.v2
for _ in $(seq 200); do
	grep -q 'Port 1: ' "$tmp/testpmd.out" && [[ -S $telemetry ]] && break
	sleep 0.05
done
[[ -S $telemetry ]] || {
	echo "inject_ab.sh: testpmd did not start: $(cat "$tmp/testpmd.out")" >&2
	exit 1
}

# port 0's received packets per second over 1 s (telemetry)
rate() {
	python3 - "$telemetry" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
def sample():
    s.send(b"/ethdev/stats,0")
    n = json.loads(s.recv(16384))["/ethdev/stats"]["ipackets"]
    return n, time.monotonic()
n0, t0 = sample()
time.sleep(1)
n1, t1 = sample()
print(int((n1 - n0) / (t1 - t0)))
EOF
}

# hooked NETCAP POINTS: the rate while that netcap's agent holds the hooks
hooked() {
	local netcap=$1 points=$2 pid r
	rm -f "$tmp/ready"
	taskset -c 0 "$netcap" mbuf --inject --pid "$pmd" -f "$points" -e "tcp port 80" -w /dev/null \
		--ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
	pid=$!
	for _ in $(seq 200); do
		[[ -e $tmp/ready ]] && break
		sleep 0.05
	done
	[[ -e $tmp/ready ]] || {
		echo "inject_ab.sh: $netcap did not attach: $(cat "$tmp/netcap.err")" >&2
		exit 1
	}
	sleep 0.2
	r=$(rate)
	kill -INT "$pid"
	wait "$pid" || true
	echo "$r"
}

declare -A ratios=()
sleep 1
b0=$(rate)
for ((i = 0; i < rounds; i++)); do
	for points in rx_burst:0 rx_burst:0,tx_burst:0; do
		for which in A B; do
			netcap=$a
			[[ $which == A ]] || netcap=$b
			r=$(hooked "$netcap" "$points")
			b1=$(rate)
			ratios[$which $points]+=" $(awk -v r="$r" -v x="$b0" -v y="$b1" 'BEGIN { printf "%.3f", 2 * r / (x + y) }')"
			b0=$b1
		done
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "| hooks, filter \"tcp port 80\" (matches nothing) | A: $a | B: $b |"
echo "|---|---:|---:|"
for points in rx_burst:0 rx_burst:0,tx_burst:0; do
	printf '| %s | %.0f %% (%s) | %.0f %% (%s) |\n' "$points" \
		"$(median <<<"${ratios[A $points]}" | awk '{ print 100 * $1 }')" "${ratios[A $points]# }" \
		"$(median <<<"${ratios[B $points]}" | awk '{ print 100 * $1 }')" "${ratios[B $points]# }"
done
