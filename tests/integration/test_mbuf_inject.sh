#!/usr/bin/env bash
# netcap mbuf --inject (capture inside the process: the agent loaded with ptrace, the burst
# pointers of rte_eth_fp_ops swapped): against the nc_fwd fixture replaying a known pcap, the
# captures at rx_burst and tx_burst hold exactly the input's bytes (also chained mbufs), equal to
# the uprobe path's; a filter keeps what tcpdump keeps; interface names, direction and comments
# are the uprobe path's. Against dpdk-testpmd forwarding net_null to net_null: 20 captures in a
# row, each ending with the agent gone (no shared memory of netcap's left mapped) and the
# application forwarding; netcap SIGKILLed while capturing: the agent leaves by itself. Bad input:
# one line, the target untouched.
# Usage: test_mbuf_inject.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_mbuf_inject.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
nc_inject_setup "$netcap"
# the shared memory netcap hands the agent, as the process maps it
shared() { grep -c "netcap-inproc" "/proc/$1/maps" || true; }

# byte for byte at both burst functions, and the same as through uprobes
nc_rp_capture rx -- --inject -f rx_burst -c "$n"
nc_rp_same rx "$tmp/in.hex"
nc_rp_capture tx -- --inject -f tx_burst:0 -c "$n"
nc_rp_same tx "$tmp/in.hex"
nc_rp_capture rx_uprobe -- -f rx_burst -c "$n"
nc_rp_same rx_uprobe "$tmp/in.hex"
# chains of 3 segments (and VLAN tags stripped after rx, restored before tx)
nc_rp_capture segments --segments 3 --strip-vlan --stats -- --inject -f tx_burst:0 -c "$n"
nc_rp_same segments "$tmp/in.hex"
grep -q ", [1-9][0-9]* chains built" "$NC_FWD_ERR" || fail "segments: nc_fwd built no chains"
echo "rx_burst, tx_burst:0 (also 3-segment chains): $n packets each, byte-identical, as through uprobes"

# classic pcap (-P): the reader copies the rings' records into the file as blocks of pcap records;
# the same bytes, -c exact (a block stops at it), nanosecond pcap, timestamps in order and within
# the run, the summary's count the file's
t0=$(date +%s.%N)
nc_rp_capture rx_pcap -- --inject -f rx_burst -c "$n" -P
t1=$(date +%s.%N)
nc_rp_same rx_pcap "$tmp/in.hex"
capinfos -t "$tmp/rx_pcap.pcapng" | grep -q "nanosecond pcap" ||
	fail "-P: not a nanosecond pcap file: $(capinfos -t "$tmp/rx_pcap.pcapng")"
nc_fields "$tmp/rx_pcap.pcapng" -e frame.time_epoch | awk -v t0="$t0" -v t1="$t1" \
	'$1 < t0 || $1 > t1 || $1 < last { bad = $1 } { last = $1 } END { exit bad != "" }' ||
	fail "-P: timestamps out of order or outside the run ($t0 .. $t1): $(nc_fields "$tmp/rx_pcap.pcapng" -e frame.time_epoch | head -3)"
grep -q "rx_burst:port0: seen $n, matched $n, written $n, dropped 0 " "$tmp/rx_pcap.err" ||
	fail "-P summary: $(cat "$tmp/rx_pcap.err")"
((n > 5)) || fail "the replay has only $n packets"
nc_rp_capture tx_pcap5 -- --inject -f tx_burst:0 -c 5 -P
head -5 "$tmp/in.hex" >"$tmp/in5.hex"
nc_rp_same tx_pcap5 "$tmp/in5.hex"
grep -q "count reached" "$tmp/tx_pcap5.err" || fail "-c 5: $(cat "$tmp/tx_pcap5.err")"
echo "-P: $n packets byte-identical, timestamps in order within the run; -c 5 wrote exactly 5"

# the metadata the uprobe path writes: interface name, direction, queue, comment
pid=$(nc_fields "$tmp/rx.pcapng" -e frame.comment | head -1 | awk '{print $2}')
for name in rx rx_uprobe; do
	[[ $(nc_fields "$tmp/$name.pcapng" -e frame.interface_name -e frame.packet_flags_direction \
		-e frame.interface_queue | sed "s/\[[0-9]*\]/[P]/" | sort -u) == "nc_fwd[P]:rx_burst:port0	0x00000001	0" ]] ||
		fail "$name metadata: $(nc_fields "$tmp/$name.pcapng" -e frame.interface_name -e frame.packet_flags_direction -e frame.interface_queue | sort -u)"
done
comments() { nc_fields "$1" -e frame.comment | sed 's/^pid [0-9]* tid [0-9]* cpu [0-9]* /pid P tid P cpu N /' | sort -u; }
[[ $(comments "$tmp/rx.pcapng") == "pid P tid P cpu N librte_net_pcap.so."*"+0x"* &&
	$(comments "$tmp/rx.pcapng") == "$(comments "$tmp/rx_uprobe.pcapng")" ]] ||
	fail "rx comments: $(comments "$tmp/rx.pcapng") (uprobes: $(comments "$tmp/rx_uprobe.pcapng"))"
[[ $(nc_fields "$tmp/tx.pcapng" -e frame.packet_flags_direction | sort -u) == 0x00000002 ]] ||
	fail "tx_burst is not marked outbound"
capinfos "$tmp/rx.pcapng" | grep -q "in-process, at rte_eth_fp_ops\[0\].rx_pkt_burst" ||
	fail "the interface description does not say where the capture was: $(capinfos "$tmp/rx.pcapng" | grep -i descr)"
grep -qx "netcap: nc_fwd\[$pid\]:rx_burst:port0: seen $n, matched $n, written $n, dropped 0 (ring full 0, unreadable 0)" \
	"$tmp/rx.err" || fail "summary: $(cat "$tmp/rx.err")"
# the blocks the reader wrote itself: the IDB just before the first EPB, the statistics block's
# isb_ifrecv, isb_ifdrop and isb_usrdeliv (the EPBs written)
blocks() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, kinds, isb = 0, [], []
names = {0x0A0D0D0A: "SHB", 1: "IDB", 5: "ISB", 6: "EPB"}
while off + 12 <= len(data):
    btype, blen = struct.unpack_from("<II", data, off)
    kind = names.get(btype, str(btype))
    if not kinds or kinds[-1][0] != kind:
        kinds.append([kind, 0])
    kinds[-1][1] += 1
    if btype == 5:
        opt, vals = off + 20, {}
        while opt + 4 <= off + blen - 4:
            code, olen = struct.unpack_from("<HH", data, opt)
            if code == 0:
                break
            if olen == 8:
                vals[code] = struct.unpack_from("<Q", data, opt + 4)[0]
            opt += 4 + (olen + 3) // 4 * 4
        isb.append("%d %d %d" % (vals.get(4, -1), vals.get(5, -1), vals.get(8, -1)))
    off += blen
print(" ".join("%s%s" % (k, "x%d" % n if n > 1 else "") for k, n in kinds), ";".join(isb))
PY
}
for name in rx rx_uprobe; do
	[[ $(blocks "$tmp/$name.pcapng") == "SHB IDB EPBx$n ISB $n 0 $n" ]] ||
		fail "$name blocks: $(blocks "$tmp/$name.pcapng") (want SHB IDB EPBx$n ISB $n 0 $n)"
done
echo "metadata: interface name, direction, queue, comment and summary as through uprobes"

# the compiled filter keeps exactly what tcpdump keeps
tcpdump -r "$tmp/in.pcap" -w "$tmp/want.pcap" "tcp port 80 or vlan" 2>/dev/null
nc_pcap_hex "$tmp/want.pcap" >"$tmp/want.hex"
m=$(wc -l <"$tmp/want.hex")
[[ $m -gt 0 && $m -lt $n ]] || fail "the filter keeps $m of $n input packets"
nc_rp_capture filtered -- --inject -f rx_burst -e "tcp port 80 or vlan"
nc_rp_same filtered "$tmp/want.hex"
echo "filter: \"tcp port 80 or vlan\" kept the same $m packets as tcpdump"

# bad input: one line, non-zero, the target untouched
nc_rp_fixture bad
"$netcap" list --pid "$NC_FWD_PID" | grep -qE "^in-process capture \(--inject\): possible \(the agent is loaded through thread [0-9]+, (eal-intr-thread|rte_mp_handle|nc_fwd), stopped a few milliseconds; no lcore stops\)$" ||
	fail "netcap list does not say in-process capture is possible: $("$netcap" list --pid "$NC_FWD_PID" | grep -i in-process)"
expect() { # STATUS MESSAGE NETCAP_ARGS...
	local want_status=$1 want=$2 status=0
	shift 2
	"$netcap" mbuf "$@" >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == "$want_status" && $(cat "$tmp/bad.err") == "$want" ]] ||
		fail "netcap mbuf $*: exit $status, said: $(cat "$tmp/bad.err") (want $want_status: $want)"
}
expect 1 "netcap: no USDT probe nc_fwd:nope in /proc/$NC_FWD_PID/exe or its libraries; try: netcap list --pid $NC_FWD_PID" \
	--inject --pid "$NC_FWD_PID" -f rx_burst,usdt:nc_fwd:nope@1 -w /dev/null
sleep 300 &
sleeper=$!
nc_adopt "$sleeper"
expect 1 "netcap: process $sleeper (sleep) is not a DPDK application (no librte_ethdev mapped)" \
	--inject --pid "$sleeper" -f rx_burst -w /dev/null
expect 1 "netcap: no process with pid 2147483646" --inject --pid 2147483646 -f rx_burst -w /dev/null
! grep -q "libnetcap-agent" "/proc/$NC_FWD_PID/maps" || fail "a refused capture loaded the agent"
! grep -q "libnetcap-agent" "/proc/$sleeper/maps" || fail "a refused capture loaded the agent into sleep"
nc_fwd_stop || true
echo "bad input: one line each, the targets untouched"

# dpdk-testpmd: 50 captures in a row; each leaves nothing mapped, the forwarding goes on (the next
# capture's 1000 packets)
prefix=nctest-inject-$$-$RANDOM
dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$prefix" -l 0-1 --vdev net_null0 \
	--vdev net_null1 -- --forward-mode=io --stats-period 3600 --total-num-mbufs 8192 \
	>"$tmp/testpmd.out" 2>&1 </dev/null &
tp=$!
nc_adopt "$tp" "$prefix"
nc_testpmd_forwarding "$tmp/testpmd.out" 30 || fail "dpdk-testpmd did not start: $(tail -5 "$tmp/testpmd.out")"
for i in $(seq 50); do
	"$netcap" mbuf --inject --pid "$tp" -f rx_burst:0,tx_burst:1 -c 1000 -w "$tmp/loop.pcapng" \
		2>"$tmp/loop.err" || fail "capture $i: $(cat "$tmp/loop.err")"
	[[ $(capinfos -Mc "$tmp/loop.pcapng" | awk '/Number of packets/ {print $NF}') == 1000 ]] ||
		fail "capture $i: $(capinfos -c "$tmp/loop.pcapng")"
	[[ $(shared "$tp") == 0 ]] || fail "capture $i: the shared memory is still mapped"
	kill -0 "$tp" || fail "capture $i: dpdk-testpmd died"
done
echo "50 captures in a row against dpdk-testpmd: 1000 packets each, nothing left mapped"

# netcap SIGKILLed while capturing: the agent leaves by itself, the application goes on
for i in $(seq 5); do
	"$netcap" mbuf --inject --pid "$tp" -f rx_burst -w /dev/null --ready-file "$tmp/k$i.ready" \
		2>"$tmp/kill.err" &
	cap=$!
	nc_wait_file "$tmp/k$i.ready" 5 "$cap" || fail "kill $i: netcap did not attach: $(cat "$tmp/kill.err")"
	[[ $(shared "$tp") == 1 ]] || fail "kill $i: the agent holds no shared memory while capturing"
	sleep 0.$((RANDOM % 5))
	kill -KILL "$cap"
	wait "$cap" 2>/dev/null || true
	for _ in $(seq 100); do
		[[ $(shared "$tp") == 0 ]] && break
		sleep 0.05
	done
	[[ $(shared "$tp") == 0 ]] || fail "kill $i: the agent did not leave after netcap was killed"
	kill -0 "$tp" || fail "kill $i: dpdk-testpmd died"
done
# ... and at random moments from its start: during the injection, the hand-over, the capture
for i in $(seq 50); do
	"$netcap" mbuf --inject --pid "$tp" -f rx_burst,tx_burst -w /dev/null 2>/dev/null &
	cap=$!
	sleep "0.$(printf %03d $((RANDOM % 250)))"
	kill -KILL "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	for _ in $(seq 100); do
		[[ $(shared "$tp") == 0 ]] && break
		sleep 0.05
	done
	[[ $(shared "$tp") == 0 ]] || fail "random kill $i: the shared memory stayed mapped"
	kill -0 "$tp" || fail "random kill $i: dpdk-testpmd died"
	! grep -q "TracerPid:[[:space:]]*[1-9]" /proc/"$tp"/task/*/status ||
		fail "random kill $i: a thread of dpdk-testpmd stayed traced"
done
"$netcap" mbuf --inject --pid "$tp" -f rx_burst:1 -c 100 -w "$tmp/after.pcapng" 2>"$tmp/after.err" ||
	fail "a capture after the kills: $(cat "$tmp/after.err")"
echo "netcap SIGKILLed 5 times while capturing and 50 times at random moments from its start: the agent left each time, dpdk-testpmd ran on, the next capture works"

# the application SIGKILLed while netcap captures inside it: netcap ends the file normally
"$netcap" mbuf --inject --pid "$tp" -f rx_burst -w "$tmp/appkill.pcapng" --ready-file "$tmp/appkill.ready" \
	2>"$tmp/appkill.err" &
cap=$!
nc_wait_file "$tmp/appkill.ready" 5 "$cap" ||
	fail "app killed: netcap did not attach: $(cat "$tmp/appkill.err")"
sleep 0.3
kill -KILL "$tp"
status=0
timeout 10 tail --pid="$cap" -f /dev/null || fail "app killed: netcap did not end within 10 s"
wait "$cap" || status=$?
[[ $status == 0 ]] || fail "app killed: netcap exited $status: $(cat "$tmp/appkill.err")"
grep -q "packets written (process $tp exited)" "$tmp/appkill.err" ||
	fail "app killed: the summary does not say the process exited: $(tail -2 "$tmp/appkill.err")"
capinfos "$tmp/appkill.pcapng" >/dev/null 2>&1 || fail "app killed: the file is not whole"
[[ $(capinfos -Mc "$tmp/appkill.pcapng" | awk '/Number of packets/ {print $NF}') -gt 0 ]] ||
	fail "app killed: no packet in the file"
echo "dpdk-testpmd SIGKILLed during a capture: netcap ended the file normally (process $tp exited)"
