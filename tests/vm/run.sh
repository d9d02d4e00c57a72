#!/usr/bin/env bash
# run.sh --kernel VERSION --cache DIR [--build DIR] [--source DIR] [--tmpfs PATH]... [--timeout SEC] [--mem MB]
#        [--smp N] -- COMMAND [ARGS...]
# Boots Debian's kernel VERSION (5.10, 6.1, 6.12; fetched into DIR by kernel.sh) under qemu
# (TCG) with this machine's root as the guest's root, read-only over 9p, and runs COMMAND in it
# as root, in the caller's working directory with its PATH and NC_* variables. --build DIR is
# shared writable at its own path (ctest writes there, tests find their binaries); --tmpfs
# PATH hides PATH under an empty tmpfs in the guest. Nothing else of the host can be written.
# Prints the guest's console (COMMAND's output) and exits with COMMAND's status; 124 when it
# ran longer than --timeout (default 600 s), 1 with a one-line reason when the guest did not
# boot, 77 when qemu is not installed.
set -euo pipefail

die() {
	echo "run.sh: $*" >&2
	exit 1
}
usage() {
	die "usage: run.sh --kernel VERSION --cache DIR [--build DIR] [--source DIR] [--tmpfs PATH]... [--timeout SEC] [--mem MB] [--smp N] -- COMMAND [ARGS...]"
}

here=$(cd "$(dirname "$0")" && pwd)
kernel='' cache='' build='' source='' timeout=600 mem=2048 smp=2 tmpfs=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=${2:-} ;;
	--cache) cache=${2:-} ;;
	--build) build=${2:-} ;;
	--source) source=${2:-} ;;
	--tmpfs) tmpfs+=("${2:-}") ;;
	--timeout) timeout=${2:-} ;;
	--mem) mem=${2:-} ;;
	--smp) smp=${2:-} ;;
	--) shift && break ;;
	*) usage ;;
	esac
	[[ $# -ge 2 ]] || usage
	shift 2
done
[[ -n $kernel && -n $cache && $# -gt 0 ]] || usage
[[ $timeout =~ ^[0-9]+$ && $mem =~ ^[0-9]+$ && $smp =~ ^[0-9]+$ ]] ||
	die "--timeout, --mem and --smp take a number"

qemu='qemu-system-x86_64'
if ! command -v $qemu >/dev/null; then
	echo "run.sh: $qemu not installed (scripts/bootstrap installs qemu-system-x86): skipped" >&2
	exit 77
fi

# paths the guest mounts by name: absolute, no white space or quotes (vm.conf is shell)
abspath() {
	local p
	p=$(realpath -m -- "$1")
	[[ $p =~ ^/[A-Za-z0-9._/+@:=-]*$ ]] || die "path '$1': only letters, digits and ._/+@:=- please"
	echo "$p"
}
mkdir -p "$cache"
cache=$(abspath "$cache")
if [[ -n $build ]]; then
	[[ -d $build ]] || die "--build $build: no such directory"
	build=$(abspath "$build")
fi
if [[ -n $source ]]; then
	[[ -d $source ]] || die "--source $source: no such directory"
	source=$(abspath "$source")
fi
for i in "${!tmpfs[@]}"; do
	tmpfs[i]=$(abspath "${tmpfs[i]}")
done

"$here/kernel.sh" "$kernel" "$cache" || die "kernel $kernel: kernel.sh failed"
kdir=$cache/$kernel
vmlinux=$kdir/vmlinux
[[ -s $vmlinux ]] || vmlinux=$kdir/vmlinuz
moddir=$(cat "$kdir/moddir") # relative to kdir (kernel.sh); an older cache's is absolute
modules=${moddir##*root/}

# the control share: vm.conf for /init, cmd.sh (COMMAND), status, console.log
ctl=$(mktemp -d "$cache/run.XXXXXX")
qpid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

{
	echo "VM_BUILD='$build'"
	echo "VM_SOURCE='$source'"
	echo "VM_TMPFS='${tmpfs[*]}'"
	echo "VM_MODULES='$modules'"
} >"$ctl/vm.conf"
{
	echo "# run.sh: COMMAND in the guest"
	while IFS= read -r name; do
		printf 'export %s=%q\n' "$name" "${!name}"
	done < <(compgen -e | grep -E '^(PATH|LANG|LC_[A-Z]+|TZ|NC_[A-Za-z0-9_]*|CTEST_[A-Za-z0-9_]*|[AUL]SAN_OPTIONS)$')
	echo "export HOME=/root"
	printf 'cd %q 2>/dev/null || { echo "nc-vm: no directory %q in the guest, running in /"; cd /; }\n' "$PWD" "$PWD"
	printf '%q ' "$@"
	echo
} >"$ctl/cmd.sh"

# TCG only (KVM is not there or hangs nested). thread=single: both vCPUs on one host thread;
# multi-threaded TCG made the fixture test ~2x slower on a busy 2-core host (vCPU threads wait
# for each other in TLB flushes and atomics). -la57: 4-level paging, cheaper page walks (~30 %
# off an exec). -cpu max: DPDK's binaries need SSE4.2 and more. init_on_alloc=0: Debian zeroes
# every page it hands out. mitigations=off: no page-table switch per system call.
# random.trust_cpu=on: 5.10 would wait for entropy.
# shellcheck disable=SC2054 # commas inside qemu's option values
args=(
	-nodefaults -display none -no-reboot
	-accel tcg,thread=single -cpu max,-la57 -smp "$smp" -m "$mem"
	-kernel "$vmlinux" -initrd "$kdir/initrd.gz"
	-append "console=ttyS0 panic=-1 quiet loglevel=1 random.trust_cpu=on mitigations=off init_on_alloc=0"
	-chardev "stdio,id=con,signal=on,logfile=$ctl/console.log"
	-serial chardev:con
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none"
	-virtfs "local,path=$kdir/root,mount_tag=kernel,security_model=none,readonly=on"
)
[[ -z $build ]] || args+=(-virtfs "local,path=$build,mount_tag=build,security_model=none,multidevs=remap")
[[ -z $source ]] || args+=(-virtfs "local,path=$source,mount_tag=source,security_model=none,readonly=on,multidevs=remap")

start=$(date +%s.%N)
timeout -k 5 "$timeout" $qemu "${args[@]}" </dev/null &
qpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=
end=$(date +%s.%N)

if [[ -s $ctl/status ]]; then
	status=$(cat "$ctl/status")
	# boot: from qemu's start to the guest's "up" (the control share's file "up" written then,
	# its mtime is the host's clock); the kernel's own part is the guest's uptime then
	up=$(stat -c %.3Y "$ctl/up")
	printf 'run.sh: kernel %s: exit status %s; boot %.1f s (%.1f s in the kernel), command and power-off %.1f s\n' \
		"$kernel" "$status" "$(echo "$up - $start" | bc)" "$(cat "$ctl/up")" "$(echo "$end - $up" | bc)" >&2
	exit "$status"
fi
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
	echo "run.sh: kernel $kernel: timed out after $timeout s" >&2
	exit 124
fi
reason=$(grep -a -o 'nc-vm: boot failed: .*' "$ctl/console.log" 2>/dev/null | tail -1 | tr -d '\r' || true)
if [[ -z $reason ]]; then
	if grep -q -a 'nc-vm: up' "$ctl/console.log" 2>/dev/null; then
		reason="the guest stopped without the command's status (qemu exit $rc)"
	else
		last=$(tr -d '\r' <"$ctl/console.log" 2>/dev/null | grep -a . | tail -1 || true)
		reason="no boot (qemu exit $rc): ${last:-no console output}"
	fi
fi
echo "run.sh: kernel $kernel: ${reason#nc-vm: }" >&2
exit 1
