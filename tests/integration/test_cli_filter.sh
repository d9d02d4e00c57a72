#!/usr/bin/env bash
# netcap filter: -d prints libpcap's program exactly as tcpdump -d does, then the eBPF;
# refusals and usage errors exit non-zero with one line on stderr and nothing on stdout.
set -euo pipefail
netcap=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS STDERR -- ARGS…: exit status and stderr exactly, stdout empty
expect() {
	local want_status=$1 want_err=$2 status=0
	shift 3
	"$netcap" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
	[[ $status == "$want_status" ]] || fail "netcap $*: exit $status, want $want_status"
	[[ $(cat "$tmp/err") == "$want_err" ]] || fail "netcap $*: stderr '$(cat "$tmp/err")', want '$want_err'"
	[[ ! -s $tmp/out ]] || fail "netcap $*: unexpected stdout: $(cat "$tmp/out")"
}

# -d: both link types, the cBPF identical to tcpdump -d
"$netcap" filter -d "tcp port 80" >"$tmp/dump"
grep -qx '# filter "tcp port 80" for Ethernet (DLT_EN10MB)' "$tmp/dump" || fail "no Ethernet header"
grep -qx '# filter "tcp port 80" for raw IP (DLT_RAW)' "$tmp/dump" || fail "no raw IP header"
awk '/^# cBPF/{on=1; next} /^# eBPF/{exit} on' "$tmp/dump" >"$tmp/cbpf"
tcpdump -y EN10MB -d "tcp port 80" >"$tmp/tcpdump" 2>/dev/null
diff -u "$tmp/tcpdump" "$tmp/cbpf" || fail "cBPF listing differs from tcpdump -d"
n=$(awk '/^# eBPF, /{print $3; exit}' "$tmp/dump")
got=$(awk '/^# eBPF/{on=1; next} /^$/{exit} on' "$tmp/dump" | wc -l)
[[ $n -gt 20 && $got -le $n ]] || fail "eBPF listing: header says $n, $got lines"
grep -q '^(000) if r1 == 0 goto pc+' "$tmp/dump" || fail "eBPF prologue missing"

# refusals and usage errors
expect 1 'netcap: filter "inbound": the filter needs the packet direction (inbound/outbound), which a Linux socket supplies but copied packet bytes do not; drop that part of the expression (for direction, pick an rx or tx hook)' -- filter -d inbound
expect 1 'netcap: bad filter "tcp port": can'"'"'t parse filter expression: syntax error' -- filter -d tcp port
expect 2 'netcap filter: bad --snaplen "12abc": want a number from 1 to 4294967295' -- filter -s 12abc tcp
expect 2 'netcap filter: no expression given; try: netcap filter -d "tcp port 80"' -- filter
expect 2 'netcap: unknown command "filtre"; try: netcap --help' -- filtre tcp

# --verify: the kernel accepts an ordinary filter; a refusal names the verifier's reason
"$netcap" filter --verify vlan and tcp port 80 >"$tmp/out"
[[ $(cat "$tmp/out") == 'filter "vlan and tcp port 80": accepted by the kernel verifier' ]] || fail "verify: $(cat "$tmp/out")"
status=0
"$netcap" filter --verify "ip6 protochain 6" 2>"$tmp/err" >/dev/null || status=$?
[[ $status == 1 ]] || fail "protochain: exit $status"
grep -q '^netcap: the kernel verifier refused the filter "ip6 protochain 6": .' "$tmp/err" || fail "protochain: $(cat "$tmp/err")"
echo "cli filter: all checks passed"
