#!/usr/bin/env bash
# Runs every `$ netcap …` example of README.md (in ```sh blocks) with the built netcap first on
# PATH. Lines after a command, up to the next command, blank line or fence, are its expected
# output: stdout and stderr together, exactly; a line "..." ends the comparison early (prefix).
# A command must exit 0, unless its shown output is a netcap error ("netcap: ...").
set -euo pipefail
readme=$1
bindir=$2
export PATH="$bindir:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ran=0
check() { # command, expected file
	local cmd=$1 want=$2 n
	ran=$((ran + 1))
	local status=0
	bash -c "$cmd" >"$tmp/got" 2>&1 || status=$?
	if [[ $status != 0 && $(head -c 8 "$want") != "netcap: " ]]; then
		cat "$tmp/got" >&2
		echo "FAIL: README example exited $status: $cmd" >&2
		exit 1
	fi
	if grep -qx '\.\.\.' "$want"; then
		n=$(grep -nx '\.\.\.' "$want" | head -1 | cut -d: -f1)
		head -n $((n - 1)) "$want" >"$tmp/want"
		head -n $((n - 1)) "$tmp/got" >"$tmp/got.prefix"
		mv "$tmp/got.prefix" "$tmp/got"
	else
		cp "$want" "$tmp/want"
	fi
	diff -u "$tmp/want" "$tmp/got" || { echo "FAIL: README example: $cmd" >&2; exit 1; }
}

in_sh=0 cmd=""
: >"$tmp/expected"
while IFS= read -r line; do
	if [[ $line == '```sh' ]]; then in_sh=1; continue; fi
	if [[ $in_sh == 1 && ( $line == '```' || -z $line || $line == '$ '* ) ]]; then
		[[ -n $cmd ]] && check "$cmd" "$tmp/expected"
		cmd="" ; : >"$tmp/expected"
		[[ $line == '```' ]] && in_sh=0
		[[ $line == '$ '* ]] && cmd=${line#\$ }
		continue
	fi
	[[ $in_sh == 1 && -n $cmd ]] && printf '%s\n' "$line" >>"$tmp/expected"
done <"$readme"
[[ $ran -ge 3 ]] || { echo "FAIL: found only $ran README examples" >&2; exit 1; }
echo "README: $ran examples ran as documented"
