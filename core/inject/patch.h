/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Writing a few bytes of a running process's code with every one of its threads stopped (issue
 * 16, docs/inproc.md "Function hooks": "Patching"): the jump of a function hook, or the original
 * bytes back. netcap's side, over ptrace; the process is not asked to do anything.
 *
 * Every thread is attached (PTRACE_SEIZE, PTRACE_O_TRACECLONE) and stopped (PTRACE_INTERRUPT:
 * the sleeping threads first, the running ones, lcores, once those stopped);
 * none may have its instruction pointer strictly inside a site's bytes (addr, addr + len), nor
 * such an address on its stack between its rsp and the end of that mapping (1 MiB at most: a
 * signal handler's interrupted context, a return address into the site), else
 * every thread is released and the whole is tried again 1 ms later, until the bound; each site's
 * bytes must be what the caller expects; each is written with one pwrite to /proc/PID/mem
 * (within one page), read back, and on any failure the sites already written are put back; every
 * thread is detached. If the caller dies in the middle, the kernel detaches the threads and each
 * site holds either its old or its new bytes.
 *
 * The stops are collected with waitpid() on each thread id: no other thread of the caller may
 * wait for "any child" (waitpid(-1), wait()) meanwhile, which would take a stop meant for this
 * (a thread's stop not seen: -ETIMEDOUT).
 *
 * Errors: 0 or a negative errno with one line in err (errlen bytes, may be NULL):
 *   -EINVAL     a site of 0 or more than 16 bytes, or crossing a page boundary;
 *   -ESRCH      no such process;
 *   -EPERM      ptrace refused (another tracer, no CAP_SYS_PTRACE, Yama);
 *   -ESTALE     a site's bytes are not what the caller expected (code that changed);
 *   -ETIMEDOUT  the threads did not all stop, or one stayed inside a site (or kept such an
 *               address on its stack), within the bound.
 */
#ifndef NC_PATCH_H
#define NC_PATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NC_PATCH_MAX_LEN    16
#define NC_PATCH_TIMEOUT_MS 100
#define NC_PATCH_STACK_SCAN (1u << 20) /* bytes of a stack read above its rsp, at most */

struct nc_patch_site {
	uint64_t addr;	       /* in the target */
	const uint8_t *expect; /* len bytes that must be there now */
	const uint8_t *write;  /* len bytes to write */
	size_t len;	       /* 1..NC_PATCH_MAX_LEN, within one page */
};

struct nc_patch_result {
	unsigned threads;     /* threads stopped in the successful (or last) try */
	unsigned tries;	      /* stops made: 1 unless a thread was inside a site */
	uint64_t stop_ns;     /* longest try: from the first attach to the last detach */
	uint64_t held_ns;     /* longest time a thread stood stopped (its stop to its detach) */
	uint64_t run_held_ns; /* the same for the threads found running (lcores) */
	unsigned signals;     /* signals a thread stopped with, handed back at its detach */
	pid_t busy_tid;	      /* -ETIMEDOUT: the thread last seen inside a site, or 0 */
	uint64_t busy_rip;    /* and where (its rip, or the address found on its stack) */
	uint64_t busy_stack;  /* where on its stack that address was, or 0: its rip */
};

/*
 * Writes every site's `write` bytes in place of its `expect` bytes, all with the same stop.
 * timeout_ms bounds the whole (0: NC_PATCH_TIMEOUT_MS). res may be NULL. On failure no site is
 * changed (those written are put back), and no thread is left attached.
 */
int nc_patch_apply(pid_t pid, const struct nc_patch_site *sites, size_t n, int timeout_ms,
		   struct nc_patch_result *res, char *err, size_t errlen);

#endif
