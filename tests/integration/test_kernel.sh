#!/usr/bin/env bash
# Both modes on the running kernel, small enough for the qemu guests of tests/vm (Debian's 5.10,
# 6.1, 6.12), where it runs as ctest's kernel_* tests, and here: the probes load and capture.
# mbuf: the nc_fwd fixture replaying a known pcap (every uprobe on a perf event opened while the
# program loaded), captured at rx_burst, at fwd_burst@1@2, at
# the USDT probe usdt:nc_fwd:burst@1@2 and at fwd_burst@1@2 in-process (--inject: the agent
# injected, the function patched), each byte-identical to the replay. skb: two namespaces
# joined by a veth pair; the original netcap's four skb examples with this test's addresses —
# icmp_rcv@1 with a host filter, __dev_queue_xmit@1 -i IF -t "-nnve" (and dev_queue_xmit@1: a
# capture where it is a function, else the message naming __dev_queue_xmit), the
# net:netif_receive_skb tracepoint, skb:kfree_skb -S — each byte-identical (or, for -t, the same
# text) to tcpdump on the same veth at the same time; FUNC@N through fentry and through a kprobe,
# each forced, the same packets; kfree_skb_reason@1 with its drop reason where the kernel has it.
# Where the kernel can hook no function (this machine's 6.18: no kprobes, fentry refused) the
# FUNC@N captures are checked to be refused with their message instead. Nothing is left loaded.
# Usage: test_kernel.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_kernel.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
tmp=
nc_tmpdir tmp
echo "kernel $(uname -r)"

# attached NAME PID [inproc]: wait (60 s at most: TCG is slow) for netcap PID's ready file,
# remember its programs (none in-process)
attached() {
	nc_wait_file "$tmp/$1.ready" 60 "$2" ||
		fail "$1: netcap exited or did not attach in 60 s: $(cat "$tmp/$1.err")"
	[[ ${3:-} == inproc ]] || nc_remember_progs "$2"
}

# ---- mbuf mode ----
nc_replay_input "$tmp"
n=$NC_IN_COUNT
# mbuf NAME SPEC [OPTION...]: one replay, captured at SPEC, byte-identical to the input
mbuf() {
	local name=$1 spec=$2 status=0
	shift 2
	nc_fwd_start --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/$name.tx.pcap" ||
		fail "$name: the fixture did not start"
	"$netcap" mbuf -v --pid "$NC_FWD_PID" -f "$spec" "$@" -c "$n" -w "$tmp/$name.pcapng" \
		--duration 300 --ready-file "$tmp/$name.ready" 2>"$tmp/$name.err" &
	local pid=$!
	attached "$name" "$pid" "$([[ " $* " == *" --inject "* ]] && echo inproc)"
	nc_fwd_go
	wait "$pid" || status=$?
	((status == 0)) || fail "$name: netcap exited $status: $(cat "$tmp/$name.err")"
	nc_fwd_wait 120 || fail "$name: the fixture did not finish"
	nc_pcap_hex "$tmp/$name.pcapng" >"$tmp/$name.hex"
	diff -q "$tmp/in.hex" "$tmp/$name.hex" >/dev/null ||
		fail "$name: $(wc -l <"$tmp/$name.hex") packets, not the $n of the replay: $(cat "$tmp/$name.err")"
	[[ $(nc_progs_left) == 0 ]] || fail "$name: BPF programs left after netcap exited"
	# through uprobes: each one's perf event opened on a thread while the program loaded
	[[ " $* " == *" --inject "* ]] ||
		grep -qE '^netcap: uprobes: ([1-9][0-9]*) attached, \1 of them to perf events opened while the program loaded$' "$tmp/$name.err" ||
		fail "$name: not every uprobe went onto a perf event opened ahead: $(grep '^netcap: uprobes' "$tmp/$name.err")"
	echo "mbuf $spec${*:+ $*}: $n packets, byte-identical to the replay"
}
mbuf rx rx_burst
mbuf burst fwd_burst@1@2
mbuf usdt usdt:nc_fwd:burst@1@2
# in-process: the agent injected (ptrace), fwd_burst's entry patched through /proc/PID/mem with
# every thread stopped; the stop's bound raised for TCG, where a thread takes long to stop
NETCAP_PATCH_TIMEOUT_MS=10000 mbuf inject fwd_burst@1@2 --inject

# ---- skb mode ----
a=nckra$$ b=nckrb$$
nc_veth_pair "$a" "$b" 10.96.0.1 10.96.0.2 || fail "no veth pair between two namespaces"
# the neighbours known up front: no ARP at random times
ip -n "$a" neigh add 10.96.0.2 lladdr "$(ip -n "$b" -br link show v1 | awk '{print $3}')" dev v0
ip -n "$b" neigh add 10.96.0.1 lladdr "$(ip -n "$a" -br link show v0 | awk '{print $3}')" dev v1
python=$(command -v python3)

# traffic from $a to $b: pings of two sizes, UDP to a closed port (dropped: NO_SOCKET)
traffic() {
	ip netns exec "$a" ping -c 2 -i 0.2 -s 56 10.96.0.2 >/dev/null
	ip netns exec "$a" ping -c 1 -s 1200 10.96.0.2 >/dev/null
	ip netns exec "$a" "$python" -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"z" * 10, ("10.96.0.2", 9))'
	sleep 0.3
}

# start NAME ARGS...: netcap skb in the background until attached
start() {
	local name=$1
	shift
	"$netcap" skb "$@" --duration 300 --ready-file "$tmp/$name.ready" >"$tmp/$name.out" \
		2>"$tmp/$name.err" &
	nc_pid=$!
	attached "$name" "$nc_pid"
}

# tcpdump_start NS ARGS...: tcpdump in namespace NS until it listens
tcpdump_start() {
	local ns=$1
	shift
	ip netns exec "$ns" tcpdump -U --immediate-mode "$@" 2>"$tmp/td.err" &
	td_pid=$!
	for _ in $(seq 100); do grep -q listening "$tmp/td.err" && break; sleep 0.1; done
}

# finish NAME: stop both, netcap must exit 0 and leave nothing loaded
finish() {
	kill -INT "$td_pid" "$nc_pid"
	wait "$td_pid" || true
	wait "$nc_pid" || fail "$1: netcap failed: $(cat "$tmp/$1.err")"
	[[ $(nc_progs_left) == 0 ]] || fail "$1: BPF programs left after netcap exited"
}

# both NAME NETCAP_ARGS... -- NS TCPDUMP_ARGS...: netcap and tcpdump at once, the same packets
both() {
	local name=$1 nc_args=()
	shift
	while [[ $1 != -- ]]; do nc_args+=("$1"); shift; done
	shift
	start "$name" "${nc_args[@]}" -w "$tmp/$name.pcapng"
	tcpdump_start "$@" -w "$tmp/$name.want.pcap"
	traffic
	finish "$name"
	nc_pcap_hex "$tmp/$name.want.pcap" >"$tmp/$name.want.hex"
	nc_pcap_hex "$tmp/$name.pcapng" >"$tmp/$name.hex"
	[[ -s $tmp/$name.want.hex ]] || fail "$name: tcpdump saw nothing"
	diff -u "$tmp/$name.want.hex" "$tmp/$name.hex" >"$tmp/$name.diff" ||
		fail "$name: capture differs from tcpdump's: $(head -c 1500 "$tmp/$name.diff")"
	echo "skb ${nc_args[*]}: $(wc -l <"$tmp/$name.hex") packets, byte-identical to tcpdump"
}

nsb=/run/netns/$b nsa=/run/netns/$a
both tp -f tracepoint:net:netif_receive_skb -i v1 --netns "$nsb" -- "$b" -i v1 -Q in

# skb:kfree_skb -S: the UDP datagram to the closed port, its stack starting where it is freed
# (sk_skb_reason_drop in 6.11+, kfree_skb_reason from 5.17, kfree_skb before); the drop reason
# where the tracepoint has one (5.17+)
for dropper in sk_skb_reason_drop kfree_skb_reason kfree_skb; do
	grep -qE "^[0-9a-f]+ [tT] $dropper\$" /proc/kallsyms && break
done
both drop -f tracepoint:skb:kfree_skb -i v1 --netns "$nsb" -e "udp port 9" -S -- "$b" -i v1 -Q in udp port 9
comment=$(tshark -r "$tmp/drop.pcapng" -T fields -e frame.comment 2>/dev/null | head -1)
first=$(printf '%b' "$comment" | awk '/^stack:/ {getline; print $1; exit}')
[[ ${first%%+*} == "$dropper" ]] || fail "kfree_skb: stack starts at '$first', want $dropper: $comment"
if [[ $dropper != kfree_skb ]]; then
	[[ $comment == *"drop reason NO_SOCKET"* ]] || fail "kfree_skb: no drop reason in '$comment'"
fi
echo "skb:kfree_skb -S: the stack starts at $first"

# kernel functions: where neither kprobes nor fentry are there, refused with the reason
kprobes=false
[[ -e /sys/bus/event_source/devices/kprobe ]] && kprobes=true
if ! $kprobes; then
	nc_prog_snapshot
	status=0
	"$netcap" skb -f icmp_rcv@1 -w /dev/null 2>"$tmp/func.err" || status=$?
	[[ $status == 1 && $(cat "$tmp/func.err") == "netcap: \"icmp_rcv@1\": this kernel has no kprobes (no kprobe event source) and refuses fentry programs, so kernel functions cannot be hooked; use a tracepoint that carries the skb: "* ]] ||
		fail "icmp_rcv@1 without kprobes: exit $status, $(cat "$tmp/func.err")"
	[[ $(nc_progs_new) == 0 ]] || fail "icmp_rcv@1: a BPF program was left"
	echo "FUNC@N: this kernel has no kprobes and refuses fentry: refused with the reason"
	echo "kernel: all checks passed"
	exit 0
fi

# icmp_rcv@1 -e "host ...": the echo requests that reach ICMP in $b, as tcpdump sees them arrive
both icmp -f icmp_rcv@1 -i v1 --netns "$nsb" -e "host 10.96.0.1" -- "$b" -i v1 -Q in icmp and host 10.96.0.1
both icmp_kprobe -f icmp_rcv@1 --attach kprobe -i v1 --netns "$nsb" -e "host 10.96.0.1" -- \
	"$b" -i v1 -Q in icmp and host 10.96.0.1
how=$(capinfos "$tmp/icmp.pcapng" | sed -n 's/.*Description = .*(\(fentry\|kprobe\))$/\1/p' | head -1)
[[ $(capinfos "$tmp/icmp_kprobe.pcapng" | grep -c "Description = .*(kprobe)$") -ge 1 ]] ||
	fail "--attach kprobe: the interface does not say kprobe: $(capinfos "$tmp/icmp_kprobe.pcapng" | grep Description)"
if [[ $how == fentry ]]; then
	both icmp_fentry -f icmp_rcv@1 --attach fentry -i v1 --netns "$nsb" -e "host 10.96.0.1" -- \
		"$b" -i v1 -Q in icmp and host 10.96.0.1
else
	fail "icmp_rcv@1: hooked by '$how', but a kernel with BTF and kprobes has fentry too"
fi
echo "icmp_rcv@1: fentry by default, kprobe and fentry forced: the same packets"

# __dev_queue_xmit@1 -i v0 -t "-nnve": what tcpdump -nnve prints for the packets $a sends
start xmit -f __dev_queue_xmit@1 -i v0 --netns "$nsa" -e icmp -t "-nnve"
tcpdump_start "$a" -l -nnve -Q out -i v0 icmp >"$tmp/xmit.want"
traffic
finish xmit
grep -v '^$' "$tmp/xmit.want" | cut -d' ' -f2- >"$tmp/xmit.want.cut"
cut -d' ' -f2- "$tmp/xmit.out" >"$tmp/xmit.out.cut"
[[ -s $tmp/xmit.want.cut ]] || fail "xmit: tcpdump printed nothing"
diff -u "$tmp/xmit.want.cut" "$tmp/xmit.out.cut" || fail "__dev_queue_xmit@1 -t -nnve differs from tcpdump"
echo "__dev_queue_xmit@1 -t -nnve: $(grep -c ICMP "$tmp/xmit.out") packets printed as tcpdump prints them"

# dev_queue_xmit@1: a global function of its own in 5.10, an inline wrapper since (at most a
# local copy some file emitted, which fentry refuses)
if grep -qE "^[0-9a-f]+ T dev_queue_xmit\$" /proc/kallsyms; then
	both dqx -f dev_queue_xmit@1 -i v0 --netns "$nsa" -e icmp -- "$a" -i v0 -Q out icmp
else
	nc_prog_snapshot
	status=0
	"$netcap" skb -f dev_queue_xmit@1 -w /dev/null 2>"$tmp/dqx.err" || status=$?
	[[ $status == 1 && $(cat "$tmp/dqx.err") == 'netcap: no kernel function "dev_queue_xmit" in this kernel (an inline wrapper here); hook the function that serves it: __dev_queue_xmit@1' ]] ||
		fail "dev_queue_xmit@1: exit $status, $(cat "$tmp/dqx.err")"
	[[ $(nc_progs_new) == 0 ]] || fail "dev_queue_xmit@1: a BPF program was left"
	echo "dev_queue_xmit@1: an inline wrapper here, refused naming __dev_queue_xmit@1"
fi

# kfree_skb_reason@1 (5.17+): the drop with its reason
if grep -qE "^[0-9a-f]+ [tT] kfree_skb_reason\$" /proc/kallsyms &&
	bpftool btf dump file /sys/kernel/btf/vmlinux | grep -q "^\[[0-9]*\] FUNC 'kfree_skb_reason'"; then
	both reason -f kfree_skb_reason@1 -i v1 --netns "$nsb" -e "udp port 9" -- "$b" -i v1 -Q in udp port 9
	comment=$(tshark -r "$tmp/reason.pcapng" -T fields -e frame.comment 2>/dev/null | head -1)
	[[ $comment == *"drop reason NO_SOCKET"* ]] || fail "kfree_skb_reason@1: no drop reason in '$comment'"
	echo "kfree_skb_reason@1: drop reason NO_SOCKET"
else
	echo "kfree_skb_reason@1: not a function of this kernel (before 5.17)"
fi
echo "kernel: all checks passed"
