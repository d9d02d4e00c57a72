/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ring samples (core/consume/ring.c, nc_ring_sample) as the probes write them: one record, or the
 * records of one probe hit back to back (NC_REC_MORE), sharing the first one's timestamp; and the
 * malformed ones, counted, never handed on.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "consume/ring.h"

struct got {
	struct nc_record rec;
	uint8_t data[8];
};

struct sink {
	GArray *got;
	int fail_at; /* return -EIO at this record (1-based); 0 = never */
};

static int take(void *ctx, const struct nc_record *rec, const uint8_t *data)
{
	struct sink *s = ctx;
	struct got g = {.rec = *rec};

	memcpy(g.data, data, rec->cap_len < sizeof(g.data) ? rec->cap_len : sizeof(g.data));
	g_array_append_val(s->got, g);
	return s->fail_at && (int)s->got->len == s->fail_at ? -EIO : 0;
}

/* Appends a record with `len` bytes of `fill` to a sample */
static void put(GByteArray *b, uint32_t hook, uint64_t ts, uint8_t flags, uint32_t len,
		uint8_t fill)
{
	struct nc_record rec = {.ts_ns = ts,
				.object = 0x1000 + b->len,
				.hook = hook,
				.wire_len = 64,
				.cap_len = len,
				.flags = flags};
	uint8_t data[64];

	memset(data, fill, sizeof(data));
	g_byte_array_append(b, (const uint8_t *)&rec, sizeof(rec));
	g_byte_array_append(b, data, len);
}

static void run(GByteArray *b, struct sink *s, uint64_t *malformed, unsigned *delivered,
		int want_ret)
{
	g_assert_cmpint(nc_ring_sample(b->data, b->len, take, s, malformed, delivered), ==,
			want_ret);
}

static void test_one(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct sink s = {.got = g_array_new(FALSE, TRUE, sizeof(struct got))};
	uint64_t malformed = 0;
	unsigned delivered = 0;

	put(b, 3, 77, NC_REC_TRUNCATED, 5, 0xab);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(s.got->len, ==, 1);
	g_assert_cmpuint(delivered, ==, 1);
	g_assert_cmpuint(malformed, ==, 0);
	struct got *g = &g_array_index(s.got, struct got, 0);
	g_assert_cmpuint(g->rec.hook, ==, 3);
	g_assert_cmpuint(g->rec.ts_ns, ==, 77);
	g_assert_cmpuint(g->rec.flags, ==, NC_REC_TRUNCATED);
	g_assert_cmpuint(g->rec.cap_len, ==, 5);
	g_assert_cmpuint(g->data[4], ==, 0xab);
	g_array_unref(s.got);
}

/* Three records of one hit, of 7, 0 and 13 bytes (no padding between them): in order, each with
 * its bytes, all at the first one's time, NC_REC_MORE cleared and the other flags kept */
static void test_batch(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct sink s = {.got = g_array_new(FALSE, TRUE, sizeof(struct got))};
	uint64_t malformed = 0;
	unsigned delivered = 0;

	put(b, 1, 500, NC_REC_MORE | NC_REC_VLAN_REINSERTED, 7, 0x11);
	put(b, 1, 0, NC_REC_MORE, 0, 0x22);
	put(b, 2, 0, NC_REC_SEGS_CUT, 13, 0x33);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(s.got->len, ==, 3);
	g_assert_cmpuint(delivered, ==, 3);
	g_assert_cmpuint(malformed, ==, 0);
	static const uint32_t len[] = {7, 0, 13}, hook[] = {1, 1, 2};
	static const uint8_t flags[] = {NC_REC_VLAN_REINSERTED, 0, NC_REC_SEGS_CUT},
			     fill[] = {0x11, 0, 0x33};
	for (unsigned i = 0; i < 3; i++) {
		struct got *g = &g_array_index(s.got, struct got, i);

		g_assert_cmpuint(g->rec.ts_ns, ==, 500);
		g_assert_cmpuint(g->rec.cap_len, ==, len[i]);
		g_assert_cmpuint(g->rec.hook, ==, hook[i]);
		g_assert_cmpuint(g->rec.flags, ==, flags[i]);
		g_assert_cmpuint(g->data[0], ==, fill[i]);
	}
	g_array_unref(s.got);
}

/* A malformed record: counted once, nothing from it on handed on, what came before it is */
static void test_malformed(void)
{
	struct sink s = {.got = g_array_new(FALSE, TRUE, sizeof(struct got))};
	uint64_t malformed = 0;
	unsigned delivered = 0;
	g_autoptr(GByteArray) b = g_byte_array_new();

	/* shorter than a header */
	g_byte_array_set_size(b, sizeof(struct nc_record) - 1);
	memset(b->data, 0, b->len);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(malformed, ==, 1);
	g_assert_cmpuint(s.got->len, ==, 0);

	/* one record whose cap_len is one byte short of the sample */
	g_byte_array_set_size(b, 0);
	put(b, 0, 1, 0, 8, 1);
	g_byte_array_append(b, (const uint8_t *)"x", 1);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(malformed, ==, 2);
	g_assert_cmpuint(s.got->len, ==, 0);

	/* a hook out of range */
	g_byte_array_set_size(b, 0);
	put(b, NC_MAX_HOOKS, 1, 0, 8, 1);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(malformed, ==, 3);
	g_assert_cmpuint(s.got->len, ==, 0);

	/* a batch whose second record claims more bytes than are left: the first is handed on */
	g_byte_array_set_size(b, 0);
	put(b, 0, 1, NC_REC_MORE, 8, 1);
	put(b, 0, 0, NC_REC_MORE, 8, 2);
	((struct nc_record *)(b->data + sizeof(struct nc_record) + 8))->cap_len = 9;
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(malformed, ==, 4);
	g_assert_cmpuint(s.got->len, ==, 1);

	/* a batch whose last record says more follow: the sample ends in the middle of a header */
	g_byte_array_set_size(b, 0);
	put(b, 0, 1, NC_REC_MORE, 8, 1);
	put(b, 0, 0, NC_REC_MORE, 8, 2);
	run(b, &s, &malformed, &delivered, 0);
	g_assert_cmpuint(malformed, ==, 5);
	g_assert_cmpuint(s.got->len, ==, 3);
	g_assert_cmpuint(delivered, ==, 3);
	g_array_unref(s.got);
}

/* The callback stops the sample: its value comes back, nothing after it is handed on */
static void test_stop(void)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct sink s = {.got = g_array_new(FALSE, TRUE, sizeof(struct got)), .fail_at = 2};
	uint64_t malformed = 0;
	unsigned delivered = 0;

	put(b, 0, 9, NC_REC_MORE, 4, 1);
	put(b, 0, 0, NC_REC_MORE, 4, 2);
	put(b, 0, 0, 0, 4, 3);
	run(b, &s, &malformed, &delivered, -EIO);
	g_assert_cmpuint(s.got->len, ==, 2);
	g_assert_cmpuint(delivered, ==, 1);
	g_assert_cmpuint(malformed, ==, 0);
	g_array_unref(s.got);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ring/one", test_one);
	g_test_add_func("/ring/batch", test_batch);
	g_test_add_func("/ring/malformed", test_malformed);
	g_test_add_func("/ring/stop", test_stop);
	return g_test_run();
}
