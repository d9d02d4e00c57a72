/* SPDX-License-Identifier: BSD-2-Clause */
#include "gather.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

struct hit {
	uint32_t stage;
	uint32_t point;
	uint32_t pid;
	uint64_t ts_ns;
};

struct key {
	uint64_t value; /* the pointer, or the content hash */
	uint32_t pid;	/* mbuf pointers; 0 for content and skb pointers */
	uint32_t pad;
};

/* One packet's way through the stages */
struct path {
	struct key key;
	unsigned refs; /* records held that belong to it */
	bool closed;
	GList *open_link; /* in g->open while open */
	uint32_t n_hits;
	struct hit hits[]; /* n_stages at most, stages increasing */
};

/* A record held until its path closes */
struct held {
	struct nc_record rec;
	struct path *path;
	uint32_t hit; /* its index in path->hits */
	uint8_t data[];
};

struct nc_gather {
	struct nc_gather_opts o;
	struct nc_gather_point *points;
	uint32_t n_points;
	uint32_t n_stages;
	char *stage_names[NC_MAX_HOOKS];
	GHashTable *keys; /* struct key -> GQueue of open paths, oldest first */
	GQueue open;	  /* every open path, oldest first (for the timeout) */
	GQueue held;	  /* records in arrival order */
	size_t held_bytes;
	GString *lines; /* of the record being written */
	struct nc_gather_summary sum;
};

static guint key_hash(gconstpointer p)
{
	const struct key *k = p;

	return (guint)(k->value ^ (k->value >> 32) ^ ((uint64_t)k->pid * 0x9e3779b1u));
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	const struct key *x = a, *y = b;

	return x->value == y->value && x->pid == y->pid;
}

static void free_queue(gpointer q)
{
	g_queue_free(q);
}

uint64_t nc_gather_content_hash(uint32_t wire_len, const uint8_t *data, uint32_t cap_len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t n = cap_len < NC_GATHER_CONTENT_BYTES ? cap_len : NC_GATHER_CONTENT_BYTES;

	for (int i = 0; i < 4; i++)
		h = (h ^ ((wire_len >> (8 * i)) & 0xff)) * 0x100000001b3ull;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	return h;
}

int nc_gather_new(const struct nc_gather_opts *o, const struct nc_gather_point *points,
		  uint32_t n_points, char *const *stages, uint32_t n_stages, struct nc_gather **out,
		  char *err, size_t errlen)
{
	struct nc_gather *g;

	if (n_stages < 2 || n_stages > NC_MAX_HOOKS)
		return nc_err(err, errlen, EINVAL,
			      "-G follows packets from point to point: give 2 to %d hook points",
			      NC_MAX_HOOKS);
	g = calloc(1, sizeof(*g));
	if (!g)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	g->o = *o;
	g->n_points = n_points;
	g->n_stages = n_stages;
	g->points = g_memdup2(points, n_points * sizeof(*points));
	g->keys = g_hash_table_new_full(key_hash, key_equal, g_free, free_queue);
	g_queue_init(&g->open);
	g_queue_init(&g->held);
	g->lines = g_string_sized_new(256);
	/* a stage is named by its points' short name when they agree, else by its spec */
	for (uint32_t k = 0; k < n_stages; k++) {
		const char *what = NULL;
		bool same = true;

		for (uint32_t i = 0; i < n_points; i++) {
			if (points[i].stage != k)
				continue;
			if (what && strcmp(what, points[i].what))
				same = false;
			what = points[i].what;
		}
		g->stage_names[k] = g_strdup(what && same ? what : stages[k]);
	}
	*out = g;
	return 0;
}

static void close_path(struct nc_gather *g, struct path *p)
{
	GQueue *q;

	if (p->closed)
		return;
	p->closed = true;
	g_queue_delete_link(&g->open, p->open_link);
	p->open_link = NULL;
	q = g_hash_table_lookup(g->keys, &p->key);
	if (q) {
		g_queue_remove(q, p);
		if (g_queue_is_empty(q))
			g_hash_table_remove(g->keys, &p->key);
	}
}

static void unref_path(struct path *p)
{
	if (--p->refs == 0)
		free(p);
}

int nc_gather_add(struct nc_gather *g, const struct nc_record *rec, const uint8_t *data)
{
	struct key key = {0};
	struct path *p = NULL;
	struct held *h;
	uint32_t stage;
	GQueue *q;

	if (rec->hook >= g->n_points)
		return 0;
	stage = g->points[rec->hook].stage;
	if (g->o.match == NC_GATHER_CONTENT) {
		key.value = nc_gather_content_hash(rec->wire_len, data, rec->cap_len);
	} else {
		key.value = rec->object;
		key.pid = g->o.kernel || g->points[rec->hook].kernel ? 0 : rec->pid;
	}
	h = malloc(sizeof(*h) + rec->cap_len);
	if (!h)
		return -ENOMEM;
	q = g_hash_table_lookup(g->keys, &key);
	/* the oldest open path of this key that has not reached this stage yet */
	for (GList *l = q ? q->head : NULL; l; l = l->next) {
		struct path *c = l->data;

		if (c->hits[c->n_hits - 1].stage < stage) {
			p = c;
			break;
		}
	}
	if (!p) {
		/* a pointer seen again at a stage it passed: the mbuf holds a new packet now */
		while (g->o.match == NC_GATHER_POINTER && (q = g_hash_table_lookup(g->keys, &key)))
			close_path(g, g_queue_peek_head(q));
		p = calloc(1, sizeof(*p) + g->n_stages * sizeof(p->hits[0]));
		if (!p) {
			free(h);
			return -ENOMEM;
		}
		p->key = key;
		q = g_hash_table_lookup(g->keys, &key);
		if (!q) {
			q = g_queue_new();
			g_hash_table_insert(g->keys, g_memdup2(&key, sizeof(key)), q);
		}
		g_queue_push_tail(q, p);
		g_queue_push_tail(&g->open, p);
		p->open_link = g->open.tail;
	}
	p->hits[p->n_hits++] = (struct hit){stage, rec->hook, rec->pid, rec->ts_ns};
	p->refs++;
	h->rec = *rec;
	h->path = p;
	h->hit = p->n_hits - 1;
	memcpy(h->data, data, rec->cap_len);
	g_queue_push_tail(&g->held, h);
	g->held_bytes += rec->cap_len;
	if (stage == g->n_stages - 1)
		close_path(g, p);
	return 0;
}

/* A hit's name: the point's short name, or its interface name in another process than the
 * path's first point (content matching follows packets between processes) */
static const char *hit_name(const struct nc_gather *g, const struct path *p, uint32_t i)
{
	const struct nc_gather_point *pt = &g->points[p->hits[i].point];
	bool kernel = g->o.kernel || pt->kernel || g->points[p->hits[0].point].kernel;

	return !kernel && p->hits[i].pid != p->hits[0].pid ? pt->name : pt->what;
}

/* "+1.834 µs": nanoseconds in µs, exactly (no floating point) */
static void append_us(GString *s, int64_t ns)
{
	uint64_t abs = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	g_string_append_printf(s, "%c%llu.%03llu µs", ns < 0 ? '-' : '+',
			       (unsigned long long)(abs / 1000), (unsigned long long)(abs % 1000));
}

/*
 * The lines of a held record: at the path's first record, the path and the stages it missed;
 * at a later one, the time since the previous point (and since the first)
 */
static void describe(struct nc_gather *g, const struct held *h, GString *s)
{
	const struct path *p = h->path;

	if (h->hit == 0) {
		uint32_t k = 0;

		g_string_append_printf(s, "path: %s", hit_name(g, p, 0));
		for (uint32_t i = 1; i < p->n_hits; i++) {
			g_string_append(s, " → ");
			append_us(s, (int64_t)(p->hits[i].ts_ns - p->hits[i - 1].ts_ns));
			g_string_append_printf(s, " %s", hit_name(g, p, i));
		}
		for (uint32_t i = 0; i < g->n_stages; i++) {
			if (k < p->n_hits && p->hits[k].stage == i) {
				k++;
				continue;
			}
			g_string_append_printf(s, "\nnot seen at %s", g->stage_names[i]);
			g->sum.missed[i]++;
		}
		g->sum.paths++;
		if (p->n_hits == g->n_stages)
			g->sum.complete++;
		return;
	}
	append_us(s, (int64_t)(p->hits[h->hit].ts_ns - p->hits[h->hit - 1].ts_ns));
	g_string_append_printf(s, " at %s (since %s)", hit_name(g, p, h->hit),
			       hit_name(g, p, h->hit - 1));
	if (h->hit >= 2) {
		g_string_append(s, ", ");
		append_us(s, (int64_t)(p->hits[h->hit].ts_ns - p->hits[0].ts_ns));
		g_string_append_printf(s, " since %s", hit_name(g, p, 0));
	}
}

int nc_gather_release(struct nc_gather *g, uint64_t now_ns, bool all, nc_gather_write_fn write,
		      void *ctx)
{
	uint64_t timeout_ns = g->o.timeout_ms * 1000000ull;
	GString *lines = g->lines;
	int written = 0;

	while (!g_queue_is_empty(&g->open)) {
		struct path *p = g_queue_peek_head(&g->open);

		if (!all && p->hits[0].ts_ns + timeout_ns > now_ns)
			break;
		close_path(g, p);
	}
	while (!g_queue_is_empty(&g->held)) {
		struct held *h = g_queue_peek_head(&g->held);
		int ret;

		/* past the window the oldest path is closed as it stands */
		if (!h->path->closed && g->held.length <= NC_GATHER_WINDOW &&
		    g->held_bytes <= NC_GATHER_WINDOW_BYTES)
			break;
		close_path(g, h->path);
		g_string_truncate(lines, 0);
		describe(g, h, lines);
		ret = write(ctx, &h->rec, h->data, lines->str);
		g_queue_pop_head(&g->held);
		g->held_bytes -= h->rec.cap_len;
		unref_path(h->path);
		free(h);
		if (ret) {
			written = ret;
			break;
		}
		written++;
	}
	return written;
}

void nc_gather_summarize(const struct nc_gather *g, struct nc_gather_summary *s)
{
	*s = g->sum;
	s->n_stages = g->n_stages;
	for (uint32_t i = 0; i < g->n_stages; i++)
		s->stage_names[i] = g_strdup(g->stage_names[i]);
}

void nc_gather_summary_clear(struct nc_gather_summary *s)
{
	for (uint32_t i = 0; i < s->n_stages; i++)
		g_free(s->stage_names[i]);
	memset(s, 0, sizeof(*s));
}

void nc_gather_free(struct nc_gather *g)
{
	struct held *h;

	if (!g)
		return;
	while ((h = g_queue_pop_head(&g->held))) {
		close_path(g, h->path);
		unref_path(h->path);
		free(h);
	}
	/* paths without held records are not kept */
	g_queue_clear(&g->open);
	g_hash_table_destroy(g->keys);
	g_string_free(g->lines, TRUE);
	for (uint32_t i = 0; i < g->n_stages; i++)
		g_free(g->stage_names[i]);
	g_free(g->points);
	free(g);
}
