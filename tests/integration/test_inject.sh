#!/usr/bin/env bash
# The injector (core/inject, docs/inject.md) against real DPDK processes: the nc_fwd fixture
# forwarding between two net_null ports on one lcore (its main thread), and dpdk-testpmd with a
# forwarding lcore of its own. Each time: the library ran with its argument on a thread named
# nc-agent, it is in /proc/PID/maps, the stopped thread was one of DPDK's own sleeping threads,
# the lcore never stopped and forwarding went on (port 0's ipackets through DPDK's telemetry
# socket); no thread stays traced. Then the injecting process SIGKILLed at random moments, 50 times
# against nc_fwd and 10 times against testpmd: each survives and keeps forwarding.
#
# "The lcore never stopped": bpftrace counts the lcore's context switches by the state it left in
# (sched_switch, tracefs mounted in a mount namespace of its own): none may be a ptrace or job
# control stop. Without bpftrace, its voluntary context switches must not change (a stop is one;
# but so is a wait for a page the kernel migrates, e.g. compaction while others reserve
# hugepages, hence bpftrace first).
#
# Usage: test_inject.sh INJECT_TOOL INJECT_LIB   (NC_FWD: the fixture; needs root: ptrace, DPDK)
set -euo pipefail
tool=$1
lib=$2
source "$(dirname "$0")/lib.sh"

if [[ $EUID != 0 ]]; then
	echo "SKIP: needs root (ptrace into the DPDK fixture, its runtime directory)"
	exit 77
fi
nc_tmpdir

# port 0's received packets, through the telemetry socket of the DPDK process with prefix $1
ipackets() {
	python3 - "$(_nc_dpdk_rundir "$1")/dpdk_telemetry.v2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(20)
s.connect(sys.argv[1])
s.recv(4096)
s.send(b"/ethdev/stats,0")
print(json.loads(s.recv(65536))["/ethdev/stats"]["ipackets"])
EOF
}

# the threads of process $1: "tid comm state syscall", for failure messages
threads_of() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s %s %s; ' "${t##*/}" "$(cat "$t/comm")" "$(cut -d' ' -f3 "$t/stat")" \
			"$(cut -d' ' -f1 "$t/syscall")"
	done 2>/dev/null
}

voluntary() { awk '/^voluntary_ctxt_switches:/ {print $2}' "/proc/$1/task/$2/status"; }

# the scratch page pairs (8 KiB each) left in process $1: its anonymous rwx memory
scratch_pairs() {
	local range perms path bytes=0
	while read -r range perms _ _ _ path; do
		[[ $perms == rwxp && -z $path ]] || continue
		bytes=$((bytes + 16#${range#*-} - 16#${range%-*}))
	done <"/proc/$1/maps"
	echo $((bytes / 8192))
}

assert_untraced() {
	local t
	for t in /proc/"$1"/task/*; do
		[[ $(awk '/^TracerPid:/ {print $2}' "$t/status") == 0 ]] ||
			nc_fail "thread ${t##*/} of $1 is still traced"
	done
}

# watch_start TID: bpftrace starts counting thread TID's context switches by prev_state; returns
# 1 (and prints why) if it cannot
watch_start() {
	local i
	_watch_out=$NC_TMP/watch-$1.out
	command -v bpftrace >/dev/null || {
		echo "no bpftrace: the lcore is checked by its voluntary context switches"
		return 1
	}
	cat >"$NC_TMP/watch.bt" <<EOF
BEGIN { printf("ready\n"); }
tracepoint:sched:sched_switch /args->prev_pid == $1/ { @state[args->prev_state] = count(); }
EOF
	unshare -m sh -c "mount -t tracefs nodev /sys/kernel/tracing && exec bpftrace -q $NC_TMP/watch.bt" \
		>"$_watch_out" 2>&1 &
	_watch_pid=$!
	nc_adopt "$_watch_pid"
	for ((i = 0; i < 300; i++)); do
		grep -q '^ready' "$_watch_out" 2>/dev/null && return 0
		_nc_alive "$_watch_pid" || break
		sleep 0.1
	done
	echo "bpftrace did not start ($(tr '\n' ' ' <"$_watch_out")): the lcore is checked by its voluntary context switches"
	kill "$_watch_pid" 2>/dev/null || true
	_watch_pid=
	return 1
}

# watch_end: stops bpftrace; sets WATCH_STOPS (how many times the thread left the CPU stopped:
# prev_state __TASK_STOPPED 4 or __TASK_TRACED 8) and WATCH_OTHER (the other states, counted)
watch_end() {
	local line state n
	WATCH_STOPS=0
	WATCH_OTHER=
	kill -INT "$_watch_pid"
	wait "$_watch_pid" || true
	_watch_pid=
	while read -r line; do
		[[ $line =~ ^@state\[([0-9]+)\]:\ ([0-9]+) ]] || continue
		state=${BASH_REMATCH[1]}
		n=${BASH_REMATCH[2]}
		if ((state & 12)); then
			WATCH_STOPS=$((WATCH_STOPS + n))
		else
			WATCH_OTHER+=" state $state: $n"
		fi
	done <"$_watch_out"
}

# watch_stop LABEL: watch_end, and the test fails if the thread ever stopped
watch_stop() {
	[[ -n ${_watch_pid:-} ]] || return 0
	watch_end
	((WATCH_STOPS == 0)) || nc_fail "$1: the lcore was stopped $WATCH_STOPS times (ptrace or SIGSTOP)"
	echo "$1: the lcore never stopped (sched_switch; it left the CPU otherwise:${WATCH_OTHER:- never, only preempted})"
}

# inject_checked PID PREFIX LCORE_TID TAG: one injection, checked; prints the tool's line
inject_checked() {
	local pid=$1 prefix=$2 lcore=$3 out=$NC_TMP/$4.out line comm rx0 rx1 v0
	rx0=$(ipackets "$prefix") || nc_fail "$4: no answer from DPDK's telemetry: $(threads_of "$pid")"
	v0=$(voluntary "$pid" "$lcore")
	line=$(timeout 60 "$tool" inject "$pid" "$lib" nc_inject_test_entry "$out") ||
		nc_fail "$4: injection failed: $(threads_of "$pid")"
	echo "$4: $line"
	comm=$(sed -n 's/.* comm=\([^ ]*\) .*/\1/p' <<<"$line")
	case $comm in
	eal-intr-thread | rte_mp_handle | telemetry-v*) ;;
	*) nc_fail "$4: stopped thread '$comm', not one of DPDK's own sleeping threads" ;;
	esac
	for ((i = 0; i < 200; i++)); do
		[[ -s $out ]] && break
		sleep 0.01
	done
	grep -qx "arg=$out pid=$pid tid=[0-9]* comm=nc-agent" "$out" ||
		nc_fail "$4: the library did not run with its argument: $(cat "$out" 2>&1)"
	grep -qF "$lib" "/proc/$pid/maps" || nc_fail "$4: $lib not in /proc/$pid/maps"
	assert_untraced "$pid"
	sleep 0.2
	rx1=$(ipackets "$prefix") || nc_fail "$4: no answer from DPDK's telemetry: $(threads_of "$pid")"
	((rx1 > rx0)) || nc_fail "$4: forwarding stopped (ipackets $rx0 -> $rx1)"
	[[ -n ${_watch_pid:-} || $(voluntary "$pid" "$lcore") == "$v0" ]] ||
		nc_fail "$4: the lcore thread $lcore slept (voluntary context switches $v0 -> $(voluntary "$pid" "$lcore"))"
	echo "$4: ipackets $rx0 -> $rx1 around the injection"
}

# --- the watcher sees a stop: an injection into a sleep(1) of our own, watched ---
sleep 60 &
sleeper=$!
nc_adopt "$sleeper"
sleep 0.1
if watch_start "$sleeper"; then
	"$tool" inject "$sleeper" "$lib" nc_inject_test_entry "$NC_TMP/sleeper.out" >/dev/null ||
		nc_fail "injection into sleep failed"
	watch_end
	((WATCH_STOPS > 0)) || nc_fail "bpftrace did not see sleep's ptrace stop"
	echo "watcher: an injection into sleep seen as $WATCH_STOPS stop(s)"
fi
kill "$sleeper"

# --- nc_fwd: one lcore (the main thread) forwarding net_null0 <-> net_null1 ---
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || nc_fail "nc_fwd did not start"
nc_fwd_go
pid=$NC_FWD_PID
sleep 0.3
[[ $("$tool" check "$pid") != "tid=$pid" ]] || nc_fail "check chose nc_fwd's lcore (main thread)"
watch_start "$pid" || true
inject_checked "$pid" "$NC_FWD_PREFIX" "$pid" nc_fwd
inject_checked "$pid" "$NC_FWD_PREFIX" "$pid" nc_fwd-again

# --- the injecting process SIGKILLed at random moments, 50 times: even kills anywhere in a whole
# run of the tool, odd ones aimed at the thread's stop (from the tool's start: its start-up, then
# stop_at_us into the injection), re-aimed after each (the times vary with the machine's load) ---
start=$(date +%s%N)
line=$("$tool" inject "$pid" "$lib" nc_inject_test_entry "$NC_TMP/timing.out")
whole_us=$((($(date +%s%N) - start) / 1000))
total_us=$(sed -n 's/.* total_us=\([0-9]*\).*/\1/p' <<<"$line")
aim_us=$((whole_us - total_us + $(sed -n 's/.* stop_at_us=\([0-9]*\).*/\1/p' <<<"$line")))
echo "one run of the tool: $whole_us us, the thread stopped about $aim_us us after its start"
v0=$(voluntary "$pid" "$pid")
rx_prev=$(ipackets "$NC_FWD_PREFIX") || nc_fail "no answer from DPDK's telemetry"
ran=0
during=0
for ((k = 0; k < 50; k++)); do
	pairs=$(scratch_pairs "$pid")
	out=$NC_TMP/kill-$k.out
	delay_us=$((RANDOM * 32768 + RANDOM))
	if ((k % 2 == 0)); then
		delay_us=$((delay_us % (whole_us * 12 / 10 + 1)))
	else
		delay_us=$((aim_us * 7 / 10 + delay_us % (aim_us * 6 / 10 + 1)))
	fi
	"$tool" inject "$pid" "$lib" nc_inject_test_entry "$out" >/dev/null 2>"$out.err" &
	injector=$!
	sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
	kill -KILL "$injector" 2>/dev/null || true
	status=0
	wait "$injector" 2>/dev/null || status=$?
	((status == 0 || status == 137)) ||
		nc_fail "kill $k: the injector failed before it was killed: $(cat "$out.err")"
	sleep 0.05
	_nc_alive "$pid" || nc_fail "kill $k (after $delay_us us): nc_fwd died"
	assert_untraced "$pid"
	if [[ -s $out ]]; then
		ran=$((ran + 1))
		((k % 2 == 0)) || aim_us=$((aim_us * 4 / 5))
	elif (($(scratch_pairs "$pid") > pairs)); then
		during=$((during + 1)) # killed between the thread's stop and the agent's start
	elif ((k % 2 && aim_us < whole_us)); then
		aim_us=$((aim_us * 6 / 5))
	fi
	rx=$(ipackets "$NC_FWD_PREFIX") ||
		nc_fail "kill $k (after $delay_us us): no answer from DPDK's telemetry: $(threads_of "$pid")"
	((rx > rx_prev)) || nc_fail "kill $k (after $delay_us us): forwarding stopped"
	[[ -n ${_watch_pid:-} || $(voluntary "$pid" "$pid") == "$v0" ]] ||
		nc_fail "kill $k (after $delay_us us): the lcore thread slept: $(grep -E 'switches' "/proc/$pid/task/$pid/status" | tr '\n\t' '  ')"
	rx_prev=$rx
done
watch_stop nc_fwd
echo "50 kills of the injector: nc_fwd survived all," \
	"kept forwarding; killed after the library ran: $ran, after the" \
	"thread was stopped and before the agent started: $during, before: $((50 - ran - during))"
nc_fwd_stop || nc_fail "nc_fwd did not exit cleanly after the injections"
grep -q "^nc_fwd: rx [1-9]" "$NC_FWD_OUT" || nc_fail "nc_fwd forwarded nothing: $(cat "$NC_FWD_OUT")"

# --- dpdk-testpmd: lcore 1 forwards, the main thread (lcore 0) waits ---
if ! command -v dpdk-testpmd >/dev/null; then
	echo "dpdk-testpmd not installed: its part not run"
	exit 0
fi
prefix="nctest-inject-$$-$RANDOM"
dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$prefix" -l 0-1 --vdev net_null0 \
	--vdev net_null1 -- --forward-mode=io --stats-period 3600 --total-num-mbufs 8192 \
	</dev/null >"$NC_TMP/testpmd.out" 2>&1 &
tpid=$!
nc_adopt "$tpid" "$prefix"
worker=
for ((i = 0; i < 200; i++)); do
	[[ -z $worker ]] || break
	sleep 0.1
	for t in /proc/"$tpid"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) != rte-worker-1 ]] || worker=${t##*/}
	done
done
[[ -n $worker ]] || nc_fail "dpdk-testpmd did not start its forwarding lcore: $(tail -5 "$NC_TMP/testpmd.out")"
sleep 0.5
watch_start "$worker" || true
inject_checked "$tpid" "$prefix" "$worker" testpmd
for ((k = 0; k < 10; k++)); do
	"$tool" inject "$tpid" "$lib" nc_inject_test_entry "$NC_TMP/tp-kill.out" >/dev/null 2>&1 &
	injector=$!
	sleep "0.0$((RANDOM % 30 + 1))"
	kill -KILL "$injector" 2>/dev/null || true
	wait "$injector" 2>/dev/null || true
done
sleep 0.1
_nc_alive "$tpid" || nc_fail "dpdk-testpmd died"
assert_untraced "$tpid"
inject_checked "$tpid" "$prefix" "$worker" testpmd-after-kills
watch_stop testpmd
echo "ok"
