/* SPDX-License-Identifier: BSD-2-Clause */
#include "kallsyms.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

/* A JIT image (BPF program, trampoline) has no size in kallsyms: an address at most this far
 * above a BPF symbol, with no symbol between, is taken to be in it */
#define BPF_SYM_REACH (64u << 10)

enum where { IN_KERNEL, IN_MODULE, IN_BPF };

struct sym {
	uint64_t addr;
	const char *name;
	enum where where;
};

struct nc_kallsyms {
	GArray *syms;	 /* sorted by address */
	GArray *modules; /* struct nc_addr_range: each module's text and data */
	GStringChunk *names;
	uint64_t stext, etext;
};

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* /proc/modules: "name size refcount deps state address" */
static void read_modules(struct nc_kallsyms *k, FILE *f)
{
	char line[1024];

	while (fgets(line, sizeof(line), f)) {
		unsigned long long size, base;
		struct nc_addr_range r;

		if (sscanf(line, "%*s %llu %*s %*s %*s %llx", &size, &base) != 2 || !base)
			continue;
		r.start = base;
		r.end = base + size;
		g_array_append_val(k->modules, r);
	}
}

int nc_kallsyms_load_from(const char *kallsyms, const char *modules, struct nc_kallsyms **out,
			  char *err, size_t errlen)
{
	FILE *f = fopen(kallsyms, "re");
	struct nc_kallsyms *k;
	char line[512];

	if (!f)
		return nc_err(err, errlen, errno, "cannot read %s: %s", kallsyms, strerror(errno));
	k = g_new0(struct nc_kallsyms, 1);
	k->syms = g_array_new(FALSE, FALSE, sizeof(struct sym));
	k->modules = g_array_new(FALSE, FALSE, sizeof(struct nc_addr_range));
	k->names = g_string_chunk_new(1 << 16);
	while (fgets(line, sizeof(line), f)) {
		char type, name[256], module[64] = "";
		uint64_t addr;
		struct sym s;

		if (sscanf(line, "%" SCNx64 " %c %255s [%63[^]]]", &addr, &type, name, module) <
			3 ||
		    !addr)
			continue;
		if (!strcmp(name, "_stext"))
			k->stext = addr;
		else if (!strcmp(name, "_etext"))
			k->etext = addr;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		s.addr = addr;
		s.name = g_string_chunk_insert(k->names, name);
		s.where = !module[0] ? IN_KERNEL : !strcmp(module, "bpf") ? IN_BPF : IN_MODULE;
		g_array_append_val(k->syms, s);
	}
	fclose(f);
	if (!k->syms->len) {
		nc_kallsyms_free(k);
		return nc_err(err, errlen, EACCES,
			      "%s shows no addresses (kptr_restrict); run as root", kallsyms);
	}
	if (modules && (f = fopen(modules, "re"))) {
		read_modules(k, f);
		fclose(f);
	}
	g_array_sort(k->syms, by_addr);
	*out = k;
	return 0;
}

int nc_kallsyms_load(struct nc_kallsyms **out, char *err, size_t errlen)
{
	return nc_kallsyms_load_from("/proc/kallsyms", "/proc/modules", out, err, errlen);
}

/* The last symbol at or below addr, or NULL; *next is the one after it (or NULL) */
static const struct sym *below(const struct nc_kallsyms *k, uint64_t addr, const struct sym **next)
{
	size_t lo = 0, hi = k->syms->len;

	*next = NULL;
	if (!hi || g_array_index(k->syms, struct sym, 0).addr > addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (g_array_index(k->syms, struct sym, mid).addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (lo + 1 < k->syms->len)
		*next = &g_array_index(k->syms, struct sym, lo + 1);
	return &g_array_index(k->syms, struct sym, lo);
}

static bool in_module(const struct nc_kallsyms *k, uint64_t addr)
{
	for (guint i = 0; i < k->modules->len; i++) {
		const struct nc_addr_range *r = &g_array_index(k->modules, struct nc_addr_range, i);

		if (addr >= r->start && addr < r->end)
			return true;
	}
	return false;
}

/* The symbol that holds addr, or NULL when addr is outside the code kallsyms describes */
static const struct sym *holder(const struct nc_kallsyms *k, uint64_t addr)
{
	const struct sym *next, *s = below(k, addr, &next);

	if (!s)
		return NULL;
	switch (s->where) {
	case IN_KERNEL:
		return k->stext && k->etext && addr >= k->stext && addr < k->etext ? s : NULL;
	case IN_MODULE: return in_module(k, addr) ? s : NULL;
	case IN_BPF: return addr - s->addr < BPF_SYM_REACH ? s : NULL;
	}
	return NULL;
}

bool nc_kallsyms_format(const struct nc_kallsyms *k, uint64_t addr, char *buf, size_t len)
{
	const struct sym *s = holder(k, addr);

	if (!s)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (addr == s->addr)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return s != NULL;
}

static bool in_ranges(uint64_t addr, const struct nc_addr_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= r[i].start && addr < r[i].end)
			return true;
	return false;
}

/* Tracing glue between a tracepoint or function and the BPF program it runs */
static bool glue(const struct nc_kallsyms *k, uint64_t addr)
{
	const struct sym *s = holder(k, addr);

	if (!s)
		return true; /* a trampoline the kernel gave no symbol */
	if (s->where == IN_BPF)
		return g_str_has_prefix(s->name, "bpf_trampoline_");
	return s->where == IN_KERNEL && (g_str_has_prefix(s->name, "bpf_trace_run") ||
					 g_str_has_prefix(s->name, "__bpf_trace_") ||
					 g_str_has_prefix(s->name, "__traceiter_"));
}

size_t nc_kallsyms_probe_frames(const struct nc_kallsyms *k, const uint64_t *ips, size_t n,
				const struct nc_addr_range *own, size_t n_own)
{
	size_t i = 0;

	while (i < n && in_ranges(ips[i], own, n_own))
		i++;
	if (!i)
		return 0;
	while (i < n && glue(k, ips[i]))
		i++;
	return i;
}

void nc_kallsyms_free(struct nc_kallsyms *k)
{
	if (!k)
		return;
	g_array_free(k->syms, TRUE);
	g_array_free(k->modules, TRUE);
	g_string_chunk_free(k->names);
	g_free(k);
}

int nc_kallsyms_text_types(const char *path, const char *const *names, size_t n, char *types)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "re");
	char line[512];
	size_t left = n;

	memset(types, 0, n);
	if (!f)
		return -errno;
	while (left && fgets(line, sizeof(line), f)) {
		char t, sym[256], rest[8];

		/* "addr t name" with no "[module]" after it */
		if (sscanf(line, "%*s %c %255s %7s", &t, sym, rest) != 2 || (t != 'T' && t != 't'))
			continue;
		for (size_t i = 0; i < n; i++)
			if (!types[i] && !strcmp(sym, names[i])) {
				types[i] = t;
				left--;
			}
	}
	fclose(f);
	return 0;
}
