/* SPDX-License-Identifier: BSD-2-Clause */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"

#define BUFSIZE (1u << 20) /* stdio buffer */

void nc_output_release(struct nc_output *o)
{
	free(o->what);
	free(o->buf);
	o->what = o->buf = NULL;
	o->f = NULL;
}

/* Takes fd (closes it on failure). */
static int wrap_fd(int fd, const char *what, struct nc_output *o, char *err, size_t errlen)
{
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
