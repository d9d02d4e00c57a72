/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checks a capture passes before anything is read or loaded: the capabilities it needs
 * (util/privs.h) and, when netcap runs for a caller other than root (file capabilities,
 * docs/privileges.md), what such a caller may capture.
 */
#ifndef NC_GUARD_H
#define NC_GUARD_H

#include <stddef.h>

#include "mbuf_capture.h"
#include "skb_capture.h"

/*
 * mbuf: the hook specs parse (-EINVAL with the parser's line otherwise); the capabilities (CAP_BPF,
 * CAP_PERFMON, CAP_SYS_ADMIN for uprobes where the kernel asks for it, CAP_SYS_PTRACE for another
 * user's process); for a caller other than root also: every process is one the caller could trace,
 * and no hook spec is a raw file offset (a uprobe inside an instruction of a shared file would
 * break every process that runs it). Returns 0 or -EPERM with one line in err.
 */
int nc_guard_mbuf(const struct nc_mbuf_request *r, char *err, size_t errlen);

/* skb: CAP_BPF and CAP_PERFMON, CAP_SYS_ADMIN to enter --netns. 0 or -EPERM with one line. */
int nc_guard_skb(const struct nc_skb_request *r, char *err, size_t errlen);

#endif
