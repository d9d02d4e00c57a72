/* SPDX-License-Identifier: BSD-2-Clause */
#include "kallsyms.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

struct sym {
	uint64_t addr;
	char *name;
};

struct nc_kallsyms {
	GArray *syms; /* sorted by address */
	GStringChunk *names;
};

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

int nc_kallsyms_load(struct nc_kallsyms **out, char *err, size_t errlen)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct nc_kallsyms *k;
	char line[512];

	if (!f)
		return nc_err(err, errlen, errno, "cannot read /proc/kallsyms: %s",
			      strerror(errno));
	k = g_new0(struct nc_kallsyms, 1);
	k->syms = g_array_new(FALSE, FALSE, sizeof(struct sym));
	k->names = g_string_chunk_new(1 << 16);
	while (fgets(line, sizeof(line), f)) {
		char type, name[256];
		uint64_t addr;
		struct sym s;

		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		s.addr = addr;
		s.name = g_string_chunk_insert(k->names, name);
		g_array_append_val(k->syms, s);
	}
	fclose(f);
	if (!k->syms->len) {
		nc_kallsyms_free(k);
		return nc_err(err, errlen, EACCES,
			      "/proc/kallsyms shows no addresses (kptr_restrict); run as root");
	}
	g_array_sort(k->syms, by_addr);
	*out = k;
	return 0;
}

void nc_kallsyms_format(const struct nc_kallsyms *k, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = k->syms->len;

	/* the last symbol at or below addr */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (g_array_index(k->syms, struct sym, mid).addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (!k->syms->len || g_array_index(k->syms, struct sym, lo).addr > addr) {
		snprintf(buf, len, "0x%" PRIx64, addr);
		return;
	}
	if (addr == g_array_index(k->syms, struct sym, lo).addr)
		snprintf(buf, len, "%s", g_array_index(k->syms, struct sym, lo).name);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, g_array_index(k->syms, struct sym, lo).name,
			 addr - g_array_index(k->syms, struct sym, lo).addr);
}

void nc_kallsyms_free(struct nc_kallsyms *k)
{
	if (!k)
		return;
	g_array_free(k->syms, TRUE);
	g_string_chunk_free(k->names);
	g_free(k);
}
