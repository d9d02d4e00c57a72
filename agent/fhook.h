/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's side of function hooks (docs/inproc.md "Function hooks"): memory near each hooked
 * function for netcap to write a trampoline into, the TRAMPS / ARMED exchange, and the data slots
 * that switch a trampoline's call into the agent on and off. The agent never writes code: netcap
 * builds (core/inject/hook.c) and writes the trampolines and patches the functions
 * (core/inject/patch.c). A trampoline, once handed out, stays mapped and is never given other
 * bytes: a later capture of the same function, kind and arguments reuses it.
 */
#ifndef NC_AGENT_FHOOK_H
#define NC_AGENT_FHOOK_H

#include <stdint.h>

#include "nc_agent_abi.h"

#define FH_MAX 256 /* trampolines over the agent's life */

/*
 * For each FUNC_* hook of c: finds the trampoline of an earlier capture for the same function,
 * kind and arguments or places a new one, sends TRAMPS on sock and waits for ARMED (netcap
 * writes and patches meanwhile). index[i] is the trampoline of hook i. 0, or -errno with one line
 * in text (NC_AGENT_TEXT bytes); -EPIPE when netcap went away (the functions may be patched: their
 * trampolines, entry 0, run only the relocated code).
 */
int fh_handshake(int sock, const struct nc_agent_config *c, uint32_t index[NC_AGENT_MAX_HOOKS],
		 char *text);

/* The data slot of trampoline i: entry switched on (cookie i) or off */
void fh_arm(uint32_t i, void (*entry)(uint64_t, uint64_t, uint64_t));
void fh_disarm(uint32_t i);

/*
 * FUNC_RET: the return side's function stored (it stays), the return stub's address netcap wrote
 * checked and given in *stub, then the entry switched on. -EINVAL with the reason in text.
 */
int fh_arm_ret(uint32_t i, uint64_t (*entry)(uint64_t, uint64_t, uint64_t),
	       uint64_t (*ret)(uint64_t, uint64_t), uint64_t *stub, char *text);

/* A FUNC_* hook's kind, arguments and address are acceptable (text: the reason) */
int fh_check(const struct nc_agent_hook *h, uint32_t i, char *text);

#endif
