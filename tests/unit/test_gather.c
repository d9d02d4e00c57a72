/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * -G paths (core/capture/gather.c) on made-up records: the lines each record is written with,
 * the order records come out in, pointer reuse, processes kept apart, content matching with
 * identical packets, the timeout, the window, the summary.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "capture/gather.h"

/* Points: 0 = a (stage 0), 1 = b (stage 1), 2 = c (stage 2), 3 = b2 (stage 1, another name),
 * 4 = c in process 2 */
static const struct nc_gather_point points[] = {
    {0, "a", "app[1]:a", false},   {1, "b", "app[1]:b", false}, {2, "c", "app[1]:c", false},
    {1, "b2", "app[1]:b2", false}, {2, "c", "app[2]:c", false},
};
static char *const specs[] = {"A", "B", "C"};

struct out {
	GPtrArray *lines; /* "HOOK OBJECT|LINES" per record written */
	int fail_at;	  /* return -EIO at this record (1-based); 0 = never */
};

static int collect(void *ctx, const struct nc_record *rec, const uint8_t *data, const char *lines)
{
	struct out *o = ctx;

	(void)data;
	g_ptr_array_add(o->lines, g_strdup_printf("%u %llx|%s", rec->hook,
						  (unsigned long long)rec->object, lines));
	return o->fail_at && (int)o->lines->len == o->fail_at ? -EIO : 0;
}

static struct nc_gather *new_gather(enum nc_gather_match match, uint32_t n_points)
{
	struct nc_gather_opts o = {.match = match, .timeout_ms = 1000};
	struct nc_gather *g = NULL;
	char err[256];

	g_assert_cmpint(nc_gather_new(&o, points, n_points, specs, 3, &g, err, sizeof(err)), ==, 0);
	return g;
}

static void add(struct nc_gather *g, uint32_t hook, uint64_t object, uint32_t pid, uint64_t ts,
		const char *bytes)
{
	struct nc_record rec = {.ts_ns = ts,
				.object = object,
				.hook = hook,
				.pid = pid,
				.wire_len = (uint32_t)strlen(bytes),
				.cap_len = (uint32_t)strlen(bytes)};

	g_assert_cmpint(nc_gather_add(g, &rec, (const uint8_t *)bytes), ==, 0);
}

static int release(struct nc_gather *g, uint64_t now, bool all, struct out *o)
{
	return nc_gather_release(g, now, all, collect, o);
}

static void check(struct out *o, const char *const *want, size_t n)
{
	g_assert_cmpuint(o->lines->len, ==, n);
	for (size_t i = 0; i < n; i++)
		g_assert_cmpstr(g_ptr_array_index(o->lines, i), ==, want[i]);
}

/* Records wait for their path; the file order is the arrival order */
static void test_order(void)
{
	struct nc_gather *g = new_gather(NC_GATHER_POINTER, 3);
	struct out o = {g_ptr_array_new_with_free_func(g_free), 0};
	static const char *const want[] = {
	    "0 10|path: a → +2500.000 µs c\nnot seen at b",
	    "0 20|path: a → +1.000 µs b → +0.001 µs c",
	    "1 20|+1.000 µs at b (since a)",
	    "2 20|+0.001 µs at c (since b), +1.001 µs since a",
	    "2 10|+2500.000 µs at c (since a)",
	};
	struct nc_gather_summary s;

	add(g, 0, 0x10, 1, 1000, "x");
	add(g, 0, 0x20, 1, 2000, "y");
	add(g, 1, 0x20, 1, 3000, "y");
	add(g, 2, 0x20, 1, 3001, "y");
	g_assert_cmpint(release(g, 3001, false, &o), ==, 0); /* 0x10 is open at the head */
	add(g, 2, 0x10, 1, 2501000, "x");
	g_assert_cmpint(release(g, 2501000, false, &o), ==, 5);
	check(&o, want, G_N_ELEMENTS(want));
	nc_gather_summarize(g, &s);
	g_assert_cmpuint(s.paths, ==, 2);
	g_assert_cmpuint(s.complete, ==, 1);
	g_assert_cmpuint(s.missed[0], ==, 0);
	g_assert_cmpuint(s.missed[1], ==, 1);
	g_assert_cmpuint(s.missed[2], ==, 0);
	g_assert_cmpstr(s.stage_names[1], ==, "b");
	nc_gather_summary_clear(&s);
	nc_gather_free(g);
	g_ptr_array_free(o.lines, TRUE);
}

/* An mbuf pointer back at the first point is a new packet; another process's pointer is not
 * the same mbuf */
static void test_pointer_reuse(void)
{
	struct nc_gather *g = new_gather(NC_GATHER_POINTER, 3);
	struct out o = {g_ptr_array_new_with_free_func(g_free), 0};
	static const char *const want[] = {
	    "0 10|path: a\nnot seen at b\nnot seen at c",
	    "0 10|path: a → +0.005 µs b → +0.005 µs c",
	    "1 10|+0.005 µs at b (since a)",
	    "1 10|path: b\nnot seen at a\nnot seen at c",
	    "2 10|+0.005 µs at c (since b), +0.010 µs since a",
	};

	add(g, 0, 0x10, 1, 100, "x");
	add(g, 0, 0x10, 1, 200, "x"); /* reused: the first path ends */
	add(g, 1, 0x10, 1, 205, "x");
	add(g, 1, 0x10, 2, 206, "x"); /* process 2: its own path, at b */
	add(g, 2, 0x10, 1, 210, "x");
	g_assert_cmpint(release(g, 210, false, &o), ==, 3);
	/* process 2's path stays open until the timeout */
	g_assert_cmpint(release(g, 206 + 999999999, false, &o), ==, 0);
	g_assert_cmpint(release(g, 206 + 1000000000, false, &o), ==, 2);
	check(&o, want, G_N_ELEMENTS(want));
	nc_gather_free(g);
	g_ptr_array_free(o.lines, TRUE);
}

/* Content: identical packets in flight follow in order; a point of another process is named
 * with its interface name */
static void test_content(void)
{
	struct nc_gather *g = new_gather(NC_GATHER_CONTENT, 5);
	struct out o = {g_ptr_array_new_with_free_func(g_free), 0};
	static const char *const want[] = {
	    "0 1|path: a → +0.010 µs b → +0.010 µs app[2]:c",
	    "0 2|path: a → +0.010 µs b → +0.010 µs app[2]:c",
	    "1 3|+0.010 µs at b (since a)",
	    "1 4|+0.010 µs at b (since a)",
	    "4 5|+0.010 µs at app[2]:c (since b), +0.020 µs since a",
	    "4 6|+0.010 µs at app[2]:c (since b), +0.020 µs since a",
	};

	add(g, 0, 1, 1, 100, "same");
	add(g, 0, 2, 1, 110, "same");
	add(g, 1, 3, 1, 110, "same");
	add(g, 1, 4, 1, 120, "same");
	add(g, 4, 5, 2, 120, "same");
	add(g, 4, 6, 2, 130, "same");
	g_assert_cmpint(release(g, 130, false, &o), ==, 6);
	check(&o, want, G_N_ELEMENTS(want));
	g_assert_cmpuint(nc_gather_content_hash(4, (const uint8_t *)"same", 4), !=,
			 nc_gather_content_hash(5, (const uint8_t *)"same", 4));
	nc_gather_free(g);
	g_ptr_array_free(o.lines, TRUE);
}

/* A stage whose points disagree on a name is named by its spec; the end releases everything;
 * a write error stops the release and is returned */
static void test_names_end_error(void)
{
	struct nc_gather *g = new_gather(NC_GATHER_POINTER, 4);
	struct out o = {g_ptr_array_new_with_free_func(g_free), 2};

	add(g, 0, 0x10, 1, 100, "x");
	add(g, 0, 0x20, 1, 100, "x");
	add(g, 0, 0x30, 1, 100, "x");
	g_assert_cmpint(release(g, 100, false, &o), ==, 0);
	g_assert_cmpint(release(g, 100, true, &o), ==, -EIO);
	g_assert_cmpuint(o.lines->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(o.lines, 0), ==,
			"0 10|path: a\nnot seen at B\nnot seen at c");
	g_assert_cmpint(release(g, 100, true, &o), ==, 1);
	nc_gather_free(g);
	g_ptr_array_free(o.lines, TRUE);
}

/* Past the window the oldest path is written as it stands */
static void test_window(void)
{
	struct nc_gather *g = new_gather(NC_GATHER_POINTER, 3);
	struct out o = {g_ptr_array_new_with_free_func(g_free), 0};

	for (uint64_t i = 0; i < NC_GATHER_WINDOW; i++)
		add(g, 0, 0x1000 + i, 1, 100, "x");
	g_assert_cmpint(release(g, 100, false, &o), ==, 0);
	add(g, 0, 0x10, 1, 100, "x");
	g_assert_cmpint(release(g, 100, false, &o), ==, 1);
	g_assert_cmpstr(g_ptr_array_index(o.lines, 0), ==,
			"0 1000|path: a\nnot seen at b\nnot seen at c");
	nc_gather_free(g); /* frees what is still held */
	g_ptr_array_free(o.lines, TRUE);
}

static void test_refuses_one_stage(void)
{
	struct nc_gather_opts o = {.timeout_ms = 1000};
	struct nc_gather *g = NULL;
	char err[256];

	g_assert_cmpint(nc_gather_new(&o, points, 1, specs, 1, &g, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"-G follows packets from point to point: give 2 to 64 hook points");
	g_assert_null(g);
}

/* A DPDK point then two kernel points (netcap mbuf -f tx_burst,skb:...,skb:...): by content the
 * packet goes from the one to the others, whatever task the kernel ran in, and the kernel points
 * keep their short names; by pointer an skb is keyed without the task */
static void test_dpdk_to_kernel(void)
{
	static const struct nc_gather_point mixed[] = {
	    {0, "tx_burst:port1", "app[1]:tx_burst:port1", false},
	    {1, "net:netif_receive_skb@t", "if:net:netif_receive_skb@t", true},
	    {2, "skb:kfree_skb@t", "if:skb:kfree_skb@t", true},
	};
	static const char *const want_content[] = {
	    "0 1|path: tx_burst:port1 → +0.050 µs net:netif_receive_skb@t → +0.010 µs "
	    "skb:kfree_skb@t",
	    "1 2|+0.050 µs at net:netif_receive_skb@t (since tx_burst:port1)",
	    "2 2|+0.010 µs at skb:kfree_skb@t (since net:netif_receive_skb@t), +0.060 µs since "
	    "tx_burst:port1",
	};
	static const char *const want_pointer[] = {
	    "1 30|path: net:netif_receive_skb@t → +0.010 µs skb:kfree_skb@t\nnot seen at "
	    "tx_burst:port1",
	    "2 30|+0.010 µs at skb:kfree_skb@t (since net:netif_receive_skb@t)",
	};
	for (int m = 0; m < 2; m++) {
		struct nc_gather_opts go = {.match = m ? NC_GATHER_POINTER : NC_GATHER_CONTENT,
					    .timeout_ms = 1000};
		struct out o = {g_ptr_array_new_with_free_func(g_free), 0};
		struct nc_gather *g = NULL;
		char err[256];

		g_assert_cmpint(nc_gather_new(&go, mixed, 3, specs, 3, &g, err, sizeof(err)), ==,
				0);
		if (m == 0) {
			add(g, 0, 0x1, 1, 100, "frame");
			add(g, 1, 0x2, 7, 150, "frame"); /* a softirq in task 7 */
			add(g, 2, 0x2, 8, 160, "frame");
			g_assert_cmpint(release(g, 160, false, &o), ==, 3);
			check(&o, want_content, G_N_ELEMENTS(want_content));
		} else {
			add(g, 1, 0x30, 7, 10, "frame");
			add(g, 2, 0x30, 8, 20, "frame");
			g_assert_cmpint(release(g, 20, false, &o), ==, 2);
			check(&o, want_pointer, G_N_ELEMENTS(want_pointer));
		}
		nc_gather_free(g);
		g_ptr_array_free(o.lines, TRUE);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gather/dpdk-to-kernel", test_dpdk_to_kernel);
	g_test_add_func("/gather/held-in-arrival-order", test_order);
	g_test_add_func("/gather/pointer-reuse-and-processes", test_pointer_reuse);
	g_test_add_func("/gather/content-identical-packets", test_content);
	g_test_add_func("/gather/names-end-write-error", test_names_end_error);
	g_test_add_func("/gather/window", test_window);
	g_test_add_func("/gather/refuses-one-stage", test_refuses_one_stage);
	return g_test_run();
}
