/* SPDX-License-Identifier: BSD-2-Clause */
/* The uprobe backend: the plan's DPDK points through the mbuf probe (mbuf_probe.h) */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../discover/usym.h"
#include "../util/err.h"
#include "backend.h"
#include "mbuf_probe.h"

/* the ring's default: 4 MiB, ~22,000 records of a 64-byte packet at snap 128. A bigger one cost
 * start-up time (the kernel allocates and maps its pages) and memory (netcap maps its data
 * twice) without keeping more of the rate; docs/performance.md */
#define RING_BYTES  (4u << 20)
#define STACK_SLOTS 4096 /* -S: distinct user stacks kept (~2 MiB) */

/* The last comment made: the records of a burst share it (formatting each cost the reader ~20 %) */
struct last_comment {
	uint32_t pid, tid, cpu, flags;
	const char *label; /* NULL: none made yet */
	size_t len;
	char text[256];
};

struct uprobes {
	const struct nc_plan *plan;
	struct nc_mbuf_probe *probe;
	struct nc_usym *usym; /* -S */
	/* the uprobes' perf events, opened on a thread while the program loads; NULL: none */
	struct nc_uprobe_events *events;
	size_t *event; /* the plan's uprobe i: its entry event's number in events */
	struct last_comment last;
};

static void close_(void *state)
{
	struct uprobes *u = state;

	if (!u)
		return;
	nc_mbuf_probe_close(u->probe);
	nc_uprobe_events_free(u->events);
	free(u->event);
	nc_usym_free(u->usym);
	free(u);
}

/* Starts opening the plan's uprobe events (entry, and return for NC_HOOK_RET_SAVE) on a thread,
 * before the program loads (uprobe_event.h); without memory or a thread, the attach opens them,
 * as it does with NETCAP_NO_UPROBES_AHEAD=1 (tests: that way runs too) */
static void open_events(struct uprobes *u)
{
	const struct nc_plan *plan = u->plan;
	struct nc_uprobe_event_spec *s;
	size_t n = 0;

	if (!g_strcmp0(getenv("NETCAP_NO_UPROBES_AHEAD"), "1"))
		return;
	s = calloc(2 * plan->n_uprobes + 1, sizeof(*s));
	u->event = calloc(plan->n_uprobes + 1, sizeof(*u->event));
	for (size_t i = 0; s && u->event && i < plan->n_uprobes; i++) {
		const struct nc_plan_uprobe *p = &plan->uprobes[i];
		struct nc_uprobe_event_spec e = {.path = p->path,
						 .offset = p->offset,
						 .pid = p->pid,
						 .ref_ctr_offset = p->ref_ctr_offset};

		u->event[i] = n;
		s[n++] = e;
		if (p->cfg.kind == NC_HOOK_RET_SAVE) {
			e.retprobe = true;
			s[n++] = e;
		}
	}
	if (s && u->event && n)
		u->events = nc_uprobe_events_start(s, n);
	free(s);
}

static int open_(const struct nc_plan *plan, const struct nc_backend_opts *o, void **state,
		 char *err, size_t errlen)
{
	const struct nc_mbuf_layout *m = &plan->mbuf;
	struct nc_mbuf_probe_opts po = {.filter = o->filter,
					.mbuf = {.buf_addr = m->buf_addr,
						 .data_off = m->data_off,
						 .nb_segs = m->nb_segs,
						 .port = m->port,
						 .ol_flags = m->ol_flags,
						 .pkt_len = m->pkt_len,
						 .data_len = m->data_len,
						 .vlan_tci = m->vlan_tci,
						 .vlan_tci_outer = m->vlan_tci_outer,
						 .next = m->next},
					.snaplen = o->snaplen,
					.window = o->snaplen < NC_FILTER_WINDOW ? o->snaplen
										: NC_FILTER_WINDOW,
					.ring_bytes = o->ring_bytes ? o->ring_bytes : RING_BYTES,
					.need_return = nc_plan_needs_return(plan),
					.stacks = o->stacks ? STACK_SLOTS : 0};
	struct uprobes *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	u->plan = plan;
	/* the reader woken once 1/8 of the ring is pending (it also drains on a timer); a bad
	 * NETCAP_RING_WAKE refused before any uprobe is opened */
	ret = nc_ring_wake_bytes(po.ring_bytes, &po.wake_bytes, err, errlen);
	if (ret) {
		close_(u);
		return ret;
	}
	open_events(u);
	if (o->stacks && !(u->usym = nc_usym_new())) {
		close_(u);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	for (size_t i = 0; u->usym && i < plan->n_procs; i++)
		nc_usym_watch(u->usym, plan->procs[i].pid);
	ret = nc_mbuf_probe_open(&po, &u->probe, err, errlen);
	for (size_t i = 0; !ret && i < plan->n_queues; i++)
		ret = nc_mbuf_probe_add_queue(u->probe, plan->queues[i].pid, plan->queues[i].ptr,
					      &plan->queues[i].id, err, errlen);
	if (ret) {
		close_(u);
		return ret;
	}
	*state = u;
	return 0;
}

static int ring_fd(void *state)
{
	return nc_mbuf_probe_ring_fd(((struct uprobes *)state)->probe);
}

static int attach(void *state, char *err, size_t errlen)
{
	struct uprobes *u = state;
	int ret = 0;

	for (size_t i = 0; !ret && i < u->plan->n_uprobes; i++) {
		const struct nc_plan_uprobe *p = &u->plan->uprobes[i];
		struct nc_attach_point a = {.path = p->path,
					    .offset = p->offset,
					    .pid = p->pid,
					    .hook = p->hook,
					    .cfg = p->cfg,
					    .ref_ctr_offset = p->ref_ctr_offset,
					    .events = u->events,
					    .event = u->events ? u->event[i] : 0};

		ret = nc_mbuf_probe_attach(u->probe, &a, err, errlen);
	}
	return ret;
}

static void enable(void *state, bool on)
{
	nc_mbuf_probe_enable(((struct uprobes *)state)->probe, on);
}

static void detach(void *state)
{
	struct uprobes *u = state;

	nc_mbuf_probe_detach(u->probe);
	nc_uprobe_events_free(u->events); /* any left unattached */
	u->events = NULL;
}

/* How the uprobes went in: how many of them on a perf event opened while the program loaded */
static void note(void *state, char *buf, size_t len)
{
	const struct uprobes *u = state;
	size_t ahead, n = nc_mbuf_probe_links(u->probe, &ahead);

	snprintf(buf, len,
		 "uprobes: %zu attached, %zu of them to perf events opened while the "
		 "program loaded",
		 n, ahead);
}

static int counters(void *state, uint32_t hook, struct nc_counters *sum)
{
	return nc_mbuf_probe_counters(((struct uprobes *)state)->probe, hook, sum);
}

void nc_stack_append(struct nc_usym *u, pid_t pid, const uint64_t *ips, int n, char *buf,
		     size_t len)
{
	GString *s = g_string_new(buf);

	if (n == -ENOSPC) {
		g_string_append_printf(
		    s, "\nstack: lost (more than %d distinct stacks, or two of one hash)",
		    STACK_SLOTS);
	} else if (n <= 0) {
		g_string_append(s, "\nstack: none (the user stack could not be read)");
	} else {
		g_string_append(s, "\nstack:");
		for (int i = 0; i < n; i++) {
			/* the kernel may have put the entry's return address in itself */
			if (i == 2 && ips[2] == ips[1])
				continue;
			nc_usym_append(u, pid, ips[i], i > 0, s);
		}
	}
	snprintf(buf, len, "%s", s->str);
	g_string_free(s, TRUE);
}

void nc_mbuf_comment(const struct nc_record *rec, const char *label, char *buf, size_t len)
{
	snprintf(buf, len, "pid %u tid %u cpu %u %s%s%s", rec->pid, rec->tid, rec->cpu, label,
		 rec->flags & NC_REC_VLAN_REINSERTED ? ", VLAN tag re-inserted" : "",
		 rec->flags & NC_REC_SEGS_CUT ? ", segments beyond the 8th not copied" : "");
}

static void comment(void *state, const struct nc_record *rec, const char *label, char *buf,
		    size_t len)
{
	struct uprobes *u = state;
	struct last_comment *c = &u->last;
	uint32_t flags = rec->flags & (NC_REC_VLAN_REINSERTED | NC_REC_SEGS_CUT);
	uint64_t ips[NC_USTACK_DEPTH];

	if (!u->usym) {
		size_t n;

		if (label && c->label == label && c->pid == rec->pid && c->tid == rec->tid &&
		    c->cpu == rec->cpu && c->flags == flags && c->len < len) {
			memcpy(buf, c->text, c->len + 1);
			return;
		}
		nc_mbuf_comment(rec, label, buf, len);
		n = strlen(buf);
		if (n >= sizeof(c->text))
			return;
		*c = (struct last_comment){.pid = rec->pid,
					   .tid = rec->tid,
					   .cpu = rec->cpu,
					   .flags = flags,
					   .label = label,
					   .len = n};
		memcpy(c->text, buf, n + 1);
		return;
	}
	nc_mbuf_comment(rec, label, buf, len);
	nc_stack_append(u->usym, (pid_t)rec->pid, ips,
			nc_mbuf_probe_stack(u->probe, rec->stack_id, ips), buf, len);
}

const struct nc_backend nc_uprobe_backend = {.name = "uprobe",
					     .open = open_,
					     .ring_fd = ring_fd,
					     .attach = attach,
					     .enable = enable,
					     .detach = detach,
					     .note = note,
					     .counters = counters,
					     .comment = comment,
					     .close = close_};

const struct nc_backend *nc_backend_of(enum nc_plan_backend b)
{
	switch (b) {
	case NC_BACKEND_UPROBE: return &nc_uprobe_backend;
	case NC_BACKEND_AGENT: return &nc_agent_backend;
	default: return &nc_kernel_backend;
	}
}
