#!/usr/bin/env bash
# netcap skb in real network namespaces: two namespaces joined by a veth pair carry ICMP, UDP and
# TCP made here; the capture at net:netif_receive_skb (received) and net:net_dev_queue (sent)
# holds exactly what tcpdump -Q in / -Q out writes on the same interface at the same time, with a
# filter and without; a tun device's packets come out as raw IP; a file of one link type is read
# by tcpdump (libpcap) too, the packets tshark reads; tun and veth in one file are read by tshark
# with both link types, and the summary says tcpdump cannot; skb:kfree_skb names drop reasons; -S
# gives kernel stacks; -t prints what tcpdump prints; bad input is refused.
# Usage: test_skb.sh NETCAP
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_skb.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
tmp=
nc_tmpdir tmp

a=ncska$$ b=ncskb$$ c=ncskc$$
cleanup() { # $a and $b: nc_veth_pair's, removed by nc_cleanup
	ip netns del "$c" 2>/dev/null || true
	nc_cleanup
}
trap cleanup EXIT
nc_veth_pair "$a" "$b" 10.98.0.1 10.98.0.2 || fail "no veth pair between two namespaces"
python=$(command -v python3)

# traffic from $a to $b: pings of several sizes, UDP to a listener and to a closed port, TCP
traffic() {
	ip netns exec "$b" "$python" - <<'PY' &
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.98.0.2", 5000))
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.98.0.2", 8080)); t.listen(1); t.settimeout(5)
def serve():
    c, _ = t.accept(); c.recv(65536); c.sendall(b"ok" * 100); c.close()
threading.Thread(target=serve).start()
u.settimeout(5); u.recvfrom(65536); u.recvfrom(65536)
PY
	local server=$!
	sleep 0.3
	ip netns exec "$a" ping -c 2 -i 0.2 -s 56 10.98.0.2 >/dev/null
	ip netns exec "$a" ping -c 2 -i 0.2 -s 1200 10.98.0.2 >/dev/null
	ip netns exec "$a" "$python" - <<'PY'
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"x" * 100, ("10.98.0.2", 5000)); u.sendto(b"y" * 1000, ("10.98.0.2", 5000))
u.sendto(b"z" * 10, ("10.98.0.2", 9))  # closed port: dropped
t = socket.create_connection(("10.98.0.2", 8080)); t.sendall(b"GET / HTTP/1.0\r\n\r\n")
t.recv(65536); t.close()
PY
	wait "$server"
	sleep 0.3
}

# both NAME NETCAP_ARGS... -- TCPDUMP_NS TCPDUMP_ARGS...: netcap and tcpdump at the same time
both() {
	local name=$1 nc_args=() td_ns td_args=() nc_pid td_pid
	shift
	while [[ $1 != -- ]]; do nc_args+=("$1"); shift; done
	shift
	td_ns=$1
	shift
	td_args=("$@")
	"$netcap" skb "${nc_args[@]}" -w "$tmp/$name.pcapng" --duration 30 \
		--ready-file "$tmp/$name.ready" 2>"$tmp/$name.err" &
	nc_pid=$!
	nc_wait_file "$tmp/$name.ready" 10 "$nc_pid" || fail "$name: netcap did not attach: $(cat "$tmp/$name.err")"
	# --immediate-mode: each packet handed over at once; otherwise what waits in libpcap's
	# ring block (up to a second) when SIGINT comes is lost ("24 received by filter", 5 captured)
	ip netns exec "$td_ns" tcpdump -U --immediate-mode -w "$tmp/$name.want.pcap" "${td_args[@]}" \
		2>"$tmp/$name.td.err" &
	td_pid=$!
	for _ in $(seq 100); do grep -q listening "$tmp/$name.td.err" && break; sleep 0.1; done
	traffic
	kill -INT "$td_pid" "$nc_pid"
	wait "$td_pid" || true
	wait "$nc_pid" || fail "$name: netcap failed: $(cat "$tmp/$name.err")"
	nc_pcap_hex "$tmp/$name.want.pcap" >"$tmp/$name.want.hex"
	nc_pcap_hex "$tmp/$name.pcapng" >"$tmp/$name.hex"
	[[ -s $tmp/$name.want.hex ]] || fail "$name: tcpdump saw nothing"
	diff -u "$tmp/$name.want.hex" "$tmp/$name.hex" >"$tmp/$name.diff" ||
		fail "$name: capture differs from tcpdump's: $(head -c 1500 "$tmp/$name.diff")"
	echo "$name: $(wc -l <"$tmp/$name.hex") packets, byte-identical to tcpdump"
	libpcap_reads "$name"
}

# libpcap_reads NAME: tcpdump reads $tmp/NAME.pcapng (one link type: libpcap 1.10 refuses a file
# whose interfaces differ in it) and gets the packets tshark gets ($tmp/NAME.hex); the summary
# does not send the user to Wireshark
libpcap_reads() {
	local name=$1
	tcpdump -r "$tmp/$name.pcapng" -w "$tmp/$name.libpcap.pcap" 2>"$tmp/$name.libpcap.err" ||
		fail "$name: tcpdump cannot read the capture: $(cat "$tmp/$name.libpcap.err")"
	nc_pcap_hex "$tmp/$name.libpcap.pcap" >"$tmp/$name.libpcap.hex"
	cmp -s "$tmp/$name.hex" "$tmp/$name.libpcap.hex" ||
		fail "$name: tcpdump reads $(wc -l <"$tmp/$name.libpcap.hex") packets, other than tshark's $(wc -l <"$tmp/$name.hex")"
	! grep -q "tcpdump and libpcap cannot read it" "$tmp/$name.err" ||
		fail "$name: the summary says libpcap cannot read it: $(cat "$tmp/$name.err")"
	echo "$name: tcpdump reads the $(wc -l <"$tmp/$name.hex") packets tshark reads"
}

both rx -f tracepoint:net:netif_receive_skb -i v1 --netns "/run/netns/$b" -- "$b" -i v1 -Q in
both tx -f tp:net:net_dev_queue -i v0 --netns "/run/netns/$a" -- "$a" -i v0 -Q out
both rx_udp -f tracepoint:net:netif_receive_skb -i v1 --netns "/run/netns/$b" -e "udp" -- \
	"$b" -i v1 -Q in udp
[[ $(tshark -r "$tmp/rx.pcapng" -T fields -e frame.interface_name -e frame.packet_flags_direction 2>/dev/null | sort -u) == \
	"net:netif_receive_skb@v1	0x00000001" ]] || fail "rx: interface or direction wrong"

# a device without a link header: raw IP, and the filter in its raw-IP form
ip netns add "$c"
ip -n "$c" tuntap add dev tun0 mode tun
ip -n "$c" addr add 10.97.0.1/24 dev tun0
ip -n "$c" link set tun0 up
for filter in icmp udp; do
	"$netcap" skb -f tracepoint:net:net_dev_queue -i tun0 --netns "/run/netns/$c" -e "$filter" \
		-w "$tmp/tun-$filter.pcapng" --duration 30 --ready-file "$tmp/tun-$filter.ready" \
		2>"$tmp/tun-$filter.err" &
	pid=$!
	nc_wait_file "$tmp/tun-$filter.ready" 10 "$pid" ||
		fail "tun $filter: netcap did not attach: $(cat "$tmp/tun-$filter.err")"
	ip netns exec "$c" ping -c 3 -i 0.2 -W 0.3 10.97.0.5 >/dev/null || true
	kill -INT "$pid"
	wait "$pid" || fail "tun: $(cat "$tmp/tun-$filter.err")"
done
got=$(tshark -r "$tmp/tun-icmp.pcapng" -T fields -e frame.interface_name -e ip.dst -e icmp.type 2>/dev/null | sort | uniq -c | sed 's/^ *//')
[[ $got == "3 net:net_dev_queue@tun0:raw	10.97.0.5	8" ]] || fail "tun: $got"
capinfos "$tmp/tun-icmp.pcapng" | grep -q "Encapsulation = Raw IP" || fail "tun: no raw IP interface"
# raw IP only: the file has the raw-IP interface alone, and tcpdump reads it too
nc_pcap_hex "$tmp/tun-icmp.pcapng" >"$tmp/tun-icmp.hex"
libpcap_reads tun-icmp
[[ $(tshark -r "$tmp/tun-udp.pcapng" 2>/dev/null | wc -l) == 0 ]] || fail "tun: udp filter kept ICMP"
# classic pcap carries one link type (Ethernet): the raw-IP packets are counted, not written
"$netcap" skb -f tracepoint:net:net_dev_queue -i tun0 --netns "/run/netns/$c" -e icmp -P \
	-w "$tmp/tun.pcap" --duration 30 --ready-file "$tmp/tun-pcap.ready" 2>"$tmp/tun-pcap.err" &
pid=$!
nc_wait_file "$tmp/tun-pcap.ready" 10 "$pid" ||
	fail "tun pcap: netcap did not attach: $(cat "$tmp/tun-pcap.err")"
ip netns exec "$c" ping -c 3 -i 0.2 -W 0.3 10.97.0.5 >/dev/null || true
kill -INT "$pid"
wait "$pid" || fail "tun pcap: $(cat "$tmp/tun-pcap.err")"
grep -qx "netcap: net:net_dev_queue@tun0:raw: seen 3, matched 3, written 0, dropped 0 (ring full 0, unreadable 0), 3 of another link type not written (use pcapng)" \
	"$tmp/tun-pcap.err" || fail "tun pcap summary: $(cat "$tmp/tun-pcap.err")"
[[ $(capinfos -c -M "$tmp/tun.pcap" | awk '/packets/{print $NF}') == 0 ]] || fail "tun pcap: raw packets written"
echo "tun: 3 ICMP packets as raw IP; the udp filter keeps none"

# tun and veth in one file: Ethernet and raw-IP interfaces, which tshark reads and libpcap 1.10
# refuses; the summary says so. Every namespace is captured (no -i), so the pings have a length
# of this run's own: another test with the same addresses at the same time is not counted
size=$((200 + $$ % 1000))
"$netcap" skb -f tracepoint:net:net_dev_queue \
	-e "icmp and ip[2:2] = $((28 + size)) and (host 10.97.0.5 or host 10.98.0.2)" \
	-w "$tmp/mixed.pcapng" --duration 30 --ready-file "$tmp/mixed.ready" 2>"$tmp/mixed.err" &
pid=$!
nc_wait_file "$tmp/mixed.ready" 10 "$pid" || fail "mixed: netcap did not attach: $(cat "$tmp/mixed.err")"
ip netns exec "$c" ping -c 2 -i 0.2 -W 0.3 -s "$size" 10.97.0.5 >/dev/null || true
ip netns exec "$a" ping -c 2 -i 0.2 -s "$size" 10.98.0.2 >/dev/null
kill -INT "$pid"
wait "$pid" || fail "mixed: $(cat "$tmp/mixed.err")"
got=$(tshark -r "$tmp/mixed.pcapng" -T fields -e frame.interface_name -e frame.encap_type -e ip.dst -e icmp.type 2>/dev/null | sort | uniq -c | sed 's/^ *//')
want="2 net:net_dev_queue	1	10.98.0.2	8
2 net:net_dev_queue	1	10.98.0.1	0
2 net:net_dev_queue:raw	7	10.97.0.5	8"
[[ $(sort <<<"$got") == $(sort <<<"$want") ]] || fail "mixed: tshark reads '$got', want '$want'"
grep -qx "netcap: the pcapng has Ethernet and raw-IP interfaces: tcpdump and libpcap cannot read it, Wireshark and tshark can" \
	"$tmp/mixed.err" || fail "mixed: the summary does not send the user to Wireshark: $(cat "$tmp/mixed.err")"
if tcpdump -r "$tmp/mixed.pcapng" -w /dev/null 2>"$tmp/mixed.libpcap.err"; then
	fail "mixed: tcpdump reads a file with two link types; the summary line is wrong"
fi
echo "mixed: tshark reads the Ethernet and the raw-IP packets; the summary names Wireshark"

# drops: UDP to a closed port is freed with a reason; -S gives kernel stacks
"$netcap" skb -f skb:kfree_skb -i v1 --netns "/run/netns/$b" -e "udp port 9" -S -w "$tmp/drop.pcapng" \
	--duration 30 --ready-file "$tmp/drop.ready" 2>"$tmp/drop.err" &
pid=$!
nc_wait_file "$tmp/drop.ready" 10 "$pid" || fail "drop: netcap did not attach: $(cat "$tmp/drop.err")"
traffic
kill -INT "$pid"
wait "$pid" || fail "drop: $(cat "$tmp/drop.err")"
comment=$(tshark -r "$tmp/drop.pcapng" -T fields -e frame.comment 2>/dev/null | head -1)
[[ $comment == *"drop reason NO_SOCKET"* ]] || fail "drop: no reason in '$comment'"
# the function that fires skb:kfree_skb: sk_skb_reason_drop (6.11+), kfree_skb_reason (5.17+),
# kfree_skb; the stack must start there, not in netcap's probe or the tracing glue
for dropper in sk_skb_reason_drop kfree_skb_reason kfree_skb; do
	grep -qE "^[0-9a-f]+ [tT] $dropper\$" /proc/kallsyms && break
done
first=$(printf '%b' "$comment" | awk '/^stack:/ {getline; print $1; exit}')
[[ ${first%%+*} == "$dropper" ]] || fail "stack: first frame '$first', want $dropper+OFFSET: $comment"
echo "kfree_skb: drop reason NO_SOCKET, stack starting at $first"

# -S with text: each packet's stack printed right under it
"$netcap" skb -f skb:kfree_skb -i v1 --netns "/run/netns/$b" -e "udp port 9" -S -t "-nn" \
	--duration 30 --ready-file "$tmp/stext.ready" >"$tmp/stext.out" 2>"$tmp/stext.err" &
pid=$!
nc_wait_file "$tmp/stext.ready" 10 "$pid" || fail "stack text: netcap did not attach: $(cat "$tmp/stext.err")"
traffic
traffic
kill -INT "$pid"
wait "$pid" || fail "stack text: $(cat "$tmp/stext.err")"
packets=$(grep -c ' UDP, length 10$' "$tmp/stext.out" || true)
[[ $packets == 2 ]] || fail "stack text: $packets packets: $(head -5 "$tmp/stext.out")"
[[ $(grep -A1 ' UDP, length 10$' "$tmp/stext.out" | grep -c $'^\tstack:$') == 2 ]] ||
	fail "stack text: a stack is not right under its packet: $(head -8 "$tmp/stext.out")"
[[ $(grep -A2 ' UDP, length 10$' "$tmp/stext.out" | grep -c $'^\t  '"$dropper+") == 2 ]] ||
	fail "stack text: stacks do not start at the drop: $(head -8 "$tmp/stext.out")"
echo "-S -t: each of 2 packets printed with its stack under it"

# text: what tcpdump prints for the same traffic (timestamps aside)
"$netcap" skb -f tracepoint:net:netif_receive_skb -i v1 --netns "/run/netns/$b" -e icmp -t -nnve \
	--duration 30 --ready-file "$tmp/text.ready" >"$tmp/text.out" 2>"$tmp/text.err" &
pid=$!
nc_wait_file "$tmp/text.ready" 10 "$pid" || fail "text: netcap did not attach: $(cat "$tmp/text.err")"
ip netns exec "$b" tcpdump -l -nnve -Q in -i v1 icmp >"$tmp/text.want" 2>/dev/null &
tpid=$!
sleep 0.5
traffic
kill -INT "$tpid" "$pid"
wait "$tpid" || true
wait "$pid" || fail "text: $(cat "$tmp/text.err")"
grep -v '^$' "$tmp/text.want" | cut -d' ' -f2- >"$tmp/text.want.cut" # SIGINT adds a blank line
cut -d' ' -f2- "$tmp/text.out" >"$tmp/text.out.cut"
diff -u "$tmp/text.want.cut" "$tmp/text.out.cut" || fail "text differs from tcpdump's"
echo "-t -nnve: $(grep -c ICMP "$tmp/text.out") packets printed as tcpdump prints them"

# bad input
nc_prog_snapshot
expect() { # MESSAGE ARGS...
	local want=$1 status=0
	shift
	"$netcap" skb -w "$tmp/bad.pcapng" "$@" >/dev/null 2>"$tmp/bad.err" || status=$?
	[[ $status == 1 ]] || fail "netcap skb $*: exit $status"
	[[ $(cat "$tmp/bad.err") == "$want" ]] || fail "netcap skb $*: '$(cat "$tmp/bad.err")', want '$want'"
	[[ $(nc_progs_new) == 0 ]] || fail "netcap skb $*: a BPF program was left"
}
serve=$(printf '%s' "net:netif_receive_skb, net:net_dev_queue, net:net_dev_xmit, net:netif_rx, skb:kfree_skb, skb:consume_skb")
expect "netcap: no tracepoint \"no_such_tp\" in this kernel; tracepoints that carry an skb: $serve" \
	-f tracepoint:net:no_such_tp
expect "netcap: tracepoint \"sched_switch\" carries no struct sk_buff; tracepoints that do: $serve" \
	-f tracepoint:sched:sched_switch
expect "netcap: no kernel function \"no_such_fn\" in the kernel's BTF; tracepoints that carry an skb: $serve" \
	-f no_such_fn@1
# FUNC@N, captured or refused where the kernel cannot hook functions: test_kernel.sh
expect "netcap: argument 2 of ip_rcv is struct net_device *, not struct sk_buff *" -f ip_rcv@2
expect "netcap: no interface \"nosuch0\" in /run/netns/$b; see: ip link (in that namespace)" \
	-f tracepoint:net:netif_receive_skb -i nosuch0 --netns "/run/netns/$b"
expect "netcap: bad --netns \"/run/netns/nosuch$$\": No such file or directory; give a namespace file such as /run/netns/NAME or /proc/PID/ns/net" \
	-f tracepoint:net:netif_receive_skb -i v1 --netns "/run/netns/nosuch$$"
echo "bad input: refused with their messages, nothing left loaded"
echo "skb: all checks passed"
