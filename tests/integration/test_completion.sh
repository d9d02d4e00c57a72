#!/usr/bin/env bash
# Bash completion (packaging/bash-completion/netcap) under bash-completion, as bash calls it:
# COMP_LINE/COMP_POINT and COMP_WORDS split at bash's word-break characters, then the exact
# candidates (COMPREPLY) are compared: commands, options read from --help, hook spec forms,
# skb tracepoints, and against a running nc_fwd: DPDK pids for --pid, and after --pid PID the
# ports and functions `netcap list` prints.
# Usage: test_completion.sh NETCAP COMPLETION_FILE   (NC_FWD, NC_TEST_DATA from ctest)
set -euo pipefail
netcap=$1 file=$2
source "$(dirname "$0")/lib.sh"
[[ -f /usr/share/bash-completion/bash_completion ]] ||
	nc_fail "bash-completion is not installed (scripts/bootstrap installs it)"
set +eu # bash-completion's functions are not written for -eu
source /usr/share/bash-completion/bash_completion
source "$file"
set -eu

# complete LINE (the cursor at its end) as bash would; prints the sorted candidates on one line
comp() {
	local line=$1 w="" c i brk=0
	COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $c == " " ]]; then
			[[ -n $w ]] && COMP_WORDS+=("$w")
			w="" brk=0
		elif [[ $COMP_WORDBREAKS == *"$c"* ]]; then
			if [[ -n $w && $brk == 0 ]]; then COMP_WORDS+=("$w"); w=""; fi
			w+=$c brk=1
		else
			if [[ -n $w && $brk == 1 ]]; then COMP_WORDS+=("$w"); w=""; fi
			w+=$c brk=0
		fi
	done
	COMP_WORDS+=("$w")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	set +eu
	_netcap
	set -eu
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
n=0
expect() { # LINE CANDIDATES
	local got
	got=$(comp "$1")
	[[ $got == "$2" ]] || nc_fail "completing \"$1\": got \"$got\", want \"$2\""
	n=$((n + 1))
}

N=$netcap
[[ $(complete -p netcap) == "complete -F _netcap netcap" ]] || nc_fail "the file does not register _netcap for netcap"
expect "$N " "--help --version filter list mbuf skb version"
expect "$N m" "mbuf"
expect "$N filter --" "--dump --help --snaplen= --verify"
expect "$N list -" "--help --kernel --pid= -h -k -p"
expect "$N mbuf --" "--buffer-size= --count= --duration= --expr= --func= --gather --gather-timeout= --help --inject --interface= --match= --netns= --pcap --pid= --ready-file= --snaplen= --stack --tcpdump= --verbose --write="
expect "$N mbuf -G --match " "content pointer"
expect "$N skb --s" "--snaplen= --stack"
expect "$N mbuf -f " "rx_burst tx_burst"
expect "$N mbuf -f r" "rx_burst"
expect "$N mbuf -f fwd_bu" "fwd_bu@"
expect "$N mbuf -f fwd_burst@" "fwd_burst@1 fwd_burst@2 fwd_burst@3 fwd_burst@4 fwd_burst@5 fwd_burst@6"
expect "$N mbuf -f fwd_burst@1@r" "fwd_burst@1@ret fwd_burst@1@ret16"
expect "$N mbuf --func=tx" "tx_burst"
expect "$N mbuf -f rx_burst,t" "rx_burst,tx_burst"
# skb -f: the tracepoints netcap list --kernel finds in this kernel's BTF
tps=$("$N" list --kernel | sed -nE 's/^  tracepoint:([a-z0-9_]+:[a-z0-9_]+) .*/\1/p' | LC_ALL=C sort)
[[ $(wc -l <<<"$tps") -ge 6 ]] || nc_fail "netcap list --kernel lists fewer than 6 tracepoints: $tps"
grep -qx skb:kfree_skb <<<"$tps" && grep -qx net:netif_receive_skb <<<"$tps" ||
	nc_fail "netcap list --kernel lacks skb:kfree_skb or net:netif_receive_skb"
expect "$N skb -f " "$(printf '%s\n' $tps tp: tracepoint: | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
# after "tp:" bash completes the word after the colon
expect "$N skb -f tp:net:netif_r" "$(sed -n 's/^net:\(netif_r.*\)/\1/p' <<<"$tps" | tr '\n' ' ' | sed 's/ $//')"
expect "$N skb --func=skb:k" "kfree_skb"
expect "$N skb -i l" "lo"
expect "$N mbuf -c " ""

# a running DPDK application
nc_tmpdir
nc_replay_input "$NC_TMP"
nc_fwd_start -- --vdev "net_pcap0,rx_pcap=$NC_TMP/in.pcap,tx_pcap=$NC_TMP/out.pcap" ||
	nc_fail "nc_fwd did not start"
P=$NC_FWD_PID
pids=$(comp "$N mbuf --pid ")
[[ " $pids " == *" $P "* ]] || nc_fail "--pid completion \"$pids\" lacks nc_fwd's pid $P"
[[ " $pids " != *" $$ "* ]] || nc_fail "--pid completion offers this shell ($$), not a DPDK process"
for p in $pids; do
	grep -qs librte_ethdev "/proc/$p/maps" || nc_fail "--pid completion offers $p, which maps no librte_ethdev"
done
n=$((n + 1))
expect "$N list --pid=$P" "$P"
expect "$N mbuf --pid $P -f " "fwd_burst@1@2 fwd_csum@1 fwd_inspect@1 fwd_one@1 fwd_rx@2@3 fwd_rx@2@ret rte_pktmbuf_detach@1 rte_pktmbuf_free@1 rx_burst rx_burst:0 tx_burst tx_burst:0 usdt:nc_fwd:burst@ usdt:nc_fwd:one@"
expect "$N mbuf -p $P -f fwd_" "fwd_burst@1@2 fwd_csum@1 fwd_inspect@1 fwd_one@1 fwd_rx@2@3 fwd_rx@2@ret"
expect "$N mbuf --pid=$P -f tx_burst,fwd_o" "tx_burst,fwd_one@1"
expect "$N mbuf --pid $P -f rx_burst:" "0"
expect "$N mbuf --pid $P -f usdt:nc_fwd:b" "burst@"
echo "completion: $n cases give the exact candidates"
