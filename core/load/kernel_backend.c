/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel backend: the plan's tracepoints and kernel functions through the skb probe */
#include <bpf/btf.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../discover/kallsyms.h"
#include "../discover/tracepoint.h"
#include "../util/err.h"
#include "backend.h"
#include "skb_probe.h"

#define RING_BYTES (16u << 20)

struct kprobes {
	struct nc_skb_probe *probe;
	struct btf *btf; /* drop reasons' names, when a point has them */
	bool stacks;
	struct nc_kallsyms *ksyms;  /* -S */
	struct nc_addr_range *text; /* the probe's JIT images: its frames in a stack (-S) */
	size_t n_text;
};

static void close_(void *state)
{
	struct kprobes *k = state;

	if (!k)
		return;
	nc_skb_probe_close(k->probe);
	nc_kallsyms_free(k->ksyms);
	free(k->text);
	btf__free(k->btf);
	free(k);
}

static int open_(const struct nc_plan *plan, const struct nc_backend_opts *o, void **state,
		 char *err, size_t errlen)
{
	struct nc_skb_point points[NC_PLAN_MAX_KPOINTS];
	struct kprobes *k = calloc(1, sizeof(*k));
	bool reasons = false;
	int ret;

	if (!k)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	k->stacks = o->stacks;
	for (size_t i = 0; i < plan->n_kpoints; i++) {
		points[i] = (struct nc_skb_point){.target = plan->kpoints[i].target,
						  .how = plan->kpoints[i].how,
						  .cfg = plan->kpoints[i].cfg};
		points[i].cfg.ifindex = plan->ifindex;
		points[i].cfg.netns = plan->netns;
		points[i].cfg.snaplen = o->snaplen;
		points[i].cfg.window =
		    o->snaplen < NC_FILTER_WINDOW ? o->snaplen : NC_FILTER_WINDOW;
		reasons |= points[i].cfg.reason_arg >= 0;
	}
	if (reasons && !(k->btf = nc_kernel_btf(err, errlen))) {
		close_(k);
		return -ENOTSUP;
	}
	ret = nc_skb_probe_open(points, plan->n_kpoints, o->filter,
				o->ring_bytes ? o->ring_bytes : RING_BYTES, o->stacks, &k->probe,
				err, errlen);
	/* -S: the symbols read once the probe is loaded (its own are among them), and where its
	 * code is, so that its frames are dropped by address */
	if (!ret && o->stacks) {
		ret = nc_skb_probe_text(k->probe, &k->text, &k->n_text);
		if (ret)
			ret = nc_err(err, errlen, -ret,
				     "-S: the kernel does not tell where the probe's code is (%s); "
				     "run as root or without -S",
				     strerror(-ret));
	}
	if (!ret && o->stacks)
		ret = nc_kallsyms_load(&k->ksyms, err, errlen);
	if (ret) {
		close_(k);
		return ret;
	}
	*state = k;
	return 0;
}

static int ring_fd(void *state)
{
	return nc_skb_probe_ring_fd(((struct kprobes *)state)->probe);
}

static int attach(void *state, char *err, size_t errlen)
{
	return nc_skb_probe_attach(((struct kprobes *)state)->probe, err, errlen);
}

static void enable(void *state, bool on)
{
	nc_skb_probe_enable(((struct kprobes *)state)->probe, on);
}

static void detach(void *state)
{
	nc_skb_probe_detach(((struct kprobes *)state)->probe);
}

static int counters(void *state, uint32_t hook, struct nc_counters *sum)
{
	return nc_skb_probe_counters(((struct kprobes *)state)->probe, hook, sum);
}

static void comment(void *state, const struct nc_record *rec, const char *label, char *buf,
		    size_t len)
{
	struct kprobes *k = state;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "cpu %u pid %u %s", rec->cpu, rec->pid, label);
	if (rec->flags & NC_REC_SEGS_CUT)
		g_string_append(s, ", truncated: data beyond the page fragments not copied");
	if (rec->aux) {
		const char *why = k->btf ? nc_drop_reason_name(k->btf, rec->aux) : NULL;

		if (why)
			g_string_append_printf(s, ", drop reason %s", why);
		else
			g_string_append_printf(s, ", drop reason %u", rec->aux);
	}
	if (k->stacks) {
		uint64_t ips[NC_STACK_DEPTH];
		int n = nc_skb_probe_stack(k->probe, rec->stack_id, ips);

		if (n < 0) {
			g_string_append(s, "\nstack: lost (the stack map had no room)");
		} else {
			/* the first frames are netcap's probe and the tracing glue */
			size_t skip =
			    nc_kallsyms_probe_frames(k->ksyms, ips, (size_t)n, k->text, k->n_text);

			g_string_append(s, "\nstack:");
			for (size_t i = skip; i < (size_t)n; i++) {
				char sym[160];

				nc_kallsyms_format(k->ksyms, ips[i], sym, sizeof(sym));
				g_string_append_printf(s, "\n  %s", sym);
			}
		}
	}
	snprintf(buf, len, "%s", s->str);
	g_string_free(s, TRUE);
}

const struct nc_backend nc_kernel_backend = {.name = "kernel",
					     .open = open_,
					     .ring_fd = ring_fd,
					     .attach = attach,
					     .enable = enable,
					     .detach = detach,
					     .counters = counters,
					     .comment = comment,
					     .close = close_};
