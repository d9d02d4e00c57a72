/* SPDX-License-Identifier: BSD-2-Clause */
#include "pcapng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../util/err.h"
#include "output.h"
#include "version.h"

/* Block types */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_ISB 0x00000005u
#define BT_EPB 0x00000006u

/* Option codes, per block */
#define OPT_ENDOFOPT	  0
#define OPT_COMMENT	  1
#define SHB_HARDWARE	  2
#define SHB_OS		  3
#define SHB_USERAPPL	  4
#define IF_NAME		  2
#define IF_DESCRIPTION	  3
#define IF_TSRESOL	  9
#define IF_FILTER	  11
#define IF_OS		  12
#define EPB_FLAGS	  2
#define EPB_DROPCOUNT	  4
#define EPB_PACKETID	  5
#define EPB_QUEUE	  6
#define ISB_STARTTIME	  2
#define ISB_ENDTIME	  3
#define ISB_IFRECV	  4
#define ISB_IFDROP	  5
#define ISB_FILTERACCEPT  6
#define ISB_OSDROP	  7
#define ISB_USRDELIV	  8
#define IF_FILTER_LIBPCAP 0 /* if_filter type byte: a libpcap filter string follows */
#define TSRESOL_NS	  9 /* if_tsresol: 10^-9 s */

#define MAX_OPTS 8 /* the most any block below carries is 8 (ISB) */

struct shb_body {
	uint32_t byte_order_magic;
	uint16_t major;
	uint16_t minor;
	int64_t section_length;
};
_Static_assert(sizeof(struct shb_body) == 16, "SHB body is 16 bytes");

struct idb_body {
	uint16_t linktype;
	uint16_t reserved;
	uint32_t snaplen;
};
_Static_assert(sizeof(struct idb_body) == 8, "IDB body is 8 bytes");

struct epb_body {
	uint32_t iface_id;
	uint32_t ts_high;
	uint32_t ts_low;
	uint32_t caplen;
	uint32_t wirelen;
};
_Static_assert(sizeof(struct epb_body) == 20, "EPB body is 20 bytes");

struct isb_body {
	uint32_t iface_id;
	uint32_t ts_high;
	uint32_t ts_low;
};
_Static_assert(sizeof(struct isb_body) == 12, "ISB body is 12 bytes");

/* A block's options: measured and written by write_block() from this one list. */
struct opt_list {
	struct {
		uint16_t code;
		uint16_t len; /* unpadded */
		const void *val;
	} o[MAX_OPTS];
	unsigned n;
};

/* A declared interface: its IDB goes out before its first packet, or at the end */
struct iface_state {
	uint16_t linktype;
	uint32_t snaplen;
	char *name, *description, *os; /* copies; NULL = left out (os: the SHB's) */
	uint8_t *filter;	       /* if_filter's value (type byte, string); NULL = none */
	size_t filter_len;
	bool written;	    /* its IDB is in the file */
	uint32_t file_id;   /* then: its interface id in the file */
	uint64_t delivered; /* EPBs written: the ISB's isb_usrdeliv */
};

struct nc_pcapng {
	struct nc_output out;
	char *os;		    /* shb_os as written; the default if_os; NULL if none */
	struct iface_state *ifaces; /* declared, in call order */
	uint32_t n_ifaces;
	uint32_t *order; /* the declared index of each IDB written, in file id order */
	uint32_t n_written;
	bool finished;	   /* the ISBs are out: no more packets */
	int error;	   /* first failed write (positive errno); sticky */
	bool cut;	   /* after it, the file was cut back to whole blocks */
	uint64_t kept;	   /* the packets it holds then */
	uint8_t blk[4096]; /* a block being assembled (write_block) */
};

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

/* Adds an option; -EINVAL (nothing added) when len does not fit the 16-bit length field. */
static int opt_add(struct opt_list *l, uint16_t code, const char *name, const void *val, size_t len,
		   char *err, size_t errlen)
{
	if (len > NC_PCAPNG_OPT_MAX)
		return nc_err(err, errlen, EINVAL,
			      "pcapng option %s is %zu bytes long; an option holds at most %u",
			      name, len, NC_PCAPNG_OPT_MAX);
	if (l->n == MAX_OPTS)
		return nc_err(err, errlen, EINVAL, "pcapng writer: more than %d options in a block",
			      MAX_OPTS);
	l->o[l->n].code = code;
	l->o[l->n].len = (uint16_t)len;
	l->o[l->n].val = val;
	l->n++;
	return 0;
}

/* Adds a UTF-8 string option unless s is NULL or "". */
static int opt_str(struct opt_list *l, uint16_t code, const char *name, const char *s, char *err,
		   size_t errlen)
{
	if (!s || !*s)
		return 0;
	return opt_add(l, code, name, s, strlen(s), err, errlen);
}

/*
 * Records the first write error and cuts a regular file back to its last whole block (a full
 * disk leaves a file every reader takes); returns the error as a negative errno with a message.
 */
static int fail_write(struct nc_pcapng *w, int errnum, char *err, size_t errlen)
{
	if (!w->error) {
		w->error = errnum ? errnum : EIO;
		w->cut = nc_output_cut(&w->out, &w->kept) == 0;
	}
	if (w->cut)
		return nc_err(err, errlen, w->error,
			      "cannot write pcapng to %s: %s; it holds the first %llu packets, "
			      "whole",
			      w->out.what, strerror(w->error), (unsigned long long)w->kept);
	return nc_err(err, errlen, w->error, "cannot write pcapng to %s: %s", w->out.what,
		      strerror(w->error));
}

static bool put(struct nc_pcapng *w, const void *p, size_t n)
{
	return n == 0 || fwrite(p, 1, n, w->out.f) == n;
}

/*
 * Writes one block: header, body (fixed fields), data (padded to 4), the options of l and the
 * trailing length. The length is summed here from the same pieces that are written, so the two
 * cannot disagree. -EINVAL (nothing written) for a block longer than 2^32 - 1 bytes; a failed
 * write is recorded in w->error.
 */
static int write_block(struct nc_pcapng *w, uint32_t type, const void *body, size_t body_len,
		       const void *data, size_t data_len, const struct opt_list *l, char *err,
		       size_t errlen)
{
	static const uint8_t zeros[4];
	static const uint16_t end_of_opt[2] = {OPT_ENDOFOPT, 0};
	uint32_t head[2];
	uint32_t total32;
	size_t total;
	bool ok;

	total = 2 * sizeof(uint32_t) + body_len + data_len + pad4(data_len) + sizeof(uint32_t);
	for (unsigned i = 0; i < l->n; i++)
		total += 2 * sizeof(uint16_t) + l->o[i].len + pad4(l->o[i].len);
	if (l->n)
		total += sizeof(end_of_opt);
	if (total > UINT32_MAX)
		return nc_err(err, errlen, EINVAL, "pcapng block of %zu bytes is too long", total);
	total32 = (uint32_t)total;

	errno = 0;
	head[0] = type;
	head[1] = total32;
	if (total <= sizeof(w->blk)) {
		/* assembled, then one write: a write per field cost a capture's reader most of
		 * its time (each takes the stream's lock) */
		size_t at = 0;

#define ADD(p, n) (memcpy(w->blk + at, (p), (n)), at += (n))
		ADD(head, sizeof(head));
		ADD(body, body_len);
		if (data_len)
			ADD(data, data_len);
		ADD(zeros, pad4(data_len));
		for (unsigned i = 0; i < l->n; i++) {
			uint16_t oh[2] = {l->o[i].code, l->o[i].len};

			ADD(oh, sizeof(oh));
			ADD(l->o[i].val, l->o[i].len);
			ADD(zeros, pad4(l->o[i].len));
		}
		if (l->n)
			ADD(end_of_opt, sizeof(end_of_opt));
		ADD(&total32, sizeof(total32));
#undef ADD
		ok = put(w, w->blk, at);
	} else {
		ok = put(w, head, sizeof(head)) && put(w, body, body_len) &&
		     put(w, data, data_len) && put(w, zeros, pad4(data_len));
		for (unsigned i = 0; ok && i < l->n; i++) {
			uint16_t oh[2] = {l->o[i].code, l->o[i].len};

			ok = put(w, oh, sizeof(oh)) && put(w, l->o[i].val, l->o[i].len) &&
			     put(w, zeros, pad4(l->o[i].len));
		}
		if (ok && l->n)
			ok = put(w, end_of_opt, sizeof(end_of_opt));
		ok = ok && put(w, &total32, sizeof(total32));
	}
	if (!ok)
		return fail_write(w, errno, err, errlen);
	nc_output_block(&w->out, total, type == BT_EPB);
	return 0;
}

/* Fails with the sticky error of an earlier write, if any. */
static int check_usable(const struct nc_pcapng *w, char *err, size_t errlen)
{
	if (!w)
		return nc_err(err, errlen, EINVAL, "pcapng writer is NULL");
	if (w->error)
		return nc_err(err, errlen, w->error,
			      "cannot write pcapng to %s: %s (an earlier write failed)",
			      w->out.what, strerror(w->error));
	return 0;
}

static int write_shb(struct nc_pcapng *w, const struct nc_pcapng_section *shb, char *err,
		     size_t errlen)
{
	static const struct nc_pcapng_section none;
	const struct shb_body body = {
	    .byte_order_magic = 0x1A2B3C4D,
	    .major = 1,
	    .minor = 0,
	    .section_length = -1, /* unknown: we do not seek back */
	};
	struct opt_list l = {.n = 0};
	int ret;

	if (!shb)
		shb = &none;
	if ((ret = opt_str(&l, OPT_COMMENT, "opt_comment", shb->comment, err, errlen)) ||
	    (ret = opt_str(&l, SHB_HARDWARE, "shb_hardware", shb->hardware, err, errlen)) ||
	    (ret = opt_str(&l, SHB_OS, "shb_os", w->os, err, errlen)) ||
	    (ret = opt_str(&l, SHB_USERAPPL, "shb_userappl",
			   shb->userappl ? shb->userappl : "netcap " NETCAP_VERSION, err, errlen)))
		return ret;
	return write_block(w, BT_SHB, &body, sizeof(body), NULL, 0, &l, err, errlen);
}

static void free_writer(struct nc_pcapng *w)
{
	for (uint32_t i = 0; i < w->n_ifaces; i++) {
		free(w->ifaces[i].name);
		free(w->ifaces[i].description);
		free(w->ifaces[i].os);
		free(w->ifaces[i].filter);
	}
	free(w->ifaces);
	free(w->order);
	free(w->os);
	nc_output_release(&w->out);
	free(w);
}

/* Takes over o (its stream is closed on failure) and writes the SHB. */
static int start(struct nc_output *o, const struct nc_pcapng_section *shb, struct nc_pcapng **out,
		 char *err, size_t errlen)
{
	struct nc_pcapng *w;
	struct utsname u;
	const char *os;
	int ret;

	w = calloc(1, sizeof(*w));
	if (!w) {
		fclose(o->f);
		nc_output_release(o);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	w->out = *o;
	os = shb && shb->os ? shb->os : uname(&u) == 0 ? u.release : NULL;
	w->os = os ? strdup(os) : NULL;
	ret = os && !w->os ? nc_err(err, errlen, ENOMEM, "out of memory")
			   : write_shb(w, shb, err, errlen);
	if (ret) {
		fclose(w->out.f);
		free_writer(w);
		return ret;
	}
	*out = w;
	return 0;
}

int nc_pcapng_open(const char *path, const struct nc_pcapng_section *shb, struct nc_pcapng **out,
		   char *err, size_t errlen)
{
	struct nc_output o;
	int ret = out ? nc_output_open(path, "pcapng", &o, err, errlen)
		      : nc_err(err, errlen, EINVAL, "pcapng output: nowhere to return the writer");

	return ret ? ret : start(&o, shb, out, err, errlen);
}

int nc_pcapng_fdopen(int fd, const struct nc_pcapng_section *shb, struct nc_pcapng **out, char *err,
		     size_t errlen)
{
	struct nc_output o;
	int ret = nc_output_fdopen(out ? fd : -1, "pcapng", &o, err, errlen);

	if (!out && fd >= 0)
		close(fd);
	return ret ? ret : start(&o, shb, out, err, errlen);
}

/* The options of an IDB; -EINVAL for one too long (checked when the interface is declared) */
static int idb_options(const struct nc_pcapng *w, const struct iface_state *st, struct opt_list *l,
		       char *err, size_t errlen)
{
	static const uint8_t tsresol = TSRESOL_NS;
	int ret = 0;

	if (st->filter)
		ret = opt_add(l, IF_FILTER, "if_filter (type byte and filter string)", st->filter,
			      st->filter_len, err, errlen);
	if (ret || (ret = opt_str(l, IF_NAME, "if_name", st->name, err, errlen)) ||
	    (ret = opt_str(l, IF_DESCRIPTION, "if_description", st->description, err, errlen)) ||
	    (ret = opt_add(l, IF_TSRESOL, "if_tsresol", &tsresol, 1, err, errlen)) ||
	    (ret = opt_str(l, IF_OS, "if_os", st->os ? st->os : w->os, err, errlen)))
		return ret;
	return 0;
}

/* Writes the IDB of declared interface i, which gets the next interface id of the file */
static int write_idb(struct nc_pcapng *w, uint32_t i, char *err, size_t errlen)
{
	struct iface_state *st = &w->ifaces[i];
	struct opt_list l = {.n = 0};
	struct idb_body body = {.linktype = st->linktype, .reserved = 0, .snaplen = st->snaplen};
	int ret = idb_options(w, st, &l, err, errlen);

	if (!ret)
		ret = write_block(w, BT_IDB, &body, sizeof(body), NULL, 0, &l, err, errlen);
	if (ret)
		return ret;
	st->written = true;
	st->file_id = w->n_written;
	w->order[w->n_written++] = i;
	return 0;
}

static char *dup_opt(const char *s, bool *failed)
{
	char *d;

	if (!s || !*s)
		return NULL;
	d = strdup(s);
	*failed |= !d;
	return d;
}

int nc_pcapng_add_interface(struct nc_pcapng *w, const struct nc_pcapng_iface *iface, uint32_t *id,
			    char *err, size_t errlen)
{
	struct iface_state st = {0};
	struct opt_list l = {.n = 0};
	struct iface_state *grown;
	uint32_t *order;
	bool nomem = false;
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (!iface)
		return nc_err(err, errlen, EINVAL, "pcapng interface: no description given");
	if (iface->linktype != NC_LINKTYPE_ETHERNET && iface->linktype != NC_LINKTYPE_RAW)
		return nc_err(err, errlen, EINVAL,
			      "pcapng interface \"%s\": link type %u; netcap writes %d (Ethernet) "
			      "or %d (raw IP; not the platform's DLT_RAW)",
			      iface->name ? iface->name : "", iface->linktype, NC_LINKTYPE_ETHERNET,
			      NC_LINKTYPE_RAW);
	if (w->n_ifaces == UINT32_MAX)
		return nc_err(err, errlen, EINVAL, "pcapng: too many interfaces");

	st.linktype = iface->linktype;
	st.snaplen = iface->snaplen;
	st.name = dup_opt(iface->name, &nomem);
	st.description = dup_opt(iface->description, &nomem);
	st.os = dup_opt(iface->os, &nomem);
	if (iface->filter && *iface->filter) {
		st.filter_len = strlen(iface->filter) + 1;
		st.filter = malloc(st.filter_len);
		if (st.filter) {
			st.filter[0] = IF_FILTER_LIBPCAP;
			memcpy(st.filter + 1, iface->filter, st.filter_len - 1);
		}
		nomem |= !st.filter;
	}
	if (nomem) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	/* every option is checked now: writing the IDB later cannot fail on one */
	if ((ret = idb_options(w, &st, &l, err, errlen)))
		goto fail;
	/* room for the interface and its place in the file's order, so that writing its IDB
	 * needs no memory */
	order = realloc(w->order, (w->n_ifaces + 1) * sizeof(*w->order));
	if (order)
		w->order = order;
	grown = order ? realloc(w->ifaces, (w->n_ifaces + 1) * sizeof(*w->ifaces)) : NULL;
	if (!grown) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	w->ifaces = grown;
	w->ifaces[w->n_ifaces] = st;
	if (id)
		*id = w->n_ifaces;
	w->n_ifaces++;
	return 0;
fail:
	free(st.name);
	free(st.description);
	free(st.os);
	free(st.filter);
	return ret;
}

int nc_pcapng_packet(struct nc_pcapng *w, const struct nc_pcapng_packet *pkt, char *err,
		     size_t errlen)
{
	struct opt_list l = {.n = 0};
	struct epb_body body;
	uint32_t flags;
	uint32_t snaplen;
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (!pkt)
		return nc_err(err, errlen, EINVAL, "pcapng packet: none given");
	if (w->finished)
		return nc_err(err, errlen, EINVAL,
			      "pcapng packet after the statistics of %s were written", w->out.what);
	if (pkt->iface_id >= w->n_ifaces)
		return nc_err(err, errlen, EINVAL,
			      "pcapng packet for interface %u, but %s has %u interface(s)",
			      pkt->iface_id, w->out.what, w->n_ifaces);
	snaplen = w->ifaces[pkt->iface_id].snaplen;
	if (pkt->caplen > pkt->wirelen || (snaplen && pkt->caplen > snaplen))
		return nc_err(err, errlen, EINVAL,
			      "pcapng packet: %u bytes captured of %u on the wire, snap length %u",
			      pkt->caplen, pkt->wirelen, snaplen);
	if (pkt->caplen && !pkt->data)
		return nc_err(err, errlen, EINVAL, "pcapng packet: %u bytes but no data",
			      pkt->caplen);
	switch (pkt->direction) {
	case NC_PCAPNG_DIR_NONE: break;
	case NC_PCAPNG_DIR_INBOUND:
	case NC_PCAPNG_DIR_OUTBOUND:
		flags = (uint32_t)pkt->direction; /* bits 0-1 */
		ret = opt_add(&l, EPB_FLAGS, "epb_flags", &flags, sizeof(flags), err, errlen);
		break;
	default:
		return nc_err(err, errlen, EINVAL, "pcapng packet: direction %d is not 0, 1 or 2",
			      (int)pkt->direction);
	}
	if (ret ||
	    (pkt->has_queue && (ret = opt_add(&l, EPB_QUEUE, "epb_queue", &pkt->queue,
					      sizeof(pkt->queue), err, errlen))) ||
	    (pkt->has_packetid && (ret = opt_add(&l, EPB_PACKETID, "epb_packetid", &pkt->packetid,
						 sizeof(pkt->packetid), err, errlen))) ||
	    (pkt->has_dropcount &&
	     (ret = opt_add(&l, EPB_DROPCOUNT, "epb_dropcount", &pkt->dropcount,
			    sizeof(pkt->dropcount), err, errlen))) ||
	    (ret = opt_str(&l, OPT_COMMENT, "opt_comment", pkt->comment, err, errlen)))
		return ret;

	/* the interface's IDB just before its first packet, once every check has passed */
	if (!w->ifaces[pkt->iface_id].written && (ret = write_idb(w, pkt->iface_id, err, errlen)))
		return ret;
	body.iface_id = w->ifaces[pkt->iface_id].file_id;
	body.ts_high = (uint32_t)(pkt->ts_ns >> 32);
	body.ts_low = (uint32_t)pkt->ts_ns;
	body.caplen = pkt->caplen;
	body.wirelen = pkt->wirelen;
	ret = write_block(w, BT_EPB, &body, sizeof(body), pkt->data, pkt->caplen, &l, err, errlen);
	if (ret)
		return ret;
	w->ifaces[pkt->iface_id].delivered++;
	return 0;
}

int nc_pcapng_file_id(struct nc_pcapng *w, uint32_t iface_id, uint32_t *file_id, char *err,
		      size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (w->finished)
		return nc_err(err, errlen, EINVAL,
			      "pcapng packet after the statistics of %s were written", w->out.what);
	if (iface_id >= w->n_ifaces)
		return nc_err(err, errlen, EINVAL,
			      "pcapng packet for interface %u, but %s has %u interface(s)",
			      iface_id, w->out.what, w->n_ifaces);
	if (!w->ifaces[iface_id].written && (ret = write_idb(w, iface_id, err, errlen)))
		return ret;
	*file_id = w->ifaces[iface_id].file_id;
	return 0;
}

int nc_pcapng_epbs(struct nc_pcapng *w, const void *buf, size_t len, uint64_t packets,
		   const uint64_t *delivered, uint32_t n_delivered, char *err, size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	if (w->finished)
		return nc_err(err, errlen, EINVAL,
			      "pcapng packets after the statistics of %s were written",
			      w->out.what);
	if (!len)
		return 0;
	ret = nc_output_write_block(&w->out, buf, len, packets);
	if (ret)
		return fail_write(w, -ret, err, errlen);
	for (uint32_t i = 0; i < n_delivered && i < w->n_ifaces; i++)
		w->ifaces[i].delivered += delivered[i];
	return 0;
}

int nc_pcapng_flush(struct nc_pcapng *w, char *err, size_t errlen)
{
	int ret;

	if ((ret = check_usable(w, err, errlen)))
		return ret;
	errno = 0;
	if (fflush(w->out.f) == EOF)
		return fail_write(w, errno, err, errlen);
	nc_output_synced(&w->out);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes the ISB of declared interface i, whose IDB is written; s may be NULL (no counters
 * known). */
static int write_isb(struct nc_pcapng *w, uint32_t i, const struct nc_pcapng_stats *s,
		     uint64_t close_ns, char *err, size_t errlen)
{
	struct opt_list l = {.n = 0};
	uint32_t start[2], end[2];
	struct isb_body body;
	uint64_t ts;
	int ret = 0;

	ts = s && s->end_ns ? s->end_ns : close_ns;
	if (s && s->start_ns) {
		start[0] = (uint32_t)(s->start_ns >> 32);
		start[1] = (uint32_t)s->start_ns;
		ret =
		    opt_add(&l, ISB_STARTTIME, "isb_starttime", start, sizeof(start), err, errlen);
	}
	if (!ret && s && s->end_ns) {
		end[0] = (uint32_t)(s->end_ns >> 32);
		end[1] = (uint32_t)s->end_ns;
		ret = opt_add(&l, ISB_ENDTIME, "isb_endtime", end, sizeof(end), err, errlen);
	}
	if (ret ||
	    (s && ((ret = opt_add(&l, ISB_IFRECV, "isb_ifrecv", &s->ifrecv, sizeof(s->ifrecv), err,
				  errlen)) ||
		   (ret = opt_add(&l, ISB_IFDROP, "isb_ifdrop", &s->ifdrop, sizeof(s->ifdrop), err,
				  errlen)) ||
		   (ret = opt_add(&l, ISB_FILTERACCEPT, "isb_filteraccept", &s->filteraccept,
				  sizeof(s->filteraccept), err, errlen)) ||
		   (ret = opt_add(&l, ISB_OSDROP, "isb_osdrop", &s->osdrop, sizeof(s->osdrop), err,
				  errlen)))) ||
	    (ret = opt_add(&l, ISB_USRDELIV, "isb_usrdeliv", &w->ifaces[i].delivered,
			   sizeof(w->ifaces[i].delivered), err, errlen)) ||
	    (s && s->comment &&
	     (ret = opt_str(&l, OPT_COMMENT, "opt_comment", s->comment, err, errlen))))
		return ret;

	body.iface_id = w->ifaces[i].file_id;
	body.ts_high = (uint32_t)(ts >> 32);
	body.ts_low = (uint32_t)ts;
	return write_block(w, BT_ISB, &body, sizeof(body), NULL, 0, &l, err, errlen);
}

/*
 * Whether libpcap 1.10 still reads the file after one more IDB of st's kind: the first IDB sets
 * the file's link type and snap length, every later one must have the same, and a second
 * raw-IP one it refuses (it compares the IDB's LINKTYPE_RAW with its own DLT_RAW).
 */
static bool libpcap_takes(const struct nc_pcapng *w, const struct iface_state *st)
{
	const struct iface_state *first = w->n_written ? &w->ifaces[w->order[0]] : NULL;

	return !first || (st->linktype == first->linktype && st->snaplen == first->snaplen &&
			  st->linktype != NC_LINKTYPE_RAW);
}

int nc_pcapng_finish(struct nc_pcapng *w, const struct nc_pcapng_stats *stats, char *err,
		     size_t errlen)
{
	uint64_t close_ns = now_ns();
	int ret;

	if ((ret = check_usable(w, err, errlen)) || w->finished)
		return ret;
	w->finished = true;
	/* the interfaces that carried no packet: those whose counters show a loss, which the file
	 * must report, and those libpcap reads beside the ones written */
	for (uint32_t i = 0; !ret && i < w->n_ifaces; i++) {
		const struct nc_pcapng_stats *s = stats ? &stats[i] : NULL;

		if (!w->ifaces[i].written &&
		    ((s && (s->ifdrop || s->osdrop)) || libpcap_takes(w, &w->ifaces[i])))
			ret = write_idb(w, i, err, errlen);
	}
	/* one ISB per IDB, in the file's interface order */
	for (uint32_t f = 0; !ret && f < w->n_written; f++)
		ret = write_isb(w, w->order[f], stats ? &stats[w->order[f]] : NULL, close_ns, err,
				errlen);
	return ret;
}

int nc_pcapng_close(struct nc_pcapng *w, const struct nc_pcapng_stats *stats, char *err,
		    size_t errlen)
{
	int ret = 0;

	if (!w)
		return 0;
	if (!w->error && !w->finished)
		ret = nc_pcapng_finish(w, stats, err, errlen);
	errno = 0;
	if (!w->error && fflush(w->out.f) == EOF)
		fail_write(w, errno, NULL, 0);
	errno = 0;
	if (fclose(w->out.f) == EOF && !w->error)
		fail_write(w, errno, NULL, 0);
	if (w->error)
		ret = fail_write(w, w->error, err, errlen);
	free_writer(w);
	return ret;
}

const char *nc_pcapng_libpcap_refuses(const struct nc_pcapng *w)
{
	bool eth = false, raw = false, snaplens = false, raws = false;

	for (uint32_t f = 0; w && f < w->n_written; f++) {
		const struct iface_state *st = &w->ifaces[w->order[f]];

		raws |= raw && st->linktype == NC_LINKTYPE_RAW;
		eth |= st->linktype == NC_LINKTYPE_ETHERNET;
		raw |= st->linktype == NC_LINKTYPE_RAW;
		snaplens |= st->snaplen != w->ifaces[w->order[0]].snaplen;
	}
	if (eth && raw)
		return "has Ethernet and raw-IP interfaces";
	if (snaplens)
		return "has interfaces of different snap lengths";
	if (raws)
		return "has more than one raw-IP interface";
	return NULL;
}

uint32_t nc_pcapng_interface_count(const struct nc_pcapng *w)
{
	return w ? w->n_ifaces : 0;
}
