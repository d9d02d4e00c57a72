#!/usr/bin/env bash
# bench/mbuf_rate: the nc_fwd forwarder at saturation between two net_null ports (64-byte
# packets, bursts of 32), packets per second with no capture, then with netcap attached at each
# hook kind, with a filter that matches nothing and one that matches everything (snap length
# 128, written to /dev/null). Medians of several runs; prints a Markdown table with the rate kept
# as a share of the no-capture baseline measured in the same run. Reports, never asserts.
# Usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS_PER_RUN] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
export NC_FWD=${2:?usage: mbuf_rate.sh NETCAP NC_FWD [SECONDS] [RUNS]}
secs=${3:-2}
runs=${4:-3}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp

# rate SPEC FILTER: forwarded packets per second over one run (SPEC "" = no capture), in $RATE.
# Not called in $(...): lib.sh must see the fixture it starts to clean up after it.
rate() {
	local spec=$1 filter=$2 nc_pid="" rx
	nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 >/dev/null
	if [[ -n $spec ]]; then
		rm -f "$tmp/ready"
		"$netcap" mbuf --pid "$NC_FWD_PID" -f "$spec" -e "$filter" -s 128 -w /dev/null \
			--ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
		nc_pid=$!
		for _ in $(seq 200); do [[ -e $tmp/ready ]] && break; sleep 0.1; done
		[[ -e $tmp/ready ]] || { cat "$tmp/netcap.err" >&2; exit 1; }
	fi
	nc_fwd_go
	sleep "$secs"
	nc_fwd_stop >/dev/null || true
	[[ -z $nc_pid ]] || wait "$nc_pid" || true
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	RATE=$((rx / secs))
}

median() { tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

measure() { # SPEC FILTER: the median rate in $RATE
	local all=()
	for _ in $(seq "$runs"); do
		rate "$1" "$2"
		all+=("$RATE")
	done
	RATE=$(echo "${all[*]}" | median)
}

measure "" ""
base=$RATE
printf 'Forwarder: nc_fwd, one lcore, net_null0 <-> net_null1 (64-byte packets, bursts of 32), %s s per run, median of %s runs. netcap writes pcapng to /dev/null, snap length 128.\n\n' "$secs" "$runs"
printf '| hook point | kind | filter | forwarded Mpps | kept |\n|---|---|---|---:|---:|\n'
printf '| none | – | – | %.2f | 100%% |\n' "$(echo "$base / 1000000" | bc -l)"
for row in "fwd_one@1|per-packet function" "fwd_burst@1@2|burst function (array + count)" \
	"fwd_rx@2@ret|return side (array filled by the call)" "rx_burst|PMD rx, read on return" \
	"tx_burst|PMD tx, read on entry"; do
	spec=${row%%|*} kind=${row#*|}
	for filter in "ether proto 0x88b5" ""; do
		measure "$spec" "$filter"
		r=$RATE
		label="all"
		[[ -z $filter ]] || label="none (\`$filter\`)"
		printf '| `%s` | %s | %s | %.2f | %.1f%% |\n' "$spec" "$kind" "$label" \
			"$(echo "$r / 1000000" | bc -l)" "$(echo "100 * $r / $base" | bc -l)"
	done
done
