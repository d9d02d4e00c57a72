/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcap.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "output.h"

#define DEFAULT_SNAPLEN 262144 /* libpcap's MAXIMUM_SNAPLEN */

struct nc_pcap {
	pcap_t *dead; /* gives the dumper its link type, snap length and precision */
	pcap_dumper_t *d;
	struct nc_output out; /* out.f is the dumper's stream */
	uint32_t snaplen;
	int error;     /* first failed write (positive errno); sticky */
	bool cut;      /* after it, the file was cut back to whole records */
	uint64_t kept; /* the packets it holds then */
};

static void free_writer(struct nc_pcap *w)
{
	if (w->dead)
		pcap_close(w->dead);
	nc_output_release(&w->out);
	free(w);
}

/* The first write error, as in the pcapng writer: a regular file is cut back to whole records */
static int fail_write(struct nc_pcap *w, int errnum, char *err, size_t errlen)
{
	if (!w->error) {
		w->error = errnum ? errnum : EIO;
		w->cut = nc_output_cut(&w->out, &w->kept) == 0;
	}
	if (w->cut)
		return nc_err(err, errlen, w->error,
			      "cannot write pcap to %s: %s; it holds the first %llu packets, whole",
			      w->out.what, strerror(w->error), (unsigned long long)w->kept);
	return nc_err(err, errlen, w->error, "cannot write pcap to %s: %s", w->out.what,
		      strerror(w->error));
}

static int check_usable(const struct nc_pcap *w, char *err, size_t errlen)
{
	if (!w)
		return nc_err(err, errlen, EINVAL, "pcap writer is NULL");
	if (w->error)
		return nc_err(err, errlen, w->error,
			      "cannot write pcap to %s: %s (an earlier write failed)", w->out.what,
			      strerror(w->error));
	return 0;
}

/* The link type and snap length a classic pcap file can carry here, or -EINVAL. */
static int check_format(const char *what, int linktype, uint32_t *snaplen, char *err, size_t errlen)
{
	if (linktype != DLT_EN10MB && linktype != DLT_RAW)
		return nc_err(err, errlen, EINVAL,
			      "pcap output %s: link type %d; netcap writes DLT_EN10MB (%d) or "
			      "DLT_RAW (%d)",
			      what, linktype, DLT_EN10MB, DLT_RAW);
	if (*snaplen == 0)
		*snaplen = DEFAULT_SNAPLEN;
	if (*snaplen > INT_MAX)
		return nc_err(err, errlen, EINVAL, "pcap output %s: snap length %u is too large",
			      what, *snaplen);
	return 0;
}

/* Takes over o (its stream is closed on failure) and writes the file header. */
static int start(struct nc_output *o, int linktype, uint32_t snaplen, struct nc_pcap **out,
		 char *err, size_t errlen)
{
	struct nc_pcap *w;
	int ret;

	if ((ret = check_format(o->what, linktype, &snaplen, err, errlen)))
		goto fail;
	w = calloc(1, sizeof(*w));
	if (!w) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	w->out = *o;
	w->snaplen = snaplen;
	w->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		fclose(w->out.f);
		free_writer(w);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	w->d = pcap_dump_fopen(w->dead, w->out.f);
	if (!w->d) {
		/*
		 * The 24-byte header goes into the empty stdio buffer, so writing it cannot fail
		 * (libpcap would have closed f then); a refusal before it leaves f open.
		 */
		ret = nc_err(err, errlen, EINVAL, "cannot write pcap to %s: %s", w->out.what,
			     pcap_geterr(w->dead));
		fclose(w->out.f);
		free_writer(w);
		return ret;
	}
	nc_output_block(&w->out, 24, 0); /* the file header */
	*out = w;
	return 0;
fail:
	fclose(o->f);
	nc_output_release(o);
	return ret;
}

int nc_pcap_open(const char *path, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		 size_t errlen)
{
	struct nc_output o;
	int ret;

	if (!out)
		return nc_err(err, errlen, EINVAL, "pcap output: nowhere to return the writer");
	/* refuse a bad format before creating (and truncating) the file */
	if ((ret = check_format(path && strcmp(path, "-") ? path : "standard output", linktype,
				&snaplen, err, errlen)))
		return ret;
	ret = nc_output_open(path, "pcap", &o, err, errlen);
	return ret ? ret : start(&o, linktype, snaplen, out, err, errlen);
}

int nc_pcap_fdopen(int fd, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		   size_t errlen)
{
	struct nc_output o;
	int ret = nc_output_fdopen(out ? fd : -1, "pcap", &o, err, errlen);

	if (!out && fd >= 0)
		close(fd);
	return ret ? ret : start(&o, linktype, snaplen, out, err, errlen);
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
	if (ferror(w->out.f))
		return fail_write(w, errno, err, errlen);
	nc_output_block(&w->out, 16 + (uint64_t)caplen, 1); /* record header and bytes */
	return 0;
}

int nc_pcap_records(struct nc_pcap *w, const void *buf, size_t len, uint64_t packets, char *err,
		    size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (!len)
		return 0;
	ret = nc_output_write_block(&w->out, buf, len, packets);
	if (ret)
		return fail_write(w, -ret, err, errlen);
	return 0;
}

int nc_pcap_flush(struct nc_pcap *w, char *err, size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	errno = 0;
	if (pcap_dump_flush(w->d) != 0 || ferror(w->out.f))
		return fail_write(w, errno, err, errlen);
	nc_output_synced(&w->out);
	return 0;
}

int nc_pcap_close(struct nc_pcap *w, char *err, size_t errlen)
{
	int ret = 0;

	if (!w)
		return 0;
	errno = 0;
	if (!w->error && (pcap_dump_flush(w->d) != 0 || ferror(w->out.f)))
		fail_write(w, errno, NULL, 0);
	pcap_dump_close(w->d); /* fclose(); returns nothing */
	if (w->error)
		ret = fail_write(w, w->error, err, errlen);
	free_writer(w);
	return ret;
}
