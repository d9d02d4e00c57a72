/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loading a shared library into a running, unmodified process (x86-64, glibc) and calling one of
 * its functions on a new thread of that process: netcap's way to put its agent into a DPDK
 * application (docs/inject.md).
 *
 * One sleeping thread that is never a DPDK lcore is stopped with ptrace (PTRACE_SEIZE +
 * PTRACE_INTERRUPT; the other threads run on), made to map two scratch pages and to call
 * pthread_create(), and let go: it returns into a stub in the scratch pages that restores its
 * registers and resumes (or restarts) what it was doing. The new thread does
 * dlopen(lib, RTLD_NOW), dlsym(entry) and entry(arg). If netcap dies at any moment the target
 * keeps running; nothing is written into the target's code or FP state.
 *
 * Left in the target: the library (never unloaded here) and the two scratch pages (8 KiB,
 * read-write-execute, anonymous), one pair per injection.
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL) naming what is wrong and what to do. Nothing here prints.
 */
#ifndef NC_INJECT_H
#define NC_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nc_inject_opts {
	pid_t tid;	     /* the thread to stop; 0: chosen (a sleeping non-lcore thread) */
	unsigned timeout_ms; /* how long to wait for the new thread to call entry; 0: 5000 */
	/*
	 * Copy mode: lib_path is netcap's file (the target need not see it: a container, a
	 * chroot); its bytes go into the scratch mapping, the new thread writes them into a memfd
	 * of its own, unmaps them and dlopen()s /proc/self/fd/N (the target's /proc), so that no
	 * file is left anywhere. soname (may be NULL), the library's DT_SONAME, lets the thread
	 * find the library loaded by an earlier injection (dlopen(soname, RTLD_NOLOAD)) instead of
	 * loading a second copy.
	 */
	bool copy;
	const char *soname;
};

struct nc_inject_result {
	pid_t tid;	     /* the thread that was stopped */
	char comm[16];	     /* its name */
	long syscall_nr;     /* the system call it slept in, -1 if none */
	uint64_t stop_at_ns; /* when it stopped, from the start of the call */
	uint64_t stop_ns;    /* how long it was stopped: from its ptrace stop to the detach */
	uint64_t pages;	     /* address of the scratch pages left in the target */
	pid_t agent_tid;     /* the new thread that called entry */
	bool entry_returned; /* entry returned within the timeout... */
	int entry_ret;	     /* ...with this value */
	uint64_t total_ns;   /* the whole call, from the first look at /proc to the result */
};

/*
 * Whether pid can be injected into, without touching it: 0, and the thread nc_inject() would
 * stop in *tid (may be NULL), or a negative errno with one line naming the obstacle and what to
 * do: -ESRCH no such process; -EPERM no CAP_SYS_PTRACE / Yama ptrace_scope / already traced;
 * -EACCES seccomp; -ENOTSUP shadow stacks; -ENOEXEC a static or non-glibc process, or one that
 * is not x86-64; -ENOENT a glibc without the functions needed; -EBUSY no sleeping thread outside
 * the DPDK lcores.
 */
int nc_inject_check(pid_t pid, pid_t *tid, char *err, size_t errlen);

/*
 * Loads lib_path (absolute, as the target sees it; with opts->copy as netcap sees it) into pid and
 * calls `int entry_symbol(const char *arg)` with a copy of arg on a new thread of pid, which ends
 * when entry returns. Returns 0 once entry has been called (opts->timeout_ms at most); res (may be
 * NULL) says which thread was stopped, for how long, and whether entry returned yet. Errors: those
 * of nc_inject_check(), -EINVAL for arguments too long for the scratch pages, -ENOENT for a
 * library dlopen() refused or an entry dlsym() did not find (the message is dlerror()'s),
 * -ETIMEDOUT when the thread did not stop or entry was not called in time, -ESRCH when the
 * process exited meanwhile, mmap()'s, pthread_create()'s, memfd_create()'s or write()'s error in
 * the target. On every path the
 * thread is let go and the target keeps running; after an error past the stop the scratch pages may
 * stay mapped (res->pages, when known).
 */
int nc_inject(pid_t pid, const char *lib_path, const char *entry_symbol, const char *arg,
	      const struct nc_inject_opts *opts, struct nc_inject_result *res, char *err,
	      size_t errlen);

#endif
