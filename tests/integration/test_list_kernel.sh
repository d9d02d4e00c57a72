#!/usr/bin/env bash
# netcap list --kernel against an independent reading of the kernel's BTF (bpftool btf dump,
# parsed here): the same tracepoints with an skb argument, at the same positions, kfree_skb with
# its drop reason; the same count of functions taking an skb among arguments 1-5, hookable or
# not as the kernel says (kprobe event source, fentry); every listed tracepoint spec is taken by
# netcap skb; `netcap list` without a target is refused.
# Usage: test_list_kernel.sh NETCAP
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_list_kernel.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
"$netcap" list --kernel >"$tmp/list" || fail "netcap list --kernel exited $?"

# the oracle: "tp NAME SKB_ARG REASON_ARG" and "fn NAME SKB_ARG" lines from bpftool's raw dump
bpftool btf dump file /sys/kernel/btf/vmlinux format raw >"$tmp/btf"
python3 - "$tmp/btf" >"$tmp/want" <<'PY'
import re, sys
types, cur = {}, None
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d+)\] (\w+) '([^']*)'(.*)", line)
    if m:
        cur = int(m.group(1))
        types[cur] = (m.group(2), m.group(3), m.group(4), [])
    elif cur and line.startswith("\t"):
        types[cur][3].append(line)
def ref(s):
    m = re.search(r"type_id=(\d+)", s)
    return int(m.group(1)) if m else 0
def bare(i):
    while i in types and types[i][0] in ("TYPEDEF", "CONST", "VOLATILE", "RESTRICT"):
        i = ref(types[i][2])
    return i
def skb_ptr(i):
    i = bare(i)
    if i not in types or types[i][0] != "PTR":
        return False
    t = types.get(bare(ref(types[i][2])))
    return t is not None and t[0] == "STRUCT" and t[1] == "sk_buff"
def reason(i):
    t = types.get(bare(i))
    return t is not None and t[0] == "ENUM" and t[1] == "skb_drop_reason"
for i in sorted(types):
    kind, name, rest, params = types[i]
    if kind == "TYPEDEF" and name.startswith("btf_trace_"):
        p = types.get(bare(ref(rest)))
        if not p or p[0] != "PTR":
            continue
        fp = types.get(ref(p[2]))
        if not fp or fp[0] != "FUNC_PROTO":
            continue
        args = [ref(a) for a in fp[3]][1:]
        skb = [k + 1 for k, a in enumerate(args) if skb_ptr(a)]
        rs = [k + 1 for k, a in enumerate(args) if reason(a)]
        if skb:
            print("tp", name[10:], skb[0], rs[0] if rs else 0)
    elif kind == "FUNC":
        fp = types[ref(rest)]
        skb = [k + 1 for k, a in enumerate(fp[3][:5]) if skb_ptr(ref(a))]
        if skb:
            print("fn", name, skb[0])
PY
ntp=$(grep -c '^tp ' "$tmp/want")
nfn=$(grep -c '^fn ' "$tmp/want")
((ntp > 0 && nfn > 0)) || fail "the oracle found $ntp tracepoints and $nfn functions"

head -1 "$tmp/list" | grep -qE "^kernel tracepoints that carry a struct sk_buff \* \(BTF; categories from .*\): $ntp$" ||
	fail "tracepoint count: '$(head -1 "$tmp/list")', want $ntp"
# the tracepoints with their arguments, in BTF order, as the oracle has them
awk '/^  tracepoint:/ {split($1, a, ":"); r = 0; if ($0 ~ /drop reason/) r = $NF; print "tp", a[3], $4 + 0, r}' \
	"$tmp/list" >"$tmp/got.tp"
grep '^tp ' "$tmp/want" | diff -u - "$tmp/got.tp" >"$tmp/tp.diff" || fail "tracepoints differ: $(cat "$tmp/tp.diff")"
for want in "  tracepoint:net:netif_receive_skb    skb: argument 1" \
	"  tracepoint:skb:kfree_skb    skb: argument 1, drop reason: argument 3" \
	"  tracepoint:net:net_dev_queue    skb: argument 1"; do
	grep -qxF "$want" "$tmp/list" || fail "netcap list --kernel lacks '$want'"
done
echo "tracepoints: $ntp, the same as bpftool's BTF shows, netif_receive_skb and kfree_skb with their specs"

if [[ -e /sys/bus/event_source/devices/kprobe ]] || grep -q "through fentry" "$tmp/list"; then
	grep -qxE "kernel functions with a struct sk_buff \* among arguments 1-5 \(BTF, hooked through (fentry|kprobe)\): $nfn" "$tmp/list" ||
		fail "functions: $(grep '^kernel functions' "$tmp/list")"
	grep -E '^  [A-Za-z0-9_.]+@[1-5]$' "$tmp/list" | sed 's/^  \(.*\)@\(.\)$/fn \1 \2/' >"$tmp/got.fn"
	grep '^fn ' "$tmp/want" | diff -u - "$tmp/got.fn" >"$tmp/fn.diff" || fail "functions differ: $(head -20 "$tmp/fn.diff")"
	echo "functions: $nfn listed as FUNC@N, the same as bpftool's BTF shows"
else
	grep -qxF "kernel functions with a struct sk_buff * among arguments 1-5 (BTF): $nfn, not hookable here (no kprobe event source, fentry refused)" "$tmp/list" ||
		fail "functions line: $(grep '^kernel functions' "$tmp/list"), want $nfn, not hookable"
	echo "functions: $nfn in BTF, reported not hookable on this kernel (no kprobes, fentry refused)"
fi

# with tracefs (mounted in a mount namespace of our own when the host has none) the categories
# come from it and are the same; there netcap skb checks each category, and takes every spec
# listed (at most 16 per run)
cat >"$tmp/in_tracefs.sh" <<SH
set -e
[[ -d /sys/kernel/tracing/events ]] || mount -t tracefs nodev /sys/kernel/tracing
"$netcap" list --kernel >"$tmp/list.tracefs"
awk '/^  tracepoint:/ {print \$1}' "$tmp/list.tracefs" | split -l 16 - "$tmp/specs."
for f in "$tmp"/specs.*; do
	"$netcap" skb -f "\$(paste -sd, "\$f")" --duration 0.2 -w "$tmp/skb.pcapng" 2>"$tmp/skb.err"
done
SH
unshare -m bash "$tmp/in_tracefs.sh" || fail "with tracefs: $(cat "$tmp/skb.err" 2>/dev/null)"
head -1 "$tmp/list.tracefs" | grep -qxF "kernel tracepoints that carry a struct sk_buff * (BTF; categories from tracefs): $ntp" ||
	fail "with tracefs: $(head -1 "$tmp/list.tracefs")"
diff -u <(tail -n +2 "$tmp/list") <(tail -n +2 "$tmp/list.tracefs") >"$tmp/tracefs.diff" ||
	fail "categories differ from tracefs's: $(cat "$tmp/tracefs.diff")"
echo "categories: the same as tracefs's; netcap skb took all $ntp listed specs with tracefs checking them"

status=0
"$netcap" list >"$tmp/none.out" 2>"$tmp/none.err" || status=$?
[[ $status == 2 && $(cat "$tmp/none.err") == "netcap list: give the process (netcap list --pid PID) or the kernel (netcap list --kernel)" ]] ||
	fail "netcap list without a target: exit $status, '$(cat "$tmp/none.err")'"
echo "list_kernel: all checks passed"
