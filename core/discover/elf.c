/* SPDX-License-Identifier: BSD-2-Clause */
#include "elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"

#define VERSYM_HIDDEN 0x8000 /* a non-default version (name@VER, not name@@VER) */

struct nc_elf {
	int fd;
	Elf *elf;
	char *path;
	Elf_Scn *symtab; /* NULL when stripped */
	Elf_Scn *dynsym;
	Elf_Scn *versym; /* .gnu.version, parallel to .dynsym; may be NULL */
};

/* What kind of symbol a lookup wants. */
enum want { WANT_FUNC, WANT_OBJECT };

int nc_elf_open(const char *path, struct nc_elf **out, char *err, size_t errlen)
{
	struct nc_elf *e;
	Elf_Scn *scn = NULL;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return nc_err(err, errlen, EINVAL, "libelf is too old: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path))) {
		free(e);
		close(fd);
		return nc_err(err, errlen, ENOMEM, "out of memory opening %s", path);
	}
	e->fd = fd;
	e->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		nc_elf_close(e);
		return nc_err(err, errlen, ENOEXEC, "%s is not an ELF file", path);
	}
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !e->symtab)
			e->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !e->dynsym)
			e->dynsym = scn;
		else if (sh.sh_type == SHT_GNU_versym && !e->versym)
			e->versym = scn;
	}
	*out = e;
	return 0;
}

void nc_elf_close(struct nc_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	close(e->fd);
	free(e->path);
	free(e);
}

const char *nc_elf_path(const struct nc_elf *e)
{
	return e->path;
}

bool nc_elf_has_symtab(const struct nc_elf *e)
{
	return e->symtab != NULL;
}

/* "memcpy" matches "memcpy" and, when the query has no version, "memcpy@..." (.symtab). */
static bool name_matches(const char *sym, const char *name, size_t namelen)
{
	return strncmp(sym, name, namelen) == 0 &&
	       (sym[namelen] == '\0' || (sym[namelen] == '@' && !memchr(name, '@', namelen)));
}

static bool type_wanted(const GElf_Sym *s, enum want want)
{
	int t = GELF_ST_TYPE(s->st_info);

	if (s->st_shndx == SHN_UNDEF)
		return false;
	if (want == WANT_FUNC)
		return t == STT_FUNC || t == STT_GNU_IFUNC;
	return t == STT_OBJECT;
}

/*
 * Searches one symbol table for a defined symbol of the wanted kind named name. In .dynsym a
 * default-version symbol is preferred over a hidden one of the same name. Returns true and *out.
 */
static bool find_in(const struct nc_elf *e, Elf_Scn *scn, const char *name, enum want want,
		    GElf_Sym *out)
{
	Elf_Data *data, *vdata = NULL;
	size_t namelen = strlen(name), n, i;
	bool found = false;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return false;
	if (scn == e->dynsym && e->versym)
		vdata = elf_getdata(e->versym, NULL);
	n = sh.sh_size / sh.sh_entsize;
	for (i = 1; i < n; i++) {
		GElf_Sym s;
		const char *sname;
		GElf_Versym v;

		if (!gelf_getsym(data, (int)i, &s) || !type_wanted(&s, want))
			continue;
		sname = elf_strptr(e->elf, sh.sh_link, s.st_name);
		if (!sname || !name_matches(sname, name, namelen))
			continue;
		if (!vdata || !gelf_getversym(vdata, (int)i, &v) || !(v & VERSYM_HIDDEN)) {
			*out = s;
			return true;
		}
		if (!found) { /* hidden version: keep looking for the default one */
			*out = s;
			found = true;
		}
	}
	return found;
}

static bool find_sym(const struct nc_elf *e, const char *name, enum want want, GElf_Sym *out)
{
	return find_in(e, e->symtab, name, want, out) || find_in(e, e->dynsym, name, want, out);
}

/*
 * Converts between a virtual address and a file offset through the allocated section holding
 * `from`: from a virtual address when to_offset, else from a file offset.
 */
static bool convert(const struct nc_elf *e, uint64_t from, bool to_offset, uint64_t *to)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		uint64_t base, other;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type == SHT_NOBITS)
			continue;
		base = to_offset ? sh.sh_addr : sh.sh_offset;
		other = to_offset ? sh.sh_offset : sh.sh_addr;
		if (from >= base && from - base < sh.sh_size) {
			*to = from - base + other;
			return true;
		}
	}
	return false;
}

static bool vaddr_to_offset(const struct nc_elf *e, uint64_t vaddr, uint64_t *offset)
{
	return convert(e, vaddr, true, offset);
}

static bool offset_to_vaddr(const struct nc_elf *e, uint64_t offset, uint64_t *vaddr)
{
	return convert(e, offset, false, vaddr);
}

int nc_elf_vaddr(const struct nc_elf *e, uint64_t offset, uint64_t *vaddr)
{
	return offset_to_vaddr(e, offset, vaddr) ? 0 : -ENOENT;
}

int nc_elf_func(const struct nc_elf *e, const char *name, uint64_t *offset, uint64_t *size,
		char *err, size_t errlen)
{
	GElf_Sym s;
	uint64_t off;

	if (!find_sym(e, name, WANT_FUNC, &s))
		return nc_err(err, errlen, ENOENT, "no function \"%s\" in %s (%s)", name, e->path,
			      e->symtab ? "not in .symtab or .dynsym" : "stripped?");
	if (!vaddr_to_offset(e, s.st_value, &off))
		return nc_err(err, errlen, ENOEXEC,
			      "function \"%s\" in %s at 0x%" PRIx64 " lies in no section", name,
			      e->path, (uint64_t)s.st_value);
	*offset = off;
	if (size)
		*size = s.st_size;
	return 0;
}

int nc_elf_object(const struct nc_elf *e, const char *name, uint64_t *vaddr, uint64_t *size,
		  char *err, size_t errlen)
{
	GElf_Sym s;

	if (!find_sym(e, name, WANT_OBJECT, &s))
		return nc_err(err, errlen, ENOENT, "no object \"%s\" in %s", name, e->path);
	*vaddr = s.st_value;
	if (size)
		*size = s.st_size;
	return 0;
}

/* The function symbol of one table containing vaddr; true and its name and start. */
static bool containing(const struct nc_elf *e, Elf_Scn *scn, uint64_t vaddr, const char **name,
		       uint64_t *start)
{
	Elf_Data *data;
	GElf_Shdr sh;
	size_t n, i;

	if (!scn || !gelf_getshdr(scn, &sh) || !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return false;
	n = sh.sh_size / sh.sh_entsize;
	for (i = 1; i < n; i++) {
		GElf_Sym s;
		const char *sname;

		if (!gelf_getsym(data, (int)i, &s) || !type_wanted(&s, WANT_FUNC))
			continue;
		if (vaddr < s.st_value || vaddr - s.st_value >= (s.st_size ? s.st_size : 1))
			continue;
		sname = elf_strptr(e->elf, sh.sh_link, s.st_name);
		if (!sname || !*sname)
			continue;
		*name = sname;
		*start = s.st_value;
		return true;
	}
	return false;
}

int nc_elf_symbolize(const struct nc_elf *e, uint64_t offset, char *buf, size_t len)
{
	const char *name;
	uint64_t vaddr, start;

	if (!offset_to_vaddr(e, offset, &vaddr))
		return -ENOENT;
	if (!containing(e, e->symtab, vaddr, &name, &start) &&
	    !containing(e, e->dynsym, vaddr, &name, &start))
		return -ENOENT;
	if (vaddr == start)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, name, vaddr - start);
	return 0;
}

int nc_elf_first_load(const struct nc_elf *e, uint64_t *vaddr, uint64_t *offset, char *err,
		      size_t errlen)
{
	size_t n, i;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return nc_err(err, errlen, ENOEXEC, "%s: no program headers: %s", e->path,
			      elf_errmsg(-1));
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*vaddr = ph.p_vaddr;
			*offset = ph.p_offset;
			return 0;
		}
	}
	return nc_err(err, errlen, ENOEXEC, "%s has no loadable segment", e->path);
}
