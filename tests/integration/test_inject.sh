#!/usr/bin/env bash
# The injector (core/inject, docs/inject.md) against real DPDK processes: the nc_fwd fixture
# forwarding between two net_null ports on one lcore (its main thread), and dpdk-testpmd with a
# forwarding lcore of its own. Each time: the library ran with its argument on a thread named
# nc-agent, it is in /proc/PID/maps, the stopped thread was one of DPDK's own sleeping threads,
# the lcore never stopped (its voluntary context switches do not change: a ptrace stop is one) and
# forwarding went on (port 0's ipackets through DPDK's telemetry socket); no thread stays traced.
# Then the injecting process SIGKILLed at random moments, 50 times, against nc_fwd: it survives
# each and keeps forwarding, its lcore never stopped.
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
s.connect(sys.argv[1])
s.recv(4096)
s.send(b"/ethdev/stats,0")
print(json.loads(s.recv(65536))["/ethdev/stats"]["ipackets"])
EOF
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

# inject_checked PID PREFIX LCORE_TID TAG: one injection, checked; prints the tool's line
inject_checked() {
	local pid=$1 prefix=$2 lcore=$3 out=$NC_TMP/$4.out line comm rx0 rx1 v0
	rx0=$(ipackets "$prefix")
	v0=$(voluntary "$pid" "$lcore")
	line=$("$tool" inject "$pid" "$lib" nc_inject_test_entry "$out") || nc_fail "injection failed"
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
	rx1=$(ipackets "$prefix")
	((rx1 > rx0)) || nc_fail "$4: forwarding stopped (ipackets $rx0 -> $rx1)"
	[[ $(voluntary "$pid" "$lcore") == "$v0" ]] || nc_fail "$4: the lcore thread $lcore was stopped"
	echo "$4: ipackets $rx0 -> $rx1 around the injection; lcore $lcore never stopped"
}

# --- nc_fwd: one lcore (the main thread) forwarding net_null0 <-> net_null1 ---
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || nc_fail "nc_fwd did not start"
nc_fwd_go
pid=$NC_FWD_PID
sleep 0.3
[[ $("$tool" check "$pid") != "tid=$pid" ]] || nc_fail "check chose nc_fwd's lcore (main thread)"
inject_checked "$pid" "$NC_FWD_PREFIX" "$pid" nc_fwd
inject_checked "$pid" "$NC_FWD_PREFIX" "$pid" nc_fwd-again

# --- the injecting process SIGKILLed at random moments, 50 times ---
start=$(date +%s%N)
"$tool" inject "$pid" "$lib" nc_inject_test_entry "$NC_TMP/timing.out" >/dev/null
whole_us=$((($(date +%s%N) - start) / 1000))
v0=$(voluntary "$pid" "$pid")
rx_prev=$(ipackets "$NC_FWD_PREFIX")
ran=0
during=0
for ((k = 0; k < 50; k++)); do
	pairs=$(scratch_pairs "$pid")
	out=$NC_TMP/kill-$k.out
	delay_us=$((RANDOM * 32768 + RANDOM))
	delay_us=$((delay_us % (whole_us * 12 / 10 + 1)))
	"$tool" inject "$pid" "$lib" nc_inject_test_entry "$out" >/dev/null 2>&1 &
	injector=$!
	sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
	kill -KILL "$injector" 2>/dev/null || true
	wait "$injector" 2>/dev/null || true
	sleep 0.05
	_nc_alive "$pid" || nc_fail "kill $k (after $delay_us us): nc_fwd died"
	assert_untraced "$pid"
	if [[ -s $out ]]; then
		ran=$((ran + 1))
	elif (($(scratch_pairs "$pid") > pairs)); then
		during=$((during + 1)) # killed between the thread's stop and the agent's start
	fi
	rx=$(ipackets "$NC_FWD_PREFIX")
	((rx > rx_prev)) || nc_fail "kill $k (after $delay_us us): forwarding stopped"
	[[ $(voluntary "$pid" "$pid") == "$v0" ]] ||
		nc_fail "kill $k (after $delay_us us): the lcore thread slept: $(grep -E 'switches' "/proc/$pid/task/$pid/status" | tr '\n\t' '  ')"
	rx_prev=$rx
done
[[ $(voluntary "$pid" "$pid") == "$v0" ]] || nc_fail "the lcore was stopped during the kills"
echo "50 kills of the injector within ${whole_us} us of its start (+20 %): nc_fwd survived all," \
	"kept forwarding, its lcore never stopped; killed after the library ran: $ran, after the" \
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
echo "ok"
