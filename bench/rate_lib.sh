#!/usr/bin/env bash
# bench/rate_lib: one run of the nc_fwd forwarder at saturation between two net_null ports with
# or without netcap attached, for bench/mbuf_rate.sh and bench/ring_policy.sh. Sourced after
# tests/integration/lib.sh, with $netcap, $secs (the forwarder's window), $tool_cpu (netcap's
# CPU) and $tmp set.

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
		# shellcheck disable=SC2086 # opts: options, split into words
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
			echo "bench/rate_lib: $spec: the tool did not end within 20 s of SIGINT; killed" >&2
			kill -KILL "$nc_pid"
		}
		wait "$nc_pid" || echo "bench/rate_lib: netcap exited $? before the end of the run: $(tail -3 "$tmp/netcap.err")" >&2
		# its summary lines: "netcap: POINT: seen S, matched M, written W, dropped D (...)"
		DROPPED=$(awk '/: seen .* dropped/ {for (i = 1; i < NF; i++) if ($i == "dropped") d += $(i+1)} END {print d + 0}' "$tmp/netcap.err")
	fi
	nc_fwd_stop >/dev/null || true
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	RATE=$((rx / secs))
	CPU_RATE=$((rx * 1000000000 / (c1 - c0 > 0 ? c1 - c0 : 1)))
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
