#!/usr/bin/env bash
# Ring overflow under load: netcap's reader is held up (its output pipe is not read for a while)
# while the nc_fwd fixture forwards a fixed number of packets through a hooked function. The
# records that found the ring full must be counted, reported in the summary line and in the
# pcapng statistics block (isb_ifdrop), and equal what is missing from the file, compared with
# the fixture's own count.
# Usage: test_overflow.sh NETCAP   (NC_FWD: the fixture)
set -euo pipefail
netcap=${1:?usage: test_overflow.sh NETCAP}
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
tmp=
nc_tmpdir tmp
fail() { nc_fail "$*"; }

# the smallest ring (4 MiB: ~35,000 records of a 64-byte packet) against 400,000 packets
n=400000
nc_fwd_start --stats --count "$n" -- --vdev net_null0 >/dev/null
# netcap writes into a pipe whose reader waits (120 s at most) until the fixture has finished
"$netcap" mbuf --pid "$NC_FWD_PID" -f fwd_burst@1@2 -B 4096 -w - --ready-file "$tmp/ready" \
	2>"$tmp/netcap.err" | {
	for _ in $(seq 2400); do [[ -e $tmp/done ]] && break; sleep 0.05; done
	cat >"$tmp/out.pcapng"
} &
pipeline=$!
trap 'touch "$tmp/done"; kill "$pipeline" 2>/dev/null || true; nc_cleanup' EXIT
# no PID to watch: $! is the reader, which outlives netcap
nc_wait_file "$tmp/ready" 20 || fail "netcap did not attach: $(cat "$tmp/netcap.err")"
nc_fwd_go
nc_fwd_wait 120 || fail "nc_fwd did not finish: $(cat "$NC_FWD_ERR")"
touch "$tmp/done"
status=0
wait "$pipeline" || status=$? # pipefail: netcap's status
[[ $status == 0 ]] || fail "netcap exited $status: $(cat "$tmp/netcap.err")"

rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
[[ $rx == "$n" ]] || fail "the fixture forwarded $rx packets, not $n"
line=$(grep ':fwd_burst: seen' "$tmp/netcap.err") || fail "no summary line: $(cat "$tmp/netcap.err")"
field() { sed -E "s/.*[ (]$1 ([0-9]+).*/\\1/" <<<"$line"; }
seen=$(field seen) written=$(field written) dropped=$(field dropped) ringfull=$(field 'ring full')
unreadable=$(field unreadable)
infile=$(capinfos -M -c "$tmp/out.pcapng" | awk '/Number of packets/ {print $NF}')
echo "forwarded $rx, seen $seen, written $written, in file $infile, dropped $dropped (ring full $ringfull, unreadable $unreadable)"
[[ $seen == "$n" ]] || fail "netcap saw $seen of $n packets"
((ringfull > 0)) || fail "the held-up reader did not fill the ring (test too weak)"
[[ $unreadable == 0 ]] || fail "$unreadable packets unreadable"
[[ $dropped == "$ringfull" ]] || fail "dropped $dropped but ring full $ringfull"
[[ $written == "$infile" ]] || fail "netcap says it wrote $written, the file holds $infile"
((infile + dropped == n)) || fail "in file $infile + dropped $dropped != forwarded $n"

# the statistics block says the same: isb_ifrecv = seen, isb_ifdrop = dropped
isb=$(python3 - "$tmp/out.pcapng" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, out = 0, []
while off + 12 <= len(data):
    btype, blen = struct.unpack_from("<II", data, off)
    if btype == 5:  # ISB: interface id, timestamp (8), then options
        opt = off + 20
        vals = {}
        while opt + 4 <= off + blen - 4:
            code, olen = struct.unpack_from("<HH", data, opt)
            if code == 0:
                break
            if olen == 8:
                vals[code] = struct.unpack_from("<Q", data, opt + 4)[0]
            opt += 4 + (olen + 3) // 4 * 4
        out.append("%d %d" % (vals.get(4, -1), vals.get(5, -1)))
    off += blen
print(";".join(out))
PY
)
[[ $isb == "$n $dropped" ]] || fail "statistics block says \"$isb\" (isb_ifrecv isb_ifdrop), want \"$n $dropped\""
echo "PASS: $dropped records lost to a full ring, counted exactly, in the summary and the statistics block"
