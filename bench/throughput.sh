#!/usr/bin/env bash
# bench/throughput: how many packets per second netcap writes to a pcapng file without loss,
# and whether the drops it reports above that equal what is missing from the file. The nc_fwd
# forwarder (one net_null port, 64-byte packets) receives at a paced rate (--rate) a fixed
# number of packets (--count); netcap hooks fwd_burst@1@2 (every packet, no filter, whole
# packets) and writes pcapng to /dev/shm, with the default ring (16 MiB) and the smallest
# (-B 4096). The file's packets are counted with capinfos. Reports, never asserts.
# Usage: throughput.sh NETCAP NC_FWD [SECONDS_PER_RUN]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: throughput.sh NETCAP NC_FWD [SECONDS]}
export NC_FWD=${2:?usage: throughput.sh NETCAP NC_FWD [SECONDS]}
secs=${3:-2}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp
shm=$(mktemp -d /dev/shm/netcap-bench.XXXXXX)
trap 'rm -rf "$shm"; nc_cleanup' EXIT

# row RATE_PPS|max RING_KIB: one run, one table row
row() {
	local rate=$1 ring=$2 count pace=() t0 t1 rx infile written dropped nc
	if [[ $rate == max ]]; then
		count=$((4000000 * secs))
	else
		count=$((rate * secs)) pace=(--rate "$rate")
	fi
	nc_fwd_start --stats --count "$count" "${pace[@]}" -- --vdev net_null0 >/dev/null
	rm -f "$tmp/ready" "$shm/out.pcapng"
	"$netcap" mbuf --pid "$NC_FWD_PID" -f fwd_burst@1@2 -B "$ring" -w "$shm/out.pcapng" \
		--ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
	nc=$!
	for _ in $(seq 400); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
	[[ -e $tmp/ready ]] || { cat "$tmp/netcap.err" >&2; exit 1; }
	t0=$(date +%s%N)
	nc_fwd_go
	nc_fwd_wait 120 >/dev/null || true
	t1=$(date +%s%N)
	wait "$nc" || true # netcap ends when the traced process exits
	rx=$(awk '/^nc_fwd: rx/ {print $3}' "$NC_FWD_OUT")
	infile=$(capinfos -M -c "$shm/out.pcapng" | awk '/Number of packets/ {print $NF}')
	written=$(awk '/: seen .* written/ {for (i = 1; i < NF; i++) if ($i == "written") w += $(i+1)} END {print w + 0}' "$tmp/netcap.err")
	dropped=$(awk '/: seen .* dropped/ {for (i = 1; i < NF; i++) if ($i == "dropped") d += $(i+1)} END {print d + 0}' "$tmp/netcap.err")
	rm -f "$shm/out.pcapng"
	local label="paced $(echo "$rate / 1000000" | bc -l | xargs printf '%.2f')"
	[[ $rate != max ]] || label="unpaced"
	printf '| %s | %s | %.2f | %s | %s | %s | %s | %s |\n' "$label" "$ring" \
		"$(echo "$rx * 1000 / ($t1 - $t0)" | bc -l)" "$rx" "$infile" "$dropped" "$((rx - infile))" \
		"$([[ $((rx - infile)) == "$dropped" && $written == "$infile" ]] && echo yes || echo NO)"
}

printf 'nc_fwd, one net_null port, 64-byte packets, %s s worth of packets per row; netcap -f fwd_burst@1@2, no filter, pcapng to /dev/shm. "forwarded Mpps" is what the forwarder achieved with the probe attached; "missing" = forwarded - in file; "accounted" says whether netcap'"'"'s reported drops equal the missing packets (and its written count the file'"'"'s).\n\n' "$secs"
printf '| offered Mpps | ring KiB | forwarded Mpps | forwarded | in file | dropped (reported) | missing | accounted |\n|---|---:|---:|---:|---:|---:|---:|---|\n'
for ring in 16384 4096; do
	for rate in 250000 500000 1000000 2000000 max; do
		row "$rate" "$ring"
	done
done
