#!/usr/bin/env bash
# Capture without root, as with Wireshark's dumpcap: packaging/netcap-privileges gives a copy of
# netcap and netcap-extcap to root:GROUP 0750 with file capabilities. Then, with a throwaway
# group and two throwaway users (a member and a non-member, removed at exit):
#  - the member captures from an nc_fwd the member started, byte-identical to the replayed input,
#    into a file the member owns, and netcap's programs are gone afterwards; lists its hook
#    points; captures in the kernel; lists the extcap's interfaces;
#  - the member is refused, with the exact message, a fixture run by root (capture and list), a
#    raw file offset, and a file in a directory only root may write;
#  - the non-member cannot run the binaries;
#  - without the file capabilities (and after `disable`) netcap names every missing capability.
# Usage: test_privileges.sh NETCAP NETCAP_EXTCAP SOURCE_DIR   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap_built=${1:?usage: test_privileges.sh NETCAP NETCAP_EXTCAP SOURCE_DIR}
extcap_built=${2:?usage: test_privileges.sh NETCAP NETCAP_EXTCAP SOURCE_DIR}
src=${3:?usage: test_privileges.sh NETCAP NETCAP_EXTCAP SOURCE_DIR}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tag=$$$RANDOM
group=nctg$tag
member=nctm$tag
other=ncto$tag
member_pids=()
cleanup() {
	local pid
	# the fixtures started as the member, and anything else of that throwaway user (by pid),
	# or userdel refuses
	for pid in "${member_pids[@]}" $(pgrep -u "$member" 2>/dev/null); do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${member_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		pgrep -u "$member" >/dev/null 2>&1 || break
		sleep 0.1
	done
	userdel "$member" 2>/dev/null || true
	userdel "$other" 2>/dev/null || true
	groupdel "$group" 2>/dev/null || true
	nc_cleanup
}
trap cleanup EXIT

tmp=
nc_tmpdir tmp
chmod 0755 "$tmp"
nc_replay_input "$tmp"
n=$NC_IN_COUNT
chmod 0644 "$tmp/in.pcap"

# the copies netcap-privileges works on, and one left without capabilities
mkdir -m 0755 "$tmp/bin"
cp "$netcap_built" "$tmp/bin/netcap"
cp "$extcap_built" "$tmp/bin/netcap-extcap"
cp "$NC_FWD" "$tmp/bin/nc_fwd" # the member runs it: the build tree may not be open to others
cp "$netcap_built" "$tmp/bin/netcap-plain"
cp "$extcap_built" "$tmp/bin/netcap-extcap-plain"
chmod 0755 "$tmp/bin/netcap-plain" "$tmp/bin/netcap-extcap-plain"

groupadd --system "$group"
useradd --system -M -d /nonexistent -s /usr/sbin/nologin -G "$group" "$member"
useradd --system -M -d /nonexistent -s /usr/sbin/nologin "$other"
m_uid=$(id -u "$member")
m_gid=$(id -g "$member")
mkdir -m 0700 "$tmp/member" "$tmp/rootonly"
chown "$member:" "$tmp/member"

# as USER CMD...: run CMD as USER with USER's groups, exec'd from a shell that holds no
# capability (setpriv keeps its own until it execs, which would hide a missing execute bit)
as() {
	local user=$1
	shift
	env -u XDG_RUNTIME_DIR HOME=/nonexistent \
		setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- sh -c 'exec "$@"' sh "$@"
}

# expect STATUS MESSAGE COMMAND...: this exit status and exactly this stderr
expect() {
	local want_status=$1 want=$2 status=0
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
	[[ $status == "$want_status" ]] || fail "$*: exit $status, want $want_status: $(cat "$tmp/err")"
	[[ $(cat "$tmp/err") == "$want" ]] || fail "$*: '$(cat "$tmp/err")', want '$want'"
}

# the ids of the BPF programs process $1 holds
progs_of() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un
}

# enable: the group exists, the binaries are root:GROUP 0750 with the capabilities
sh "$src/packaging/netcap-privileges" enable --group "$group" "$tmp/bin/netcap" "$tmp/bin/netcap-extcap" \
	>"$tmp/enable.out" 2>&1 || fail "enable: $(cat "$tmp/enable.out")"
caps=cap_bpf,cap_perfmon,cap_sys_admin
case $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) in
1 | 2) caps=$caps,cap_sys_ptrace ;;
esac
cat >"$tmp/enable.want" <<WANT
netcap-privileges: $tmp/bin/netcap: root:$group 0750, $caps=ep
netcap-privileges: $tmp/bin/netcap-extcap: root:$group 0750, $caps=ep
netcap-privileges: members of $group can now capture; add users with: usermod -aG $group USER (then log in again)
WANT
diff -u "$tmp/enable.want" "$tmp/enable.out" || fail "enable: output differs"
for b in netcap netcap-extcap; do
	[[ $(stat -c '%U:%G %a' "$tmp/bin/$b") == "root:$group 750" ]] || fail "enable: $b is $(stat -c '%U:%G %a' "$tmp/bin/$b")"
	getcap "$tmp/bin/$b" | grep -q "cap_sys_admin,cap_perfmon,cap_bpf=ep" || fail "enable: $b has $(getcap "$tmp/bin/$b")"
done
echo "enable: root:$group 0750, $caps=ep"

# without BINARY, the binaries installed beside the script (PREFIX/sbin, bin, lib/ARCH/...)
inst=$tmp/inst
mkdir -p "$inst/sbin" "$inst/bin" "$inst/lib/x86_64-linux-gnu/wireshark/extcap"
cp "$src/packaging/netcap-privileges" "$inst/sbin/"
cp "$netcap_built" "$inst/bin/netcap"
cp "$extcap_built" "$inst/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap"
sh "$inst/sbin/netcap-privileges" enable --group "$group" >"$tmp/enable.out" 2>&1 ||
	fail "enable (installed): $(cat "$tmp/enable.out")"
for b in bin/netcap lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap; do
	grep -qx "netcap-privileges: $inst/$b: root:$group 0750, $caps=ep" "$tmp/enable.out" ||
		fail "enable (installed): $(cat "$tmp/enable.out")"
done
sh "$inst/sbin/netcap-privileges" disable --group "$group" >/dev/null
[[ $(stat -c '%U:%G %a' "$inst/bin/netcap") == "root:root 755" && -z $(getcap "$inst/bin/netcap") ]] ||
	fail "disable (installed): $(stat -c '%U:%G %a' "$inst/bin/netcap") $(getcap "$inst/bin/netcap")"
echo "enable/disable without BINARY: the installed netcap and netcap-extcap beside the script"

# member_fixture NAME: nc_fwd as the member, replaying the input once it is told to go
member_fixture() {
	local dir=$tmp/member/$1 prefix=nctest-priv-$tag-$1
	as "$member" mkdir "$dir" "$dir/run"
	# DPDK's runtime directory: $XDG_RUNTIME_DIR/dpdk/PREFIX for a user other than root
	as "$member" env XDG_RUNTIME_DIR="$dir/run" "$tmp/bin/nc_fwd" --file-prefix "$prefix" \
		--no-huge --no-pci -m 256 -l 0 \
		--vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$dir/tx.pcap" \
		-- --ready-file "$dir/ready" --go-file "$dir/go" --count "$n" >"$tmp/$1.fwd.out" 2>"$tmp/$1.fwd.err" &
	fwd_job=$! # the shell that runs it; its pid is in the ready file
	member_pids+=("$fwd_job")
	nc_wait_file "$dir/ready" 20 "$fwd_job" ||
		fail "$1: the member's nc_fwd exited or is not ready after 20 s: $(cat "$tmp/$1.fwd.err")"
	fwd_pid=$(cat "$dir/ready")
	member_pids+=("$fwd_pid")
}

# the member captures from its own app: byte-identical, the file is the member's, nothing stays
member_fixture own
dir=$tmp/member/own
as "$member" "$tmp/bin/netcap" mbuf -f fwd_burst@1@2 --pid "$fwd_pid" -w "$dir/cap.pcapng" \
	--ready-file "$dir/nc.ready" --duration 60 >"$tmp/own.out" 2>"$tmp/own.err" &
nc_pid=$!
nc_wait_file "$dir/nc.ready" 20 "$nc_pid" ||
	fail "member: netcap exited or did not attach within 20 s: $(cat "$tmp/own.err")"
progs=$(progs_of "$(cat "$dir/nc.ready")")
[[ -n $progs ]] || fail "member: no BPF program held by netcap"
touch "$dir/go"
status=0
timeout 60 tail --pid="$fwd_pid" -f /dev/null || fail "member: nc_fwd did not finish"
wait "$fwd_job" || status=$?
[[ $status == 0 ]] || fail "member: nc_fwd exited $status"
status=0
wait "$nc_pid" || status=$?
[[ $status == 0 ]] || fail "member: netcap exited $status: $(cat "$tmp/own.err")"
grep -qx "netcap: process $fwd_pid exited" <(sed -n 's/.*packets written (\(.*\))$/netcap: \1/p' "$tmp/own.err") ||
	fail "member: $(cat "$tmp/own.err")"
[[ $(stat -c %U "$dir/cap.pcapng") == "$member" ]] || fail "member: the file belongs to $(stat -c %U "$dir/cap.pcapng")"
nc_pcap_hex "$dir/cap.pcapng" >"$tmp/own.hex"
diff -q "$tmp/in.hex" "$tmp/own.hex" >/dev/null || fail "member: the capture differs from the input"
for id in $progs; do
	bpftool prog show id "$id" >/dev/null 2>&1 && fail "member: BPF program $id still loaded"
done
echo "member: captured its own nc_fwd, $n packets byte-identical, file owned by $member, programs gone"

# the member's list of its own app; the extcap's interfaces; a kernel capture
member_fixture listed
listed_pid=$fwd_pid
listed_job=$fwd_job
as "$member" "$tmp/bin/netcap" list --pid "$fwd_pid" >"$tmp/list.out" 2>"$tmp/list.err" ||
	fail "member list: $(cat "$tmp/list.err")"
grep -q "^nc_fwd\[$fwd_pid\]: DPDK 22.11" "$tmp/list.out" || fail "member list: $(head -3 "$tmp/list.out")"
grep -q "^  rx_burst librte_net_pcap.so" "$tmp/list.out" || fail "member list: no rx_burst: $(cat "$tmp/list.out")"
as "$member" "$tmp/bin/netcap-extcap" --extcap-interfaces >"$tmp/ifaces.out" 2>"$tmp/ifaces.err" ||
	fail "member extcap: $(cat "$tmp/ifaces.err")"
grep -qx 'interface {value=netcap:nc_fwd:rx_burst}{display=netcap: nc_fwd/rx_burst}' "$tmp/ifaces.out" ||
	fail "member extcap: $(cat "$tmp/ifaces.out")"
grep -qx 'interface {value=netcap:kernel:netif_receive_skb}{display=netcap: kernel/netif_receive_skb}' "$tmp/ifaces.out" ||
	fail "member extcap: no kernel interface"
as "$member" "$tmp/bin/netcap" skb -f net:netif_receive_skb -i lo -e icmp -c 2 --duration 20 \
	-w "$dir/skb.pcapng" >"$tmp/skb.out" 2>"$tmp/skb.err" &
nc_pid=$!
for _ in $(seq 100); do
	kill -0 "$nc_pid" 2>/dev/null || break
	ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 || true
	sleep 0.1
done
wait "$nc_pid" || fail "member skb: $(cat "$tmp/skb.err")"
[[ $(tshark -r "$dir/skb.pcapng" -Y icmp 2>/dev/null | wc -l) == 2 ]] || fail "member skb: not 2 ICMP packets"
echo "member: netcap list, extcap interfaces and a kernel capture work"

# refusals: root's app (capture and list), a raw offset, a root-only directory
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap"
root_msg="netcap: process $NC_FWD_PID (nc_fwd) runs as uid 0 (root), gid 0; netcap run by uid $m_uid ($member), gid $m_gid captures only processes with its caller's uid and gid: run the app as that user, or netcap as root"
expect 1 "$root_msg" as "$member" "$tmp/bin/netcap" mbuf -f fwd_burst@1@2 --pid "$NC_FWD_PID" -w "$dir/x.pcapng"
expect 1 "$root_msg" as "$member" "$tmp/bin/netcap" mbuf -f rx_burst --pid "$NC_FWD_PID" -w "$dir/x.pcapng"
expect 1 "$root_msg" as "$member" "$tmp/bin/netcap" mbuf --inject -f rx_burst --pid "$NC_FWD_PID" -w "$dir/x.pcapng"
! grep -q libnetcap-agent "/proc/$NC_FWD_PID/maps" || fail "a refused --inject loaded the agent into root's app"
expect 1 "$root_msg" as "$member" "$tmp/bin/netcap" list --pid "$NC_FWD_PID"
[[ ! -e $dir/x.pcapng ]] || fail "a refused capture created its file"
off=$(sed -n 's/^  rx_burst \(librte_net_pcap[^ ]*\).*/\1/p' "$tmp/list.out" | head -1)
expect 1 "netcap: hook spec \"$off@2@ret16\": a file offset may point inside an instruction, and a uprobe there breaks every process that runs the file; netcap takes offsets from root only: hook a function by name, or rx_burst/tx_burst" \
	as "$member" "$tmp/bin/netcap" mbuf -f "$off@2@ret16" --pid "$fwd_pid" -w "$dir/x.pcapng"
expect 1 "netcap: cannot create $tmp/rootonly/x.pcapng: Permission denied" \
	as "$member" "$tmp/bin/netcap" mbuf -f fwd_burst@1@2 --pid "$fwd_pid" -w "$tmp/rootonly/x.pcapng"
[[ ! -e $tmp/rootonly/x.pcapng ]] || fail "the member wrote into a root-only directory"
# --netns is opened with the member's permissions: another user's namespace file is not theirs
expect 1 "netcap: bad --netns \"/proc/1/ns/net\": Permission denied; give a namespace file such as /run/netns/NAME or /proc/PID/ns/net" \
	as "$member" "$tmp/bin/netcap" skb -f net:netif_receive_skb -i lo --netns /proc/1/ns/net -w "$dir/x.pcapng"
expect 1 "$root_msg" as "$member" "$tmp/bin/netcap-extcap" --capture --fifo /dev/null \
	--extcap-interface netcap:nc_fwd:fwd_burst --pid "$NC_FWD_PID"
kill -0 "$NC_FWD_PID" || fail "root's nc_fwd died"
echo "member: refused root's app (capture, list, extcap), a raw offset, a root-only directory and root's namespace"

# the member's extcap captures from the member's app as Wireshark would run it
ldir=$tmp/member/listed
as "$member" touch "$ldir/ext.pcapng"
as "$member" "$tmp/bin/netcap-extcap" --capture --extcap-interface netcap:nc_fwd:fwd_burst \
	--pid "$listed_pid" --fifo "$ldir/ext.pcapng" >"$tmp/ext.out" 2>"$tmp/ext.err" &
ext_job=$!
# attached once the extcap holds a BPF link (the extcap has no --ready-file)
attached=
for _ in $(seq 200); do
	ext_pid=$(pgrep -n -u "$member" -x netcap-extcap || true)
	if [[ -n $ext_pid ]] && cat /proc/"$ext_pid"/fdinfo/* 2>/dev/null | grep -q '^link_id:'; then
		attached=1
		break
	fi
	kill -0 "$ext_job" 2>/dev/null || fail "member extcap: exited early: $(cat "$tmp/ext.err")"
	sleep 0.1
done
[[ -n $attached ]] || fail "member extcap: not attached within 20 s: $(cat "$tmp/ext.err")"
touch "$ldir/go"
timeout 60 tail --pid="$listed_pid" -f /dev/null || fail "member extcap: nc_fwd did not finish"
wait "$listed_job" || true
wait "$ext_job" || fail "member extcap: $(cat "$tmp/ext.err")"
nc_pcap_hex "$ldir/ext.pcapng" >"$tmp/ext.hex"
diff -q "$tmp/in.hex" "$tmp/ext.hex" >/dev/null || fail "member extcap: the capture differs from the input"
echo "member: the extcap captured its own app, $n packets byte-identical"

# the non-member cannot run either binary (the shell's message and status for a 0750 file)
for b in netcap netcap-extcap; do
	expect 126 "sh: 1: exec: $tmp/bin/$b: Permission denied" as "$other" "$tmp/bin/$b" version
done
echo "non-member: cannot execute the binaries"

# without file capabilities: every missing capability is named, before anything is loaded
member_fixture plain
all="CAP_BPF (to load BPF programs), CAP_PERFMON (to attach them and read memory)"
tail="run as root, or let a group capture without root: see docs/privileges.md"
expect 1 "netcap: missing capabilities $all, CAP_SYS_ADMIN (this kernel creates uprobes only for it), CAP_SYS_PTRACE (to read process $NC_FWD_PID of uid 0 (root)); $tail" \
	as "$other" "$tmp/bin/netcap-plain" mbuf -f fwd_burst@1@2 --pid "$NC_FWD_PID" -w /dev/null
expect 1 "netcap: missing capabilities $all, CAP_SYS_ADMIN (this kernel creates uprobes only for it); $tail" \
	as "$member" "$tmp/bin/netcap-plain" mbuf -f fwd_burst@1@2 --pid "$fwd_pid" -w /dev/null
expect 1 "netcap: missing capabilities $all; $tail" \
	as "$member" "$tmp/bin/netcap-plain" skb -f net:netif_receive_skb -w /dev/null
expect 1 "netcap: missing capabilities $all, CAP_SYS_ADMIN (to enter the namespace of --netns); $tail" \
	as "$member" "$tmp/bin/netcap-plain" skb -f net:netif_receive_skb -i lo --netns /proc/self/ns/net -w /dev/null
# listing needs none: the caller's own apps and the kernel's interfaces; another user's apps
# (root's nc_fwd here) are not readable, so not listed
as "$member" "$tmp/bin/netcap-plain" list --pid "$fwd_pid" >/dev/null 2>"$tmp/err" || fail "plain list: $(cat "$tmp/err")"
as "$member" "$tmp/bin/netcap-extcap-plain" --extcap-interfaces >"$tmp/ifaces.out" 2>"$tmp/err" ||
	fail "plain extcap: $(cat "$tmp/err")"
grep -qx 'interface {value=netcap:nc_fwd:rx_burst}{display=netcap: nc_fwd/rx_burst}' "$tmp/ifaces.out" ||
	fail "plain extcap: the member's app is not listed"
as "$other" "$tmp/bin/netcap-extcap-plain" --extcap-interfaces >"$tmp/ifaces.out" 2>"$tmp/err" ||
	fail "plain extcap: $(cat "$tmp/err")"
! grep -q 'value=netcap:nc_fwd:' "$tmp/ifaces.out" || fail "plain extcap: another user's apps are listed"
grep -qx 'interface {value=netcap:kernel:netif_receive_skb}{display=netcap: kernel/netif_receive_skb}' "$tmp/ifaces.out" ||
	fail "plain extcap: no kernel interface"
echo "no file capabilities: the missing ones named (4 cases); netcap list and the extcap's interfaces list the caller's own apps"

# disable: no capabilities, root:root 0755; the member is told what is missing
sh "$src/packaging/netcap-privileges" disable --group "$group" "$tmp/bin/netcap" "$tmp/bin/netcap-extcap" >/dev/null
for b in netcap netcap-extcap; do
	[[ $(stat -c '%U:%G %a' "$tmp/bin/$b") == "root:root 755" ]] || fail "disable: $b is $(stat -c '%U:%G %a' "$tmp/bin/$b")"
	[[ -z $(getcap "$tmp/bin/$b") ]] || fail "disable: $b keeps $(getcap "$tmp/bin/$b")"
done
expect 1 "netcap: missing capabilities $all; $tail" \
	as "$member" "$tmp/bin/netcap" skb -f net:netif_receive_skb -w /dev/null
echo "disable: capabilities removed, root:root 0755"
nc_fwd_stop 10 >/dev/null || true
echo "privileges: all checks passed"
