/* SPDX-License-Identifier: BSD-2-Clause */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../consume/ring.h"
#include "../util/err.h"

#define POLL_MS		100 /* the ring is drained at least this often */
#define CLOCK_RESYNC_NS 1000000000ull
#define BATCH_BYTES	(2u << 20) /* pcap records written per poll of a backend that makes them */

struct run {
	struct nc_session *s;
	const struct nc_session_opts *o;
	const struct nc_probe_ops *ops;
	size_t n_ops;
	GPtrArray *pending; /* several rings: records read, not yet handed on (struct pending) */
	uint64_t seq;
	struct nc_sink *sink;
	struct nc_consumer *consumer;
	struct nc_clock clock;
	struct nc_gather *gather;    /* -G */
	struct nc_pcap_batch *batch; /* records made by the backend in the file's format, or NULL */
	uint64_t written;
	char write_err[256];
	int write_ret;
};

/* A record read from one of several rings, waiting for the others to be read past it */
struct pending {
	uint64_t seq; /* read order, for equal timestamps */
	struct nc_record rec;
	uint8_t data[];
};

/* The probe that owns a hook point */
static const struct nc_probe_ops *ops_of(const struct run *r, uint32_t hook)
{
	for (size_t i = 0; i < r->n_ops; i++)
		if (!r->ops[i].n_hooks || (hook >= r->ops[i].first_hook &&
					   hook - r->ops[i].first_hook < r->ops[i].n_hooks))
			return &r->ops[i];
	return &r->ops[0];
}

void nc_session_clear(struct nc_session *s)
{
	for (uint32_t i = 0; i < s->n_points; i++) {
		g_free(s->points[i].name);
		g_free(s->points[i].description);
		g_free(s->points[i].label);
		g_free(s->points[i].what);
	}
	memset(s, 0, sizeof(*s));
}

/* Writes one record; lines (-G: its path) go after the comment. -ECANCELED once count is reached */
static int write_record(void *ctx, const struct nc_record *rec, const uint8_t *data,
			const char *lines)
{
	struct run *r = ctx;
	struct nc_session_point *pt = &r->s->points[rec->hook];
	char comment[6144]; /* with a kernel stack of 127 frames, and a path */
	struct nc_pcapng_packet pkt = {0};

	const struct nc_probe_ops *ops = ops_of(r, rec->hook);

	ops->b->comment(ops->state, rec, pt->label, comment, sizeof(comment));
	if (lines && *lines) {
		size_t n = strlen(comment);

		snprintf(comment + n, sizeof(comment) - n, "\n%s", lines);
	}
	pkt.iface_id = pt->iface;
	pkt.ts_ns = nc_clock_to_realtime(&r->clock, rec->ts_ns);
	pkt.caplen = rec->cap_len;
	pkt.wirelen = rec->wire_len;
	pkt.data = data;
	pkt.direction = (enum nc_pcapng_direction)rec->direction;
	pkt.has_queue = rec->port != NC_PORT_UNKNOWN;
	pkt.queue = rec->queue;
	pkt.has_packetid = true;
	pkt.packetid = rec->object;
	pkt.comment = comment;
	r->write_ret = nc_sink_packet(r->sink, &pkt, r->write_err, sizeof(r->write_err));
	if (r->write_ret)
		return r->write_ret;
	pt->written++;
	r->written++;
	if (r->o->count && r->written >= r->o->count)
		return -ECANCELED; /* stops the poll: done */
	return 0;
}

static int deliver(struct run *r, const struct nc_record *rec, const uint8_t *data)
{
	struct nc_session_point *pt;
	int ret;

	if (rec->hook >= r->s->n_points)
		return 0;
	pt = &r->s->points[rec->hook];
	/* pcap and tcpdump text carry one link type: the other kind cannot go in */
	if (r->o->out->format != NC_SINK_PCAPNG && pt->linktype != r->o->out->linktype) {
		pt->skipped++;
		return 0;
	}
	if (!r->gather)
		return write_record(r, rec, data, NULL);
	/* -G: held until its path is known, then written with it */
	if (nc_gather_add(r->gather, rec, data)) {
		snprintf(r->write_err, sizeof(r->write_err),
			 "out of memory holding packets for -G");
		return r->write_ret = -ENOMEM;
	}
	ret = nc_gather_release(r->gather, nc_clock_monotonic_ns(), false, write_record, r);
	return ret < 0 ? ret : 0;
}

static int on_record(void *ctx, const struct nc_record *rec, const uint8_t *data)
{
	struct run *r = ctx;
	struct pending *p;

	if (!r->pending)
		return deliver(r, rec, data);
	p = malloc(sizeof(*p) + rec->cap_len);
	if (!p) {
		snprintf(r->write_err, sizeof(r->write_err), "out of memory merging the rings");
		return r->write_ret = -ENOMEM;
	}
	p->seq = r->seq++;
	p->rec = *rec;
	memcpy(p->data, data, rec->cap_len);
	g_ptr_array_add(r->pending, p);
	return 0;
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const struct pending *x = *(struct pending *const *)a, *y = *(struct pending *const *)b;

	if (x->rec.ts_ns != y->rec.ts_ns)
		return x->rec.ts_ns < y->rec.ts_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands on, in timestamp order, the pending records taken before `before`; how many, or the
 * first negative value deliver returned */
static int hand_on(struct run *r, uint64_t before)
{
	guint i = 0;
	int ret = 0;

	g_ptr_array_sort(r->pending, by_time);
	while (i < r->pending->len && !ret) {
		struct pending *p = g_ptr_array_index(r->pending, i);

		if (p->rec.ts_ns >= before)
			break;
		ret = deliver(r, &p->rec, p->data);
		i++;
	}
	g_ptr_array_remove_range(r->pending, 0, i);
	return ret < 0 ? ret : (int)i;
}

/*
 * A backend that makes the file's records itself (poll_pcap: classic pcap records or pcapng
 * EPBs): its records go to the file as one block, with no call per packet; -ECANCELED once count
 * is reached. pcapng: where the backend stopped before a point whose IDB is not written yet, the
 * IDB goes out (as before that point's first packet one by one) and the backend goes on.
 */
static int poll_batch(struct run *r, const struct nc_probe_ops *ops, int timeout_ms)
{
	struct nc_pcap_batch *b = r->batch;
	int n, total = 0;

	do {
		uint64_t delivered[NC_PCAP_BATCH_HOOKS] = {0};

		b->len = 0;
		b->packets = 0;
		b->need = NC_PCAP_BATCH_NO_ID;
		memset(b->written, 0, sizeof(b->written));
		b->max = r->o->count ? r->o->count - r->written : 0;
		b->real_offset_ns = r->clock.offset_ns;
		n = ops->b->poll_pcap(ops->state, b, total ? 0 : timeout_ms);
		if (n < 0)
			return n;
		if (b->packets) {
			for (uint32_t h = 0; h < r->s->n_points; h++)
				delivered[r->s->points[h].iface] += b->written[h];
			r->write_ret = nc_sink_records(r->sink, b, delivered, r->s->n_points,
						       r->write_err, sizeof(r->write_err));
			if (r->write_ret)
				return r->write_ret;
			for (uint32_t h = 0; h < r->s->n_points; h++)
				r->s->points[h].written += b->written[h];
			r->written += b->packets;
			total += (int)b->packets;
			if (r->o->count && r->written >= r->o->count)
				return -ECANCELED;
		}
		if (b->need != NC_PCAP_BATCH_NO_ID) {
			uint32_t h = b->need;

			if (h >= r->s->n_points) {
				snprintf(r->write_err, sizeof(r->write_err),
					 "a record of hook point %u, of %u", h, r->s->n_points);
				return r->write_ret = -EINVAL;
			}
			r->write_ret =
			    nc_sink_file_id(r->sink, r->s->points[h].iface, &b->file_id[h],
					    r->write_err, sizeof(r->write_err));
			if (r->write_ret)
				return r->write_ret;
		}
	} while (b->need != NC_PCAP_BATCH_NO_ID);
	return total;
}

/* The capture can take poll_batch(): one probe whose backend makes the records, a pcap or pcapng
 * file (not text) holding every point's link type, no -G */
static bool batch_fits(const struct run *r, bool *pcapng)
{
	if (r->n_ops != 1 || r->ops[0].ring_fd >= 0 || !r->ops[0].b->poll_pcap || r->o->gather ||
	    !nc_sink_takes_records(r->sink, pcapng) || r->s->n_points > NC_PCAP_BATCH_HOOKS)
		return false;
	for (uint32_t i = 0; i < r->s->n_points && !*pcapng; i++)
		if (r->s->points[i].linktype != r->o->out->linktype)
			return false;
	return true;
}

/*
 * Reads the ring(s). With several rings, records are held and handed on in timestamp order once
 * every ring has been read past them: a record stamped before this poll began was reserved
 * before every ring was read to its end, so nothing older can still come (a DPDK point's record
 * reaches the gather before the kernel's record of the same packet).
 */
static int poll_sources(struct run *r, int timeout_ms)
{
	int total = 0, n = 0;

	/* the backends that read their own memory wait; the BPF rings then only take what is
	 * there */
	for (size_t i = 0; i < r->n_ops && n >= 0; i++) {
		if (r->ops[i].ring_fd >= 0)
			continue;
		n = r->batch ? poll_batch(r, &r->ops[i], timeout_ms)
			     : r->ops[i].b->poll(r->ops[i].state, on_record, r, timeout_ms);
		total += n > 0 ? n : 0;
		timeout_ms = 0;
	}
	if (n >= 0 && r->consumer) {
		n = nc_consumer_poll(r->consumer, timeout_ms);
		total += n > 0 ? n : 0;
	}
	return n < 0 ? n : total;
}

static int poll_rings(struct run *r, int timeout_ms)
{
	uint64_t before;
	int n, rounds = 0;

	if (!r->pending)
		return poll_sources(r, timeout_ms);
	before = nc_clock_monotonic_ns();
	do
		n = poll_sources(r, rounds ? 0 : timeout_ms);
	while (n > 0 && ++rounds < 16);
	if (n < 0)
		return n;
	return hand_on(r, before);
}

/* -G: writes what the timeout (or with all, the end) releases; how many, or a negative errno */
static int release(struct run *r, bool all)
{
	if (!r->gather)
		return 0;
	return nc_gather_release(r->gather, nc_clock_monotonic_ns(), all, write_record, r);
}

/* The ready file: a new file renamed over the path, so that whoever waits for it reads it whole;
 * not synced to the disk (it says that the probes are attached, and an fsync cost ms there) */
static int write_ready_file(const char *path, char *err, size_t errlen)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0666);
	int e = 0;

	if (fd < 0) {
		e = errno;
	} else {
		errno = 0;
		if (write(fd, pid, (size_t)n) != n)
			e = errno ? errno : EIO;
		if (close(fd) && !e)
			e = errno;
		if (!e && rename(tmp, path))
			e = errno;
		if (e)
			unlink(tmp);
	}
	if (e)
		return nc_err(err, errlen, e, "cannot write the ready file %s: %s", path,
			      strerror(e));
	return 0;
}

/* The first watched process that has exited, or 0 */
static pid_t gone(const struct nc_session_opts *o)
{
	for (size_t i = 0; i < o->n_watch; i++)
		if (kill(o->watch[i], 0) && errno == ESRCH)
			return o->watch[i];
	return 0;
}

/* The counters of every hook point together, for o->tick */
static void tick(struct run *r)
{
	struct nc_counters total = {0};

	if (!r->o->hooks.tick)
		return;
	for (uint32_t i = 0; i < r->s->n_points; i++) {
		const struct nc_probe_ops *ops = ops_of(r, i);
		struct nc_counters k;

		if (ops->b->counters(ops->state, i, &k))
			continue;
		total.seen += k.seen;
		total.matched += k.matched;
		total.written += k.written;
		total.ringfull += k.ringfull;
		total.readerr += k.readerr;
	}
	r->o->hooks.tick(r->o->hooks.ctx, &total, r->written);
}

static void log_line(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_line(const struct run *r, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	if (!r->o->hooks.log)
		return;
	va_start(ap, fmt);
	line = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	r->o->hooks.log(r->o->hooks.ctx, line);
}

static int loop(struct run *r, char **end, char *err, size_t errlen)
{
	uint64_t start = nc_clock_monotonic_ns();

	for (;;) {
		uint64_t now;
		pid_t pid;
		int n = poll_rings(r, POLL_MS);
		int released = n >= 0 ? release(r, false) : 0;

		n = released < 0 ? released : n + released;
		if (n == -ECANCELED) {
			*end = g_strdup("count reached");
			return 0;
		}
		/* the reader went away (tshark -c, a closed pipe): a normal end */
		if (n < 0 && r->write_ret == -EPIPE) {
			*end = g_strdup("the reader closed the output");
			return 0;
		}
		if (n < 0 && r->write_ret)
			return nc_err(err, errlen, -r->write_ret, "%s", r->write_err);
		if (n < 0)
			return nc_err(err, errlen, -n, "reading the ring buffer: %s", strerror(-n));
		if (n > 0)
			r->write_ret = nc_sink_flush(r->sink, r->write_err, sizeof(r->write_err));
		if (r->write_ret == -EPIPE) {
			*end = g_strdup("the reader closed the output");
			return 0;
		}
		if (r->write_ret)
			return nc_err(err, errlen, -r->write_ret, "%s", r->write_err);
		if (r->o->stop && *r->o->stop) {
			*end = g_strdup("interrupted");
			return 0;
		}
		now = nc_clock_monotonic_ns();
		if (r->o->duration_ms && now - start >= r->o->duration_ms * 1000000ull) {
			*end = g_strdup("duration reached");
			return 0;
		}
		if ((pid = gone(r->o))) {
			*end = g_strdup_printf("process %d exited", (int)pid);
			return 0;
		}
		if (now - r->clock.synced_ns > CLOCK_RESYNC_NS) {
			nc_clock_sync(&r->clock);
			tick(r);
		}
	}
}

int nc_session_run(struct nc_session *s, const struct nc_session_opts *o,
		   const struct nc_probe_ops *ops, struct nc_capture_result *res, char *err,
		   size_t errlen)
{
	return nc_session_run_probes(s, o, ops, 1, res, err, errlen);
}

int nc_session_run_probes(struct nc_session *s, const struct nc_session_opts *o,
			  const struct nc_probe_ops *ops, size_t n_ops,
			  struct nc_capture_result *res, char *err, size_t errlen)
{
	struct run r = {.s = s, .o = o, .ops = ops, .n_ops = n_ops};
	struct nc_pcapng_stats stats[NC_MAX_HOOKS] = {0};
	char malformed[128] = "";
	uint64_t start_real, end_real;
	size_t attached = 0;
	char *end = NULL;
	bool pcapng = false;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = nc_sink_open(o->out, &r.sink, err, errlen);
	for (uint32_t i = 0; !ret && i < s->n_points; i++) {
		struct nc_pcapng_iface iface = {.linktype = s->points[i].linktype,
						.snaplen = o->snaplen,
						.name = s->points[i].name,
						.description = s->points[i].description,
						.filter = o->filter};

		ret = nc_sink_add_interface(r.sink, &iface, &s->points[i].iface, err, errlen);
	}
	if (!ret && o->gather) {
		struct nc_gather_point *gp = calloc(s->n_points ? s->n_points : 1, sizeof(*gp));

		for (uint32_t i = 0; gp && i < s->n_points; i++)
			gp[i] = (struct nc_gather_point){
			    .stage = s->points[i].stage,
			    .what = s->points[i].what ? s->points[i].what : s->points[i].label,
			    .name = s->points[i].name,
			    .kernel = s->points[i].kernel};
		ret = gp ? nc_gather_new(o->gather, gp, s->n_points, o->stages, o->n_stages,
					 &r.gather, err, errlen)
			 : nc_err(err, errlen, ENOMEM, "out of memory");
		free(gp);
	}
	for (size_t i = 0; !ret && i < n_ops; i++) {
		if (ops[i].ring_fd < 0)
			continue;
		ret = r.consumer ? nc_consumer_add(r.consumer, ops[i].ring_fd, err, errlen)
				 : nc_consumer_new(ops[i].ring_fd, on_record, &r, &r.consumer, err,
						   errlen);
	}
	if (!ret && n_ops > 1)
		r.pending = g_ptr_array_new_with_free_func(free);
	if (!ret && batch_fits(&r, &pcapng)) {
		r.batch = calloc(1, sizeof(*r.batch));
		if (r.batch && !(r.batch->buf = malloc(BATCH_BYTES))) {
			free(r.batch);
			r.batch = NULL; /* the records one at a time, then */
		}
		if (r.batch) {
			r.batch->cap = BATCH_BYTES;
			r.batch->pcapng = pcapng;
			r.batch->comment = ops[0].b->comment;
			r.batch->comment_ctx = ops[0].state;
			for (uint32_t i = 0; i < NC_PCAP_BATCH_HOOKS; i++) {
				r.batch->file_id[i] = NC_PCAP_BATCH_NO_ID;
				r.batch->label[i] = i < s->n_points ? s->points[i].label : NULL;
			}
		}
	}
	nc_clock_sync(&r.clock);
	for (size_t i = 0; !ret && i < n_ops; i++) {
		attached = i + 1;
		ret = ops[i].b->attach(ops[i].state, err, errlen);
	}
	/* one window for every point: opened once all are attached, closed before any detach */
	start_real = nc_clock_to_realtime(&r.clock, nc_clock_monotonic_ns());
	for (size_t i = 0; !ret && i < n_ops; i++)
		ops[i].b->enable(ops[i].state, true);
	for (size_t i = 0; !ret && i < n_ops; i++) {
		char note[512] = "";

		if (ops[i].b->note)
			ops[i].b->note(ops[i].state, note, sizeof(note));
		if (*note)
			log_line(&r, "%s", note);
	}
	if (!ret)
		log_line(&r, "attached at %u hook point(s)", s->n_points);
	if (!ret && o->ready_file)
		ret = write_ready_file(o->ready_file, err, errlen);
	if (!ret)
		ret = loop(&r, &end, err, errlen);

	/* close the window, detach, then take what is left in the ring, then the counters */
	end_real = nc_clock_to_realtime(&r.clock, nc_clock_monotonic_ns());
	for (size_t i = 0; i < attached; i++)
		ops[i].b->enable(ops[i].state, false);
	if (attached) {
		for (size_t i = 0; i < attached; i++)
			ops[i].b->detach(ops[i].state);
		log_line(&r, "detached (%s)", end ? end : "error");
	}
	if (!ret && r.write_ret != -EPIPE && (!o->count || r.written < o->count)) {
		int n;

		while ((n = poll_rings(&r, 0)) > 0)
			;
		if (n >= 0 && r.pending)
			n = hand_on(&r, UINT64_MAX);
		/* -G: the paths still open end with the capture */
		if (n >= 0)
			n = release(&r, true);
		if (n < 0 && n != -ECANCELED && r.write_ret && r.write_ret != -EPIPE)
			ret = nc_err(err, errlen, -r.write_ret, "%s", r.write_err);
	}
	res->malformed = r.consumer ? nc_consumer_malformed(r.consumer) : 0;
	for (size_t i = 0; i < n_ops; i++)
		if (ops[i].ring_fd < 0 && ops[i].b->malformed)
			res->malformed += ops[i].b->malformed(ops[i].state);
	if (res->malformed)
		snprintf(malformed, sizeof(malformed),
			 "%llu malformed ring records skipped (not attributable to an interface)",
			 (unsigned long long)res->malformed);
	nc_consumer_free(r.consumer);
	if (r.batch)
		free(r.batch->buf);
	free(r.batch);
	if (r.pending)
		g_ptr_array_free(r.pending, TRUE);
	if (r.gather) {
		res->gathered = true;
		nc_gather_summarize(r.gather, &res->gather);
		nc_gather_free(r.gather);
	}
	if (r.sink) {
		res->hooks = calloc(s->n_points, sizeof(*res->hooks));
		res->n_hooks = res->hooks ? s->n_points : 0;
		for (uint32_t i = 0; i < s->n_points; i++) {
			const struct nc_probe_ops *po = ops_of(&r, i);
			struct nc_counters k = {0};

			po->b->counters(po->state, i, &k);
			stats[s->points[i].iface] =
			    (struct nc_pcapng_stats){.start_ns = start_real,
						     .end_ns = end_real,
						     .ifrecv = k.seen,
						     .filteraccept = k.matched,
						     .ifdrop = k.ringfull + k.readerr,
						     .comment = malformed[0] ? malformed : NULL};
			if (res->hooks) {
				res->hooks[i].name = g_strdup(s->points[i].name);
				res->hooks[i].counters = k;
				res->hooks[i].written = s->points[i].written;
				res->hooks[i].skipped = s->points[i].skipped;
				res->hooks[i].linktype = s->points[i].linktype;
			}
		}
		char why[256];
		int closed = nc_sink_close(r.sink, stats, &res->libpcap_refuses, why, sizeof(why));

		/* after the reader left, the statistics have nowhere to go: not an error */
		if (closed && closed != -EPIPE && !ret)
			ret = nc_err(err, errlen, -closed, "%s", why);
	}
	res->written = r.written;
	res->end = end;
	if (ret)
		nc_capture_result_free(res);
	return ret;
}

void nc_capture_result_free(struct nc_capture_result *res)
{
	for (size_t i = 0; i < res->n_hooks; i++)
		g_free(res->hooks[i].name);
	free(res->hooks);
	nc_gather_summary_clear(&res->gather);
	g_free(res->end);
	memset(res, 0, sizeof(*res));
}
