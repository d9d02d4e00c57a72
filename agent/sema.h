/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * USDT semaphores of function hooks at USDT sites (docs/inproc.md "USDT probes"): a probe guarded
 * by its semaphore (`if (PROBE_ENABLED()) PROBE(...)`) runs only while the 2-byte counter is not
 * 0. A uprobe with a ref_ctr_offset makes the kernel raise it while attached; here the agent
 * raises it when the hooks are armed and lowers it when it leaves, whatever made it leave (STOP,
 * netcap's socket closed, netcap's pid gone), so netcap killed with SIGKILL leaves it as it was.
 */
#ifndef NC_AGENT_SEMA_H
#define NC_AGENT_SEMA_H

#include "nc_agent_abi.h"

/* Adds 1 to the semaphore of every hook of c that has one (nc_agent_hook.sema) */
void sema_raise(const struct nc_agent_config *c);

/* Takes back what sema_raise() added; nothing when it added nothing */
void sema_lower(void);

#endif
