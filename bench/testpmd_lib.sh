# shellcheck shell=bash
# bench/testpmd_lib.sh: what the in-process benchmarks share (inproc.sh, inject_ab.sh,
# inject_share.sh, dumpcap_2411.sh), sourced, never run.
#
# tp_start NAME [ENV=VALUE...]: dpdk-testpmd in io mode between net_null0 and net_null1 (no
#   hugepages, lcores 0-1: the forwarding lcore on CPU 1), with the environment given; sets
#   $tmp (a directory of its own), $prefix, $pmd (its pid), $telemetry (its telemetry socket),
#   and an EXIT trap that stops it and removes both; returns once port 1 is up and the socket is
#   there, or exits with its output.
# tp_rate [SECONDS]: port 0's received packets per second over SECONDS (default 1), read twice
#   from $telemetry; prints 0 when testpmd is gone.
# tp_inject NETCAP POINTS FILTER: that netcap's --inject capture of testpmd at POINTS with
#   FILTER, on CPU 0, written to /dev/null; sets $tp_cap (its pid) once it is attached, or exits with
#   its message.
# tp_median: the median of the numbers on its input (spaces or lines).

tp_cleanup() {
	[[ -z ${pmd:-} ]] || {
		kill -TERM "$pmd" 2>/dev/null || true
		wait "$pmd" 2>/dev/null || true
	}
	rm -rf "${tmp:-}" "/var/run/dpdk/${prefix:-none}"
}

tp_start() {
	local name=$1
	shift
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/nc-$name.XXXXXX")
	prefix=nc-$name-$$
	pmd=
	trap tp_cleanup EXIT
	env "$@" dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix "$prefix" -l 0-1 \
		--vdev net_null0 --vdev net_null1 -- --forward-mode=io --stats-period 3600 \
		--total-num-mbufs 8192 >"$tmp/testpmd.out" 2>&1 </dev/null &
	pmd=$!
	telemetry=/var/run/dpdk/$prefix/dpdk_telemetry.v2
	for _ in $(seq 200); do
		# the RX/TX configuration is printed once the main lcore has drained the queues
		grep -q 'nb forwarding cores=' "$tmp/testpmd.out" && [[ -S $telemetry ]] && return 0
		sleep 0.05
	done
	echo "$name: dpdk-testpmd did not start: $(cat "$tmp/testpmd.out")" >&2
	exit 1
}

tp_rate() {
	python3 - "$telemetry" "${1:-1}" <<'PY' 2>/dev/null || echo 0
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)
def sample():
    s.send(b"/ethdev/stats,0")
    n = json.loads(s.recv(16384))["/ethdev/stats"]["ipackets"]
    return n, time.monotonic()
n0, t0 = sample()
time.sleep(float(sys.argv[2]))
n1, t1 = sample()
print(int((n1 - n0) / (t1 - t0)))
PY
}

tp_inject() {
	rm -f "$tmp/ready"
	taskset -c 0 "$1" mbuf --inject --pid "$pmd" -f "$2" -e "$3" -w /dev/null \
		--ready-file "$tmp/ready" 2>"$tmp/netcap.err" &
	# shellcheck disable=SC2034 # read by the sourcing script
	tp_cap=$!
	for _ in $(seq 200); do
		[[ -e $tmp/ready ]] && return 0
		sleep 0.05
	done
	echo "$1 did not attach: $(cat "$tmp/netcap.err")" >&2
	exit 1
}

tp_median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
