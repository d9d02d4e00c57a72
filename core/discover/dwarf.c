/* SPDX-License-Identifier: BSD-2-Clause */
#include "dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "dpdk.h"

/* Longest chain of type references followed: real ones are a few links long, and a damaged
 * file can make one that never ends (a typedef of itself; found by tests/fuzz). */
#define MAX_TYPE_CHAIN 32

/* The type of a DIE with typedefs and qualifiers peeled off; false if it has none (or the
 * chain is longer than MAX_TYPE_CHAIN) */
static bool peeled_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	int links = 0;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
		return false;
	while (dwarf_tag(type) == DW_TAG_typedef || dwarf_tag(type) == DW_TAG_const_type ||
	       dwarf_tag(type) == DW_TAG_volatile_type || dwarf_tag(type) == DW_TAG_restrict_type)
		if (++links > MAX_TYPE_CHAIN || !dwarf_attr_integrate(type, DW_AT_type, &a) ||
		    !dwarf_formref_die(&a, type))
			return false;
	return true;
}

/* 1 for struct rte_mbuf *, 2 for struct rte_mbuf **, 0 otherwise */
static int mbuf_depth(Dwarf_Die *param)
{
	Dwarf_Die t;
	int depth = 0;

	if (!peeled_type(param, &t))
		return 0;
	while (dwarf_tag(&t) == DW_TAG_pointer_type && depth < 3) {
		depth++;
		if (!peeled_type(&t, &t))
			return 0;
	}
	if (dwarf_tag(&t) != DW_TAG_structure_type || !dwarf_diename(&t) ||
	    strcmp(dwarf_diename(&t), "rte_mbuf"))
		return 0;
	return depth == 1 || depth == 2 ? depth : 0;
}

static bool is_integer(Dwarf_Die *die)
{
	Dwarf_Die t;
	Dwarf_Word enc;
	Dwarf_Attribute a;

	if (!peeled_type(die, &t) || dwarf_tag(&t) != DW_TAG_base_type ||
	    !dwarf_attr(&t, DW_AT_encoding, &a) || dwarf_formudata(&a, &enc))
		return false;
	return enc == DW_ATE_unsigned || enc == DW_ATE_signed || enc == DW_ATE_unsigned_char ||
	       enc == DW_ATE_signed_char;
}

/* C spelling of a parameter's type, good enough for a listing */
static void type_name(Dwarf_Die *die, GString *s)
{
	Dwarf_Die t;
	Dwarf_Attribute a;
	int stars = 0, links = 0;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t)) {
		g_string_append(s, "void");
		return;
	}
	while (dwarf_tag(&t) == DW_TAG_pointer_type || dwarf_tag(&t) == DW_TAG_const_type ||
	       dwarf_tag(&t) == DW_TAG_volatile_type) {
		stars += dwarf_tag(&t) == DW_TAG_pointer_type;
		if (++links > MAX_TYPE_CHAIN) {
			g_string_append(s, "?");
			goto out;
		}
		if (!dwarf_attr_integrate(&t, DW_AT_type, &a) || !dwarf_formref_die(&a, &t)) {
			g_string_append(s, "void");
			goto out;
		}
	}
	if (dwarf_tag(&t) == DW_TAG_structure_type)
		g_string_append(s, "struct ");
	g_string_append(s, dwarf_diename(&t) ? dwarf_diename(&t) : "?");
out:
	if (stars)
		g_string_append_c(s, ' ');
	while (stars--)
		g_string_append_c(s, '*');
}

static void look_at(Dwarf_Die *fn, GArray *out)
{
	struct nc_mbuf_func f = {0};
	Dwarf_Die child;
	Dwarf_Addr lowpc;
	GString *proto;
	int n = 0;

	if (dwarf_hasattr(fn, DW_AT_declaration) || !dwarf_diename(fn) ||
	    (dwarf_lowpc(fn, &lowpc) && !dwarf_hasattr(fn, DW_AT_ranges)) ||
	    dwarf_child(fn, &child))
		return;
	proto = g_string_new(NULL);
	type_name(fn, proto);
	g_string_append_printf(proto, " %s(", dwarf_diename(fn));
	do {
		int depth;

		if (dwarf_tag(&child) != DW_TAG_formal_parameter)
			continue;
		n++;
		if (n > 1)
			g_string_append(proto, ", ");
		type_name(&child, proto);
		if (n > 6)
			continue;
		depth = mbuf_depth(&child);
		if (depth && !f.arg_pkt) {
			f.arg_pkt = (uint8_t)n;
			f.array = depth == 2;
		} else if (f.array && !f.arg_cnt && is_integer(&child)) {
			f.arg_cnt = (uint8_t)n;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	g_string_append_c(proto, ')');
	if (!f.arg_pkt) {
		g_string_free(proto, TRUE);
		return;
	}
	f.name = strdup(dwarf_diename(fn));
	f.proto = g_string_free(proto, FALSE);
	f.ret_count = is_integer(fn);
	g_array_append_val(out, f);
}

int nc_dwarf_mbuf_funcs(const char *path, struct nc_mbuf_func **out, size_t *n, char *err,
			size_t errlen)
{
	GArray *v;
	Dwarf *dw;
	Dwarf_Off off = 0, next;
	size_t hsize;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
	*out = NULL;
	*n = 0;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) { /* no DWARF: nothing to list */
		close(fd);
		return 0;
	}
	v = g_array_new(FALSE, TRUE, sizeof(struct nc_mbuf_func));
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				if (dwarf_tag(&die) == DW_TAG_subprogram)
					look_at(&die, v);
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	*n = v->len;
	*out = (struct nc_mbuf_func *)g_array_free(v, v->len == 0);
	return 0;
}

void nc_mbuf_funcs_free(struct nc_mbuf_func *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		g_free(v[i].proto);
	}
	g_free(v);
}

/* Adds the byte offsets of members of struct/union `agg` (at `base`) named in want[] to got[],
 * descending into anonymous structs and unions, at most MAX_TYPE_CHAIN deep (a damaged file
 * can make an aggregate a member of itself; found by tests/fuzz). */
static void find_members(Dwarf_Die *agg, Dwarf_Word base, const char *const *want, size_t n,
			 long *got, int depth)
{
	Dwarf_Die m;

	if (depth > MAX_TYPE_CHAIN || dwarf_child(agg, &m))
		return;
	do {
		Dwarf_Attribute a;
		Dwarf_Word off = 0;
		const char *name = dwarf_diename(&m);
		Dwarf_Die t;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		if (dwarf_attr(&m, DW_AT_data_member_location, &a) && dwarf_formudata(&a, &off))
			continue;
		if (!name) {
			if (peeled_type(&m, &t) && (dwarf_tag(&t) == DW_TAG_structure_type ||
						    dwarf_tag(&t) == DW_TAG_union_type))
				find_members(&t, base + off, want, n, got, depth + 1);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (got[i] < 0 && !strcmp(name, want[i]))
				got[i] = (long)(base + off);
	} while (dwarf_siblingof(&m, &m) == 0);
}

int nc_dwarf_mbuf_layout(const char *path, struct nc_mbuf_layout *out, char *err, size_t errlen)
{
	static const char *const want[] = {"buf_addr",	     "data_off", "nb_segs",  "port",
					   "ol_flags",	     "pkt_len",	 "data_len", "vlan_tci",
					   "vlan_tci_outer", "next"};
	long got[10];
	Dwarf *dw;
	Dwarf_Off off = 0, next;
	size_t hsize;
	bool found = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	_Static_assert(sizeof(want) / sizeof(want[0]) == sizeof(got) / sizeof(got[0]), "fields");
	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
	dw = dwarf_begin(fd, DWARF_C_READ);
	while (dw && !found && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				if (dwarf_tag(&die) != DW_TAG_structure_type ||
				    !dwarf_diename(&die) ||
				    strcmp(dwarf_diename(&die), "rte_mbuf") ||
				    dwarf_hasattr(&die, DW_AT_declaration))
					continue;
				for (size_t i = 0; i < G_N_ELEMENTS(got); i++)
					got[i] = -1;
				find_members(&die, 0, want, G_N_ELEMENTS(want), got, 0);
				found = true;
				for (size_t i = 0; i < G_N_ELEMENTS(got); i++)
					found &= got[i] >= 0 && got[i] < 128;
			} while (!found && dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	if (dw)
		dwarf_end(dw);
	close(fd);
	if (!found)
		return nc_err(err, errlen, ENOENT, "no DWARF description of struct rte_mbuf in %s",
			      path);
	out->buf_addr = (uint16_t)got[0];
	out->data_off = (uint16_t)got[1];
	out->nb_segs = (uint16_t)got[2];
	out->port = (uint16_t)got[3];
	out->ol_flags = (uint16_t)got[4];
	out->pkt_len = (uint16_t)got[5];
	out->data_len = (uint16_t)got[6];
	out->vlan_tci = (uint16_t)got[7];
	out->vlan_tci_outer = (uint16_t)got[8];
	out->next = (uint16_t)got[9];
	return 0;
}
