#!/usr/bin/env bash
# netcap mbuf -G (multi-point capture) against the nc_fwd fixture replaying the corpus: captured
# at rx_burst:0, fwd_burst@1@2 and tx_burst:0 at once, the file has three interfaces, each with
# exactly the input's bytes; every packet's first record carries its whole path and each later
# record the time since the point before (and since the first), all non-negative, consistent with
# the path and ordered rx <= fwd_burst <= tx; -t prints a path under each packet's first line;
# --match content gives the same paths; a point that is never called is "not seen at" for every
# packet (comment and summary); bad -G input gets one exact line, exit 2, nothing loaded.
# In the kernel (netcap skb -G): pings across a veth pair between two namespaces made here are
# followed by skb pointer from net_dev_queue through net_dev_xmit to netif_receive_skb.
# Across DPDK and the kernel (netcap mbuf -f tx_burst:1,skb:...): nc_fwd in a namespace made here
# forwards the replay from net_pcap to a TAP device (DPDK's net_tap), whose kernel side receives
# it; each packet is followed by content from tx_burst:port1 to netif_receive_skb on that TAP,
# both interfaces byte-identical to the input, the TAP's raw-IP interface (no packets) left out so
# that tcpdump reads the file; without -G the same run gives both interfaces.
# Usage: test_gather.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_gather.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT
points=rx_burst:0,fwd_burst@1@2,tx_burst:0

# the BPF programs of the netcap processes this test started (others may run in parallel)
remember_progs() { nc_remember_progs "$@"; }
probes_left() { nc_progs_left; }

# run NAME NETCAP_ARGS...: the fixture replays the input once while netcap captures; netcap's
# output in $tmp/NAME.out, its messages in $tmp/NAME.err
run() {
	local name=$1 status=0
	shift
	nc_fwd_start --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/$name.tx.pcap"
	pid=$NC_FWD_PID
	"$netcap" mbuf --ready-file "$tmp/$name.ready" --duration 60 --pid "$pid" "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	nc_pid=$!
	nc_wait_file "$tmp/$name.ready" 20 "$nc_pid" ||
		fail "$name: netcap exited early or did not attach within 20 s: $(cat "$tmp/$name.err")"
	remember_progs "$nc_pid"
	nc_fwd_go
	wait "$nc_pid" || status=$?
	[[ $status == 0 ]] || fail "$name: netcap exited $status: $(cat "$tmp/$name.err")"
	status=0
	nc_fwd_wait || status=$?
	[[ $status == 0 ]] || fail "$name: nc_fwd exited $status"
	[[ $(probes_left) == 0 ]] || fail "$name: probes still loaded after netcap exited"
}


# three points at once, pcapng
run ptr -f "$points" -G -c $((3 * n)) -w "$tmp/ptr.pcapng"
names=("nc_fwd[$pid]:rx_burst:port0" "nc_fwd[$pid]:fwd_burst" "nc_fwd[$pid]:tx_burst:port0")
[[ $(capinfos "$tmp/ptr.pcapng" | grep -c "Number of stat entries = 1") == 3 ]] ||
	fail "not three interfaces with one statistics block each: $(capinfos "$tmp/ptr.pcapng")"
for i in 0 1 2; do
	tshark -r "$tmp/ptr.pcapng" -Y "frame.interface_name == \"${names[$i]}\"" -w "$tmp/if$i.pcapng" 2>/dev/null
	[[ $(nc_fields "$tmp/if$i.pcapng" -e frame.interface_name | sort -u) == "${names[$i]}" ]] ||
		fail "interface $i: $(nc_fields "$tmp/if$i.pcapng" -e frame.interface_name | sort -u), want ${names[$i]}"
	nc_pcap_hex "$tmp/if$i.pcapng" >"$tmp/if$i.hex"
	diff -u "$tmp/in.hex" "$tmp/if$i.hex" >"$tmp/if$i.diff" ||
		fail "${names[$i]}: capture differs: $(head -c 1500 "$tmp/if$i.diff")"
done
echo "three points at once: 3 interfaces, each byte-identical to the $n input packets"

# the comments: the k-th record of each interface is the k-th packet (one lcore, in order).
# Times are printed in µs with 3 decimals from nanoseconds, so sums are exact in ns.
for i in 0 1 2; do
	nc_fields "$tmp/if$i.pcapng" -e frame.comment | sed 's/^[^\\]*\\n//' >"$tmp/c$i"
done
paste "$tmp/c0" "$tmp/c1" "$tmp/c2" >"$tmp/paths"
awk -F'\t' -v n="$n" '
function ns(s) { gsub(/[.]/, "", s); return s + 0 }
{
	ok = match($1, /^path: rx_burst:port0 → \+[0-9]+[.][0-9][0-9][0-9] µs fwd_burst → \+[0-9]+[.][0-9][0-9][0-9] µs tx_burst:port0$/)
	if (!ok) { print "packet " NR ": rx record: " $1; bad = 1; exit 1 }
	split($1, p, " ")
	a = ns(substr(p[4], 2)); b = ns(substr(p[8], 2))
	if ($2 !~ /^\+[0-9]+[.][0-9][0-9][0-9] µs at fwd_burst \(since rx_burst:port0\)$/) {
		print "packet " NR ": fwd_burst record: " $2; bad = 1; exit 1
	}
	split($2, f, " "); fa = ns(substr(f[1], 2))
	if ($3 !~ /^\+[0-9]+[.][0-9][0-9][0-9] µs at tx_burst:port0 \(since fwd_burst\), \+[0-9]+[.][0-9][0-9][0-9] µs since rx_burst:port0$/) {
		print "packet " NR ": tx_burst record: " $3; bad = 1; exit 1
	}
	split($3, t, " "); tb = ns(substr(t[1], 2)); ta = ns(substr(t[7], 2))
	if (fa != a || tb != b || ta != a + b || ta < fa) {
		print "packet " NR ": times disagree: path " a "+" b ", fwd_burst " fa ", tx " tb " and " ta; bad = 1; exit 1
	}
	if (a > max) max = a
}
END { if (!bad && NR != n) { print NR " packets, want " n; exit 1 } if (!bad) print max }' \
	"$tmp/paths" >"$tmp/check" || fail "-G comments: $(cat "$tmp/check")"
grep -qx "netcap: -G: $n packets followed, $n seen at all 3 points" "$tmp/ptr.err" ||
	fail "-G summary: $(cat "$tmp/ptr.err")"
echo "-G comments: $n paths rx_burst -> fwd_burst -> tx_burst, times non-negative, rx <= fwd_burst <= tx, since-first = sum of hops (largest rx->fwd_burst hop $(cat "$tmp/check") ns)"

# -t: tcpdump's lines, a path under each packet's first, the hop under its later ones
run text -f "$points" -G -c $((3 * n)) -t "-nn -t -S"
[[ $(grep -c $'^\tpath: rx_burst:port0 → +[0-9.]* µs fwd_burst → +[0-9.]* µs tx_burst:port0$' "$tmp/text.out") == "$n" ]] ||
	fail "-t: not one path per packet: $(head -6 "$tmp/text.out")"
[[ $(grep -c $'^\t+[0-9.]* µs at fwd_burst (since rx_burst:port0)$' "$tmp/text.out") == "$n" ]] ||
	fail "-t: fwd_burst hops: $(grep -c $'^\t+' "$tmp/text.out")"
grep -v $'^\t' "$tmp/text.out" | sort >"$tmp/text.pkts"
tcpdump -r "$tmp/in.pcap" -nn -t -S 2>/dev/null | grep -v $'^\t' | awk '{print; print; print}' | sort >"$tmp/text.want"
diff -u "$tmp/text.want" "$tmp/text.pkts" >"$tmp/text.diff" || fail "-t: packet lines are not tcpdump's, three times each: $(head -c 1500 "$tmp/text.diff")"
echo "-t: $n paths under the packets, tcpdump's lines three times each"

# --match content: the same paths (times aside)
run content -f "$points" -G --match content -c $((3 * n)) -w "$tmp/content.pcapng"
shape() { nc_fields "$1" -e frame.comment | sed 's/^[^\\]*\\n//; s/[+-][0-9]*[.][0-9]* µs/T/g'; }
shape "$tmp/ptr.pcapng" >"$tmp/ptr.shape"
shape "$tmp/content.pcapng" >"$tmp/content.shape"
diff -u "$tmp/ptr.shape" "$tmp/content.shape" >"$tmp/shape.diff" ||
	fail "--match content: other paths than --match pointer: $(head -c 1000 "$tmp/shape.diff")"
[[ $(grep -c '^path: rx_burst:port0 → T fwd_burst → T tx_burst:port0$' "$tmp/content.shape") == "$n" ]] ||
	fail "--match content: not $n complete paths"
echo "--match content: the same $n paths as by pointer"

# a point never called (fwd_inspect runs only with --garbage): not seen there, every packet
run missing -f rx_burst:0,fwd_burst@1@2,fwd_inspect@1 -G --gather-timeout 200 -w "$tmp/missing.pcapng"
[[ $(nc_fields "$tmp/missing.pcapng" -e frame.comment | grep -c '\\npath: rx_burst:port0 → +[0-9.]* µs fwd_burst\\nnot seen at fwd_inspect$') == "$n" ]] ||
	fail "never-called point: $(nc_fields "$tmp/missing.pcapng" -e frame.comment | head -2)"
grep -qx "netcap: -G: $n packets followed, 0 seen at all 3 points" "$tmp/missing.err" &&
	grep -qx "netcap: -G: $n not seen at fwd_inspect" "$tmp/missing.err" ||
	fail "never-called point: summary: $(cat "$tmp/missing.err")"
[[ $(capinfos -c -M "$tmp/missing.pcapng" | awk '/Number of packets/ {print $NF}') == $((2 * n)) ]] ||
	fail "never-called point: not $((2 * n)) packets written"
echo "a point never called: $n packets 'not seen at fwd_inspect' (comments and summary)"

# bad input: one line, exit 2, nothing loaded
nc_fwd_start --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/bad.tx.pcap"
expect_error() { # MESSAGE ARGS...
	local want=$1 status=0
	shift
	"$netcap" mbuf --pid "$NC_FWD_PID" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == 2 ]] || fail "netcap mbuf $*: exit $status, want 2"
	[[ $(cat "$tmp/bad.err") == "$want" ]] || fail "netcap mbuf $*: '$(cat "$tmp/bad.err")', want '$want'"
	[[ ! -s $tmp/bad.out ]] || fail "netcap mbuf $*: wrote output"
	kill -0 "$NC_FWD_PID" || fail "netcap mbuf $*: the fixture died"
}
expect_error "netcap mbuf: -G follows packets from point to point: give two hook points or more, e.g. -f rx_burst,tx_burst (got 1)" \
	-G -f rx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: --match goes with -G (follow packets from point to point)" \
	--match content -f rx_burst,tx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: --gather-timeout goes with -G (follow packets from point to point)" \
	--gather-timeout 100 -f rx_burst,tx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: bad --match \"size\": want pointer or content" \
	-G --match size -f rx_burst,tx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: bad --gather-timeout \"0\": want a number from 1 to 3600000" \
	-G --gather-timeout 0 -f rx_burst,tx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: -G writes each packet's path in its comment, which classic pcap cannot hold: drop -P" \
	-G -P -f rx_burst,tx_burst -w "$tmp/bad.pcap"
expect_error "netcap mbuf: -G from DPDK to kernel points follows packets by content (the kernel copies them into an skb): add --match content" \
	-G -f tx_burst,skb:net:netif_receive_skb -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: -i names the interface of kernel points: give one, e.g. -f tx_burst,skb:net:netif_receive_skb" \
	-i lo -f tx_burst -w "$tmp/bad.pcapng"
expect_error "netcap mbuf: only kernel points (skb:...) given: capture them with netcap skb, or add a DPDK hook point" \
	-f skb:net:netif_receive_skb -w "$tmp/bad.pcapng"
nc_fwd_stop >/dev/null || true
echo "bad input: 9 refusals with their messages, exit 2, nothing loaded"

# the kernel: a veth pair between two namespaces; each ping and its reply pass net_dev_queue and
# net_dev_xmit on one side and netif_receive_skb on the other, in the same skb
na=ncgta$$ nb=ncgtb$$
nc_veth_pair "$na" "$nb" 10.96.0.1 10.96.0.2 || fail "no veth pair between two namespaces"
kpoints=net:net_dev_queue,net:net_dev_xmit,net:netif_receive_skb
for how in pointer content; do
	"$netcap" skb -f "$kpoints" -G --match "$how" -e "icmp and host 10.96.0.2" -w "$tmp/k$how.pcapng" \
		--duration 30 --ready-file "$tmp/k$how.ready" 2>"$tmp/k$how.err" &
	nc_pid=$!
	nc_wait_file "$tmp/k$how.ready" 10 "$nc_pid" || fail "skb -G: netcap did not attach: $(cat "$tmp/k$how.err")"
	remember_progs "$nc_pid"
	ip netns exec "$na" ping -c 3 -i 0.2 10.96.0.2 >/dev/null || fail "skb -G: ping failed"
	sleep 0.2
	kill -INT "$nc_pid"
	wait "$nc_pid" || fail "skb -G --match $how: netcap failed: $(cat "$tmp/k$how.err")"
	[[ $(probes_left) == 0 ]] || fail "skb -G: probes left"
	grep -qx "netcap: -G: 6 packets followed, 6 seen at all 3 points" "$tmp/k$how.err" ||
		fail "skb -G --match $how: $(cat "$tmp/k$how.err")"
	nc_fields "$tmp/k$how.pcapng" -e frame.comment | sed 's/^[^\\]*\\n//; s/+[0-9]*[.][0-9]* µs/T/g' |
		sort | uniq -c | sed 's/^ *//' >"$tmp/k$how.paths"
	# T: a time, non-negative
	printf '%s\n' "6 T at net:net_dev_xmit (since net:net_dev_queue)" \
		"6 T at net:netif_receive_skb (since net:net_dev_xmit), T since net:net_dev_queue" \
		"6 path: net:net_dev_queue → T net:net_dev_xmit → T net:netif_receive_skb" |
		sort >"$tmp/kwant"
	diff -u "$tmp/kwant" "$tmp/k$how.paths" || fail "skb -G --match $how: paths differ"
done
status=0
"$netcap" skb -G -f net:net_dev_queue -w "$tmp/kbad.pcapng" 2>"$tmp/kbad.err" || status=$?
[[ $status == 2 && $(cat "$tmp/kbad.err") == "netcap skb: -G follows packets from point to point: give two hook points or more, e.g. -f tp:net:net_dev_queue,tp:net:netif_receive_skb (got 1)" ]] ||
	fail "skb -G with one point: exit $status, $(cat "$tmp/kbad.err")"
echo "kernel: 3 pings and 3 replies followed net_dev_queue -> net_dev_xmit -> netif_receive_skb by skb pointer and by content; one point refused"

# DPDK to the kernel: nc_fwd runs in a namespace of its own (ip netns exec keeps its PID), where
# DPDK's TAP PMD makes the interface; the kernel side has no address and IPv6 off, so it answers
# nothing and nc_fwd receives nothing on the TAP: port 0 (the replay) goes out on port 1 only.
nx=ncgtx$$ tap=nctap$$
cleanup() {
	nc_cleanup # the fixture first: its TAP goes with it (and nc_veth_pair's namespaces)
	ip netns del "$nx" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$nx"
ip netns exec "$nx" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$nx" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
real_fwd=$NC_FWD
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$nx" "$real_fwd" >"$tmp/fwd_in_ns"
chmod +x "$tmp/fwd_in_ns"
# mixed NAME NETCAP_ARGS...: one replay through net_pcap -> TAP while netcap captures
mixed() {
	local name=$1 status=0
	shift
	NC_FWD=$tmp/fwd_in_ns nc_fwd_start --count "$n" --stats -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap" \
		--vdev "net_tap0,iface=$tap" || fail "$name: nc_fwd with a TAP port did not start"
	pid=$NC_FWD_PID
	"$netcap" mbuf --ready-file "$tmp/$name.ready" --duration 60 --pid "$pid" -i "$tap" \
		--netns "/run/netns/$nx" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	nc_pid=$!
	nc_wait_file "$tmp/$name.ready" 20 "$nc_pid" ||
		fail "$name: netcap exited early or did not attach within 20 s: $(cat "$tmp/$name.err")"
	remember_progs "$nc_pid"
	nc_fwd_go
	wait "$nc_pid" || status=$?
	[[ $status == 0 ]] || fail "$name: netcap exited $status: $(cat "$tmp/$name.err")"
	status=0
	nc_fwd_wait || status=$?
	[[ $status == 0 ]] || fail "$name: nc_fwd exited $status"
	# the TAP received nothing from the kernel: all it sent was the replay
	grep -qx "nc_fwd: rx $n tx $n dropped 0" "$NC_FWD_OUT" || fail "$name: nc_fwd: $(cat "$NC_FWD_OUT")"
	[[ $(probes_left) == 0 ]] || fail "$name: probes still loaded after netcap exited"
}
kpt=net:netif_receive_skb@$tap
mixed dk -f tx_burst:1,skb:net:netif_receive_skb -G --match content -c $((2 * n)) -w "$tmp/dk.pcapng"
mnames=("nc_fwd[$pid]:tx_burst:port1" "$kpt")
for i in 0 1; do
	tshark -r "$tmp/dk.pcapng" -Y "frame.interface_name == \"${mnames[$i]}\"" -w "$tmp/dk$i.pcapng" 2>/dev/null
done
# the TAP's raw-IP interface carried no packet and lost none: the file leaves it out, and has one
# link type, which tcpdump reads
[[ $(capinfos "$tmp/dk.pcapng" | grep -c "Number of stat entries = 1") == 2 ]] ||
	fail "DPDK to kernel: not two interfaces (tx_burst, the TAP's Ethernet): $(capinfos "$tmp/dk.pcapng")"
! capinfos "$tmp/dk.pcapng" | grep -qF "Name = $kpt:raw" ||
	fail "DPDK to kernel: the raw-IP interface $kpt:raw, without packets, is in the file"
tcpdump -r "$tmp/dk.pcapng" -w /dev/null 2>"$tmp/dk.libpcap.err" ||
	fail "DPDK to kernel: tcpdump cannot read the file: $(cat "$tmp/dk.libpcap.err")"
for i in 0 1; do
	[[ $(nc_fields "$tmp/dk$i.pcapng" -e frame.interface_name | sort -u) == "${mnames[$i]}" ]] ||
		fail "DPDK to kernel: interface $i: $(nc_fields "$tmp/dk$i.pcapng" -e frame.interface_name | sort -u), want ${mnames[$i]}"
	nc_pcap_hex "$tmp/dk$i.pcapng" >"$tmp/dk$i.hex"
	diff -u "$tmp/in.hex" "$tmp/dk$i.hex" >"$tmp/dk$i.diff" ||
		fail "${mnames[$i]}: capture differs: $(head -c 1500 "$tmp/dk$i.diff")"
	nc_fields "$tmp/dk$i.pcapng" -e frame.comment >"$tmp/dkc$i"
done
# the k-th record at each point is the k-th packet (FIFO through the TAP); the path's hop is the
# kernel record's, non-negative ('+')
paste "$tmp/dkc0" "$tmp/dkc1" >"$tmp/dkpaths"
awk -F'\t' -v n="$n" -v pid="$pid" -v k="$kpt" '
function ns(s) { gsub(/[.]/, "", s); return s + 0 }
{
	want0 = "^pid " pid " tid " pid " cpu [0-9]+ [^\\\\]+\\\\npath: tx_burst:port1 → \\+[0-9]+[.][0-9][0-9][0-9] µs " k "$"
	want1 = "^cpu [0-9]+ pid [0-9]+ " k "\\\\n\\+[0-9]+[.][0-9][0-9][0-9] µs at " k " \\(since tx_burst:port1\\)$"
	if ($1 !~ want0) { print "packet " NR ": tx_burst record: " $1; bad = 1; exit 1 }
	if ($2 !~ want1) { print "packet " NR ": kernel record: " $2; bad = 1; exit 1 }
	split($1, a, "→ "); split(a[2], b, " "); hop = ns(substr(b[1], 2))
	split($2, c, "\\\\n"); split(c[2], d, " "); khop = ns(substr(d[1], 2))
	if (hop != khop) { print "packet " NR ": path says " hop " ns, the kernel record " khop; bad = 1; exit 1 }
	if (hop > max) max = hop
	if (NR == 1 || hop < min) min = hop
}
END { if (!bad && NR != n) { print NR " packets, want " n; exit 1 } if (!bad) print min " to " max }' \
	"$tmp/dkpaths" >"$tmp/dkcheck" || fail "DPDK to kernel: comments: $(cat "$tmp/dkcheck")"
grep -qx "netcap: -G: $n packets followed, $n seen at all 2 points" "$tmp/dk.err" ||
	fail "DPDK to kernel: -G summary: $(cat "$tmp/dk.err")"
echo "DPDK to kernel: $n packets byte-identical at tx_burst:port1 and at $kpt, each followed by content from the one to the other ($(cat "$tmp/dkcheck") ns)"

# without -G: the two kinds of points in one file, each with every packet
mixed dkplain -f tx_burst:1,skb:net:netif_receive_skb -c $((2 * n)) -w "$tmp/dkplain.pcapng"
for i in 0 1; do
	tshark -r "$tmp/dkplain.pcapng" -Y "frame.interface_id == $i" -w "$tmp/dkp$i.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/dkp$i.pcapng" | sort >"$tmp/dkp$i.hex"
	sort "$tmp/in.hex" | diff -u - "$tmp/dkp$i.hex" >"$tmp/dkp$i.diff" ||
		fail "without -G: interface $i differs: $(head -c 1000 "$tmp/dkp$i.diff")"
done
echo "DPDK and kernel points without -G: both interfaces hold the $n packets"
echo "gather: all checks passed"
