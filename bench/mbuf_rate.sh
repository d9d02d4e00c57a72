#!/usr/bin/env bash
# bench/mbuf_rate: the nc_fwd forwarder at saturation between two net_null ports (64-byte
# packets, bursts of 32), packets per second with no capture, then with netcap attached at each
# hook kind, with a filter that matches nothing and one that matches everything (snap length
# 128, written to /dev/null), through uprobes and, for the functions and the USDT probe, in-process
# (--inject: the function or the probe's site patched to jump into a trampoline of netcap's agent); and bpftrace with an empty action
# at the burst function, a uprobe tool doing nothing. The forwarder's lcore busy-polls CPU 0 and times its own window
# (--run-ms); netcap runs on CPU 1 (taskset) and is stopped 1 s after the window, once its ring
# is drained, and its summary gives the packets it dropped. Medians of several runs (per column);
# prints a Markdown table with the rate kept as a share of the no-capture baseline measured in
# the same run, and the packets forwarded per second of the forwarder's own CPU time
# (/proc/PID/schedstat around the window: on a machine shared with other jobs the rate over the
# window follows the CPU the forwarder got, this one much less). Reports, never asserts.
# Usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS_PER_RUN] [RUNS]
# NC_BENCH_ROWS (an extended regular expression): only the rows whose "SPEC OPTS" matches it,
# e.g. NC_BENCH_ROWS='^fwd_(one@1|burst@1@2) --inject$' (the baseline is always measured; the
# bpftrace row's SPEC is "bpftrace:fwd_burst").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # netcap and tmp: for rate_lib.sh
netcap=${1:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
export NC_FWD=${2:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
secs=${3:-2}
runs=${4:-3}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
# shellcheck disable=SC2034
tmp=
nc_tmpdir tmp
# --inject's stops (patching the functions) within this bound: on a loaded machine a sleeping
# thread of nc_fwd may wait longer than the default 100 ms for a CPU
export NETCAP_PATCH_TIMEOUT_MS=${NETCAP_PATCH_TIMEOUT_MS:-1000}
# the forwarder's lcore is CPU 0 (nc_fwd_start: -l 0); netcap runs on this one
tool_cpu=1
taskset -c "$tool_cpu" true 2>/dev/null ||
	nc_fail "bench/mbuf_rate needs CPU $tool_cpu for netcap, besides the forwarder's CPU 0"

# shellcheck source=rate_lib.sh
source "$here/rate_lib.sh"

measure() { # SPEC FILTER [OPTS]: the median rates in $RATE and $CPU_RATE, the median drops in $DROPPED
	local all=() drops=() cpu=()
	for _ in $(seq "$runs"); do
		rate "$1" "$2" "${3:-}"
		all+=("$RATE") drops+=("$DROPPED") cpu+=("$CPU_RATE")
	done
	RATE=$(echo "${all[*]}" | median) DROPPED=$(echo "${drops[*]}" | median)
	CPU_RATE=$(echo "${cpu[*]}" | median)
}

measure "" ""
base=$RATE cpu_base=$CPU_RATE
printf 'Forwarder: nc_fwd, one lcore busy-polling CPU 0, net_null0 <-> net_null1 (64-byte packets, bursts of 32); it forwards for %s s per run (`--run-ms`), median of %s runs (per column). netcap runs on CPU 1 (`taskset -c 1`), writes pcapng to /dev/null, snap length 128, and stops 1 s after the window; "dropped" is what its summary reports (ring full and unreadable, all hook points). "per CPU second": packets forwarded per second of the forwarder'"'"'s own CPU time (`/proc/PID/schedstat`), the same on a quiet machine, steadier on a busy one.\n\n' "$secs" "$runs"
printf '| hook point | kind | filter | forwarded Mpps | kept | per CPU second, Mpps | kept | dropped |\n|---|---|---|---:|---:|---:|---:|---:|\n'
printf '| none | – | – | %.2f | 100%% | %.2f | 100%% | – |\n' "$(echo "$base / 1000000" | bc -l)" \
	"$(echo "$cpu_base / 1000000" | bc -l)"
if [[ -z ${NC_BENCH_ROWS:-} || "bpftrace:fwd_burst" =~ $NC_BENCH_ROWS ]]; then
	measure bpftrace:fwd_burst ""
	printf '| `fwd_burst` (bpftrace, `{}`) | bpftrace doing nothing: a uprobe at the entry, an empty program | – | %.2f | %.1f%% | %.2f | %.1f%% | – |\n' \
		"$(echo "$RATE / 1000000" | bc -l)" "$(echo "100 * $RATE / $base" | bc -l)" \
		"$(echo "$CPU_RATE / 1000000" | bc -l)" "$(echo "100 * $CPU_RATE / $cpu_base" | bc -l)"
fi
for row in "fwd_one@1|per-packet function" "fwd_burst@1@2|burst function (array + count)" \
	"fwd_rx@2@ret|return side (array filled by the call)" "rx_burst|PMD rx, read on return" \
	"tx_burst|PMD tx, read on entry" \
	"fwd_one@1|per-packet function, in-process|--inject" \
	"fwd_burst@1@2|burst function, in-process|--inject" \
	"fwd_rx@2@ret|return side, in-process|--inject" \
	"usdt:nc_fwd:burst@1@2|USDT probe (array + count)" \
	"usdt:nc_fwd:burst@1@2|USDT probe, in-process|--inject" \
	"usdt:nc_fwd:one@1|USDT probe behind its semaphore, per packet" \
	"usdt:nc_fwd:one@1|USDT probe behind its semaphore, per packet, in-process|--inject"; do
	spec=${row%%|*} kind=${row#*|} opts=""
	[[ $kind != *"|"* ]] || { opts=${kind#*|}; kind=${kind%%|*}; }
	[[ -z ${NC_BENCH_ROWS:-} || "$spec${opts:+ $opts}" =~ $NC_BENCH_ROWS ]] || continue
	for filter in "ether proto 0x88b5" ""; do
		measure "$spec" "$filter" "$opts"
		r=$RATE
		label="all"
		[[ -z $filter ]] || label="none (\`$filter\`)"
		printf '| `%s` | %s | %s | %.2f | %.1f%% | %.2f | %.1f%% | %s |\n' "$spec${opts:+ $opts}" "$kind" "$label" \
			"$(echo "$r / 1000000" | bc -l)" "$(echo "100 * $r / $base" | bc -l)" \
			"$(echo "$CPU_RATE / 1000000" | bc -l)" "$(echo "100 * $CPU_RATE / $cpu_base" | bc -l)" "$DROPPED"
	done
done
