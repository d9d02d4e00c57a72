#!/usr/bin/env bash
# Wireshark capturing through the netcap extcap, for docs/extcap.md: a DPDK forwarder (nc_fwd)
# replays the test corpus in a loop through net_pcap; Wireshark under Xvfb, with netcap-extcap
# and the "netcap" profile in a temporary personal folder, captures at the forwarder's PMD
# receive function with a capture filter (wireshark -k -i netcap:nc_fwd:rx_burst -f "tcp port
# 80" -C netcap); after some seconds a screenshot of the packet list is saved. Slow (a GUI
# start), so not part of scripts/test.
# Usage: tests/gui/capture_screenshot.sh BUILD_DIR OUT.png   (root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: capture_screenshot.sh BUILD_DIR OUT.png}" && pwd)
out=$(realpath -m "${2:?usage: capture_screenshot.sh BUILD_DIR OUT.png}")
export NC_FWD=$build/tests/apps/nc_fwd
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
tmp=
nc_tmpdir tmp
for cmd in wireshark Xvfb import; do
	command -v "$cmd" >/dev/null || nc_fail "$cmd is missing: apt-get install wireshark-qt xvfb imagemagick"
done
export HOME=$tmp/home
mkdir -p "$HOME/.config/wireshark/extcap" "$HOME/.config/wireshark/profiles"
cp "$build/extcap/netcap-extcap" "$HOME/.config/wireshark/extcap/"
cp -r "$top/ui-config/profile-netcap" "$HOME/.config/wireshark/profiles/netcap"
printf 'gui.geometry_main_width: 1280\ngui.geometry_main_height: 800\ngui.geometry_main_maximized: TRUE\n' \
	>"$HOME/.config/wireshark/recent_common"

nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$build/tests/data/corpus_eth.pcap,infinite_rx=1"
nc_fwd_go

display=:$((50 + RANDOM % 50))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
ws=
trap '[[ -n $ws ]] && kill "$ws" 2>/dev/null; kill "$xvfb" 2>/dev/null; nc_cleanup' EXIT
sleep 1
DISPLAY=$display wireshark -C netcap -k -i netcap:nc_fwd:rx_burst -f "tcp port 80" \
	>"$tmp/wireshark.log" 2>&1 &
ws=$!
sleep 15
kill -0 "$ws" || nc_fail "wireshark exited: $(cat "$tmp/wireshark.log")"
DISPLAY=$display import -window root -crop 960x770+0+0 "$out"
echo "screenshot: $out"
