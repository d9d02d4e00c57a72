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
netcap=${1:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
export NC_FWD=${2:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
secs=${3:-2}
runs=${4:-3}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp
# --inject's stops (patching the functions) within this bound: on a loaded machine a sleeping
# thread of nc_fwd may wait longer than the default 100 ms for a CPU
export NETCAP_PATCH_TIMEOUT_MS=${NETCAP_PATCH_TIMEOUT_MS:-1000}
# the forwarder's lcore is CPU 0 (nc_fwd_start: -l 0); netcap runs on this one
tool_cpu=1
taskset -c "$tool_cpu" true 2>/dev/null ||
	nc_fail "bench/mbuf_rate needs CPU $tool_cpu for netcap, besides the forwarder's CPU 0"

# rate SPEC FILTER [OPTS]: forwarded packets per second over one run (SPEC "" = no capture), in
# $RATE; the packets netcap reports dropped (ring full, unreadable), in $DROPPED; per second of the
# forwarder's CPU time, in $CPU_RATE.
# Not called in $(...): lib.sh must see the fixture it starts to clean up after it.
rate() {
	local spec=$1 filter=$2 opts=${3:-} nc_pid="" rx c0 c1
	# the fixture forwards for exactly the window, then idles with the capture still attached
	nc_fwd_start --stats --run-ms $((secs * 1000)) -- --vdev net_null0 --vdev net_null1 >/dev/null
	if [[ $spec == bpftrace:* ]]; then
		# another uprobe tool doing nothing: bpftrace's probe at the function's entry (netcap places
		# its own past the first instructions, at one the kernel emulates: core/plan/placement.c)
		# and an empty program
		taskset -c "$tool_cpu" bpftrace -p "$NC_FWD_PID" -e "uprobe:$NC_FWD:${spec#bpftrace:} {}" \
			>/dev/null 2>"$tmp/netcap.err" &
		nc_pid=$!
		# bpftrace attaches through perf events, not BPF links: wait for its perf event, then for
		# the ioctl that attaches the program to it, made right after
		for _ in $(seq 300); do
			find "/proc/$nc_pid/fd" -lname 'anon_inode:*perf_event*' 2>/dev/null | grep -q . && break
			sleep 0.1
		done
		find "/proc/$nc_pid/fd" -lname 'anon_inode:*perf_event*' 2>/dev/null | grep -q . ||
			{ cat "$tmp/netcap.err" >&2; exit 1; }
		sleep 0.5
	elif [[ -n $spec ]]; then
		rm -f "$tmp/ready"
		# shellcheck disable=SC2086 # opts: zero or one word
		taskset -c "$tool_cpu" "$netcap" mbuf $opts --pid "$NC_FWD_PID" -f "$spec" -e "$filter" -s 128 \
			-w /dev/null --ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
		nc_pid=$!
		for _ in $(seq 200); do [[ -e $tmp/ready ]] && break; sleep 0.1; done
		[[ -e $tmp/ready ]] || { cat "$tmp/netcap.err" >&2; exit 1; }
	fi
	# the forwarder sleeps while it waits for the go and once its window is over
	c0=$(awk '{print $1}' "/proc/$NC_FWD_PID/schedstat")
	nc_fwd_go
	sleep "$secs"
	sleep 0.2
	c1=$(awk '{print $1}' "/proc/$NC_FWD_PID/schedstat")
	DROPPED=0
	if [[ -n $nc_pid ]]; then
		sleep 0.8 # the ring drained: netcap wakes its reader at least every 100 ms
		kill -INT "$nc_pid" 2>/dev/null || true
		# never wait for ever: a tool that does not end within 20 s of its SIGINT is killed
		for _ in $(seq 200); do kill -0 "$nc_pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$nc_pid" 2>/dev/null && {
			echo "bench/mbuf_rate: $spec: the tool did not end within 20 s of SIGINT; killed" >&2
			kill -KILL "$nc_pid"
		}
		wait "$nc_pid" || echo "bench/mbuf_rate: netcap exited $? before the end of the run: $(tail -3 "$tmp/netcap.err")" >&2
		# its summary lines: "netcap: POINT: seen S, matched M, written W, dropped D (...)"
		DROPPED=$(awk '/: seen .* dropped/ {for (i = 1; i < NF; i++) if ($i == "dropped") d += $(i+1)} END {print d + 0}' "$tmp/netcap.err")
	fi
	nc_fwd_stop >/dev/null || true
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	RATE=$((rx / secs))
	CPU_RATE=$((rx * 1000000000 / (c1 - c0 > 0 ? c1 - c0 : 1)))
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

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
