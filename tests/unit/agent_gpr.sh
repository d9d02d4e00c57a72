#!/usr/bin/env bash
# agent_gpr: the code a function hook's trampoline calls in libnetcap-agent.so touches no vector,
# x87 or mask register. The trampolines save the general registers and the flags only
# (docs/inproc.md "The trampoline"); a caller compiled with -fipa-ra may keep values in vector
# registers across the hooked call. Disassembles the agent (objdump) and walks the call graph
# from the entries: every function reached, direct calls and tail jumps followed, must have no
# xmm/ymm/zmm/mm/st/k operand and no x87/SSE-state instruction, and call nothing outside the
# agent (a PLT call: libc's memcpy is vectorised). Indirect calls go to the filter (filter_reject
# below, or core/jit's code, checked by test_jit's /jit/gpr-only) and from it to slow_path.
# The control: fh_fail (agent/fhook.c, a variadic function compiled without -mgeneral-regs-only,
# whose prologue saves xmm0-7 as the ABI has it) must be found using vector registers.
# Usage: agent_gpr.sh LIBNETCAP_AGENT_SO
set -euo pipefail
lib=${1:?usage: agent_gpr.sh LIBNETCAP_AGENT_SO}
roots=(fh_entry_single fh_entry_vector fh_entry_ret fh_return slow_path filter_reject)
command -v objdump >/dev/null || { echo "agent_gpr: objdump (binutils) is not installed" >&2; exit 77; }
dis=$(mktemp "${TMPDIR:-/tmp}/nc-agent-gpr.XXXXXX")
trap 'rm -f "$dis"' EXIT
objdump -d --no-show-raw-insn "$lib" >"$dis"

# check ROOT...: prints one line per finding ("FUNC: what"), then "reached N" (the functions
# walked); a root missing from the library is a finding
check() {
	awk -v roots="$*" '
	/^[0-9a-f]+ <[^>]+>:$/ { f = $2; gsub(/[<>:]/, "", f); have[f] = 1; next }
	f != "" && /^ +[0-9a-f]+:\t/ {
		n[f]++
		line[f, n[f]] = $0
	}
	END {
		nr = split(roots, q, " ")
		for (i = 1; i <= nr; i++) {
			if (!(q[i] in have)) { print q[i] ": not in the library (renamed? update the roots)"; continue }
			seen[q[i]] = 1
		}
		while (nr > 0) {
			g = q[nr--]
			if (!(g in have)) continue
			reached++
			for (k = 1; k <= n[g]; k++) {
				l = line[g, k]
				split(l, part, "\t")
				ins = part[2]
				mn = ins; sub(/ .*/, "", mn)
				if (ins ~ /%([xyz]mm[0-9]|mm[0-7]|st\(|st$|st,|k[0-7])/ ||
				    mn ~ /^(f[a-z]+|emms|ldmxcsr|stmxcsr|vzero(upper|all)|xsave.*|xrstor.*|fxsave.*|fxrstor.*)$/) {
					print g ": " ins
					continue
				}
				if (mn !~ /^(call|jmp|notrack)/) continue
				if (match(ins, /<[^>]+>$/) == 0) continue
				t = substr(ins, RSTART + 1, RLENGTH - 2)
				if (t ~ /@plt$/) { print g ": calls " t " outside the agent: " ins; continue }
				sub(/\+0x[0-9a-f]+$/, "", t)
				if (t == g || (t in seen)) continue
				seen[t] = 1
				q[++nr] = t
			}
		}
		print "reached " reached
	}' "$dis"
}

out=$(check "${roots[@]}")
bad=$(grep -v '^reached ' <<<"$out" || true)
reached=$(sed -n 's/^reached //p' <<<"$out")
if [[ -n $bad ]]; then
	echo "agent_gpr: code a function hook's trampoline calls touches registers the stub does not save:" >&2
	echo "$bad" >&2
	exit 1
fi
control=$(check fh_fail | grep -c 'mm[0-9]' || true)
if ((control == 0)); then
	echo "agent_gpr: the control fh_fail shows no vector register: the scan finds nothing" >&2
	exit 1
fi
echo "agent_gpr: ${#roots[@]} entries, $reached functions, no vector/x87 register, no call out; control fh_fail: $control vector instructions"
