#!/usr/bin/env bash
# bench/startup: how long a capture tool takes, as a whole process, from its start until it has
# captured the first packet of a busy forwarder and exited, and its peak memory: netcap
# (`netcap mbuf -f fwd_burst@1@2 --pid P -c 1 -w /dev/null`) against bpftrace
# (`bpftrace -e 'uprobe:BINARY:fwd_burst { exit(); }'`). Both run on CPU 1 (taskset) while the
# fixture's lcore busy-polls CPU 0 and calls fwd_burst with packets all the time, so the clock
# stops at the same event for both: the first hit of the hooked function, taken out of the kernel
# by the tool, and the tool's own exit. netcap also says when its probes are attached (its ready
# file, whose modification time is read); bpftrace says nothing at that moment (its "Attaching 1
# probe" line is printed before it attaches), so that column is netcap's only. Medians of several
# runs. The same for `netcap mbuf --inject -f rx_burst:0` (the agent loaded into the fixture), with
# the application thread the injection stopped and for how long (netcap -v says so). Where
# netcap's exit goes: a separate run under strace, which stops it at close() only, times the
# close() calls that detach the probe (the kernel waits for RCU grace periods there).
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
# the forwarder's lcore is CPU 0 (nc_fwd_start: -l 0); the tools run on this one
tool_cpu=1
taskset -c "$tool_cpu" true 2>/dev/null ||
	nc_fail "bench/startup needs CPU $tool_cpu for the tools, besides the forwarder's CPU 0"
nc_fwd_start -- --vdev net_null0 >/dev/null
nc_fwd_go
exe=$(readlink -f "/proc/$NC_FWD_PID/exe")

now() { date +%s%N; }
median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ms() { echo "$1 / 1000000" | bc -l; } # ns to ms
mib() { echo "$1 / 1024" | bc -l; }   # KiB to MiB

nc_end=() nc_att=() nc_det=() nc_kb=() bt_end=() bt_kb=() in_end=() in_att=() in_kb=() in_stop=()
for _ in $(seq "$runs"); do
	rm -f "$tmp/ready" "$tmp/nc.time"
	t0=$(now)
	taskset -c "$tool_cpu" timeout 30 /usr/bin/time -f %M -o "$tmp/nc.time" "$netcap" mbuf \
		-f fwd_burst@1@2 --pid "$NC_FWD_PID" -c 1 -w /dev/null --ready-file "$tmp/ready" \
		2>"$tmp/nc.err" || nc_fail "netcap failed: $(cat "$tmp/nc.err")"
	t1=$(now)
	grep -qx "netcap: 1 packets written (count reached)" "$tmp/nc.err" ||
		nc_fail "netcap did not capture a packet: $(cat "$tmp/nc.err")"
	# the ready file's modification time, in ns: when netcap had attached its probes
	att=$(stat -c %.9Y "$tmp/ready")
	nc_end+=($((t1 - t0)))
	nc_att+=($((${att/./} - t0)))
	nc_kb+=("$(tail -1 "$tmp/nc.time")")

	rm -f "$tmp/bt.time"
	t0=$(now)
	taskset -c "$tool_cpu" timeout 30 /usr/bin/time -f %M -o "$tmp/bt.time" \
		bpftrace -e "uprobe:$exe:fwd_burst { exit(); }" >/dev/null 2>"$tmp/bt.err" ||
		nc_fail "bpftrace failed or did not see fwd_burst in 30 s: $(cat "$tmp/bt.err")"
	t1=$(now)
	bt_end+=($((t1 - t0)))
	bt_kb+=("$(tail -1 "$tmp/bt.time")")

	# the same netcap run again under strace, which stops it at close() only: the time its
	# last close() calls took, the probe's links and perf events (the kernel detaches there);
	# a sanitized build's leak check cannot run under a tracer
	if command -v strace >/dev/null; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 taskset -c "$tool_cpu" timeout 30 \
			strace -qq -e trace=close -T -o "$tmp/nc.strace" "$netcap" mbuf \
			-f fwd_burst@1@2 --pid "$NC_FWD_PID" -c 1 -w /dev/null 2>/dev/null ||
			nc_fail "netcap under strace failed: $(tail -3 "$tmp/nc.strace")"
		nc_det+=("$(awk '{d = $NF; gsub(/[<>]/, "", d); if (d >= 0.001) s += d} END {printf "%d", s * 1e9}' "$tmp/nc.strace")")
	fi

	# --inject: the agent loaded into the fixture, the first packet at its rx_burst
	rm -f "$tmp/ready" "$tmp/in.time"
	t0=$(now)
	taskset -c "$tool_cpu" timeout 30 /usr/bin/time -f %M -o "$tmp/in.time" "$netcap" mbuf -v \
		--inject -f rx_burst:0 --pid "$NC_FWD_PID" -c 1 -w /dev/null --ready-file "$tmp/ready" \
		2>"$tmp/in.err" || nc_fail "netcap --inject failed: $(grep -v plan: "$tmp/in.err")"
	t1=$(now)
	grep -qx "netcap: 1 packets written (count reached)" "$tmp/in.err" ||
		nc_fail "netcap --inject did not capture a packet: $(cat "$tmp/in.err")"
	att=$(stat -c %.9Y "$tmp/ready")
	in_end+=($((t1 - t0)))
	in_att+=($((${att/./} - t0)))
	in_kb+=("$(tail -1 "$tmp/in.time")")
	# "agent loaded into process P through thread T (NAME), stopped X ms; ..."
	in_stop+=("$(sed -n 's/.*through thread [0-9]* (\(.*\)), stopped \([0-9.]*\) ms.*/\2 \1/p' "$tmp/in.err")")
done
nc_fwd_stop >/dev/null || true

n=$(echo "${nc_end[*]}" | median)
b=$(echo "${bt_end[*]}" | median)
printf 'Both tools started on CPU 1 (`taskset -c 1`) while the fixture busy-polls CPU 0 and calls fwd_burst with packets all the time; median of %s runs. "start to first packet, exit": from starting the tool until it exited after capturing one packet at fwd_burst (`netcap mbuf -f fwd_burst@1@2 -c 1 -w /dev/null`, `bpftrace -e '"'"'uprobe:…:fwd_burst { exit(); }'"'"'`), the whole process. "start to attached": until netcap'"'"'s ready file is written, its probes attached (bpftrace does not say when it has attached). "detaching": in a separate run of the same netcap under `strace -e trace=close -T`, the time its close() calls of 1 ms or more took: closing the probe'"'"'s link and perf event, where the kernel removes the uprobe and waits for RCU grace periods before it returns. Peak RSS counts the ring'"'"'s data twice: the kernel maps its pages twice in a row so that a record that wraps around reads as one.\n\n' "$runs"
printf '| tool | start to first packet, exit, ms | start to attached, ms | detaching, ms | peak RSS, MiB |\n|---|---:|---:|---:|---:|\n'
det="–"
((${#nc_det[@]})) && det=$(printf '%.1f' "$(ms "$(echo "${nc_det[*]}" | median)")")
printf '| netcap | %.1f | %.1f | %s | %.1f |\n' "$(ms "$n")" "$(ms "$(echo "${nc_att[*]}" | median)")" \
	"$det" "$(mib "$(echo "${nc_kb[*]}" | median)")"
printf '| bpftrace %s | %.1f | – | – | %.1f |\n' "$(bpftrace --version | awk '{print $2}')" "$(ms "$b")" \
	"$(mib "$(echo "${bt_kb[*]}" | median)")"
printf '| netcap --inject (rx_burst:0) | %.1f | %.1f | – | %.1f |\n' "$(ms "$(echo "${in_end[*]}" | median)")" \
	"$(ms "$(echo "${in_att[*]}" | median)")" "$(mib "$(echo "${in_kb[*]}" | median)")"
printf '\nbpftrace / netcap, start to first packet: %.2f (above 1: netcap gets there sooner).\n' \
	"$(echo "$b / $n" | bc -l)"
# the thread the injection stopped: never an lcore; the longest stop of the runs
printf '\n`--inject`: the application thread stopped to load the agent, per run: %s; the longest %.3f ms (the lcore never stops: the injection takes a sleeping thread, never an lcore).\n' \
	"$(printf '%s\n' "${in_stop[@]}" | awk '{print $2}' | sort | uniq -c | awk '{s = s (NR > 1 ? ", " : "") $2 " ×" $1} END {print s}')" \
	"$(printf '%s\n' "${in_stop[@]}" | awk '{print $1}' | sort -n | tail -1)"
