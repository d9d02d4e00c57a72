/* SPDX-License-Identifier: BSD-2-Clause */
/* The pieces of inject.c that the unit tests call on their own (tests/unit/test_inject.c). */
#ifndef NC_INJECT_INT_H
#define NC_INJECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The registers of a thread stopped on its way out of the kernel (struct user_regs_struct
 * fields that matter here). */
struct nc_inject_regs {
	uint64_t rax, orig_rax, rip;
};

/*
 * What the kernel does to a thread's registers when it returns to user space after an
 * interrupted system call and no signal handler runs (its arch_do_signal_or_restart()):
 * -ERESTARTSYS, -ERESTARTNOINTR and -ERESTARTNOHAND restart the call (rax = orig_rax, rip back
 * over the 2-byte syscall instruction), -ERESTART_RESTARTBLOCK restarts it through
 * restart_syscall; anything else (a result, -EINTR) is returned as is. orig_rax becomes -1 (no
 * system call in progress). Returns true when a restart was set up.
 */
bool nc_inject_resume_regs(struct nc_inject_regs *r);

/* How a thread's name classifies it in a DPDK process. */
enum nc_inject_kind {
	NC_THREAD_LCORE,   /* "rte-worker-N", "lcore-worker-N", "dpdk-worker*": never stopped */
	NC_THREAD_CONTROL, /* DPDK's own sleeping threads: interrupts, IPC, telemetry */
	NC_THREAD_OTHER,   /* the application's, or not DPDK */
};
enum nc_inject_kind nc_inject_thread_kind(const char *comm);

/* Where rt_sigreturn's trampoline ("mov $15, %rax; syscall", glibc's __restore_rt) is in buf, or
 * -1. */
long nc_inject_find_restorer(const unsigned char *buf, size_t len);

#endif
