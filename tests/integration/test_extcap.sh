#!/usr/bin/env bash
# The Wireshark extcap through real tshark and dumpcap: a running nc_fwd is listed as
# "netcap: nc_fwd/…" interfaces, the link type is Ethernet, a capture with a capture filter holds
# exactly tcpdump's packets of the replay with netcap's interface names and filter in the file,
# -o options reach netcap, a bad filter ends tshark quickly with netcap's message, -a duration and
# -c stop it, the log options write the log file at the level given, and nothing stays
# attached. The extcap is installed in a temporary HOME
# (~/.config/wireshark/extcap, Wireshark 4.0's personal folder), removed afterwards.
# Usage: test_extcap.sh NETCAP_EXTCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
extcap=${1:?usage: test_extcap.sh NETCAP_EXTCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }
tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
n=$NC_IN_COUNT
export HOME=$tmp/home
mkdir -p "$HOME/.config/wireshark/extcap"
cp "$extcap" "$HOME/.config/wireshark/extcap/netcap-extcap"
# the copy finds no agent beside it (--inject): the build's
NETCAP_AGENT=$(cd "$(dirname "$extcap")/../agent" && pwd)/libnetcap-agent.so
export NETCAP_AGENT
# the BPF programs of the extcap processes this test started (nc_wait_attached remembers them)
probes_left() { nc_progs_left; }
# the extcap that tshark's dumpcap started from this test's own extcap folder
extcap_pid() {
	local pid
	for _ in $(seq 200); do
		pid=$(pgrep -f -- "^$HOME/.config/wireshark/extcap/netcap-extcap .*--capture" | head -1)
		[[ -n $pid ]] && echo "$pid" && return 0
		sleep 0.1
	done
	return 1
}
# the fixture under a name of this run's: the extcap names interfaces after the process, and
# another nc_fwd on the machine must not be the one it captures
app=ncx$$
cp "$NC_FWD" "$tmp/$app"
NC_FWD=$tmp/$app
export NC_FWD
nc_prog_snapshot

nc_fwd_start --count "$n" -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/tx.pcap"

# listing: fast, stable names, the fixture's hook points
start=$(date +%s%N)
tshark -D >"$tmp/D" 2>/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
for iface in "netcap:$app:rx_burst (netcap: $app/rx_burst)" "netcap:$app:tx_burst (netcap: $app/tx_burst)" \
	"netcap:$app:fwd_burst (netcap: $app/fwd_burst)" "netcap:kernel:netif_receive_skb (netcap: kernel/netif_receive_skb)"; do
	grep -qF ". $iface" "$tmp/D" || fail "tshark -D lacks $iface: $(grep netcap "$tmp/D")"
done
[[ $(nc_progs_new) == 0 ]] || fail "listing loaded a BPF program"
tshark -L -i netcap:$app:fwd_burst 2>/dev/null | grep -q "EN10MB (Ethernet)" || fail "tshark -L"
echo "tshark -D lists the fixture's hook points (tshark -D took $ms ms); -L: Ethernet"

# capture with a filter: exactly what tcpdump keeps
tcpdump -r "$tmp/in.pcap" -w "$tmp/want.pcap" "udp" 2>/dev/null
nc_pcap_hex "$tmp/want.pcap" >"$tmp/want.hex"
m=$(wc -l <"$tmp/want.hex")
tshark -i netcap:$app:fwd_burst -f "udp" -c "$m" -a duration:30 -w "$tmp/cap.pcapng" \
	>"$tmp/tshark.out" 2>"$tmp/tshark.err" &
tpid=$!
epid=$(extcap_pid) || fail "tshark started no extcap: $(cat "$tmp/tshark.err")"
nc_wait_attached "$epid" || fail "the extcap did not attach: $(cat "$tmp/tshark.err")"
nc_fwd_go
wait "$tpid" || fail "tshark failed: $(cat "$tmp/tshark.err")"
! grep -q "Error by extcap pipe" "$tmp/tshark.err" || fail "netcap complained at the end: $(cat "$tmp/tshark.err")"
nc_pcap_hex "$tmp/cap.pcapng" >"$tmp/cap.hex"
diff -u "$tmp/want.hex" "$tmp/cap.hex" || fail "extcap capture differs from tcpdump's udp packets"
capinfos "$tmp/cap.pcapng" | grep -qE "Name = ${app}\[$NC_FWD_PID\]:fwd_burst$" || fail "no interface name"
capinfos "$tmp/cap.pcapng" | grep -qE "Filter string = udp$" || fail "no filter string"
for _ in $(seq 50); do [[ $(probes_left) == 0 ]] && break; sleep 0.1; done
[[ $(probes_left) == 0 ]] || fail "probes left after tshark -c"
# the "netcap" profile shows the hook point and the comment as columns
mkdir -p "$HOME/.config/wireshark/profiles/netcap"
cp "$here/../../ui-config/profile-netcap/preferences" "$HOME/.config/wireshark/profiles/netcap/"
tshark -C netcap -r "$tmp/cap.pcapng" 2>/dev/null >"$tmp/profile.out"
[[ $(grep -c "${app}\[$NC_FWD_PID\]:fwd_burst .* pid $NC_FWD_PID tid $NC_FWD_PID cpu [0-9]* fwd_burst" "$tmp/profile.out") == "$m" ]] ||
	fail "profile columns: $(head -2 "$tmp/profile.out")"
nc_fwd_wait >/dev/null || true
echo "tshark -i netcap:$app:fwd_burst -f udp -c $m: the $m udp packets, byte-identical; names and filter in the file"

# -o reaches netcap: snap length; -a duration stops it; the app keeps forwarding
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
tshark -i netcap:$app:fwd_burst -o extcap.netcap_${app}_fwd_burst.snaplen:64 -a duration:3 \
	-w "$tmp/snap.pcapng" >/dev/null 2>"$tmp/snap.err" &
tpid=$!
epid=$(extcap_pid) || fail "-a duration: tshark started no extcap: $(cat "$tmp/snap.err")"
nc_wait_attached "$epid" || fail "-a duration: the extcap did not attach: $(cat "$tmp/snap.err")"
wait "$tpid" || fail "tshark -a duration: $(cat "$tmp/snap.err")"
max=$(tshark -r "$tmp/snap.pcapng" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)
[[ -n $max && $max -le 64 ]] || fail "snaplen option: largest captured length $max"
for _ in $(seq 50); do [[ $(probes_left) == 0 ]] && break; sleep 0.1; done
[[ $(probes_left) == 0 ]] || fail "probes left after -a duration"
kill -0 "$NC_FWD_PID" || fail "the app died"
# the dialog lists this app's processes; the port option picks a port of rx_burst
"$extcap" --extcap-config --extcap-interface netcap:$app:rx_burst | grep -qxF "value {arg=0}{value=$NC_FWD_PID}{display=${app}[$NC_FWD_PID]}" ||
	fail "the process selector does not list ${app}[$NC_FWD_PID]"
tshark -i netcap:$app:rx_burst -o extcap.netcap_${app}_rx_burst.port:0 \
	-o "extcap.netcap_${app}_rx_burst.pid:$NC_FWD_PID" -c 5 -w "$tmp/port.pcapng" >/dev/null 2>"$tmp/port.err" ||
	fail "port option: $(cat "$tmp/port.err")"
[[ $(tshark -r "$tmp/port.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u) == "${app}[$NC_FWD_PID]:rx_burst:port0" ]] ||
	fail "port option: $(tshark -r "$tmp/port.pcapng" -T fields -e frame.interface_name 2>&1 | sort -u)"
echo "the process selector lists ${app}[$NC_FWD_PID]; -o …port:0 and …pid reach netcap"
# the in-process option: the agent captures at rx_burst, and leaves when tshark has its packets
tshark -i netcap:$app:rx_burst -o extcap.netcap_${app}_rx_burst.inject:true \
	-o "extcap.netcap_${app}_rx_burst.pid:$NC_FWD_PID" -c 5 -w "$tmp/inject.pcapng" >/dev/null 2>"$tmp/inject.err" ||
	fail "inject option: $(cat "$tmp/inject.err")"
[[ $(capinfos -Mc "$tmp/inject.pcapng" | awk '/Number of packets/ {print $NF}') == 5 ]] ||
	fail "inject option: $(capinfos -c "$tmp/inject.pcapng")"
capinfos "$tmp/inject.pcapng" | grep -q "in-process, at rte_eth_fp_ops\[0\].rx_pkt_burst" ||
	fail "inject option: the capture did not go through the agent: $(capinfos "$tmp/inject.pcapng" | grep -i descr)"
for _ in $(seq 50); do grep -q netcap-inproc "/proc/$NC_FWD_PID/maps" || break; sleep 0.1; done
! grep -q netcap-inproc "/proc/$NC_FWD_PID/maps" || fail "inject option: the agent did not leave"
echo "-o …inject:TRUE captures through the agent, which leaves afterwards"
# the same with a function as the hook spec: patched to jump into the agent, restored at the end
tshark -i netcap:$app:rx_burst -o extcap.netcap_${app}_rx_burst.inject:true \
	-o extcap.netcap_${app}_rx_burst.hook:fwd_burst@1@2 \
	-o "extcap.netcap_${app}_rx_burst.pid:$NC_FWD_PID" -c 5 -w "$tmp/inject_func.pcapng" >/dev/null 2>"$tmp/inject_func.err" ||
	fail "inject option with a function: $(cat "$tmp/inject_func.err")"
[[ $(capinfos -Mc "$tmp/inject_func.pcapng" | awk '/Number of packets/ {print $NF}') == 5 ]] ||
	fail "inject option with a function: $(capinfos -c "$tmp/inject_func.pcapng")"
[[ $(tshark -r "$tmp/inject_func.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u) == "${app}[$NC_FWD_PID]:fwd_burst" ]] ||
	fail "inject option with a function: $(tshark -r "$tmp/inject_func.pcapng" -T fields -e frame.interface_name 2>&1 | sort -u)"
capinfos "$tmp/inject_func.pcapng" | grep -q "in-process, at " ||
	fail "inject option with a function: not through the agent: $(capinfos "$tmp/inject_func.pcapng" | grep -i descr)"
for _ in $(seq 50); do grep -q netcap-inproc "/proc/$NC_FWD_PID/maps" || break; sleep 0.1; done
! grep -q netcap-inproc "/proc/$NC_FWD_PID/maps" || fail "inject option with a function: the agent did not leave"
echo "-o …inject:TRUE with -o …hook:fwd_burst@1@2 captures at the patched function through the agent"
echo "-o extcap.….snaplen:64 keeps at most $max bytes; -a duration:3 stops netcap, nothing left, the app runs on"

# a bad filter: tshark ends within seconds with netcap's message
nc_prog_snapshot
start=$(date +%s)
status=0
timeout 20 tshark -i netcap:$app:fwd_burst -f "tcp port" -w "$tmp/bad.pcapng" >/dev/null 2>"$tmp/bad.err" || status=$?
[[ $status != 124 ]] || fail "bad filter: tshark hung"
grep -q 'netcap: bad filter "tcp port": can.t parse filter expression: syntax error' "$tmp/bad.err" ||
	fail "bad filter: $(cat "$tmp/bad.err")"
[[ $(nc_progs_new) == 0 ]] || fail "bad filter: a BPF program was left"
echo "bad filter: tshark stopped after $(($(date +%s) - start)) s with netcap's message"

# the capture-filter check of the GUI
[[ -z $("$extcap" --extcap-interface netcap:$app:fwd_burst --extcap-capture-filter "udp port 53") ]] ||
	fail "a good filter printed something"
[[ $("$extcap" --extcap-interface netcap:$app:fwd_burst --extcap-capture-filter "udp port") == \
	'bad filter "udp port": can'"'"'t parse filter expression: syntax error' ]] || fail "bad filter check"
nc_fwd_stop >/dev/null || true

# the GUI's control pipes: attach/detach in the log, counters in the status bar
mkfifo "$tmp/ctl_in" "$tmp/ctl_out"
: >"$tmp/toolbar.pcapng"
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
python3 - "$tmp/ctl_out" >"$tmp/toolbar.msgs" <<'PY' &
import sys
data = open(sys.argv[1], "rb").read()  # until netcap closes it
while len(data) >= 6:
    assert data[0] == ord("T"), data[:8]
    n = (data[1] << 16 | data[2] << 8 | data[3]) - 2
    print(data[4], data[5], data[6:6 + n].decode().rstrip("\n"))
    data = data[6 + n:]
PY
reader=$!
"$extcap" --capture --extcap-interface netcap:$app:fwd_burst --fifo "$tmp/toolbar.pcapng" \
	--extcap-control-in "$tmp/ctl_in" --extcap-control-out "$tmp/ctl_out" 2>"$tmp/toolbar.err" &
epid=$!
nc_wait_attached "$epid" || fail "toolbar: not attached: $(cat "$tmp/toolbar.err")"
sleep 2.5
kill -TERM "$epid"
wait "$epid" || fail "toolbar: netcap-extcap failed: $(cat "$tmp/toolbar.err")"
wait "$reader" || fail "toolbar: bad control messages"
grep -qx "0 2 attached at 1 hook point(s)" "$tmp/toolbar.msgs" || fail "toolbar: no attach log: $(cat "$tmp/toolbar.msgs")"
grep -qx "0 2 detached (interrupted)" "$tmp/toolbar.msgs" || fail "toolbar: no detach log: $(cat "$tmp/toolbar.msgs")"
# an endless replay outruns an ASan-built reader: drops may be counted (their accounting is
# test_overflow's); here the status bar must carry the counters
grep -qE "^255 6 netcap: seen [1-9][0-9]*, matched [1-9][0-9]*, written [1-9][0-9]*, dropped [0-9]+$" "$tmp/toolbar.msgs" ||
	fail "toolbar: no counters in the status bar: $(cat "$tmp/toolbar.msgs")"
nc_fwd_stop >/dev/null || true
echo "control pipes: attach and detach in the log, live counters in the status bar"

# the log options of the dialog's Debug tab (-o …loglevel, …logfile): the file holds the lines
# of the level given and of those above it (noisy < debug < info < message), none below
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
tshark -i netcap:$app:fwd_burst -o "extcap.netcap_${app}_fwd_burst.pid:$NC_FWD_PID" \
	-o extcap.netcap_${app}_fwd_burst.loglevel:debug -o "extcap.netcap_${app}_fwd_burst.logfile:$tmp/debug.log" -c 3 -w "$tmp/log.pcapng" >/dev/null 2>"$tmp/log.err" ||
	fail "log options: $(cat "$tmp/log.err")"
[[ -s $tmp/debug.log ]] || fail "--log-level debug: no log file $tmp/debug.log"
line='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{3} \[[0-9]+\]'
grep -qE "$line debug: command line: .*--capture.* --log-level debug" "$tmp/debug.log" ||
	fail "--log-level debug: no command line: $(cat "$tmp/debug.log")"
grep -qE "$line info: netcap:$app:fwd_burst: process $NC_FWD_PID at fwd_burst@1@2, " "$tmp/debug.log" ||
	fail "--log-level debug: no info line: $(cat "$tmp/debug.log")"
grep -qE "$line message: attached at 1 hook point\(s\)$" "$tmp/debug.log" ||
	fail "--log-level debug: no message line: $(cat "$tmp/debug.log")"
! grep -q '\] noisy: ' "$tmp/debug.log" || fail "--log-level debug: noisy lines: $(cat "$tmp/debug.log")"
: >"$tmp/message.pcapng"
"$extcap" --capture --extcap-interface netcap:$app:fwd_burst --pid "$NC_FWD_PID" --fifo "$tmp/message.pcapng" \
	--log-level message --log-file "$tmp/message.log" 2>"$tmp/message.err" &
epid=$!
nc_wait_attached "$epid" || fail "--log-level message: not attached: $(cat "$tmp/message.err")"
kill -TERM "$epid"
wait "$epid" || fail "--log-level message: netcap-extcap failed: $(cat "$tmp/message.err")"
grep -qE "$line message: attached at 1 hook point\(s\)$" "$tmp/message.log" ||
	fail "--log-level message: no attach line: $(cat "$tmp/message.log")"
grep -qE "$line message: detached \(interrupted\)$" "$tmp/message.log" ||
	fail "--log-level message: no detach line: $(cat "$tmp/message.log")"
! grep -qE '\] (info|debug|noisy): ' "$tmp/message.log" || fail "--log-level message: lines below it: $(cat "$tmp/message.log")"
nc_fwd_stop >/dev/null || true
echo "log options: debug writes the command line, info and message lines; message only attach and detach"

# remotely through sshdump: our own sshd on 127.0.0.1 (key authentication), removed afterwards
ssh=$tmp/ssh
mkdir -p "$ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$ssh/host"
ssh-keygen -q -t ed25519 -N '' -f "$ssh/user"
cp "$ssh/user.pub" "$ssh/authorized_keys"
port=$((20000 + RANDOM % 20000))
cat >"$ssh/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $ssh/host
PidFile $ssh/sshd.pid
AuthorizedKeysFile $ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
CFG
/usr/sbin/sshd -D -f "$ssh/sshd_config" -E "$ssh/sshd.log" &
sshd=$!
trap 'kill "$sshd" 2>/dev/null || true; nc_cleanup' EXIT
for _ in $(seq 50); do grep -q "Server listening" "$ssh/sshd.log" 2>/dev/null && break; sleep 0.1; done
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go
nc_prog_snapshot
timeout 60 tshark -i sshdump -o extcap.sshdump.remotehost:127.0.0.1 -o "extcap.sshdump.remoteport:$port" \
	-o extcap.sshdump.remoteusername:root -o "extcap.sshdump.sshkey:$ssh/user" \
	-o "extcap.sshdump.remotecapturecommand:$extcap --capture --extcap-interface netcap:$app:fwd_burst --extcap-capture-filter udp --fifo -" \
	-c 10 -w "$tmp/ssh.pcapng" >/dev/null 2>"$tmp/ssh.err" || fail "sshdump: $(cat "$tmp/ssh.err")"
[[ $(tshark -r "$tmp/ssh.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c | sed 's/^ *//') == \
	"10 ${app}[$NC_FWD_PID]:fwd_burst" ]] || fail "sshdump: not 10 packets from netcap: $(tshark -r "$tmp/ssh.pcapng" 2>&1 | head -3)"
# each one among the input's packets that tcpdump's "udp" keeps
nc_pcap_hex "$tmp/ssh.pcapng" >"$tmp/ssh.hex"
[[ $(grep -cxFf "$tmp/want.hex" "$tmp/ssh.hex") == 10 ]] || fail "sshdump: packets outside the udp filter"
for _ in $(seq 50); do [[ $(nc_progs_new) == 0 ]] && break; sleep 0.1; done
[[ $(nc_progs_new) == 0 ]] || fail "sshdump: BPF programs left"
kill "$sshd"
nc_fwd_stop >/dev/null || true
echo "sshdump: 10 udp packets captured remotely with netcap's interface name, nothing left attached"
echo "extcap: all checks passed"
