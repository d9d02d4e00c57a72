/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The memory map of a process (/proc/PID/maps): which file and file offset a virtual address
 * belongs to (uprobes take a file and an offset), and where each mapped ELF file is loaded.
 *
 * Paths are paths this process can open to reach the very file the target maps. The kernel shows
 * a mapped file's path from the reader's root when it can, else from the root of the target's own
 * mount tree: a process chrooted in the same mount namespace shows host paths, one in a container
 * (its own mount namespace, its root pivoted) shows its own paths, under which the host may have a
 * different file or none. So when the target's root is not this process's, every shown path is
 * checked against the device and inode the maps line names and, where it does not match, replaced
 * by /proc/PID/root/PATH (the target's view) or /proc/PID/map_files/START-END (the mapping itself,
 * which takes CAP_SYS_ADMIN to follow), whichever is that file; `shown` keeps the kernel's text.
 * Never a same-named host file. A path ending in " (deleted)" is kept as the kernel shows it.
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL). Nothing here prints or exits.
 */
#ifndef NC_PROCMAPS_H
#define NC_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nc_elf;

struct nc_maps_entry {
	uint64_t start;	   /* first address */
	uint64_t end;	   /* one past the last address */
	uint64_t offset;   /* file offset of start */
	char perms[5];	   /* "r-xp" */
	const char *path;  /* "" for anonymous memory; "[heap]", "[vdso]"... as shown; a file: a
			      path to open it by (see above) */
	const char *shown; /* the path as /proc/PID/maps shows it (== path in the usual case) */
	uint64_t dev;	   /* makedev(major, minor) of the maps line; 0 for anonymous memory */
	uint64_t inode;
};

struct nc_maps {
	pid_t pid; /* 0 when parsed from text */
	size_t n;
	struct nc_maps_entry *v; /* sorted by start, as the kernel lists them */
	char *text;		 /* the paths point into this copy of the file */
	char **own;		 /* or into these: the replaced paths (NULL-terminated), or NULL */
};

/* A distinct mapped ELF file and its load base: runtime address = base + ELF virtual address. */
struct nc_maps_file {
	const char *path; /* borrowed from the nc_maps it was listed from */
	uint64_t base;
};

/*
 * Reads /proc/PID/maps. -ESRCH "no process with pid 1234" when there is no such process (or it
 * has exited, leaving no mappings), -EACCES naming root/CAP_SYS_PTRACE when the caller may not
 * read it, -EINVAL for a line it cannot parse. *out is untouched on failure; free it with
 * nc_maps_free().
 */
int nc_maps_read(pid_t pid, struct nc_maps **out, char *err, size_t errlen);

/*
 * The path by which this process reaches the file process pid maps as `shown` (a path in the
 * target's view, e.g. readlink of /proc/PID/exe), borrowed from m; NULL when m maps no such file.
 */
const char *nc_maps_local_path(const struct nc_maps *m, const char *shown);

/* Parses the text of a maps file (copied; the result does not refer to text). Same errors;
 * paths are kept as written. */
int nc_maps_parse(const char *text, struct nc_maps **out, char *err, size_t errlen);

/* Frees m and its paths; NULL is a no-op. */
void nc_maps_free(struct nc_maps *m);

/* The mapping containing addr, or NULL. The pointer lives as long as m. */
const struct nc_maps_entry *nc_maps_find(const struct nc_maps *m, uint64_t addr);

/* The first mapping of the file path (the whole path compared), or NULL. Lives as long as m. */
const struct nc_maps_entry *nc_maps_find_path(const struct nc_maps *m, const char *path);

/*
 * The first mapping of a file whose name (what follows the path's last '/') starts with prefix,
 * e.g. "librte_ethdev.so", or NULL. Lives as long as m.
 */
const struct nc_maps_entry *nc_maps_find_name(const struct nc_maps *m, const char *prefix);

/*
 * Whether process pid maps a file whose name starts with prefix: its maps read (the paths as
 * shown: no file is checked, so listing every process stays cheap) then nc_maps_find_name(),
 * false when the map cannot be read (no such process, not this user's).
 */
bool nc_maps_pid_has_name(pid_t pid, const char *prefix);

/*
 * The path a uprobe on path in process pid goes in by: /proc/PID/map_files/START-END of the
 * first mapping of path there, which the kernel resolves to the very file the process maps.
 * Following map_files takes CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); without it, when pid
 * does not map path (it may have exited), or for a path that is not absolute or is under
 * /proc/: path itself. NULL only when out of memory; free with free().
 */
char *nc_maps_file_link(pid_t pid, const char *path);

/*
 * Translates addr to (mapping path, addr - mapping start + mapping offset). *path is borrowed
 * from m. -EFAULT when addr is not mapped, -ENOENT when it is in memory backed by no file
 * (anonymous, [heap], [vdso]...); outputs untouched then.
 */
int nc_maps_to_file(const struct nc_maps *m, uint64_t addr, const char **path, uint64_t *offset,
		    char *err, size_t errlen);

/*
 * The load base of the ELF file e (opened from path) in the process: the start of the first
 * mapping of path that holds the file's first PT_LOAD, corrected by that segment's file offset
 * and virtual address (see nc_elf_first_load()). 0 for a non-PIE executable. -ENOENT when path is
 * not mapped there.
 */
int nc_maps_load_base(const struct nc_maps *m, const char *path, const struct nc_elf *e,
		      uint64_t *base, char *err, size_t errlen);

/*
 * Lists the distinct mapped files that are ELF (paths starting with '/', opened and checked; a
 * file that cannot be opened is left out), in the order of their first mapping, with their load
 * bases. *out is a malloc()ed array of *n entries for the caller to free(); the paths stay
 * borrowed from m. -ENOMEM only.
 */
int nc_maps_elf_files(const struct nc_maps *m, struct nc_maps_file **out, size_t *n, char *err,
		      size_t errlen);

#endif
