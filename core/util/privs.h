/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a capture needs of the kernel, checked before anything is loaded, and the rule netcap keeps
 * when it runs with capabilities its caller did not have (file capabilities, set by
 * packaging/netcap-privileges; docs/privileges.md): a caller other than root captures only from
 * processes they could trace themselves.
 */
#ifndef NC_PRIVS_H
#define NC_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct nc_privs_need {
	bool uprobes;	   /* mbuf: uprobes into processes */
	bool netns;	   /* skb --netns: entering another network namespace */
	const pid_t *pids; /* mbuf: processes whose memory is read (/proc/PID/mem) */
	size_t n_pids;
};

/*
 * Compares the capabilities the kernel will ask for with the effective ones: CAP_BPF and
 * CAP_PERFMON (or CAP_SYS_ADMIN, which the kernel takes for both), CAP_SYS_ADMIN for uprobes where
 * the kernel requires it (probed: Linux since commit ba677dbe77af, 2025), CAP_SYS_ADMIN for
 * setns(), CAP_SYS_PTRACE to read the memory of a process the caller could not trace. Returns 0,
 * or -EPERM with one line naming every missing capability and why. Loads nothing.
 */
int nc_privs_check(const struct nc_privs_need *need, char *err, size_t errlen);

/* Whether capability cap (CAP_SYS_PTRACE...) is in the caller's effective set */
bool nc_privs_have(int cap);

/* Yama's ptrace_scope: 0 to 3, 0 when Yama is not there */
int nc_privs_yama_scope(void);

/* The caller is root (real uid 0): the ownership rule below does not apply. */
bool nc_privs_is_root(void);

/*
 * For a caller other than root: 0 if the caller could trace process pid without privileges (its
 * real, effective and saved uids and gids are the caller's real uid and gid, it is dumpable and
 * holds no capabilities), else -EPERM with one line naming the process, its owner and what to do.
 * -ESRCH (no message) when there is no such process: the caller reports that in its own words.
 */
int nc_privs_may_trace(pid_t pid, char *err, size_t errlen);

#endif
