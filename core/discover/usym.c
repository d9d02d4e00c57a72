/* SPDX-License-Identifier: BSD-2-Clause */
#include "usym.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"
#include "procmaps.h"

/* One file: its symbols and, when it has DWARF, its line table */
struct file {
	struct nc_elf *elf; /* NULL when it cannot be opened */
	Dwarf *dw;	    /* NULL without DWARF */
	int dw_fd;
};

struct nc_usym {
	GHashTable *maps;  /* pid -> struct nc_maps * (NULL value: cannot be read) */
	GHashTable *files; /* path -> struct file * */
};

static void file_free(gpointer p)
{
	struct file *f = p;

	nc_elf_close(f->elf);
	if (f->dw)
		dwarf_end(f->dw);
	if (f->dw_fd >= 0)
		close(f->dw_fd);
	free(f);
}

static void maps_free(gpointer p)
{
	nc_maps_free(p);
}

struct nc_usym *nc_usym_new(void)
{
	struct nc_usym *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, maps_free);
	u->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, file_free);
	return u;
}

void nc_usym_free(struct nc_usym *u)
{
	if (!u)
		return;
	g_hash_table_destroy(u->maps);
	g_hash_table_destroy(u->files);
	free(u);
}

static struct file *file_of(struct nc_usym *u, const char *path);

/*
 * The map of pid: read at the first call, or again when reread (kept when it cannot be). The
 * files of a process in a container are reached through /proc/PID/... (procmaps.h), which is gone
 * once it exits, before its last records may be named: they are opened now.
 */
static struct nc_maps *maps_of(struct nc_usym *u, pid_t pid, bool reread)
{
	struct nc_maps *m = NULL;
	bool known = g_hash_table_contains(u->maps, GINT_TO_POINTER(pid));

	if (known && !reread)
		return g_hash_table_lookup(u->maps, GINT_TO_POINTER(pid));
	if (nc_maps_read(pid, &m, NULL, 0)) {
		if (known)
			return g_hash_table_lookup(u->maps, GINT_TO_POINTER(pid));
		m = NULL;
	}
	g_hash_table_replace(u->maps, GINT_TO_POINTER(pid), m);
	for (size_t i = 0; m && i < m->n; i++)
		if (!strncmp(m->v[i].path, "/proc/", 6))
			file_of(u, m->v[i].path);
	return m;
}

void nc_usym_watch(struct nc_usym *u, pid_t pid)
{
	maps_of(u, pid, true);
}

static struct file *file_of(struct nc_usym *u, const char *path)
{
	struct file *f = g_hash_table_lookup(u->files, path);

	if (f)
		return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->dw_fd = -1;
	if (nc_elf_open(path, &f->elf, NULL, 0))
		f->elf = NULL;
	f->dw_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->dw_fd >= 0)
		f->dw = dwarf_begin(f->dw_fd, DWARF_C_READ);
	g_hash_table_insert(u->files, g_strdup(path), f);
	return f;
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* "file.c:line" of DW_AT_call_file/DW_AT_call_line of an inlined subroutine, or "" */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, char *buf, size_t len)
{
	Dwarf_Attribute a;
	Dwarf_Word file, line;
	Dwarf_Files *files;
	size_t nfiles;
	const char *src;

	buf[0] = 0;
	if (!dwarf_attr(inl, DW_AT_call_file, &a) || dwarf_formudata(&a, &file) ||
	    !dwarf_attr(inl, DW_AT_call_line, &a) || dwarf_formudata(&a, &line) ||
	    dwarf_getsrcfiles(cu, &files, &nfiles) || file >= nfiles ||
	    !(src = dwarf_filesrc(files, file, NULL, NULL)))
		return;
	snprintf(buf, len, "%s:%llu", base_name(src), (unsigned long long)line);
}

/*
 * Appends the frames of link-time address vaddr: one per function inlined there, innermost
 * first ("forward (inlined) (nc_fwd.c:422)"), then the function itself, sym, with its line.
 */
static void frames_of(Dwarf *dw, uint64_t vaddr, const char *sym, GString *out)
{
	char line[256] = "";
	Dwarf_Die cu, *scopes = NULL;
	Dwarf_Line *l;
	const char *src;
	int lineno, n = 0;

	if (dw && dwarf_addrdie(dw, vaddr, &cu)) {
		if ((l = dwarf_getsrc_die(&cu, vaddr)) && (src = dwarf_linesrc(l, NULL, NULL)) &&
		    !dwarf_lineno(l, &lineno))
			snprintf(line, sizeof(line), "%s:%d", base_name(src), lineno);
		n = dwarf_getscopes(&cu, vaddr, &scopes);
	}
	/* dwarf_getscopes() follows an inlined instance into its abstract definition; the
	 * scopes containing the instance come from dwarf_getscopes_die(), as eu-addr2line -i does
	 */
	for (int i = 0; i < n; i++) {
		Dwarf_Die inl = scopes[i], *outer = NULL;
		const char *name;

		if (dwarf_tag(&inl) == DW_TAG_subprogram)
			break;
		if (dwarf_tag(&inl) != DW_TAG_inlined_subroutine)
			continue;
		name = dwarf_diename(&inl);
		g_string_append_printf(out, "\n  %s (inlined)", name ? name : "?");
		if (line[0])
			g_string_append_printf(out, " (%s)", line);
		call_site(&cu, &inl, line, sizeof(line));
		free(scopes);
		scopes = NULL;
		n = dwarf_getscopes_die(&inl, &outer);
		scopes = n > 0 ? outer : NULL;
		i = 0; /* scopes[0] is the instance itself */
	}
	free(scopes);
	g_string_append_printf(out, "\n  %s", sym);
	if (line[0])
		g_string_append_printf(out, " (%s)", line);
}

void nc_usym_append(struct nc_usym *u, pid_t pid, uint64_t addr, bool ret_addr, GString *out)
{
	struct nc_maps *m = maps_of(u, pid, false);
	const char *path;
	char sym[256];
	uint64_t off, vaddr;
	struct file *f;

	if (m && nc_maps_to_file(m, addr, &path, &off, NULL, 0) == -EFAULT)
		m = maps_of(u, pid, true);
	if (!m || nc_maps_to_file(m, addr, &path, &off, NULL, 0) || !(f = file_of(u, path)) ||
	    !f->elf) {
		g_string_append_printf(out, "\n  %#" PRIx64, addr);
		return;
	}
	if (nc_elf_symbolize(f->elf, off, sym, sizeof(sym)))
		snprintf(sym, sizeof(sym), "%s+%#" PRIx64, base_name(path), off);
	if (nc_elf_vaddr(f->elf, ret_addr ? off - 1 : off, &vaddr))
		g_string_append_printf(out, "\n  %s", sym);
	else
		frames_of(f->dw, vaddr, sym, out);
}
