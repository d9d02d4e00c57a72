/* SPDX-License-Identifier: BSD-2-Clause */
#include "plan.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../write/pcapng.h"

int nc_plan_add_point(struct nc_plan *p, enum nc_plan_backend b, const char *name,
		      const char *description, const char *label, uint16_t linktype, uint32_t stage,
		      uint32_t *hook, char *err, size_t errlen)
{
	struct nc_plan_point *pt;

	if (p->n_points >= NC_MAX_HOOKS)
		return nc_err(err, errlen, E2BIG, "too many hook points (at most %d)",
			      NC_MAX_HOOKS);
	pt = &p->points[p->n_points];
	pt->name = g_strdup(name);
	pt->description = g_strdup(description);
	pt->label = g_strdup(label);
	pt->linktype = linktype;
	pt->stage = stage;
	pt->backend = b;
	*hook = p->n_points++;
	return 0;
}

void nc_plan_range(const struct nc_plan *p, enum nc_plan_backend b, uint32_t *first, uint32_t *n)
{
	*first = 0;
	*n = 0;
	for (uint32_t i = 0; i < p->n_points; i++) {
		if (p->points[i].backend != b)
			continue;
		if (!*n)
			*first = i;
		*n = i - *first + 1;
	}
}

bool nc_plan_needs_return(const struct nc_plan *p)
{
	for (size_t i = 0; i < p->n_uprobes; i++)
		if (p->uprobes[i].cfg.kind == NC_HOOK_RET_SAVE)
			return true;
	return false;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case NC_HOOK_SINGLE: return "mbuf";
	case NC_HOOK_VECTOR: return "mbuf array + count";
	case NC_HOOK_RET_SAVE: return "mbuf array, count on return";
	default: return "?";
	}
}

static const char *how_name(enum nc_skb_attach how)
{
	return how == NC_SKB_FENTRY ? "fentry" : how == NC_SKB_KPROBE ? "kprobe" : "raw tracepoint";
}

static const char *dir_name(unsigned d)
{
	return d == NC_DIR_IN ? "in" : d == NC_DIR_OUT ? "out" : "-";
}

void nc_plan_print(FILE *out, const char *prefix, const struct nc_plan *p)
{
	for (size_t i = 0; i < p->n_procs; i++)
		fprintf(out, "%sprocess %d (%s): DPDK %s\n", prefix, (int)p->procs[i].pid,
			p->procs[i].comm ? p->procs[i].comm : "?", p->procs[i].version);
	if (p->n_procs)
		fprintf(out,
			"%srte_mbuf: buf_addr %u, data_off %u, nb_segs %u, port %u, ol_flags %u, "
			"pkt_len %u, data_len %u, vlan_tci %u, vlan_tci_outer %u, next %u\n",
			prefix, p->mbuf.buf_addr, p->mbuf.data_off, p->mbuf.nb_segs, p->mbuf.port,
			p->mbuf.ol_flags, p->mbuf.pkt_len, p->mbuf.data_len, p->mbuf.vlan_tci,
			p->mbuf.vlan_tci_outer, p->mbuf.next);
	for (uint32_t i = 0; i < p->n_points; i++) {
		const struct nc_plan_point *pt = &p->points[i];

		fprintf(out, "%spoint %u: %s (%s, stage %u: %s, %s)\n", prefix, i, pt->name,
			pt->linktype == NC_LINKTYPE_RAW ? "raw IP" : "Ethernet", pt->stage,
			pt->stage < p->n_stages ? p->stages[pt->stage] : "?",
			pt->backend == NC_BACKEND_UPROBE  ? "uprobe"
			: pt->backend == NC_BACKEND_AGENT ? "in-process agent"
							  : "kernel");
	}
	for (size_t i = 0; i < p->n_uprobes; i++) {
		const struct nc_plan_uprobe *u = &p->uprobes[i];

		fprintf(out, "%suprobe: %s+%#llx in process %d for point %u: %s, argument %u",
			prefix, u->path, (unsigned long long)u->offset, (int)u->pid, u->hook,
			kind_name(u->cfg.kind), u->cfg.arg_pkt);
		if (u->cfg.kind == NC_HOOK_VECTOR)
			fprintf(out, ", count argument %u", u->cfg.arg_cnt);
		if (u->cfg.kind == NC_HOOK_RET_SAVE)
			fprintf(out, ", %u-bit return", u->cfg.ret_bits);
		if (u->cfg.direction)
			fprintf(out, ", direction %s", dir_name(u->cfg.direction));
		if (u->ref_ctr_offset)
			fprintf(out, ", semaphore at %#llx", (unsigned long long)u->ref_ctr_offset);
		fprintf(out, " (%s)\n", u->why ? u->why : "entry");
	}
	for (size_t i = 0; i < p->n_queues; i++)
		fprintf(out, "%squeue: %#llx in process %d is port %u queue %u, point %u\n", prefix,
			(unsigned long long)p->queues[i].ptr, (int)p->queues[i].pid,
			p->queues[i].id.port, p->queues[i].id.queue, p->queues[i].id.hook);
	for (size_t i = 0; i < p->n_agent_hooks; i++) {
		const struct nc_plan_agent_hook *a = &p->agent_hooks[i];

		if (a->func)
			fprintf(out,
				"%sin-process: function at %#llx (%s+%#llx, %llu bytes) in process "
				"%d for point %u, argument %u",
				prefix, (unsigned long long)a->func, a->path,
				(unsigned long long)a->file_off, (unsigned long long)a->func_size,
				(int)a->pid, a->hook, a->arg);
		else
			fprintf(out,
				"%sin-process: rte_eth_fp_ops[%u].%s in process %d for point %u",
				prefix, a->port, a->tx ? "tx_pkt_burst" : "rx_pkt_burst",
				(int)a->pid, a->hook);
		if (a->func && a->count_arg)
			fprintf(out, ", count argument %u", a->count_arg);
		if (a->func && a->ret_bits)
			fprintf(out, ", %u-bit return", a->ret_bits);
		if (a->func && a->loc_pkt.type)
			fprintf(out, ", USDT site %s+%#llx", a->func_name ? a->func_name : "?",
				(unsigned long long)a->site_off);
		if (a->sema)
			fprintf(out, ", semaphore at %#llx", (unsigned long long)a->sema);
		if (a->cold_size)
			fprintf(out, ", cold part at %#llx (%llu bytes)",
				(unsigned long long)a->cold, (unsigned long long)a->cold_size);
		fputc('\n', out);
	}
	for (size_t i = 0; i < p->n_kpoints; i++) {
		const struct nc_plan_kpoint *k = &p->kpoints[i];

		fprintf(out, "%skernel probe: %s (%s), skb argument %u", prefix, k->target,
			how_name(k->how), k->cfg.skb_arg + 1);
		if (k->cfg.reason_arg >= 0)
			fprintf(out, ", drop reason argument %d", k->cfg.reason_arg + 1);
		fprintf(out, ", direction %s, points %u and %u", dir_name(k->cfg.direction),
			k->cfg.hook_l2, k->cfg.hook_l3);
		if (p->ifindex)
			fprintf(out, ", interface %u", p->ifindex);
		fputc('\n', out);
	}
}

void nc_plan_clear(struct nc_plan *p)
{
	for (uint32_t i = 0; i < p->n_points; i++) {
		g_free(p->points[i].name);
		g_free(p->points[i].description);
		g_free(p->points[i].label);
		g_free(p->points[i].what);
	}
	for (uint32_t i = 0; i < p->n_stages; i++)
		g_free(p->stages[i]);
	g_free(p->stages);
	for (size_t i = 0; i < p->n_procs; i++)
		g_free(p->procs[i].comm);
	g_free(p->procs);
	for (size_t i = 0; i < p->n_uprobes; i++) {
		g_free(p->uprobes[i].path);
		g_free(p->uprobes[i].why);
	}
	g_free(p->uprobes);
	g_free(p->queues);
	for (size_t i = 0; i < p->n_agent_hooks; i++) {
		g_free(p->agent_hooks[i].path);
		g_free(p->agent_hooks[i].spec);
		g_free(p->agent_hooks[i].func_name);
	}
	g_free(p->agent_hooks);
	for (size_t i = 0; i < p->n_kpoints; i++)
		g_free(p->kpoints[i].target);
	memset(p, 0, sizeof(*p));
}
