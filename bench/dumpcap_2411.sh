#!/usr/bin/env bash
# bench/dumpcap_2411: netcap --inject against DPDK 24.11's own dpdk-dumpcap, on DPDK 24.11's
# dpdk-testpmd, both from the Debian 13 root of tests/dpdk/roots.sh (the host has DPDK 22.11).
# dpdk-testpmd forwards net_null0 <-> net_null1 (io mode, 64-byte packets) with its forwarding
# lcore on CPU 0 (main lcore on CPU 1: it only sleeps) and hugepages: dpdk-dumpcap is a secondary
# process, which needs the primary's memory, runtime directory and --file-prefix; both run
# chrooted in the root, each in a private mount namespace with /dev, /sys, /proc and /tmp bound
# in and the benchmark's hugetlbfs bound at the root's /mnt (--huge-dir /mnt). netcap runs on the
# host against the chrooted process: the agent is not in the root, so it goes in through a memfd
# (docs/inject.md, copy mode). Both tools run on CPU 1 (taskset), capture port 0's rx and tx
# (netcap -f rx_burst:0,tx_burst:0; dpdk-dumpcap -i net_null0, which captures both directions),
# snap length 128, classic pcap (-P) to /dev/shm, with a filter matching nothing
# ("ether proto 0x88b5") and none. dpdk-dumpcap 24.11 has no ring-size option (its ring is its
# default); netcap's is -B 4096 (4 MiB per hook and thread).
#
# One dpdk-testpmd for the whole run. Port 0's receive rate is read from its telemetry socket
# (/ethdev/stats,0) over WINDOW seconds while a tool is attached, and over the same window with
# nothing attached just before and after it; "kept" is the median over ROUNDS rounds of the
# window's rate over the mean of those two (the machine's load drifts). The tools' own counters
# (netcap: its summary lines; dpdk-dumpcap: "Packets received/dropped on interface", "Packets
# captured") and the packets in each file as capinfos counts them are reported for the last
# round. After each tool's run the script records whether dpdk-testpmd is alive and still
# forwarding, and if not what it printed last (DPDK 24.11 dies on dpdk-dumpcap's detach at times:
# "process_portal_map(): Unknown error -19"), then starts it again and goes on (that window has
# no baseline after it and is left out). Reports, never asserts.
#
# Usage: bench/dumpcap_2411.sh NETCAP ROOTS_DIR [ROUNDS] [WINDOW]   (root)
#   ROOTS_DIR: the cache of tests/dpdk/roots.sh (a build's dpdk-roots; made if missing: about two
#   minutes; where it cannot be made, one line says so instead of the table and it exits 0)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: dumpcap_2411.sh NETCAP ROOTS_DIR [ROUNDS] [WINDOW]}
roots=${2:?usage: dumpcap_2411.sh NETCAP ROOTS_DIR [ROUNDS] [WINDOW]}
rounds=${3:-3}
window=${4:-2}
[[ $EUID == 0 ]] || {
	echo "dumpcap_2411.sh: needs root" >&2
	exit 1
}
netcap=$(realpath "$netcap")
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
TMPDIR=/tmp nc_tmpdir tmp
status=0
root=$("$here/../tests/dpdk/roots.sh" "$roots" 24.11 2>"$tmp/roots.log") || status=$?
if ((status == 77)); then
	# no mirror or no mmdebstrap here: said in the table's place, the other benchmarks go on
	echo "Not run: no DPDK 24.11 root could be made here ($(tail -1 "$tmp/roots.log"))."
	exit 0
fi
((status == 0)) || {
	echo "dumpcap_2411.sh: tests/dpdk/roots.sh $roots 24.11 failed ($status): $(tail -3 "$tmp/roots.log")" >&2
	exit 1
}
command -v capinfos >/dev/null || nc_fail "capinfos is missing (apt-get install tshark)"
taskset -c 1 true 2>/dev/null || nc_fail "bench/dumpcap_2411 needs CPU 1 for the tools, besides the forwarder's CPU 0"
shm=$(mktemp -d /dev/shm/netcap-bench.XXXXXX)
prefix=nc-d2411-$$
pmd="" tool_pid=""
cleanup() {
	local p
	for p in $tool_pid $pmd; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$shm" "$root/run/dpdk/$prefix"
	nc_cleanup
}
trap cleanup EXIT
# 2 MB pages: dpdk-testpmd's 256 MB and dpdk-dumpcap's pool; a fragmented memory is compacted first
echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
nc_hugepages 200 || nc_fail "could not reserve 200 hugepages of 2 MB"
# shellcheck disable=SC2154 # set by lib.sh's nc_hugepages
huge=$_nc_huge_dir

# in_root CMD ARGS... &: CMD of the root, chrooted in a private mount namespace (in the
# background only: it execs, so $! is CMD itself)
# shellcheck disable=SC2016 # expanded by that sh, from its arguments
ns_script='set -e
root=$0 huge=$1
shift
mount --make-rprivate /
mount --bind "$root" "$root"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
mount --bind /tmp "$root/tmp"
mount --bind "$huge" "$root/mnt"
exec chroot "$root" "$@"'
in_root() { exec unshare --mount -- sh -c "$ns_script" "$root" "$huge" "$@"; }

telemetry=$root/run/dpdk/$prefix/dpdk_telemetry.v2
starts=0
# start_pmd: dpdk-testpmd (again, after it died: the same prefix, whose hugepage files it clears);
# its output in $tmp/testpmd.N.out
start_pmd() {
	starts=$((starts + 1))
	rm -f "$telemetry"
	in_root taskset -c 0-1 /usr/bin/dpdk-testpmd --file-prefix "$prefix" --huge-dir /mnt -m 256 \
		--no-pci -l 0-1 --main-lcore 1 --vdev net_null0 --vdev net_null1 -- --forward-mode=io \
		--stats-period 3600 >"$tmp/testpmd.$starts.out" 2>&1 </dev/null &
	pmd=$!
	for _ in $(seq 200); do
		[[ -S $telemetry ]] && grep -q 'Port 1: ' "$tmp/testpmd.$starts.out" && break
		sleep 0.05
	done
	[[ -S $telemetry ]] || nc_fail "dpdk-testpmd 24.11 did not start: $(tail -5 "$tmp/testpmd.$starts.out")"
	# unshare, sh, chroot and taskset each exec the next: $! is dpdk-testpmd itself
	tp=$pmd
	[[ $(cat "/proc/$tp/comm") == dpdk-testpmd ]] || nc_fail "process $tp is $(cat "/proc/$tp/comm"), not dpdk-testpmd"
	sleep 1 # it warms up
}
start_pmd

# shellcheck source=testpmd_lib.sh
source "$here/testpmd_lib.sh"

# with_tool TOOL FILTER: the rate while the tool captures in R; its counters in
# $tmp/last.TOOL.FILTER (not called in $(...): the cleanup must know the tool's pid)
with_tool() {
	local tool=$1 filter=$2 pid fargs=() key status t0 t1 infile
	key=$tool.all
	[[ -z $filter ]] || key=$tool.none
	rm -f "$tmp/ready" "$tmp/tool.err" "$shm/out.pcap"
	case $tool in
	dpdk-dumpcap)
		[[ -z $filter ]] || fargs=(-f "$filter")
		in_root taskset -c 1 /usr/bin/dpdk-dumpcap --file-prefix "$prefix" -i net_null0 -s 128 \
			"${fargs[@]}" -P -w "/dev/shm/$(basename "$shm")/out.pcap" >"$tmp/tool.err" 2>&1 &
		pid=$! tool_pid=$!
		for _ in $(seq 400); do grep -qs "Packets captured" "$tmp/tool.err" && break; sleep 0.05; done
		grep -qs "Packets captured" "$tmp/tool.err" || {
			echo "dumpcap_2411.sh: dpdk-dumpcap did not start: $(tail -3 "$tmp/tool.err")" >&2
			exit 1
		}
		;;
	netcap)
		taskset -c 1 "$netcap" mbuf --inject --pid "$tp" -f rx_burst:0,tx_burst:0 -e "$filter" \
			-s 128 -B 4096 -P -w "$shm/out.pcap" --ready-file "$tmp/ready" 2>"$tmp/tool.err" &
		pid=$! tool_pid=$!
		for _ in $(seq 400); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
		[[ -e $tmp/ready ]] || {
			echo "dumpcap_2411.sh: netcap did not attach: $(cat "$tmp/tool.err")" >&2
			exit 1
		}
		;;
	esac
	t0=$(date +%s.%N)
	sleep 0.3
	R=$(tp_rate "$window")
	kill -INT "$pid" 2>/dev/null || true
	t1=$(date +%s.%N)
	status=0
	wait "$pid" || status=$?
	tool_pid=
	{
		echo "exit $status"
		# dpdk-dumpcap rewrites its "Packets captured: N" in place (backspaces): the last N
		tr '\r\b' '\n ' <"$tmp/tool.err" | grep -v '^ *$' |
			awk '/^Packets captured:/ {print "Packets captured: " $NF; next} {print}' | tail -6
		infile=$(capinfos -c -M "$shm/out.pcap" 2>/dev/null | awk '/^Number of packets:/ {print $NF}')
		echo "in file: $infile ($(awk -v n="${infile:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", n / (b - a) / 1e6 }') M/s over the $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s from attached to SIGINT)"
	} >"$tmp/last.$key"
	PPS=$(awk -v n="${infile:-0}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
}

tools=("dpdk-dumpcap" "netcap")
filters=("ether proto 0x88b5" "")
declare -A rates=() ratios=() pps=()
declare -A runs=() died=()
b0=$(tp_rate "$window")
rates[base]=" $b0"
for ((i = 0; i < rounds; i++)); do
	for filter in "${filters[@]}"; do
		for tool in "${tools[@]}"; do
			key=$tool.all
			[[ -z $filter ]] || key=$tool.none
			with_tool "$tool" "$filter"
			r=$R
			runs[$tool]=$((${runs[$tool]:-0} + 1))
			sleep 0.2
			b1=$(tp_rate "$window")
			if ! kill -0 "$tp" 2>/dev/null || ((b1 == 0)); then
				# the application did not survive the tool's detach: recorded, restarted;
				# this window has no baseline after it
				died[$tool]=$((${died[$tool]:-0} + 1))
				echo "after $tool ${filter:+(-f \"$filter\") }run ${runs[$tool]}, round $((i + 1)): dpdk-testpmd $(kill -0 "$tp" 2>/dev/null && echo "stopped forwarding" || echo "exited"); its last lines:" >>"$tmp/deaths"
				grep -v '^ *$' "$tmp/testpmd.$starts.out" | tail -3 | sed 's/^/    /' >>"$tmp/deaths"
				kill -KILL "$tp" 2>/dev/null || true
				wait "$tp" 2>/dev/null || true
				start_pmd
				b0=$(tp_rate "$window")
				rates[base]+=" $b0"
				continue
			fi
			rates[base]+=" $b1"
			rates[$key]+=" $r"
			pps[$key]+=" $PPS"
			ratios[$key]+=" $(awk -v r="$r" -v a="$b0" -v b="$b1" 'BEGIN { printf "%.3f", 2 * r / (a + b) }')"
			b0=$b1
		done
	done
done

# shellcheck disable=SC2016 # backquotes: markdown
printf 'dpdk-testpmd 24.11 (Debian 13 root, hugepages, `--forward-mode=io`, net_null0 <-> net_null1, forwarding lcore on CPU 0); port 0 rx rate from telemetry over %s s windows, %s rounds; both tools on CPU 1 at port 0 rx+tx, snap 128, pcap to /dev/shm; "kept" = median of (window / mean of the no-capture windows just before and after it); "written" = the packets capinfos counts in the file over the time from the tool being attached to its SIGINT.\n\n' "$window" "$rounds"
echo "| condition | port 0 rx, median | kept | written to the file, median (M/s) | windows (Mpps) |"
echo "|---|---:|---:|---:|---|"
declare -A label=(
	[base]="no capture"
	[dpdk-dumpcap.none]="dpdk-dumpcap 24.11, filter matching nothing"
	[netcap.none]="netcap --inject, filter matching nothing"
	[dpdk-dumpcap.all]="dpdk-dumpcap 24.11, everything"
	[netcap.all]="netcap --inject, everything"
)
for c in base dpdk-dumpcap.none netcap.none dpdk-dumpcap.all netcap.all; do
	[[ -n ${rates[$c]:-} ]] || continue
	m=$(tp_median <<<"${rates[$c]}")
	w=$(tr ' ' '\n' <<<"${rates[$c]}" | grep . | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1e6 }')
	k=1 p=–
	if [[ $c != base ]]; then
		k=$(tp_median <<<"${ratios[$c]}")
		p=$(tp_median <<<"${pps[$c]}" | awk '{ printf "%.2f", $1 / 1e6 }')
	fi
	awk -v l="${label[$c]}" -v m="$m" -v k="$k" -v w="$w" -v p="$p" \
		'BEGIN { printf "| %s | %.2f Mpps | %.0f %% | %s | %s |\n", l, m / 1e6, 100 * k, p, w }'
done
echo
echo "Last round, as each tool reported it, and the packets in its file (capinfos):"
echo
echo '```'
for c in dpdk-dumpcap.none netcap.none dpdk-dumpcap.all netcap.all; do
	[[ -e $tmp/last.$c ]] || continue
	echo "${label[$c]}:"
	sed 's/^/    /' "$tmp/last.$c"
done
echo '```'
echo
for tool in "${tools[@]}"; do
	echo "dpdk-testpmd after ${runs[$tool]:-0} detaches of $tool: died or stopped forwarding ${died[$tool]:-0} times."
done
if [[ -e $tmp/deaths ]]; then
	echo
	echo '```'
	cat "$tmp/deaths"
	echo '```'
fi
# what it printed besides its statistics (errors of the pdump side, if any)
bad='process_portal_map|Unknown error|PANIC|Segmentation|pdump|EAL: .*([Ee]rror|fail)'
if cat "$tmp"/testpmd.*.out | grep -qE "$bad"; then
	echo
	echo "dpdk-testpmd's error lines over the run ($starts start(s)):"
	echo '```'
	cat "$tmp"/testpmd.*.out | grep -E "$bad" | sort | uniq -c | head -10
	echo '```'
fi
