/* SPDX-License-Identifier: BSD-2-Clause */
#include "ring.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/err.h"

_Static_assert(sizeof(struct nc_record) == 56, "record layout shared with bpf/");
_Static_assert(offsetof(struct nc_record, wire_len) == 32, "record layout shared with bpf/");
_Static_assert(offsetof(struct nc_record, port) == 40, "record layout shared with bpf/");

/* Records delivered per nc_consumer_poll() at most: under a sustained load libbpf's consume would
 * go on as long as the probes produce, and the caller's loop (stop, duration, flush) would starve
 */
#define BUDGET	    4096
#define OVER_BUDGET (-EBUSY)

struct nc_consumer {
	struct ring_buffer *rb;
	nc_record_fn fn;
	void *ctx;
	uint64_t malformed;
	unsigned delivered; /* in this poll */
};

int nc_ring_sample(const void *data, size_t size, nc_record_fn fn, void *ctx, uint64_t *malformed,
		   unsigned *delivered)
{
	const uint8_t *p = data;
	struct nc_record rec;
	uint64_t ts = 0;
	bool more = true;
	int ret;

	for (size_t off = 0, left; more; off += sizeof(rec) + rec.cap_len) {
		left = size - off;
		if (left < sizeof(rec)) {
			(*malformed)++;
			break;
		}
		/* copied out: the ring only promises 8-byte alignment (and a record after another
		 * none), and a struct is easier to trust */
		memcpy(&rec, p + off, sizeof(rec));
		more = rec.flags & NC_REC_MORE;
		if (rec.cap_len > NC_MAX_SNAPLEN || rec.hook >= NC_MAX_HOOKS ||
		    (more ? rec.cap_len > left - sizeof(rec) : rec.cap_len != left - sizeof(rec))) {
			(*malformed)++;
			break;
		}
		if (!off)
			ts = rec.ts_ns;
		rec.ts_ns = ts;
		rec.flags &= ~NC_REC_MORE;
		ret = fn(ctx, &rec, p + off + sizeof(rec));
		if (ret)
			return ret;
		(*delivered)++;
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct nc_consumer *c = ctx;
	int ret = nc_ring_sample(data, size, c->fn, c->ctx, &c->malformed, &c->delivered);

	if (ret)
		return ret;
	/* the sample is taken: libbpf moves past it */
	return c->delivered >= BUDGET ? OVER_BUDGET : 0;
}

int nc_ring_wake_bytes(size_t ring_bytes, uint64_t *wake, char *err, size_t errlen)
{
	const char *env = getenv("NETCAP_RING_WAKE");
	unsigned long n = NC_RING_WAKE_DEFAULT;

	if (env && *env) {
		char *end;

		errno = 0;
		n = strtoul(env, &end, 10);
		if (errno || *end || n < 2 || n > 1024)
			return nc_err(err, errlen, EINVAL,
				      "NETCAP_RING_WAKE=%s: give N, 2 to 1024 (the reader is woken "
				      "once 1/N of the ring is pending), or unset it",
				      env);
	}
	*wake = ring_bytes / n;
	return 0;
}

int nc_consumer_new(int ring_fd, nc_record_fn fn, void *ctx, struct nc_consumer **out, char *err,
		    size_t errlen)
{
	struct nc_consumer *c = calloc(1, sizeof(*c));

	if (!c)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	c->fn = fn;
	c->ctx = ctx;
	c->rb = ring_buffer__new(ring_fd, on_sample, c, NULL);
	if (!c->rb) {
		int ret = nc_err(err, errlen, errno, "opening the probe's ring buffer: %s",
				 strerror(errno));

		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int nc_consumer_add(struct nc_consumer *c, int ring_fd, char *err, size_t errlen)
{
	int ret = ring_buffer__add(c->rb, ring_fd, on_sample, c);

	if (ret < 0)
		return nc_err(err, errlen, -ret, "opening the probe's ring buffer: %s",
			      strerror(-ret));
	return 0;
}

int nc_consumer_poll(struct nc_consumer *c, int timeout_ms)
{
	int ret;

	c->delivered = 0;
	ret = ring_buffer__poll(c->rb, timeout_ms);
	if (ret == -EINTR)
		ret = 0;
	/* the probes submit without waking us until much is pending: take the rest on this timer */
	if (ret >= 0)
		ret = ring_buffer__consume(c->rb);
	if (ret == OVER_BUDGET)
		return (int)c->delivered; /* more may be pending: the caller polls again */
	return ret < 0 ? ret : (int)c->delivered;
}

uint64_t nc_consumer_malformed(const struct nc_consumer *c)
{
	return c->malformed;
}

void nc_consumer_free(struct nc_consumer *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	free(c);
}

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t nc_clock_monotonic_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

void nc_clock_sync(struct nc_clock *c)
{
	uint64_t best = UINT64_MAX;

	/* the reading bracketed most tightly by two monotonic reads wins */
	for (int i = 0; i < 5; i++) {
		uint64_t m1 = read_ns(CLOCK_MONOTONIC), r = read_ns(CLOCK_REALTIME),
			 m2 = read_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best) {
			best = m2 - m1;
			c->offset_ns = (int64_t)(r - (m1 + (m2 - m1) / 2));
			c->synced_ns = m2;
		}
	}
}

uint64_t nc_clock_to_realtime(const struct nc_clock *c, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + c->offset_ns);
}
