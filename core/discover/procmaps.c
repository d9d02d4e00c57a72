/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE /* asprintf */
#include "procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../util/err.h"
#include "elf.h"

/* Reads a whole /proc file (their st_size is 0) into a NUL-terminated buffer; -errno. */
static int read_proc_file(const char *path, char **out)
{
	size_t len = 0, cap = 16384;
	char *buf = malloc(cap);
	int fd, e;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		free(buf);
		return -e;
	}
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				e = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
fail:
	close(fd);
	free(buf);
	return -e;
}

/* Parses text (owned by the new nc_maps from here on, also on failure). */
static int parse_owned(char *text, pid_t pid, struct nc_maps **out, char *err, size_t errlen)
{
	struct nc_maps *m = calloc(1, sizeof(*m));
	size_t cap = 0, lineno = 0;
	char *line, *next;

	if (!m) {
		free(text);
		return nc_err(err, errlen, ENOMEM, "out of memory reading a memory map");
	}
	m->pid = pid;
	m->text = text;
	for (line = text; *line; line = next) {
		struct nc_maps_entry *ent;
		unsigned int major, minor;
		int used = 0;
		char *p;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		if (!*line)
			continue;
		if (m->n == cap) {
			struct nc_maps_entry *nv =
			    realloc(m->v, (cap = cap ? cap * 2 : 256) * sizeof(*nv));

			if (!nv) {
				nc_maps_free(m);
				return nc_err(err, errlen, ENOMEM,
					      "out of memory reading a memory map");
			}
			m->v = nv;
		}
		ent = &m->v[m->n];
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n",
			   &ent->start, &ent->end, ent->perms, &ent->offset, &major, &minor,
			   &ent->inode, &used) != 7 ||
		    !used || ent->end < ent->start) {
			if (pid)
				nc_err(err, errlen, EINVAL,
				       "unexpected line %zu in /proc/%d/maps: \"%.60s\"", lineno,
				       (int)pid, line);
			else
				nc_err(err, errlen, EINVAL, "unexpected line %zu in a maps file",
				       lineno);
			nc_maps_free(m);
			return -EINVAL;
		}
		for (p = line + used; *p == ' ' || *p == '\t'; p++)
			;
		ent->path = ent->shown = p;
		ent->dev = makedev(major, minor);
		m->n++;
	}
	*out = m;
	return 0;
}

/* Whether st is the file of maps entry e (the device and inode its line names) */
static bool is_file_of(const struct stat *st, const struct nc_maps_entry *e)
{
	return (uint64_t)st->st_dev == e->dev && (uint64_t)st->st_ino == e->inode;
}

/* Whether process pid has this process's root directory (no chroot, no container) */
static bool same_root(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
	/* not ours to look at (its owner's): the paths stay as shown */
	if (stat(path, &a) || stat("/", &b))
		return true;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * A path to reach the file mapped by e (a file path as shown, of process pid whose root is not
 * ours): the shown path when it is that file (a chroot in our mount namespace), else the target's
 * view /proc/PID/root/PATH, else the mapping's /proc/PID/map_files link, each checked by device
 * and inode; failing all (a file system whose stat does not give the maps line's device, such as
 * overlayfs, without the capability map_files takes), the target's view if it exists there. NULL
 * to keep the shown path.
 */
static char *local_path(pid_t pid, const struct nc_maps_entry *e)
{
	char *view = NULL, *link = NULL;
	struct stat st;

	if (!stat(e->shown, &st) && is_file_of(&st, e))
		return NULL;
	if (asprintf(&view, "/proc/%d/root%s", (int)pid, e->shown) < 0)
		return NULL;
	if (!stat(view, &st) && is_file_of(&st, e))
		return view;
	if (asprintf(&link, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, e->start,
		     e->end) >= 0 &&
	    !stat(link, &st) && is_file_of(&st, e)) {
		free(view);
		return link;
	}
	free(link);
	if (!access(view, F_OK))
		return view;
	free(view);
	return NULL;
}

static bool deleted(const char *path)
{
	size_t n = strlen(path);

	return n > 10 && !strcmp(path + n - 10, " (deleted)");
}

/* Points the file paths of m (process pid) at files this process can open */
static void localise(struct nc_maps *m, pid_t pid)
{
	GPtrArray *own;
	const char *prev_shown = NULL, *prev_path = NULL;

	if (same_root(pid))
		return;
	own = g_ptr_array_new();
	for (size_t i = 0; i < m->n; i++) {
		struct nc_maps_entry *e = &m->v[i];
		char *path;

		if (e->shown[0] != '/' || deleted(e->shown))
			continue;
		/* consecutive mappings of one file: resolved once */
		if (prev_shown && !strcmp(prev_shown, e->shown) && m->v[i - 1].inode == e->inode &&
		    m->v[i - 1].dev == e->dev) {
			e->path = prev_path;
			continue;
		}
		path = local_path(pid, e);
		if (path) {
			g_ptr_array_add(own, path);
			e->path = path;
		}
		prev_shown = e->shown;
		prev_path = e->path;
	}
	if (own->len == 0) {
		g_ptr_array_free(own, TRUE);
		return;
	}
	g_ptr_array_add(own, NULL);
	m->own = (char **)g_ptr_array_free(own, FALSE);
}

const char *nc_maps_local_path(const struct nc_maps *m, const char *shown)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].shown, shown))
			return m->v[i].path;
	return NULL;
}

/* /proc/PID/maps; with local, the file paths made ones this process reaches them by */
static int maps_read(pid_t pid, bool local, struct nc_maps **out, char *err, size_t errlen)
{
	char path[64], *text = NULL;
	struct nc_maps *m;
	int r;

	if (pid <= 0)
		return nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	r = read_proc_file(path, &text);
	if (r == -ENOENT || r == -ESRCH)
		return nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
	if (r == -EACCES || r == -EPERM)
		return nc_err(err, errlen, EACCES,
			      "no permission to read %s; run as root or with CAP_SYS_PTRACE", path);
	if (r < 0)
		return nc_err(err, errlen, -r, "cannot read %s: %s", path, strerror(-r));
	r = parse_owned(text, pid, &m, err, errlen);
	if (r < 0)
		return r;
	if (m->n == 0) { /* exited between open and read, or a zombie */
		nc_maps_free(m);
		return nc_err(err, errlen, ESRCH, "no process with pid %d (it has no memory map)",
			      (int)pid);
	}
	if (local)
		localise(m, pid);
	*out = m;
	return 0;
}

int nc_maps_read(pid_t pid, struct nc_maps **out, char *err, size_t errlen)
{
	return maps_read(pid, true, out, err, errlen);
}

int nc_maps_parse(const char *text, struct nc_maps **out, char *err, size_t errlen)
{
	char *copy = strdup(text);

	if (!copy)
		return nc_err(err, errlen, ENOMEM, "out of memory reading a memory map");
	return parse_owned(copy, 0, out, err, errlen);
}

void nc_maps_free(struct nc_maps *m)
{
	if (!m)
		return;
	for (char **p = m->own; p && *p; p++)
		free(*p);
	g_free(m->own);
	free(m->v);
	free(m->text);
	free(m);
}

const struct nc_maps_entry *nc_maps_find(const struct nc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct nc_maps_entry *e = &m->v[mid];

		if (addr < e->start)
			hi = mid;
		else if (addr >= e->end)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

const struct nc_maps_entry *nc_maps_find_path(const struct nc_maps *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, path))
			return &m->v[i];
	return NULL;
}

const struct nc_maps_entry *nc_maps_find_name(const struct nc_maps *m, const char *prefix)
{
	for (size_t i = 0; i < m->n; i++) {
		const char *base = strrchr(m->v[i].path, '/');

		if (base && !strncmp(base + 1, prefix, strlen(prefix)))
			return &m->v[i];
	}
	return NULL;
}

bool nc_maps_pid_has_name(pid_t pid, const char *prefix)
{
	struct nc_maps *m;
	bool found;

	/* names only: no file is opened or checked (the extcap lists every process this way) */
	if (maps_read(pid, false, &m, NULL, 0))
		return false;
	found = nc_maps_find_name(m, prefix) != NULL;
	nc_maps_free(m);
	return found;
}

char *nc_maps_file_link(pid_t pid, const char *path)
{
	const struct nc_maps_entry *e;
	struct nc_maps *m = NULL;
	char *link = NULL;

	if (path[0] == '/' && strncmp(path, "/proc/", 6) && !nc_maps_read(pid, &m, NULL, 0) &&
	    (e = nc_maps_find_path(m, path)) &&
	    asprintf(&link, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, e->start, e->end) <
		0)
		link = NULL;
	nc_maps_free(m);
	if (link && access(link, F_OK)) { /* not ours to follow */
		free(link);
		link = NULL;
	}
	return link ? link : strdup(path);
}

int nc_maps_to_file(const struct nc_maps *m, uint64_t addr, const char **path, uint64_t *offset,
		    char *err, size_t errlen)
{
	const struct nc_maps_entry *e = nc_maps_find(m, addr);

	if (!e)
		return nc_err(err, errlen, EFAULT,
			      "address 0x%" PRIx64 " is not mapped in process %d", addr,
			      (int)m->pid);
	if (e->path[0] != '/')
		return nc_err(err, errlen, ENOENT,
			      "address 0x%" PRIx64 " of process %d is in %s, not in a file", addr,
			      (int)m->pid, e->path[0] ? e->path : "anonymous memory");
	*path = e->path;
	*offset = addr - e->start + e->offset;
	return 0;
}

int nc_maps_load_base(const struct nc_maps *m, const char *path, const struct nc_elf *e,
		      uint64_t *base, char *err, size_t errlen)
{
	uint64_t vaddr, off;
	size_t i;
	int r;

	r = nc_elf_first_load(e, &vaddr, &off, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < m->n; i++) {
		const struct nc_maps_entry *ent = &m->v[i];

		if (strcmp(ent->path, path) != 0 || off < ent->offset ||
		    off - ent->offset >= ent->end - ent->start)
			continue;
		*base = ent->start + (off - ent->offset) - vaddr;
		return 0;
	}
	return nc_err(err, errlen, ENOENT, "%s is not mapped in process %d", path, (int)m->pid);
}

int nc_maps_elf_files(const struct nc_maps *m, struct nc_maps_file **out, size_t *n, char *err,
		      size_t errlen)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	struct nc_maps_file *files = calloc(m->n ? m->n : 1, sizeof(*files));
	size_t i, nf = 0;

	if (!files) {
		g_hash_table_destroy(seen);
		return nc_err(err, errlen, ENOMEM, "out of memory listing mapped files");
	}
	for (i = 0; i < m->n; i++) {
		const char *path = m->v[i].path;
		struct nc_elf *e;
		uint64_t base;

		if (path[0] != '/' || !g_hash_table_add(seen, (gpointer)path))
			continue;
		if (nc_elf_open(path, &e, NULL, 0) < 0)
			continue;
		if (nc_maps_load_base(m, path, e, &base, NULL, 0) == 0)
			files[nf++] = (struct nc_maps_file){.path = path, .base = base};
		nc_elf_close(e);
	}
	g_hash_table_destroy(seen);
	*out = files;
	*n = nf;
	return 0;
}
