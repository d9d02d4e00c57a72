#!/usr/bin/env bash
# bench/profile: where the forwarder's time goes while netcap captures every packet at a burst
# function: perf record on the nc_fwd process (net_null0 <-> net_null1, 64-byte packets) with
# netcap attached at SPEC (default fwd_burst@1@2, no filter, snap length 128, to /dev/null);
# prints the symbols taking at least 1% of the samples, and the probe hits per second.
# Reports, never asserts.
# Usage: profile.sh NETCAP NC_FWD [SPEC] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: profile.sh NETCAP NC_FWD [SPEC] [SECONDS]}
export NC_FWD=${2:?usage: profile.sh NETCAP NC_FWD [SPEC] [SECONDS]}
spec=${3:-fwd_burst@1@2}
secs=${4:-2}
# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh"
tmp=
nc_tmpdir tmp
command -v perf >/dev/null || nc_fail "perf is missing (apt-get install linux-perf)"
nc_fwd_start --stats -- --vdev net_null0 --vdev net_null1 >/dev/null
"$netcap" mbuf --pid "$NC_FWD_PID" -f "$spec" -s 128 -w /dev/null --ready-file "$tmp/ready" \
	2>"$tmp/netcap.err" &
nc=$!
for _ in $(seq 400); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
[[ -e $tmp/ready ]] || { cat "$tmp/netcap.err" >&2; exit 1; }
nc_fwd_go
sleep 0.5
perf record -q -o "$tmp/perf.data" -p "$NC_FWD_PID" -- sleep "$secs" >/dev/null 2>&1
nc_fwd_stop >/dev/null || true
wait "$nc" || true
seen=$(awk '/: seen/ {for (i = 1; i < NF; i++) if ($i == "seen") s += $(i+1)} END {print s + 0}' "$tmp/netcap.err")
printf 'perf record of nc_fwd for %s s while `netcap mbuf -f %s -s 128 -w /dev/null` captures every packet (%s packets seen in all). Symbols with at least 1%% of the samples; `bpf_prog_*` are netcap'"'"'s BPF functions.\n\n' "$secs" "$spec" "$seen"
printf '| share | where | symbol |\n|---:|---|---|\n'
perf report -q -i "$tmp/perf.data" --sort dso,symbol --stdio 2>/dev/null |
	awk '$1 + 0 >= 1 {dso = $2; sub(/^bpf_prog_[0-9a-f]+_/, "bpf_prog_", dso); sym = $4
		sub(/^bpf_prog_[0-9a-f]+_/, "", sym); printf "| %s | %s | `%s` |\n", $1, dso, sym}'
