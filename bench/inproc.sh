#!/usr/bin/env bash
# In-process capture (the agent, docs/inproc.md): dpdk-testpmd forwarding net_null0 <-> net_null1
# (io mode, forwarding lcore 1 on CPU 1), its port-0 receive rate read from its telemetry socket
# over 1 s windows, alternating in one run: no hook; the agent at rx_burst:0 (and at rx_burst:0 +
# tx_burst:0) keeping nothing (the filter seam returns 0 for every burst), or filtering with
# core/jit's compiled "tcp port 80" (net_null's zero-filled packets never match); the agent capturing
# everything at snap 64, the records read (not written) by agent_cap on CPU 0. Prints the median
# of each condition over ROUNDS rounds and the median of its share of the no-hook windows just
# before and after each of its windows (the load of a shared machine drifts), as markdown.
#
# Usage: bench/inproc.sh BUILD_DIR [ROUNDS]   (root; BUILD_DIR has agent_cap, agent_shim, the agent)
# NC_BENCH_RING=BYTES: the ring size of each (hook, thread) (default: the client's, 4 MiB)
# The agent is loaded by the test-only agent_shim (LD_PRELOAD) and read by agent_cap: the rows measure
# the agent alone, without the injection and netcap's reader (bench/dumpcap.sh has those).
set -euo pipefail
build=${1:?usage: bench/inproc.sh BUILD_DIR [ROUNDS]}
rounds=${2:-5}
cap=$build/tests/integration/agent_cap
shim=$build/tests/integration/libagent_shim.so
lib=$build/agent/libnetcap-agent.so
for f in "$cap" "$shim" "$lib"; do
	[[ -e $f ]] || {
		echo "inproc.sh: $f missing: build agent_cap agent_shim netcap-agent in $build" >&2
		exit 1
	}
done
[[ $EUID == 0 ]] || {
	echo "inproc.sh: needs root" >&2
	exit 1
}

sock=nc-inproc-bench-$$
# shellcheck source=testpmd_lib.sh
source "$(dirname "$0")/testpmd_lib.sh"
tp_start inproc LD_PRELOAD="$shim" NC_AGENT_LIB="$lib" NC_AGENT_SOCKET="$sock"

# with_agent NAME AGENT_CAP_ARGS...: the rate while agent_cap (on CPU 0) holds the hooks
with_agent() {
	local name=$1 pid r
	shift
	rm -f "$tmp/ready"
	taskset -c 0 "$cap" --pid "$pmd" --name "$sock" --ready-file "$tmp/ready" \
		${NC_BENCH_RING:+--ring "$NC_BENCH_RING"} "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	for _ in $(seq 200); do
		[[ -e $tmp/ready ]] && break
		sleep 0.02
	done
	[[ -e $tmp/ready ]] || {
		echo "inproc.sh: agent_cap did not start: $(cat "$tmp/$name.err")" >&2
		exit 1
	}
	sleep 0.1
	r=$(tp_rate 1)
	kill -INT "$pid"
	wait "$pid"
	echo "$r"
	cat "$tmp/$name.out" >>"$tmp/$name.all"
}

conds=(none_rx filt_rx all_rx none_rxtx filt_rxtx all_rxtx)
declare -A args=(
	[none_rx]="-f rx:0 --keep-none"
	[filt_rx]="-f rx:0 -e tcp_port_80"
	[all_rx]="-f rx:0 -s 64"
	[none_rxtx]="-f rx:0,tx:0 --keep-none"
	[filt_rxtx]="-f rx:0,tx:0 -e tcp_port_80"
	[all_rxtx]="-f rx:0,tx:0 -s 64"
)
declare -A rates=([base]="") ratios=()
sleep 1 # testpmd warms up
for ((i = 0; i < rounds; i++)); do
	# a no-hook window before and after each hooked one: the machine's load drifts
	b0=$(tp_rate 1)
	rates[base]+=" $b0"
	for c in "${conds[@]}"; do
		# the arguments are words, _ stands for a space inside one
		read -ra words <<<"${args[$c]}"
		words=("${words[@]//_/ }")
		r=$(with_agent "$c" "${words[@]}")
		b1=$(tp_rate 1)
		rates[base]+=" $b1"
		rates[$c]+=" $r"
		ratios[$c]+=" $(awk -v r="$r" -v a="$b0" -v b="$b1" 'BEGIN { printf "%.3f", 2 * r / (a + b) }')"
		b0=$b1
	done
done

base=$(tp_median <<<"${rates[base]}")
declare -A label=(
	[base]="no hook"
	[none_rx]="agent at rx_burst:0, keeping nothing"
	[filt_rx]="agent at rx_burst:0, compiled filter \"tcp port 80\" (matches nothing)"
	[all_rx]="agent at rx_burst:0, capturing everything, snap 64"
	[none_rxtx]="agent at rx_burst:0 + tx_burst:0, keeping nothing"
	[filt_rxtx]="agent at rx_burst:0 + tx_burst:0, compiled filter \"tcp port 80\""
	[all_rxtx]="agent at rx_burst:0 + tx_burst:0, capturing everything, snap 64"
)
echo "| condition | port 0 rx rate, median of the 1 s windows | kept: median of (window / mean of the no-hook windows around it) | windows (Mpps) |"
echo "|---|---:|---:|---|"
for c in base "${conds[@]}"; do
	m=$(tp_median <<<"${rates[$c]}")
	windows=$(tr ' ' '\n' <<<"${rates[$c]}" | grep . | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1e6 }')
	k=1
	[[ $c == base ]] || k=$(tp_median <<<"${ratios[$c]}")
	awk -v l="${label[$c]}" -v m="$m" -v k="$k" -v w="$windows" \
		'BEGIN { printf "| %s | %.2f Mpps | %.0f %% | %s |\n", l, m / 1e6, 100 * k, w }'
done
echo
echo "Capture side (agent_cap, last round):"
for c in all_rx all_rxtx; do
	tail -n 4 "$tmp/$c.all" | grep -E '^agent_cap: [rt]x' | sed "s/^/    $c: /"
done
