#!/usr/bin/env bash
# Debian roots with other DPDK releases than the host's, for the integration tests:
#
#   tests/dpdk/roots.sh CACHE_DIR RELEASE
#
# RELEASE is 24.11 (Debian 13, trixie) or 20.11 (Debian 11, bullseye). Builds, once, the root
# CACHE_DIR/RELEASE with mmdebstrap (DPDK, its net_pcap and net_null PMDs, a compiler and
# pkg-config), then builds the fixture tests/apps/nc_fwd.c inside it against that DPDK (its own
# pkg-config, the flags of tests/apps/CMakeLists.txt) as ROOT/nc/nc_fwd, again when the source
# changed. Prints the root's path on stdout. Building one root starts the other's build in the
# background (NC_ROOTS_ALONE=1: not).
#
# Exit status: 0 ready; 77 when the root cannot be built here (no mmdebstrap, registry not
# reachable: the reason on stderr, a test passes it on as "Skipped"); 1 when the fixture does
# not compile (a real failure). A half-built root is removed, never used.
set -euo pipefail

cache=${1:?usage: roots.sh CACHE_DIR RELEASE}
release=${2:?usage: roots.sh CACHE_DIR RELEASE}
src=$(cd "$(dirname "$0")/../apps" && pwd)/nc_fwd.c

case $release in
24.11)
	suite=trixie
	pkgs=dpdk,dpdk-dev,librte-net-null25,librte-net-pcap25
	;;
20.11)
	suite=bullseye
	pkgs=dpdk,dpdk-dev,librte-net-null21,librte-net-pcap21,librte-pdump21
	;;
*)
	echo "roots.sh: unknown release $release (want 24.11 or 20.11)" >&2
	exit 2
	;;
esac
pkgs+=,gcc,libc6-dev,pkg-config,libpcap-dev,systemtap-sdt-dev

skip() {
	echo "roots.sh: $*" >&2
	exit 77
}

command -v mmdebstrap >/dev/null || skip "no mmdebstrap (scripts/bootstrap installs it): cannot build the DPDK $release root"
mkdir -p "$cache"
root=$cache/$release
# the first test to need a root starts the other root's build beside its own (detached, its own
# lock): the two take about as long as one, and the test that needs the other later waits for it
if [[ ! -e $root/.complete && -z ${NC_ROOTS_ALONE:-} ]]; then
	other=24.11
	[[ $release == 24.11 ]] && other=20.11
	if [[ ! -e $cache/$other/.complete ]]; then
		NC_ROOTS_ALONE=1 setsid "$0" "$cache" "$other" >"$cache/background-$other.log" 2>&1 </dev/null &
	fi
fi
exec 9>"$cache/.lock-$release"
flock 9 # one builder at a time (ctest -j); the others wait and find it built

if [[ ! -e $root/.complete ]]; then
	rm -rf "$root" "$root.tmp"
	log=$cache/mmdebstrap-$release.log
	# the host's Debian mirror, the main suite only: an old release's security suite may be gone
	mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	sources=()
	[[ -z $mirror ]] || sources=("deb $mirror $suite main")
	echo "roots.sh: building the Debian $suite root with DPDK $release (mmdebstrap, about two minutes)" >&2
	if ! mmdebstrap --variant=apt --include="$pkgs" "$suite" "$root.tmp" "${sources[@]}" >"$log" 2>&1; then
		rm -rf "$root.tmp"
		skip "mmdebstrap of Debian $suite failed (registry not reachable?): $(grep -m1 -E '^E:|error' "$log" || tail -1 "$log")"
	fi
	touch "$root.tmp/.complete"
	mv "$root.tmp" "$root"
fi

# the fixture, built in the root against its DPDK; again when the source is newer
if [[ ! -x $root/nc/nc_fwd || $src -nt $root/nc/nc_fwd ]]; then
	mkdir -p "$root/nc"
	cp "$src" "$root/nc/nc_fwd.c"
	# shellcheck disable=SC2016 # pkg-config runs in the root
	if ! chroot "$root" sh -c 'gcc -Wall -Wextra -Werror -O2 -g -fno-omit-frame-pointer \
		-momit-leaf-frame-pointer $(pkg-config --cflags libdpdk) -o /nc/nc_fwd.tmp /nc/nc_fwd.c \
		$(pkg-config --libs libdpdk) && mv /nc/nc_fwd.tmp /nc/nc_fwd' >&2; then
		echo "roots.sh: nc_fwd does not compile against DPDK $release" >&2
		exit 1
	fi
fi
echo "$root"
