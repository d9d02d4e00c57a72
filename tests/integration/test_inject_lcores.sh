#!/usr/bin/env bash
# netcap mbuf --inject at a static per-packet function called from two lcores (issue 16's first
# test; docs/inproc.md "Function hooks"). nc_fwd (-O2) with --lcores 2 replays the corpus endlessly
# on two net_pcap ports, one per lcore, and hands every packet to fwd_csum(), a static function
# whose caller keeps values in call-clobbered registers across the call (-fipa-ra: checked in the
# disassembly below). A reference run gives nc_fwd's checksum, which must be the one computed here
# from the pcap. Then, while both lcores forward, netcap patches fwd_csum@1 and fwd_burst@1@2,
# captures a few packets and unpatches, 100 times: every capture succeeds with the right
# interface names and the input's bytes, packets come through fwd_csum from both lcores, the code
# of nc_fwd is its file's afterwards (/proc/PID/mem), and nc_fwd exits 0 with the reference
# checksum and both lcores' counts.
# Usage: test_inject_lcores.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_inject_lcores.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
[[ $(id -u) == 0 ]] || { echo "SKIP: --inject needs root (ptrace into the fixture)"; exit 77; }
python3 -c 'import os, sys; sys.exit(not {0, 1} <= os.sched_getaffinity(0))' ||
	{ echo "SKIP: nc_fwd's two lcores (EAL -l 0-1) need CPUs 0 and 1; this test may run on $(taskset -cp $$ | sed 's/.*: //')"; exit 77; }
# a loaded machine can hold a thread of nc_fwd off the CPU longer than the default 100 ms bound of
# a stop (docs/inproc.md "Patching")
export NETCAP_PATCH_TIMEOUT_MS=2000
rounds=100
per_lcore=6000000 # packets each lcore forwards: more than it receives at --rate in 60 s of rounds
rate=100000     # per lcore, until SIGUSR1

tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"

# the premise: fwd_csum's caller keeps a call-clobbered register (other than rax, the result) live
# across the call, read after it before any write
live=$(objdump -d --no-show-raw-insn "$NC_FWD" | python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
clobbered = {"rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "ecx", "edx", "esi", "edi",
             "r8d", "r9d", "r10d", "r11d"}
found = set()
calls = 0
for i, l in enumerate(lines):
    if not re.search(r"call +[0-9a-f]+ <fwd_csum>", l):
        continue
    calls += 1
    written = set()
    for nxt in lines[i + 1:i + 6]:
        f = nxt.split("\t")
        if len(f) < 2 or re.match(r"(call|j|ret)", f[1]):
            break
        ins = f[1].split()
        regs = re.findall(r"%(\w+)", f[1])
        dst = regs[-1:] if ins[0].startswith("mov") or ins[0] == "lea" else []
        for r in regs:
            if r in clobbered and r not in written and r not in dst:
                found.add(r)
        written.update(dst)
if calls == 0:
    sys.exit("no call to fwd_csum")
print(" ".join(sorted(found)))
') || fail "nc_fwd's disassembly: $live"
[[ -n $live ]] || fail "no caller of fwd_csum keeps a call-clobbered register across the call (-fipa-ra): the test would prove nothing; see the comment at fwd_csum in tests/apps/nc_fwd.c"
echo "fwd_csum's caller keeps $live live across the call (-fipa-ra)"

# the checksum nc_fwd must print: the 64-bit sum of the FNV-1a hashes of the packets each lcore
# forwards (its port replays in.pcap from the start, over and over)
want=$(python3 - "$tmp/in.pcap" "$per_lcore" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
little = data[:4] == b"\xd4\xc3\xb2\xa1"
e = "<" if little else ">"
off, hashes = 24, []
while off < len(data):
    incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
    h = 0xcbf29ce484222325
    for b in data[off + 16:off + 16 + incl]:
        h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
    hashes.append(h)
    off += 16 + incl
n = int(sys.argv[2])
total = 2 * ((n // len(hashes)) * sum(hashes) + sum(hashes[:n % len(hashes)]))
print(f"{total & (2**64 - 1):016x}")
PY
)
ports=(--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1" --vdev "net_pcap1,rx_pcap=$tmp/in.pcap,infinite_rx=1")
lcores_ok() { # STDOUT-FILE: both lcores forwarded every packet, the checksum is $want
	local out
	out=$(cat "$1")
	[[ $out == "nc_fwd: lcore 0 rx $per_lcore tx $per_lcore dropped 0
nc_fwd: lcore 1 rx $per_lcore tx $per_lcore dropped 0
nc_fwd: checksum $want
nc_fwd: rx $((2 * per_lcore)) tx $((2 * per_lcore)) dropped 0" ]]
}
status=0
nc_fwd_run --lcores 2 --count "$per_lcore" --stats -- -l 0-1 "${ports[@]}" || status=$?
[[ $status == 0 ]] || fail "the reference run exited $status: $(tail -3 "$NC_FWD_ERR")"
lcores_ok "$NC_FWD_OUT" || fail "the reference run (want checksum $want): $(cat "$NC_FWD_OUT")"
echo "reference run: $per_lcore packets on each of 2 lcores, checksum $want (as computed from the pcap)"

nc_fwd_start --lcores 2 --count "$per_lcore" --rate "$rate" --idle-sleep 100 --stats -- -l 0-1 "${ports[@]}" ||
	fail "nc_fwd did not start"
pid=$NC_FWD_PID
nc_fwd_go
[[ $(nc_code_state "$pid") == same ]] || fail "nc_fwd's code differs from its file before any capture"
t0=$SECONDS
for ((i = 1; i <= rounds; i++)); do
	st=0
	timeout 60 "$netcap" mbuf --inject --pid "$pid" -f fwd_csum@1,fwd_burst@1@2 -c 40 \
		-w "$tmp/cap$i.pcapng" 2>"$tmp/cap$i.err" || st=$?
	[[ $st == 0 ]] || fail "capture $i exited $st: $(cat "$tmp/cap$i.err")"
	_nc_alive "$pid" || fail "nc_fwd died during capture $i"
	for f in fwd_csum fwd_burst; do
		grep -qE "^netcap: nc_fwd\[$pid\]:$f: seen [0-9]+, matched [0-9]+, written [0-9]+, dropped 0 \(ring full 0, unreadable 0\)$" \
			"$tmp/cap$i.err" || fail "capture $i: no summary for $f: $(cat "$tmp/cap$i.err")"
	done
	grep -qx "netcap: 40 packets written (count reached)" "$tmp/cap$i.err" ||
		fail "capture $i: $(cat "$tmp/cap$i.err")"
	if ((i % 25 == 0)); then
		s=$(nc_code_state "$pid") || fail "after capture $i: $s"
		[[ $s == same ]] || fail "after capture $i: $s"
	fi
done
elapsed=$((SECONDS - t0))
_nc_alive "$pid" || fail "nc_fwd exited before the end of the rounds (raise per_lcore)"
s=$(nc_code_state "$pid") || fail "after the rounds: $s"
[[ $s == same ]] || fail "after the rounds: $s"
! nc_traced "$pid" || fail "a thread of nc_fwd stayed traced"

# every capture: 40 packets from the two interfaces, each packet one of the input's
counts=$(capinfos -TMrc "$tmp"/cap*.pcapng | awk '{print $2}' | sort | uniq -c | sed 's/^ *//')
[[ $counts == "$rounds 40" ]] || fail "packets per capture: $counts"
mergecap -a -w "$tmp/all.pcapng" "$tmp"/cap*.pcapng
names=$(tshark -r "$tmp/all.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c | awk '{print $2}' | paste -sd' ')
[[ $names == "nc_fwd[$pid]:fwd_burst nc_fwd[$pid]:fwd_csum" ]] || fail "interface names: $names"
nc_pcap_hex "$tmp/all.pcapng" | sort -u >"$tmp/all.hex"
sort -u "$tmp/in.hex" >"$tmp/in.sorted"
[[ -z $(comm -23 "$tmp/all.hex" "$tmp/in.sorted") ]] ||
	fail "captured packets that are not in the input: $(comm -23 "$tmp/all.hex" "$tmp/in.sorted" | head -2 | cut -c1-80)"
# through fwd_csum on both lcores (the threads: the main one and rte-worker-1)
tids=$(tshark -r "$tmp/all.pcapng" -Y 'frame.interface_name contains "fwd_csum"' -T fields -e frame.comment 2>/dev/null |
	grep -o "tid [0-9]*" | sort -u | awk '{print $2}' | paste -sd' ')
worker=$(grep -l "rte-worker-1" /proc/"$pid"/task/*/comm | cut -d/ -f5)
[[ $tids == "$(printf '%s\n' "$pid" "$worker" | sort | paste -sd' ')" ]] ||
	fail "fwd_csum's packets came from threads $tids (want $pid and the worker lcore $worker)"
echo "$rounds captures at fwd_csum@1,fwd_burst@1@2 in ${elapsed} s while 2 lcores forwarded: 40 packets each, the input's bytes, fwd_csum's from both lcores (tids $tids); nc_fwd's code its file's afterwards"

kill -USR1 "$pid" # the rest of the count at full speed
status=0
nc_fwd_wait 60 || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status: $(tail -3 "$NC_FWD_ERR")"
lcores_ok "$NC_FWD_OUT" || fail "nc_fwd's counts or checksum (want $want): $(cat "$NC_FWD_OUT")"
! grep -q "warning" "$NC_FWD_ERR" || fail "nc_fwd: $(grep warning "$NC_FWD_ERR")"
echo "nc_fwd exited 0: $per_lcore packets on each lcore, checksum $want, the reference's"
