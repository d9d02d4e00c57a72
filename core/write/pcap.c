/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"

#define BUFSIZE		(1u << 20) /* stdio buffer */
#define DEFAULT_SNAPLEN 262144	   /* libpcap's MAXIMUM_SNAPLEN */

struct nc_pcap {
	pcap_t *dead; /* gives the dumper its link type, snap length and precision */
	pcap_dumper_t *d;
	FILE *f;    /* the dumper's stream */
	char *buf;  /* f's stdio buffer, freed after the dumper is closed */
	char *what; /* the output, for messages */
	uint32_t snaplen;
	int error; /* first failed write (positive errno); sticky */
};

static void free_writer(struct nc_pcap *w)
{
	if (w->dead)
		pcap_close(w->dead);
	free(w->what);
	free(w->buf);
	free(w);
}

static int fail_write(struct nc_pcap *w, int errnum, char *err, size_t errlen)
{
	if (!w->error)
		w->error = errnum ? errnum : EIO;
	return nc_err(err, errlen, w->error, "cannot write pcap to %s: %s", w->what,
		      strerror(w->error));
}

static int check_usable(const struct nc_pcap *w, char *err, size_t errlen)
{
	if (!w)
		return nc_err(err, errlen, EINVAL, "pcap writer is NULL");
	if (w->error)
		return nc_err(err, errlen, w->error,
			      "cannot write pcap to %s: %s (an earlier write failed)", w->what,
			      strerror(w->error));
	return 0;
}

/* Takes fd (closes it on failure). what names the output in messages. */
static int open_fd(int fd, const char *what, int linktype, uint32_t snaplen, struct nc_pcap **out,
		   char *err, size_t errlen)
{
	struct nc_pcap *w;
	int ret;

	if (linktype != DLT_EN10MB && linktype != DLT_RAW) {
		close(fd);
		return nc_err(err, errlen, EINVAL,
			      "pcap output %s: link type %d; netcap writes DLT_EN10MB (%d) or "
			      "DLT_RAW (%d)",
			      what, linktype, DLT_EN10MB, DLT_RAW);
	}
	if (snaplen == 0)
		snaplen = DEFAULT_SNAPLEN;
	if (snaplen > INT_MAX) {
		close(fd);
		return nc_err(err, errlen, EINVAL, "pcap output %s: snap length %u is too large",
			      what, snaplen);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	w->snaplen = snaplen;
	w->what = strdup(what);
	w->buf = malloc(BUFSIZE);
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!w->what || !w->buf || !w->dead) {
		close(fd);
		free_writer(w);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	w->f = fdopen(fd, "wb");
	if (!w->f) {
		ret = nc_err(err, errlen, errno, "cannot write pcap to %s: %s", what,
			     strerror(errno));
		close(fd);
		free_writer(w);
		return ret;
	}
	if (setvbuf(w->f, w->buf, _IOFBF, BUFSIZE) != 0) {
		fclose(w->f);
		free_writer(w);
		return nc_err(err, errlen, ENOMEM, "cannot buffer the output to %s", what);
	}
	w->d = pcap_dump_fopen(w->dead, w->f);
	if (!w->d) {
		/*
		 * The 24-byte header goes into the empty stdio buffer, so writing it cannot fail
		 * (libpcap would have closed f then); a refusal before it leaves f open.
		 */
		ret = nc_err(err, errlen, EINVAL, "cannot write pcap to %s: %s", what,
			     pcap_geterr(w->dead));
		fclose(w->f);
		free_writer(w);
		return ret;
	}
	*out = w;
	return 0;
}

int nc_pcap_open(const char *path, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		 size_t errlen)
{
	int fd;

	if (!path || !*path || !out)
		return nc_err(err, errlen, EINVAL, "pcap output: no path given");
	if (strcmp(path, "-") == 0) {
		/* our own descriptor: pcap_dump_close() then leaves fd 1 and stdout alone */
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return nc_err(err, errlen, errno, "cannot duplicate standard output: %s",
				      strerror(errno));
		return open_fd(fd, "standard output", linktype, snaplen, out, err, errlen);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot create %s: %s", path, strerror(errno));
	return open_fd(fd, path, linktype, snaplen, out, err, errlen);
}

int nc_pcap_fdopen(int fd, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		   size_t errlen)
{
	char what[40];

	if (fd < 0 || !out) {
		if (fd >= 0)
			close(fd);
		return nc_err(err, errlen, EBADF, "pcap output: bad file descriptor %d", fd);
	}
	snprintf(what, sizeof(what), "file descriptor %d", fd);
	return open_fd(fd, what, linktype, snaplen, out, err, errlen);
}

int nc_pcap_packet(struct nc_pcap *w, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
		   const void *data, char *err, size_t errlen)
{
	struct pcap_pkthdr h;
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (caplen > wirelen || caplen > w->snaplen)
		return nc_err(err, errlen, EINVAL,
			      "pcap packet: %u bytes captured of %u on the wire, snap length %u",
			      caplen, wirelen, w->snaplen);
	if (caplen && !data)
		return nc_err(err, errlen, EINVAL, "pcap packet: %u bytes but no data", caplen);

	/* a nanosecond handle's dumper writes tv_usec as the fraction: it carries ns here */
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u);
	h.caplen = caplen;
	h.len = wirelen;
	errno = 0;
	pcap_dump((u_char *)w->d, &h, data);
	if (ferror(w->f))
		return fail_write(w, errno, err, errlen);
	return 0;
}

int nc_pcap_flush(struct nc_pcap *w, char *err, size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	errno = 0;
	if (pcap_dump_flush(w->d) != 0 || ferror(w->f))
		return fail_write(w, errno, err, errlen);
	return 0;
}

int nc_pcap_close(struct nc_pcap *w, char *err, size_t errlen)
{
	int ret = 0;

	if (!w)
		return 0;
	errno = 0;
	if (!w->error && (pcap_dump_flush(w->d) != 0 || ferror(w->f)))
		fail_write(w, errno, NULL, 0);
	pcap_dump_close(w->d); /* fclose(); returns nothing */
	if (w->error)
		ret = nc_err(err, errlen, w->error, "cannot write pcap to %s: %s", w->what,
			     strerror(w->error));
	free_writer(w);
	return ret;
}
