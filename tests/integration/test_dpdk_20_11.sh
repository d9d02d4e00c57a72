#!/usr/bin/env bash
# DPDK 20.11 is refused, with one line naming the release and why, by the real build: nc_fwd
# compiled in a Debian 11 root against its DPDK (tests/dpdk/roots.sh) and run chrooted there.
# netcap list --pid and netcap mbuf (at rx_burst and at a DWARF function) say exactly the refusal,
# and so does netcap list --pid on the root's dpdk-testpmd;
# a capture through the extcap says it too (all before anything is loaded: the release is read
# first); the fixture keeps forwarding, byte for byte, and exits cleanly. (No count of BPF
# programs loaded meanwhile: other tests' captures on the machine would be counted.)
# Usage: test_dpdk_20_11.sh NETCAP NETCAP_EXTCAP   (environment: NC_ROOTS, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_dpdk_20_11.sh NETCAP NETCAP_EXTCAP}
extcap=${2:?usage: test_dpdk_20_11.sh NETCAP NETCAP_EXTCAP}
export TMPDIR=/tmp NC_FWD=/bin/true # the fixture comes from the root (nc_root_start)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=dpdk_lib.sh
source "$here/dpdk_lib.sh"
fail() { nc_fail "$@"; }

nc_root 20.11
tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT

nc_root_start chroot --count "$n" --stats -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"
pid=$NC_FWD_PID
grep -q "librte_ethdev.so.21" "/proc/$pid/maps" || fail "the fixture does not map DPDK 20.11's librte_ethdev.so.21"
want="netcap: process $pid (nc_fwd): DPDK 20.11 (librte_ethdev.so.21) is not supported: it has no rte_eth_fp_ops, the table netcap finds the burst functions in (netcap reads DPDK 21.11 to 24.11)"

status=0
"$netcap" list --pid "$pid" >"$tmp/list.out" 2>"$tmp/list.err" || status=$?
((status != 0)) || fail "netcap list --pid accepted DPDK 20.11: $(cat "$tmp/list.out")"
[[ $(cat "$tmp/list.err") == "$want" ]] || fail "netcap list --pid said: $(cat "$tmp/list.err")"
for spec in rx_burst fwd_burst@1@2; do
	status=0
	"$netcap" mbuf -f "$spec" --pid "$pid" -c 1 -w "$tmp/x.pcapng" >"$tmp/mbuf.out" 2>"$tmp/mbuf.err" || status=$?
	((status != 0)) || fail "netcap mbuf -f $spec accepted DPDK 20.11"
	[[ $(cat "$tmp/mbuf.err") == "$want" ]] || fail "netcap mbuf -f $spec said: $(cat "$tmp/mbuf.err")"
done
echo "netcap list --pid and netcap mbuf (exit $status): $want"

# the extcap: never captured from
"$extcap" --extcap-interfaces >"$tmp/ifaces" 2>"$tmp/ifaces.err" || fail "extcap --extcap-interfaces failed: $(cat "$tmp/ifaces.err")"
# a capture through the extcap is refused with the same reason
mkfifo "$tmp/extcap.pcapng"
cat "$tmp/extcap.pcapng" >/dev/null & # as dumpcap reads it
catpid=$!
status=0
timeout 30 "$extcap" --capture --extcap-interface netcap:nc_fwd:rx_burst --pid "$pid" \
	--fifo "$tmp/extcap.pcapng" >"$tmp/extcap.out" 2>"$tmp/extcap.err" || status=$?
exec 3<>"$tmp/extcap.pcapng" 3>&- # the reader ends even if the extcap never opened the FIFO
wait "$catpid" || true
((status != 0)) || fail "the extcap captured from DPDK 20.11"
grep -qF "DPDK 20.11 (librte_ethdev.so.21) is not supported" "$tmp/extcap.err" "$tmp/extcap.out" ||
	fail "the extcap said: $(cat "$tmp/extcap.err" "$tmp/extcap.out")"
echo "extcap --capture (exit $status): $(grep -hF "DPDK 20.11" "$tmp/extcap.err" "$tmp/extcap.out" | head -1)"

# DPDK's own dpdk-testpmd of the root: the same refusal
prefix="nctest-$$-testpmd-$RANDOM"
nc_root_exec chroot "$prefix" /usr/bin/dpdk-testpmd --no-huge --no-pci -m 256 -l 0-1 --file-prefix "$prefix" \
	--vdev net_null0 --vdev net_null1 -- --total-num-mbufs=4096 --forward-mode=io -a --stats-period 100
tp=$NC_ROOT_PID
for _ in $(seq 200); do
	grep -q "librte_ethdev.so.21" "/proc/$tp/maps" 2>/dev/null && grep -q "librte_net_null" "/proc/$tp/maps" && break
	kill -0 "$tp" 2>/dev/null || fail "dpdk-testpmd exited: $(tail -5 "$NC_ROOT_EXEC_ERR")"
	sleep 0.1
done
status=0
"$netcap" list --pid "$tp" >"$tmp/tp.out" 2>"$tmp/tp.err" || status=$?
((status != 0)) && [[ $(cat "$tmp/tp.err") == "${want/process $pid (nc_fwd)/process $tp (dpdk-testpmd)}" ]] ||
	fail "netcap list --pid (dpdk-testpmd 20.11) said: $(cat "$tmp/tp.err" "$tmp/tp.out")"
echo "dpdk-testpmd 20.11: $(cat "$tmp/tp.err")"

nc_fwd_go
status=0
nc_root_wait || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status"
grep -qx "nc_fwd: rx $n tx $n dropped 0" "$NC_FWD_OUT" || fail "nc_fwd: $(cat "$NC_FWD_OUT")"
nc_pcap_hex "$tmp/tx.pcap" | diff -q "$tmp/in.hex" - >/dev/null || fail "the 20.11 fixture's replay is not byte-exact"
echo "the DPDK 20.11 nc_fwd forwarded its $n packets byte for byte, untouched"
