# shellcheck shell=bash
# Helpers for the integration tests: temporary directories, the nc_fwd DPDK fixture
# (tests/apps/nc_fwd.c) and byte-exact pcap dumps. Source it from a bash test:
#
#   source "$(dirname "$0")/lib.sh" [NC_FWD_PATH]
#
# nc_fwd's path is $NC_FWD (ctest sets it), else the first argument given to `source`.
# Sourcing installs `trap nc_cleanup EXIT`; a test that sets its own EXIT trap must call
# nc_cleanup from it. Cleanup kills only the fixture processes started here (by PID), removes
# their DPDK runtime directories and the temporary directories, also when the test fails.
#
#   nc_tmpdir [VAR]                 new temp dir, removed at exit; path in $VAR (default NC_TMP)
#   nc_fwd_start [APP_OPTS...] -- EAL_ARGS...
#                                   start nc_fwd in the background and wait (20 s at most) until
#                                   its ports are started; APP_OPTS are nc_fwd's own options
#                                   (--count N, --segments K, --strip-vlan, --stats, ...), EAL_ARGS
#                                   the devices, e.g. --vdev 'net_pcap0,rx_pcap=IN,tx_pcap=OUT'
#                                   (lcore 0 unless EAL_ARGS give -l, -c or --lcores).
#                                   Sets NC_FWD_PID, NC_FWD_PREFIX, NC_FWD_DIR (its temp dir),
#                                   NC_FWD_OUT / NC_FWD_ERR (its stdout / stderr files),
#                                   NC_FWD_GO (the go file). Returns 1 if it did not get ready.
#   nc_fwd_run [APP_OPTS...] -- EAL_ARGS...
#                                   run nc_fwd in the foreground (60 s at most), same EAL
#                                   arguments, no ready/go files; returns its exit status
#   nc_fwd_go                       let the last started fixture receive (creates its go file)
#   nc_fwd_wait [SECONDS]           wait (default 30 s) for the last fixture to exit; returns its
#                                   exit status, or 124 after killing it on timeout
#   nc_fwd_stop                     SIGTERM the last fixture (clean exit), then nc_fwd_wait
#   nc_pcap_hex FILE                one line per packet: "CAPLEN WIRELEN HEXBYTES" (pcap or
#                                   pcapng; timestamps ignored), for byte-exact comparisons
#   nc_replay_input DIR             the corpus' whole frames as DIR/in.pcap and DIR/in.hex, their
#                                   number in NC_IN_COUNT
#   nc_fail MESSAGE                 fail the test
#   nc_file_offset FILE SYMBOL      the file offset (hex) of SYMBOL in ELF FILE (OBJECT+0xOFF)
#   nc_inject_setup NETCAP          an --inject replay test's start: root or exit 77, $tmp, the
#                                   replay's input, $n, nc_rp_* for NETCAP, a 2 s stop bound
#   nc_wait_file FILE [SECONDS] [PID]
#                                   wait until FILE exists (10 s at most), e.g. a --ready-file;
#                                   returns 1 if it never did, or at once when process PID (the
#                                   file's writer) is gone without having written it
#   nc_wait_attached PID [SECONDS]  wait until process PID (a netcap, or the extcap) holds a BPF
#                                   program attached through a perf-event link (a uprobe), and
#                                   remember its programs (nc_remember_progs)
#   nc_remember_progs PID           remember the BPF programs process PID (a netcap, attached)
#                                   holds, read from its file descriptors; fails if it holds none
#                                   while it runs
#   nc_progs_left                   how many of the remembered programs are still loaded (0 once
#                                   their netcap exited); others' captures running at the same
#                                   time do not count; a bpftool that fails otherwise than with
#                                   "no such program" fails the test
#   nc_prog_snapshot                remember the BPF programs loaded now (before a netcap that is
#                                   expected to refuse)
#   nc_progs_new                    how many programs named nc_* were loaded since the snapshot
#   nc_hugepages PAGES              reserve PAGES more 2 MB hugepages and mount a hugetlbfs;
#                                   later fixtures use it instead of --no-huge (a DPDK secondary
#                                   process such as dpdk-dumpcap needs it); both are undone at
#                                   exit. Returns 1 if the kernel could not reserve them.
#   nc_veth_pair A B ADDR_A ADDR_B  network namespaces A and B (removed at exit) joined by a veth
#                                   pair, v0 in A with ADDR_A/24, v1 in B with ADDR_B/24; lo up,
#                                   no IPv6 (no autoconfiguration chatter at random times)
#   nc_adopt PID [PREFIX]           a process this test started by itself (e.g. dpdk-testpmd), killed
#                                   at exit like the fixtures; PREFIX: its DPDK --file-prefix,
#                                   whose runtime directory is removed
#   nc_cleanup                      what the EXIT trap runs: the fixtures and adopted processes,
#                                   then the test's background jobs still running, ended
#                                   (SIGTERM, then SIGKILL after 2 s); runtime and temp
#                                   directories, hugepages, namespaces removed
#   nc_code_state PID               "same" when the code of nc_fwd and libc in process PID is
#                                   their files' bytes, else "jump FUNC ..." for each function
#                                   patched to jump into a live trampoline (--inject); anything
#                                   else: a message, status 1
#   nc_traced PID                   true while a thread of PID is traced (ptrace)
#
# Replay captures (the mbuf tests): the input replayed by one nc_fwd net_pcap port onto itself,
# netcap mbuf attached before the fixture receives. NC_RP_DIR (the test's temp dir, holding
# in.pcap from nc_replay_input) and NC_RP_NETCAP (the netcap binary) must be set.
#   nc_rp_fixture NAME [APP_OPTS...]    start the fixture (--count NC_IN_COUNT)
#   nc_rp_start NAME NETCAP_ARGS...     netcap mbuf in the background (pid in nc_pid) until it is
#                                       attached (--ready-file); its BPF programs remembered
#                                       (none with --inject)
#   nc_rp_finish NAME                   let the fixture replay, wait for both, check both exit 0 and
#                                       that nothing of netcap's stays loaded
#   nc_rp_capture NAME APP_OPTS... -- NETCAP_ARGS...
#                                       one whole run writing NC_RP_DIR/NAME.pcapng
#   nc_rp_same NAME WANT.hex            the capture holds exactly these packets, in order

: "${NC_FWD:=${1:-}}"
export NC_FWD

_nc_tmpdirs=()
_nc_fwd_pids=()
_nc_fwd_prefixes=()
_nc_fwd_seq=0
_nc_huge_dir=
_nc_huge_before=
_nc_huge_file=/proc/sys/vm/nr_hugepages

nc_log() { echo "lib.sh: $*" >&2; }

# nc_fail MESSAGE: the test fails with MESSAGE
nc_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# nc_file_offset FILE SYMBOL: the file offset (hex) of SYMBOL's address in ELF FILE (through the
# LOAD segment holding it): what OBJECT+0xOFF hook specs take; nothing when there is none
nc_file_offset() {
	python3 - "$1" "$2" <<'PY'
import subprocess, sys
addr = next((int(l.split()[0], 16) for l in subprocess.run(["nm", sys.argv[1]], capture_output=True,
             text=True).stdout.splitlines() if l.split() and l.split()[-1] == sys.argv[2]), None)
for l in subprocess.run(["readelf", "-lW", sys.argv[1]], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if addr is not None and f and f[0] == "LOAD" and int(f[2], 16) <= addr < int(f[2], 16) + int(f[5], 16):
        print(hex(addr - int(f[2], 16) + int(f[1], 16)))
PY
}

# nc_inject_setup NETCAP: the start of an --inject test over the replay: exits 77 unless root
# (ptrace into the fixture); each stop of nc_fwd's threads bounded by 2 s (a loaded machine can
# hold a sleeping thread of nc_fwd off the CPU longer than the default 100 ms: docs/inproc.md
# "Patching"); a temp dir in $tmp; nc_rp_* set up there for NETCAP; the replay's input in
# $tmp/in.pcap and in.hex, its packets in $n
nc_inject_setup() {
	[[ $(id -u) == 0 ]] || {
		echo "SKIP: --inject needs root (ptrace into the fixture)"
		exit 77
	}
	export NETCAP_PATCH_TIMEOUT_MS=2000
	tmp=
	nc_tmpdir tmp
	NC_RP_DIR=$tmp NC_RP_NETCAP=$1
	nc_replay_input "$tmp"
	n=$NC_IN_COUNT
}

# nc_wait_file FILE [SECONDS] [PID]: waits until FILE exists (10 s at most); 1 if it never did.
# With PID (the process that writes FILE, e.g. netcap --ready-file): 1 as soon as PID is no longer
# running (_nc_alive) and FILE does not exist; the file is looked for once more after PID is seen
# gone, so a process that wrote it and exited at once still counts as ready. Whoever writes FILE
# must create it whole (netcap and nc_fwd rename it into place; agent_cap's is empty).
nc_wait_file() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[[ -e $1 ]] && return 0
		if [[ -n ${3:-} ]] && ! _nc_alive "$3"; then
			[[ -e $1 ]]
			return
		fi
		sleep 0.05
	done
	[[ -e $1 ]]
}

# nc_testpmd_forwarding OUT [SECONDS]: wait (default 20 s) until the non-interactive dpdk-testpmd
# writing OUT has started forwarding. Its ports are started ("Port 1: ...") before its main lcore
# drains every RX queue itself (flush_fwd_rx_queues), so a capture attached between the two sees
# that thread poll every queue and counts what it drains. The RX/TX configuration ("nb forwarding
# cores=...") is printed after the drain, in every release (the stream list, before it in 22.11).
nc_testpmd_forwarding() {
	local i
	for ((i = 0; i < ${2:-20} * 20; i++)); do
		grep -q 'nb forwarding cores=' "$1" && return 0
		sleep 0.05
	done
	grep -q 'nb forwarding cores=' "$1"
}

# nc_wait_attached PID [SECONDS]: wait (default 20 s) until process PID holds a BPF program
# attached through a perf-event link (a uprobe), i.e. until its capture is live; its programs are
# remembered (nc_remember_progs)
nc_wait_attached() {
	local i id ids links
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		mapfile -t ids < <(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
		if ((${#ids[@]} > 0)); then
			links=$(bpftool link show) || nc_fail "bpftool link show failed"
			for id in "${ids[@]}"; do
				if grep -qE "perf_event +prog $id\b" <<<"$links"; then
					nc_remember_progs "$1"
					return 0
				fi
			done
		fi
		sleep 0.1
	done
	return 1
}

# nc_replay_input DIR: the whole frames of the corpus ($NC_TEST_DATA/corpus_eth.pcap) as
# DIR/in.pcap, their dump (nc_pcap_hex) as DIR/in.hex, their number in NC_IN_COUNT. Whole frames
# only: net_pcap's rx makes pkt_len = caplen, so a truncated record would come out with its wire
# length changed; 60 bytes and more: the minimum Ethernet frame.
nc_replay_input() {
	: "${NC_TEST_DATA:?NC_TEST_DATA must name the directory of corpus_eth.pcap}"
	tshark -r "$NC_TEST_DATA/corpus_eth.pcap" -Y "frame.cap_len == frame.len && frame.len >= 60" \
		-F pcap -w "$1/in.pcap" 2>/dev/null
	nc_pcap_hex "$1/in.pcap" >"$1/in.hex"
	NC_IN_COUNT=$(wc -l <"$1/in.hex")
	[[ $NC_IN_COUNT -ge 100 ]] || nc_fail "the replay input has only $NC_IN_COUNT packets"
}

# DPDK's runtime directory for a --file-prefix (eal_get_runtime_dir: root uses /var/run)
_nc_dpdk_rundir() {
	if [[ $EUID == 0 ]]; then
		echo "/var/run/dpdk/$1"
	else
		echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
	fi
}

nc_tmpdir() {
	local _nc_var=${1:-NC_TMP} _nc_dir
	_nc_dir=$(mktemp -d "${TMPDIR:-/tmp}/nctest.XXXXXX") || return 1
	_nc_tmpdirs+=("$_nc_dir")
	printf -v "$_nc_var" '%s' "$_nc_dir"
}

# true while PID is a running (not yet reaped, not zombie) process; no process forked (the wait
# loops call it every few ms, also under TCG): the state is the field after the last ") "
_nc_alive() {
	local state
	{ read -r state <"/proc/$1/stat"; } 2>/dev/null || return 1
	state=${state##*) }
	state=${state%% *}
	[[ -n $state && $state != Z && $state != X ]]
}

# _nc_fwd_prepare CALLER [APP_OPTS...] -- EAL_ARGS...: what starting nc_fwd needs, either way:
# the arguments split into _nc_app and _nc_eal, a temp dir and a unique --file-prefix
# (NC_FWD_PREFIX, NC_FWD_DIR, NC_FWD_OUT, NC_FWD_ERR)
_nc_fwd_prepare() {
	local caller=$1 dir a
	shift
	_nc_app=()
	while (($#)) && [[ $1 != -- ]]; do
		_nc_app+=("$1")
		shift
	done
	if [[ ${1:-} != -- ]]; then
		nc_log "$caller: want [APP_OPTS...] -- EAL_ARGS..."
		return 2
	fi
	shift
	_nc_eal=("$@")
	_nc_lcores=(-l 0)
	for a in "$@"; do
		[[ $a != -l && $a != -c && $a != --lcores* ]] || _nc_lcores=()
	done
	_nc_mem=(--no-huge)
	[[ -z $_nc_huge_dir ]] || _nc_mem=(--huge-dir "$_nc_huge_dir")
	if [[ -z $NC_FWD || ! -x $NC_FWD ]]; then
		nc_log "nc_fwd not found: set NC_FWD or pass its path to 'source lib.sh PATH'"
		return 1
	fi
	nc_tmpdir dir || return 1
	_nc_fwd_seq=$((_nc_fwd_seq + 1))
	NC_FWD_PREFIX="nctest-$$-$_nc_fwd_seq-$RANDOM"
	NC_FWD_DIR=$dir
	NC_FWD_OUT=$dir/stdout
	NC_FWD_ERR=$dir/stderr
	_nc_fwd_prefixes+=("$NC_FWD_PREFIX")
}

nc_fwd_start() {
	local dir i
	_nc_fwd_prepare nc_fwd_start "$@" || return $?
	dir=$NC_FWD_DIR
	NC_FWD_GO=$dir/go
	"$NC_FWD" --file-prefix "$NC_FWD_PREFIX" "${_nc_mem[@]}" --no-pci -m 256 "${_nc_lcores[@]}" "${_nc_eal[@]}" \
		-- --ready-file "$dir/ready" --go-file "$NC_FWD_GO" "${_nc_app[@]}" \
		>"$NC_FWD_OUT" 2>"$NC_FWD_ERR" </dev/null &
	NC_FWD_PID=$!
	_nc_fwd_pids+=("$NC_FWD_PID")
	export NC_FWD_PID NC_FWD_PREFIX NC_FWD_DIR NC_FWD_OUT NC_FWD_ERR NC_FWD_GO
	for ((i = 0; i < 2000; i++)); do # 20 s
		if [[ -s $dir/ready ]]; then
			if [[ $(cat "$dir/ready") != "$NC_FWD_PID" ]]; then
				nc_log "nc_fwd ready file says $(cat "$dir/ready"), started PID $NC_FWD_PID"
				return 1
			fi
			return 0
		fi
		if ! _nc_alive "$NC_FWD_PID"; then
			nc_log "nc_fwd exited before it was ready; its stderr:"
			cat "$NC_FWD_ERR" >&2
			return 1
		fi
		sleep 0.01
	done
	nc_log "nc_fwd (PID $NC_FWD_PID) not ready after 20 s; its stderr:"
	cat "$NC_FWD_ERR" >&2
	return 1
}

# nc_fwd_run [APP_OPTS...] -- EAL_ARGS...: run nc_fwd in the foreground (60 s at most) with the
# same EAL arguments, without ready/go files; stdout/stderr in NC_FWD_OUT/NC_FWD_ERR; returns
# its exit status (usage errors, --count runs that need no synchronisation)
nc_fwd_run() {
	local status=0
	_nc_fwd_prepare nc_fwd_run "$@" || return $?
	timeout -s TERM -k 2 60 "$NC_FWD" --file-prefix "$NC_FWD_PREFIX" "${_nc_mem[@]}" --no-pci -m 256 \
		"${_nc_lcores[@]}" "${_nc_eal[@]}" -- "${_nc_app[@]}" >"$NC_FWD_OUT" 2>"$NC_FWD_ERR" </dev/null || status=$?
	return "$status"
}

nc_fwd_go() {
	: >"$NC_FWD_GO"
}

nc_fwd_wait() {
	local limit=${1:-30} i status=0
	for ((i = 0; i < limit * 100; i++)); do
		_nc_alive "$NC_FWD_PID" || break
		sleep 0.01
	done
	if _nc_alive "$NC_FWD_PID"; then
		nc_log "nc_fwd (PID $NC_FWD_PID) still running after ${limit} s; killing it"
		_nc_kill "$NC_FWD_PID"
		return 124
	fi
	wait "$NC_FWD_PID" || status=$?
	return "$status"
}

nc_fwd_stop() {
	_nc_alive "$NC_FWD_PID" && kill -TERM "$NC_FWD_PID" 2>/dev/null
	nc_fwd_wait "${1:-10}"
}

# TERM, KILL after 2 s, then reap; only for PIDs this shell started
_nc_kill() {
	local pid=$1 i
	if _nc_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			_nc_alive "$pid" || break
			sleep 0.01
		done
		_nc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

_nc_progs=()
nc_remember_progs() {
	local ids
	mapfile -t ids < <(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
	# a netcap that already finished (-c N on a fast replay) took its programs with it
	((${#ids[@]} > 0)) || ! _nc_alive "$1" || nc_fail "netcap $1 holds no BPF program once attached"
	_nc_progs+=("${ids[@]}")
}

nc_progs_left() {
	local id count=0 out
	for id in "${_nc_progs[@]}"; do
		if out=$(bpftool prog show id "$id" 2>&1); then
			count=$((count + 1))
		elif [[ $out != *"No such file or directory"* ]]; then
			nc_fail "bpftool prog show id $id: $out"
		fi
	done
	echo "$count"
}

_nc_snapshot=
nc_prog_snapshot() {
	_nc_snapshot=$(bpftool prog show -j | jq -r '.[].id' | sort) || nc_fail "bpftool prog show failed"
}

nc_progs_new() {
	local now
	now=$(bpftool prog show -j | jq -r '.[] | select(.name // "" | startswith("nc_")) | .id' | sort) ||
		nc_fail "bpftool prog show failed"
	comm -13 <(echo "$_nc_snapshot") <(echo "$now") | grep -c . || true
}

nc_hugepages() {
	local dir free
	nc_tmpdir dir
	_nc_huge_before=$(cat "$_nc_huge_file")
	echo $((_nc_huge_before + $1)) >"$_nc_huge_file"
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	if ((free < $1)); then
		nc_log "asked for $1 hugepages, the kernel has $free free"
		return 1
	fi
	mount -t hugetlbfs -o pagesize=2M nodev "$dir" || return 1
	_nc_huge_dir=$dir
}

_nc_netns=()
nc_veth_pair() {
	local ns
	ip netns add "$1" || return 1
	_nc_netns+=("$1")
	ip netns add "$2" || return 1
	_nc_netns+=("$2")
	ip link add v0 netns "$1" type veth peer name v1 netns "$2" || return 1
	ip -n "$1" addr add "$3/24" dev v0
	ip -n "$2" addr add "$4/24" dev v1
	for ns in "$1" "$2"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$1" link set v0 up
	ip -n "$2" link set v1 up
}

nc_adopt() {
	_nc_fwd_pids+=("$1")
	[[ -z ${2:-} ]] || _nc_fwd_prefixes+=("$2")
}

nc_cleanup() {
	local pid prefix dir ns left
	for pid in "${_nc_fwd_pids[@]}"; do
		_nc_kill "$pid"
	done
	# what the test started in the background and left running (a netcap when a check failed
	# before its end): SIGTERM first, so that it detaches as on a user's ^C, then SIGKILL
	mapfile -t left < <(jobs -pr)
	for pid in "${left[@]}"; do
		_nc_kill "$pid"
	done
	for prefix in "${_nc_fwd_prefixes[@]}"; do
		rm -rf "$(_nc_dpdk_rundir "$prefix")"
	done
	if [[ -n $_nc_huge_dir ]]; then
		rm -f "$_nc_huge_dir"/* 2>/dev/null
		umount "$_nc_huge_dir" 2>/dev/null
		_nc_huge_dir=
	fi
	if [[ -n $_nc_huge_before ]]; then
		echo "$_nc_huge_before" >"$_nc_huge_file"
		_nc_huge_before=
	fi
	for dir in "${_nc_tmpdirs[@]}"; do
		rm -rf "$dir"
	done
	for ns in "${_nc_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	_nc_netns=()
	_nc_fwd_pids=()
	_nc_fwd_prefixes=()
	_nc_tmpdirs=()
}
trap nc_cleanup EXIT

nc_rp_fixture() {
	local name=$1
	shift
	nc_fwd_start --count "$NC_IN_COUNT" "$@" -- \
		--vdev "net_pcap0,rx_pcap=$NC_RP_DIR/in.pcap,tx_pcap=$NC_RP_DIR/$name.tx.pcap"
}

nc_rp_start() {
	local name=$1 arg bpf=1
	shift
	for arg in "$@"; do [[ $arg != --inject ]] || bpf=0; done
	"$NC_RP_NETCAP" mbuf --ready-file "$NC_RP_DIR/$name.ready" --duration 60 "$@" \
		>"$NC_RP_DIR/$name.out" 2>"$NC_RP_DIR/$name.err" &
	nc_pid=$!
	nc_wait_file "$NC_RP_DIR/$name.ready" 20 "$nc_pid" ||
		nc_fail "$name: netcap exited early or did not attach within 20 s: $(cat "$NC_RP_DIR/$name.err")"
	((bpf == 0)) || nc_remember_progs "$nc_pid"
}

nc_rp_finish() {
	local name=$1 status=0
	nc_fwd_go
	wait "$nc_pid" || status=$?
	[[ $status == 0 ]] || nc_fail "$name: netcap exited $status: $(cat "$NC_RP_DIR/$name.err")"
	status=0
	nc_fwd_wait || status=$?
	[[ $status == 0 ]] || nc_fail "$name: nc_fwd exited $status"
	[[ $(nc_progs_left) == 0 ]] || nc_fail "$name: probes still loaded after netcap exited"
}

nc_rp_capture() {
	local name=$1 fwd_opts=()
	shift
	while [[ $1 != -- ]]; do
		fwd_opts+=("$1")
		shift
	done
	shift
	nc_rp_fixture "$name" "${fwd_opts[@]}"
	nc_rp_start "$name" --pid "$NC_FWD_PID" -w "$NC_RP_DIR/$name.pcapng" "$@"
	nc_rp_finish "$name"
}

nc_rp_same() {
	nc_pcap_hex "$NC_RP_DIR/$1.pcapng" >"$NC_RP_DIR/$1.hex"
	diff -u "$2" "$NC_RP_DIR/$1.hex" >"$NC_RP_DIR/$1.diff" ||
		nc_fail "$1: capture differs: $(head -c 1500 "$NC_RP_DIR/$1.diff")"
}

# nc_fields FILE TSHARK-ARGS...: tshark's fields of each packet of FILE (-T fields -e ...)
nc_fields() { tshark -r "$1" -T fields "${@:2}" 2>/dev/null; }

# nc_rp_meta FILE: each packet's interface, direction, queue and comment, the pid, thread and CPU
# made P, T and C: what must be the same through --inject and through uprobes
nc_rp_meta() {
	nc_fields "$1" -e frame.interface_name -e frame.packet_flags_direction -e frame.interface_queue \
		-e frame.comment | sed -E 's/\[[0-9]+\]/[P]/; s/pid [0-9]+ tid [0-9]+ cpu [0-9]+/pid P tid T cpu C/'
}

# The frame bytes come from tshark's "frame_raw" (-T json -x), the lengths from frame.cap_len and
# frame.len; every line is checked (hex length = 2 * caplen), so a dump is exact or fails.
nc_pcap_hex() {
	local - file=$1
	set -o pipefail
	if [[ ! -r $file ]]; then
		nc_log "nc_pcap_hex: cannot read $file"
		return 1
	fi
	tshark -r "$file" -T json -x -j frame 2> >(grep -v '^Running as user' >&2) |
		jq -r '.[]._source.layers
			| "\(.frame["frame.cap_len"]) \(.frame["frame.len"]) \(.frame_raw[0] // "")"' |
		awk '{ if (NF < 2 || length($3) != 2 * $1) { bad = 1; exit 1 } print }
			END { if (bad) { print "nc_pcap_hex: bad record " NR > "/dev/stderr"; exit 1 } }'
}

# nc_code_state PID: "same" when every executable mapping of nc_fwd and libc holds its file's bytes, else
# "jump FUNC" for each function whose first 5 bytes are a jmp into an anonymous executable
# mapping (a trampoline); anything else fails
nc_code_state() {
	python3 - "$1" <<'PY'
import re, subprocess, sys
pid = sys.argv[1]
maps = [l.split() for l in open(f"/proc/{pid}/maps")]
def live(addr):
    return any(int(m[0].split('-')[0], 16) <= addr < int(m[0].split('-')[1], 16) and
               m[1].startswith('r-x') and len(m) == 5 for m in maps)
out = []
with open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for m in maps:
        if len(m) < 6 or not m[1].startswith('r-x') or not re.search(r'(nc_fwd|libc\.so\.6)$', m[5]):
            continue
        lo, hi = (int(x, 16) for x in m[0].split('-'))
        off = int(m[2], 16)
        mem.seek(lo)
        got = mem.read(hi - lo)
        with open(m[5], "rb") as f:
            f.seek(off)
            want = f.read(hi - lo)
        if len(want) < len(got):
            got = got[:len(want)]
        diff = [i for i in range(len(got)) if got[i] != want[i]]
        if not diff:
            continue
        syms = {}
        for line in subprocess.run(["nm", "--defined-only", m[5]], capture_output=True, text=True).stdout.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "tT":
                syms[int(p[0], 16)] = p[2]
        # PIE: a symbol's address is the mapping's start + (its address - the mapping's offset)
        seen = set()
        for d in diff:
            entry = next((a for a in syms if off + d - 4 <= a <= off + d), None)
            if entry is None:
                sys.exit(f"{m[5]}+{off + d:#x}: changed, not at a function's entry")
            if entry in seen:
                continue
            seen.add(entry)
            at = entry - off
            b = got[at:at + 5]
            if b[0] != 0xe9:
                sys.exit(f"{syms[entry]}: first bytes {b.hex()}: neither the original nor a jump")
            to = lo + at + 5 + int.from_bytes(b[1:5], "little", signed=True)
            if not live(to):
                sys.exit(f"{syms[entry]}: jumps to {to:#x}, which is no live trampoline")
            out.append(f"jump {syms[entry]}")
print(" ".join(sorted(out)) if out else "same")
PY
}
# nc_traced PID: true while a thread of process PID is traced (ptrace)
nc_traced() { grep -q "TracerPid:[[:space:]]*[1-9]" /proc/"$1"/task/*/status 2>/dev/null; }
