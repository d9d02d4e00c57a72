#!/usr/bin/env bash
# kernel.sh VERSION CACHEDIR: Debian's kernel VERSION (5.10, 6.1, 6.12) unpacked into
# CACHEDIR/VERSION, ready for run.sh:
#   root/        the linux-image package unpacked (dpkg -x, not installed), depmod run on it
#   vmlinuz      link to root/boot/vmlinuz-KVER
#   vmlinux      the same kernel uncompressed, booted by qemu through its PVH entry (faster)
#   kver         the kernel release (uname -r in the guest)
#   moddir       path of root/…/lib/modules/KVER (lib/ or, merged /usr, usr/lib/), relative to
#                the version's directory (the cache can be copied elsewhere)
#   initrd.gz    busybox-static, init (tests/vm/init) and the modules that mount 9p
# The package comes from deb.debian.org through a sources file, lists and cache of our own
# (CACHEDIR/VERSION/apt): the host's apt configuration and state are neither read for sources
# nor changed. Cached: a second call only checks the stamp (and rebuilds the initramfs when
# init or this script changed). Needs apt-get, dpkg, depmod/modinfo (kmod), busybox-static, xz.
set -euo pipefail

die() {
	echo "kernel.sh: $*" >&2
	exit 1
}

[[ $# -eq 2 ]] || die "usage: kernel.sh VERSION CACHEDIR"
version=$1
case $version in
5.10) suite=bullseye ;;
6.1) suite=bookworm ;;
6.12) suite=trixie ;;
*) die "unknown kernel version '$version' (5.10, 6.1 or 6.12)" ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$2/$version"
dir=$(cd "$2/$version" && pwd)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

for tool in apt-get apt-cache dpkg depmod modinfo xz gzip; do
	command -v "$tool" >/dev/null || die "$tool missing (scripts/bootstrap installs it)"
done
busybox=/bin/busybox
if [[ ! -x $busybox ]] || readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is missing or not static: install busybox-static (scripts/bootstrap)"
fi
[[ -r $keyring ]] || die "$keyring missing (package debian-archive-keyring)"

# one caller at a time per version (ctest may run the three kernels in parallel)
exec 9>"$dir/.lock"
flock 9

# vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside BZIMAGE, when it has a PVH entry
# point (XEN_ELFNOTE_PHYS32_ENTRY, CONFIG_PVH): qemu boots it directly, without the firmware's
# real-mode set-up and the decompressor, which take ~6 s under TCG (xz, zstd)
vmlinux() {
	local magic tool off
	rm -f "$2"
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		command -v "$tool" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$1" | cut -d: -f1 | head -5); do
			tail -c +$((off + 1)) "$1" | "$tool" -dc >"$2.tmp" 2>/dev/null || true
			if [[ $(head -c 4 "$2.tmp") == $'\x7fELF' ]] &&
				readelf -n "$2.tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
				mv "$2.tmp" "$2"
				return 0
			fi
		done
	done
	rm -f "$2.tmp"
	echo "kernel.sh: $version: no PVH vmlinux in $1, booting the bzImage (slower)" >&2
	touch "$dir/.no-pvh"
}

# ---- the package --------------------------------------------------------------------------
fetch() {
	local apt=$dir/apt
	rm -rf "$apt" "$dir/root" "$dir/root.tmp" "$dir"/*.deb "$dir/vmlinux" "$dir/.no-pvh"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
	cat >"$apt/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: $keyring
EOF
	# all of apt's state and cache here; downloads as root (no _apt sandbox: the cache may be
	# in a directory _apt cannot enter)
	local opts=(-q -o "Dir::Etc::sourcelist=$apt/debian.sources" -o "Dir::Etc::sourceparts=$apt/parts"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=/dev/null"
		-o "APT::Sandbox::User=root")
	echo "kernel.sh: $version: apt-get update ($suite)" >&2
	apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 ||
		die "$version: apt-get update failed: $(grep -E '^(E|W):' "$apt/update.log" | head -1)"
	local pkg
	pkg=$(apt-cache "${opts[@]}" depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	[[ -n $pkg ]] || die "$version: linux-image-amd64 of $suite names no linux-image-* package"
	# linux-image-amd64 depends on the (signed) image package of the suite's kernel, which holds
	# vmlinuz and the modules (an -unsigned package would hold the same kernel)
	echo "kernel.sh: $version: apt-get download $pkg" >&2
	(cd "$dir" && apt-get "${opts[@]}" download "$pkg" >"$apt/download.log" 2>&1) ||
		die "$version: apt-get download $pkg failed: $(grep -E '^(E|W):' "$apt/download.log" | head -1)"
	local deb
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	[[ -n $deb ]] || die "$version: no .deb after downloading $pkg"
	mkdir -p "$dir/root.tmp"
	dpkg -x "$deb" "$dir/root.tmp"
	mv "$dir/root.tmp" "$dir/root"
	local vmlinuz
	vmlinuz=$(find "$dir/root/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -1)
	[[ -n $vmlinuz ]] || die "$version: $pkg has no boot/vmlinuz-*"
	local kver=${vmlinuz##*/vmlinuz-} moddir=
	for m in "$dir/root/lib/modules/$kver" "$dir/root/usr/lib/modules/$kver"; do
		[[ -d $m ]] && moddir=$m
	done
	[[ -n $moddir ]] || die "$version: $pkg has no lib/modules/$kver"
	# depmod -b BASE looks in BASE/lib/modules: BASE is root/ or, merged /usr, root/usr
	depmod -b "${moddir%/lib/modules/"$kver"}" "$kver" || die "$version: depmod failed"
	ln -sfn "root/boot/vmlinuz-$kver" "$dir/vmlinuz"
	echo "$kver" >"$dir/kver"
	echo "${moddir#"$dir/"}" >"$dir/moddir"
	echo "$pkg" >"$dir/package"
	rm -f "$deb"
	touch "$dir/.unpacked"
}
[[ -e $dir/.unpacked ]] || fetch
[[ -e $dir/vmlinux || -e $dir/.no-pvh ]] || vmlinux "$dir/vmlinuz" "$dir/vmlinux"
kver=$(cat "$dir/kver")
moddir=$(cat "$dir/moddir")
# a cache made before the path was relative held it whole: its part from root/ on
[[ $moddir != /* ]] || moddir=root/${moddir##*/root/}
moddir=$dir/$moddir

# ---- the initramfs ------------------------------------------------------------------------
# the modules that mount the host's root over 9p on virtio-pci and the overlay on it, with
# what they depend on
# (their own depends= lines); built-in ones (modules.builtin) are left out
roots=(virtio_pci 9pnet_virtio 9p overlay)
initrd() {
	local tmp=$dir/initrd.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
	cp "$busybox" "$tmp/bin/busybox"
	cp "$here/init" "$tmp/init"
	chmod 755 "$tmp/init"
	local -A file=() seen=()
	local f n
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		file[${n//-/_}]=$f
	done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
	local -A builtin=()
	if [[ -r $moddir/modules.builtin ]]; then
		while IFS= read -r f; do
			n=${f##*/}
			n=${n%.ko}
			builtin[${n//-/_}]=1
		done <"$moddir/modules.builtin"
	fi
	local order=()
	# add NAME: its dependencies first (depth first), then NAME
	add() {
		local name=${1//-/_} d deps
		[[ -n ${seen[$name]:-} ]] && return 0
		seen[$name]=1
		if [[ -z ${file[$name]:-} ]]; then
			[[ -n ${builtin[$name]:-} ]] && return 0
			die "$version: module $name neither a file nor built in"
		fi
		deps=$(modinfo -F depends "${file[$name]}") || die "$version: modinfo ${file[$name]} failed"
		for d in ${deps//,/ }; do
			add "$d"
		done
		order+=("$name")
	}
	for n in "${roots[@]}"; do
		add "$n"
	done
	for n in "${order[@]}"; do
		f=${file[$n]}
		case $f in
		*.xz) xz -dc "$f" >"$tmp/modules/$n.ko" ;;
		*.zst) zstd -qdc "$f" >"$tmp/modules/$n.ko" ;;
		*.gz) gzip -dc "$f" >"$tmp/modules/$n.ko" ;;
		*) cp "$f" "$tmp/modules/$n.ko" ;;
		esac
	done
	printf '%s\n' "${order[@]}" >"$tmp/modules/order"
	(cd "$tmp" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initrd.gz.tmp"
	mv "$dir/initrd.gz.tmp" "$dir/initrd.gz"
	rm -rf "$tmp"
	echo "kernel.sh: $version: initramfs with ${order[*]:-no modules (all built in)}" >&2
}
if [[ ! -s $dir/initrd.gz || $here/init -nt $dir/initrd.gz || $0 -nt $dir/initrd.gz ]]; then
	initrd
fi
exit 0
