#!/usr/bin/env bash
# The man pages (docs/man/*.1) are true to --help: for netcap's commands and netcap-extcap, every
# option that --help prints is in the man page's OPTIONS section with the same argument name, and
# every option there is in --help; netcap(1) lists exactly the commands `netcap --help` lists; the
# examples --help prints are the man page's; netcap-privileges(8)'s synopsis is the script's
# usage line; each page renders without a groff warning and `man`
# finds its NAME.
# Usage: test_man.sh NETCAP NETCAP_EXTCAP MANDIR [NETCAP_PRIVILEGES]
set -euo pipefail
netcap=$1 extcap=$2 mandir=$3 privileges=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# the tags (.TP's next line) of one section of a roff page, with the font escapes removed
roff_tags() { # page section
	python3 - "$1" "$2" <<'PY'
import re, sys
page, want = sys.argv[1], sys.argv[2]
section, take = None, False
for line in open(page):
    line = line.rstrip("\n")
    if line.startswith(".SH "):
        section = line[4:].strip('"')
        continue
    if section != want:
        continue
    if line.startswith(".TP"):
        take = True
        continue
    if take:
        take = False
        line = re.sub(r"^\.(B|I|BR|IR|RB|BI|IB)\s+", "", line)
        line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace("\\&", "")
        print(line)
PY
}
# the examples of a roff page (between .EX and .EE), unescaped
roff_examples() {
	sed -n '/^\.EX/,/^\.EE/p' "$1" | grep -v '^\.E[XE]' | sed 's/\\-/-/g'
}

# `-p, --pid=PID` lines of GLib's --help
help_options() {
	grep -E '^  (-[A-Za-z], )?--[a-z-]+(=[^ ]+)? ' | sed -E 's/^  ((-[A-Za-z], )?--[a-z-]+(=[^ ]+)?) .*/\1/' | sort
}

checked=0
for cmd in mbuf skb list filter; do
	page=$mandir/netcap-$cmd.1
	[[ -f $page ]] || fail "no man page $page for \`netcap $cmd\`"
	"$netcap" "$cmd" --help >"$tmp/help"
	help_options <"$tmp/help" >"$tmp/help.opts"
	roff_tags "$page" OPTIONS | sort >"$tmp/man.opts"
	[[ -s $tmp/help.opts ]] || fail "netcap $cmd --help: no option found (did its format change?)"
	diff -u --label "netcap $cmd --help" --label "$page OPTIONS" "$tmp/help.opts" "$tmp/man.opts" ||
		fail "netcap $cmd --help and $page list different options: update the man page (or the help)"
	# examples --help shows are in the man page
	sed -n '/^Examples:/,/^$/p' "$tmp/help" | sed -n 's/^  //p' >"$tmp/help.ex"
	roff_examples "$page" >"$tmp/man.ex"
	while IFS= read -r ex; do
		grep -qxF -- "$ex" "$tmp/man.ex" || fail "$page: the example \"$ex\" of netcap $cmd --help is missing"
	done <"$tmp/help.ex"
	checked=$((checked + $(wc -l <"$tmp/help.opts")))
done

# netcap(1): the commands of `netcap --help`
"$netcap" --help | sed -n '/^Commands:/,/^$/p' | sed -nE 's/^  ([a-z]+) .*/\1/p' | sort >"$tmp/help.cmds"
roff_tags "$mandir/netcap.1" COMMANDS | sort >"$tmp/man.cmds"
[[ $(wc -l <"$tmp/help.cmds") -ge 4 ]] || fail "netcap --help: fewer than 4 commands found"
diff -u --label "netcap --help" --label "netcap.1 COMMANDS" "$tmp/help.cmds" "$tmp/man.cmds" ||
	fail "netcap --help and netcap.1 list different commands"

# netcap-extcap(1): every --option of --help, and no other
"$extcap" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u >"$tmp/help.ext"
roff_tags "$mandir/netcap-extcap.1" OPTIONS | grep -oE -- '--[a-z][a-z-]+' | sort -u >"$tmp/man.ext"
[[ $(wc -l <"$tmp/help.ext") -ge 10 ]] || fail "netcap-extcap --help: fewer than 10 options found"
diff -u --label "netcap-extcap --help" --label "netcap-extcap.1 OPTIONS" "$tmp/help.ext" "$tmp/man.ext" ||
	fail "netcap-extcap --help and its man page list different options"
checked=$((checked + $(wc -l <"$tmp/help.ext")))

# netcap-privileges(8): its SYNOPSIS is the script's usage line
if [[ -n $privileges ]]; then
	usage=$("$privileges" --help | sed -n 's/^usage: //p')
	synopsis=$(MANWIDTH=200 man -l "$mandir/netcap-privileges.8" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/{n;p}' | sed -E 's/^ +//; s/ +/ /g')
	[[ -n $usage && $usage == "$synopsis" ]] ||
		fail "netcap-privileges.8 SYNOPSIS \"$synopsis\" is not the script's usage \"$usage\""
fi

# every page renders without warnings, and man(1) reads its NAME line
for page in "$mandir"/*.[18]; do
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	[[ -z $warn ]] || fail "$page: groff warns: $warn"
	name=$(basename "$page")
	name=${name%.[18]}
	MANWIDTH=80 man -l "$page" 2>/dev/null | col -b >"$tmp/rendered"
	grep -qE "^ +$name[[:space:]]+-[[:space:]]" "$tmp/rendered" ||
		fail "$page: man -l shows no NAME line \"$name - ...\""
done
echo "man pages: $checked options and $(wc -l <"$tmp/help.cmds") commands match --help; $(ls "$mandir"/*.[18] | wc -l) pages render"
