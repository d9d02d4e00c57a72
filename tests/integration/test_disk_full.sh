#!/usr/bin/env bash
# The output disk fills: netcap -w into a 2 MiB tmpfs from a forwarder replaying without end.
# netcap exits 1 with one line naming the file, "No space left on device" and how many packets
# the file keeps; the file is cut back to whole blocks, so tshark reads it without complaint and
# it holds exactly the replayed packets, in order; nothing netcap loaded stays; the app forwards
# on and a new capture works. For pcapng, classic pcap (-P), and pcapng to standard output
# redirected into a file on that disk (-w -).
# Usage: test_disk_full.sh NETCAP   (environment: NC_FWD, NC_TEST_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
netcap=${1:?usage: test_disk_full.sh NETCAP}
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
fail() { nc_fail "$@"; }

tmp=
nc_tmpdir tmp
nc_replay_input "$tmp"
mnt=$tmp/full
mkdir "$mnt"
mount -t tmpfs -o size=2m,mode=0755 nctest-full "$mnt"
trap 'umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; nc_cleanup' EXIT

# the ids of the BPF programs process $1 holds (its descriptors' fdinfo)
progs_of() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -un
}

# every captured packet is the replayed input's, in order, from wherever the loop was
in_order() { # CAPTURE.hex
	python3 - "$tmp/in.hex" "$1" <<'PY'
import sys
want = open(sys.argv[1]).read().splitlines()
got = open(sys.argv[2]).read().splitlines()
n = len(want)
ok = any(all(got[i] == want[(s + i) % n] for i in range(len(got)))
         for s in range(n) if want[s] == got[0]) if got else False
sys.exit(0 if ok else 1)
PY
}

nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$tmp/in.pcap,infinite_rx=1"
nc_fwd_go

# pcapng and pcap into a file; pcapng to standard output redirected into a file ("stdout")
for run in pcapng pcap stdout; do
	fmt=${run/stdout/pcapng}
	out=$mnt/capture.$run
	opts=(-w "$out")
	what=$out
	[[ $run == pcap ]] && opts+=(-P)
	[[ $run == stdout ]] && opts=(-w -) && what="standard output"
	rm -f "$mnt"/* "$tmp/ready"
	if [[ $run == stdout ]]; then
		"$netcap" mbuf --pid "$NC_FWD_PID" -f fwd_burst@1@2 "${opts[@]}" --duration 120 \
			--ready-file "$tmp/ready" >"$out" 2>"$tmp/$run.err" &
	else
		"$netcap" mbuf --pid "$NC_FWD_PID" -f fwd_burst@1@2 "${opts[@]}" --duration 120 \
			--ready-file "$tmp/ready" >"$tmp/$run.out" 2>"$tmp/$run.err" &
	fi
	nc_pid=$!
	nc_wait_file "$tmp/ready" 20 "$nc_pid" ||
		fail "$run: netcap exited early or did not attach within 20 s: $(cat "$tmp/$run.err")"
	progs=$(progs_of "$nc_pid")
	[[ -n $progs ]] || fail "$run: no BPF program of netcap $nc_pid seen: $(cat "$tmp/$run.err")"
	status=0
	timeout 60 tail --pid="$nc_pid" -f /dev/null || fail "$run: netcap still running after 60 s"
	wait "$nc_pid" || status=$?
	[[ $status == 1 ]] || fail "$run: exit $status, want 1: $(cat "$tmp/$run.err")"
	msg=$(cat "$tmp/$run.err")
	re="^netcap: cannot write $fmt to $what: No space left on device; it holds the first ([0-9]+) packets, whole$"
	[[ $msg =~ $re ]] || fail "$run: message '$msg'"
	kept=${BASH_REMATCH[1]}
	((kept > 100)) || fail "$run: only $kept packets kept"
	# whole blocks only: tshark reads every packet and reports no error
	tshark -r "$out" -T fields -e frame.number >"$tmp/$run.frames" 2>"$tmp/$run.tshark" ||
		fail "$run: tshark: $(cat "$tmp/$run.tshark")"
	sed -i "/^Running as user/d" "$tmp/$run.tshark"
	[[ ! -s $tmp/$run.tshark ]] || fail "$run: tshark says: $(cat "$tmp/$run.tshark")"
	[[ $(wc -l <"$tmp/$run.frames") == "$kept" ]] ||
		fail "$run: tshark reads $(wc -l <"$tmp/$run.frames") packets, netcap says $kept"
	nc_pcap_hex "$out" >"$tmp/$run.hex"
	in_order "$tmp/$run.hex" || fail "$run: the kept packets are not the replayed input in order"
	size=$(stat -c %s "$out")
	for id in $progs; do
		bpftool prog show id "$id" >/dev/null 2>&1 && fail "$run: BPF program $id of netcap is still loaded"
	done
	kill -0 "$NC_FWD_PID" || fail "$run: the app died"
	echo "disk full ($run): exit 1, '$msg', $size of 2097152 bytes used, tshark reads $kept packets in order, programs ${progs//$'\n'/ } gone"
done

# the app forwards on, and with room again a capture works
rm -f "$mnt"/*
"$netcap" mbuf --pid "$NC_FWD_PID" -f fwd_burst@1@2 -c 50 -w "$mnt/again.pcapng" 2>"$tmp/again.err" ||
	fail "after a full disk: $(cat "$tmp/again.err")"
[[ $(tshark -r "$mnt/again.pcapng" 2>/dev/null | wc -l) == 50 ]] || fail "after a full disk: not 50 packets"
nc_fwd_stop 10 >/dev/null || true
echo "disk full: all checks passed"
