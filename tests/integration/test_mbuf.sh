#!/usr/bin/env bash
# netcap mbuf against the nc_fwd fixture replaying a known pcap: at every hook kind the capture
# holds exactly the input's bytes, in order (or exactly what tcpdump's own filter keeps); chained
# mbufs and VLAN tags stripped into the mbuf come out as on the wire; pcapng metadata (interface
# names, direction, queue) is right; two processes and two hook points share one file; bad input
# gets one clear line and a non-zero exit, leaves nothing attached and the fixture running.
# Usage: test_mbuf.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_mbuf.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
NC_RP_DIR=$tmp NC_RP_NETCAP=$netcap
nc_replay_input "$tmp"
n=$NC_IN_COUNT

# the BPF programs of the netcap processes this test started (others may run in parallel)
probes_left() { nc_progs_left; }

start_fixture() { nc_rp_fixture "$@"; }

start_netcap() { nc_rp_start "$@"; }

finish() { nc_rp_finish "$@"; }

capture() { nc_rp_capture "$@"; }

# in_order FILE.hex: each packet of the dump is the input packet after the one before it, the
# input read round and round (an endless replay); the first may be any input packet
in_order() {
	awk 'NR == FNR { want[NR - 1] = $0; n = NR; next }
		FNR == 1 { for (i = 0; i < n && want[i] != $0; i++); if (i == n) exit 1; next }
		{ i = (i + 1) % n; if (want[i] != $0) exit 1 }' "$tmp/in.hex" "$1"
}

same_as() { nc_rp_same "$@"; }


# every hook kind, byte for byte
capture single -- -f fwd_one@1 -c "$n"
same_as single "$tmp/in.hex"
capture vector -- -f fwd_burst@1@2 -c "$n"
same_as vector "$tmp/in.hex"
capture retside -- -f fwd_rx@2@ret -c "$n"
same_as retside "$tmp/in.hex"
capture rx_burst -- -f rx_burst -c "$n"
same_as rx_burst "$tmp/in.hex"
capture tx_burst -- -f tx_burst:0 -c "$n"
same_as tx_burst "$tmp/in.hex"
echo "hook kinds: fwd_one@1, fwd_burst@1@2, fwd_rx@2@ret, rx_burst, tx_burst:0 captured $n packets each, byte-identical"

# the kernels without attach cookies (before 5.15) get an instance of the programs per hook:
# the same captures that way, two points in one run
NETCAP_NO_ATTACH_COOKIES=1 capture nocookie -- -f fwd_burst@1@2,fwd_rx@2@ret -c $((2 * n))
for name in "fwd_burst" "fwd_rx"; do
	tshark -r "$tmp/nocookie.pcapng" -Y "frame.interface_name contains \"]:$name\"" \
		-w "$tmp/nocookie.one.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/nocookie.one.pcapng" >"$tmp/nocookie.one.hex"
	diff -q "$tmp/in.hex" "$tmp/nocookie.one.hex" >/dev/null ||
		fail "without attach cookies: $name holds $(wc -l <"$tmp/nocookie.one.hex") packets, not the input"
done
echo "without attach cookies (an instance per hook): fwd_burst@1@2 and fwd_rx@2@ret byte-identical"

# each uprobe's perf event opened by libbpf when it attaches (the way taken where opening them
# ahead, while the program loads, failed): the same capture, and -v says none was opened ahead
NETCAP_NO_UPROBES_AHEAD=1 capture notahead -- -v -f fwd_burst@1@2,fwd_rx@2@ret -c $((2 * n))
grep -qx "netcap: uprobes: 3 attached, 0 of them to perf events opened while the program loaded" "$tmp/notahead.err" ||
	fail "NETCAP_NO_UPROBES_AHEAD=1: $(grep '^netcap: uprobes' "$tmp/notahead.err")"
[[ $(nc_pcap_hex "$tmp/notahead.pcapng" | sort) == "$(sort "$tmp/in.hex" "$tmp/in.hex")" ]] ||
	fail "NETCAP_NO_UPROBES_AHEAD=1: the packets are not the input twice"
echo "uprobes opened at attach (NETCAP_NO_UPROBES_AHEAD=1): fwd_burst@1@2 and fwd_rx@2@ret, the input twice"

# pcapng metadata: interface names, direction, queue, packet comment
pid=$(nc_fields "$tmp/rx_burst.pcapng" -e frame.comment | head -1 | awk '{print $2}')
[[ $(nc_fields "$tmp/rx_burst.pcapng" -e frame.interface_name -e frame.packet_flags_direction \
	-e frame.interface_queue | sort -u) == "nc_fwd[$pid]:rx_burst:port0	0x00000001	0" ]] ||
	fail "rx_burst metadata: $(nc_fields "$tmp/rx_burst.pcapng" -e frame.interface_name -e frame.packet_flags_direction -e frame.interface_queue | sort -u)"
[[ $(nc_fields "$tmp/tx_burst.pcapng" -e frame.packet_flags_direction | sort -u) == 0x00000002 ]] ||
	fail "tx_burst is not marked outbound"
pid=$(nc_fields "$tmp/vector.pcapng" -e frame.comment | head -1 | awk '{print $2}')
[[ $(nc_fields "$tmp/vector.pcapng" -e frame.comment | sed 's/ cpu [0-9]* / cpu N /' | sort -u) == "pid $pid tid $pid cpu N fwd_burst" ]] ||
	fail "vector comments: $(nc_fields "$tmp/vector.pcapng" -e frame.comment | sort -u | head -3)"
[[ $(nc_fields "$tmp/vector.pcapng" -e frame.interface_name | sort -u) == "nc_fwd[$pid]:fwd_burst" ]] ||
	fail "vector interface name: $(nc_fields "$tmp/vector.pcapng" -e frame.interface_name | sort -u)"
capinfos "$tmp/vector.pcapng" | grep -q "Number of stat entries = 1" || fail "no statistics block"
grep -qx "netcap: nc_fwd\[$pid\]:fwd_burst: seen $n, matched $n, written $n, dropped 0 (ring full 0, unreadable 0)" \
	"$tmp/vector.err" || fail "summary: $(cat "$tmp/vector.err")"
echo "metadata: interface names, direction, queue, statistics and summary as expected"

# a filter keeps exactly what tcpdump keeps
tcpdump -r "$tmp/in.pcap" -w "$tmp/want80.pcap" "tcp port 80" 2>/dev/null
nc_pcap_hex "$tmp/want80.pcap" >"$tmp/want80.hex"
m=$(wc -l <"$tmp/want80.hex")
[[ $m -gt 0 && $m -lt $n ]] || fail "tcp port 80 keeps $m of $n input packets"
capture filtered -- -f fwd_burst@1@2 -e "tcp port 80"
same_as filtered "$tmp/want80.hex"
capinfos "$tmp/filtered.pcapng" | grep -qE "Filter string = tcp port 80$" ||
	fail "the filter is not in the interface block"
echo "filter: tcp port 80 kept the same $m packets as tcpdump"

# chained mbufs and offloaded VLAN tags come out as the wire bytes
capture segments --segments 3 -- -f fwd_burst@1@2 -c "$n"
same_as segments "$tmp/in.hex"
capture segments8 --segments 8 -- -f fwd_burst@1@2 -c "$n"
same_as segments8 "$tmp/in.hex"
# a chain longer than netcap follows (8 segments): the first 8 segments' bytes, marked as cut
capture segments12 --segments 12 -- -f fwd_burst@1@2 -c "$n"
awk '{ l = $2; s = int(l / 12); e = l % 12; c = 8 * s + (e < 8 ? e : 8); if (l < 12) c = (l < 8 ? l : 8)
	print c, l, substr($3, 1, 2 * c) }' "$tmp/in.hex" >"$tmp/segments12.want"
same_as segments12 "$tmp/segments12.want"
[[ $(nc_fields "$tmp/segments12.pcapng" -e frame.comment | grep -c ", segments beyond the 8th not copied$") == "$n" ]] ||
	fail "segments12: not every packet says it was cut: $(nc_fields "$tmp/segments12.pcapng" -e frame.comment | head -2)"
capture vlan --strip-vlan -- -f fwd_one@1 -c "$n"
same_as vlan "$tmp/in.hex"
v=$(nc_fields "$tmp/vlan.pcapng" -e frame.comment | grep -c "VLAN tag re-inserted" || true)
[[ $v -ge 3 ]] || fail "only $v packets say their VLAN tag was re-inserted"
echo "multi-segment (3 and 8 segments) and stripped VLAN tags ($v re-inserted): byte-identical; 12 segments: the first 8 copied, each packet marked"

# an offset in a stripped PMD, as netcap list shows it; its size comes from the unwind
# information (without it the probe line would say "entry (function size unknown)")
start_fixture offset
off=$("$netcap" list --pid "$NC_FWD_PID" | awk '/^  rx_burst / {print $2; exit}')
[[ $off == librte_net_pcap.so.*+0x* ]] || fail "netcap list shows no pcap rx function: $off"
"$netcap" list --pid "$NC_FWD_PID" >"$tmp/list.out"
for want in "  fwd_one@1    void fwd_one(struct rte_mbuf *)" \
	"  fwd_burst@1@2    void fwd_burst(struct rte_mbuf **, uint16_t)" \
	"  fwd_rx@2@3  fwd_rx@2@ret    uint16_t fwd_rx(uint16_t, struct rte_mbuf **, uint16_t)" \
	"nc_fwd[$NC_FWD_PID]: DPDK 22.11, $NC_FWD" "port 0: 1 rx queue(s), 1 tx queue(s)" \
	"      entry probe at +0x3: je, emulated, after 1 instruction(s) from test" \
	"      entry probe at entry: push, emulated" \
	"      probe at entry: push, emulated"; do
	grep -qxF "$want" "$tmp/list.out" || fail "netcap list lacks '$want': $(cat "$tmp/list.out")"
done
start_netcap offset --pid "$NC_FWD_PID" -w "$tmp/offset.pcapng" -f "$off@2@ret16" -c "$n"
finish offset
same_as offset "$tmp/in.hex"
echo "stripped PMD by offset ($off): byte-identical"

# classic pcap and tcpdump text
capture pcap -- -f fwd_burst@1@2 -c "$n" -P
[[ $(od -An -tx1 -N4 "$tmp/pcap.pcapng" | tr -d ' ') == 4d3cb2a1 ]] || fail "-P is not a nanosecond pcap"
same_as pcap "$tmp/in.hex"
start_fixture text
"$netcap" mbuf --ready-file "$tmp/text.ready" --pid "$NC_FWD_PID" -f fwd_burst@1@2 -c "$n" \
	-t "-nn -t -e" >"$tmp/text.out" 2>"$tmp/text.err" &
nc_pid=$!
nc_wait_file "$tmp/text.ready" 20 "$nc_pid" ||
	fail "text: netcap exited early or did not attach within 20 s: $(cat "$tmp/text.err")"
nc_remember_progs "$nc_pid"
finish text
tcpdump -r "$tmp/in.pcap" -nn -t -e >"$tmp/text.want" 2>/dev/null
diff -u "$tmp/text.want" "$tmp/text.out" || fail "text output differs from tcpdump's"
echo "-P writes a nanosecond pcap; -t prints what tcpdump prints"

# two processes, two hook points: one interface each, every packet in each
start_fixture twoA
pid_a=$NC_FWD_PID go_a=$NC_FWD_GO
start_fixture twoB
pid_b=$NC_FWD_PID
start_netcap two --pid "$pid_a" --pid "$pid_b" -w "$tmp/two.pcapng" -f fwd_burst@1@2,tx_burst -c $((4 * n))
touch "$go_a"
finish two
for name in "nc_fwd[$pid_a]:fwd_burst" "nc_fwd[$pid_a]:tx_burst:port0" "nc_fwd[$pid_b]:fwd_burst" \
	"nc_fwd[$pid_b]:tx_burst:port0"; do
	tshark -r "$tmp/two.pcapng" -Y "frame.interface_name == \"$name\"" -w "$tmp/two.one.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/two.one.pcapng" >"$tmp/two.one.hex"
	diff -q "$tmp/in.hex" "$tmp/two.one.hex" >/dev/null ||
		fail "two processes: $name holds $(wc -l <"$tmp/two.one.hex") packets, not the $n input packets"
done
[[ $(capinfos "$tmp/two.pcapng" | grep -c "Number of stat entries = 1") == 4 ]] ||
	fail "two processes: not one statistics block per interface"
echo "two processes x two hook points: 4 interfaces with the $n input packets each, byte-identical"

# the end of a capture: SIGINT, and the target process exiting, both finish the file cleanly
start_fixture sigint
start_netcap sigint --pid "$NC_FWD_PID" -w "$tmp/sigint.pcapng" -f fwd_burst@1@2
kill -INT "$nc_pid"
status=0
wait "$nc_pid" || status=$?
[[ $status == 0 ]] || fail "SIGINT: netcap exited $status"
[[ $(tail -1 "$tmp/sigint.err") == "netcap: 0 packets written (interrupted)" ]] ||
	fail "SIGINT: $(tail -1 "$tmp/sigint.err")"
capinfos "$tmp/sigint.pcapng" | grep -q "Number of stat entries = 1" || fail "SIGINT: no statistics"
[[ $(probes_left) == 0 ]] || fail "SIGINT: probes left loaded"
nc_fwd_stop >/dev/null || true
start_fixture exits
start_netcap exits --pid "$NC_FWD_PID" -w "$tmp/exits.pcapng" -f fwd_burst@1@2
finish exits
same_as exits "$tmp/in.hex"
[[ $(tail -1 "$tmp/exits.err") == "netcap: $n packets written (process $NC_FWD_PID exited)" ]] ||
	fail "target exit: $(tail -1 "$tmp/exits.err")"
echo "SIGINT and the target's exit end the capture with a complete file and exit 0"

# netcap killed with SIGKILL mid-capture: the kernel detaches everything, the app forwards on,
# and a new netcap captures again
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
# (a 16 MiB ring: the check below wants no record lost in the milliseconds before the kill, and a
# sanitized build's reader can fall behind the default 4 MiB ring at an endless replay's rate)
start_netcap killed --pid "$NC_FWD_PID" -w "$tmp/killed.pcapng" -f fwd_burst@1@2,rx_burst -B 16384
kill -KILL "$nc_pid"
wait "$nc_pid" 2>/dev/null || true
for _ in $(seq 50); do [[ $(probes_left) == 0 ]] && break; sleep 0.1; done
[[ $(probes_left) == 0 ]] || fail "SIGKILL: probes left loaded"
# what was written before the kill (the last block may be cut by the kill): each packet of each
# interface a replayed one, in replay order
before=0
for name in "nc_fwd[$NC_FWD_PID]:fwd_burst" "nc_fwd[$NC_FWD_PID]:rx_burst:port0"; do
	tshark -r "$tmp/killed.pcapng" -Y "frame.interface_name == \"$name\"" -w "$tmp/killed.one.pcapng" \
		>/dev/null 2>&1 || true
	nc_pcap_hex "$tmp/killed.one.pcapng" >"$tmp/killed.hex" || fail "SIGKILL: the file's packets cannot be read"
	k=$(wc -l <"$tmp/killed.hex")
	((k == 0)) || in_order "$tmp/killed.hex" || fail "SIGKILL: the $k packets written at $name are not the replay's"
	before=$((before + k))
done
kill -0 "$NC_FWD_PID" || fail "SIGKILL: the app died"
start_netcap again --pid "$NC_FWD_PID" -w "$tmp/again.pcapng" -f fwd_burst@1@2 -c 50
wait "$nc_pid" || fail "after SIGKILL: a new netcap failed: $(cat "$tmp/again.err")"
nc_pcap_hex "$tmp/again.pcapng" >"$tmp/again.hex"
[[ $(wc -l <"$tmp/again.hex") == 50 ]] || fail "after SIGKILL: $(wc -l <"$tmp/again.hex") packets, want 50"
in_order "$tmp/again.hex" || fail "after SIGKILL: the 50 packets are not consecutive replayed packets"
nc_fwd_stop >/dev/null || true
echo "SIGKILL: nothing left attached ($before whole packets were flushed before, in replay order), the app forwarded on, a new netcap captured 50 consecutive ones"

# one window for every point: dpdk-testpmd io-forwards between two net_null ports, so what port
# 0 receives port 1 sends and the other way round; the four points must count over the same span
# (attached one after another and detached one after another, they differed by hundreds of
# thousands). A burst in flight at either end of the window may be counted at one point and not
# the next: two bursts (64) at most.
prefix="nctest-$$-testpmd"
dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$prefix" -l 0-1 --vdev net_null0 \
	--vdev net_null1 -- --forward-mode=io --stats-period 3600 --total-num-mbufs 8192 \
	>"$tmp/testpmd.out" 2>&1 </dev/null &
testpmd=$!
nc_adopt "$testpmd" "$prefix"
nc_testpmd_forwarding "$tmp/testpmd.out" || fail "window: dpdk-testpmd did not start: $(tail -5 "$tmp/testpmd.out")"
"$netcap" mbuf --pid "$testpmd" -f rx_burst:0,tx_burst:1,rx_burst:1,tx_burst:0 --duration 1 \
	-e "ether proto 0x88b5" -w /dev/null 2>"$tmp/window.err" || fail "window: $(cat "$tmp/window.err")"
seen() { sed -n "s/^netcap: dpdk-testpmd\[$testpmd\]:$1: seen \([0-9]*\), .*/\1/p" "$tmp/window.err"; }
rx0=$(seen rx_burst:port0) tx1=$(seen tx_burst:port1) rx1=$(seen rx_burst:port1) tx0=$(seen tx_burst:port0)
[[ -n $rx0 && -n $tx1 && -n $rx1 && -n $tx0 ]] || fail "window: $(cat "$tmp/window.err")"
((rx0 > 100000)) || fail "window: port 0 received only $rx0"
for d in $((rx0 - tx1)) $((rx1 - tx0)) $((rx0 - rx1)); do
	((d >= -64 && d <= 64)) || fail "window: counts differ by $d: $(cat "$tmp/window.err")"
done
kill -TERM "$testpmd"
echo "one window: rx_burst:0 $rx0, tx_burst:1 $tx1, rx_burst:1 $rx1, tx_burst:0 $tx0 (within two bursts)"

# garbage where an mbuf pointer should be: the app does not notice, netcap counts what it could
# not read and carries on
start_fixture garbage --garbage --stats
start_netcap garbage --pid "$NC_FWD_PID" -w "$tmp/garbage.pcapng" -f fwd_inspect@1,fwd_burst@1@2
finish garbage
grep -qx "nc_fwd: 0 VLAN tags stripped, 0 chains built, 5 garbage calls" "$NC_FWD_ERR" ||
	fail "garbage: the fixture did not make its 5 calls: $(cat "$NC_FWD_ERR")"
line=$(grep ":fwd_inspect: " "$tmp/garbage.err")
[[ $line =~ seen\ 5,\ matched\ ([0-9]+),\ written\ ([0-9]+),\ dropped\ ([0-9]+)\ \(ring\ full\ 0,\ unreadable\ ([0-9]+)\) ]] ||
	fail "garbage: $line"
(( BASH_REMATCH[4] >= 3 && BASH_REMATCH[2] + BASH_REMATCH[4] == 5 )) || fail "garbage: $line"
nc_pcap_hex "$tmp/garbage.pcapng" | tail -n "$n" >"$tmp/garbage.tail"
diff -q "$tmp/in.hex" "$tmp/garbage.tail" >/dev/null || fail "garbage: the real packets after it differ"
echo "garbage: 5 bad mbufs (${BASH_REMATCH[4]} unreadable) counted, the app forwarded all $n packets, captured byte-identical"

# bad input: one line, non-zero exit, nothing attached, the fixture untouched
start_fixture bad
sleep 30 &
sleeper=$!
nc_prog_snapshot
expect_error() { # MESSAGE ARGS...
	local want=$1 status=0
	shift
	"$netcap" mbuf -w "$tmp/bad.pcapng" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == 1 ]] || fail "netcap mbuf $*: exit $status, want 1"
	[[ $(cat "$tmp/bad.err") == "$want" ]] || fail "netcap mbuf $*: '$(cat "$tmp/bad.err")', want '$want'"
	[[ $(nc_progs_new) == 0 ]] || fail "netcap mbuf $*: a BPF program was left"
	kill -0 "$NC_FWD_PID" || fail "netcap mbuf $*: the fixture died"
}
expect_error "netcap: no process with pid 999999999" -f fwd_one@1 --pid 999999999
expect_error "netcap: process $sleeper (sleep) is not a DPDK application (no librte_ethdev mapped)" \
	-f fwd_one@1 --pid "$sleeper"
expect_error "netcap: no function \"no_such_fn\" in /proc/$NC_FWD_PID/exe or its libraries (stripped?); try: netcap list --pid $NC_FWD_PID" \
	-f no_such_fn@1 --pid "$NC_FWD_PID"
expect_error "netcap: no function \"no_such_rx\" in /proc/$NC_FWD_PID/exe or its libraries (stripped?); try: netcap list --pid $NC_FWD_PID" \
	-f no_such_rx@2@ret --pid "$NC_FWD_PID"
expect_error "netcap: hook spec \"fwd_one@9\": argument 9 is out of range (netcap reads register arguments 1 to 6); see: netcap mbuf --help" \
	-f fwd_one@9 --pid "$NC_FWD_PID"
expect_error "netcap: bad filter \"tcp port\": can't parse filter expression: syntax error" \
	-f fwd_one@1 --pid "$NC_FWD_PID" -e "tcp port"
expect_error "netcap: process $NC_FWD_PID (nc_fwd) has no started port 7 (started: 0); try: netcap list --pid $NC_FWD_PID" \
	-f rx_burst:7 --pid "$NC_FWD_PID"
status=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$netcap" mbuf -f fwd_one@1 --pid "$NC_FWD_PID" \
	-w /dev/null 2>"$tmp/bad.err" || status=$?
[[ $status == 1 ]] || fail "unprivileged: exit $status"
grep -q "root" "$tmp/bad.err" || fail "unprivileged: message does not say what is needed: $(cat "$tmp/bad.err")"
kill "$sleeper"
nc_fwd_stop >/dev/null || true
echo "bad input: 8 refusals with their messages, nothing attached, fixture unharmed"
echo "mbuf: all checks passed"
