#!/usr/bin/env bash
# Function hooks (issue 16, docs/inproc.md "Function hooks") in a running nc_fwd, built -O2,
# forwarding between two net_null ports on one lcore (its main thread): hook_tool injects
# hook_lib for memory near the code, builds the trampolines of fwd_burst@1@2 and fwd_one@1 (the
# stub calling hook_lib's entry, which counts) and patches and unpatches both 100 times while
# nc_fwd forwards; then a patching child is SIGKILLed 30 times at random moments, each function
# left either original or jumping into its trampoline, no thread traced. nc_fwd must keep
# forwarding, its own checksum must hold (fwd_burst and fwd_one saw the same bytes, no bad
# chain: it warns otherwise) and it must exit 0.
#
# Usage: test_hook.sh HOOK_TOOL HOOK_LIB   (NC_FWD: the fixture; needs root: ptrace, DPDK)
set -euo pipefail
tool=$1
lib=$2
source "$(dirname "$0")/lib.sh"

if [[ $EUID != 0 ]]; then
	echo "SKIP: needs root (ptrace of the DPDK fixture, its runtime directory)"
	exit 77
fi
nc_tmpdir

nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 || nc_fail "nc_fwd did not start"
nc_fwd_go
sleep 0.3
out=$("$tool" "$NC_FWD_PID" "$lib" "$NC_TMP/answer" 100 30) || nc_fail "hook_tool failed"
echo "hook_tool: $out"
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$out"; }
(($(field burst_calls) > 0)) || nc_fail "the fwd_burst hook was never called"
(($(field burst_pkts) > 0)) || nc_fail "the fwd_burst hook saw no packet"
(($(field one_calls) > 0)) || nc_fail "the fwd_one hook was never called"
(($(field left_orig) + $(field left_jump) == 60)) || nc_fail "not every kill was checked"
_nc_alive "$NC_FWD_PID" || nc_fail "nc_fwd died"
grep -q 'hook_lib' "/proc/$NC_FWD_PID/maps" || nc_fail "hook_lib not mapped in nc_fwd"
sleep 0.3
status=0
nc_fwd_stop || status=$?
((status == 0)) || {
	cat "$NC_FWD_ERR" >&2
	nc_fail "nc_fwd exited $status"
}
if grep -q 'warning' "$NC_FWD_ERR"; then
	cat "$NC_FWD_ERR" >&2
	nc_fail "nc_fwd's checksum: fwd_burst and fwd_one disagree"
fi
rx=$(sed -n 's/^nc_fwd: rx \([0-9]*\) .*/\1/p' "$NC_FWD_OUT")
((rx > 0)) || nc_fail "nc_fwd forwarded nothing"
echo "nc_fwd forwarded $rx packets, its checksum held"
echo PASS
