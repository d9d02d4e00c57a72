#!/usr/bin/env bash
# bench/dumpcap: netcap against DPDK's own capture, dpdk-dumpcap (Debian's dpdk package), at the
# same port of the nc_fwd forwarder at saturation (net_null0 <-> net_null1, 64-byte packets):
# dpdk-dumpcap -i net_null0 captures the port's rx and tx through rte_pdump (the fixture calls
# rte_pdump_init(); a secondary process needs hugepages, so this reserves 2 MB pages and releases
# them after); netcap hooks the same port's PMD functions (-f rx_burst:0,tx_burst:0). Same snap
# length (128), same filters (one matching nothing, none), both writing classic pcap (-P) to
# /dev/shm (dpdk-dumpcap 22.11 stops writing pcapng after ~1M packets: "No such device or address").
# Reports the forwarder's rate (kept as a share of the baseline: the same fixture, hugepages and
# pdump, nothing capturing), the packets each tool says it wrote and the drops it reports.
# Medians of several runs. Reports, never asserts.
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
nc_hugepages 160 || nc_fail "could not reserve 160 hugepages of 2 MB"

# run TOOL FILTER: one run; RATE (forwarded packets/s), WRITTEN, DROPPED.
# Not called in $(...): lib.sh must see the fixture it starts to clean up after it.
run() {
	local tool=$1 filter=$2 pid="" rx fargs=()
	# the fixture forwards for exactly the window, then idles with the capture still attached
	nc_fwd_start --pdump --stats --run-ms $((secs * 1000)) -- --vdev net_null0 --vdev net_null1 \
		>/dev/null
	rm -f "$tmp/ready" "$tmp/tool.err"
	case $tool in
	dpdk-dumpcap)
		[[ -z $filter ]] || fargs=(-f "$filter")
		dpdk-dumpcap --file-prefix "$NC_FWD_PREFIX" -i net_null0 -s 128 "${fargs[@]}" \
			-P -w "$shm/out.pcap" >"$tmp/tool.err" 2>&1 &
		pid=$!
		for _ in $(seq 400); do grep -qs "Packets captured" "$tmp/tool.err" && break; sleep 0.05; done
		grep -qs "Packets captured" "$tmp/tool.err" || { cat "$tmp/tool.err" >&2; exit 1; }
		;;
	netcap)
		"$netcap" mbuf --pid "$NC_FWD_PID" -f rx_burst:0,tx_burst:0 -e "$filter" -s 128 \
			-P -w "$shm/out.pcap" --ready-file "$tmp/ready" 2>"$tmp/tool.err" &
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
	rm -f "$shm/out.pcap"
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	RATE=$((rx / secs))
	WRITTEN=0 DROPPED=0
	case $tool in
	dpdk-dumpcap)
		# its progress counter is rewritten in place with backspaces: the last number counts
		WRITTEN=$(tr '\r\b' '\n ' <"$tmp/tool.err" | awk '/^Packets captured:/ {n = $NF} END {print n + 0}')
		DROPPED=$(awk -F'[:/ ]+' '/received\/dropped/ {d += $(NF-1)} END {print d + 0}' "$tmp/tool.err")
		;;
	netcap)
		WRITTEN=$(awk '/: seen .* written/ {for (i = 1; i < NF; i++) if ($i == "written") w += $(i+1)} END {print w + 0}' "$tmp/tool.err")
		DROPPED=$(awk '/: seen .* dropped/ {for (i = 1; i < NF; i++) if ($i == "dropped") d += $(i+1)} END {print d + 0}' "$tmp/tool.err")
		;;
	esac
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# measure TOOL FILTER: medians in RATE, WRITTEN, DROPPED
measure() {
	local r=() w=() d=()
	for _ in $(seq "$runs"); do
		run "$1" "$2"
		r+=("$RATE") w+=("$WRITTEN") d+=("$DROPPED")
	done
	RATE=$(echo "${r[*]}" | median) WRITTEN=$(echo "${w[*]}" | median) DROPPED=$(echo "${d[*]}" | median)
}

measure none ""
base=$RATE
printf 'Forwarder: nc_fwd with hugepages and rte_pdump_init(), one lcore, net_null0 <-> net_null1 (64-byte packets), %s s per run, median of %s runs; both tools capture port 0 (rx and tx), snap length 128, classic pcap (`-P`) to a file in /dev/shm (dpdk-dumpcap 22.11 stops writing pcapng after ~1M packets with \"No such device or address\"). "written" and "dropped" are what each tool reports (dpdk-dumpcap: packets captured, and dropped on the interface; netcap: its summary lines).\n\n' "$secs" "$runs"
printf '| tool | filter | forwarded Mpps | kept | written | dropped |\n|---|---|---:|---:|---:|---:|\n'
printf '| none | – | %.2f | 100%% | – | – |\n' "$(echo "$base / 1000000" | bc -l)"
for tool in dpdk-dumpcap netcap; do
	for filter in "ether proto 0x88b5" ""; do
		measure "$tool" "$filter"
		label="all"
		[[ -z $filter ]] || label="none (\`$filter\`)"
		printf '| %s | %s | %.2f | %.1f%% | %s | %s |\n' "$tool" "$label" \
			"$(echo "$RATE / 1000000" | bc -l)" "$(echo "100 * $RATE / $base" | bc -l)" "$WRITTEN" "$DROPPED"
	done
done
