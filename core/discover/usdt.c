/* SPDX-License-Identifier: BSD-2-Clause */
#include "usdt.h"

#include <asm/ptrace.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"

#define NT_STAPSDT 3

void nc_usdt_free(struct nc_usdt_probe *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].provider);
		free(v[i].name);
		free(v[i].args);
	}
	free(v);
}

/* The file offset of link-time address a, through the PT_LOAD segment holding it; 0 if none */
static uint64_t file_offset(Elf *elf, uint64_t a)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && a >= ph.p_vaddr &&
		    a < ph.p_vaddr + ph.p_filesz)
			return a - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

/* The address of section `name`, 0 if there is none */
static uint64_t section_addr(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *s;

		if (gelf_getshdr(scn, &sh) && (s = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    !strcmp(s, name))
			return sh.sh_addr;
	}
	return 0;
}

/* One NT_STAPSDT descriptor: pc, base, semaphore (address-sized), provider, name, args */
static bool parse_note(Elf *elf, const char *desc, size_t len, uint64_t base_sec,
		       struct nc_usdt_probe *p)
{
	size_t asz = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8;
	uint64_t a[3] = {0, 0, 0};
	const char *s = desc + 3 * asz, *end = desc + len;
	const char *prov, *name, *args;

	if (len < 3 * asz + 3)
		return false;
	for (int i = 0; i < 3; i++) {
		if (asz == 8) {
			memcpy(&a[i], desc + 8 * i, 8);
		} else {
			uint32_t v;

			memcpy(&v, desc + 4 * i, 4);
			a[i] = v;
		}
	}
	prov = s;
	name = memchr(prov, 0, (size_t)(end - prov));
	if (!name++ || name >= end)
		return false;
	args = memchr(name, 0, (size_t)(end - name));
	if (!args++ || args >= end || !memchr(args, 0, (size_t)(end - args)))
		return false;
	/* a prelinked file moved .stapsdt.base: move pc and the semaphore with it */
	if (a[1] && base_sec) {
		a[0] += base_sec - a[1];
		if (a[2])
			a[2] += base_sec - a[1];
	}
	p->provider = strdup(prov);
	p->name = strdup(name);
	p->args = strdup(args);
	p->pc = a[0];
	p->offset = file_offset(elf, a[0]);
	p->sem_offset = a[2] ? file_offset(elf, a[2]) : 0;
	return p->provider && p->name && p->args;
}

int nc_usdt_list(const char *path, struct nc_usdt_probe **out, size_t *n, char *err, size_t errlen)
{
	GArray *v = g_array_new(FALSE, TRUE, sizeof(struct nc_usdt_probe));
	Elf_Scn *scn = NULL;
	uint64_t base_sec;
	size_t shstrndx, len;
	Elf *elf;
	int fd, ret = 0;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = nc_err(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
		g_array_free(v, TRUE);
		return ret;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx)) {
		ret = nc_err(err, errlen, ENOEXEC, "%s is not an ELF file", path);
		goto out;
	}
	base_sec = section_addr(elf, ".stapsdt.base");
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			struct nc_usdt_probe p = {0};

			if (nh.n_type != NT_STAPSDT || nh.n_namesz != sizeof("stapsdt") ||
			    memcmp((char *)data->d_buf + name_off, "stapsdt", sizeof("stapsdt")))
				continue;
			if (parse_note(elf, (char *)data->d_buf + desc_off, nh.n_descsz, base_sec,
				       &p))
				g_array_append_val(v, p);
			else
				nc_usdt_free(g_memdup2(&p, sizeof(p)), 1);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	len = v->len;
	if (ret) {
		nc_usdt_free((struct nc_usdt_probe *)(void *)g_array_free(v, FALSE), len);
		return ret;
	}
	*n = len;
	*out = (struct nc_usdt_probe *)(void *)g_array_free(v, FALSE);
	return 0;
}

unsigned nc_usdt_nargs(const char *args)
{
	g_auto(GStrv) parts = g_strsplit_set(args, " ", -1);
	unsigned n = 0;

	for (char **p = parts; *p; p++)
		n += **p != 0;
	return n;
}

/* x86-64 register names of every width, and where struct pt_regs keeps the register */
static int reg_offset(const char *r)
{
	static const struct {
		const char *names[4];
		int off;
	} regs[] = {
	    {{"rax", "eax", "ax", "al"}, offsetof(struct pt_regs, rax)},
	    {{"rbx", "ebx", "bx", "bl"}, offsetof(struct pt_regs, rbx)},
	    {{"rcx", "ecx", "cx", "cl"}, offsetof(struct pt_regs, rcx)},
	    {{"rdx", "edx", "dx", "dl"}, offsetof(struct pt_regs, rdx)},
	    {{"rsi", "esi", "si", "sil"}, offsetof(struct pt_regs, rsi)},
	    {{"rdi", "edi", "di", "dil"}, offsetof(struct pt_regs, rdi)},
	    {{"rbp", "ebp", "bp", "bpl"}, offsetof(struct pt_regs, rbp)},
	    {{"rsp", "esp", "sp", "spl"}, offsetof(struct pt_regs, rsp)},
	    {{"r8", "r8d", "r8w", "r8b"}, offsetof(struct pt_regs, r8)},
	    {{"r9", "r9d", "r9w", "r9b"}, offsetof(struct pt_regs, r9)},
	    {{"r10", "r10d", "r10w", "r10b"}, offsetof(struct pt_regs, r10)},
	    {{"r11", "r11d", "r11w", "r11b"}, offsetof(struct pt_regs, r11)},
	    {{"r12", "r12d", "r12w", "r12b"}, offsetof(struct pt_regs, r12)},
	    {{"r13", "r13d", "r13w", "r13b"}, offsetof(struct pt_regs, r13)},
	    {{"r14", "r14d", "r14w", "r14b"}, offsetof(struct pt_regs, r14)},
	    {{"r15", "r15d", "r15w", "r15b"}, offsetof(struct pt_regs, r15)},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(regs); i++)
		for (int k = 0; k < 4; k++)
			if (!strcmp(r, regs[i].names[k]))
				return regs[i].off;
	return -1;
}

/* A signed decimal (or 0x hex) number, the whole string */
static bool parse_s64(const char *s, int64_t *v)
{
	bool neg = *s == '-';
	guint64 u;

	if (neg || *s == '+')
		s++;
	if (!*s)
		return false;
	if (!strncmp(s, "0x", 2) ? !g_ascii_string_to_unsigned(s + 2, 16, 0, INT64_MAX, &u, NULL)
				 : !g_ascii_string_to_unsigned(s, 10, 0, INT64_MAX, &u, NULL))
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

int nc_usdt_arg(const char *args, unsigned i, struct nc_arg_loc *loc, char *err, size_t errlen)
{
	g_auto(GStrv) parts = g_strsplit_set(args, " ", -1);
	const char *spec = NULL, *at, *op;
	unsigned k = 0;
	int64_t size, off = 0;
	g_autofree char *sz = NULL;

	for (char **p = parts; *p && !spec; p++)
		if (**p && ++k == i)
			spec = *p;
	if (!spec)
		return nc_err(err, errlen, ERANGE, "the probe has %u argument(s) (%s), not %u",
			      nc_usdt_nargs(args), *args ? args : "none", i);
	memset(loc, 0, sizeof(*loc));
	at = strchr(spec, '@');
	if (!at)
		return nc_err(err, errlen, EINVAL, "USDT argument \"%s\" has no SIZE@", spec);
	sz = g_strndup(spec, (gsize)(at - spec));
	if (!parse_s64(sz, &size) ||
	    (llabs(size) != 1 && llabs(size) != 2 && llabs(size) != 4 && llabs(size) != 8))
		return nc_err(err, errlen, EINVAL, "USDT argument \"%s\": bad size", spec);
	loc->size = (__s8)size;
	op = at + 1;
	if (*op == '$') { /* 4@$5 */
		if (!parse_s64(op + 1, &off))
			return nc_err(err, errlen, EINVAL, "USDT argument \"%s\": bad constant",
				      spec);
		loc->type = NC_ARG_CONST;
		loc->val_off = off;
		return 0;
	}
	if (*op == '%') { /* 8@%rdi */
		int r = reg_offset(op + 1);

		if (r < 0)
			return nc_err(err, errlen, ENOTSUP,
				      "USDT argument \"%s\": netcap reads general-purpose "
				      "registers only",
				      spec);
		loc->type = NC_ARG_REG;
		loc->reg_off = (__u16)r;
		return 0;
	}
	/* -4@-4(%rbp), 8@(%rbx) */
	{
		const char *paren = strchr(op, '(');
		g_autofree char *num = paren ? g_strndup(op, (gsize)(paren - op)) : NULL;
		g_autofree char *reg = NULL;
		size_t rl;
		int r;

		if (!paren || paren[1] != '%' || !(rl = strlen(paren + 2)) ||
		    paren[2 + rl - 1] != ')')
			return nc_err(err, errlen, ENOTSUP,
				      "USDT argument \"%s\": netcap reads a register, memory at "
				      "a register plus an offset, or a constant, not this form",
				      spec);
		reg = g_strndup(paren + 2, rl - 1);
		r = reg_offset(reg);
		if (r < 0 || (*num && !parse_s64(num, &off)))
			return nc_err(err, errlen, ENOTSUP,
				      "USDT argument \"%s\": netcap reads memory at a general-"
				      "purpose register plus an offset (not %%rip-relative or "
				      "indexed)",
				      spec);
		loc->type = NC_ARG_REG_DEREF;
		loc->reg_off = (__u16)r;
		loc->val_off = off;
		return 0;
	}
}
