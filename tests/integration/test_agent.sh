#!/usr/bin/env bash
# The in-process agent in real DPDK processes (the nc_fwd fixture), loaded by the test-only
# agent_shim (LD_PRELOAD) and driven by agent_cap (core/inproc): rx_burst and tx_burst captures
# hold exactly the replayed input's bytes, with chained mbufs and VLAN tags restored before TX, at
# full and at a 64-byte snap length, with exact counts; through the compiled filter exactly what
# tcpdump keeps; netcap's side SIGKILLed during a capture leaves the application forwarding with
# no mapping of the shared memory; 20 captures in a row against one application, each leaving
# nothing mapped; the application SIGKILLed mid-capture:
# every record it wrote is read; dpdk-testpmd with two lcores on two queues: a ring per lcore, a
# hook on one queue; dpdk-testpmd restarting port 0 mid-capture: the capture goes on.
# The uprobe path (netcap mbuf) captures tx_burst:0 in the same run as the agent: the same bytes.
# With INJECT_TOOL (core/inject's), the agent is also loaded the real way, into an nc_fwd started
# without the shim: a byte-exact capture, then three captures in a row, each injected again.
# Usage: test_agent.sh AGENT_CAP AGENT_SHIM AGENT_LIB [NETCAP [INJECT_TOOL]]
#        (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cap=${1:?usage: test_agent.sh AGENT_CAP AGENT_SHIM AGENT_LIB}
shim=${2:?}
lib=${3:?}
netcap=${4:-}
inject_tool=${5:-}
if [[ $EUID != 0 ]]; then
	echo "test_agent: needs root (DPDK's memory, /proc/PID/mem of the fixture)" >&2
	exit 77
fi
command -v tshark >/dev/null || {
	echo "test_agent: needs tshark (byte dumps of the captures)" >&2
	exit 77
}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT
sock=nctest-agent-$$-$RANDOM

# fixture APP_OPTS... -- EAL_ARGS...: nc_fwd with the agent preloaded
fixture() {
	export LD_PRELOAD=$shim NC_AGENT_LIB=$lib NC_AGENT_SOCKET=$sock
	nc_fwd_start "$@" || fail "nc_fwd did not start"
	unset LD_PRELOAD NC_AGENT_LIB NC_AGENT_SOCKET
}

# start_cap NAME ARGS...: agent_cap in the background until the agent has installed its hooks
start_cap() {
	local name=$1
	shift
	rm -f "$tmp/$name.ready"
	"$cap" --pid "${cap_target:-$NC_FWD_PID}" --name "${cap_sock:-$sock}" --ready-file "$tmp/$name.ready" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	cap_pid=$!
	nc_wait_file "$tmp/$name.ready" 10 "$cap_pid" ||
		fail "$name: agent_cap exited early or the agent did not answer within 10 s: $(cat "$tmp/$name.err")"
}

# counter NAME HOOK FIELD: a counter from agent_cap's summary
counter() {
	awk -v h="$2" -v f="$3" '$2 == h { for (i = 3; i < NF; i++) if ($i == f) print $(i + 1) }' \
		"$tmp/$1.out"
}

memfd_maps() { grep -c 'memfd:netcap-inproc' "/proc/$NC_FWD_PID/maps" || true; }

# cut_hex SNAP < HEX: the dump lines as a capture at that snap length has them
cut_hex() {
	awk -v s="$1" '{ c = $1 < s ? $1 : s; print c, $2, substr($3, 1, 2 * c) }'
}

# replay NAME SNAP FIXTURE_OPTS...: the input replayed once through net_pcap0 onto itself,
# captured at rx_burst:0 and tx_burst:0; both captures are the input, in order
replay() {
	local name=$1 snap=$2 status=0 want
	shift 2
	fixture --count "$n" "$@" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/$name.tx.pcap"
	start_cap "$name" -f rx:0,tx:0 -s "$snap" -w "$tmp/$name"
	nc_fwd_go
	nc_fwd_wait || fail "$name: nc_fwd exited $?"
	wait "$cap_pid" || status=$?
	[[ $status == 0 ]] || fail "$name: agent_cap exited $status: $(cat "$tmp/$name.err")"
	grep -qx 'agent_cap: end agent gone' "$tmp/$name.out" ||
		fail "$name: agent_cap did not end with the application: $(cat "$tmp/$name.out")"
	want=$(cut_hex "$snap" <"$tmp/in.hex")
	for hook in rx0 tx0; do
		[[ $(nc_pcap_hex "$tmp/$name.$hook.pcap") == "$want" ]] ||
			fail "$name: the $hook capture is not the input's bytes"
		for f in seen matched written records; do
			[[ $(counter "$name" "$hook" "$f") == "$n" ]] ||
				fail "$name: $hook $f is $(counter "$name" "$hook" "$f"), want $n"
		done
		[[ $(counter "$name" "$hook" ringfull) == 0 ]] || fail "$name: $hook drops"
	done
	# the application's own output too: the agent changed nothing on the way
	[[ $(nc_pcap_hex "$tmp/$name.tx.pcap") == "$(cat "$tmp/in.hex")" ]] ||
		fail "$name: nc_fwd's tx file differs from its input"
	nc_log "$name: $n packets at rx_burst and tx_burst, byte for byte (snap $snap)"
}

replay plain 16384
replay snap64 64
# chains of 3 segments and VLAN tags stripped after rx, restored before tx: tx_burst sees chains
replay segments 16384 --stats --segments 3 --strip-vlan
grep -q ", [1-9][0-9]* chains built" "$NC_FWD_ERR" || fail "segments: nc_fwd built no chains"

# filtered NAME EXPR FIXTURE_OPTS...: the replay captured through the compiled filter (core/jit
# in the agent): at rx_burst and tx_burst exactly what tcpdump's own filter keeps of the input
filtered() {
	local name=$1 expr=$2 status=0 want count
	shift 2
	tcpdump -r "$tmp/in.pcap" -w "$tmp/$name.want.pcap" "$expr" 2>/dev/null ||
		fail "$name: tcpdump refused \"$expr\""
	want=$(nc_pcap_hex "$tmp/$name.want.pcap")
	count=$(grep -c . <<<"$want")
	((count > 0 && count < n)) || fail "$name: \"$expr\" keeps $count of $n: not a test"
	fixture --count "$n" "$@" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/$name.tx.pcap"
	start_cap "$name" -f rx:0,tx:0 -e "$expr" -w "$tmp/$name"
	nc_fwd_go
	nc_fwd_wait || fail "$name: nc_fwd exited $?"
	wait "$cap_pid" || status=$?
	[[ $status == 0 ]] || fail "$name: agent_cap exited $status: $(cat "$tmp/$name.err")"
	for hook in rx0 tx0; do
		[[ $(nc_pcap_hex "$tmp/$name.$hook.pcap") == "$want" ]] ||
			fail "$name: the $hook capture is not what tcpdump keeps"
		[[ $(counter "$name" "$hook" seen) == "$n" ]] || fail "$name: $hook seen"
		for f in matched written records; do
			[[ $(counter "$name" "$hook" "$f") == "$count" ]] ||
				fail "$name: $hook $f is $(counter "$name" "$hook" "$f"), want $count"
		done
	done
	nc_log "$name: \"$expr\": the $count packets tcpdump keeps of $n, at rx_burst and tx_burst"
}

filtered tcp "tcp"
# chains at tx_burst: the filter's reads past the first segment take the slow path
filtered vlan_dns "vlan or udp port 53 or ip6" --segments 3 --strip-vlan

# injected NAME ARGS...: agent_cap listening on a fresh name, the agent injected into the last
# fixture by core/inject (entry nc_agent_main, the name as its argument), until the hooks are in
inject_cap() {
	local name=$1 i
	shift
	rm -f "$tmp/$name.ready"
	"$cap" --pid "$NC_FWD_PID" --name "$sock-$name" --ready-file "$tmp/$name.ready" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	cap_pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -q "@$sock-$name\$" /proc/net/unix && break
		kill -0 "$cap_pid" 2>/dev/null || fail "$name: agent_cap exited: $(cat "$tmp/$name.err")"
		sleep 0.02
	done
	"$inject_tool" inject "$NC_FWD_PID" "$lib" nc_agent_main "$sock-$name" >"$tmp/$name.inject" 2>&1 ||
		fail "$name: injection failed: $(cat "$tmp/$name.inject")"
	nc_wait_file "$tmp/$name.ready" 10 "$cap_pid" ||
		fail "$name: agent_cap exited or the injected agent did not answer within 10 s: $(cat "$tmp/$name.err")"
}

if [[ -n $inject_tool ]]; then
	nc_fwd_start --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/inj.tx.pcap" ||
		fail "inj: nc_fwd did not start"
	inject_cap inj -f rx:0,tx:0 -w "$tmp/inj"
	nc_fwd_go
	nc_fwd_wait || fail "inj: nc_fwd exited $?"
	wait "$cap_pid" || fail "inj: agent_cap exited $?: $(cat "$tmp/inj.err")"
	for hook in rx0 tx0; do
		[[ $(nc_pcap_hex "$tmp/inj.$hook.pcap") == "$(cat "$tmp/in.hex")" ]] ||
			fail "inj: the $hook capture is not the input's bytes"
		[[ $(counter inj $hook written) == "$n" ]] || fail "inj: $(cat "$tmp/inj.out")"
	done
	nc_fwd_start -- --vdev net_null0 --vdev net_null1 || fail "inj: nc_fwd did not start"
	nc_fwd_go
	for i in 1 2 3; do
		inject_cap "inj$i" -f rx:0,tx:1 -s 64 --duration 200
		wait "$cap_pid" || fail "inj$i: agent_cap failed: $(cat "$tmp/inj$i.err")"
		(($(counter "inj$i" rx0 seen) > 0)) || fail "inj$i: $(cat "$tmp/inj$i.out")"
		[[ $(memfd_maps) == 0 ]] || fail "inj$i: the shared memory is still mapped"
	done
	nc_fwd_stop || fail "inj: nc_fwd did not exit cleanly"
	nc_log "inj: the agent injected by core/inject: $n packets byte for byte, then 3 captures in a row"
fi

# the uprobe path and the agent at tx_burst:0 in one run (chains of 3 segments): the same packets
if [[ -n $netcap ]]; then
	fixture --count "$n" --segments 3 -- \
		--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/both.tx.pcap"
	"$netcap" mbuf --ready-file "$tmp/both.nc.ready" --duration 60 --pid "$NC_FWD_PID" \
		-f tx_burst:0 -w "$tmp/both.pcapng" >"$tmp/both.nc.out" 2>"$tmp/both.nc.err" &
	nc_pid=$!
	nc_wait_file "$tmp/both.nc.ready" 20 "$nc_pid" ||
		fail "both: netcap exited or did not attach within 20 s: $(cat "$tmp/both.nc.err")"
	start_cap both -f tx:0 -w "$tmp/both"
	nc_fwd_go
	nc_fwd_wait || fail "both: nc_fwd exited $?"
	wait "$cap_pid" || fail "both: agent_cap failed: $(cat "$tmp/both.err")"
	wait "$nc_pid" || fail "both: netcap exited $?: $(cat "$tmp/both.nc.err")"
	uprobe=$(nc_pcap_hex "$tmp/both.pcapng")
	[[ $(wc -l <<<"$uprobe") == "$n" ]] || fail "both: netcap captured $(wc -l <<<"$uprobe") packets"
	[[ $(nc_pcap_hex "$tmp/both.tx0.pcap") == "$uprobe" ]] ||
		fail "both: the agent's and netcap's uprobe captures of tx_burst:0 differ"
	nc_log "both: the agent and the uprobe path captured the same $n packets at tx_burst:0"
fi

# endless forwarding between two null ports for the rest
fixture --stats -- --vdev net_null0 --vdev net_null1
nc_fwd_go

# netcap's side killed (SIGKILL) while capturing: the agent leaves by itself
start_cap killed -f rx:0,tx:1 -s 64
sleep 0.3
[[ $(memfd_maps) == 1 ]] || fail "killed: the shared memory is not mapped in the application while capturing"
kill -KILL "$cap_pid"
wait "$cap_pid" 2>/dev/null || true
for _ in $(seq 100); do
	[[ $(memfd_maps) == 0 ]] && break
	sleep 0.02
done
[[ $(memfd_maps) == 0 ]] || fail "killed: the shared memory is still mapped in the application"
kill -0 "$NC_FWD_PID" || fail "killed: the application died"
nc_log "killed: the agent left, nothing mapped, application alive"

# 20 captures in a row: each sees the application forwarding and leaves nothing mapped
for i in $(seq 20); do
	start_cap "round$i" -f rx:0,tx:1 -s 64 --duration 100
	wait "$cap_pid" || fail "round $i: agent_cap failed: $(cat "$tmp/round$i.err")"
	grep -qx 'agent_cap: end duration reached' "$tmp/round$i.out" ||
		fail "round $i: $(cat "$tmp/round$i.out")"
	seen=$(counter "round$i" rx0 seen)
	((seen > 0)) || fail "round $i: the application was not forwarding (rx0 seen $seen)"
	written=$(counter "round$i" rx0 written)
	records=$(counter "round$i" rx0 records)
	[[ $written == "$records" ]] || fail "round $i: $written written, $records read"
	[[ $(memfd_maps) == 0 ]] || fail "round $i: the shared memory is still mapped after the capture"
done
nc_log "20 captures in a row: each saw the application forwarding and left nothing mapped"

nc_fwd_stop || fail "nc_fwd did not exit cleanly: $?"
grep -q '^nc_fwd: rx [1-9]' "$NC_FWD_OUT" || fail "nc_fwd forwarded nothing: $(cat "$NC_FWD_OUT")"

# the application SIGKILLed during a capture: the capturing side drains the rings and ends
fixture -- --vdev net_null0 --vdev net_null1
nc_fwd_go
start_cap appkilled -f rx:0,tx:1 -s 64
sleep 0.3
kill -KILL "$NC_FWD_PID"
wait "$cap_pid" || fail "appkilled: agent_cap exited $?: $(cat "$tmp/appkilled.err")"
grep -qx 'agent_cap: end agent gone' "$tmp/appkilled.out" || fail "appkilled: $(cat "$tmp/appkilled.out")"
for hook in rx0 tx1; do
	w=$(counter appkilled $hook written)
	((w > 0)) && [[ $w == "$(counter appkilled $hook records)" ]] ||
		fail "appkilled: $hook: $(cat "$tmp/appkilled.out")"
done
nc_log "appkilled: the application killed mid-capture, every record written was read"

# dpdk-testpmd with two forwarding lcores polling two queues of each port: each lcore writes its
# own ring (two threads, both queues, no thread left without one); a hook on queue 1 only sees
# one thread and queue 1
if command -v dpdk-testpmd >/dev/null; then
	mq_prefix=nctest-agent-mq-$$-$RANDOM
	cap_sock=$sock-mq
	LD_PRELOAD=$shim NC_AGENT_LIB=$lib NC_AGENT_SOCKET=$cap_sock \
		dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$mq_prefix" --lcores '0@0,1@1,2@1' \
		--vdev net_null0 --vdev net_null1 -- --forward-mode=io --stats-period 3600 \
		--total-num-mbufs 16384 --nb-cores=2 --rxq=2 --txq=2 >"$tmp/mq.testpmd" 2>&1 </dev/null &
	cap_target=$!
	nc_adopt "$cap_target" "$mq_prefix"
	nc_testpmd_forwarding "$tmp/mq.testpmd" || fail "mq: testpmd did not start: $(cat "$tmp/mq.testpmd")"
	start_cap mq -f rx:0,tx:1,rx:1@1 -s 64 --duration 500
	wait "$cap_pid" || fail "mq: agent_cap failed: $(cat "$tmp/mq.err")"
	for hook in rx0 tx1; do
		[[ $(counter mq $hook threads) == 2 && $(counter mq $hook queues) == 0x3 &&
			$(counter mq $hook noslot) == 0 &&
			$(counter mq $hook written) == "$(counter mq $hook records)" ]] ||
			fail "mq: $hook: $(cat "$tmp/mq.out")"
	done
	[[ $(counter mq rx1 threads) == 1 && $(counter mq rx1 queues) == 0x2 ]] ||
		fail "mq: rx1@1: $(cat "$tmp/mq.out")"
	kill -TERM "$cap_target"
	wait "$cap_target" || fail "mq: testpmd exited $?"
	nc_log "mq: two lcores on two queues: a ring each, every record read; queue 1 alone"
	unset cap_target cap_sock
fi

# dpdk-testpmd (interactive, commands through a FIFO) stops and starts port 0 during a capture:
# DPDK rewrites rte_eth_fp_ops[0] twice, the agent wraps the new pointers, the capture goes on
progress() { grep "^agent_cap: progress $2 " "$tmp/$1.out" | tail -n 1 | awk '{ print $5 }'; }
if command -v dpdk-testpmd >/dev/null; then
	mkfifo "$tmp/cmd"
	tp_prefix=nctest-agent-tp-$$-$RANDOM
	cap_sock=$sock-tp
	LD_PRELOAD=$shim NC_AGENT_LIB=$lib NC_AGENT_SOCKET=$cap_sock \
		dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$tp_prefix" -l 0-1 \
		--vdev net_null0 --vdev net_null1 -- -i --forward-mode=io --total-num-mbufs 8192 \
		<"$tmp/cmd" >"$tmp/testpmd.out" 2>&1 &
	cap_target=$!
	nc_adopt "$cap_target" "$tp_prefix"
	exec 3>"$tmp/cmd"
	for _ in $(seq 200); do
		grep -q 'Port 1: ' "$tmp/testpmd.out" && break
		sleep 0.05
	done
	grep -q 'Port 1: ' "$tmp/testpmd.out" || fail "testpmd did not start: $(cat "$tmp/testpmd.out")"
	echo start >&3
	start_cap restart -f rx:0,tx:1 -s 64 --progress 100
	sleep 0.5
	before=$(progress restart rx0)
	printf 'stop\nport stop 0\nport start 0\nstart\n' >&3
	sleep 1
	after=$(progress restart rx0)
	sleep 0.5
	later=$(progress restart rx0)
	((before > 0 && later > after)) ||
		fail "restart: rx0 seen $before before, $after and $later after the port restarted"
	[[ $(grep -c 'Port 0: ' "$tmp/testpmd.out") -ge 2 ]] ||
		fail "restart: testpmd did not restart port 0: $(cat "$tmp/testpmd.out")"
	kill -INT "$cap_pid"
	wait "$cap_pid" || fail "restart: agent_cap failed: $(cat "$tmp/restart.err")"
	[[ $(counter restart rx0 written) == "$(counter restart rx0 records)" ]] ||
		fail "restart: $(cat "$tmp/restart.out")"
	[[ $(grep -c 'memfd:netcap-inproc' "/proc/$cap_target/maps" || true) == 0 ]] ||
		fail "restart: the shared memory is still mapped in testpmd"
	printf 'stop\nquit\n' >&3
	exec 3>&-
	for _ in $(seq 200); do
		kill -0 "$cap_target" 2>/dev/null || break
		sleep 0.05
	done
	wait "$cap_target" || fail "restart: testpmd exited $?"
	nc_log "restart: testpmd's port 0 stopped and started during a capture, which went on"
	unset cap_target cap_sock
fi
echo "test_agent: pass"
