#!/usr/bin/env bash
# netcap against DPDK 24.11, the real build: nc_fwd compiled in a Debian 13 root against its
# DPDK (tests/dpdk/roots.sh) and run chrooted there; netcap, the extcap and tshark from the host
# (DPDK 22.11). netcap list says DPDK 24.11 with both ports and their PMD functions; rx_burst and
# tx_burst of each port, fwd_rx@2@ret, fwd_burst@1@2 (DWARF) and usdt:nc_fwd:burst@1@2 followed
# together with -G, a chain of 3 segments with VLAN tags stripped into the mbuf, and the extcap's
# capture are each byte-identical to the replayed input; the root's dpdk-testpmd (net_pcap to
# net_null) is listed and captured at both ports; every interface's description names the
# release; nothing stays attached.
# Usage: test_dpdk_24_11.sh NETCAP NETCAP_EXTCAP   (environment: NC_ROOTS, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_dpdk_24_11.sh NETCAP NETCAP_EXTCAP}
extcap=${2:?usage: test_dpdk_24_11.sh NETCAP NETCAP_EXTCAP}
export TMPDIR=/tmp NC_FWD=/bin/true # the fixture comes from the root (nc_root_start)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=dpdk_lib.sh
source "$here/dpdk_lib.sh"
fail() { nc_fail "$@"; }

nc_root 24.11
tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT

# start_netcap NAME ARGS...: netcap mbuf in the background until its probes are attached
start_netcap() {
	local name=$1
	shift
	"$netcap" mbuf --ready-file "$tmp/$name.ready" --duration 60 "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	nc_pid=$!
	nc_wait_file "$tmp/$name.ready" 20 "$nc_pid" ||
		fail "$name: netcap exited early or did not attach within 20 s: $(cat "$tmp/$name.err")"
	nc_remember_progs "$nc_pid"
}

# finish NAME: let the fixture replay, wait for both, nothing left loaded
finish() {
	local name=$1 status=0
	nc_fwd_go
	wait "$nc_pid" || status=$?
	[[ $status == 0 ]] || fail "$name: netcap exited $status: $(cat "$tmp/$name.err")"
	status=0
	nc_root_wait || status=$?
	[[ $status == 0 ]] || fail "$name: nc_fwd exited $status: $(tail -3 "$NC_FWD_ERR")"
	[[ $(nc_progs_left) == 0 ]] || fail "$name: probes still loaded after netcap exited"
}

# same_if FILE INTERFACE_NAME: the packets of that interface of FILE are the input's, in order
same_if() {
	local out=$tmp/if.$RANDOM
	tshark -r "$1" -Y "frame.interface_name == \"$2\"" -w "$out.pcapng" 2>/dev/null
	nc_pcap_hex "$out.pcapng" >"$out.hex"
	diff -u "$tmp/in.hex" "$out.hex" >"$out.diff" ||
		fail "$2: capture differs from the input ($(wc -l <"$out.hex") of $n packets): $(head -c 1200 "$out.diff")"
}

# the release in each interface's description (the IDB's if_description)
described() {
	local d
	d=$(tshark -r "$1" -T fields -e frame.interface_description 2>/dev/null | sort -u)
	[[ -n $d ]] && ! grep -qv "DPDK 24.11" <<<"$d" || fail "interface descriptions without DPDK 24.11: $d"
}

# 1. two ports, each replaying the input to the other: netcap list, rx and tx of each port
nc_root_start chroot --count $((2 * n)) -- \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx0.pcap" \
	--vdev "net_pcap1,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx1.pcap"
pid=$NC_FWD_PID
"$netcap" list --pid "$pid" >"$tmp/list" 2>&1 || fail "netcap list: $(cat "$tmp/list")"
head -1 "$tmp/list" | grep -qx "nc_fwd\[$pid\]: DPDK 24.11, $NC_ROOT/nc/nc_fwd" ||
	fail "netcap list: $(head -1 "$tmp/list")"
for p in 0 1; do
	grep -qx "port $p: 1 rx queue(s), 1 tx queue(s)" "$tmp/list" || fail "netcap list lacks port $p: $(cat "$tmp/list")"
done
[[ $(grep -cE '^  (rx|tx)_burst librte_net_pcap\.so\.25\.0\+0x[0-9a-f]+$' "$tmp/list") == 4 ]] ||
	fail "netcap list: not the 4 burst functions of librte_net_pcap.so.25: $(cat "$tmp/list")"
grep -qE "^  usdt:nc_fwd:burst +2 argument\(s\): .*, semaphore$" "$tmp/list" ||
	fail "netcap list: no usdt:nc_fwd:burst with 2 arguments and a semaphore: $(grep usdt "$tmp/list")"
grep -q "^  fwd_burst@1@2 " "$tmp/list" || fail "netcap list: no fwd_burst@1@2 from DWARF"
echo "netcap list: DPDK 24.11, ports 0 and 1, librte_net_pcap.so.25 burst functions, DWARF functions, USDT"
start_netcap ports -f rx_burst,tx_burst --pid "$pid" -w "$tmp/ports.pcapng" -c $((4 * n))
finish ports
for ifn in rx_burst:port0 rx_burst:port1 tx_burst:port0 tx_burst:port1; do
	same_if "$tmp/ports.pcapng" "nc_fwd[$pid]:$ifn"
done
described "$tmp/ports.pcapng"
echo "rx_burst and tx_burst of ports 0 and 1: 4 interfaces, each the $n input packets byte for byte, described as DPDK 24.11"

# 2. one port: five points followed together (-G)
points=rx_burst:0,fwd_rx@2@ret,fwd_burst@1@2,usdt:nc_fwd:burst@1@2,tx_burst:0
nc_root_start chroot --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"
pid=$NC_FWD_PID
start_netcap gather -f "$points" -G --pid "$pid" -w "$tmp/gather.pcapng" -c $((5 * n))
finish gather
for ifn in rx_burst:port0 fwd_rx fwd_burst usdt:nc_fwd:burst tx_burst:port0; do
	same_if "$tmp/gather.pcapng" "nc_fwd[$pid]:$ifn"
done
grep -qx "netcap: -G: $n packets followed, $n seen at all 5 points" "$tmp/gather.err" ||
	fail "-G summary: $(cat "$tmp/gather.err")"
[[ $(nc_fields "$tmp/gather.pcapng" -e frame.comment | grep -c 'path: rx_burst:port0 → +[0-9.]* µs fwd_rx → +[0-9.]* µs fwd_burst → +[0-9.]* µs usdt:nc_fwd:burst → +[0-9.]* µs tx_burst:port0') == "$n" ]] ||
	fail "-G paths: $(nc_fields "$tmp/gather.pcapng" -e frame.comment | head -2)"
echo "-G over $points: every packet followed through the 5 points, each interface byte-identical"

# 3. chains of 3 segments with the VLAN tags stripped into the mbuf: the bytes on the wire
nc_root_start chroot --count "$n" --segments 3 --strip-vlan --stats -- \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"
pid=$NC_FWD_PID
start_netcap chains -f fwd_burst@1@2 --pid "$pid" -w "$tmp/chains.pcapng" -c "$n"
finish chains
same_if "$tmp/chains.pcapng" "nc_fwd[$pid]:fwd_burst"
v=$(nc_fields "$tmp/chains.pcapng" -e frame.comment | grep -c "VLAN tag re-inserted" || true)
grep -q "nc_fwd: [1-9][0-9]* VLAN tags stripped, $n chains built" "$NC_FWD_ERR" && ((v > 0)) ||
	fail "no VLAN tag stripped and re-inserted ($v comments; $(grep 'VLAN tags' "$NC_FWD_ERR"))"
echo "3-segment chains, $v VLAN tags re-inserted: byte-identical"

# 4. DPDK's own dpdk-testpmd of the root: net_pcap replaying the input endlessly to net_null (a
# second stripped PMD); rx_burst:0 holds the input round and round, tx_burst:1 the same packets
prefix="nctest-$$-testpmd-$RANDOM"
nc_root_exec chroot "$prefix" /usr/bin/dpdk-testpmd --no-huge --no-pci -m 256 -l 0-1 --file-prefix "$prefix" \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1" --vdev net_null1 -- --no-flush-rx \
	--total-num-mbufs=4096 --forward-mode=io -a --stats-period 100
pid=$NC_ROOT_PID
for _ in $(seq 200); do
	"$netcap" list --pid "$pid" >"$tmp/tp.list" 2>&1 && grep -q "^port 1:" "$tmp/tp.list" && break
	kill -0 "$pid" 2>/dev/null || fail "dpdk-testpmd exited: $(tail -5 "$NC_ROOT_EXEC_ERR")"
	sleep 0.1
done
head -1 "$tmp/tp.list" | grep -qx "dpdk-testpmd\[$pid\]: DPDK 24.11, $NC_ROOT/usr/bin/dpdk-testpmd" &&
	grep -qE '^  tx_burst librte_net_null\.so\.25\.0\+0x[0-9a-f]+$' "$tmp/tp.list" ||
	fail "netcap list of dpdk-testpmd: $(cat "$tmp/tp.list")"
"$netcap" mbuf -f rx_burst:0,tx_burst:1 --pid "$pid" -c $((2 * n)) --duration 30 -w "$tmp/tp.pcapng" \
	2>"$tmp/tp.err" || fail "netcap mbuf on dpdk-testpmd: $(cat "$tmp/tp.err")"
for ifn in rx_burst:port0 tx_burst:port1; do
	tshark -r "$tmp/tp.pcapng" -Y "frame.interface_name == \"dpdk-testpmd[$pid]:$ifn\"" -w "$tmp/tp1.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/tp1.pcapng" >"$tmp/tp1.hex"
	[[ $(wc -l <"$tmp/tp1.hex") -ge 1 ]] || fail "dpdk-testpmd $ifn: nothing captured: $(cat "$tmp/tp.err")"
	awk 'NR == FNR { want[NR - 1] = $0; n = NR; next }
		FNR == 1 { for (i = 0; i < n && want[i] != $0; i++); if (i == n) exit 1; next }
		{ i = (i + 1) % n; if (want[i] != $0) exit 1 }' "$tmp/in.hex" "$tmp/tp1.hex" ||
		fail "dpdk-testpmd $ifn: not the input's packets in order"
done
echo "dpdk-testpmd 24.11: listed (librte_net_null.so.25 at port 1), rx_burst:0 and tx_burst:1 the input's packets in order"

# 5. the extcap: listed, captures the fixture's function
export HOME=$tmp/home
mkdir -p "$HOME/.config/wireshark/extcap"
cp "$extcap" "$HOME/.config/wireshark/extcap/netcap-extcap"
nc_root_start chroot --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"
pid=$NC_FWD_PID
tshark -D 2>/dev/null | grep -qF ". netcap:nc_fwd:fwd_burst (netcap: nc_fwd/fwd_burst)" || fail "tshark -D lacks nc_fwd"
"$extcap" --extcap-config --extcap-interface netcap:nc_fwd:fwd_burst |
	grep -qxF "value {arg=0}{value=$pid}{display=nc_fwd[$pid]}" || fail "the extcap does not offer pid $pid"
tshark -i netcap:nc_fwd:fwd_burst -o "extcap.netcap_nc_fwd_fwd_burst.pid:$pid" -c "$n" -a duration:40 \
	-w "$tmp/extcap.pcapng" >"$tmp/tshark.out" 2>"$tmp/tshark.err" &
tpid=$!
for _ in $(seq 200); do
	epid=$(pgrep -f -- "^$HOME/.config/wireshark/extcap/netcap-extcap .*--capture" | head -1) && break
	sleep 0.1
done
[[ -n ${epid:-} ]] || fail "tshark started no extcap: $(cat "$tmp/tshark.err")"
nc_wait_attached "$epid" || fail "the extcap did not attach: $(cat "$tmp/tshark.err")"
nc_fwd_go
wait "$tpid" || fail "tshark: $(cat "$tmp/tshark.err")"
nc_root_wait || fail "nc_fwd (extcap run) failed"
same_if "$tmp/extcap.pcapng" "nc_fwd[$pid]:fwd_burst"
for _ in $(seq 50); do [[ $(nc_progs_left) == 0 ]] && break; sleep 0.1; done
[[ $(nc_progs_left) == 0 ]] || fail "the extcap left probes loaded"
echo "extcap: tshark -D lists nc_fwd, tshark -i netcap:nc_fwd:fwd_burst -c $n byte-identical"
