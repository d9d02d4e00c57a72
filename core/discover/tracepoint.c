/* SPDX-License-Identifier: BSD-2-Clause */
#include "tracepoint.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "../util/err.h"

/* Tracepoints that carry an skb, by category, to name what would serve */
static const char *const common[] = {
    "net:netif_receive_skb", "net:net_dev_queue", "net:net_dev_xmit",
    "net:netif_rx",	     "skb:kfree_skb",	  "skb:consume_skb",
};

struct btf *nc_kernel_btf(char *err, size_t errlen)
{
	struct btf *btf = btf__load_vmlinux_btf();

	if (!btf)
		nc_err(err, errlen, errno,
		       "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; skb mode needs "
		       "a kernel built with CONFIG_DEBUG_INFO_BTF",
		       strerror(errno));
	return btf;
}

/* t with typedefs and qualifiers skipped */
static const struct btf_type *skip_mods(const struct btf *btf, __u32 id, __u32 *res)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t &&
	       (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (res)
		*res = id;
	return t;
}

static bool is_named(const struct btf *btf, const struct btf_type *t, const char *name)
{
	return t && !strcmp(btf__name_by_offset(btf, t->name_off), name);
}

/* The tracepoint's probe prototype, whose first parameter is the void *__data */
static const struct btf_type *proto_of(const struct btf *btf, const char *name)
{
	g_autofree char *tname = g_strdup_printf("btf_trace_%s", name);
	int id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	const struct btf_type *t;

	if (id < 0)
		return NULL;
	t = skip_mods(btf, (__u32)id, NULL);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

static int describe(const struct btf *btf, const char *name, struct nc_tracepoint *tp)
{
	const struct btf_type *proto = proto_of(btf, name);
	const struct btf_param *p;

	if (!proto)
		return -ENOENT;
	tp->skb_arg = -1;
	tp->reason_arg = -1;
	tp->nargs = btf_vlen(proto) - 1;
	p = btf_params(proto);
	for (int i = 1; i < btf_vlen(proto); i++) {
		const struct btf_type *t = skip_mods(btf, p[i].type, NULL);

		if (t && btf_is_ptr(t) && tp->skb_arg < 0 &&
		    is_named(btf, skip_mods(btf, t->type, NULL), "sk_buff"))
			tp->skb_arg = i - 1;
		else if (t && btf_is_enum(t) && is_named(btf, t, "skb_drop_reason"))
			tp->reason_arg = i - 1;
	}
	return tp->skb_arg < 0 ? -EINVAL : 0;
}

char *nc_tracepoints_with_skb(const struct btf *btf)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(common); i++) {
		struct nc_tracepoint tp;

		if (!describe(btf, strchr(common[i], ':') + 1, &tp))
			g_string_append_printf(s, "%s%s", s->len ? ", " : "", common[i]);
	}
	return g_string_free(s, FALSE);
}

int nc_tracepoint_find(const struct btf *btf, const char *name, struct nc_tracepoint *tp, char *err,
		       size_t errlen)
{
	int ret = describe(btf, name, tp);
	g_autofree char *serve = NULL;

	if (!ret)
		return 0;
	serve = nc_tracepoints_with_skb(btf);
	if (ret == -ENOENT)
		return nc_err(
		    err, errlen, ENOENT,
		    "no tracepoint \"%s\" in this kernel; tracepoints that carry an skb: %s", name,
		    serve);
	return nc_err(err, errlen, EINVAL,
		      "tracepoint \"%s\" carries no struct sk_buff; tracepoints that do: %s", name,
		      serve);
}

const char *nc_drop_reason_name(const struct btf *btf, uint32_t value)
{
	int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, (__u32)id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		if ((uint32_t)e[i].val == value) {
			const char *n = btf__name_by_offset(btf, e[i].name_off);

			return strncmp(n, "SKB_DROP_REASON_", 16) ? n : n + 16;
		}
	}
	return NULL;
}
