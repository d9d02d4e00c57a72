#!/usr/bin/env bash
# The Wireshark GUI with the netcap extcap: start a DPDK forwarder (nc_fwd), start Wireshark under
# Xvfb with netcap-extcap in a temporary personal extcap folder, and save a screenshot of the
# welcome page, whose interface list must show "netcap: nc_fwd/rx_burst". Slow (a GUI start), so
# not part of scripts/test. Usage: tests/gui/screenshot.sh BUILD_DIR OUT.png   (root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: screenshot.sh BUILD_DIR OUT.png}" && pwd)
out=$(realpath -m "${2:?usage: screenshot.sh BUILD_DIR OUT.png}")
export NC_FWD=$build/tests/apps/nc_fwd
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
tmp=
nc_tmpdir tmp
for cmd in wireshark Xvfb import; do
	command -v "$cmd" >/dev/null || nc_fail "$cmd is missing: apt-get install wireshark-qt xvfb imagemagick"
done
export HOME=$tmp/home
mkdir -p "$HOME/.config/wireshark/extcap"
cp "$build/extcap/netcap-extcap" "$HOME/.config/wireshark/extcap/"
# no first-run dialogs: recent file with the main window size
printf 'gui.geometry_main_width: 1280\ngui.geometry_main_height: 800\ngui.geometry_main_maximized: TRUE\n' \
	>"$HOME/.config/wireshark/recent_common"

nc_fwd_start -- --vdev "net_null0"
"$HOME/.config/wireshark/extcap/netcap-extcap" --extcap-interfaces | grep -q "value=netcap:nc_fwd:rx_burst}" ||
	nc_fail "the extcap does not list nc_fwd"

display=:$((50 + RANDOM % 50))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
ws=
trap '[[ -n $ws ]] && kill "$ws" 2>/dev/null; kill "$xvfb" 2>/dev/null; nc_cleanup' EXIT
sleep 1
DISPLAY=$display wireshark >"$tmp/wireshark.log" 2>&1 &
ws=$!
# the welcome page lists interfaces once the extcaps have answered
sleep 12
kill -0 "$ws" || nc_fail "wireshark exited: $(cat "$tmp/wireshark.log")"
DISPLAY=$display import -window root -crop 960x770+0+0 "$out"
echo "screenshot: $out"
