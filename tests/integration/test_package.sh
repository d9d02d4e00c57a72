#!/usr/bin/env bash
# The Debian package (packaging/debian): built by scripts/package (dpkg-buildpackage on git
# archive HEAD with packaging/debian put at debian/), then installed with dpkg into a throwaway
# root: an overlayfs over / in a private mount namespace (upper and work layers on a tmpfs of
# the test), chrooted into, so the host's dependencies satisfy dpkg honestly and nothing changes
# on the host. There: netcap --version, the man pages through man -w, bash completion loaded by
# bash-completion, tshark -D listing the kernel interfaces through the installed extcap (as root
# Wireshark reads only the global extcap folder), the verifier accepting a filter loaded by the
# installed (Release) netcap, and the debconf question: yes gives group netcap, root:netcap 0750
# and file capabilities; no (dpkg-reconfigure) takes them away.
# Usage: test_package.sh SOURCE_DIR
set -euo pipefail
top=$1
tmp=$(mktemp -d /tmp/netcap-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start=$(date +%s)
"$top/scripts/package" "$tmp/out" >"$tmp/package.out" || fail "scripts/package failed (above)"
built=$(($(date +%s) - start))
git -C "$top" archive HEAD CMakeLists.txt | tar -x -O >"$tmp/CMakeLists.txt"
version=$(sed -nE 's/^project\(netcap VERSION ([0-9.]+).*/\1/p' "$tmp/CMakeLists.txt")
deb=$tmp/out/netcap_${version}_amd64.deb
[[ $(cat "$tmp/package.out") == "$deb" ]] || fail "scripts/package printed \"$(cat "$tmp/package.out")\", want $deb"
[[ -f $deb ]] || fail "no $deb after the build: $(ls "$tmp/out")"

# what the package holds
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort >"$tmp/files"
for f in ./usr/bin/netcap ./usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap \
	./usr/share/wireshark/profiles/netcap/preferences ./usr/share/bash-completion/completions/netcap \
	./usr/share/man/man1/netcap.1.gz ./usr/share/man/man1/netcap-mbuf.1.gz \
	./usr/share/man/man1/netcap-skb.1.gz ./usr/share/man/man1/netcap-list.1.gz \
	./usr/share/man/man1/netcap-filter.1.gz ./usr/share/man/man1/netcap-extcap.1.gz \
	./usr/share/man/man8/netcap-privileges.8.gz \
	./usr/share/doc/netcap/copyright ./usr/share/doc/netcap/README.md.gz ./usr/sbin/netcap-privileges \
	./usr/share/doc/netcap/docs/hook-specs.md.gz ./usr/lib/netcap/libnetcap-agent.so; do
	grep -qxF "$f" "$tmp/files" || fail "the package lacks $f"
done
grep -q /docs/man/ "$tmp/files" && fail "the package's docs hold docs/man (the man pages are in man1)"
if grep -vE '^\./usr/(s?bin/|lib/netcap/|lib/x86_64-linux-gnu/wireshark/extcap/|share/(man/man[18]|wireshark/profiles/netcap|bash-completion/completions|doc/netcap)/)' "$tmp/files"; then
	fail "the package holds files outside its places (above)"
fi
dpkg-deb -f "$deb" Depends | grep -q 'libbpf1' || fail "Depends lacks libbpf1: $(dpkg-deb -f "$deb" Depends)"
# Debian's package checker: no error, no warning
lintian --fail-on error,warning "$deb" >"$tmp/lintian" 2>&1 ||
	{ cat "$tmp/lintian" >&2; fail "lintian finds errors or warnings in the package (above)"; }
for m in templates config postinst postrm; do
	dpkg-deb -I "$deb" "$m" >/dev/null 2>&1 || fail "the package has no $m (debconf set-up)"
done

# the throwaway root and what runs in it
root=$tmp/root
mkdir -p "$root" "$tmp/layers"
cp "$deb" "$tmp/netcap.deb"
cat >"$tmp/inside.sh" <<'INSIDE'
set -euo pipefail
fail() { echo "FAIL (in the package root): $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
home=$(mktemp -d) # no personal Wireshark folder
export HOME=$home XDG_CONFIG_HOME=$home/.config
# a netcap installed by hand on this machine would make the checks below meaningless
rm -f /usr/local/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap
! command -v netcap >/dev/null || fail "a netcap is on PATH before the install: $(command -v netcap)"
tshark -D 2>/dev/null | grep -q 'netcap:' && fail "tshark lists netcap interfaces before the install"

echo "netcap netcap/install-setcap boolean true" | debconf-set-selections
apt-get install -y /tmp/netcap.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log >&2; fail "apt-get install /tmp/netcap.deb failed"; }
[[ $(dpkg-query -W -f='${db:Status-Abbrev}' netcap) == "ii " ]] || fail "netcap is not installed (ii)"

[[ $(command -v netcap) == /usr/bin/netcap ]] || fail "netcap on PATH is $(command -v netcap)"
[[ $(netcap --version) == "netcap $VERSION" ]] || fail "netcap --version: $(netcap --version)"
for page in netcap netcap-mbuf netcap-skb netcap-list netcap-filter netcap-extcap; do
	[[ $(man -w "$page") == /usr/share/man/man1/$page.1.gz ]] || fail "man -w $page: $(man -w "$page" 2>&1)"
done
[[ $(man -w netcap-privileges) == /usr/share/man/man8/netcap-privileges.8.gz ]] ||
	fail "man -w netcap-privileges: $(man -w netcap-privileges 2>&1)"
[[ $(MANWIDTH=80 man netcap-mbuf 2>/dev/null | col -b | grep -c -- '--pid=PID') -ge 1 ]] ||
	fail "man netcap-mbuf does not show --pid=PID"
comp=$(bash -c 'source /usr/share/bash-completion/bash_completion
	_completion_loader netcap; complete -p netcap
	COMP_LINE="netcap sk" COMP_POINT=9 COMP_WORDS=(netcap sk) COMP_CWORD=1; _netcap; echo "${COMPREPLY[*]}"')
[[ $comp == $'complete -F _netcap netcap\nskb' ]] || fail "bash completion from the package: $comp"

tshark -D >/tmp/tshark-D 2>/tmp/tshark-D.err || { cat /tmp/tshark-D.err >&2; fail "tshark -D failed"; }
kernel=$(sed -nE 's/^[0-9]+\. (netcap:kernel:[a-z_]+) .*/\1/p' /tmp/tshark-D | sort | tr '\n' ' ')
[[ $kernel == "netcap:kernel:kfree_skb netcap:kernel:net_dev_queue netcap:kernel:netif_receive_skb " ]] ||
	{ cat /tmp/tshark-D >&2; fail "tshark -D: the installed extcap's kernel interfaces are \"$kernel\""; }
[[ $(netcap filter --verify "vlan and tcp port 80") == 'filter "vlan and tcp port 80": accepted by the kernel verifier' ]] ||
	fail "the installed netcap's filter is not accepted by the verifier"

# debconf yes: the group, root:netcap 0750, file capabilities on both programs
getent group netcap >/dev/null || fail "no group netcap after answering yes"
for p in /usr/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap; do
	[[ $(stat -c '%U:%G %a' "$p") == "root:netcap 750" ]] || fail "$p is $(stat -c '%U:%G %a' "$p"), want root:netcap 750"
	got=$(getcap "$p" | sed -E "s|^$p ||; s/=ep$//" | tr , '\n' | sort | tr '\n' ,)
	want=$(tr , '\n' <<<"$CAPS" | sort | tr '\n' ,)
	[[ $(getcap "$p") == *=ep && $got == "$want" ]] || fail "getcap $p: \"$(getcap "$p")\", want $CAPS=ep"
	dpkg-statoverride --list "$p" | grep -qxE "root netcap 0?750 $p" || fail "no statoverride for $p"
done
# netcap-privileges (installed too) sets what postinst set: after disable and enable, the same
netcap-privileges disable >/dev/null
[[ $(stat -c '%U:%G %a' /usr/bin/netcap) == "root:root 755" && -z $(getcap /usr/bin/netcap) ]] ||
	fail "netcap-privileges disable left $(stat -c '%U:%G %a' /usr/bin/netcap) $(getcap /usr/bin/netcap)"
netcap-privileges enable >/dev/null
for p in /usr/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap; do
	[[ $(stat -c '%U:%G %a' "$p") == "root:netcap 750" ]] || fail "netcap-privileges enable: $p is $(stat -c '%U:%G %a' "$p")"
	got=$(getcap "$p" | sed -E "s|^$p ||; s/=ep$//" | tr , '\n' | sort | tr '\n' ,)
	[[ $got == "$(tr , '\n' <<<"$CAPS" | sort | tr '\n' ,)" ]] ||
		fail "netcap-privileges enable gives $p \"$(getcap "$p")\", postinst $CAPS"
done
# debconf no: all taken back
echo "netcap netcap/install-setcap boolean false" | debconf-set-selections
dpkg-reconfigure -fnoninteractive netcap >/tmp/reconf.log 2>&1 || { cat /tmp/reconf.log >&2; fail "dpkg-reconfigure failed"; }
for p in /usr/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap; do
	[[ $(stat -c '%U:%G %a' "$p") == "root:root 755" ]] || fail "after no: $p is $(stat -c '%U:%G %a' "$p")"
	[[ -z $(getcap "$p") ]] || fail "after no: $p keeps $(getcap "$p")"
	! dpkg-statoverride --list "$p" >/dev/null || fail "after no: a statoverride remains for $p"
done
dpkg --purge netcap >/tmp/purge.log 2>&1 || { cat /tmp/purge.log >&2; fail "dpkg --purge failed"; }
[[ ! -e /usr/bin/netcap ]] || fail "/usr/bin/netcap remains after purge"
rm -rf "$home"
INSIDE

# the capabilities packaging/netcap-privileges sets, which postinst mirrors
caps=cap_bpf,cap_perfmon,cap_sys_admin
case $(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0) in
1 | 2) caps=$caps,cap_sys_ptrace ;;
esac
host_before=$(ls -l /usr/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap 2>&1 || true)
unshare -m --propagation private bash -c '
	set -euo pipefail
	tmp=$1 root=$2 version=$3 caps=$4
	mount -t tmpfs tmpfs "$tmp/layers"
	mkdir "$tmp/layers/upper" "$tmp/layers/work"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/layers/upper,workdir=$tmp/layers/work" "$root" ||
		{ echo "FAIL: overlayfs over / refused" >&2; exit 1; }
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs tmpfs "$root/tmp"
	cp "$tmp/inside.sh" "$tmp/netcap.deb" "$root/tmp/"
	VERSION=$version CAPS=$caps chroot "$root" /bin/bash /tmp/inside.sh
' _ "$tmp" "$root" "$version" "$caps"
# the host is as it was
[[ $(ls -l /usr/bin/netcap /usr/lib/x86_64-linux-gnu/wireshark/extcap/netcap-extcap 2>&1 || true) == "$host_before" ]] ||
	fail "the host's /usr/bin/netcap or global extcap folder changed during the test"
! dpkg-query -W netcap >/dev/null 2>&1 || fail "dpkg on the host knows a netcap package after the test"
echo "package: built in ${built} s ($(stat -c %s "$deb") bytes, $(wc -l <"$tmp/files") files); installed, checked, reconfigured and purged in an overlay root"
