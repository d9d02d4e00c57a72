/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE /* setns */
#include "skb_plan.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../discover/kallsyms.h"
#include "../discover/kskb.h"
#include "../discover/tracepoint.h"
#include "../util/err.h"
#include "../write/pcapng.h"

#define IDENT "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

struct planner {
	struct nc_plan *plan;
	const struct btf *btf;
	const struct nc_skb_plan_opts *o;
	uint32_t stage; /* the stage of the spec being planned */
};

/* Tracepoints whose packets are received or sent (the rest: no direction) */
static uint32_t direction_of(const char *name)
{
	static const char *const in[] = {"netif_receive_skb", "netif_rx", "netif_receive_skb_entry",
					 "napi_gro_receive_entry", "netif_rx_entry"};
	static const char *const out[] = {"net_dev_queue", "net_dev_start_xmit", "net_dev_xmit"};

	for (size_t i = 0; i < G_N_ELEMENTS(in); i++)
		if (!strcmp(name, in[i]))
			return NC_DIR_IN;
	for (size_t i = 0; i < G_N_ELEMENTS(out); i++)
		if (!strcmp(name, out[i]))
			return NC_DIR_OUT;
	return NC_DIR_NONE;
}

/*
 * The two interfaces of a hook point: BASE[@IFACE] for packets with an Ethernet header and
 * BASE[@IFACE]:raw for those without a link header; their hook ids go into pt's settings.
 */
static int add_points(struct planner *c, struct nc_plan_kpoint *pt, const char *base,
		      const char *desc, char *err, size_t errlen)
{
	bool one = c->o->iface && strcmp(c->o->iface, "any");
	g_autofree char *l2 =
	    g_strdup_printf("%s%s%s", base, one ? "@" : "", one ? c->o->iface : "");
	g_autofree char *l3 = g_strdup_printf("%s:raw", l2);
	int ret = nc_plan_add_point(c->plan, NC_BACKEND_KERNEL, l2, desc, l2, NC_LINKTYPE_ETHERNET,
				    c->stage, &pt->cfg.hook_l2, err, errlen);

	if (!ret) /* -G: both are the spec's stage, named by the L2 name */
		ret = nc_plan_add_point(c->plan, NC_BACKEND_KERNEL, l3, desc, l2, NC_LINKTYPE_RAW,
					c->stage, &pt->cfg.hook_l3, err, errlen);
	return ret;
}

/* The name of BTF type `id` as C spells a parameter: "struct sk_buff *" */
static void type_name(const struct btf *btf, __u32 id, char *buf, size_t len)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	int stars = 0;

	while (t && (btf_is_ptr(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_typedef(t))) {
		if (btf_is_typedef(t))
			break;
		stars += btf_is_ptr(t);
		t = btf__type_by_id(btf, t->type);
	}
	snprintf(buf, len, "%s%s%s%.*s", t && btf_is_struct(t) ? "struct " : "",
		 t && t->name_off ? btf__name_by_offset(btf, t->name_off) : "void",
		 stars ? " " : "", stars, "****");
}

/* FUNC@N: a kernel function whose argument N is the skb, through fentry or a kprobe */
static int plan_function(struct planner *c, const char *spec, char *err, size_t errlen)
{
	g_autofree char *func = g_strndup(spec, strcspn(spec, "@"));
	g_autofree char *inner = g_strdup_printf("__%s", func);
	g_autofree char *serve = nc_tracepoints_with_skb(c->btf);
	g_autofree char *desc = NULL;
	bool kprobes = access("/sys/bus/event_source/devices/kprobe", F_OK) == 0;
	int id = btf__find_by_name_kind(c->btf, func, BTF_KIND_FUNC);
	const struct btf_type *proto;
	struct nc_plan_kpoint *pt;
	guint64 n;
	char tname[128], types[2];

	/* an inline wrapper (dev_queue_xmit in 6.x, around __dev_queue_xmit) is no function of the
	 * kernel's: absent, or a local copy some file emitted ("t" in kallsyms), which cannot be
	 * hooked as the function (fentry refuses it: EBUSY) */
	if (nc_kallsyms_text_types(NULL, (const char *const[]){func, inner}, 2, types) == 0 &&
	    types[0] != 'T' && types[1] == 'T' &&
	    btf__find_by_name_kind(c->btf, inner, BTF_KIND_FUNC) > 0)
		return nc_err(err, errlen, ENOENT,
			      "no kernel function \"%s\" in this kernel (an inline wrapper here); "
			      "hook the function that serves it: %s@%s",
			      func, inner, spec + strlen(func) + 1);
	if (id < 0) {
		return nc_err(
		    err, errlen, ENOENT,
		    "no kernel function \"%s\" in the kernel's BTF; tracepoints that carry "
		    "an skb: %s",
		    func, serve);
	}
	if (!g_ascii_string_to_unsigned(spec + strlen(func) + 1, 10, 1, 5, &n, NULL))
		return nc_err(err, errlen, EINVAL,
			      "hook spec \"%s\": FUNC@N with N from 1 to 5, the skb's argument",
			      spec);
	proto = btf__type_by_id(c->btf, btf__type_by_id(c->btf, (__u32)id)->type);
	if (!proto || btf_vlen(proto) < n)
		return nc_err(err, errlen, EINVAL, "%s has %d arguments, not %u", func,
			      proto ? btf_vlen(proto) : 0, (unsigned)n);
	type_name(c->btf, btf_params(proto)[n - 1].type, tname, sizeof(tname));
	if (strcmp(tname, "struct sk_buff *"))
		return nc_err(err, errlen, EINVAL, "argument %u of %s is %s, not struct sk_buff *",
			      (unsigned)n, func, tname);
	if (c->plan->n_kpoints >= NC_PLAN_MAX_KPOINTS)
		return nc_err(err, errlen, E2BIG, "at most %d hook points", NC_PLAN_MAX_KPOINTS);
	pt = &c->plan->kpoints[c->plan->n_kpoints];
	if (c->o->attach == NC_SKB_KPROBE && !kprobes)
		return nc_err(err, errlen, ENOTSUP,
			      "\"%s\": --attach kprobe: this kernel has no kprobes (no kprobe "
			      "event source); try --attach fentry",
			      spec);
	if (c->o->attach != NC_SKB_KPROBE && nc_kskb_fentry_works(id))
		pt->how = NC_SKB_FENTRY;
	else if (c->o->attach == NC_SKB_FENTRY)
		return nc_err(
		    err, errlen, ENOTSUP,
		    "\"%s\": --attach fentry: the kernel refuses an fentry program at %s; "
		    "try --attach kprobe",
		    spec, func);
	else if (kprobes)
		pt->how = NC_SKB_KPROBE;
	else
		return nc_err(
		    err, errlen, ENOTSUP,
		    "\"%s\": this kernel has no kprobes (no kprobe event source) and "
		    "refuses fentry programs, so kernel functions cannot be hooked; use a "
		    "tracepoint that carries the skb: %s",
		    spec, serve);
	pt->target = g_strdup(func);
	c->plan->n_kpoints++;
	pt->cfg.skb_arg = (__u32)n - 1;
	pt->cfg.reason_arg = -1;
	/* a drop function (kfree_skb_reason): its reason is the argument after the skb */
	if (btf_vlen(proto) > n && n < 5) {
		type_name(c->btf, btf_params(proto)[n].type, tname, sizeof(tname));
		if (!strcmp(tname, "skb_drop_reason") || !strcmp(tname, "enum skb_drop_reason"))
			pt->cfg.reason_arg = (__s32)n;
	}
	pt->cfg.direction = NC_DIR_NONE;
	desc = g_strdup_printf("netcap skb capture at kernel function %s (%s)", func,
			       pt->how == NC_SKB_FENTRY ? "fentry" : "kprobe");
	return add_points(c, pt, func, desc, err, errlen);
}

/* The category of a tracepoint cannot be told from BTF; check it where tracefs is mounted */
static int check_category(const char *cat, const char *name, char *err, size_t errlen)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

	for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
		g_autofree char *events = g_strdup_printf("%s/events", roots[i]);
		g_autofree char *path = NULL;

		if (access(events, F_OK))
			continue;
		path = g_strdup_printf("%s/%s/%s", events, cat, name);
		if (access(path, F_OK))
			return nc_err(err, errlen, ENOENT, "no tracepoint %s:%s (not in %s)", cat,
				      name, events);
		return 0;
	}
	return 0;
}

static int plan_tracepoint(struct planner *c, const char *spec, char *err, size_t errlen)
{
	const char *rest = g_str_has_prefix(spec, "tracepoint:") ? spec + 11
			   : g_str_has_prefix(spec, "tp:")	 ? spec + 3
								 : spec;
	const char *colon = strchr(rest, ':');
	g_autofree char *cat = NULL, *base = NULL, *desc = NULL;
	struct nc_tracepoint tp;
	struct nc_plan_kpoint *pt;
	const char *name;
	int ret;

	if (!colon || colon == rest || !colon[1] || strchr(colon + 1, ':'))
		return nc_err(err, errlen, EINVAL,
			      "hook spec \"%s\": a tracepoint is tracepoint:CATEGORY:NAME, e.g. "
			      "tracepoint:net:netif_receive_skb",
			      spec);
	if (c->plan->n_kpoints >= NC_PLAN_MAX_KPOINTS)
		return nc_err(err, errlen, E2BIG, "at most %d tracepoints", NC_PLAN_MAX_KPOINTS);
	cat = g_strndup(rest, (gsize)(colon - rest));
	name = colon + 1;
	/* tracefs and BTF names are C identifiers; nothing else goes into a path */
	if (strspn(cat, IDENT) != strlen(cat) || strspn(name, IDENT) != strlen(name))
		return nc_err(err, errlen, EINVAL,
			      "hook spec \"%s\": tracepoint categories and names are letters, "
			      "digits and '_', e.g. tracepoint:net:netif_receive_skb",
			      spec);
	ret = nc_tracepoint_find(c->btf, name, &tp, err, errlen);
	if (!ret)
		ret = check_category(cat, name, err, errlen);
	if (ret)
		return ret;
	pt = &c->plan->kpoints[c->plan->n_kpoints++];
	pt->target = g_strdup(name);
	pt->how = NC_SKB_TRACEPOINT;
	pt->cfg.skb_arg = (__u32)tp.skb_arg;
	pt->cfg.reason_arg = tp.reason_arg;
	pt->cfg.direction = direction_of(name);
	base = g_strdup_printf("%s:%s", cat, name);
	desc = g_strdup_printf("netcap skb capture at tracepoint %s", base);
	return add_points(c, pt, base, desc, err, errlen);
}

/* An interface name as Linux takes it (dev_valid_name()): 1 to 15 bytes, not "." or "..", no
 * '/', ':' or white space; "any" means every interface */
static int check_iface(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);
	bool ok = len >= 1 && len < IF_NAMESIZE && strcmp(name, ".") && strcmp(name, "..");

	for (const char *p = name; ok && *p; p++)
		ok = *p != '/' && *p != ':' && !g_ascii_isspace(*p) && g_ascii_isprint(*p);
	if (!ok) {
		g_autofree char *shown = g_strescape(name, NULL);

		return nc_err(err, errlen, EINVAL,
			      "bad interface name \"%s\": Linux names have 1 to %d printable "
			      "characters, none of them '/', ':' or a space; see: ip link",
			      shown, IF_NAMESIZE - 1);
	}
	return 0;
}

/* -i IFACE [--netns PATH]: the interface's index and its namespace's inode */
static int resolve_iface(struct planner *c, char *err, size_t errlen)
{

	int self = -1, target = -1, ret = 0;
	struct stat st;

	if (!c->o->iface || !strcmp(c->o->iface, "any")) {
		if (c->o->netns)
			return nc_err(err, errlen, EINVAL,
				      "--netns names the namespace of -i IFACE");
		return 0;
	}
	if (c->o->netns) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(c->o->netns, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			ret = nc_err(err, errlen, errno,
				     "bad --netns \"%s\": %s; give a namespace file such as "
				     "/run/netns/NAME or /proc/PID/ns/net",
				     c->o->netns, strerror(errno));
			goto out;
		}
		if (self < 0 || setns(target, CLONE_NEWNET)) {
			ret = nc_err(err, errlen, errno, "bad --netns \"%s\": %s", c->o->netns,
				     strerror(errno));
			goto out;
		}
	}
	c->plan->ifindex = if_nametoindex(c->o->iface);
	if (stat("/proc/thread-self/ns/net", &st) == 0)
		c->plan->netns = st.st_ino;
	if (self >= 0 && setns(self, CLONE_NEWNET))
		ret = nc_err(err, errlen, errno, "cannot return to netcap's network namespace: %s",
			     strerror(errno));
	if (!ret && !c->plan->ifindex)
		ret = nc_err(err, errlen, ENODEV, "no interface \"%s\" in %s; see: ip link%s%s",
			     c->o->iface, c->o->netns ? c->o->netns : "this network namespace",
			     c->o->netns ? " (in that namespace)" : "", "");
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return ret;
}

int nc_skb_plan(struct nc_plan *plan, const struct btf *btf, const struct nc_skb_plan_opts *o,
		char *const *specs, size_t n_specs, const uint32_t *stages, char *err,
		size_t errlen)
{
	struct planner c = {.plan = plan, .btf = btf, .o = o};
	int ret = o->iface ? check_iface(o->iface, err, errlen) : 0;

	if (!ret)
		ret = resolve_iface(&c, err, errlen);

	for (size_t i = 0; !ret && i < n_specs; i++) {
		const char *spec = specs[i];

		c.stage = stages ? stages[i] : (uint32_t)i;
		if (strchr(spec, '@'))
			ret = plan_function(&c, spec, err, errlen);
		else if (strchr(spec, ':'))
			ret = plan_tracepoint(&c, spec, err, errlen);
		else
			ret = nc_err(err, errlen, EINVAL,
				     "hook spec \"%s\": give tracepoint:CATEGORY:NAME or FUNC@N",
				     spec);
	}
	return ret;
}
