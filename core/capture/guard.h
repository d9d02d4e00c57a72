/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The checks a capture passes before anything is read or loaded: the capabilities it needs
 * (util/privs.h) and, when netcap runs for a caller other than root (file capabilities,
 * docs/privileges.md), what such a caller may capture.
 */
#ifndef NC_GUARD_H
#define NC_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * mbuf: the hook specs parse (-EINVAL with the parser's line otherwise); the capabilities (CAP_BPF,
 * CAP_PERFMON, CAP_SYS_ADMIN for uprobes where the kernel asks for it, CAP_SYS_PTRACE for another
 * user's process); for a caller other than root also: every process is one the caller could trace,
 * and no hook spec is a raw file offset (a uprobe inside an instruction of a shared file would
 * break every process that runs it). inject (--inject): instead of the BPF capabilities, whether
 * netcap can load its agent into each process (nc_inject_check(): ptrace allowed, glibc, a
 * sleeping thread that is no lcore). Returns 0 or a negative errno with one line in err.
 */
int nc_guard_mbuf(char *const *specs, size_t n_specs, const pid_t *pids, size_t n_pids, bool inject,
		  char *err, size_t errlen);

/* skb: CAP_BPF and CAP_PERFMON, CAP_SYS_ADMIN to enter a namespace (--netns). 0 or -EPERM with
 * one line. */
int nc_guard_skb(bool netns, char *err, size_t errlen);

#endif
