/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE /* setns */
#include "skb_capture.h"

#include <bpf/bpf.h>
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

#include "../../bpf/nc_filter_abi.h"
#include "../discover/kallsyms.h"
#include "../discover/kskb.h"
#include "../discover/tracepoint.h"
#include "../filter/filter.h"
#include "../load/skb_probe.h"
#include "../util/err.h"
#include "guard.h"

#define RING_BYTES (16u << 20)
#define IDENT	   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

struct capture {
	const struct nc_skb_request *r;
	struct btf *btf;
	struct nc_filter *filter;
	struct nc_skb_probe *probe;
	struct nc_kallsyms *ksyms;
	struct nc_addr_range *text; /* the probe's JIT images: its frames in a stack (-S) */
	size_t n_text;
	struct nc_session *session; /* own, or a DPDK run's (nc_skb_part_open) */
	struct nc_session own;
	const uint32_t *stages; /* the stage of each spec; NULL = its index */
	struct nc_skb_point points[NC_SKB_MAX_TRACEPOINTS];
	char *names[NC_SKB_MAX_TRACEPOINTS];
	size_t n;
	uint32_t ifindex;
	uint64_t netns;
	uint32_t stage; /* the index of the spec being planned (-G) */
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
static int add_points(struct capture *c, struct nc_skb_point *pt, const char *base,
		      const char *desc, char *err, size_t errlen)
{
	bool one = c->r->cap.iface && strcmp(c->r->cap.iface, "any");
	g_autofree char *l2 =
	    g_strdup_printf("%s%s%s", base, one ? "@" : "", one ? c->r->cap.iface : "");
	g_autofree char *l3 = g_strdup_printf("%s:raw", l2);
	int ret = nc_session_add_point(c->session, l2, desc, l2, NC_LINKTYPE_ETHERNET,
				       &pt->cfg.hook_l2, err, errlen);

	if (!ret)
		ret = nc_session_add_point(c->session, l3, desc, l2, NC_LINKTYPE_RAW,
					   &pt->cfg.hook_l3, err, errlen);
	if (!ret) { /* -G: both are the spec's stage, named by the L2 name, keyed without a pid */
		c->session->points[pt->cfg.hook_l2].stage =
		    c->session->points[pt->cfg.hook_l3].stage = c->stage;
		c->session->points[pt->cfg.hook_l2].kernel =
		    c->session->points[pt->cfg.hook_l3].kernel = true;
	}
	return ret;
}

/* What every hook point of the capture shares: the interface, the lengths */
static void common_cfg(const struct capture *c, struct nc_skb_point *pt)
{
	pt->cfg.ifindex = c->ifindex;
	pt->cfg.netns = c->netns;
	pt->cfg.snaplen = c->r->cap.snaplen;
	pt->cfg.window =
	    c->r->cap.snaplen < NC_FILTER_WINDOW ? c->r->cap.snaplen : NC_FILTER_WINDOW;
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

/* The type letter of the kernel's own text symbol `name` in /proc/kallsyms (T global, t local),
 * or 0 when it has none */
static char ksym_type(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], type = 0;

	while (f && !type && fgets(line, sizeof(line), f)) {
		char t, sym[256], rest[8];

		if (sscanf(line, "%*s %c %255s %7s", &t, sym, rest) == 2 &&
		    (t == 'T' || t == 't') && !strcmp(sym, name))
			type = t;
	}
	if (f)
		fclose(f);
	return type;
}

/* FUNC@N: a kernel function whose argument N is the skb, through fentry or a kprobe */
static int plan_function(struct capture *c, const char *spec, char *err, size_t errlen)
{
	g_autofree char *func = g_strndup(spec, strcspn(spec, "@"));
	g_autofree char *inner = g_strdup_printf("__%s", func);
	g_autofree char *serve = nc_tracepoints_with_skb(c->btf);
	g_autofree char *desc = NULL;
	bool kprobes = access("/sys/bus/event_source/devices/kprobe", F_OK) == 0;
	int id = btf__find_by_name_kind(c->btf, func, BTF_KIND_FUNC);
	const struct btf_type *proto;
	struct nc_skb_point *pt;
	guint64 n;
	char tname[128];

	/* an inline wrapper (dev_queue_xmit in 6.x, around __dev_queue_xmit) is no function of the
	 * kernel's: absent, or a local copy some file emitted ("t" in kallsyms), which cannot be
	 * hooked as the function (fentry refuses it: EBUSY) */
	if (ksym_type(func) != 'T' && ksym_type(inner) == 'T' &&
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
	if (c->n >= NC_SKB_MAX_TRACEPOINTS)
		return nc_err(err, errlen, E2BIG, "at most %d hook points", NC_SKB_MAX_TRACEPOINTS);
	pt = &c->points[c->n];
	if (c->r->attach == NC_SKB_KPROBE && !kprobes)
		return nc_err(err, errlen, ENOTSUP,
			      "\"%s\": --attach kprobe: this kernel has no kprobes (no kprobe "
			      "event source); try --attach fentry",
			      spec);
	if (c->r->attach != NC_SKB_KPROBE && nc_kskb_fentry_works(id))
		pt->how = NC_SKB_FENTRY;
	else if (c->r->attach == NC_SKB_FENTRY)
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
	c->names[c->n] = g_strdup(func);
	pt->target = c->names[c->n++];
	pt->cfg.skb_arg = (__u32)n - 1;
	pt->cfg.reason_arg = -1;
	/* a drop function (kfree_skb_reason): its reason is the argument after the skb */
	if (btf_vlen(proto) > n && n < 5) {
		type_name(c->btf, btf_params(proto)[n].type, tname, sizeof(tname));
		if (!strcmp(tname, "skb_drop_reason") || !strcmp(tname, "enum skb_drop_reason"))
			pt->cfg.reason_arg = (__s32)n;
	}
	pt->cfg.direction = NC_DIR_NONE;
	common_cfg(c, pt);
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

static int plan_tracepoint(struct capture *c, const char *spec, char *err, size_t errlen)
{
	const char *rest = g_str_has_prefix(spec, "tracepoint:") ? spec + 11
			   : g_str_has_prefix(spec, "tp:")	 ? spec + 3
								 : spec;
	const char *colon = strchr(rest, ':');
	g_autofree char *cat = NULL, *base = NULL, *desc = NULL;
	struct nc_tracepoint tp;
	struct nc_skb_point *pt;
	const char *name;
	int ret;

	if (!colon || colon == rest || !colon[1] || strchr(colon + 1, ':'))
		return nc_err(err, errlen, EINVAL,
			      "hook spec \"%s\": a tracepoint is tracepoint:CATEGORY:NAME, e.g. "
			      "tracepoint:net:netif_receive_skb",
			      spec);
	if (c->n >= NC_SKB_MAX_TRACEPOINTS)
		return nc_err(err, errlen, E2BIG, "at most %d tracepoints", NC_SKB_MAX_TRACEPOINTS);
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
	c->names[c->n] = g_strdup(name);
	pt = &c->points[c->n++];
	pt->target = c->names[c->n - 1];
	pt->how = NC_SKB_TRACEPOINT;
	pt->cfg.skb_arg = (__u32)tp.skb_arg;
	pt->cfg.reason_arg = tp.reason_arg;
	pt->cfg.direction = direction_of(name);
	common_cfg(c, pt);
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
static int resolve_iface(struct capture *c, char *err, size_t errlen)
{
	const struct nc_skb_request *r = c->r;
	int self = -1, target = -1, ret = 0;
	struct stat st;

	if (!r->cap.iface || !strcmp(r->cap.iface, "any")) {
		if (r->cap.netns)
			return nc_err(err, errlen, EINVAL,
				      "--netns names the namespace of -i IFACE");
		return 0;
	}
	if (r->cap.netns) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(r->cap.netns, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			ret = nc_err(err, errlen, errno,
				     "bad --netns \"%s\": %s; give a namespace file such as "
				     "/run/netns/NAME or /proc/PID/ns/net",
				     r->cap.netns, strerror(errno));
			goto out;
		}
		if (self < 0 || setns(target, CLONE_NEWNET)) {
			ret = nc_err(err, errlen, errno, "bad --netns \"%s\": %s", r->cap.netns,
				     strerror(errno));
			goto out;
		}
	}
	c->ifindex = if_nametoindex(r->cap.iface);
	if (stat("/proc/thread-self/ns/net", &st) == 0)
		c->netns = st.st_ino;
	if (self >= 0 && setns(self, CLONE_NEWNET))
		ret = nc_err(err, errlen, errno, "cannot return to netcap's network namespace: %s",
			     strerror(errno));
	if (!ret && !c->ifindex)
		ret = nc_err(err, errlen, ENODEV, "no interface \"%s\" in %s; see: ip link%s%s",
			     r->cap.iface, r->cap.netns ? r->cap.netns : "this network namespace",
			     r->cap.netns ? " (in that namespace)" : "", "");
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return ret;
}

/* The session's operations on the skb probe */
static int attach_all(void *ctx, char *err, size_t errlen)
{
	return nc_skb_probe_attach(((struct capture *)ctx)->probe, err, errlen);
}

static void enable(void *ctx, bool on)
{
	nc_skb_probe_enable(((struct capture *)ctx)->probe, on);
}

static void detach_all(void *ctx)
{
	nc_skb_probe_detach(((struct capture *)ctx)->probe);
}

static int counters(void *ctx, uint32_t hook, struct nc_counters *sum)
{
	return nc_skb_probe_counters(((struct capture *)ctx)->probe, hook, sum);
}

static void comment(void *ctx, const struct nc_record *rec, const struct nc_session_point *pt,
		    char *buf, size_t len)
{
	struct capture *c = ctx;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "cpu %u pid %u %s", rec->cpu, rec->pid, pt->label);
	if (rec->flags & NC_REC_SEGS_CUT)
		g_string_append(s, ", truncated: data beyond the page fragments not copied");
	if (rec->aux) {
		const char *why = nc_drop_reason_name(c->btf, rec->aux);

		if (why)
			g_string_append_printf(s, ", drop reason %s", why);
		else
			g_string_append_printf(s, ", drop reason %u", rec->aux);
	}
	if (c->r->cap.stacks) {
		uint64_t ips[NC_STACK_DEPTH];
		int n = nc_skb_probe_stack(c->probe, rec->stack_id, ips);

		if (n < 0) {
			g_string_append(s, "\nstack: lost (the stack map had no room)");
		} else {
			/* the first frames are netcap's probe and the tracing glue */
			size_t skip =
			    nc_kallsyms_probe_frames(c->ksyms, ips, (size_t)n, c->text, c->n_text);

			g_string_append(s, "\nstack:");
			for (size_t i = skip; i < (size_t)n; i++) {
				char sym[160];

				nc_kallsyms_format(c->ksyms, ips[i], sym, sizeof(sym));
				g_string_append_printf(s, "\n  %s", sym);
			}
		}
	}
	snprintf(buf, len, "%s", s->str);
	g_string_free(s, TRUE);
}

static void free_capture(struct capture *c)
{
	nc_skb_probe_close(c->probe);
	nc_session_clear(&c->own);
	nc_kallsyms_free(c->ksyms);
	free(c->text);
	for (size_t i = 0; i < c->n; i++)
		g_free(c->names[i]);
	nc_filter_free(c->filter);
	btf__free(c->btf);
}

/* Plans the points into c->session, loads the probe and fills ops */
static int open_capture(struct capture *c, struct nc_probe_ops *ops, char *err, size_t errlen)
{
	const struct nc_skb_request *r = c->r;
	uint32_t first = c->session->n_points;
	int ret;

	if (r->cap.iface && (ret = check_iface(r->cap.iface, err, errlen)))
		return ret;
	ret = nc_guard_skb(r, err, errlen); /* before anything is read or loaded */
	if (ret)
		return ret;
	c->btf = nc_kernel_btf(err, errlen);
	if (!c->btf)
		return -ENOTSUP;
	ret = nc_filter_new(r->cap.filter ? r->cap.filter : "", r->cap.snaplen, 1, &c->filter, err,
			    errlen);
	if (!ret)
		ret = resolve_iface(c, err, errlen);
	for (size_t i = 0; !ret && i < r->cap.n_specs; i++) {
		const char *spec = r->cap.specs[i];

		c->stage = c->stages ? c->stages[i] : (uint32_t)i;
		if (strchr(spec, '@'))
			ret = plan_function(c, spec, err, errlen);
		else if (strchr(spec, ':'))
			ret = plan_tracepoint(c, spec, err, errlen);
		else
			ret = nc_err(err, errlen, EINVAL,
				     "hook spec \"%s\": give tracepoint:CATEGORY:NAME or FUNC@N",
				     spec);
	}
	if (!ret)
		ret = nc_skb_probe_open(c->points, c->n, c->filter,
					r->cap.ring_bytes ? r->cap.ring_bytes : RING_BYTES,
					r->cap.stacks, &c->probe, err, errlen);
	/* -S: the symbols read once the probe is loaded (its own are among them), and where its
	 * code is, so that its frames are dropped by address */
	if (!ret && r->cap.stacks) {
		ret = nc_skb_probe_text(c->probe, &c->text, &c->n_text);
		if (ret)
			ret = nc_err(err, errlen, -ret,
				     "-S: the kernel does not tell where the probe's code is (%s); "
				     "run as root or without -S",
				     strerror(-ret));
	}
	if (!ret && r->cap.stacks)
		ret = nc_kallsyms_load(&c->ksyms, err, errlen);
	if (ret)
		return ret;
	*ops = (struct nc_probe_ops){.probe = c,
				     .ring_fd = nc_skb_probe_ring_fd(c->probe),
				     .first_hook = first,
				     .n_hooks = c->session->n_points - first,
				     .attach = attach_all,
				     .enable = enable,
				     .detach = detach_all,
				     .counters = counters,
				     .comment = comment};
	return 0;
}

struct nc_skb_part {
	struct capture c;
};

int nc_skb_part_open(const struct nc_skb_request *r, const uint32_t *stages, struct nc_session *s,
		     struct nc_skb_part **out, struct nc_probe_ops *ops, char *err, size_t errlen)
{
	struct nc_skb_part *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	p->c.r = r;
	p->c.session = s;
	p->c.stages = stages;
	if (!r->cap.snaplen || r->cap.snaplen > NC_MAX_SNAPLEN)
		ret = nc_err(err, errlen, EINVAL, "snap length %u: netcap copies 1 to %d bytes",
			     r->cap.snaplen, NC_MAX_SNAPLEN);
	else
		ret = open_capture(&p->c, ops, err, errlen);
	if (ret) {
		nc_skb_part_close(p);
		return ret;
	}
	*out = p;
	return 0;
}

void nc_skb_part_close(struct nc_skb_part *p)
{
	if (!p)
		return;
	free_capture(&p->c);
	free(p);
}

int nc_skb_capture(const struct nc_skb_request *r, struct nc_capture_result *res, char *err,
		   size_t errlen)
{
	struct capture c = {.r = r};
	struct nc_session_opts so = nc_session_opts_of(&r->cap);
	struct nc_probe_ops ops;
	struct nc_gather_opts gather = {0};
	int ret;

	c.session = &c.own;
	memset(res, 0, sizeof(*res));
	if (!r->cap.n_specs)
		return nc_err(err, errlen, EINVAL,
			      "give a hook point, e.g. -f tracepoint:net:netif_receive_skb");
	if (r->cap.gather && r->cap.n_specs < 2)
		return nc_err(err, errlen, EINVAL,
			      "-G follows packets from point to point: give two hook points or "
			      "more (-f A,B)");
	if (r->cap.gather) {
		gather = *r->cap.gather;
		gather.kernel = true; /* an skb is the same wherever, whichever task runs */
		so.gather = &gather;
		so.stages = r->cap.specs;
		so.n_stages = (uint32_t)r->cap.n_specs;
	}
	if (!r->cap.snaplen || r->cap.snaplen > NC_MAX_SNAPLEN)
		return nc_err(err, errlen, EINVAL, "snap length %u: netcap copies 1 to %d bytes",
			      r->cap.snaplen, NC_MAX_SNAPLEN);
	ret = open_capture(&c, &ops, err, errlen);
	if (!ret) {
		ops.n_hooks = 0; /* the only probe */
		ret = nc_session_run(c.session, &so, &ops, res, err, errlen);
	}
	free_capture(&c);
	return ret;
}
