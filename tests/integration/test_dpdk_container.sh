#!/usr/bin/env bash
# A DPDK application in a container, netcap on the host. nc_fwd built against DPDK 24.11 (the
# Debian 13 root of tests/dpdk/roots.sh) runs in its own mount and pid namespaces, its root an
# overlay on the Debian root (as container engines make them), pivoted into, the host's tree
# unmounted, so /proc/PID/maps shows the container's paths. Two traps make reading a same-named host file fail: the application sits at
# the very path of the host's own nc_fwd (a DPDK 22.11 build: other symbols, DWARF, USDT notes),
# and netcap runs in a mount namespace of its own where a different librte_net_pcap.so.25.0 and
# librte_ethdev.so.25.0 (copies of the host's 22.11 ones) lie at the container's paths.
# netcap list --pid HOSTPID names the release and the container's functions; rx_burst,
# fwd_burst@1@2 (DWARF) and usdt:nc_fwd:burst captured together (with -S) are each byte-identical
# to the replayed input and the stack is named from the container's file; the pid the container
# gives its application, passed by mistake, gets an error naming the host pid; the extcap lists
# the application under its name and offers its host pid; nothing stays attached. --inject (the
# container in its own network namespace too, no agent file in it): netcap list says it is possible
# and how; rx_burst:0 and tx_burst:0 byte-identical to the replay, the agent copied in through a
# memfd and loaded once for two captures, the container's files and mounts unchanged; the same
# against dpdk-testpmd in a user namespace of its own (a rootless container).
# Usage: test_dpdk_container.sh NETCAP NETCAP_EXTCAP   (environment: NC_FWD, NC_ROOTS, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_dpdk_container.sh NETCAP NETCAP_EXTCAP}
extcap=${2:?usage: test_dpdk_container.sh NETCAP NETCAP_EXTCAP}
export TMPDIR=/tmp
host_fwd=${NC_FWD:?NC_FWD must name the host build of nc_fwd}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=dpdk_lib.sh
source "$here/dpdk_lib.sh"
fail() { nc_fail "$@"; }

nc_root 24.11
tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT
libdir=/usr/lib/x86_64-linux-gnu
[[ -e $libdir/dpdk/pmds-23.0/librte_net_pcap.so.23.0 && -e $libdir/librte_ethdev.so.23.0 ]] ||
	fail "no host librte_net_pcap.so.23.0 and librte_ethdev.so.23.0 (DPDK 22.11) for the trap"

# the container's root: an overlay, as container engines make them, of the test's directory
# $tmp/croot on the Debian 13 root
export NC_ROOT_OVERLAY=$tmp/croot
# trap 1: the container's application at the host nc_fwd's path. /tmp is bound into the
# container (dpdk_lib.sh): a host build under /tmp (a CI clone) would be the host's file in there
# too, so the trap path then lies outside it, a copy of the host's nc_fwd at it
if [[ $host_fwd == /tmp/* ]]; then
	trapdir=
	TMPDIR=/var/tmp nc_tmpdir trapdir
	cp "$host_fwd" "$trapdir/nc_fwd"
	host_fwd=$trapdir/nc_fwd
fi
mkdir -p "$NC_ROOT_OVERLAY$(dirname "$host_fwd")"
cp "$NC_ROOT/nc/nc_fwd" "$NC_ROOT_OVERLAY$host_fwd"
cmp -s "$host_fwd" "$NC_ROOT_OVERLAY$host_fwd" && fail "the host's and the container's nc_fwd are the same file"

# trap 2: trapped CMD...: CMD in a mount namespace of its own where the container's
# librte_net_pcap.so.25.0 path holds another file (an overlay on the host's library folder)
mkdir -p "$tmp/upper/dpdk/pmds-25.0" "$tmp/work"
cp "$libdir/dpdk/pmds-23.0/librte_net_pcap.so.23.0" "$tmp/upper/dpdk/pmds-25.0/librte_net_pcap.so.25.0"
cp "$libdir/librte_ethdev.so.23.0" "$tmp/upper/librte_ethdev.so.25.0"
# shellcheck disable=SC2016 # expanded by that sh, from its arguments
trap_sh='mount --make-rprivate / &&
	mount -t overlay overlay -o "lowerdir=$0,upperdir=$1/upper,workdir=$1/work" "$0" &&
	shift && exec "$@"'
trapped() { unshare --mount -- sh -c "$trap_sh" "$libdir" "$tmp" "$@"; }
trapped test -e "$libdir/dpdk/pmds-25.0/librte_net_pcap.so.25.0" || fail "the overlay trap does not work here"

NC_ROOT_EXE=$host_fwd nc_root_start container --count "$n" --stats -- \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"
pid=$NC_FWD_PID
nspid=$NC_FWD_NSPID
[[ $nspid != "$pid" ]] || fail "the fixture has the same pid ($pid) inside its pid namespace"
grep -qE " $host_fwd$" "/proc/$pid/maps" || fail "the maps do not show the container's path $host_fwd"
for lib in dpdk/pmds-25.0/librte_net_pcap.so.25.0 librte_ethdev.so.25.0; do
	grep -qE " $libdir/$lib$" "/proc/$pid/maps" || fail "no container path $libdir/$lib in the maps"
done
[[ $(stat -L -c %i "/proc/$pid/exe") != $(stat -c %i "$host_fwd") ]] || fail "the container's nc_fwd is the host's file"
echo "container: nc_fwd pid $pid (pid $nspid inside), maps show $host_fwd, its librte_ethdev.so.25.0 and librte_net_pcap.so.25.0: other files at those paths for netcap"

# netcap list through the container's files
trapped "$netcap" list --pid "$pid" >"$tmp/list" 2>&1 || fail "netcap list: $(cat "$tmp/list")"
head -1 "$tmp/list" | grep -qx "nc_fwd\[$pid\]: DPDK 24.11, /proc/$pid/root$host_fwd" || fail "netcap list: $(head -1 "$tmp/list")"
grep -qE '^  rx_burst librte_net_pcap\.so\.25\.0\+0x[0-9a-f]+$' "$tmp/list" || fail "netcap list: no rx_burst: $(cat "$tmp/list")"
grep -q "^  fwd_burst@1@2 " "$tmp/list" && grep -q "usdt:nc_fwd:burst " "$tmp/list" ||
	fail "netcap list: the container's DWARF functions or USDT probes missing: $(cat "$tmp/list")"
echo "netcap list --pid $pid: DPDK 24.11, /proc/$pid/root$host_fwd, its rx_burst, DWARF functions and USDT probes"

# the pid the container shows, given by mistake
status=0
"$netcap" list --pid "$nspid" >"$tmp/ns.out" 2>"$tmp/ns.err" || status=$?
((status != 0)) || fail "netcap list --pid $nspid succeeded: $(cat "$tmp/ns.out")"
grep -qF "; pid $nspid in a container's pid namespace is the DPDK application nc_fwd (host pid $pid)" "$tmp/ns.err" ||
	grep -qF ", nc_fwd (host pid $pid)" "$tmp/ns.err" || fail "netcap list --pid $nspid said: $(cat "$tmp/ns.err")"
echo "netcap list --pid $nspid (its pid inside): $(cat "$tmp/ns.err")"

# the extcap lists it by its name and offers its host pid
export HOME=$tmp/home
mkdir -p "$HOME/.config/wireshark/extcap"
cp "$extcap" "$HOME/.config/wireshark/extcap/netcap-extcap"
trapped tshark -D 2>/dev/null | grep -qF ". netcap:nc_fwd:fwd_burst (netcap: nc_fwd/fwd_burst)" || fail "tshark -D lacks nc_fwd"
trapped "$extcap" --extcap-config --extcap-interface netcap:nc_fwd:fwd_burst |
	grep -qxF "value {arg=0}{value=$pid}{display=nc_fwd[$pid]}" || fail "the extcap does not offer pid $pid"
echo "extcap: netcap:nc_fwd:fwd_burst listed, pid $pid offered as nc_fwd[$pid]"

# capture at the PMD, a DWARF function and a USDT probe of the container's files
# (not through the function: $! must be netcap itself, which unshare and sh become by exec)
unshare --mount -- sh -c "$trap_sh" "$libdir" "$tmp" "$netcap" mbuf --ready-file "$tmp/cap.ready" --duration 60 --pid "$pid" \
	-f rx_burst,fwd_burst@1@2,usdt:nc_fwd:burst@1@2 -S -c $((3 * n)) -w "$tmp/cap.pcapng" \
	>"$tmp/cap.out" 2>"$tmp/cap.err" &
nc_pid=$!
nc_wait_file "$tmp/cap.ready" 20 "$nc_pid" ||
	fail "netcap exited early or did not attach within 20 s: $(cat "$tmp/cap.err")"
nc_remember_progs "$nc_pid"
nc_fwd_go
wait "$nc_pid" || fail "netcap: $(cat "$tmp/cap.err")"
status=0
nc_root_wait || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status: $(tail -3 "$NC_FWD_ERR")"
[[ $(nc_progs_left) == 0 ]] || fail "probes still loaded after netcap exited"
for ifn in rx_burst:port0 fwd_burst usdt:nc_fwd:burst; do
	tshark -r "$tmp/cap.pcapng" -Y "frame.interface_name == \"nc_fwd[$pid]:$ifn\"" -w "$tmp/$ifn.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/$ifn.pcapng" >"$tmp/$ifn.hex"
	diff -u "$tmp/in.hex" "$tmp/$ifn.hex" >"$tmp/$ifn.diff" ||
		fail "$ifn: capture differs ($(wc -l <"$tmp/$ifn.hex") of $n packets): $(head -c 1200 "$tmp/$ifn.diff")"
done
grep -qx "nc_fwd: rx $n tx $n dropped 0" "$NC_FWD_OUT" || fail "nc_fwd: $(cat "$NC_FWD_OUT")"
echo "rx_burst, fwd_burst@1@2 and usdt:nc_fwd:burst@1@2 in the container: each the $n input packets byte for byte"
# -S: the stack at fwd_burst named from the container's nc_fwd (its symbols and DWARF lines)
line=$(grep -nF "fwd_burst(pkts, n);" "$NC_ROOT/nc/nc_fwd.c" | head -1 | cut -d: -f1)
tshark -r "$tmp/fwd_burst.pcapng" -T fields -e frame.comment 2>/dev/null | sort -u >"$tmp/stacks"
re="stack:\\\\n  fwd_burst(\\+0x[0-9a-f]+)? \\(nc_fwd.c:[0-9]+\\)\\\\n  forward( \\(inlined\\)|\\+0x[0-9a-f]+) \\(nc_fwd.c:$line\\)\\\\n"
while read -r c; do
	[[ $c =~ $re ]] || fail "-S: the stack at fwd_burst: $c, want /$re/"
done <"$tmp/stacks"
echo "-S: fwd_burst <- forward (nc_fwd.c:$line), named from the container's file"

# --inject into the container: the container has no agent file (netcap's lies under the host's
# build tree, the installed one under the host's LIBDIR) and its own network namespace (the
# host's abstract sockets are not its). The agent goes in through a memfd of the process, the
# socket is made in the container's network namespace; nothing is left in its files or mounts.
# /tmp is bound into the container (dpdk_lib.sh): the build's agent under /tmp (a CI clone)
# would be visible in there, so netcap loads a copy of it from a directory the container does not
# see (its /var/tmp is the root's own)
agentdir=
TMPDIR=/var/tmp nc_tmpdir agentdir
cp "$(dirname "$netcap")/../agent/libnetcap-agent.so" "$agentdir/"
export NETCAP_AGENT=$agentdir/libnetcap-agent.so
NC_ROOT_EXE=$host_fwd nc_root_start container --stats -- \
	--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx2.pcap"
pid=$NC_FWD_PID
[[ $(readlink "/proc/$pid/ns/net") != $(readlink /proc/self/ns/net) ]] || fail "the container shares netcap's network namespace"
[[ -z $(find "/proc/$pid/root/" -xdev -name 'libnetcap-agent*' 2>/dev/null) ]] || fail "the container has an agent file before the capture"
# what must not change: the container's own files (the overlay's upper directory: every file
# the container writes lands there) and its mounts
snapshot() {
	(cd "$NC_ROOT_OVERLAY" && find . -printf '%p %y %s %T@\n' | sort)
	sed 's/^[0-9]* [0-9]* //' "/proc/$pid/mountinfo" | sort
}
snapshot >"$tmp/files.before"
# copies of the agent loaded: the memfds (inodes) mapped
agents() { awk '/ \/memfd:libnetcap-agent\.so \(deleted\)$/ {print $5}' "/proc/$pid/maps" | sort -u | wc -l; }
shared() { grep -c "netcap-inproc" "/proc/$pid/maps" || true; }
want="in-process capture (--inject): possible (the agent is loaded through thread T, dpdk-intr, stopped a few milliseconds; no lcore stops; copied in through a memfd: its root has no agent; its socket made in the process's network namespace)"
"$netcap" list --pid "$pid" >"$tmp/list2" 2>&1 || fail "netcap list: $(cat "$tmp/list2")"
[[ $(grep "^in-process" "$tmp/list2" | sed 's/through thread [0-9]*,/through thread T,/') == "$want" ]] ||
	fail "netcap list --pid $pid: $(grep -i in-process "$tmp/list2")"
echo "netcap list --pid $pid: $(grep -i in-process "$tmp/list2")"
# without CAP_SYS_ADMIN netcap cannot enter that network namespace for the agent's socket
capsh --drop=cap_sys_admin -- -c "\"$netcap\" list --pid $pid" >"$tmp/list3" 2>&1 ||
	fail "netcap list without CAP_SYS_ADMIN: $(cat "$tmp/list3")"
[[ $(grep "^in-process" "$tmp/list3") == "in-process capture (--inject): not possible: the process is in another network namespace (a container?) and entering it for the agent's socket takes CAP_SYS_ADMIN: run netcap as root" ]] ||
	fail "netcap list --pid $pid without CAP_SYS_ADMIN: $(grep -i in-process "$tmp/list3")"
echo "netcap list --pid $pid without CAP_SYS_ADMIN: $(grep -i in-process "$tmp/list3")"
# a first capture before the replay (no packet yet): the agent loaded, it leaves with netcap
"$netcap" mbuf -v --inject --pid "$pid" -f rx_burst:0 --duration 1 -w "$tmp/empty.pcapng" \
	>"$tmp/inj1.out" 2>"$tmp/inj1.err" || fail "netcap mbuf --inject (first): $(cat "$tmp/inj1.err")"
grep -q "; copied through a memfd (its root has no agent); socket in its network namespace$" "$tmp/inj1.err" ||
	fail "netcap did not say how the agent went in: $(cat "$tmp/inj1.err")"
[[ $(agents) == 1 && $(shared) == 0 ]] ||
	fail "after the first capture: $(agents) agent mapping(s) from a memfd (want 1), $(shared) of netcap's shared memory (want 0): $(grep -E 'memfd|netcap' "/proc/$pid/maps")"
# the replay captured at rx_burst:0 and tx_burst:0; the agent loaded already is used again
"$netcap" mbuf --inject --ready-file "$tmp/inj.ready" --duration 60 --pid "$pid" \
	-f rx_burst:0,tx_burst:0 -c $((2 * n)) -w "$tmp/inj.pcapng" >"$tmp/inj.out" 2>"$tmp/inj.err" &
nc_pid=$!
nc_wait_file "$tmp/inj.ready" 20 "$nc_pid" ||
	fail "netcap --inject exited early or did not attach within 20 s: $(cat "$tmp/inj.err")"
[[ $(agents) == 1 ]] || fail "a second injection loaded a second agent: $(grep memfd "/proc/$pid/maps")"
nc_fwd_go
wait "$nc_pid" || fail "netcap --inject: $(cat "$tmp/inj.err")"
[[ $(shared) == 0 && $(agents) == 1 ]] || fail "after the capture: $(grep -E 'memfd|netcap' "/proc/$pid/maps")"
for ifn in rx_burst:port0 tx_burst:port0; do
	tshark -r "$tmp/inj.pcapng" -Y "frame.interface_name == \"nc_fwd[$pid]:$ifn\"" -w "$tmp/inj-$ifn.pcapng" 2>/dev/null
	nc_pcap_hex "$tmp/inj-$ifn.pcapng" >"$tmp/inj-$ifn.hex"
	diff -u "$tmp/in.hex" "$tmp/inj-$ifn.hex" >"$tmp/inj-$ifn.diff" ||
		fail "--inject $ifn: capture differs ($(wc -l <"$tmp/inj-$ifn.hex") of $n packets): $(head -c 1200 "$tmp/inj-$ifn.diff")"
	grep -qx "netcap: nc_fwd\[$pid\]:$ifn: seen $n, matched $n, written $n, dropped 0 (ring full 0, unreadable 0)" "$tmp/inj.err" ||
		fail "--inject $ifn: summary: $(cat "$tmp/inj.err")"
done
snapshot >"$tmp/files.after"
diff -u "$tmp/files.before" "$tmp/files.after" >"$tmp/files.diff" ||
	fail "the container's files or mounts changed: $(head -c 1500 "$tmp/files.diff")"
[[ -z $(find "/proc/$pid/root/" -xdev -name 'libnetcap-agent*' 2>/dev/null) ]] || fail "an agent file was left in the container"
status=0
nc_root_stop || status=$?
[[ $status == 0 ]] || fail "nc_fwd exited $status after the --inject captures: $(tail -3 "$NC_FWD_ERR")"
grep -qx "nc_fwd: rx $n tx $n dropped 0" "$NC_FWD_OUT" || fail "nc_fwd: $(cat "$NC_FWD_OUT")"
echo "--inject in the container (own mount, pid and network namespaces, no agent file): rx_burst:0 and tx_burst:0 each the $n input packets byte for byte; one agent loaded for two captures, from a memfd; its files and mounts unchanged"

# the same in a user namespace of the container's own (a rootless engine's): DPDK 24.11's
# dpdk-testpmd forwarding net_null0 <-> net_null1, --inject at rx_burst:0 and tx_burst:0
unset NC_ROOT_OVERLAY
prefix=nctest-userns-$$
NC_ROOT_USERNS=1 nc_root_exec container "$prefix" /usr/bin/dpdk-testpmd --no-huge --no-pci -m 256 \
	-l 0-1 --file-prefix "$prefix" --vdev net_null0 --vdev net_null1 -- --forward-mode=io \
	--stats-period 3600 --total-num-mbufs 8192
pid=$NC_ROOT_PID
for _ in $(seq 100); do
	[[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == dpdk-testpmd ]] && grep -q "dpdk-intr" /proc/"$pid"/task/*/comm 2>/dev/null && break
	sleep 0.1
	read -r pid <"/proc/$NC_ROOT_PID/task/$NC_ROOT_PID/children" 2>/dev/null || true
done
[[ $(cat "/proc/$pid/comm" 2>/dev/null) == dpdk-testpmd ]] || fail "dpdk-testpmd did not start in a user namespace: $(tail -3 "$NC_ROOT_EXEC_ERR")"
[[ $(readlink "/proc/$pid/ns/user") != $(readlink /proc/self/ns/user) ]] || fail "dpdk-testpmd shares netcap's user namespace"
sleep 1 # its ports started
"$netcap" list --pid "$pid" >"$tmp/list3" 2>&1 || fail "netcap list (user namespace): $(cat "$tmp/list3")"
[[ $(grep "^in-process" "$tmp/list3" | sed 's/through thread [0-9]*,/through thread T,/') == "$want" ]] ||
	fail "netcap list --pid $pid (user namespace): $(grep -i in-process "$tmp/list3")"
"$netcap" mbuf --inject --pid "$pid" -f rx_burst:0,tx_burst:0 --duration 1 -w "$tmp/userns.pcapng" \
	>"$tmp/userns.out" 2>"$tmp/userns.err" || fail "netcap --inject (user namespace): $(cat "$tmp/userns.err")"
written=$(awk '/ packets written / {print $2}' "$tmp/userns.err")
((written > 0)) && [[ $(capinfos -Mc "$tmp/userns.pcapng" | awk '/Number of packets/ {print $NF}') == "$written" ]] ||
	fail "netcap --inject (user namespace): $(capinfos -c "$tmp/userns.pcapng") $(cat "$tmp/userns.err")"
[[ $(tshark -r "$tmp/userns.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | paste -sd,) == "dpdk-testpmd[$pid]:rx_burst:port0,dpdk-testpmd[$pid]:tx_burst:port0" ]] ||
	fail "netcap --inject (user namespace): interfaces $(tshark -r "$tmp/userns.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c)"
[[ $(shared) == 0 && $(agents) == 1 ]] || fail "after the capture in a user namespace: $(grep -E 'memfd|netcap' "/proc/$pid/maps")"
kill -0 "$pid" || fail "dpdk-testpmd died"
echo "--inject in a user namespace too (dpdk-testpmd 24.11, own user, mount, pid and network namespaces): $written packets in 1 s at rx_burst:0 and tx_burst:0 (the file holds them), one agent copy, nothing of netcap's left mapped"
