/* SPDX-License-Identifier: BSD-2-Clause */
#include "kskb.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACEFS_EVENTS "/sys/kernel/tracing/events"

void nc_kskb_free(struct nc_kskb_point *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

/* t with typedefs and qualifiers skipped */
static const struct btf_type *skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t &&
	       (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

static bool is_skb_ptr(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = skip_mods(btf, id);

	if (!t || !btf_is_ptr(t))
		return false;
	t = skip_mods(btf, t->type);
	return t && btf_is_struct(t) && !strcmp(btf__name_by_offset(btf, t->name_off), "sk_buff");
}

static bool is_drop_reason(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = skip_mods(btf, id);

	return t && btf_is_enum(t) &&
	       !strcmp(btf__name_by_offset(btf, t->name_off), "skb_drop_reason");
}

/* The TRACE_SYSTEM of the kernel headers that define the skb tracepoints (include/trace/events),
 * by name prefix: for when tracefs is not mounted */
static const char *category_by_name(const char *name)
{
	static const struct {
		const char *prefix, *category;
	} rules[] = {
	    {"kfree_skb", "skb"},  {"consume_skb", "skb"}, {"skb_copy_datagram_iovec", "skb"},
	    {"net_dev_", "net"},   {"netif_", "net"},	   {"napi_gro_", "net"},
	    {"sock_", "sock"},	   {"inet_sock_", "sock"}, {"udp_", "udp"},
	    {"tcp_", "tcp"},	   {"qdisc_", "qdisc"},	   {"icmp_", "icmp"},
	    {"subflow_", "mptcp"}, {"mptcp_", "mptcp"},	   {"fib_", "fib"},
	    {"neigh_", "neigh"},   {"xdp_", "xdp"},	   {"bridge_", "bridge"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		if (g_str_has_prefix(name, rules[i].prefix))
			return rules[i].category;
	return NULL;
}

/* category -> NULL, name -> category, from tracefs's events directory; NULL if not mounted */
static GHashTable *tracefs_categories(void)
{
	GHashTable *h;
	GDir *top = g_dir_open(TRACEFS_EVENTS, 0, NULL);
	const char *cat;

	if (!top)
		return NULL;
	h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	while ((cat = g_dir_read_name(top))) {
		g_autofree char *path = g_build_filename(TRACEFS_EVENTS, cat, NULL);
		GDir *d = g_dir_open(path, 0, NULL);
		const char *ev;

		while (d && (ev = g_dir_read_name(d)))
			g_hash_table_replace(h, g_strdup(ev), g_strdup(cat));
		if (d)
			g_dir_close(d);
	}
	g_dir_close(top);
	return h;
}

/* A category string that lives as long as the program (tracefs names are interned) */
static const char *intern(const char *s)
{
	return s ? g_intern_string(s) : NULL;
}

int nc_kskb_tracepoints(const struct btf *btf, struct nc_kskb_point **out, size_t *n,
			bool *from_tracefs)
{
	GArray *v = g_array_new(FALSE, TRUE, sizeof(struct nc_kskb_point));
	GHashTable *cats = tracefs_categories();
	__u32 types = btf__type_cnt(btf);

	*from_tracefs = cats != NULL;
	for (__u32 id = 1; id < types; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id), *proto;
		const char *name = btf__name_by_offset(btf, t->name_off);
		struct nc_kskb_point p = {0};
		const struct btf_param *params;

		if (!btf_is_typedef(t) || !g_str_has_prefix(name, "btf_trace_"))
			continue;
		proto = skip_mods(btf, t->type);
		if (!proto || !btf_is_ptr(proto))
			continue;
		proto = btf__type_by_id(btf, proto->type);
		if (!proto || !btf_is_func_proto(proto))
			continue;
		params = btf_params(proto);
		/* the first parameter is the probe's void *__data */
		for (int i = 1; i < btf_vlen(proto); i++) {
			if (!p.skb_arg && is_skb_ptr(btf, params[i].type))
				p.skb_arg = i;
			else if (!p.reason_arg && is_drop_reason(btf, params[i].type))
				p.reason_arg = i;
		}
		if (!p.skb_arg)
			continue;
		p.name = g_strdup(name + strlen("btf_trace_"));
		p.category =
		    cats ? intern(g_hash_table_lookup(cats, p.name)) : category_by_name(p.name);
		g_array_append_val(v, p);
	}
	if (cats)
		g_hash_table_destroy(cats);
	*n = v->len;
	*out = (struct nc_kskb_point *)(void *)g_array_free(v, FALSE);
	return 0;
}

int nc_kskb_functions(const struct btf *btf, struct nc_kskb_point **out, size_t *n)
{
	GArray *v = g_array_new(FALSE, TRUE, sizeof(struct nc_kskb_point));
	__u32 types = btf__type_cnt(btf);

	for (__u32 id = 1; id < types; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id), *proto;
		const struct btf_param *params;

		if (!btf_is_func(t) || !(proto = btf__type_by_id(btf, t->type)) ||
		    !btf_is_func_proto(proto))
			continue;
		params = btf_params(proto);
		for (int i = 0; i < btf_vlen(proto) && i < 5; i++) {
			if (is_skb_ptr(btf, params[i].type)) {
				struct nc_kskb_point p = {
				    .name = g_strdup(btf__name_by_offset(btf, t->name_off)),
				    .skb_arg = i + 1};

				g_array_append_val(v, p);
				break;
			}
		}
	}
	*n = v->len;
	*out = (struct nc_kskb_point *)(void *)g_array_free(v, FALSE);
	return 0;
}

bool nc_kskb_fentry_works(int id)
{
	static const struct bpf_insn prog[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
	    {.code = BPF_JMP | BPF_EXIT}};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = (__u32)id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "nc_probe", "GPL", prog, 2, &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

const char *nc_kskb_function_hook(const struct btf *btf, const char *probe)
{
	int id = btf__find_by_name_kind(btf, probe, BTF_KIND_FUNC);

	if (id > 0 && nc_kskb_fentry_works(id))
		return "fentry";
	if (access("/sys/bus/event_source/devices/kprobe", F_OK) == 0)
		return "kprobe";
	return NULL;
}
