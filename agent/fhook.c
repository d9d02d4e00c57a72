/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Function hooks, the agent's side (agent/fhook.h, docs/inproc.md "Function hooks"). libc only.
 *
 * A region: one anonymous mapping within +-2 GB of the functions it serves, REGION_CODE bytes of
 * trampolines (read+execute from the start, filled with int3; netcap writes each trampoline
 * through /proc/PID/mem, so no page of it is ever writable and executable) followed by one
 * read-write page of data slots (struct nc_agent_fh_data, one per trampoline). Regions and
 * trampolines are never unmapped nor handed out for other bytes.
 */
#define _GNU_SOURCE
#include "fhook.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "nc_agent_io.h"

#define REGION_CODE  (NC_AGENT_REGION_TRAMPS * NC_AGENT_TRAMP_BYTES) /* 64 KiB: 64 trampolines */
#define REGION_BYTES (REGION_CODE + 4096)			     /* and their 64 data slots */
#define PER_REGION   NC_AGENT_REGION_TRAMPS
#define MAX_REGIONS  (FH_MAX / PER_REGION)
#define REACH	     ((1ll << 31) - 2 * REGION_BYTES) /* rel32 from anywhere in the region */
#define ARMED_MS     10000 /* netcap builds, writes and patches within this */
#define STEP	     NC_AGENT_REGION_ALIGN
#define STEPS	     1024 /* hints 1 MiB apart, up to 1 GiB on each side */

struct region {
	uint8_t *base;
	uint32_t used;
};

struct tramp {
	uint64_t func;
	uint8_t kind, arg, count_arg;
	uint8_t *code;
	struct nc_agent_fh_data *data;
};

static struct region regions[MAX_REGIONS];
static uint32_t n_regions;
static struct tramp tramps[FH_MAX];
static uint32_t n_tramps;

static int fh_fail(char *text, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fh_fail(char *text, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, NC_AGENT_TEXT, fmt, ap);
	va_end(ap);
	return -errnum;
}

static bool near(uint64_t a, uint64_t b)
{
	int64_t d = (int64_t)(a - b);

	return d < REACH && d > -REACH;
}

/* An anonymous mapping at exactly `hint`, or NULL (MAP_FIXED_NOREPLACE; a kernel ignoring the
 * flag returns another address, which is given back) */
static uint8_t *map_at(uint64_t hint)
{
	void *p = mmap((void *)hint, REGION_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if ((uint64_t)p != hint) {
		munmap(p, REGION_BYTES);
		return NULL;
	}
	return p;
}

/* A region with a free trampoline near func, mapped if none */
static struct region *region_near(uint64_t func)
{
	uint64_t at = func & ~(STEP - 1);
	uint8_t *p = NULL;

	for (uint32_t i = 0; i < n_regions; i++)
		if (regions[i].used < PER_REGION && near((uint64_t)regions[i].base, func))
			return &regions[i];
	if (n_regions >= MAX_REGIONS)
		return NULL;
	/* below the function first (the executable's code is low, its heap above it) */
	for (uint64_t k = 1; k <= STEPS && !p; k++) {
		if (at > k * STEP + (1ull << 16))
			p = map_at(at - k * STEP);
		if (!p && at + k * STEP < (1ull << 47) - REGION_BYTES)
			p = map_at(at + k * STEP);
	}
	if (!p)
		return NULL;
	memset(p, 0xcc, REGION_CODE); /* int3 */
	memset(p + REGION_CODE, 0, 4096);
	if (mprotect(p, REGION_CODE, PROT_READ | PROT_EXEC)) {
		munmap(p, REGION_BYTES);
		return NULL;
	}
	regions[n_regions] = (struct region){.base = p};
	return &regions[n_regions++];
}

int fh_check(const struct nc_agent_hook *h, uint32_t i, char *text)
{
	if (h->arg < 1 || h->arg > 16 ||
	    (h->kind == NC_AGENT_FUNC_VECTOR && (h->count_arg < 1 || h->count_arg > 16)) ||
	    (h->kind == NC_AGENT_FUNC_RET && h->ret_bits != 16 && h->ret_bits != 32) ||
	    h->port != NC_AGENT_PORT_NONE || h->direction != 0 || !h->func ||
	    (h->flags & ~NC_AGENT_HOOK_SITE) || (h->kind == NC_AGENT_FUNC_RET && h->flags))
		return fh_fail(text, EINVAL, "function hook %u: arguments %u, %u, port %u at %#llx",
			       i, h->arg, h->count_arg, h->port, (unsigned long long)h->func);
	return 0;
}

/* What else tells two trampolines of one function and kind apart: M, or the return's bits */
static uint8_t variant(const struct nc_agent_hook *h)
{
	return h->kind == NC_AGENT_FUNC_VECTOR ? h->count_arg
	       : h->kind == NC_AGENT_FUNC_RET  ? h->ret_bits
					       : 0;
}

/* The trampoline for h: an earlier one of the same function, kind and arguments, or a new one */
static int place(const struct nc_agent_hook *h, uint32_t *index, char *text)
{
	struct region *r;
	uint32_t slot;

	for (uint32_t i = 0; i < n_tramps; i++) {
		const struct tramp *t = &tramps[i];

		if (t->func == h->func && t->kind == h->kind && t->arg == h->arg &&
		    t->count_arg == variant(h)) {
			*index = i;
			return 0;
		}
	}
	if (n_tramps >= FH_MAX)
		return fh_fail(text, ENOSPC, "this agent has built %d trampolines, its most",
			       FH_MAX);
	r = region_near(h->func);
	if (!r)
		return fh_fail(text, ENOMEM,
			       "no free memory within 1 GiB of the function at %#llx for its "
			       "trampoline",
			       (unsigned long long)h->func);
	slot = r->used++;
	tramps[n_tramps] =
	    (struct tramp){.func = h->func,
			   .kind = h->kind,
			   .arg = h->arg,
			   .count_arg = variant(h),
			   .code = r->base + (size_t)slot * NC_AGENT_TRAMP_BYTES,
			   .data = (struct nc_agent_fh_data *)(r->base + REGION_CODE) + slot};
	*index = n_tramps++;
	return 0;
}

/* Whether the function jumps into one of this agent's trampolines, and what it held before */
static void current(uint64_t func, struct nc_agent_tramp *out)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)func;
	int32_t rel;
	uint64_t to;

	if (p[0] != 0xe9)
		return;
	memcpy(&rel, p + 1, 4);
	to = func + 5 + (uint64_t)(int64_t)rel;
	for (uint32_t i = 0; i < n_tramps; i++) {
		const struct tramp *t = &tramps[i];

		if (t->func == func && (uint64_t)(uintptr_t)t->code == to &&
		    __atomic_load_n(&t->data->orig_set, __ATOMIC_ACQUIRE)) {
			out->patched = 1;
			memcpy(out->orig, t->data->orig, 5);
			return;
		}
	}
}

static int send_all(int sock, uint16_t type, const void *payload, uint32_t len)
{
	struct nc_agent_msg h = {
	    .magic = NC_AGENT_MAGIC, .version = NC_AGENT_VERSION, .type = type, .len = len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

int fh_handshake(int sock, const struct nc_agent_config *c, uint32_t index[NC_AGENT_MAX_HOOKS],
		 char *text)
{
	static struct nc_agent_tramps msg; /* the agent thread's: one capture at a time */
	struct nc_agent_msg h;
	int r;

	memset(&msg, 0, sizeof(msg));
	msg.n = c->n_hooks;
	for (uint32_t i = 0; i < c->n_hooks; i++) {
		const struct nc_agent_hook *ch = &c->hooks[i];

		if (ch->kind < NC_AGENT_FUNC_SINGLE)
			continue;
		for (uint32_t k = 0; k < i; k++)
			if (c->hooks[k].kind >= NC_AGENT_FUNC_SINGLE &&
			    c->hooks[k].func == ch->func)
				return fh_fail(text, EINVAL,
					       "hooks %u and %u: the same function at %#llx", k, i,
					       (unsigned long long)ch->func);
		r = place(ch, &index[i], text);
		if (r)
			return r;
		msg.t[i].tramp = (uint64_t)(uintptr_t)tramps[index[i]].code;
		msg.t[i].data = (uint64_t)(uintptr_t)tramps[index[i]].data;
		current(ch->func, &msg.t[i]);
	}
	r = send_all(sock, NC_AGENT_TRAMPS, &msg, sizeof(msg));
	if (!r)
		r = nc_agent_read_full(sock, &h, sizeof(h), ARMED_MS);
	if (r)
		return fh_fail(text, -r, "netcap did not patch the functions: %s", strerror(-r));
	if (h.magic != NC_AGENT_MAGIC || h.version != NC_AGENT_VERSION ||
	    h.type != NC_AGENT_ARMED || h.len)
		return fh_fail(text, EPROTO, "message %u instead of ARMED", h.type);
	return 0;
}

void fh_arm(uint32_t i, void (*entry)(uint64_t, uint64_t, uint64_t))
{
	struct nc_agent_fh_data *d = tramps[i].data;

	__atomic_store_n(&d->cookie, (uint64_t)i, __ATOMIC_RELAXED);
	__atomic_store_n(&d->entry, (uint64_t)(uintptr_t)entry, __ATOMIC_RELEASE);
}

int fh_arm_ret(uint32_t i, uint64_t (*entry)(uint64_t, uint64_t, uint64_t),
	       uint64_t (*ret)(uint64_t, uint64_t), uint64_t *stub, char *text)
{
	struct nc_agent_fh_data *d = tramps[i].data;
	uint64_t at = __atomic_load_n(&d->ret_stub, __ATOMIC_ACQUIRE),
		 code = (uint64_t)(uintptr_t)tramps[i].code;

	/* netcap's: inside this trampoline, past its entry stub */
	if (at <= code || at >= code + NC_AGENT_TRAMP_BYTES)
		return fh_fail(text, EINVAL, "the return stub at %#llx is not in its trampoline",
			       (unsigned long long)at);
	*stub = at;
	__atomic_store_n(&d->ret, (uint64_t)(uintptr_t)ret, __ATOMIC_RELEASE);
	__atomic_store_n(&d->cookie, (uint64_t)i, __ATOMIC_RELAXED);
	__atomic_store_n(&d->entry, (uint64_t)(uintptr_t)entry, __ATOMIC_RELEASE);
	return 0;
}

void fh_disarm(uint32_t i)
{
	if (i >= n_tramps)
		return;
	__atomic_store_n(&tramps[i].data->entry, 0, __ATOMIC_SEQ_CST);
}
