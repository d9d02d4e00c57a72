/* SPDX-License-Identifier: BSD-2-Clause */
/* Every capture, from request to file: check → discover → plan → filter → backends → session */
#include <bpf/btf.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../discover/dpdk.h"
#include "../discover/dwarf.h"
#include "../discover/tracepoint.h"
#include "../filter/filter.h"
#include "../load/backend.h"
#include "../plan/mbuf_plan.h"
#include "../plan/plan.h"
#include "../plan/skb_plan.h"
#include "../util/err.h"
#include "guard.h"
#include "request.h"

/* Kernel points among a DPDK capture's specs */
static size_t kernel_specs(const struct nc_request *r)
{
	size_t n = 0;

	for (size_t i = 0; r->mode == NC_MODE_MBUF && i < r->cap.n_specs; i++)
		n += g_str_has_prefix(r->cap.specs[i], NC_MBUF_SKB_PREFIX);
	return n;
}

int nc_request_check(const struct nc_request *r, char *err, size_t errlen)
{
	const struct nc_capture_common *c = &r->cap;
	bool mbuf = r->mode == NC_MODE_MBUF;
	size_t nk = kernel_specs(r);

	if (!c->n_specs)
		return nc_err(err, errlen, EINVAL, "no hook point given (-f); e.g. %s",
			      mbuf ? "netcap mbuf -f rx_burst --pid 1234"
				   : "netcap skb -f tracepoint:net:netif_receive_skb");
	if (mbuf && !r->n_pids)
		return nc_err(err, errlen, EINVAL,
			      "no process given (--pid); e.g. netcap mbuf -f rx_burst --pid 1234");
	if (c->gather && c->n_specs < 2)
		return nc_err(err, errlen, EINVAL,
			      "-G follows packets from point to point: give two hook points or "
			      "more, e.g. -f %s (got %zu)",
			      mbuf ? "rx_burst,tx_burst"
				   : "tp:net:net_dev_queue,tp:net:netif_receive_skb",
			      c->n_specs);
	if (c->gather && c->out.format == NC_SINK_PCAP)
		return nc_err(err, errlen, EINVAL,
			      "-G writes each packet's path in its comment, which classic pcap "
			      "cannot hold: drop -P");
	if (!c->snaplen || c->snaplen > NC_MAX_SNAPLEN)
		return nc_err(err, errlen, EINVAL,
			      "snap length %u: netcap copies 1 to %d bytes per packet", c->snaplen,
			      NC_MAX_SNAPLEN);
	if (!mbuf && r->inject)
		return nc_err(err, errlen, EINVAL,
			      "--inject captures inside a DPDK process: it goes with netcap mbuf");
	if (!mbuf)
		return 0;
	if (!nk && (c->iface || c->netns))
		return nc_err(err, errlen, EINVAL,
			      "%s names the interface of kernel points: give one, e.g. -f "
			      "tx_burst,skb:net:netif_receive_skb",
			      c->iface ? "-i" : "--netns");
	if (nk && nk == c->n_specs)
		return nc_err(err, errlen, EINVAL,
			      "only kernel points (skb:...) given: capture them with netcap skb, "
			      "or add a DPDK hook point");
	if (nk && c->gather && c->gather->match != NC_GATHER_CONTENT)
		return nc_err(
		    err, errlen, EINVAL,
		    "-G from DPDK to kernel points follows packets by content (the kernel "
		    "copies them into an skb): add --match content");
	return 0;
}

struct nc_session_opts nc_session_opts_of(const struct nc_capture_common *c)
{
	return (struct nc_session_opts){.out = &c->out,
					.filter = c->filter,
					.snaplen = c->snaplen,
					.count = c->count,
					.duration_ms = c->duration_ms,
					.ready_file = c->ready_file,
					.stop = c->stop,
					.hooks = c->hooks,
					.gather = c->gather};
}

/* The specs of each backend, with the stage (index among all specs) of each */
struct split {
	char **specs[NC_BACKEND_COUNT];
	uint32_t *stages[NC_BACKEND_COUNT];
	size_t n[NC_BACKEND_COUNT];
};

static void split_specs(const struct nc_request *r, struct split *sp)
{
	size_t plen = strlen(NC_MBUF_SKB_PREFIX);

	for (int b = 0; b < NC_BACKEND_COUNT; b++) {
		sp->specs[b] = g_new0(char *, r->cap.n_specs + 1);
		sp->stages[b] = g_new0(uint32_t, r->cap.n_specs + 1);
	}
	for (size_t i = 0; i < r->cap.n_specs; i++) {
		const char *s = r->cap.specs[i];
		enum nc_plan_backend b = NC_BACKEND_UPROBE;

		if (r->mode == NC_MODE_SKB) {
			b = NC_BACKEND_KERNEL;
		} else if (g_str_has_prefix(s, NC_MBUF_SKB_PREFIX)) {
			b = NC_BACKEND_KERNEL;
			s += plen;
		}
		sp->stages[b][sp->n[b]] = (uint32_t)i;
		sp->specs[b][sp->n[b]++] = (char *)s;
	}
}

static void split_free(struct split *sp)
{
	for (int b = 0; b < NC_BACKEND_COUNT; b++) {
		g_free(sp->specs[b]);
		g_free(sp->stages[b]);
	}
}

/* The DPDK processes and the rte_mbuf layout of each: the app's own DWARF when it has one (its
 * build options), else its release's table */
static int discover_procs(const struct nc_request *r, struct nc_dpdk_proc **procs,
			  struct nc_mbuf_layout *layouts, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n_pids; i++) {
		char why[256];
		int ret = nc_dpdk_inspect(r->pids[i], &procs[i], err, errlen);

		if (ret)
			return ret;
		if (nc_dwarf_mbuf_layout(procs[i]->exe, &layouts[i], why, sizeof(why)))
			layouts[i] = procs[i]->mbuf;
	}
	return 0;
}

/* Discovers what the plan needs and plans every spec: DPDK points first, then kernel points */
static int make_plan(const struct nc_request *r, const struct split *sp, struct nc_plan *plan,
		     char *err, size_t errlen)
{
	struct nc_dpdk_proc **procs = NULL;
	struct nc_mbuf_layout *layouts = NULL;
	int ret = 0;

	plan->stages = g_new0(char *, r->cap.n_specs + 1);
	for (size_t i = 0; i < r->cap.n_specs; i++)
		plan->stages[i] = g_strdup(r->cap.specs[i]);
	plan->n_stages = (uint32_t)r->cap.n_specs;
	if (sp->n[NC_BACKEND_UPROBE]) {
		procs = g_new0(struct nc_dpdk_proc *, r->n_pids);
		layouts = g_new0(struct nc_mbuf_layout, r->n_pids);
		ret = discover_procs(r, procs, layouts, err, errlen);
		if (!ret)
			ret = nc_mbuf_plan(plan, procs, layouts, r->n_pids,
					   sp->specs[NC_BACKEND_UPROBE], sp->n[NC_BACKEND_UPROBE],
					   sp->stages[NC_BACKEND_UPROBE], r->inject, err, errlen);
		for (size_t i = 0; i < r->n_pids; i++)
			nc_dpdk_free(procs[i]);
		g_free(procs);
		g_free(layouts);
	}
	if (!ret && sp->n[NC_BACKEND_KERNEL]) {
		struct nc_skb_plan_opts ko = {
		    .iface = r->cap.iface, .netns = r->cap.netns, .attach = r->attach};
		struct btf *btf = nc_kernel_btf(err, errlen);

		if (!btf)
			return -ENOTSUP;
		ret = nc_skb_plan(plan, btf, &ko, sp->specs[NC_BACKEND_KERNEL],
				  sp->n[NC_BACKEND_KERNEL], sp->stages[NC_BACKEND_KERNEL], err,
				  errlen);
		btf__free(btf);
	}
	return ret;
}

/* The session's points: the plan's, in the same order (the hook id is the index) */
static void session_of(const struct nc_plan *plan, struct nc_session *s)
{
	for (uint32_t i = 0; i < plan->n_points; i++) {
		const struct nc_plan_point *pt = &plan->points[i];

		s->points[i] = (struct nc_session_point){
		    .name = g_strdup(pt->name),
		    .description = g_strdup(pt->description),
		    .label = g_strdup(pt->label),
		    .linktype = pt->linktype,
		    .stage = pt->stage,
		    .what = g_strdup(pt->what),
		    /* -G keys a kernel point's skb pointer without a pid */
		    .kernel = pt->backend == NC_BACKEND_KERNEL};
	}
	s->n_points = plan->n_points;
}

int nc_capture(const struct nc_request *r, struct nc_capture_result *res, char *err, size_t errlen)
{
	struct nc_session_opts so = nc_session_opts_of(&r->cap);
	struct nc_backend_opts bo = {
	    .snaplen = r->cap.snaplen, .ring_bytes = r->cap.ring_bytes, .stacks = r->cap.stacks};
	struct nc_probe_ops ops[NC_BACKEND_COUNT] = {0};
	struct nc_gather_opts gather = {0};
	struct nc_session session = {0};
	struct nc_filter *filter = NULL;
	struct nc_plan plan = {0};
	struct split sp = {0};
	size_t n_ops = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = nc_request_check(r, err, errlen);
	if (ret)
		return ret;
	split_specs(r, &sp);
	/* before anything is read or loaded */
	if (sp.n[NC_BACKEND_UPROBE])
		ret = nc_guard_mbuf(sp.specs[NC_BACKEND_UPROBE], sp.n[NC_BACKEND_UPROBE], r->pids,
				    r->n_pids, r->inject, err, errlen);
	if (!ret && sp.n[NC_BACKEND_KERNEL])
		ret = nc_guard_skb(r->cap.netns != NULL, err, errlen);
	if (!ret)
		ret = nc_filter_new(r->cap.filter ? r->cap.filter : "", r->cap.snaplen, 1, &filter,
				    err, errlen);
	if (!ret)
		ret = make_plan(r, &sp, &plan, err, errlen);
	if (!ret && r->plan_out)
		nc_plan_print(r->plan_out, "netcap: plan: ", &plan);
	if (!ret && r->dry_run)
		goto out;
	bo.filter = filter;
	for (int b = 0; !ret && b < NC_BACKEND_COUNT; b++) {
		struct nc_probe_ops *o = &ops[n_ops];

		nc_plan_range(&plan, (enum nc_plan_backend)b, &o->first_hook, &o->n_hooks);
		if (!o->n_hooks)
			continue;
		o->b = nc_backend_of((enum nc_plan_backend)b);
		ret = o->b->open(&plan, &bo, &o->state, err, errlen);
		if (ret)
			break;
		o->ring_fd = o->b->ring_fd(o->state);
		n_ops++;
	}
	if (!ret) {
		session_of(&plan, &session);
		if (r->mode == NC_MODE_MBUF) {
			so.watch = r->pids;
			so.n_watch = r->n_pids;
		} else if (r->cap.gather) {
			gather = *r->cap.gather;
			gather.kernel = true; /* an skb is the same wherever, whichever task runs */
			so.gather = &gather;
		}
		so.stages = plan.stages;
		so.n_stages = plan.n_stages;
		ret = nc_session_run_probes(&session, &so, ops, n_ops, res, err, errlen);
	}
out:
	for (size_t i = 0; i < n_ops; i++)
		ops[i].b->close(ops[i].state);
	nc_session_clear(&session);
	nc_plan_clear(&plan);
	nc_filter_free(filter);
	split_free(&sp);
	return ret;
}
