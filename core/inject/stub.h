/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The code netcap copies into the scratch pages of a target (stub.c), and where things lie in
 * those pages. The code refers to the data by RIP-relative addresses, so it runs wherever the
 * pages are mapped, as long as it sits at their start.
 *
 *   0x0000  code: the restore stub (the hijacked thread returns into it from pthread_create)
 *           and the thread stub (the new thread's start routine)
 *   0x0800  struct nc_inject_data
 *   0x1000  the library path (NUL-terminated, 2048 bytes at most)
 *   0x1800  the entry symbol (512)
 *   0x1a00  the argument (1536)
 *   0x2000  (copy mode only) the library's bytes, img_map bytes: the thread stub writes them into
 *           a memfd of its own, unmaps them and loads "/proc/self/fd/N"
 */
#ifndef NC_INJECT_STUB_H
#define NC_INJECT_STUB_H

#include <stdint.h>

#define NC_INJECT_PAGES_SIZE 0x2000
#define NC_INJECT_DATA_OFF   0x800
#define NC_INJECT_PATH_OFF   0x1000
#define NC_INJECT_PATH_MAX   0x800
#define NC_INJECT_SYM_OFF    0x1800
#define NC_INJECT_SYM_MAX    0x200
#define NC_INJECT_ARG_OFF    0x1a00
#define NC_INJECT_ARG_MAX    0x600
#define NC_INJECT_IMG_OFF    0x2000
/* copy mode: the path the thread stub completes with the memfd's number */
#define NC_INJECT_FD_PREFIX "/proc/self/fd/"

/* The general registers the restore stub loads, in this order (struct nc_inject_data.regs). */
enum nc_inject_reg {
	NC_R_R15,
	NC_R_R14,
	NC_R_R13,
	NC_R_R12,
	NC_R_RBP,
	NC_R_RBX,
	NC_R_R11,
	NC_R_R10,
	NC_R_R9,
	NC_R_R8,
	NC_R_RAX,
	NC_R_RCX,
	NC_R_RDX,
	NC_R_RSI,
	NC_R_RDI,
	NC_R_EFLAGS,
	NC_R_RIP,
	NC_R_RSP,
	NC_R_COUNT
};

/* The state of the new thread (nc_inject_data.state). */
enum nc_inject_state {
	NC_INJ_MEMFD_FAILED = -3,  /* copy mode: memfd_create() or write() failed: sys_err */
	NC_INJ_DLSYM_FAILED = -2,  /* dlsym() found no entry: err holds dlerror() */
	NC_INJ_DLOPEN_FAILED = -1, /* dlopen() failed: err holds dlerror() */
	NC_INJ_NOT_STARTED = 0,
	NC_INJ_STARTED = 1,  /* the thread runs, dlopen() is next */
	NC_INJ_CALLING = 2,  /* entry is being called */
	NC_INJ_RETURNED = 3, /* entry returned entry_ret */
};

/* At NC_INJECT_DATA_OFF; the offsets are fixed by _Static_assert in stub.c. */
struct nc_inject_data {
	uint64_t regs[NC_R_COUNT]; /* what the hijacked thread resumes with */
	uint64_t fn_dlopen, fn_dlsym, fn_dlerror, fn_pthread_self, fn_pthread_detach;
	uint64_t pthread;   /* pthread_create()'s thread id */
	uint64_t handle;    /* dlopen()'s handle */
	int32_t create_ret; /* pthread_create()'s return value; -1 until the restore stub ran */
	int32_t reached;    /* 1 once the restore stub is done with this data */
	int32_t state;	    /* enum nc_inject_state */
	int32_t agent_tid;  /* the new thread's id */
	int32_t entry_ret;  /* entry's return value (state NC_INJ_RETURNED) */
	int32_t pad;
	char err[256]; /* dlerror(), truncated */
	char name[16]; /* the new thread's name (prctl PR_SET_NAME) */
	/* copy mode (img_len > 0): the library's bytes at NC_INJECT_IMG_OFF */
	uint64_t img_len; /* its size */
	uint64_t img_map; /* the mapping's bytes from NC_INJECT_IMG_OFF, unmapped once copied */
	int32_t memfd;	  /* the memfd the stub made, -1 before */
	int32_t sys_err;  /* the errno of memfd_create() or write() (NC_INJ_MEMFD_FAILED) */
	char fdbuf[16];	  /* the memfd's number in decimal, written backwards from its end */
	char soname[64];  /* the library's DT_SONAME: dlopen(RTLD_NOLOAD) finds it loaded before */
	char memfd_name[32]; /* the memfd's name (/proc/PID/maps: "/memfd:NAME (deleted)") */
};

/* The code (stub.c): copied from nc_inject_stub_begin to nc_inject_stub_end to the pages' start;
 * the restore stub and the thread stub at these offsets from it. */
extern const unsigned char nc_inject_stub_begin[], nc_inject_stub_end[];
extern const unsigned char nc_inject_stub_restore[], nc_inject_stub_thread[];

#endif
