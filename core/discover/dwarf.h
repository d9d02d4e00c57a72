/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Functions of an ELF file that take mbufs, from its DWARF (libdw): what `netcap list` suggests
 * hooking besides the PMD burst functions.
 */
#ifndef NC_DWARF_H
#define NC_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nc_mbuf_func {
	char *name;
	char *proto;	 /* "uint16_t fwd_rx(uint16_t, struct rte_mbuf **, uint16_t)" */
	uint8_t arg_pkt; /* 1-based: the struct rte_mbuf * or ** parameter */
	uint8_t arg_cnt; /* 1-based: the integer parameter after an array, 0 if none */
	bool array;	 /* struct rte_mbuf ** */
	bool ret_count;	 /* returns an integer (a count, for FUNC@N@ret) */
};

/*
 * Lists the functions defined in path (with code: DW_AT_low_pc or ranges) whose register
 * parameters (1 to 6) include a struct rte_mbuf * or **. *out is a malloc()ed array of *n
 * (free with nc_mbuf_funcs_free()); *n is 0 for a file without DWARF. -ENOENT/-EIO with a
 * message when the file cannot be read.
 */
int nc_dwarf_mbuf_funcs(const char *path, struct nc_mbuf_func **out, size_t *n, char *err,
			size_t errlen);
void nc_mbuf_funcs_free(struct nc_mbuf_func *v, size_t n);

struct nc_mbuf_layout;

/*
 * The offsets of struct rte_mbuf's fields as the DWARF of path describes them (the target's own
 * build: its IOVA option, its release). 0 and *out filled when the file's DWARF has the struct
 * with every field netcap reads; -ENOENT when it has no such DWARF (use the release's table).
 */
int nc_dwarf_mbuf_layout(const char *path, struct nc_mbuf_layout *out, char *err, size_t errlen);

#endif
