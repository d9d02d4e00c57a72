#!/usr/bin/env bash
# netcap mbuf --inject at functions of the pipeline (issue 16, docs/inproc.md "Function hooks"):
# fwd_burst@1@2 and fwd_one@1 of the nc_fwd fixture patched to jump into trampolines of the agent.
# Against a replay of a known pcap: byte-identical to the input and to the uprobe path's capture
# of the same replay, with the same interface names, direction, queue and comments (also -G's
# paths, chained mbufs and a compiled filter). Against nc_fwd forwarding net_null to net_null:
# after a capture the code of nc_fwd is its file's again; netcap SIGKILLed during captures and at
# random moments from its start (the patching included): nc_fwd survives, untraced, each function
# either original or jumping into a live trampoline (read through /proc/PID/mem), and the next
# capture works and puts the original bytes back; nc_fwd's own checksum holds and it exits 0.
# Refusals (a function shorter than the patch, bytes that cannot be relocated, a jump into the
# patched bytes, an offset where no function starts, a function twice, code another tool
# changed): one line each, exit 1, the text of nc_fwd and libc unchanged. USDT probes:
# test_mbuf_inject_usdt.sh.
# Usage: test_mbuf_inject_func.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_mbuf_inject_func.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
nc_inject_setup "$netcap"

# byte for byte, and the same records as through uprobes
for spec in fwd_burst@1@2 fwd_one@1 fwd_rx@2@ret fwd_rx@2@ret16; do
	name=${spec%%@*}
	[[ $spec != *ret16 ]] || name=fwd_rx16
	nc_rp_capture "$name" -- --inject -f "$spec" -c "$n"
	nc_rp_same "$name" "$tmp/in.hex"
	nc_rp_capture "${name}_uprobe" -- -f "$spec" -c "$n"
	nc_rp_same "${name}_uprobe" "$tmp/in.hex"
	[[ $(nc_rp_meta "$tmp/$name.pcapng") == "$(nc_rp_meta "$tmp/${name}_uprobe.pcapng")" ]] ||
		fail "$spec: metadata differs from the uprobe path's: $(diff <(nc_rp_meta "$tmp/$name.pcapng") <(nc_rp_meta "$tmp/${name}_uprobe.pcapng") | head -5)"
	[[ $(nc_rp_meta "$tmp/$name.pcapng" | cut -f1 | sort -u) == "nc_fwd[P]:${spec%%@*}" ]] ||
		fail "$spec: interface $(nc_rp_meta "$tmp/$name.pcapng" | cut -f1 | sort -u)"
	grep -qx "netcap: nc_fwd\[[0-9]*\]:${spec%%@*}: seen $n, matched $n, written $n, dropped 0 (ring full 0, unreadable 0)" \
		"$tmp/$name.err" || fail "$spec summary: $(cat "$tmp/$name.err")"
	capinfos "$tmp/$name.pcapng" | grep -q "in-process, at nc_fwd+0x[0-9a-f]*, patched to jump into a trampoline" ||
		fail "$spec: the interface description does not say where: $(capinfos "$tmp/$name.pcapng" | grep -i descr)"
done
echo "fwd_burst@1@2, fwd_one@1, fwd_rx@2@ret, fwd_rx@2@ret16: $n packets each, byte-identical to the input and to the uprobe path, same names, direction, queue, comments"

# OBJECT+0xOFF: fwd_burst by its file offset (its size from the unwind information)
off=$(nc_file_offset "$NC_FWD" fwd_burst)
[[ -n $off ]] || fail "no file offset of fwd_burst in $NC_FWD"
nc_rp_capture byoff -- --inject -f "nc_fwd+$off@1@2" -c "$n"
nc_rp_same byoff "$tmp/in.hex"
nc_rp_capture byoff_uprobe -- -f "nc_fwd+$off@1@2" -c "$n"
[[ $(nc_rp_meta "$tmp/byoff.pcapng") == "$(nc_rp_meta "$tmp/byoff_uprobe.pcapng")" &&
	$(nc_rp_meta "$tmp/byoff.pcapng" | cut -f1 | sort -u) == "nc_fwd[P]:nc_fwd+$off" ]] ||
	fail "nc_fwd+$off@1@2: metadata $(nc_rp_meta "$tmp/byoff.pcapng" | cut -f1 | sort -u), uprobes $(nc_rp_meta "$tmp/byoff_uprobe.pcapng" | cut -f1 | sort -u)"
echo "nc_fwd+$off@1@2 (fwd_burst by its offset): $n packets, byte-identical, the uprobe path's metadata"

# chains of 3 segments (fwd_one walks them), VLAN tags stripped after rx
nc_rp_capture seg --segments 3 --strip-vlan -- --inject -f fwd_one@1 -c "$n"
nc_rp_capture seg_uprobe --segments 3 --strip-vlan -- -f fwd_one@1 -c "$n"
nc_pcap_hex "$tmp/seg_uprobe.pcapng" >"$tmp/seg_uprobe.hex"
nc_rp_same seg "$tmp/seg_uprobe.hex"
[[ $(nc_rp_meta "$tmp/seg.pcapng") == "$(nc_rp_meta "$tmp/seg_uprobe.pcapng")" ]] || fail "segments: metadata differs"
echo "fwd_one@1 over 3-segment chains with stripped VLAN tags: the uprobe path's bytes and metadata"

# the compiled filter (function hooks have no direction: every stripped tag goes to its slow path)
tcpdump -r "$tmp/in.pcap" -w "$tmp/want.pcap" "tcp port 80 or vlan" 2>/dev/null
nc_pcap_hex "$tmp/want.pcap" >"$tmp/want.hex"
m=$(wc -l <"$tmp/want.hex")
[[ $m -gt 0 && $m -lt $n ]] || fail "the filter keeps $m of $n input packets"
nc_rp_capture filtered -- --inject -f fwd_burst@1@2 -e "tcp port 80 or vlan"
nc_rp_same filtered "$tmp/want.hex"
echo "filter \"tcp port 80 or vlan\" at fwd_burst@1@2: the same $m packets as tcpdump"

# -G through a burst pointer and two functions: the same paths as through uprobes
paths() { nc_fields "$1" -e frame.comment | grep -o "path: .*" | sed -E 's/[+][0-9.]+ ?[a-zµ]*s/+T/g' | sort | uniq -c; }
nc_rp_capture gather -- --inject -G -f rx_burst:0,fwd_burst@1@2,fwd_one@1 -c "$((3 * n))"
nc_rp_capture gather_uprobe -- -G -f rx_burst:0,fwd_burst@1@2,fwd_one@1 -c "$((3 * n))"
[[ -n $(paths "$tmp/gather.pcapng") && $(paths "$tmp/gather.pcapng") == "$(paths "$tmp/gather_uprobe.pcapng")" ]] ||
	fail "-G paths differ: $(diff <(paths "$tmp/gather.pcapng") <(paths "$tmp/gather_uprobe.pcapng") | head -6)"
echo "-G rx_burst:0,fwd_burst@1@2,fwd_one@1: $(paths "$tmp/gather.pcapng" | head -1 | sed 's/^ *//')"

# nc_fwd forwarding endlessly from here on
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || fail "nc_fwd did not start"
nc_fwd_go
pid=$NC_FWD_PID
[[ $(nc_code_state "$pid") == same ]] || fail "nc_fwd's code differs from its file before any capture: $(nc_code_state "$pid")"

"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret -c 20000 -w "$tmp/live.pcapng" 2>"$tmp/live.err" ||
	fail "capture on the forwarding nc_fwd: $(cat "$tmp/live.err")"
[[ $(capinfos -Mc "$tmp/live.pcapng" | awk '/Number of packets/ {print $NF}') == 20000 ]] ||
	fail "live capture: $(capinfos -c "$tmp/live.pcapng")"
[[ $(nc_code_state "$pid") == same ]] || fail "after a capture: $(nc_code_state "$pid")"
echo "20000 packets from the forwarding nc_fwd; its code is its file's again afterwards"

# netcap SIGKILLed while capturing: the functions keep jumping into trampolines that call nothing
for i in $(seq 5); do
	"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret -w /dev/null \
		--ready-file "$tmp/k$i.ready" 2>"$tmp/kill.err" &
	cap=$!
	nc_wait_file "$tmp/k$i.ready" 10 "$cap" || fail "kill $i: netcap did not attach: $(cat "$tmp/kill.err")"
	sleep 0.$((RANDOM % 5))
	kill -KILL "$cap"
	wait "$cap" 2>/dev/null || true
	_nc_alive "$pid" || fail "kill $i: nc_fwd died"
	t=$(nc_code_state "$pid") || fail "kill $i: $t"
	[[ $t == "jump fwd_burst jump fwd_one jump fwd_rx" ]] || fail "kill $i: $t"
	for _ in $(seq 100); do
		[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] && break
		sleep 0.05
	done
	[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] || fail "kill $i: the agent did not leave"
done
"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret -c 1000 -w "$tmp/after.pcapng" 2>"$tmp/after.err" ||
	fail "a capture after the kills: $(cat "$tmp/after.err")"
[[ $(nc_code_state "$pid") == same ]] || fail "the capture after the kills did not put the code back: $(nc_code_state "$pid")"
echo "netcap SIGKILLed 5 times while capturing: the functions jumped into live trampolines, the next capture reused them and put the original bytes back"

# ... and at random moments from its start (the injection, the patching, the capture), each time
# from the original code: a capture after each kill must put it back
kinds=()
for i in $(seq 20); do
	"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret -w /dev/null 2>/dev/null &
	cap=$!
	sleep "0.$(printf %03d $((RANDOM % 500)))"
	kill -KILL "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	_nc_alive "$pid" || fail "random kill $i: nc_fwd died"
	! nc_traced "$pid" || fail "random kill $i: a thread of nc_fwd stayed traced"
	t=$(nc_code_state "$pid") || fail "random kill $i: $t"
	[[ $t == same || $t == "jump fwd_burst jump fwd_one jump fwd_rx" ]] || fail "random kill $i: $t"
	kinds+=("$t")
	"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret -c 100 -w /dev/null 2>"$tmp/after.err" ||
		fail "a capture after random kill $i: $(cat "$tmp/after.err")"
	[[ $(nc_code_state "$pid") == same ]] || fail "random kill $i: the next capture left: $(nc_code_state "$pid")"
done
echo "netcap SIGKILLed 20 times at random moments: nc_fwd ran on, untraced; its functions were left: $(printf '%s\n' "${kinds[@]}" | sort | uniq -c | sed 's/^ *//' | paste -sd, -); each time the next capture put the code back"

# a function with a cold part (main.cold, where GCC put main's unlikely paths): its branches are
# scanned too (none lands in main's first 5 bytes), as the plan says; main patched and put back
read -r cold_val cold_size < <(nm -S "$NC_FWD" | awk '$4 == "main.cold" {print $1, $2}')
[[ -n $cold_size ]] || fail "nm finds no main.cold in $NC_FWD"
base=$(awk -v f="$(readlink -f "$NC_FWD")" '$6 == f && $3 == "00000000" {print $1; exit}' "/proc/$pid/maps")
want=$(printf ', cold part at %#x (%d bytes)' $((0x${base%%-*} + 0x$cold_val)) $((0x$cold_size)))
timeout -s INT 2 "$netcap" mbuf --inject --pid "$pid" -f main@1 -v -w /dev/null 2>"$tmp/cold.err" || true
grep -q "^netcap: plan: in-process: function at .* for point 0, argument 1$want\$" "$tmp/cold.err" ||
	fail "main@1: the plan does not name main.cold ($want): $(cat "$tmp/cold.err")"
grep -qx "netcap: 0 packets written (interrupted)" "$tmp/cold.err" || fail "main@1: $(cat "$tmp/cold.err")"
[[ $(nc_code_state "$pid") == same ]] || fail "main@1: the code changed: $(nc_code_state "$pid")"
echo "main@1: its cold part (main.cold, $((0x$cold_size)) bytes) scanned with it, main patched and put back"

# refusals: one line, exit 1, the code untouched
expect() { # MESSAGE SPEC
	local status=0
	"$netcap" mbuf --inject --pid "$pid" -f "$2" -w /dev/null -c 1 >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == 1 && $(sed -E 's/0x7f[0-9a-f]+/ADDR/g' "$tmp/bad.err") == "$1" ]] ||
		fail "$2: exit $status, said: $(cat "$tmp/bad.err") (want: $1)"
	[[ $(nc_code_state "$pid") == same ]] || fail "$2: the code changed: $(nc_code_state "$pid")"
}
expect "netcap: --inject: process $pid: hook spec \"libc.so.6:_IO_iter_end@1\": cannot be hooked in-process: libc.so.6:_IO_iter_end is 3 bytes long, shorter than the 5-byte jump of the patch; nothing written (capture it without --inject)" \
	libc.so.6:_IO_iter_end@1
expect "netcap: --inject: process $pid: hook spec \"libc.so.6:pkey_get@1\": cannot be hooked in-process: libc.so.6:pkey_get+0x7: bytes that do not decode; no branch into the patch can be ruled out; nothing written (capture it without --inject)" \
	libc.so.6:pkey_get@1
expect "netcap: --inject: process $pid: hook spec \"libc.so.6:sem_trywait@1\": cannot be hooked in-process: libc.so.6:sem_trywait+0x10: jne ADDR lands inside the 5 patched bytes (+0x3); nothing written (capture it without --inject)" \
	libc.so.6:sem_trywait@1
inside=$(printf %#x $((off + 1)))
expect "netcap: hook spec \"nc_fwd+$inside@1\": no function of $(readlink -f "$NC_FWD") starts at $inside (no symbol, no unwind information): --inject needs its size to patch it safely; capture it without --inject" \
	"nc_fwd+$inside@1"
expect "netcap: hook specs \"fwd_one@1\" and \"fwd_one@1@2\" patch the same function: give one" \
	fwd_one@1,fwd_one@1@2
# code another tool changed: a uprobe of the uprobe path's on fwd_burst (its int3 in the page)
"$netcap" mbuf --pid "$pid" -f fwd_burst@1@2 -w /dev/null --ready-file "$tmp/up.ready" 2>"$tmp/up.err" &
up=$!
nc_wait_file "$tmp/up.ready" 10 "$up" || fail "the uprobe capture did not attach: $(cat "$tmp/up.err")"
status=0
"$netcap" mbuf --inject --pid "$pid" -f fwd_burst@1@2 -w /dev/null -c 1 2>"$tmp/bad.err" || status=$?
kill -INT "$up"
wait "$up" || fail "the uprobe capture: $(cat "$tmp/up.err")"
[[ $status == 1 && $(cat "$tmp/bad.err") =~ ^netcap:\ --inject:\ process\ $pid:\ hook\ spec\ \"fwd_burst@1@2\":\ the\ code\ at\ \+[0-9]+\ differs\ from\ .*nc_fwd\ \(0xcc\ instead\ of\ 0x[0-9a-f]{2}:\ another\ tool\'s\ breakpoint\ or\ patch\)\;\ nothing\ written$ ]] ||
	fail "fwd_burst under a uprobe: exit $status, said: $(cat "$tmp/bad.err")"
[[ $(nc_code_state "$pid") == same ]] || fail "fwd_burst under a uprobe: the code changed: $(nc_code_state "$pid")"
echo "refusals: too short, not relocatable, a jump into the patch, an offset where no function starts, a function twice, code another tool changed (a uprobe's int3): one line each, the code unchanged"

status=0
nc_fwd_stop || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status: $(tail -3 "$NC_FWD_ERR")"
! grep -q "warning" "$NC_FWD_ERR" || fail "nc_fwd's checksum: $(grep warning "$NC_FWD_ERR")"
echo "nc_fwd exited 0, its checksum held (fwd_burst and fwd_one saw the same bytes)"
