/* SPDX-License-Identifier: BSD-2-Clause */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/err.h"

#define BUFSIZE (1u << 20) /* stdio buffer */

void nc_output_release(struct nc_output *o)
{
	free(o->what);
	free(o->buf);
	free(o->marks);
	o->what = o->buf = NULL;
	o->marks = NULL;
	o->n_marks = o->cap_marks = 0;
	o->f = NULL;
}

void nc_output_block(struct nc_output *o, uint64_t bytes, uint64_t units)
{
	o->pos += bytes;
	o->units += units;
	if (!o->regular)
		return;
	if (o->n_marks == o->cap_marks) {
		size_t cap = o->cap_marks ? 2 * o->cap_marks : 1024;
		struct nc_output_mark *m = realloc(o->marks, cap * sizeof(*m));

		if (!m) { /* without room, the last mark known to be in the file stays the cut */
			o->regular = false;
			return;
		}
		o->marks = m;
		o->cap_marks = cap;
	}
	o->marks[o->n_marks++] = (struct nc_output_mark){o->pos, o->units};
}

void nc_output_synced(struct nc_output *o)
{
	o->synced = (struct nc_output_mark){o->pos, o->units};
	o->n_marks = 0;
}

int nc_output_cut(struct nc_output *o, uint64_t *units)
{
	struct nc_output_mark cut = o->synced;
	struct stat st;
	int fd = fileno(o->f);

	if (!o->regular)
		return -ENOTSUP;
	if (fstat(fd, &st))
		return -errno;
	for (size_t i = 0; i < o->n_marks && o->marks[i].end <= (uint64_t)st.st_size; i++)
		cut = o->marks[i];
	__fpurge(o->f); /* what is still buffered would land after the cut */
	if (ftruncate(fd, (off_t)cut.end))
		return -errno;
	o->regular = false; /* cut once */
	*units = cut.units;
	return 0;
}

/* Takes fd (closes it on failure). */
static int wrap_fd(int fd, const char *what, struct nc_output *o, char *err, size_t errlen)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->what = strdup(what);
	o->buf = malloc(BUFSIZE);
	if (!o->what || !o->buf) {
		close(fd);
		nc_output_release(o);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		int ret =
		    nc_err(err, errlen, errno, "cannot write to %s: %s", what, strerror(errno));

		close(fd);
		nc_output_release(o);
		return ret;
	}
	if (setvbuf(o->f, o->buf, _IOFBF, BUFSIZE) != 0) {
		fclose(o->f);
		nc_output_release(o);
		return nc_err(err, errlen, ENOMEM, "cannot buffer the output to %s", what);
	}
	/* standard output may be a file opened elsewhere: block ends are file offsets */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t at = lseek(fd, 0, SEEK_CUR);

		o->regular = at >= 0;
		o->pos = at >= 0 ? (uint64_t)at : 0;
		o->synced.end = o->pos;
	}
	return 0;
}

int nc_output_open(const char *path, const char *kind, struct nc_output *o, char *err,
		   size_t errlen)
{
	int fd;

	if (!path || !*path || !o)
		return nc_err(err, errlen, EINVAL, "%s output: no path given", kind);
	if (strcmp(path, "-") == 0) {
		/* our own descriptor: closing the stream leaves fd 1 and stdout alone */
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return nc_err(err, errlen, errno, "cannot duplicate standard output: %s",
				      strerror(errno));
		return wrap_fd(fd, "standard output", o, err, errlen);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot create %s: %s", path, strerror(errno));
	return wrap_fd(fd, path, o, err, errlen);
}

int nc_output_fdopen(int fd, const char *kind, struct nc_output *o, char *err, size_t errlen)
{
	char what[40];

	if (fd < 0 || !o) {
		if (fd >= 0)
			close(fd);
		return nc_err(err, errlen, EBADF, "%s output: bad file descriptor %d", kind, fd);
	}
	snprintf(what, sizeof(what), "file descriptor %d", fd);
	return wrap_fd(fd, what, o, err, errlen);
}

int nc_output_write_block(struct nc_output *o, const void *buf, size_t len, uint64_t units)
{
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		return -(errno ? errno : EIO);
	nc_output_synced(o);
	for (size_t done = 0; done < len;) {
		ssize_t k = write(fileno(o->f), (const uint8_t *)buf + done, len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -(k < 0 ? errno : EIO);
		done += (size_t)k;
	}
	nc_output_block(o, len, units);
	nc_output_synced(o);
	return 0;
}
