/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include "fhook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../discover/procmaps.h"
#include "../inject/hook.h"
#include "../inject/patch.h"
#include "../util/err.h"

#define MAX_FUNC (1u << 20) /* bytes of a function read for the branch scan */

_Static_assert(NC_FH_PATCH_LEN == NC_HOOK_PATCH_LEN, "patch length");

static int mem_rw(int fd, uint64_t addr, void *buf, size_t len, bool write)
{
	ssize_t n = write ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* A patch an earlier capture left in a function (its netcap was killed) that this one removes */
struct stale {
	uint64_t addr;
	uint8_t jmp[NC_HOOK_PATCH_LEN];	 /* what is there: a jmp into a trampoline of the agent */
	uint8_t orig[NC_HOOK_PATCH_LEN]; /* what was there: the file's bytes */
};

struct stales {
	struct stale v[NC_AGENT_MAX_HOOKS];
	size_t n;
	struct nc_maps *maps; /* the process's, read at the first difference */
};

/*
 * Whether the bytes at m + j (j < n - 4) are a jmp rel32 an earlier capture of this agent wrote:
 * into the start of a trampoline of one of its regions (anonymous, read+execute, the size and
 * alignment of nc_agent_abi.h's region, its data page after it), whose data slot says the
 * original bytes were written and equal the file's (f + j).
 */
static bool agent_jump(int mem, pid_t pid, struct stales *st, uint64_t at, const uint8_t *m,
		       const uint8_t *f)
{
	const uint64_t code_bytes = (uint64_t)NC_AGENT_REGION_TRAMPS * NC_AGENT_TRAMP_BYTES;
	const struct nc_maps_entry *c, *d;
	struct nc_agent_fh_data slot;
	uint64_t to, base, k;
	int32_t rel;

	if (m[0] != 0xe9)
		return false;
	memcpy(&rel, m + 1, sizeof(rel));
	to = at + NC_HOOK_PATCH_LEN + (uint64_t)(int64_t)rel;
	base = to & ~(NC_AGENT_REGION_ALIGN - 1);
	k = (to - base) / NC_AGENT_TRAMP_BYTES;
	if ((to - base) % NC_AGENT_TRAMP_BYTES || k >= NC_AGENT_REGION_TRAMPS)
		return false;
	if (!st->maps && nc_maps_read(pid, &st->maps, NULL, 0))
		return false;
	c = nc_maps_find(st->maps, base);
	d = nc_maps_find(st->maps, base + code_bytes);
	if (!c || !d || c->start != base || c->end != base + code_bytes ||
	    strcmp(c->perms, "r-xp") || c->inode || *c->path || strcmp(d->perms, "rw-p") ||
	    d->inode || *d->path)
		return false;
	if (mem_rw(mem, base + code_bytes + k * sizeof(slot), &slot, sizeof(slot), false))
		return false;
	return slot.orig_set == 1 && !memcmp(slot.orig, f, NC_HOOK_PATCH_LEN);
}

/*
 * The difference at m[i] against the file explained by a jump of an earlier capture covering it
 * (agent_jump()): recorded in st (once per address) and the file's bytes put back into m. 0;
 * -ENOENT when no such jump covers i; -EBUSY when it overlaps this hook's own patch without
 * being at the same place.
 */
static int stale_jump(int mem, pid_t pid, const struct nc_fh_func *h, struct stales *st, uint8_t *m,
		      const uint8_t *f, size_t n, size_t i, size_t *start)
{
	for (size_t j = i >= NC_HOOK_PATCH_LEN - 1 ? i - (NC_HOOK_PATCH_LEN - 1) : 0; j <= i; j++) {
		uint64_t at = h->func + j;
		size_t k;

		if (j + NC_HOOK_PATCH_LEN > n || !agent_jump(mem, pid, st, at, m + j, f + j))
			continue;
		*start = j;
		if (j != h->patch_off && j < h->patch_off + NC_HOOK_PATCH_LEN &&
		    h->patch_off < j + NC_HOOK_PATCH_LEN)
			return -EBUSY;
		for (k = 0; k < st->n && st->v[k].addr != at; k++)
			;
		if (j != h->patch_off && k == st->n && st->n < NC_AGENT_MAX_HOOKS) {
			st->v[st->n].addr = at;
			memcpy(st->v[st->n].jmp, m + j, NC_HOOK_PATCH_LEN);
			memcpy(st->v[st->n].orig, f + j, NC_HOOK_PATCH_LEN);
			st->n++;
		} else if (j != h->patch_off && k == st->n) {
			return -ENOSPC;
		}
		memcpy(m + j, f + j, NC_HOOK_PATCH_LEN);
		return 0;
	}
	return -ENOENT;
}

/*
 * The function's bytes as the process has them, checked against its file: a difference is code
 * that changed (another tool's breakpoint or patch), which the trampoline must not copy. The
 * first 5 bytes of a function this agent patched before are its original bytes (t->orig); a
 * jump an earlier capture left elsewhere in the function (a USDT site of another probe) is
 * recognised by stale_jump(), the file's bytes used, and the jump put into st to be removed
 * with this capture's patches.
 */
static int read_func(int mem, pid_t pid, const struct nc_fh_func *hooks, size_t n_hooks, size_t i,
		     const struct nc_agent_tramps *ts, struct stales *st, uint8_t **code,
		     size_t *len, uint8_t now[5], char *err, size_t errlen)
{
	const struct nc_fh_func *h = &hooks[i];
	/* at least a patch's length of bytes, even of a function shorter than that (refused) */
	size_t n = h->func_size < 16 ? 16 : h->func_size < MAX_FUNC ? h->func_size : MAX_FUNC;
	uint8_t *m = malloc(n), *f = malloc(n);
	int fd = -1, ret = 0;
	ssize_t got;

	if (!m || !f) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	if (!h->func_size) {
		ret = nc_err(err, errlen, ENOTSUP,
			     "hook spec \"%s\": the size of the function is not known (no symbol "
			     "size): it cannot be patched",
			     h->spec);
		goto out;
	}
	ret = mem_rw(mem, h->func, m, n, false);
	if (ret) {
		ret = nc_err(err, errlen, -ret, "hook spec \"%s\": reading %zu bytes at %#llx: %s",
			     h->spec, n, (unsigned long long)h->func, strerror(-ret));
		goto out;
	}
	if (h->patch_off > n - NC_HOOK_PATCH_LEN) {
		ret = nc_err(err, errlen, ENOSPC,
			     "hook spec \"%s\": the site +%#llx is not inside the %zu bytes read",
			     h->spec, (unsigned long long)h->patch_off, n);
		goto out;
	}
	memcpy(now, m + h->patch_off, NC_HOOK_PATCH_LEN);
	/* this hook's patch, and those of the others in the same function (USDT sites, its
	 * entry), left by a capture that ended without unpatching: their original bytes */
	for (size_t k = 0; k < n_hooks; k++) {
		uint64_t at = hooks[k].func + hooks[k].patch_off;

		if (hooks[k].func && ts->t[k].patched && at >= h->func &&
		    at - h->func <= n - NC_HOOK_PATCH_LEN)
			memcpy(m + (at - h->func), ts->t[k].orig, NC_HOOK_PATCH_LEN);
	}
	fd = open(h->path, O_RDONLY | O_CLOEXEC);
	got = fd < 0 ? -1 : pread(fd, f, n, (off_t)h->file_off);
	if (got != (ssize_t)n) {
		ret = nc_err(err, errlen, fd < 0 ? errno : EIO, "hook spec \"%s\": reading %s: %s",
			     h->spec, h->path, fd < 0 ? strerror(errno) : "short read");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		int r;

		if (m[i] == f[i])
			continue;
		r = stale_jump(mem, pid, h, st, m, f, n, i, &j);
		if (!r)
			continue;
		if (r == -EBUSY || r == -ENOSPC) {
			ret = nc_err(err, errlen, -r,
				     "hook spec \"%s\": an earlier capture's jump at +%#zx %s; "
				     "nothing written",
				     h->spec, j,
				     r == -EBUSY ? "overlaps the bytes this patch replaces "
						   "(capture the hook that put it there once, "
						   "which removes it)"
						 : "is one too many to remove in one stop");
			goto out;
		}
		ret =
		    nc_err(err, errlen, ESTALE,
			   "hook spec \"%s\": the code at +%zu differs from %s (0x%02x instead of "
			   "0x%02x: another tool's breakpoint or patch); nothing written",
			   h->spec, i, h->path, m[i], f[i]);
		goto out;
	}
	*code = m;
	*len = n;
	m = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(m);
	free(f);
	return ret;
}

/*
 * The function's cold part as its file has it (the scan only needs its branches' targets):
 * NULL with *len 0 when there is none; a file that cannot be read is an error.
 */
static int read_cold(const struct nc_fh_func *h, uint8_t **cold, size_t *len, char *err,
		     size_t errlen)
{
	size_t n = h->cold_size < MAX_FUNC ? (size_t)h->cold_size : MAX_FUNC;
	uint8_t *c;
	ssize_t got;
	int fd;

	*cold = NULL;
	*len = 0;
	if (!n)
		return 0;
	c = malloc(n);
	fd = open(h->path, O_RDONLY | O_CLOEXEC);
	got = fd < 0 || !c ? -1 : pread(fd, c, n, (off_t)h->cold_off);
	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)n) {
		free(c);
		return nc_err(err, errlen, !c ? ENOMEM : EIO,
			      "hook spec \"%s\": reading the function's cold part in %s: %s",
			      h->spec, h->path, !c ? "out of memory" : "short read");
	}
	*cold = c;
	*len = n;
	return 0;
}

/* Writes the trampoline unless the same bytes are there (a trampoline of an earlier capture);
 * memory still holding int3 fill was never written */
static int write_tramp(int mem, const struct nc_fh_func *h, uint64_t at,
		       const struct nc_hook_out *o, char *err, size_t errlen)
{
	uint8_t cur[NC_HOOK_TRAMP_MAX];
	bool fill = true;
	int ret = mem_rw(mem, at, cur, o->tramp_len, false);

	if (!ret && !memcmp(cur, o->tramp, o->tramp_len))
		return 0;
	for (size_t i = 0; !ret && i < o->tramp_len; i++)
		fill &= cur[i] == 0xcc;
	if (!ret && !fill)
		return nc_err(err, errlen, ESTALE,
			      "hook spec \"%s\": the agent's trampoline at %#llx holds other code; "
			      "nothing written",
			      h->spec, (unsigned long long)at);
	if (!ret)
		ret = mem_rw(mem, at, (void *)o->tramp, o->tramp_len, true);
	if (ret)
		return nc_err(err, errlen, -ret, "hook spec \"%s\": writing its trampoline: %s",
			      h->spec, strerror(-ret));
	return 0;
}

int nc_fh_site_start(struct nc_fh_func *h, char *err, size_t errlen)
{
	size_t n = h->func_size < MAX_FUNC ? (size_t)h->func_size : MAX_FUNC;
	uint8_t *f = malloc(n ? n : 1);
	int fd = open(h->path, O_RDONLY | O_CLOEXEC), ret = 0;
	ssize_t got = fd < 0 || !f ? -1 : pread(fd, f, n, (off_t)h->file_off);

	h->patch_off = h->site_off;
	if (got != (ssize_t)n)
		ret = nc_err(err, errlen,
			     !f	      ? ENOMEM
			     : fd < 0 ? errno
				      : EIO,
			     "hook spec \"%s\": reading %s: %s", h->spec, h->path,
			     !f	      ? "out of memory"
			     : fd < 0 ? strerror(errno)
				      : "short read");
	else if (nc_hook_site_patch(f, n, h->func_size, h->site_off, &h->patch_off))
		h->patch_off = h->site_off; /* the builder says what does not decode */
	if (fd >= 0)
		close(fd);
	free(f);
	return ret;
}

int nc_fh_install(pid_t pid, const struct nc_fh_func *hooks, size_t n,
		  const struct nc_agent_tramps *t, int timeout_ms, struct nc_fh_site *sites,
		  char *err, size_t errlen)
{
	struct nc_patch_site ps[2 * NC_AGENT_MAX_HOOKS];
	size_t n_ps = 0, idx[NC_AGENT_MAX_HOOKS];
	struct stales st = {.n = 0};
	char path[64], why[384];
	int mem, ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDWR | O_CLOEXEC);
	if (mem < 0)
		return nc_err(err, errlen, errno, "%s: %s", path, strerror(errno));
	for (size_t i = 0; !ret && i < n; i++) {
		const struct nc_fh_func *h = &hooks[i];
		const struct nc_agent_tramp *tr = &t->t[i];
		struct nc_fh_site *s = &sites[i];
		struct nc_hook_out o;
		uint8_t *code = NULL, *cold = NULL;
		size_t len = 0, cold_len = 0;
		struct nc_hook_in in;
		uint8_t slot[8] = {0};
		char name[256];

		if (!h->func)
			continue;
		ret = read_func(mem, pid, hooks, n, i, t, &st, &code, &len, s->now, err, errlen);
		if (!ret)
			ret = read_cold(h, &cold, &cold_len, err, errlen);
		if (ret) {
			free(code);
			break;
		}
		in = (struct nc_hook_in){.code = code,
					 .code_len = len,
					 .func = h->func,
					 .func_size = h->func_size,
					 .tramp = tr->tramp,
					 .data = tr->data,
					 .kind = h->ret_bits	? NC_HOOK_RET
						 : h->count_arg ? NC_HOOK_VECTOR
								: NC_HOOK_SINGLE,
					 .arg = h->arg,
					 .count_arg = h->count_arg,
					 /* no xsave: the agent's entries touch no vector or x87
					  * register (agent/agent.c, tests/unit/agent_gpr.sh) */
					 .popfq = !nc_hook_has_sahf(),
					 .patch_off = h->patch_off,
					 .site_off = h->site_off,
					 .cold = cold,
					 .cold_len = cold_len,
					 .cold_addr = h->cold};
		for (int k = 0; k < 2; k++)
			in.loc[k] = (struct nc_hook_loc){.off = h->loc[k].off,
							 .type = h->loc[k].type,
							 .reg = h->loc[k].reg,
							 .size = h->loc[k].size};
		if (h->func_name)
			snprintf(name, sizeof(name), "%s", h->func_name);
		else
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(h->spec, "@"), h->spec);
		in.name = name;
		ret = nc_hook_build(&in, &o, why, sizeof(why));
		free(code);
		free(cold);
		if (ret) {
			ret = nc_err(err, errlen, -ret,
				     "hook spec \"%s\": cannot be hooked in-process: %s; nothing "
				     "written (capture it without --inject)",
				     h->spec, why);
			break;
		}
		s->func = h->func + h->patch_off;
		memcpy(s->patch, o.patch, sizeof(s->patch));
		memcpy(s->orig, o.orig, sizeof(s->orig));
		/* the original bytes in the data slot first: a later capture learns them from the
		 * agent even if this netcap is killed once the jump is written */
		memcpy(slot, o.orig, NC_HOOK_PATCH_LEN);
		slot[7] = 1;
		ret = write_tramp(mem, h, tr->tramp, &o, err, errlen);
		if (!ret && h->ret_bits) {
			uint64_t stub = tr->tramp + o.ret_off;

			ret = mem_rw(mem, tr->data + offsetof(struct nc_agent_fh_data, ret_stub),
				     &stub, sizeof(stub), true);
		}
		if (!ret) {
			ret = mem_rw(mem, tr->data + offsetof(struct nc_agent_fh_data, orig), slot,
				     sizeof(slot), true);
			if (ret)
				ret = nc_err(err, errlen, -ret,
					     "hook spec \"%s\": writing its data slot: %s", h->spec,
					     strerror(-ret));
		}
		if (ret)
			break;
		if (!memcmp(s->now, s->patch, NC_HOOK_PATCH_LEN)) {
			s->hooked = true; /* already jumping into this trampoline */
			continue;
		}
		idx[n_ps] = i;
		ps[n_ps++] = (struct nc_patch_site){
		    .addr = s->func, .expect = s->now, .write = s->patch, .len = NC_HOOK_PATCH_LEN};
	}
	close(mem);
	nc_maps_free(st.maps);
	/* the jumps earlier captures left in these functions go back to the file's bytes with the
	 * same stop (their trampolines, switched off, stay) */
	for (size_t k = 0; !ret && k < st.n; k++)
		ps[n_ps + k] = (struct nc_patch_site){.addr = st.v[k].addr,
						      .expect = st.v[k].jmp,
						      .write = st.v[k].orig,
						      .len = NC_HOOK_PATCH_LEN};
	if (!ret && n_ps + st.n) {
		ret = nc_patch_apply(pid, ps, n_ps + st.n, timeout_ms, NULL, why, sizeof(why));
		if (ret)
			ret = nc_err(err, errlen, -ret, "--inject: patching %s%s: %s",
				     n_ps ? hooks[idx[0]].spec : "back an earlier capture's jumps",
				     n_ps > 1 || (n_ps && st.n) ? " and the others" : "", why);
		for (size_t k = 0; !ret && k < n_ps; k++)
			sites[idx[k]].hooked = true;
	}
	return ret;
}

int nc_fh_remove(pid_t pid, struct nc_fh_site *sites, size_t n, int timeout_ms, char *err,
		 size_t errlen)
{
	struct nc_patch_site ps[NC_AGENT_MAX_HOOKS];
	size_t n_ps = 0;
	char why[384];
	int ret;

	for (size_t i = 0; i < n; i++)
		if (sites[i].hooked)
			ps[n_ps++] = (struct nc_patch_site){.addr = sites[i].func,
							    .expect = sites[i].patch,
							    .write = sites[i].orig,
							    .len = NC_HOOK_PATCH_LEN};
	if (!n_ps)
		return 0;
	ret = nc_patch_apply(pid, ps, n_ps, timeout_ms, NULL, why, sizeof(why));
	if (ret)
		return nc_err(err, errlen, -ret,
			      "--inject: unpatching the functions: %s (they keep jumping into "
			      "trampolines that call nothing any more)",
			      why);
	for (size_t i = 0; i < n; i++)
		sites[i].hooked = false;
	return 0;
}
