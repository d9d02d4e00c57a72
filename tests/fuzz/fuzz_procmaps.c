/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the /proc/PID/maps parser (core/discover/procmaps.c) and the look-ups over its
 * result. The input is the text of a maps file. Whatever the parser accepts must give entries
 * with start <= end and a path inside the text; when the entries are sorted and do not overlap
 * (as the kernel lists them), every entry must be found by its first and last address; address
 * to file offset and the load base of an ELF file (this program) must not crash.
 */
#include <inttypes.h>

#include "discover/elf.h"
#include "discover/procmaps.h"
#include "fuzz.h"

static struct nc_elf *self;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (nc_elf_open("/proc/self/exe", &self, err, sizeof(err)))
		FUZZ_FAIL("%s", err);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[256];
	struct nc_maps *m;
	bool sorted = true;

	if (!text)
		FUZZ_FAIL("out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	if (nc_maps_parse(text, &m, err, sizeof(err))) {
		free(text);
		return 0;
	}
	free(text);
	for (size_t i = 0; i < m->n; i++) {
		const struct nc_maps_entry *e = &m->v[i];
		const char *path;
		uint64_t off, base;

		if (e->start > e->end || !e->path || strlen(e->perms) > 4)
			FUZZ_FAIL("entry %zu: %" PRIx64 "-%" PRIx64, i, e->start, e->end);
		if (i && (e->start < m->v[i - 1].end || e->start == e->end))
			sorted = false;
		nc_maps_to_file(m, e->start, &path, &off, err, sizeof(err));
		nc_maps_to_file(m, e->end, &path, &off, err, sizeof(err));
		nc_maps_load_base(m, e->path, self, &base, err, sizeof(err));
	}
	for (size_t i = 0; sorted && i < m->n; i++) {
		const struct nc_maps_entry *e = &m->v[i];

		if (e->start < e->end &&
		    (nc_maps_find(m, e->start) != e || nc_maps_find(m, e->end - 1) != e))
			FUZZ_FAIL("entry %zu (%" PRIx64 "-%" PRIx64
				  ") is not found by its addresses",
				  i, e->start, e->end);
	}
	nc_maps_free(m);
	return 0;
}
