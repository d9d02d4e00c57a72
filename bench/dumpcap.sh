#!/usr/bin/env bash
# bench/dumpcap: netcap (through uprobes, and inside the process with --inject) against DPDK's own
# capture, dpdk-dumpcap (Debian's dpdk package), at the same port of the nc_fwd forwarder at saturation (net_null0 <-> net_null1, 64-byte packets):
# dpdk-dumpcap -i net_null0 captures the port's rx and tx through rte_pdump (the fixture calls
# rte_pdump_init(); a secondary process needs hugepages, so this reserves 2 MB pages and releases
# them after); netcap hooks the same port's PMD functions (-f rx_burst:0,tx_burst:0). Same snap
# length (128), same filters (one matching nothing, none), both writing classic pcap (-P) to
# /dev/shm (dpdk-dumpcap 22.11 stops writing pcapng after ~1M packets: "No such device or address").
# The same conditions for both: the forwarder's lcore busy-polls CPU 0 (-l 0), both tools run on
# CPU 1 (taskset; left alone, dpdk-dumpcap's main lcore would be CPU 0, the first it may use);
# both rings hold the same number of 64-byte packets (netcap -B 4096, its smallest ring, holds
# 4 MiB / 128-byte records = 32768; dpdk-dumpcap -N 32768, its ring in packets, with twice as many
# mbufs in its pool). The forwarder times its own window (--run-ms); the tool stops 1 s after it,
# once its ring is drained. Reports the forwarder's rate (kept as a share of the baseline: the
# same fixture, hugepages and pdump, nothing capturing), what each tool says it saw, wrote and
# dropped, and the packets in its file as capinfos counts them. Medians of several runs, per
# column. Reports, never asserts.
# Usage: dumpcap.sh NETCAP NC_FWD [SECONDS_PER_RUN] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: dumpcap.sh NETCAP NC_FWD [SECONDS] [RUNS]}
export NC_FWD=${2:?usage: dumpcap.sh NETCAP NC_FWD [SECONDS] [RUNS]}
secs=${3:-2}
runs=${4:-3}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp
# the files go to memory (dpdk-dumpcap cannot write to /dev/null: "No such device or address"),
# in classic pcap: dpdk-dumpcap 22.11's pcapng writer fails the same way after ~1M packets
shm=$(mktemp -d /dev/shm/netcap-bench.XXXXXX)
trap 'rm -rf "$shm"; nc_cleanup' EXIT
command -v dpdk-dumpcap >/dev/null || nc_fail "dpdk-dumpcap is missing (apt-get install dpdk)"
command -v capinfos >/dev/null || nc_fail "capinfos is missing (apt-get install tshark)"
nc_hugepages 160 || nc_fail "could not reserve 160 hugepages of 2 MB"
# the forwarder's lcore is CPU 0 (nc_fwd_start: -l 0); the tools run on this one
tool_cpu=1
taskset -c "$tool_cpu" true 2>/dev/null ||
	nc_fail "bench/dumpcap needs CPU $tool_cpu for the tools, besides the forwarder's CPU 0"
# rings of the same size in 64-byte packets: netcap's smallest ring, in records of 8 (ring
# header) + 56 (netcap's record header) + 64 bytes, and dpdk-dumpcap's ring in packets
ring_kib=4096
slots=$((ring_kib * 1024 / (8 + 56 + 64)))

# run TOOL FILTER: one run; RATE (forwarded packets/s), and as the tool reports them SEEN,
# WRITTEN, DROPPED; INFILE: the packets in its file (capinfos).
# Not called in $(...): lib.sh must see the fixture it starts to clean up after it.
run() {
	local tool=$1 filter=$2 pid="" rx fargs=()
	# the fixture forwards for exactly the window, then idles with the capture still attached
	nc_fwd_start --pdump --stats --run-ms $((secs * 1000)) -- --vdev net_null0 --vdev net_null1 \
		>/dev/null
	rm -f "$tmp/ready" "$tmp/tool.err" "$shm/out.pcap"
	case $tool in
	dpdk-dumpcap)
		[[ -z $filter ]] || fargs=(-f "$filter")
		taskset -c "$tool_cpu" dpdk-dumpcap --file-prefix "$NC_FWD_PREFIX" -i net_null0 -s 128 \
			-N "$slots" "${fargs[@]}" -P -w "$shm/out.pcap" >"$tmp/tool.err" 2>&1 &
		pid=$!
		for _ in $(seq 400); do grep -qs "Packets captured" "$tmp/tool.err" && break; sleep 0.05; done
		grep -qs "Packets captured" "$tmp/tool.err" || { cat "$tmp/tool.err" >&2; exit 1; }
		;;
	netcap | "netcap --inject")
		[[ $tool == netcap ]] || fargs=(--inject)
		taskset -c "$tool_cpu" "$netcap" mbuf "${fargs[@]}" --pid "$NC_FWD_PID" -f rx_burst:0,tx_burst:0 \
			-e "$filter" -s 128 -B "$ring_kib" -P -w "$shm/out.pcap" --ready-file "$tmp/ready" \
			2>"$tmp/tool.err" &
		pid=$!
		for _ in $(seq 400); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
		[[ -e $tmp/ready ]] || { cat "$tmp/tool.err" >&2; exit 1; }
		;;
	esac
	nc_fwd_go
	sleep "$secs"
	sleep 1 # the ring drained: netcap wakes its reader at least every 100 ms
	# the capture stops first (dpdk-dumpcap needs its primary to report), then the fixture
	[[ -z $pid ]] || { kill -INT "$pid" 2>/dev/null || true; wait "$pid" || echo "bench/dumpcap: $tool exited $? before the end of the run: $(tr "\r\b" "\n " <"$tmp/tool.err" | tail -3)" >&2; }
	nc_fwd_stop >/dev/null || true
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	RATE=$((rx / secs))
	SEEN=0 WRITTEN=0 DROPPED=0 INFILE=0
	[[ ! -e $shm/out.pcap ]] ||
		INFILE=$(capinfos -c -M "$shm/out.pcap" | awk '/^Number of packets:/ {print $NF}')
	rm -f "$shm/out.pcap"
	case $tool in
	dpdk-dumpcap)
		# its progress counter is rewritten in place with backspaces: the last number counts;
		# "Packets received/dropped on interface 'net_null0': R/D (P)": R its callbacks filtered
		# out or copied (seen), D copies lost for want of a ring slot or an mbuf
		WRITTEN=$(tr '\r\b' '\n ' <"$tmp/tool.err" | awk '/^Packets captured:/ {n = $NF} END {print n + 0}')
		SEEN=$(awk -F'[:/ ]+' '/received\/dropped/ {s += $(NF-2)} END {print s + 0}' "$tmp/tool.err")
		DROPPED=$(awk -F'[:/ ]+' '/received\/dropped/ {d += $(NF-1)} END {print d + 0}' "$tmp/tool.err")
		;;
	netcap*)
		# its summary lines: "netcap: POINT: seen S, matched M, written W, dropped D (...)"
		SEEN=$(awk '/: seen .* written/ {for (i = 1; i < NF; i++) if ($i == "seen") s += $(i+1)} END {print s + 0}' "$tmp/tool.err")
		WRITTEN=$(awk '/: seen .* written/ {for (i = 1; i < NF; i++) if ($i == "written") w += $(i+1)} END {print w + 0}' "$tmp/tool.err")
		DROPPED=$(awk '/: seen .* dropped/ {for (i = 1; i < NF; i++) if ($i == "dropped") d += $(i+1)} END {print d + 0}' "$tmp/tool.err")
		;;
	esac
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# measure TOOL FILTER: the medians of RATE, SEEN, WRITTEN, INFILE, DROPPED, each on its own
measure() {
	local r=() s=() w=() f=() d=()
	for _ in $(seq "$runs"); do
		run "$1" "$2"
		r+=("$RATE") s+=("$SEEN") w+=("$WRITTEN") f+=("$INFILE") d+=("$DROPPED")
	done
	RATE=$(echo "${r[*]}" | median) SEEN=$(echo "${s[*]}" | median)
	WRITTEN=$(echo "${w[*]}" | median) INFILE=$(echo "${f[*]}" | median)
	DROPPED=$(echo "${d[*]}" | median)
}

measure none ""
base=$RATE
printf 'Forwarder: nc_fwd with hugepages and rte_pdump_init(), its lcore busy-polling CPU 0, net_null0 <-> net_null1 (64-byte packets); it forwards for %s s per run (`--run-ms`), median of %s runs (per column). Both tools run on CPU 1 (`taskset -c 1`), capture port 0 (rx and tx), snap length 128, rings of %s packets (netcap `-B %s`, dpdk-dumpcap `-N %s`), classic pcap (`-P`) to a file in /dev/shm (dpdk-dumpcap 22.11 stops writing pcapng after ~1M packets with \"No such device or address\"), and stop 1 s after the window. "seen", "written" and "dropped" are what each tool reports (dpdk-dumpcap: received and dropped on the interface, packets captured; netcap: its summary lines); "in file" is what capinfos counts in the tool'"'"'s file.\n\n' \
	"$secs" "$runs" "$slots" "$ring_kib" "$slots"
printf '| tool | filter | forwarded Mpps | kept | seen | written | in file | dropped |\n|---|---|---:|---:|---:|---:|---:|---:|\n'
printf '| none | – | %.2f | 100%% | – | – | – | – |\n' "$(echo "$base / 1000000" | bc -l)"
for tool in dpdk-dumpcap netcap "netcap --inject"; do
	for filter in "ether proto 0x88b5" ""; do
		measure "$tool" "$filter"
		label="all"
		[[ -z $filter ]] || label="none (\`$filter\`)"
		printf '| %s | %s | %.2f | %.1f%% | %s | %s | %s | %s |\n' "$tool" "$label" \
			"$(echo "$RATE / 1000000" | bc -l)" "$(echo "100 * $RATE / $base" | bc -l)" \
			"$SEEN" "$WRITTEN" "$INFILE" "$DROPPED"
	done
done
