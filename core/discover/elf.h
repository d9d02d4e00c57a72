/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Symbols of one ELF file on disk, read with libelf: functions by name (for uprobes, which take a
 * file offset), data objects by name (for reading a live variable through /proc/PID/mem), file
 * offsets back to "name+0xoff", and the virtual address of the first loadable segment (for the
 * load base, see procmaps.h).
 *
 * Lookups search .symtab first, then .dynsym, and consider defined symbols only. A name without
 * '@' also matches a versioned name in .symtab ("memcpy" matches "memcpy@@GLIBC_2.14"); .dynsym
 * keeps plain names (the version lives in .gnu.version), and among several .dynsym symbols of one
 * name the default version (hidden bit clear) wins.
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL) naming the file. Nothing here prints or exits.
 */
#ifndef NC_ELF_H
#define NC_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nc_elf;

/*
 * Opens path read-only (the file stays open until nc_elf_close()). -ENOENT, -EACCES, ... from
 * open(2), or -ENOEXEC when the file is not ELF. *out is untouched on failure.
 */
int nc_elf_open(const char *path, struct nc_elf **out, char *err, size_t errlen);

/* Closes the file and frees e; NULL is a no-op. */
void nc_elf_close(struct nc_elf *e);

/* The path given to nc_elf_open(), owned by e. */
const char *nc_elf_path(const struct nc_elf *e);

/* Whether the file has a .symtab (an unstripped or static build). */
bool nc_elf_has_symtab(const struct nc_elf *e);

/*
 * Finds a defined function (STT_FUNC or STT_GNU_IFUNC; for an IFUNC that is the resolver, not
 * the implementation it picks) and returns its file offset (st_value - sh_addr + sh_offset of the
 * section holding st_value, what uprobes take) and its st_size; size may be NULL. -ENOENT with
 * `no function "foo" in /path (stripped?)` when absent; *offset and *size are untouched then.
 */
int nc_elf_func(const struct nc_elf *e, const char *name, uint64_t *offset, uint64_t *size,
		char *err, size_t errlen);

/*
 * Finds a defined data object (STT_OBJECT) and returns its st_value (a virtual address relative
 * to the file's link address: add the load base for the runtime address) and st_size; size may
 * be NULL. -ENOENT with `no object "foo" in /path` when absent.
 */
int nc_elf_object(const struct nc_elf *e, const char *name, uint64_t *vaddr, uint64_t *size,
		  char *err, size_t errlen);

/*
 * Writes "name" (offset at the start of a function) or "name+0x1f" into buf (len bytes,
 * truncated if needed) for the function containing file offset `offset`. -ENOENT, with buf
 * untouched, when no symbol contains it (Debian's PMDs: no .symtab, static burst functions).
 */
int nc_elf_symbolize(const struct nc_elf *e, uint64_t offset, char *buf, size_t len);

/* The virtual address (link-time) of file offset `offset`, through the section holding it;
 * -ENOENT when no allocated section holds it. */
int nc_elf_vaddr(const struct nc_elf *e, uint64_t offset, uint64_t *vaddr);

/*
 * The first PT_LOAD program header (lowest in the table): its p_vaddr and p_offset. The load base
 * of a mapped file is then start of the mapping that holds p_offset + (p_offset - mapping offset)
 * - p_vaddr, i.e. mapping start - p_vaddr in the usual case of p_offset 0: 0 for a non-PIE
 * executable, the mapping start for PIE executables and shared objects. -ENOEXEC when the file
 * has no PT_LOAD.
 */
int nc_elf_first_load(const struct nc_elf *e, uint64_t *vaddr, uint64_t *offset, char *err,
		      size_t errlen);

#endif
