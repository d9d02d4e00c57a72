#!/usr/bin/env bash
# netcap mbuf at the nc_fwd fixture's USDT probes and with user stacks (-S): a capture through
# usdt:nc_fwd:burst@1@2 (array and count) and usdt:nc_fwd:one@1 (a memory argument, a probe
# that fires only while its semaphore is raised) holds exactly the replayed input; the semaphore
# is 1 while netcap is attached and 0 after; netcap list shows the probes as readelf does; -S
# names fwd_one and its callers in nc_fwd.c (with their source lines) in the pcapng comment and
# under each packet in -t; bad USDT specs get one line, exit 1, nothing attached.
# Usage: test_usdt.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_usdt.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
NC_RP_DIR=$tmp NC_RP_NETCAP=$netcap
nc_replay_input "$tmp"
n=$NC_IN_COUNT
src=$here/../apps/nc_fwd.c

# the BPF programs of the netcap processes this test started (others may run in parallel)
remember_progs() { nc_remember_progs "$@"; }
probes_left() { nc_progs_left; }

start_fixture() { nc_rp_fixture "$@"; }

start_netcap() { nc_rp_start "$@"; }

finish() { nc_rp_finish "$@"; }

same_as() { nc_rp_same "$@"; }


# the 2-byte semaphore nc_fwd_one_semaphore of process $1, read from its memory (PIE: the
# executable's first mapping is its load base)
semaphore() {
	local pid=$1 off base
	off=$(nm "$NC_FWD" | awk '$3 == "nc_fwd_one_semaphore" {print $1}')
	base=$(awk -v exe="$(readlink "/proc/$pid/exe")" '$6 == exe {split($1, a, "-"); print a[1]; exit}' "/proc/$pid/maps")
	dd if="/proc/$pid/mem" iflag=skip_bytes skip=$((0x$base + 0x$off)) bs=2 count=1 2>/dev/null |
		od -An -tu2 | tr -d ' '
}

# USDT: an array and a count in registers (8@%r14 2@%bx or whatever the compiler chose), and one
# mbuf in memory at a register (8@(%rbx)) behind a semaphore
start_fixture burst
start_netcap burst --pid "$NC_FWD_PID" -w "$tmp/burst.pcapng" -f usdt:nc_fwd:burst@1@2 -c "$n"
finish burst
same_as burst "$tmp/in.hex"
# the same probe named with its file (usdt:OBJECT:PROVIDER:NAME, as for a probe in a library)
start_fixture objburst
start_netcap objburst --pid "$NC_FWD_PID" -w "$tmp/objburst.pcapng" -f usdt:nc_fwd:nc_fwd:burst@1@2 -c "$n"
finish objburst
same_as objburst "$tmp/in.hex"
start_fixture one
[[ $(semaphore "$NC_FWD_PID") == 0 ]] || fail "the semaphore is raised before netcap attaches"
start_netcap one --pid "$NC_FWD_PID" -w "$tmp/one.pcapng" -f usdt:nc_fwd:one@1 -c "$n"
[[ $(semaphore "$NC_FWD_PID") == 1 ]] || fail "netcap attached but the semaphore is $(semaphore "$NC_FWD_PID")"
pid=$NC_FWD_PID
finish one
same_as one "$tmp/in.hex"
[[ $(nc_fields "$tmp/one.pcapng" -e frame.interface_name | sort -u) == "nc_fwd[$pid]:usdt:nc_fwd:one" ]] ||
	fail "USDT interface name: $(nc_fields "$tmp/one.pcapng" -e frame.interface_name | sort -u)"
desc=$(nc_fields "$tmp/one.pcapng" -e frame.interface_description | sort -u)
site=$(readelf -n "$NC_FWD" | awk '/Name: one$/ {getline; sub(/,$/, "", $2); print $2; exit}')
[[ $desc == "netcap mbuf capture at usdt:nc_fwd:one in process $pid (probe at the USDT site nc_fwd+"* ]] ||
	fail "USDT interface description: $desc"
echo "USDT: usdt:nc_fwd:burst@1@2, usdt:nc_fwd:nc_fwd:burst@1@2 and usdt:nc_fwd:one@1 (semaphore 0 -> 1 while attached, site $site) captured $n packets each, byte-identical"

# the semaphore goes back to 0 when netcap detaches (SIGINT mid-run)
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
start_netcap sem --pid "$NC_FWD_PID" -w "$tmp/sem.pcapng" -f usdt:nc_fwd:one@1,usdt:nc_fwd:burst@1@2
[[ $(semaphore "$NC_FWD_PID") == 1 ]] || fail "semaphore while attached: $(semaphore "$NC_FWD_PID")"
kill -INT "$nc_pid"
wait "$nc_pid" || fail "SIGINT: netcap failed: $(cat "$tmp/sem.err")"
[[ $(semaphore "$NC_FWD_PID") == 0 ]] || fail "semaphore after netcap exited: $(semaphore "$NC_FWD_PID")"
[[ $(probes_left) == 0 ]] || fail "SIGINT: probes left"

# netcap list: the probes as readelf shows them
"$netcap" list --pid "$NC_FWD_PID" >"$tmp/list.out"
grep -qxF "USDT probes in $(readlink -f "$NC_FWD") (usdt:...@N: argument N is the mbuf; @N@M: the array and the count):" \
	"$tmp/list.out" || fail "netcap list: no USDT header: $(cat "$tmp/list.out")"
readelf -n "$NC_FWD" | awk '/Name: / {name=$2} /Arguments: / {$1=""; sub(/^ /, ""); print name "|" $0}' >"$tmp/notes"
[[ $(wc -l <"$tmp/notes") == 2 ]] || fail "readelf shows $(wc -l <"$tmp/notes") probes, want 2"
while IFS='|' read -r name args; do
	nargs=$(wc -w <<<"$args")
	want="  usdt:nc_fwd:$name    $nargs argument(s): $args, semaphore"
	grep -qxF "$want" "$tmp/list.out" || fail "netcap list lacks '$want': $(grep usdt "$tmp/list.out")"
done <"$tmp/notes"
nc_fwd_stop >/dev/null || true
echo "netcap list: both probes with readelf's arguments; the semaphore is 0 again after netcap exits"

# -S: the user stack at fwd_one names it and its callers, with the lines of the calls in nc_fwd.c
line_of() { grep -nF "$1" "$src" | head -1 | cut -d: -f1; }
l_fwd=$(line_of "fwd_one(pkts[i]);")
l_run=$(line_of "forward(peers[i], pkts, n);")
l_main=$(line_of "run(ports, peers, nb_ports);")
start_fixture stack
start_netcap stack --pid "$NC_FWD_PID" -w "$tmp/stack.pcapng" -f fwd_one@1 -S -c "$n"
pid=$NC_FWD_PID
finish stack
same_as stack "$tmp/in.hex"
nc_fields "$tmp/stack.pcapng" -e frame.comment | sed 's/ cpu [0-9]* / cpu N /' | sort -u >"$tmp/stacks"
[[ $(wc -l <"$tmp/stacks") == 1 ]] || fail "-S: more than one stack: $(cat "$tmp/stacks")"
re="^pid $pid tid $pid cpu N fwd_one\\\\nstack:\\\\n  fwd_one\\+0x[0-9a-f]+ \\(nc_fwd.c:[0-9]+\\)\\\\n  forward \\(inlined\\) \\(nc_fwd.c:$l_fwd\\)\\\\n  run \\(inlined\\) \\(nc_fwd.c:$l_run\\)\\\\n  main\\+0x[0-9a-f]+ \\(nc_fwd.c:$l_main\\)\\\\n"
[[ $(cat "$tmp/stacks") =~ $re ]] || fail "-S: stack at fwd_one: $(cat "$tmp/stacks"), want /$re/"
echo "-S: every packet's comment has fwd_one <- forward (line $l_fwd) <- run (line $l_run) <- main (line $l_main); capture byte-identical"

# -S with -t: the stack under each packet
start_fixture text
"$netcap" mbuf --ready-file "$tmp/text.ready" --pid "$NC_FWD_PID" -f usdt:nc_fwd:burst@1@2 -S \
	-c "$n" -t "-nn -t" >"$tmp/text.out" 2>"$tmp/text.err" &
nc_pid=$!
nc_wait_file "$tmp/text.ready" 20 "$nc_pid" ||
	fail "-t -S: netcap exited early or did not attach within 20 s: $(cat "$tmp/text.err")"
remember_progs "$nc_pid"
finish text
[[ $(grep -c "^	stack:$" "$tmp/text.out") == "$n" ]] || fail "-t -S: $(grep -c "^	stack:$" "$tmp/text.out") stacks for $n packets"
[[ $(grep -cxF "	  run (inlined) (nc_fwd.c:$l_run)" "$tmp/text.out") == "$n" ]] ||
	fail "-t -S: stacks lack run: $(head -8 "$tmp/text.out")"
grep -v -e "^	stack:$" -e "^	  " "$tmp/text.out" >"$tmp/text.pkts"
tcpdump -r "$tmp/in.pcap" -nn -t >"$tmp/text.want" 2>/dev/null
diff -u "$tmp/text.want" "$tmp/text.pkts" || fail "-t -S: packet lines differ from tcpdump's"
echo "-t -S: tcpdump's $n lines, each with its stack under it"

# bad USDT specs: one line, exit 1, nothing attached
start_fixture bad
expect_error() { # MESSAGE ARGS...
	local want=$1 status=0
	shift
	"$netcap" mbuf -w "$tmp/bad.pcapng" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == 1 ]] || fail "netcap mbuf $*: exit $status, want 1"
	[[ $(cat "$tmp/bad.err") == "$want" ]] || fail "netcap mbuf $*: '$(cat "$tmp/bad.err")', want '$want'"
	[[ $(semaphore "$NC_FWD_PID") == 0 ]] || fail "netcap mbuf $*: the semaphore stayed raised"
	kill -0 "$NC_FWD_PID" || fail "netcap mbuf $*: the fixture died"
}
one_args=$(awk -F'|' '$1 == "one" {print $2}' "$tmp/notes")
expect_error "netcap: no USDT probe nc_fwd:nope in /proc/$NC_FWD_PID/exe or its libraries; try: netcap list --pid $NC_FWD_PID" \
	-f usdt:nc_fwd:nope@1 --pid "$NC_FWD_PID"
expect_error "netcap: hook spec \"usdt:nc_fwd:one@1@2\": USDT probe nc_fwd:one: the probe has 1 argument(s) ($one_args), not 2" \
	-f usdt:nc_fwd:one@1@2 --pid "$NC_FWD_PID"
expect_error "netcap: hook spec \"usdt:nc_fwd:one@1@ret\": a USDT probe is not a call that returns: give the mbuf argument (usdt:P:N@1) or the array and the count (usdt:P:N@1@2); see: netcap mbuf --help" \
	-f usdt:nc_fwd:one@1@ret --pid "$NC_FWD_PID"
expect_error "netcap: hook spec \"usdt:one@1\": a USDT probe is usdt:PROVIDER:NAME (or usdt:OBJECT:PROVIDER:NAME); see: netcap mbuf --help" \
	-f usdt:one@1 --pid "$NC_FWD_PID"
ethdev=$(awk '$6 ~ /librte_ethdev/ {print $6; exit}' "/proc/$NC_FWD_PID/maps")
expect_error "netcap: no USDT probe nc_fwd:one in $ethdev; try: netcap list --pid $NC_FWD_PID" \
	-f "usdt:${ethdev##*/}:nc_fwd:one@1" --pid "$NC_FWD_PID"
nc_fwd_stop >/dev/null || true
echo "bad input: 5 refusals with their messages, nothing attached, fixture unharmed"
echo "usdt: all checks passed"
