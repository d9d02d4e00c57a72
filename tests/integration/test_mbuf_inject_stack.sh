#!/usr/bin/env bash
# netcap mbuf --inject -S (issue 16, docs/inproc.md "User stacks"): the user stack of each hook
# call, read by the agent inside nc_fwd, against the uprobe path's (bpf_get_stack) on the same
# replay of a known pcap. At function entries (fwd_burst@1@2, fwd_one@1, fwd_rx@2@ret16, fwd_burst
# by its file offset), USDT sites (usdt:nc_fwd:burst@1@2, usdt:nc_fwd:one@1 behind its semaphore)
# and the burst wrappers (rx_burst:0, tx_burst:0): each packet's interface and comment, stack frame
# for frame, the same through both paths, and the stacks reach main and libc; -t prints the same
# stacks under the same packets; netcap SIGKILLed during captures with -S leaves nc_fwd
# forwarding. On two lcores (the worker's stack a thread's, not [stack]):
# fwd_csum@1's stacks are the uprobe path's, except that the kernel walks on past the EAL's
# frame (built without frame pointers) into words of no stack of that thread, which the agent
# does not read.
# Usage: test_mbuf_inject_stack.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_mbuf_inject_stack.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
nc_inject_setup "$netcap"

# each packet's interface, direction, queue and comment (pid, tid, CPU made P, T, C), with counts
meta() { nc_rp_meta "$1" | sort | uniq -c; }

# fwd_burst's file offset: OBJECT+0xOFF names it without its symbol
off=$(nc_file_offset "$NC_FWD" fwd_burst)
[[ -n $off ]] || fail "no file offset of fwd_burst in $NC_FWD"

# two runs of the replay per path: one function can be hooked once per capture
run=0
for points in "fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret16,rx_burst:0,tx_burst:0" \
	"nc_fwd+$off@1@2,usdt:nc_fwd:burst@1@2,usdt:nc_fwd:one@1"; do
	run=$((run + 1))
	k=$(($(tr ',' '\n' <<<"$points" | wc -l) * n))
	nc_rp_capture "inj$run" -- --inject -S -f "$points" -c "$k"
	nc_rp_capture "up$run" -- -S -f "$points" -c "$k"
	meta "$tmp/inj$run.pcapng" >"$tmp/inj$run.meta"
	meta "$tmp/up$run.pcapng" >"$tmp/up$run.meta"
	diff -u "$tmp/up$run.meta" "$tmp/inj$run.meta" >"$tmp/meta$run.diff" ||
		fail "-S $points: the comments differ from the uprobe path's: $(head -c 3000 "$tmp/meta$run.diff")"
	# one stack per point, each packet of the replay under it, down to main and into libc
	while read -r count iface rest; do
		[[ $count == "$n" ]] || fail "-S $points: $iface: $count packets with this comment (want $n): $rest"
		[[ $rest =~ \\nstack:\\n\ \ .*\\n\ \ main\+0x[0-9a-f]+\ \(nc_fwd\.c:[0-9]+\)\\n\ \ libc\.so\.6\+0x[0-9a-f]+$ ]] ||
			fail "-S $points: $iface: the stack does not end in main and libc: $rest"
	done <"$tmp/inj$run.meta"
	[[ $(wc -l <"$tmp/inj$run.meta") == $(tr ',' '\n' <<<"$points" | wc -l) ]] ||
		fail "-S $points: $(wc -l <"$tmp/inj$run.meta") distinct comments: $(cat "$tmp/inj$run.meta")"
	grep -o 'stack:\\n  [^\\]*' "$tmp/inj$run.meta" | sed 's/stack:\\n  //' | paste -sd' ' >"$tmp/first$run"
	echo "-S $points: $k packets, the uprobe path's stacks frame for frame; frame 0: $(cat "$tmp/first$run")"
done
# frame 0 is where the uprobe path's probe sits: a few bytes into fwd_burst (after its first
# instruction, docs/hook-specs.md "Where the probe sits"), not the trampoline's entry
grep -q 'fwd_burst+0x[1-9a-f]' "$tmp/first1" || fail "frame 0 at fwd_burst: $(cat "$tmp/first1")"

# -t: the stack printed under each packet, the same lines through both paths
for path in inj up; do
	opts=()
	[[ $path == up ]] || opts=(--inject)
	nc_rp_fixture "text_$path"
	"$netcap" mbuf --ready-file "$tmp/text_$path.ready" --duration 60 --pid "$NC_FWD_PID" "${opts[@]}" \
		-S -f fwd_one@1 -c "$n" -t "-nn -t" >"$tmp/text_$path.out" 2>"$tmp/text_$path.err" &
	cap=$!
	nc_wait_file "$tmp/text_$path.ready" 20 "$cap" ||
		fail "-t $path: netcap did not attach: $(cat "$tmp/text_$path.err")"
	nc_fwd_go
	wait "$cap" || fail "-t $path: netcap exited $?: $(cat "$tmp/text_$path.err")"
	nc_fwd_wait || fail "-t $path: nc_fwd exited $?"
	sed -E 's/(pid|tid|cpu) [0-9]+/\1 N/g' "$tmp/text_$path.out" >"$tmp/text_$path.norm"
done
[[ $(grep -c $'^\tstack:$' "$tmp/text_inj.norm") == "$n" ]] ||
	fail "-t -S --inject: $(grep -c $'^\tstack:$' "$tmp/text_inj.norm") stacks for $n packets"
diff -u "$tmp/text_up.norm" "$tmp/text_inj.norm" >"$tmp/text.diff" ||
	fail "-t -S: --inject's text differs from the uprobe path's: $(head -c 2000 "$tmp/text.diff")"
echo "-t -S at fwd_one@1: $n packets, each with the uprobe path's stack under it"

# netcap SIGKILLed while the agent walks stacks (every hook kind at once), 5 times: nc_fwd
# forwards on, untraced; the next capture has its stacks and leaves the code its file's
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || fail "nc_fwd did not start"
nc_fwd_go
pid=$NC_FWD_PID
hooks=fwd_burst@1@2,fwd_one@1,fwd_rx@2@ret,tx_burst:0
for i in $(seq 5); do
	"$netcap" mbuf --inject -S --pid "$pid" -f "$hooks" -w /dev/null --ready-file "$tmp/k$i.ready" 2>"$tmp/kill.err" &
	cap=$!
	nc_wait_file "$tmp/k$i.ready" 10 "$cap" || fail "kill $i: netcap did not attach: $(cat "$tmp/kill.err")"
	sleep 0.$((RANDOM % 5 + 1))
	kill -KILL "$cap"
	wait "$cap" 2>/dev/null || true
	_nc_alive "$pid" || fail "nc_fwd died when netcap was killed ($i) during a capture with -S"
done
! nc_traced "$pid" || fail "a thread of nc_fwd stayed traced"
"$netcap" mbuf --inject -S --pid "$pid" -f "$hooks" -c 400 -w "$tmp/after.pcapng" 2>"$tmp/after.err" ||
	fail "the capture after the kills: $(cat "$tmp/after.err")"
k=$(nc_fields "$tmp/after.pcapng" -e frame.comment | grep -c 'stack:\\n  .*\\n  main+0x') || true
[[ $k == 400 ]] ||
	fail "the capture after the kills: $k of 400 packets with a stack down to main; the others: $(nc_fields "$tmp/after.pcapng" -e frame.comment | grep -v 'stack:\\n  .*\\n  main+0x' | sort | uniq -c | head -3)"
s=$(nc_code_state "$pid") || fail "after the kills: $s"
[[ $s == same ]] || fail "after the kills: nc_fwd's code $s"
kill -INT "$pid"
nc_fwd_wait 20 || fail "nc_fwd exited $?: $(tail -3 "$NC_FWD_ERR")"
echo "netcap SIGKILLed 5 times while capturing with -S at $hooks: nc_fwd forwarded on and exited 0, its code its file's after the next capture (400 packets, each with its stack)"

# two lcores: the worker's stack is a thread's (an anonymous mapping bounded by its thread
# pointer), the main lcore's [stack]
if python3 -c 'import os, sys; sys.exit(not {0, 1} <= os.sched_getaffinity(0))'; then
	ports=(--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1" --vdev "net_pcap1,rx_pcap=$tmp/in.pcap,infinite_rx=1")
	# a rate each lcore keeps also under the uprobe path's traps (the pacing catches up on
	# what it fell behind, which would flood the capture)
	nc_fwd_start --lcores 2 --count 6000000 --rate 2000 --idle-sleep 100 -- -l 0-1 "${ports[@]}" ||
		fail "nc_fwd did not start"
	pid=$NC_FWD_PID
	nc_fwd_go
	for path in inj up; do
		opts=()
		[[ $path == up ]] || opts=(--inject)
		# ARP (3 of the corpus' 130 packets): ~46 a second from each lcore
		timeout 60 "$netcap" mbuf "${opts[@]}" --pid "$pid" -S -f fwd_csum@1 -e arp --duration 2 \
			-w "$tmp/lc_$path.pcapng" 2>"$tmp/lc_$path.err" ||
			fail "two lcores, $path: netcap exited $?: $(cat "$tmp/lc_$path.err")"
		nc_fields "$tmp/lc_$path.pcapng" -e frame.comment | sed -E 's/tid [0-9]+ cpu [0-9]+/tid T cpu C/' |
			sort -u >"$tmp/lc_$path.stacks"
	done
	kill -USR1 "$pid" # the rest of the count at full speed
	nc_fwd_wait 60 || fail "two lcores: nc_fwd exited $?: $(tail -3 "$NC_FWD_ERR")"
	[[ $(wc -l <"$tmp/lc_inj.stacks") == 2 ]] ||
		fail "two lcores: $(wc -l <"$tmp/lc_inj.stacks") stacks at fwd_csum (want one per lcore): $(cat "$tmp/lc_inj.stacks")"
	# the uprobe path's, less the frames the kernel read past the EAL's: bare addresses, in no file
	sed -E 's/(\\n  librte_eal[^\\]*)(\\n  0x[0-9a-f]+)+$/\1/' "$tmp/lc_up.stacks" | sort -u >"$tmp/lc_up.cut"
	diff -u "$tmp/lc_up.cut" "$tmp/lc_inj.stacks" >"$tmp/lc.diff" ||
		fail "two lcores: the stacks at fwd_csum differ from the uprobe path's: $(cat "$tmp/lc.diff")"
	grep -q 'run_lcore+0x[0-9a-f]* (nc_fwd.c:[0-9]*)\\n  librte_eal' "$tmp/lc_inj.stacks" ||
		fail "two lcores: no stack from the worker lcore (run_lcore called by the EAL): $(cat "$tmp/lc_inj.stacks")"
	echo "two lcores, fwd_csum@1: the main lcore's and the worker's stacks, the uprobe path's (less $(($(grep -o '\\n  0x' "$tmp/lc_up.stacks" | wc -l))) frames past the EAL's that the kernel read outside the worker's stack)"
else
	echo "two lcores: skipped (EAL -l 0-1 needs CPUs 0 and 1; this test may run on $(taskset -cp $$ | sed 's/.*: //'))"
fi
