#!/usr/bin/env bash
# Hostile input gets one line naming what is wrong and a non-zero exit, before anything is
# loaded: hook specs (before the process is read), tcpdump flags (-t passes display flags only, split like a shell but never run by one),
# interface names of `netcap skb -i`, tracepoint names, and the extcap's --port, --log-level and
# --pid. Display flags are taken and tcpdump prints. No source file runs a shell.
# Usage: test_validation.sh NETCAP NETCAP_EXTCAP
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_validation.sh NETCAP NETCAP_EXTCAP}
extcap=${2:?usage: test_validation.sh NETCAP NETCAP_EXTCAP}
src=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
n_checks=0

# expect STATUS MESSAGE COMMAND...: exactly this exit status and this one line on stderr
expect() {
	local want_status=$1 want=$2 status=0
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
	[[ $status == "$want_status" ]] || fail "$*: exit $status, want $want_status: $(cat "$tmp/err")"
	[[ $(cat "$tmp/err") == "$want" ]] || fail "$*: '$(cat "$tmp/err")', want '$want'"
	n_checks=$((n_checks + 1))
}

allowed="-t passes only -A -b -e -f -H -K -l -n -N -q -S -t -u -U -v -x -X -# --number --micro --nano (the filter goes in -e EXPR)"
# shellcheck disable=SC2016 # '$(id)' is the point: it must reach no shell
for flags in "-w /tmp/x" "-r /etc/passwd" "-z /bin/sh" "-Z root" "-F /etc/shadow" "-i eth0" \
	"-C 1" "-G 1" "-W 2" "-V list" "-E secret" "-nr x" "--print" "tcp port 80" "-n;id" '$(id)'; do
	word=${flags%% *}
	[[ $flags == "tcp port 80" ]] && word=tcp
	expect 2 "netcap mbuf: tcpdump flags \"$flags\": \"$word\" is not a display flag; $allowed" \
		"$netcap" mbuf -f x@1 --pid 1 -t "$flags"
	expect 2 "netcap skb: tcpdump flags \"$flags\": \"$word\" is not a display flag; $allowed" \
		"$netcap" skb -f net:netif_receive_skb -t "$flags"
done

# display flags are taken: tcpdump prints what a kernel capture of ping on lo gives
"$netcap" skb -f net:netif_receive_skb -i lo -e icmp -c 2 --duration 20 \
	-t "-nn -tttt -vv -XX -e -S -q --number" >"$tmp/text.out" 2>"$tmp/text.err" &
nc_pid=$!
for _ in $(seq 100); do
	grep -q "attached\|packets written" "$tmp/text.err" 2>/dev/null && break
	kill -0 "$nc_pid" 2>/dev/null || break
	sleep 0.1
	ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 || true
done
wait "$nc_pid" || fail "display flags: netcap failed: $(cat "$tmp/text.err")"
grep -q "ICMP echo request" "$tmp/text.out" || fail "display flags: no tcpdump text: $(cat "$tmp/text.out" "$tmp/text.err")"
n_checks=$((n_checks + 1))

bad_if="Linux names have 1 to 15 printable characters, none of them '/', ':' or a space; see: ip link"
for name in "" "a/b" "eth0:1" "abcdefghijklmnop" "." ".." "a b" $'a\tb'; do
	shown=${name//$'\t'/\\t}
	expect 1 "netcap: bad interface name \"$shown\": $bad_if" \
		"$netcap" skb -f net:netif_receive_skb -i "$name" -w "$tmp/x.pcapng"
done
for spec in "tp:../..:x" "net:netif_receive_skb/../../x" "tracepoint:net:a b" "net:*"; do
	expect 1 "netcap: hook spec \"$spec\": tracepoint categories and names are letters, digits and '_', e.g. tracepoint:net:netif_receive_skb" \
		"$netcap" skb -f "$spec" -w "$tmp/x.pcapng"
done

# hook specs are checked before the process is looked at (sleep is no DPDK app: a good spec
# would be refused for that instead)
sleep 30 &
sleeper=$!
see="see: netcap mbuf --help"
spec_expect() { # SPEC MESSAGE
	expect 1 "netcap: hook spec \"$1\": $2; $see" "$netcap" mbuf -f "$1" --pid "$sleeper" -w "$tmp/x.pcapng"
}
spec_expect "@" '"" is not an argument number'
spec_expect "f@1@2@3" "too many @ parts"
spec_expect "f@0" "argument 0 is out of range (netcap reads register arguments 1 to 6)"
spec_expect "f@99999999999999999999" '"99999999999999999999" is not an argument number'
spec_expect "lib.so+0xffffffffffffffffffff@1" "an offset is OBJECT+0xHEX, e.g. librte_net_pcap.so.23.0+0x6e00"
spec_expect "lib.so:@1" "no function name"
spec_expect "rx_burst:99999999999" "the port must be a number (rx_burst:0)"
spec_expect "f@1@ret8" '"ret8" is not an argument number'
expect 1 "netcap: hook spec \"f\\n@1\": control characters are not part of a hook spec; $see" \
	"$netcap" mbuf -f $'f\n@1' --pid "$sleeper" -w "$tmp/x.pcapng"
expect 1 "netcap: process $sleeper (sleep) is not a DPDK application (no librte_ethdev mapped)" \
	"$netcap" mbuf -f "f@1" --pid "$sleeper" -w "$tmp/x.pcapng"
kill "$sleeper"
wait "$sleeper" 2>/dev/null || true
[[ ! -e $tmp/x.pcapng ]] || fail "a refused capture created its file"

# the extcap: bad values are reported on stderr, after the FIFO is opened for a capture
mkfifo "$tmp/fifo"
extcap_expect() { # MESSAGE ARGS...
	local want=$1
	shift
	cat "$tmp/fifo" >/dev/null &
	expect 1 "$want" "$extcap" --capture --fifo "$tmp/fifo" --extcap-interface netcap:nc_fwd:rx_burst "$@"
	wait
}
for port in "0,tx_burst" "a;b" "-1" "65536" "0x1"; do
	extcap_expect "netcap: bad --port \"$port\": want a port number from 0 to 65535, or nothing for every port" --port "$port"
done
for level in "trace" "debug;id" ""; do
	extcap_expect "netcap: bad --log-level \"$level\": want message, info, debug or noisy" --log-level "$level"
done
for pid in "12abc" "-5" "99999999999"; do
	extcap_expect "netcap: bad --pid \"$pid\": want a number from 0 to 2147483647" --pid "$pid"
done
cat "$tmp/fifo" >/dev/null &
expect 1 "netcap: hook spec \"tracepoint:../x:y\": tracepoint categories and names are letters, digits and '_', e.g. tracepoint:net:netif_receive_skb" \
	"$extcap" --capture --fifo "$tmp/fifo" --extcap-interface "netcap:kernel:../x:y"
wait
# outside a capture the same value is refused at once
expect 1 "netcap-extcap: bad --port \"1;2\": want a port number from 0 to 65535, or nothing for every port" \
	"$extcap" --extcap-config --extcap-interface netcap:nc_fwd:rx_burst --port "1;2"

# the ring: -B from 1024 KiB; the wake-up threshold's environment variable, refused before the
# probe is loaded (a kernel point: no application needed)
expect 2 "netcap skb: bad --buffer-size \"512\": want a number from 1024 to 1048576" \
	"$netcap" skb -f net:netif_receive_skb -B 512 -c 1 -w /dev/null
for v in 1 1025 8x -4; do
	expect 1 "netcap: NETCAP_RING_WAKE=$v: give N, 2 to 1024 (the reader is woken once 1/N of the ring is pending), or unset it" \
		env NETCAP_RING_WAKE="$v" "$netcap" skb -f net:netif_receive_skb -c 1 -w /dev/null
done

# nothing the user gives reaches a shell: no source file starts one
if grep -rnE '\b(system|popen|execl|execlp|execle)\s*\(|"(/bin/)?(ba)?sh" *, *"-c"|g_spawn_command_line' \
	"$src/core" "$src/cli" "$src/extcap" --include='*.c' --include='*.h'; then
	fail "a source file runs a shell (above)"
fi
echo "validation: $n_checks refusals and acceptances with their exact messages, no shell in the sources"
