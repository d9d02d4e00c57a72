/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libnetcap as its front ends (the netcap command, the Wireshark extcap) see it: the one header
 * they include. What it offers:
 *   - captures: a request (struct nc_request), its check and the capture (capture/request.h),
 *     with the output options (write/sink.h) and -G (capture/gather.h) it holds;
 *   - listings: DPDK processes with their ports, functions and USDT probes
 *     (discover/listing.h), the kernel's hook points (discover/kskb.h, discover/tracepoint.h),
 *     where a probe would sit in a function (plan/placement.h);
 *   - filters: compile and print (filter/filter.h), and run one in the kernel against packets
 *     (load/filter_prog.h);
 *   - whether netcap's agent can be loaded into a process (inject/inject.h: nc_inject_check)
 *     and how it would reach it (load/agent_lib.h);
 *   - the verbosity of the loader (load/splice.h: nc_load_set_verbose), the caller's privileges
 *     (util/privs.h) and the version (version.h).
 * Everything else under core/ is internal to the library.
 */
#ifndef NETCAP_H
#define NETCAP_H

#include "capture/request.h"
#include "discover/kskb.h"
#include "discover/listing.h"
#include "discover/tracepoint.h"
#include "filter/filter.h"
#include "inject/inject.h"
#include "load/agent_lib.h"
#include "load/filter_prog.h"
#include "load/splice.h"
#include "plan/placement.h"
#include "util/privs.h"
#include "version.h"

#endif
