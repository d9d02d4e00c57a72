#!/usr/bin/env bash
# netcap mbuf --inject at the nc_fwd fixture's USDT probes (issue 16, docs/inproc.md "USDT
# probes"): each site patched to jump into a trampoline that reads the probe's arguments where its
# note says. Against a replay of a known pcap: usdt:nc_fwd:burst@1@2 (array and count in
# registers) and usdt:nc_fwd:one@1 (memory at a register; its site follows the je of its
# semaphore test, which lands right after the nop: the patch starts at the je, and the probe fires
# only while the agent holds the semaphore) are byte-identical to the input and to the uprobe
# path's capture of the same replay, with the same interface names, direction, queue, comments
# and summary line; so is a capture with rx_burst:0 and fwd_one@1 besides. Against nc_fwd
# forwarding net_null to net_null, both probes: the semaphores 1 while netcap captures and 0 after,
# also after netcap is SIGKILLed while capturing and at random moments from its start (the sites
# then original or jumping into trampolines, nc_fwd untraced); the code of nc_fwd is its file's
# again after each next capture (read through /proc/PID/mem). Refusals: one line, exit 1, the
# code and the semaphores untouched. nc_fwd's own checksum holds and it exits 0.
# Usage: test_mbuf_inject_usdt.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_mbuf_inject_usdt.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
nc_inject_setup "$netcap"
summary() { sed -E 's/\[[0-9]+\]/[P]/' "$1"; }

# the 2-byte semaphore $2 of process $1, read from its memory (PIE: the executable's first
# mapping is its load base)
semaphore() {
	local pid=$1 off base
	off=$(nm "$NC_FWD" | awk -v s="$2" '$3 == s {print $1}')
	base=$(awk -v exe="$(readlink "/proc/$pid/exe")" '$6 == exe {split($1, a, "-"); print a[1]; exit}' "/proc/$pid/maps")
	dd if="/proc/$pid/mem" iflag=skip_bytes skip=$((0x$base + 0x$off)) bs=2 count=1 2>/dev/null |
		od -An -tu2 | tr -d ' '
}
# "same" when every executable mapping of nc_fwd holds its file's bytes, else where each run of
# changed bytes starts (5 bytes at least: a patch) and its first byte: "nc_fwd+0x3089:e9 ..."
text() {
	python3 - "$1" <<'PY'
import sys
pid = sys.argv[1]
out = []
with open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in open(f"/proc/{pid}/maps"):
        m = line.split()
        if len(m) < 6 or not m[1].startswith('r-x') or not m[5].endswith('nc_fwd'):
            continue
        lo, hi = (int(x, 16) for x in m[0].split('-'))
        off = int(m[2], 16)
        mem.seek(lo)
        got = mem.read(hi - lo)
        with open(m[5], "rb") as f:
            f.seek(off)
            want = f.read(hi - lo)
        got = got[:len(want)]
        d = 0
        while d < len(got):
            if got[d] == want[d]:
                d += 1
                continue
            # a patch: 5 bytes from a jmp; report where it starts
            out.append(f"nc_fwd+{off + d:#x}:{got[d]:02x}")
            d += 5
print(" ".join(out) if out else "same")
PY
}

# byte for byte, and the same records and summary as through uprobes
spec=usdt:nc_fwd:burst@1@2
nc_rp_capture burst -- --inject -f "$spec" -c "$n"
nc_rp_same burst "$tmp/in.hex"
nc_rp_capture burst_uprobe -- -f "$spec" -c "$n"
nc_rp_same burst_uprobe "$tmp/in.hex"
[[ $(nc_rp_meta "$tmp/burst.pcapng") == "$(nc_rp_meta "$tmp/burst_uprobe.pcapng")" ]] ||
	fail "$spec: metadata differs from the uprobe path's: $(diff <(nc_rp_meta "$tmp/burst.pcapng") <(nc_rp_meta "$tmp/burst_uprobe.pcapng") | head -5)"
[[ $(nc_rp_meta "$tmp/burst.pcapng" | cut -f1 | sort -u) == "nc_fwd[P]:usdt:nc_fwd:burst" ]] ||
	fail "$spec: interface $(nc_rp_meta "$tmp/burst.pcapng" | cut -f1 | sort -u)"
grep -qx "netcap: nc_fwd\[[0-9]*\]:usdt:nc_fwd:burst: seen $n, matched $n, written $n, dropped 0 (ring full 0, unreadable 0)" \
	"$tmp/burst.err" || fail "$spec summary: $(cat "$tmp/burst.err")"
[[ $(summary "$tmp/burst.err") == "$(summary "$tmp/burst_uprobe.err")" ]] ||
	fail "$spec: summary differs from the uprobe path's: $(cat "$tmp/burst.err") / $(cat "$tmp/burst_uprobe.err")"
site=$(readelf -n "$NC_FWD" | awk '/Name: burst$/ {getline; sub(/,$/, "", $2); print $2; exit}')
site=$(printf %#x $((site))) # its file offset too: nc_fwd's text is mapped at its file offset
capinfos "$tmp/burst.pcapng" | grep -q "in-process, at the USDT site nc_fwd+0x[0-9a-f]* (main+0x[0-9a-f]*), patched to jump into a trampoline" ||
	fail "$spec: the interface description does not say where: $(capinfos "$tmp/burst.pcapng" | grep -i descr)"
echo "$spec (site $site): $n packets, byte-identical to the input and to the uprobe path, same names, direction, queue, comments, summary"

# usdt:nc_fwd:one@1 (8@(%rbx) with GCC 12: memory at a register) sits behind "if (nc_fwd_one_semaphore)":
# its je lands right after the nop, so the patch starts at the je; the site runs only while the
# agent holds the semaphore
nc_rp_capture one -- --inject -f usdt:nc_fwd:one@1 -c "$n"
nc_rp_same one "$tmp/in.hex"
nc_rp_capture one_uprobe -- -f usdt:nc_fwd:one@1 -c "$n"
[[ $(nc_rp_meta "$tmp/one.pcapng") == "$(nc_rp_meta "$tmp/one_uprobe.pcapng")" ]] ||
	fail "usdt:nc_fwd:one@1: metadata differs from the uprobe path's: $(diff <(nc_rp_meta "$tmp/one.pcapng") <(nc_rp_meta "$tmp/one_uprobe.pcapng") | head -5)"
[[ $(summary "$tmp/one.err") == "$(summary "$tmp/one_uprobe.err")" ]] ||
	fail "usdt:nc_fwd:one@1: summary differs: $(cat "$tmp/one.err") / $(cat "$tmp/one_uprobe.err")"
one_site=$(readelf -n "$NC_FWD" | awk '/Name: one$/ {getline; sub(/,$/, "", $2); print $2; exit}')
one_site=$(printf %#x $((one_site)))
# the layout this case is about: "je +1" right before the nop (nc_fwd's text is mapped at its file
# offset: a link-time address is a file offset)
[[ $(od -An -tx1 -j $((one_site - 2)) -N 2 "$NC_FWD" | tr -d ' \n') == 7401 ]] ||
	fail "the site of usdt:nc_fwd:one ($one_site) does not follow a 2-byte je over it: $(objdump -d "$NC_FWD" --start-address=$((one_site - 8)) --stop-address=$((one_site + 1)) | tail -3)"
capinfos "$tmp/one.pcapng" | grep -q "in-process, at the USDT site nc_fwd+$one_site (main+0x[0-9a-f]*), patched to jump into a trampoline" ||
	fail "usdt:nc_fwd:one@1: the interface description: $(capinfos "$tmp/one.pcapng" | grep -i descr)"
echo "usdt:nc_fwd:one@1 (site $one_site behind its semaphore's je): $n packets, byte-identical to the input, the uprobe path's metadata and summary"

# with a function hook and a burst pointer in the same capture: the uprobe path's records
nc_rp_capture mixed -- --inject -f "rx_burst:0,$spec,fwd_one@1" -c "$((3 * n))"
nc_rp_capture mixed_uprobe -- -f "rx_burst:0,$spec,fwd_one@1" -c "$((3 * n))"
[[ $(nc_rp_meta "$tmp/mixed.pcapng" | sort) == "$(nc_rp_meta "$tmp/mixed_uprobe.pcapng" | sort)" ]] ||
	fail "rx_burst:0,$spec,fwd_one@1: metadata differs from the uprobe path's: $(diff <(nc_rp_meta "$tmp/mixed.pcapng" | sort) <(nc_rp_meta "$tmp/mixed_uprobe.pcapng" | sort) | head -5)"
[[ $(nc_pcap_hex "$tmp/mixed.pcapng" | sort) == "$(sort "$tmp/in.hex" "$tmp/in.hex" "$tmp/in.hex")" ]] ||
	fail "rx_burst:0,$spec,fwd_one@1: the packets are not the input three times"
[[ $(summary "$tmp/mixed.err") == "$(summary "$tmp/mixed_uprobe.err")" ]] ||
	fail "rx_burst:0,$spec,fwd_one@1: summary differs: $(cat "$tmp/mixed.err") / $(cat "$tmp/mixed_uprobe.err")"
echo "rx_burst:0,$spec,fwd_one@1: each packet three times, the uprobe path's metadata and summary"

# nc_fwd forwarding endlessly from here on
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || fail "nc_fwd did not start"
nc_fwd_go
pid=$NC_FWD_PID
[[ $(text "$pid") == same ]] || fail "nc_fwd's code differs from its file before any capture: $(text "$pid")"
[[ $(semaphore "$pid" nc_fwd_burst_semaphore) == 0 ]] || fail "the semaphore is raised before any capture"

both=$spec,usdt:nc_fwd:one@1
sems() { echo "$(semaphore "$pid" nc_fwd_burst_semaphore) $(semaphore "$pid" nc_fwd_one_semaphore)"; }
"$netcap" mbuf --inject --pid "$pid" -f "$both" -w "$tmp/live.pcapng" --ready-file "$tmp/live.ready" 2>"$tmp/live.err" &
cap=$!
nc_wait_file "$tmp/live.ready" 10 "$cap" || fail "netcap did not attach: $(cat "$tmp/live.err")"
[[ $(sems) == "1 1" ]] || fail "while capturing the semaphores are $(sems)"
one_jcc=$(printf %#x $((one_site - 2))) # the patch starts at the je over the nop
[[ $(text "$pid") == "nc_fwd+$site:e9 nc_fwd+$one_jcc:e9" ]] || fail "while capturing: $(text "$pid")"
sleep 0.5
kill -INT "$cap"
wait "$cap" || fail "the live capture: $(cat "$tmp/live.err")"
got=$(capinfos -Mc "$tmp/live.pcapng" | awk '/Number of packets/ {print $NF}')
[[ $got -gt 0 ]] || fail "live capture: no packets"
[[ $(sems) == "0 0" ]] || fail "after the capture the semaphores are $(sems)"
[[ $(text "$pid") == same ]] || fail "after a capture: $(text "$pid")"
[[ $(nc_fields "$tmp/live.pcapng" -e frame.interface_name | sed -E 's/\[[0-9]+\]/[P]/' | sort -u | paste -sd,) == "nc_fwd[P]:usdt:nc_fwd:burst,nc_fwd[P]:usdt:nc_fwd:one" ]] ||
	fail "live capture: interfaces $(nc_fields "$tmp/live.pcapng" -e frame.interface_name | sort -u | paste -sd,)"
echo "forwarding nc_fwd, $both: $got packets from both probes; the sites jumped into trampolines and both semaphores were 1 while capturing; afterwards the code is its file's and the semaphores 0"

# netcap SIGKILLed while capturing: the agent lowers the semaphore when it leaves
for i in 1 2 3; do
	"$netcap" mbuf --inject --pid "$pid" -f "$both" -w /dev/null --ready-file "$tmp/k$i.ready" 2>"$tmp/kill.err" &
	cap=$!
	nc_wait_file "$tmp/k$i.ready" 10 "$cap" || fail "kill $i: netcap did not attach: $(cat "$tmp/kill.err")"
	sleep 0.$((RANDOM % 5))
	kill -KILL "$cap"
	wait "$cap" 2>/dev/null || true
	_nc_alive "$pid" || fail "kill $i: nc_fwd died"
	for _ in $(seq 100); do
		[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] && break
		sleep 0.05
	done
	[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] || fail "kill $i: the agent did not leave"
	[[ $(sems) == "0 0" ]] || fail "kill $i: the semaphores stayed $(sems)"
	t=$(text "$pid")
	[[ $t == same || $t == "nc_fwd+$site:e9 nc_fwd+$one_jcc:e9" ]] || fail "kill $i: $t"
done
"$netcap" mbuf --inject --pid "$pid" -f "$both" -c 1000 -w "$tmp/after.pcapng" 2>"$tmp/after.err" ||
	fail "a capture after the kills: $(cat "$tmp/after.err")"
[[ $(text "$pid") == same && $(sems) == "0 0" ]] ||
	fail "the capture after the kills: $(text "$pid"), semaphores $(sems)"
echo "netcap SIGKILLed 3 times while capturing $both: the agent lowered both semaphores each time; the next capture reused the patched sites and put the code back"

# a capture killed at one probe leaves its site jumping into a trampoline; a capture of the other
# probe, whose site is in the same function (main), recognises that jump as an earlier
# capture's (a jmp into the start of a trampoline of the agent's, whose slot holds the file's
# bytes), takes the function's bytes from the file and puts that site back in its own stop
for pair in "usdt:nc_fwd:one@1 $spec nc_fwd+$one_jcc:e9" "$spec usdt:nc_fwd:one@1 nc_fwd+$site:e9"; do
	read -r first second left <<<"$pair"
	rm -f "$tmp/st.ready"
	"$netcap" mbuf --inject --pid "$pid" -f "$first" -w /dev/null --ready-file "$tmp/st.ready" 2>"$tmp/st.err" &
	cap=$!
	nc_wait_file "$tmp/st.ready" 10 "$cap" || fail "$first: netcap did not attach: $(cat "$tmp/st.err")"
	kill -KILL "$cap"
	wait "$cap" 2>/dev/null || true
	for _ in $(seq 100); do
		[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] && break
		sleep 0.05
	done
	[[ $(text "$pid") == "$left" ]] || fail "$first killed: the code is $(text "$pid"), not $left"
	"$netcap" mbuf --inject --pid "$pid" -f "$second" -c 1000 -w "$tmp/st.pcapng" 2>"$tmp/st.err" ||
		fail "$second after $first was killed: $(cat "$tmp/st.err")"
	[[ $(capinfos -Mc "$tmp/st.pcapng" | awk '/Number of packets/ {print $NF}') == 1000 ]] ||
		fail "$second after $first was killed: not 1000 packets"
	[[ $(text "$pid") == same && $(sems) == "0 0" ]] ||
		fail "$second after $first was killed: $(text "$pid"), semaphores $(sems)"
done
echo "a capture of one probe SIGKILLed, then one of the other probe of the same function (both ways): 1000 packets, the first site's jump recognised and put back, the code its file's"

# ... and at random moments from its start (the injection, the patching, the capture): nc_fwd
# runs on, untraced, each site original or jumping into a trampoline, the semaphores 0 once the
# agent has left; the next capture puts the code back
kinds=()
for i in $(seq 10); do
	"$netcap" mbuf --inject --pid "$pid" -f "$both" -w /dev/null 2>/dev/null &
	cap=$!
	sleep "0.$(printf %03d $((RANDOM % 500)))"
	kill -KILL "$cap" 2>/dev/null || true
	wait "$cap" 2>/dev/null || true
	_nc_alive "$pid" || fail "random kill $i: nc_fwd died"
	! grep -q "TracerPid:[[:space:]]*[1-9]" /proc/"$pid"/task/*/status 2>/dev/null ||
		fail "random kill $i: a thread of nc_fwd stayed traced"
	for _ in $(seq 100); do
		[[ $(grep -c netcap-inproc "/proc/$pid/maps") == 0 ]] && break
		sleep 0.05
	done
	[[ $(sems) == "0 0" ]] || fail "random kill $i: the semaphores stayed $(sems)"
	t=$(text "$pid")
	[[ $t =~ ^(same|nc_fwd\+$site:e9|nc_fwd\+$one_jcc:e9|nc_fwd\+$site:e9\ nc_fwd\+$one_jcc:e9)$ ]] || fail "random kill $i: $t"
	kinds+=("$t")
	"$netcap" mbuf --inject --pid "$pid" -f "$both" -c 100 -w /dev/null 2>"$tmp/after.err" ||
		fail "a capture after random kill $i: $(cat "$tmp/after.err")"
	[[ $(text "$pid") == same && $(sems) == "0 0" ]] ||
		fail "random kill $i: the next capture left: $(text "$pid"), semaphores $(sems)"
done
echo "netcap SIGKILLed 10 times at random moments: nc_fwd ran on, untraced, semaphores 0; the sites were left: $(printf '%s\n' "${kinds[@]}" | sort | uniq -c | sed 's/^ *//' | paste -sd, -); each time the next capture put the code back"

# refusals: one line, exit 1, the code and the semaphores untouched (the builder's refusals of a
# site, a jump into its bytes among them: test_hook)
expect() { # MESSAGE SPEC
	local status=0
	"$netcap" mbuf --inject --pid "$pid" -f "$2" -w /dev/null -c 1 >"$tmp/bad.out" 2>"$tmp/bad.err" || status=$?
	[[ $status == 1 && $(cat "$tmp/bad.err") == "$1" ]] || fail "$2: exit $status, said: $(cat "$tmp/bad.err") (want: $1)"
	[[ $(text "$pid") == same ]] || fail "$2: the code changed: $(text "$pid")"
	[[ $(semaphore "$pid" nc_fwd_one_semaphore) == 0 && $(semaphore "$pid" nc_fwd_burst_semaphore) == 0 ]] ||
		fail "$2: a semaphore changed"
}
# the probe's argument as the compiler placed it (readelf -n: "Arguments: 8@(%rbx)")
one_args=$(readelf -n "$NC_FWD" | awk '/Name: one$/ {f = 1} f && /Arguments:/ {sub(/.*Arguments: /, ""); print; exit}')
[[ $one_args =~ ^8@[^\ ]+$ ]] || fail "usdt:nc_fwd:one has arguments '$one_args', not one of 8 bytes"
expect "netcap: hook spec \"usdt:nc_fwd:one@1@2\": USDT probe nc_fwd:one: the probe has 1 argument(s) ($one_args), not 2" \
	usdt:nc_fwd:one@1@2
expect "netcap: hook specs \"usdt:nc_fwd:burst@1@2\" and \"usdt:nc_fwd:burst@1\" patch the same function: give one" \
	usdt:nc_fwd:burst@1@2,usdt:nc_fwd:burst@1
echo "refusals: an argument the probe lacks, a site given twice: one line each, the code and semaphores unchanged"

status=0
nc_fwd_stop || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status: $(tail -3 "$NC_FWD_ERR")"
! grep -q "warning" "$NC_FWD_ERR" || fail "nc_fwd's checksum: $(grep warning "$NC_FWD_ERR")"
echo "nc_fwd exited 0, its checksum held"
