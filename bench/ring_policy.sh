#!/usr/bin/env bash
# bench/ring_policy: the ring's size (-B) and the reader's wake-up threshold (NETCAP_RING_WAKE=N:
# the probes wake the reader once 1/N of the ring is pending; it also drains every 100 ms),
# capturing everything at the burst function (fwd_burst@1@2, 64-byte packets, snap 128, pcapng to
# /dev/null) of the nc_fwd forwarder at saturation, as in bench/mbuf_rate.sh (the forwarder's
# lcore busy-polls CPU 0 for its window, netcap runs on CPU 1). Each round runs the baseline (no
# capture) and every size × threshold once, in turn, so that the machine's load falls on all
# alike; medians over the rounds. Prints a Markdown table: the forwarder's rate kept against the
# baseline (over the window and per second of its own CPU time) and the packets netcap reports
# dropped. Reports, never asserts.
# Usage: ring_policy.sh NETCAP NC_FWD [SECONDS_PER_RUN] [ROUNDS] [SIZES_KIB] [WAKES]
# SIZES_KIB and WAKES: comma-separated (default 1024,4096,16384 and 32,8,2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: ring_policy.sh NETCAP NC_FWD [SECONDS] [ROUNDS] [SIZES_KIB] [WAKES]"
# shellcheck disable=SC2034 # netcap and tmp: for rate_lib.sh
netcap=${1:?$usage}
export NC_FWD=${2:?$usage}
secs=${3:-2}
rounds=${4:-3}
IFS=, read -r -a sizes <<<"${5:-1024,4096,16384}"
IFS=, read -r -a wakes <<<"${6:-32,8,2}"
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
# shellcheck disable=SC2034
tmp=
nc_tmpdir tmp
tool_cpu=1
taskset -c "$tool_cpu" true 2>/dev/null ||
	nc_fail "bench/ring_policy needs CPU $tool_cpu for netcap, besides the forwarder's CPU 0"
# shellcheck source=rate_lib.sh
source "$here/rate_lib.sh"

declare -A all cpu drops
for _ in $(seq "$rounds"); do
	rate "" ""
	all[base]+="$RATE " cpu[base]+="$CPU_RATE "
	for b in "${sizes[@]}"; do
		for w in "${wakes[@]}"; do
			export NETCAP_RING_WAKE=$w
			rate fwd_burst@1@2 "" "-B $b"
			unset NETCAP_RING_WAKE
			all[$b/$w]+="$RATE " cpu[$b/$w]+="$CPU_RATE " drops[$b/$w]+="$DROPPED "
		done
	done
done
base=$(echo "${all[base]% }" | median) cpu_base=$(echo "${cpu[base]% }" | median)

printf 'Capturing everything at `fwd_burst@1@2` (64-byte packets, snap 128, pcapng to /dev/null) of nc_fwd forwarding between net_null0 and net_null1 for %s s per run (`--run-ms`); netcap on CPU 1 (`taskset -c 1`), the forwarder'"'"'s lcore on CPU 0. `-B` sets the ring, `NETCAP_RING_WAKE=N` wakes netcap'"'"'s reader once 1/N of the ring is pending (the reader also drains every 100 ms; default 4096 KiB and 1/8). Each of %s rounds runs the baseline and every row once, in turn; medians. "dropped": what netcap'"'"'s summary reports (ring full). Baseline: %.2f Mpps, %.2f Mpps per CPU second.\n\n' \
	"$secs" "$rounds" "$(echo "$base / 1000000" | bc -l)" "$(echo "$cpu_base / 1000000" | bc -l)"
printf '| ring, KiB | reader woken at | forwarded Mpps | kept | per CPU second, Mpps | kept | dropped |\n|---:|---:|---:|---:|---:|---:|---:|\n'
for b in "${sizes[@]}"; do
	for w in "${wakes[@]}"; do
		r=$(echo "${all[$b/$w]% }" | median) c=$(echo "${cpu[$b/$w]% }" | median)
		printf '| %s | 1/%s | %.2f | %.1f%% | %.2f | %.1f%% | %s |\n' "$b" "$w" \
			"$(echo "$r / 1000000" | bc -l)" "$(echo "100 * $r / $base" | bc -l)" \
			"$(echo "$c / 1000000" | bc -l)" "$(echo "100 * $c / $cpu_base" | bc -l)" \
			"$(echo "${drops[$b/$w]% }" | median)"
	done
done
