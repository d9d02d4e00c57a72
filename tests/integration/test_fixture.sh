#!/usr/bin/env bash
# The nc_fwd fixture without netcap: replaying the corpus through net_pcap, the tx file holds
# exactly the bytes of the rx file, plain, with chained mbufs (--segments), with the VLAN tag
# stripped into the mbuf and put back (--strip-vlan), and across two ports; SIGTERM and
# --idle-exit end it cleanly; bad options are refused.
# Environment: NC_FWD (the nc_fwd binary; else argument 1), NC_TEST_DATA (the corpus directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh" "${1:-}"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT
vlans=$(awk 'substr($3, 25, 4) == "8100"' "$tmp/in.hex" | wc -l)
[[ $vlans -ge 3 ]] || fail "input has only $vlans 802.1Q frames"

# same_bytes NAME OUT.pcap: OUT equals the input byte for byte
same_bytes() {
	nc_pcap_hex "$2" >"$tmp/$1.hex"
	diff -u "$tmp/in.hex" "$tmp/$1.hex" >"$tmp/$1.diff" ||
		fail "$1: tx file differs from the input: $(head -c 2000 "$tmp/$1.diff")"
}

# check_run NAME STATUS: exit 0, the stats line, no warning from nc_fwd
check_run() {
	[[ $2 == 0 ]] || fail "$1: exit status $2; stderr: $(cat "$NC_FWD_ERR")"
	[[ $(cat "$NC_FWD_OUT") == "nc_fwd: rx $n tx $n dropped 0" ]] ||
		fail "$1: stats '$(cat "$NC_FWD_OUT")', want 'nc_fwd: rx $n tx $n dropped 0'"
	if grep -q 'warning' "$NC_FWD_ERR"; then
		fail "$1: $(grep warning "$NC_FWD_ERR")"
	fi
}

# replay NAME STRIPPED CHAINS APP_OPTS...: one port reading in.pcap and writing NAME.pcap,
# --count n; nc_fwd must report STRIPPED VLAN tags stripped and CHAINS chains built
replay() {
	local name=$1 stripped=$2 chains=$3 status=0
	shift 3
	nc_fwd_start --count "$n" --stats "$@" -- \
		--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/$name.pcap" || fail "$name: no start"
	[[ ! -e $tmp/$name.pcap || $(capinfos -c -M "$tmp/$name.pcap" | awk '/packets/{print $NF}') == 0 ]] ||
		fail "$name: packets forwarded before the go file"
	nc_fwd_go
	nc_fwd_wait 60 || status=$?
	check_run "$name" "$status"
	grep -qx "nc_fwd: $stripped VLAN tags stripped, $chains chains built, 0 garbage calls" "$NC_FWD_ERR" ||
		fail "$name: want $stripped tags stripped, $chains chains; stderr: $(cat "$NC_FWD_ERR")"
	same_bytes "$name" "$tmp/$name.pcap"
	echo "fixture $name: $n packets forwarded ($stripped tags stripped, $chains chains)," \
		"tx file byte-identical"
}

replay plain 0 0
replay segments3 0 "$n" --segments 3
replay strip-vlan "$vlans" 0 --strip-vlan
# 8 segments of a 56-byte stripped frame: the first segment is shorter than the 12 address
# bytes, so the tag goes back only after linearising
replay segments8-strip-vlan "$vlans" "$n" --segments 8 --strip-vlan

# two ports: rx on port 0, tx on its peer port 1 (port 1 has no rx stream, port 0 no tx stream)
status=0
nc_fwd_start --count "$n" --stats -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap" \
	--vdev "net_pcap1,tx_pcap=$tmp/two-ports.pcap" || fail "two-ports: no start"
nc_fwd_go
nc_fwd_wait 60 || status=$?
check_run two-ports "$status"
same_bytes two-ports "$tmp/two-ports.pcap"
echo "fixture two-ports: $n packets forwarded from port 0 to port 1, byte-identical"

# SIGTERM: without --count it forwards everything, then a clean exit (tx file complete)
status=0
nc_fwd_start --stats -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/sigterm.pcap" ||
	fail "sigterm: no start"
nc_fwd_go
for ((i = 0; i < 2000; i++)); do
	[[ $(capinfos -c -M "$tmp/sigterm.pcap" 2>/dev/null | awk '/packets/{print $NF}') == "$n" ]] &&
		break
	sleep 0.01
done
nc_fwd_stop 10 || status=$?
check_run sigterm "$status"
same_bytes sigterm "$tmp/sigterm.pcap"
echo "fixture sigterm: clean exit, $n packets, byte-identical"

# --idle-exit: ends by itself once the file is exhausted
status=0
nc_fwd_start --stats --idle-exit 200 -- \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/idle.pcap" || fail "idle: no start"
nc_fwd_go
nc_fwd_wait 30 || status=$?
check_run idle-exit "$status"
same_bytes idle-exit "$tmp/idle.pcap"
echo "fixture idle-exit: exited after the last packet, byte-identical"

# strict option parsing: exit 2 and a message naming the option
expect_usage() { # WANT_STDERR_LINE APP_OPTS...
	local want=$1 status=0
	shift
	nc_fwd_run "$@" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap" || status=$?
	[[ $status == 2 ]] || fail "nc_fwd -- $*: exit $status, want 2"
	grep -qxF "$want" "$NC_FWD_ERR" || fail "nc_fwd -- $*: stderr $(cat "$NC_FWD_ERR")"
}
expect_usage 'nc_fwd: bad --count "12x": want a number from 1 to 18446744073709551615' --count 12x
expect_usage 'nc_fwd: bad --count "": want a number from 1 to 18446744073709551615' --count ''
expect_usage 'nc_fwd: bad --segments "17": want a number from 1 to 16' --segments 17
expect_usage 'nc_fwd: bad --segments " 2": want a number from 1 to 16' --segments ' 2'
expect_usage 'nc_fwd: bad --idle-exit "-5": want a number from 1 to 86400000' --idle-exit -5
expect_usage 'nc_fwd: --count needs a value' --count
expect_usage 'nc_fwd: unknown option "--bogus"' --bogus
echo "fixture: option errors refused"
echo "fixture: all checks passed"
