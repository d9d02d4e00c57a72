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
#include "../discover/tracepoint.h"
#include "../filter/filter.h"
#include "../load/skb_probe.h"
#include "../util/err.h"

#define RING_BYTES (16u << 20)

struct capture {
	const struct nc_skb_request *r;
	struct btf *btf;
	struct nc_filter *filter;
	struct nc_skb_probe *probe;
	struct nc_kallsyms *ksyms;
	struct nc_session session;
	struct nc_skb_point points[NC_SKB_MAX_TRACEPOINTS];
	char *names[NC_SKB_MAX_TRACEPOINTS];
	size_t n;
	uint32_t ifindex;
	uint64_t netns;
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

/* The kernel can hook functions through kprobes or fentry; say which this one refuses */
static int function_spec(const struct capture *c, const char *spec, char *err, size_t errlen)
{
	g_autofree char *func = g_strndup(spec, strcspn(spec, "@"));
	g_autofree char *serve = nc_tracepoints_with_skb(c->btf);
	bool kprobes = access("/sys/bus/event_source/devices/kprobe", F_OK) == 0;
	int id = btf__find_by_name_kind(c->btf, func, BTF_KIND_FUNC);
	bool fentry = false;

	if (id < 0)
		return nc_err(
		    err, errlen, ENOENT,
		    "no kernel function \"%s\" in the kernel's BTF; tracepoints that carry "
		    "an skb: %s",
		    func, serve);
	if (!kprobes) {
		/* does the kernel let a fentry program attach here? load an empty one */
		static const struct bpf_insn prog[] = {
		    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0},
		    {.code = BPF_JMP | BPF_EXIT}};
		LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY,
			    .attach_btf_id = (__u32)id);
		int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "nc_probe", "GPL", prog, 2, &o);

		fentry = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	if (!kprobes && !fentry)
		return nc_err(
		    err, errlen, ENOTSUP,
		    "\"%s\": this kernel has no kprobes (no kprobe event source) and "
		    "refuses fentry programs, so kernel functions cannot be hooked; use a "
		    "tracepoint that carries the skb: %s",
		    spec, serve);
	return nc_err(
	    err, errlen, ENOTSUP,
	    "\"%s\": capture at kernel functions (kprobe/fentry) is not in netcap yet; use a "
	    "tracepoint that carries the skb: %s",
	    spec, serve);
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
	g_autofree char *cat = NULL, *l2 = NULL, *l3 = NULL, *desc = NULL, *where = NULL;
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
	ret = nc_tracepoint_find(c->btf, name, &tp, err, errlen);
	if (!ret)
		ret = check_category(cat, name, err, errlen);
	if (ret)
		return ret;
	c->names[c->n] = g_strdup(name);
	pt = &c->points[c->n++];
	pt->tracepoint = c->names[c->n - 1];
	pt->cfg.skb_arg = (__u32)tp.skb_arg;
	pt->cfg.reason_arg = tp.reason_arg;
	pt->cfg.direction = direction_of(name);
	pt->cfg.ifindex = c->ifindex;
	pt->cfg.netns = c->netns;
	pt->cfg.snaplen = c->r->snaplen;
	pt->cfg.window = c->r->snaplen < NC_FILTER_WINDOW ? c->r->snaplen : NC_FILTER_WINDOW;
	where = c->r->iface && strcmp(c->r->iface, "any") ? g_strdup_printf("@%s", c->r->iface)
							  : g_strdup("");
	l2 = g_strdup_printf("%s:%s%s", cat, name, where);
	l3 = g_strdup_printf("%s:%s%s:raw", cat, name, where);
	desc = g_strdup_printf("netcap skb capture at tracepoint %s:%s", cat, name);
	ret = nc_session_add_point(&c->session, l2, desc, l2, NC_LINKTYPE_ETHERNET,
				   &pt->cfg.hook_l2, err, errlen);
	if (!ret)
		ret = nc_session_add_point(&c->session, l3, desc, l2, NC_LINKTYPE_RAW,
					   &pt->cfg.hook_l3, err, errlen);
	return ret;
}

/* -i IFACE [--netns PATH]: the interface's index and its namespace's inode */
static int resolve_iface(struct capture *c, char *err, size_t errlen)
{
	const struct nc_skb_request *r = c->r;
	int self = -1, target = -1, ret = 0;
	struct stat st;

	if (!r->iface || !strcmp(r->iface, "any")) {
		if (r->netns)
			return nc_err(err, errlen, EINVAL,
				      "--netns names the namespace of -i IFACE");
		return 0;
	}
	if (r->netns) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(r->netns, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			ret = nc_err(err, errlen, errno,
				     "bad --netns \"%s\": %s; give a namespace file such as "
				     "/run/netns/NAME or /proc/PID/ns/net",
				     r->netns, strerror(errno));
			goto out;
		}
		if (self < 0 || setns(target, CLONE_NEWNET)) {
			ret = nc_err(err, errlen, errno, "bad --netns \"%s\": %s", r->netns,
				     strerror(errno));
			goto out;
		}
	}
	c->ifindex = if_nametoindex(r->iface);
	if (stat("/proc/thread-self/ns/net", &st) == 0)
		c->netns = st.st_ino;
	if (self >= 0 && setns(self, CLONE_NEWNET))
		ret = nc_err(err, errlen, errno, "cannot return to netcap's network namespace: %s",
			     strerror(errno));
	if (!ret && !c->ifindex)
		ret = nc_err(err, errlen, ENODEV, "no interface \"%s\" in %s; see: ip link%s%s",
			     r->iface, r->netns ? r->netns : "this network namespace",
			     r->netns ? " (in that namespace)" : "", "");
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
	if (c->r->stacks) {
		uint64_t ips[NC_STACK_DEPTH];
		int n = nc_skb_probe_stack(c->probe, rec->stack_id, ips);

		if (n < 0) {
			g_string_append(s, "\nstack: lost (the stack map had no room)");
		} else {
			bool probe = true;

			g_string_append(s, "\nstack:");
			for (int i = 0; i < n; i++) {
				char sym[160];

				nc_kallsyms_format(c->ksyms, ips[i], sym, sizeof(sym));
				/* the first frames are netcap's probe and the tracing glue */
				probe = probe && (g_str_has_prefix(sym, "bpf_") ||
						  g_str_has_prefix(sym, "__bpf") ||
						  g_str_has_prefix(sym, "0x"));
				if (!probe)
					g_string_append_printf(s, "\n  %s", sym);
			}
		}
	}
	snprintf(buf, len, "%s", s->str);
	g_string_free(s, TRUE);
}

int nc_skb_capture(const struct nc_skb_request *r, struct nc_capture_result *res, char *err,
		   size_t errlen)
{
	struct capture c = {.r = r};
	struct nc_session_opts so = {.out = &r->out,
				     .filter = r->filter,
				     .snaplen = r->snaplen,
				     .count = r->count,
				     .duration_ms = r->duration_ms,
				     .ready_file = r->ready_file,
				     .stop = r->stop};
	struct nc_probe_ops ops = {.probe = &c,
				   .attach = attach_all,
				   .detach = detach_all,
				   .counters = counters,
				   .comment = comment};
	int ret;

	memset(res, 0, sizeof(*res));
	if (!r->n_specs)
		return nc_err(err, errlen, EINVAL,
			      "give a hook point, e.g. -f tracepoint:net:netif_receive_skb");
	if (!r->snaplen || r->snaplen > NC_MAX_SNAPLEN)
		return nc_err(err, errlen, EINVAL, "snap length %u: netcap copies 1 to %d bytes",
			      r->snaplen, NC_MAX_SNAPLEN);
	c.btf = nc_kernel_btf(err, errlen);
	if (!c.btf)
		return -ENOTSUP;
	ret = nc_filter_new(r->filter ? r->filter : "", r->snaplen, 1, &c.filter, err, errlen);
	if (!ret)
		ret = resolve_iface(&c, err, errlen);
	for (size_t i = 0; !ret && i < r->n_specs; i++) {
		const char *spec = r->specs[i];

		if (strchr(spec, '@'))
			ret = function_spec(&c, spec, err, errlen);
		else if (strchr(spec, ':'))
			ret = plan_tracepoint(&c, spec, err, errlen);
		else
			ret = nc_err(err, errlen, EINVAL,
				     "hook spec \"%s\": give tracepoint:CATEGORY:NAME or FUNC@N",
				     spec);
	}
	if (!ret && r->stacks)
		ret = nc_kallsyms_load(&c.ksyms, err, errlen);
	if (!ret)
		ret = nc_skb_probe_open(c.points, c.n, c.filter, RING_BYTES, r->stacks, &c.probe,
					err, errlen);
	if (!ret) {
		ops.ring_fd = nc_skb_probe_ring_fd(c.probe);
		ret = nc_session_run(&c.session, &so, &ops, res, err, errlen);
	}
	nc_skb_probe_close(c.probe);
	nc_session_clear(&c.session);
	nc_kallsyms_free(c.ksyms);
	for (size_t i = 0; i < c.n; i++)
		g_free(c.names[i]);
	nc_filter_free(c.filter);
	btf__free(c.btf);
	return ret;
}
