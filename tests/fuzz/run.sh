#!/usr/bin/env bash
# Runs one libFuzzer target for NC_FUZZ_SECONDS seconds (default 12).
# Usage: run.sh FUZZER WORKDIR SEEDDIR...
# New inputs go to WORKDIR/corpus, a failing input to WORKDIR/crash-* (or leak-, timeout-,
# oom-); the last line printed is "fuzz: NAME: N runs in S s (R/s), cov C, ft F".
set -euo pipefail
fuzzer=$1 work=$2
shift 2
seconds=${NC_FUZZ_SECONDS:-12}
name=$(basename "$fuzzer")
mkdir -p "$work/corpus"
log="$work/last.log"
rc=0
# -timeout: an input that runs longer is a hang; -rss_limit_mb: ASan's shadow is not counted
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -error_exitcode=1 \
	-artifact_prefix="$work/" "$work/corpus" "$@" >"$log" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then
	tail -n 60 "$log"
	echo "fuzz: $name failed (exit $rc); the input is in $work/ (see docs/fuzzing.md)" >&2
	exit "$rc"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
secs=$(sed -n 's/^stat::.*//;s/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
secs=${secs:-$seconds}
# what a target reports about itself at exit (the filter targets: programs loaded, verdicts)
grep -E '^fuzz: [0-9]+ programs' "$log" | tail -n 1 | sed "s/^fuzz: /fuzz: $name: /" || true
echo "fuzz: $name: $runs runs in $secs s ($((runs / (secs > 0 ? secs : 1)))/s), cov ${cov:-?}, ft ${ft:-?}"
