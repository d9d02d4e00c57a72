/* SPDX-License-Identifier: BSD-2-Clause */
#include "mbuf_plan.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../discover/dpdk.h"
#include "../discover/elf.h"
#include "../discover/procmaps.h"
#include "../discover/usdt.h"
#include "../util/err.h"
#include "../write/pcapng.h"
#include "placement.h"
#include "spec.h"

struct planner {
	struct nc_plan *plan;
	uint32_t stage; /* the stage of the spec being planned */
	bool inject;	/* the in-process agent serves the points */
};

static const char *proc_name(const struct nc_dpdk_proc *p)
{
	return p->comm && *p->comm ? p->comm : "?";
}

/* A new hook point of process p; its hook id is c->plan->n_points - 1 */
static int add_point(struct planner *c, const struct nc_dpdk_proc *p, const char *what,
		     const char *label, const char *where, char *err, size_t errlen)
{
	g_autofree char *name = g_strdup_printf("%s[%d]:%s", proc_name(p), (int)p->pid, what);
	/* the release too: a reader of the file knows which layouts were read */
	g_autofree char *desc =
	    c->inject
		? g_strdup_printf(
		      "netcap mbuf capture at %s in process %d (in-process, at %s), DPDK %s", label,
		      (int)p->pid, where, p->version ? p->version : "?")
		: g_strdup_printf("netcap mbuf capture at %s in process %d (probe at %s), DPDK %s",
				  label, (int)p->pid, where, p->version ? p->version : "?");
	uint32_t hook;
	int ret =
	    nc_plan_add_point(c->plan, c->inject ? NC_BACKEND_AGENT : NC_BACKEND_UPROBE, name, desc,
			      label, NC_LINKTYPE_ETHERNET, c->stage, &hook, err, errlen);

	if (!ret)
		c->plan->points[hook].what = g_strdup(what);
	return ret;
}

static int add_uprobe(struct planner *c, const struct nc_dpdk_proc *p, const char *path,
		      uint64_t offset, uint32_t hook, const struct nc_hook_cfg *cfg,
		      const char *why, char *err, size_t errlen)
{
	struct nc_plan *plan = c->plan;
	struct nc_plan_uprobe *u;

	if (plan->n_uprobes >= NC_MAX_HOOKS)
		return nc_err(err, errlen, E2BIG, "too many attach points (at most %d)",
			      NC_MAX_HOOKS);
	plan->uprobes = g_renew(struct nc_plan_uprobe, plan->uprobes, plan->n_uprobes + 1);
	u = &plan->uprobes[plan->n_uprobes++];
	*u = (struct nc_plan_uprobe){.path = g_strdup(path),
				     .offset = offset,
				     .pid = p->pid,
				     .hook = hook,
				     .cfg = *cfg,
				     .why = g_strdup(why)};
	return 0;
}

static void add_queue(struct planner *c, pid_t pid, uint64_t ptr, uint16_t port, uint16_t queue,
		      uint32_t hook)
{
	struct nc_plan *plan = c->plan;

	plan->queues = g_renew(struct nc_plan_queue, plan->queues, plan->n_queues + 1);
	plan->queues[plan->n_queues++] =
	    (struct nc_plan_queue){pid, ptr, {.port = port, .queue = queue, .hook = hook}};
}

/* The mapped ELF file of p named `object` (a path or a file name) */
static int find_object(const struct nc_dpdk_proc *p, const char *object, const char **path,
		       char *err, size_t errlen)
{
	struct nc_maps_file *files = NULL;
	size_t n = 0;
	int ret = nc_maps_elf_files(p->maps, &files, &n, err, errlen);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(files[i].path, '/');

		if (!strcmp(files[i].path, object) || (base && !strcmp(base + 1, object))) {
			*path = files[i].path;
			free(files);
			return 0;
		}
	}
	free(files);
	return nc_err(err, errlen, ENOENT,
		      "no file \"%s\" mapped in process %d (%s); try: netcap list --pid %d", object,
		      (int)p->pid, proc_name(p), (int)p->pid);
}

/* The size of function `name` in file path (0 if unknown) */
static uint64_t func_size(const char *path, const char *name)
{
	struct nc_elf *e;
	uint64_t off, size = 0;

	if (nc_elf_open(path, &e, NULL, 0))
		return 0;
	if (nc_elf_func(e, name, &off, &size, NULL, 0))
		size = 0;
	nc_elf_close(e);
	return size;
}

static int plan_function(struct planner *c, const struct nc_dpdk_proc *p,
			 const struct nc_hook_spec *s, char *err, size_t errlen)
{
	/* functions and offsets are hooked at their entry, where [rsp] is the return address */
	struct nc_hook_cfg cfg = {.kind = (__u8)s->kind,
				  .arg_pkt = s->arg_pkt,
				  .arg_cnt = s->arg_cnt,
				  .ret_bits = s->ret_bits,
				  .at_entry = 1};
	g_autofree char *label = NULL;
	const char *path;
	uint64_t offset, site;
	char where[192];
	int ret;

	if (s->type == NC_SPEC_OFFSET) {
		ret = find_object(p, s->object, &path, err, errlen);
		if (ret)
			return ret;
		offset = s->offset;
		label =
		    g_strdup_printf("%s+%#llx", strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
				    (unsigned long long)offset);
	} else {
		ret = s->object ? find_object(p, s->object, &path, err, errlen)
				: nc_dpdk_resolve_func(p, s->func, &path, &offset, err, errlen);
		if (!ret && s->object) {
			struct nc_elf *e;

			ret = nc_elf_open(path, &e, err, errlen);
			if (!ret) {
				ret = nc_elf_func(e, s->func, &offset, NULL, err, errlen);
				nc_elf_close(e);
			}
		}
		if (ret)
			return ret;
		label = g_strdup(s->func);
	}
	/* probes move past a single-stepped start; the return side too, since nothing skipped
	 * moves rsp: [rsp] is still the return address the uretprobe takes over */
	nc_probe_site(path, offset, s->type == NC_SPEC_FUNC ? func_size(path, s->func) : 0, &site,
		      where, sizeof(where));
	ret = add_point(c, p, label, label, where, err, errlen);
	if (!ret)
		ret = add_uprobe(c, p, path, site, c->plan->n_points - 1, &cfg, where, err, errlen);
	return ret;
}

static int plan_usdt_inproc(struct planner *c, const struct nc_dpdk_proc *p,
			    const struct nc_hook_spec *s, char *err, size_t errlen);

/*
 * The cold part of the function at file offset `func_off` of e (GCC's NAME.cold, the unlikely
 * paths moved out of the body, which jump back into it), loaded at `base`: its address, size
 * and file offset into h, for the scan of branches into the patch. Nothing when the function
 * has no symbol starting there or no cold part.
 */
static void find_cold(const struct nc_elf *e, uint64_t func_off, uint64_t base,
		      struct nc_plan_agent_hook *h)
{
	char name[256], cold[272];
	uint64_t off, size, vaddr;

	if (nc_elf_symbolize(e, func_off, name, sizeof(name)) || strchr(name, '+'))
		return;
	snprintf(cold, sizeof(cold), "%s.cold", name);
	if (nc_elf_func(e, cold, &off, &size, NULL, 0) || !size || nc_elf_vaddr(e, off, &vaddr))
		return;
	h->cold = base + vaddr;
	h->cold_size = size;
	h->cold_off = off;
}

/*
 * FUNC@N, FUNC@N@M, OBJECT:FUNC@… in-process (--inject): one point, the function's entry patched
 * to jump into a trampoline of the agent (netcap builds and writes it when the agent is in
 * place: core/inproc/fhook.c). The forms not served in-process yet are refused here.
 */
static int plan_function_inproc(struct planner *c, const struct nc_dpdk_proc *p,
				const struct nc_hook_spec *s, char *err, size_t errlen)
{
	struct nc_plan *plan = c->plan;
	struct nc_elf *e = NULL;
	struct nc_maps *m = p->maps;
	uint64_t offset = 0, size = 0, vaddr = 0, base = 0, site = 0;
	struct nc_plan_agent_hook cold = {0};
	g_autofree char *where = NULL, *label = NULL;
	const char *path = NULL, *file;
	char why[128];
	int ret;

	if (s->type == NC_SPEC_USDT)
		return plan_usdt_inproc(c, p, s, err, errlen);
	if (s->type == NC_SPEC_OFFSET) {
		offset = s->offset;
		ret = find_object(p, s->object, &path, err, errlen);
		if (!ret)
			size = nc_fde_size(path, offset);
		if (!ret && !size)
			ret = nc_err(
			    err, errlen, ENOTSUP,
			    "hook spec \"%s\": no function of %s starts at %#llx (no symbol, "
			    "no unwind information): --inject needs its size to patch it "
			    "safely; capture it without --inject",
			    s->text, path, (unsigned long long)offset);
	} else {
		ret = s->object ? find_object(p, s->object, &path, err, errlen)
				: nc_dpdk_resolve_func(p, s->func, &path, &offset, err, errlen);
	}
	if (!ret)
		ret = nc_elf_open(path, &e, err, errlen);
	if (!ret && s->type == NC_SPEC_FUNC)
		ret = nc_elf_func(e, s->func, &offset, &size, err, errlen);
	if (!ret && nc_elf_vaddr(e, offset, &vaddr))
		ret = nc_err(err, errlen, ENOEXEC,
			     "hook spec \"%s\": offset %#llx of %s is in no "
			     "section",
			     s->text, (unsigned long long)offset, path);
	if (!ret)
		ret = nc_maps_load_base(m, path, e, &base, err, errlen);
	if (!ret)
		find_cold(e, offset, base, &cold);
	nc_elf_close(e);
	if (ret)
		return ret;
	if (!size)
		return nc_err(
		    err, errlen, ENOTSUP,
		    "hook spec \"%s\": %s gives %s no size, which --inject needs to patch "
		    "it safely; capture it without --inject",
		    s->text, path, s->func);
	file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	where = g_strdup_printf("%s+%#llx, patched to jump into a trampoline", file,
				(unsigned long long)offset);
	/* the uprobe path's label: the function, or OBJECT+0xOFF with the file's name */
	label = s->type == NC_SPEC_OFFSET
		    ? g_strdup_printf("%s+%#llx", file, (unsigned long long)offset)
		    : g_strdup(s->func);
	ret = add_point(c, p, label, label, where, err, errlen);
	if (ret)
		return ret;
	/* -S: the stack's frame 0 is where the uprobe path's probe would sit, chosen as it does */
	nc_probe_site(path, offset, s->type == NC_SPEC_FUNC ? size : 0, &site, why, sizeof(why));
	plan->agent_hooks =
	    g_renew(struct nc_plan_agent_hook, plan->agent_hooks, plan->n_agent_hooks + 1);
	plan->agent_hooks[plan->n_agent_hooks++] =
	    (struct nc_plan_agent_hook){.pid = p->pid,
					.hook = plan->n_points - 1,
					.queue = -1,
					.frame0 = base + vaddr + (site - offset),
					.func = base + vaddr,
					.func_size = size,
					.path = g_strdup(path),
					.file_off = offset,
					.arg = s->arg_pkt,
					.count_arg = s->kind == NC_HOOK_VECTOR ? s->arg_cnt : 0,
					.ret_bits = s->kind == NC_HOOK_RET_SAVE ? s->ret_bits : 0,
					.spec = g_strdup(s->text),
					.cold = cold.cold,
					.cold_size = cold.cold_size,
					.cold_off = cold.cold_off};
	return 0;
}

/* rx_burst / tx_burst in-process (--inject): one point per port, served by the agent, which
 * swaps the port's burst pointer in rte_eth_fp_ops */
static int plan_burst_inproc(struct planner *c, const struct nc_dpdk_proc *p,
			     const struct nc_hook_spec *s, char *err, size_t errlen)
{
	bool rx = s->type == NC_SPEC_RX_BURST;
	const char *what = rx ? "rx_burst" : "tx_burst";

	for (size_t i = 0; i < p->n_ports; i++) {
		const struct nc_dpdk_port *q = &p->ports[i];
		const struct nc_dpdk_func *fn = rx ? &q->rx : &q->tx;
		g_autofree char *name = NULL, *label = NULL, *where = NULL;
		struct nc_plan *plan = c->plan;
		uint64_t site = 0;
		char why[128];
		int ret;

		if (!q->started || (s->port >= 0 && q->id != s->port))
			continue;
		if (q->id >= NC_PLAN_AGENT_PORTS)
			return nc_err(
			    err, errlen, ENOTSUP,
			    "port %u of process %d: in-process capture hooks ports 0 to %d; "
			    "capture it without --inject",
			    q->id, (int)p->pid, NC_PLAN_AGENT_PORTS - 1);
		name = g_strdup_printf("%s:port%u", what, q->id);
		label = fn->symbol ? g_strdup(fn->symbol)
				   : g_strdup_printf("%s+%#llx",
						     fn->path && strrchr(fn->path, '/')
							 ? strrchr(fn->path, '/') + 1
							 : "?",
						     (unsigned long long)fn->offset);
		where = g_strdup_printf("rte_eth_fp_ops[%u].%s", q->id,
					rx ? "rx_pkt_burst" : "tx_pkt_burst");
		ret = add_point(c, p, name, label, where, err, errlen);
		if (ret)
			return ret;
		/* -S: frame 0 where the uprobe path's probe would sit in the PMD's function (a
		 * function in no file: its address) */
		if (fn->path)
			nc_probe_site(fn->path, fn->offset, 0, &site, why, sizeof(why));
		plan->agent_hooks =
		    g_renew(struct nc_plan_agent_hook, plan->agent_hooks, plan->n_agent_hooks + 1);
		plan->agent_hooks[plan->n_agent_hooks++] = (struct nc_plan_agent_hook){
		    .pid = p->pid,
		    .hook = plan->n_points - 1,
		    .tx = !rx,
		    .port = q->id,
		    .queue = -1,
		    .frame0 = fn->addr + (fn->path ? site - fn->offset : 0)};
	}
	return 0;
}

/*
 * rx_burst / tx_burst: one attach point per distinct PMD function, one hook point per port; the
 * ports sharing a function are told apart by their queue pointers.
 */
static int plan_burst(struct planner *c, const struct nc_dpdk_proc *p, const struct nc_hook_spec *s,
		      char *err, size_t errlen)
{
	bool rx = s->type == NC_SPEC_RX_BURST;
	const char *what = rx ? "rx_burst" : "tx_burst";
	bool done[p->n_ports + 1];
	size_t matched = 0;
	int ret;

	memset(done, 0, sizeof(done));
	for (size_t i = 0; i < p->n_ports; i++)
		if (p->ports[i].started && (s->port < 0 || p->ports[i].id == s->port))
			matched++;
	if (!matched) {
		GString *ports = g_string_new(NULL);

		for (size_t i = 0; i < p->n_ports; i++)
			if (p->ports[i].started)
				g_string_append_printf(ports, "%s%u", ports->len ? ", " : "",
						       p->ports[i].id);
		if (s->port >= 0)
			ret = nc_err(err, errlen, ENOENT,
				     "process %d (%s) has no started port %d (started: %s); try: "
				     "netcap list --pid %d",
				     (int)p->pid, proc_name(p), s->port,
				     ports->len ? ports->str : "none", (int)p->pid);
		else
			ret = nc_err(err, errlen, ENOENT,
				     "process %d (%s) has no started port; capture at %s needs "
				     "the ports started",
				     (int)p->pid, proc_name(p), what);
		g_string_free(ports, TRUE);
		return ret;
	}
	if (c->inject)
		return plan_burst_inproc(c, p, s, err, errlen);
	for (size_t i = 0; i < p->n_ports; i++) {
		const struct nc_dpdk_port *port = &p->ports[i];
		const struct nc_dpdk_func *fn = rx ? &port->rx : &port->tx;
		struct nc_hook_cfg cfg = {
		    .arg_pkt = 2, .arg_queue = 1, .queue_only = 1, .at_entry = 1};
		uint32_t first = UINT32_MAX;
		uint64_t site;
		char where[192];

		if (done[i] || !port->started || (s->port >= 0 && port->id != s->port))
			continue;
		if (!fn->path)
			return nc_err(
			    err, errlen, ENOTSUP,
			    "port %u of process %d (%s): its %s function (%#llx) is in no "
			    "mapped file, where a uprobe cannot go; try --inject",
			    port->id, (int)p->pid, proc_name(p), what,
			    (unsigned long long)fn->addr);
		/* stripped PMD code: the size comes from the unwind information */
		nc_probe_site(fn->path, fn->offset, 0, &site, where, sizeof(where));
		if (rx)
			g_strlcat(where, ", and its return", sizeof(where));
		/* every selected port served by the same function joins this attach point */
		for (size_t j = i; j < p->n_ports; j++) {
			const struct nc_dpdk_port *q = &p->ports[j];
			const struct nc_dpdk_func *qf = rx ? &q->rx : &q->tx;
			g_autofree char *name = NULL;
			g_autofree char *label = NULL;
			unsigned n = rx ? q->n_rxq : q->n_txq;

			if (done[j] || !q->started || (s->port >= 0 && q->id != s->port) ||
			    !qf->path || strcmp(qf->path, fn->path) || qf->offset != fn->offset)
				continue;
			done[j] = true;
			name = g_strdup_printf("%s:port%u", what, q->id);
			label = qf->symbol ? g_strdup(qf->symbol)
					   : g_strdup_printf("%s+%#llx", strrchr(qf->path, '/') + 1,
							     (unsigned long long)qf->offset);
			ret = add_point(c, p, name, label, where, err, errlen);
			if (ret)
				return ret;
			if (first == UINT32_MAX)
				first = c->plan->n_points - 1;
			for (unsigned k = 0; k < n; k++)
				add_queue(c, p->pid, rx ? q->rxq[k] : q->txq[k], q->id, (uint16_t)k,
					  c->plan->n_points - 1);
		}
		if (rx) {
			cfg.kind = NC_HOOK_RET_SAVE;
			cfg.ret_bits = 16;
			cfg.direction = NC_DIR_IN;
		} else {
			cfg.kind = NC_HOOK_VECTOR;
			cfg.arg_cnt = 3;
			cfg.direction = NC_DIR_OUT;
		}
		ret = add_uprobe(c, p, fn->path, site, first, &cfg, where, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* The sites of USDT probe s->provider:s->func in file path; 0 when it has none */
static int usdt_sites(const char *path, const struct nc_hook_spec *s, GArray *sites, char *err,
		      size_t errlen)
{
	struct nc_usdt_probe *v;
	size_t n;
	int ret = nc_usdt_list(path, &v, &n, err, errlen);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].provider, s->provider) || strcmp(v[i].name, s->func))
			continue;
		g_array_append_val(sites, v[i]);
		memset(&v[i], 0, sizeof(v[i])); /* moved */
	}
	nc_usdt_free(v, n);
	return 0;
}

/* Where argument i of a site is; the message names the probe */
static int usdt_loc(const struct nc_hook_spec *s, const struct nc_usdt_probe *site, unsigned i,
		    struct nc_arg_loc *loc, char *err, size_t errlen)
{
	char why[256];
	int ret = nc_usdt_arg(site->args, i, loc, why, sizeof(why));

	if (ret)
		return nc_err(err, errlen, -ret, "hook spec \"%s\": USDT probe %s:%s: %s", s->text,
			      s->provider, s->func, why);
	return 0;
}

/*
 * usdt:[OBJECT:]PROVIDER:NAME@N[@M]: every site of the probe in the first file that has it (the
 * executable, then its libraries, in the order of /proc/PID/maps), one hook point; the probe's
 * semaphore, if any, is raised by the kernel while attached (ref_ctr_offset).
 */
static int plan_usdt(struct planner *c, const struct nc_dpdk_proc *p, const struct nc_hook_spec *s,
		     char *err, size_t errlen)
{
	struct nc_hook_cfg cfg = {.kind = (__u8)s->kind};
	g_autoptr(GArray) sites = g_array_new(FALSE, TRUE, sizeof(struct nc_usdt_probe));
	g_autofree char *label = NULL;
	g_autofree char *where = NULL;
	struct nc_maps_file *files = NULL;
	const char *path = NULL;
	size_t n = 0;
	int ret;

	if (s->object) {
		ret = find_object(p, s->object, &path, err, errlen);
		if (!ret)
			ret = usdt_sites(path, s, sites, err, errlen);
	} else {
		ret = nc_maps_elf_files(p->maps, &files, &n, err, errlen);
		for (size_t i = 0; !ret && i < n && !sites->len; i++) {
			path = files[i].path;
			ret = usdt_sites(path, s, sites, NULL, 0) == -ENOMEM ? -ENOMEM : 0;
		}
	}
	if (!ret && !sites->len && s->object)
		ret = nc_err(err, errlen, ENOENT,
			     "no USDT probe %s:%s in %s; try: netcap list --pid %d", s->provider,
			     s->func, path, (int)p->pid);
	else if (!ret && !sites->len)
		ret = nc_err(err, errlen, ENOENT,
			     "no USDT probe %s:%s in /proc/%d/exe or its libraries; try: netcap "
			     "list --pid %d",
			     s->provider, s->func, (int)p->pid, (int)p->pid);
	for (guint i = 0; !ret && i < sites->len; i++) {
		const struct nc_usdt_probe *site = &g_array_index(sites, struct nc_usdt_probe, i);
		struct nc_hook_cfg one = cfg;

		ret = usdt_loc(s, site, s->arg_pkt, &one.loc_pkt, err, errlen);
		if (!ret && s->kind == NC_HOOK_VECTOR)
			ret = usdt_loc(s, site, s->arg_cnt, &one.loc_cnt, err, errlen);
		if (!ret && !site->offset)
			ret = nc_err(err, errlen, ENOEXEC,
				     "USDT probe %s:%s in %s: its address %#llx is in no loadable "
				     "segment",
				     s->provider, s->func, path, (unsigned long long)site->pc);
		if (ret)
			break;
		if (i == 0) {
			cfg = one;
			label = g_strdup_printf("usdt:%s:%s", s->provider, s->func);
			where = g_strdup_printf(
			    "the USDT site%s %s+%#llx%s", sites->len > 1 ? "s" : "",
			    strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
			    (unsigned long long)site->offset, sites->len > 1 ? " and others" : "");
			ret = add_point(c, p, label, label, where, err, errlen);
		} else if (memcmp(&one, &cfg, sizeof(cfg))) {
			ret = nc_err(err, errlen, ENOTSUP,
				     "hook spec \"%s\": the sites of USDT probe %s:%s keep their "
				     "arguments in different places, which one hook point cannot "
				     "read",
				     s->text, s->provider, s->func);
		}
		if (!ret)
			ret = add_uprobe(c, p, path, site->offset, c->plan->n_points - 1, &cfg,
					 where, err, errlen);
		if (!ret)
			c->plan->uprobes[c->plan->n_uprobes - 1].ref_ctr_offset = site->sem_offset;
	}
	for (guint i = 0; i < sites->len; i++)
		nc_usdt_free(g_memdup2(&g_array_index(sites, struct nc_usdt_probe, i),
				       sizeof(struct nc_usdt_probe)),
			     1);
	free(files);
	return ret;
}

/*
 * One site of a USDT probe in-process: the function holding it (its symbol and size, which the
 * patch needs for the scan of its branches), its load address, the semaphore's address.
 */
static int usdt_site_inproc(const struct nc_dpdk_proc *p, const struct nc_hook_spec *s,
			    const char *path, const struct nc_usdt_probe *site,
			    struct nc_plan_agent_hook *h, char *err, size_t errlen)
{
	uint64_t foff = 0, fsize = 0, vaddr = 0, base = 0, svaddr = 0;
	char sym[256] = "";
	struct nc_elf *e = NULL;
	int ret = nc_elf_open(path, &e, err, errlen);

	if (!ret && nc_elf_symbolize(e, site->offset, sym, sizeof(sym)) == 0) {
		sym[strcspn(sym, "+")] = 0;
		if (nc_elf_func(e, sym, &foff, &fsize, NULL, 0) || site->offset < foff ||
		    site->offset >= foff + fsize)
			fsize = 0;
	}
	if (!ret && !fsize)
		ret = nc_err(err, errlen, ENOTSUP,
			     "hook spec \"%s\": the USDT site %s+%#llx is in no function with a "
			     "symbol and a size, which --inject needs to patch it safely; capture "
			     "it without --inject",
			     s->text, strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
			     (unsigned long long)site->offset);
	if (!ret && (nc_elf_vaddr(e, foff, &vaddr) ||
		     (site->sem_offset && nc_elf_vaddr(e, site->sem_offset, &svaddr))))
		ret = nc_err(err, errlen, ENOEXEC,
			     "USDT probe %s:%s in %s: its function or semaphore is in no section",
			     s->provider, s->func, path);
	if (!ret)
		ret = nc_maps_load_base(p->maps, path, e, &base, err, errlen);
	if (!ret)
		find_cold(e, foff, base, h);
	nc_elf_close(e);
	if (ret)
		return ret;
	h->func = base + vaddr;
	h->func_size = fsize;
	h->file_off = foff;
	h->site_off = site->offset - foff;
	h->sema = site->sem_offset ? base + svaddr : 0;
	h->func_name = g_strdup(sym);
	h->frame0 = h->func + h->site_off; /* the uprobe path's probe: the site's nop */
	return 0;
}

/*
 * usdt:[OBJECT:]PROVIDER:NAME@N[@M] in-process (--inject): one point, each site of the probe
 * patched to jump into a trampoline that reads the probe's arguments where its note says; the
 * semaphore raised by the agent while it captures.
 */
static int plan_usdt_inproc(struct planner *c, const struct nc_dpdk_proc *p,
			    const struct nc_hook_spec *s, char *err, size_t errlen)
{
	g_autoptr(GArray) sites = g_array_new(FALSE, TRUE, sizeof(struct nc_usdt_probe));
	g_autofree char *label = NULL, *where = NULL;
	struct nc_maps_file *files = NULL;
	struct nc_plan *plan = c->plan;
	const char *path = NULL;
	size_t n = 0;
	int ret;

	if (s->object) {
		ret = find_object(p, s->object, &path, err, errlen);
		if (!ret)
			ret = usdt_sites(path, s, sites, err, errlen);
	} else {
		ret = nc_maps_elf_files(p->maps, &files, &n, err, errlen);
		for (size_t i = 0; !ret && i < n && !sites->len; i++) {
			path = files[i].path;
			ret = usdt_sites(path, s, sites, NULL, 0) == -ENOMEM ? -ENOMEM : 0;
		}
	}
	if (!ret && !sites->len && s->object)
		ret = nc_err(err, errlen, ENOENT,
			     "no USDT probe %s:%s in %s; try: netcap list --pid %d", s->provider,
			     s->func, path, (int)p->pid);
	else if (!ret && !sites->len)
		ret = nc_err(err, errlen, ENOENT,
			     "no USDT probe %s:%s in /proc/%d/exe or its libraries; try: netcap "
			     "list --pid %d",
			     s->provider, s->func, (int)p->pid, (int)p->pid);
	for (guint i = 0; !ret && i < sites->len; i++) {
		const struct nc_usdt_probe *site = &g_array_index(sites, struct nc_usdt_probe, i);
		struct nc_plan_agent_hook h = {.pid = p->pid,
					       .queue = -1,
					       .arg = s->arg_pkt,
					       .count_arg =
						   s->kind == NC_HOOK_VECTOR ? s->arg_cnt : 0};

		ret = usdt_loc(s, site, s->arg_pkt, &h.loc_pkt, err, errlen);
		if (!ret && s->kind == NC_HOOK_VECTOR)
			ret = usdt_loc(s, site, s->arg_cnt, &h.loc_cnt, err, errlen);
		if (!ret && !site->offset)
			ret = nc_err(err, errlen, ENOEXEC,
				     "USDT probe %s:%s in %s: its address %#llx is in no loadable "
				     "segment",
				     s->provider, s->func, path, (unsigned long long)site->pc);
		if (!ret)
			ret = usdt_site_inproc(p, s, path, site, &h, err, errlen);
		if (!ret && i == 0) {
			/* the uprobe path's label; where each site is patched */
			label = g_strdup_printf("usdt:%s:%s", s->provider, s->func);
			where = g_strdup_printf(
			    "the USDT site%s %s+%#llx (%s+%#llx)%s, patched to jump into a "
			    "trampoline",
			    sites->len > 1 ? "s" : "",
			    strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
			    (unsigned long long)site->offset, h.func_name,
			    (unsigned long long)h.site_off, sites->len > 1 ? " and others" : "");
			ret = add_point(c, p, label, label, where, err, errlen);
		}
		if (ret) {
			g_free(h.func_name);
			break;
		}
		h.hook = plan->n_points - 1;
		h.path = g_strdup(path);
		h.spec = g_strdup(s->text);
		plan->agent_hooks =
		    g_renew(struct nc_plan_agent_hook, plan->agent_hooks, plan->n_agent_hooks + 1);
		plan->agent_hooks[plan->n_agent_hooks++] = h;
	}
	for (guint i = 0; i < sites->len; i++)
		nc_usdt_free(g_memdup2(&g_array_index(sites, struct nc_usdt_probe, i),
				       sizeof(struct nc_usdt_probe)),
			     1);
	free(files);
	return ret;
}

int nc_mbuf_plan(struct nc_plan *plan, struct nc_dpdk_proc *const *procs,
		 const struct nc_mbuf_layout *layouts, size_t n_procs, char *const *specs,
		 size_t n_specs, const uint32_t *stages, bool inject, char *err, size_t errlen)
{
	struct planner c = {.plan = plan, .inject = inject};
	int ret;

	for (size_t i = 1; i < n_procs; i++) {
		if (memcmp(&layouts[i], &layouts[0], sizeof(layouts[0])))
			return nc_err(err, errlen, ENOTSUP,
				      "processes %d and %d lay out struct rte_mbuf differently; "
				      "capture them in two runs",
				      (int)procs[0]->pid, (int)procs[i]->pid);
		if (procs[i]->abi != procs[0]->abi)
			return nc_err(err, errlen, ENOTSUP,
				      "processes %d (DPDK %s) and %d (DPDK %s) differ in DPDK "
				      "release; capture them in two runs",
				      (int)procs[0]->pid, procs[0]->version, (int)procs[i]->pid,
				      procs[i]->version);
	}
	if (n_procs)
		plan->mbuf = layouts[0];
	plan->procs = g_new0(struct nc_plan_proc, n_procs);
	plan->n_procs = n_procs;
	for (size_t i = 0; i < n_procs; i++)
		plan->procs[i] = (struct nc_plan_proc){.pid = procs[i]->pid,
						       .comm = g_strdup(proc_name(procs[i])),
						       .version = procs[i]->version,
						       .fp_ops_addr = procs[i]->fp_ops_addr,
						       .fp_ops_count = procs[i]->fp_ops_count,
						       .fp_ops = procs[i]->fp_ops_layout};
	for (size_t i = 0; i < n_procs; i++) {
		for (size_t k = 0; k < n_specs; k++) {
			struct nc_hook_spec s;

			ret = nc_spec_parse(specs[k], &s, err, errlen);
			if (ret)
				return ret;
			c.stage = stages ? stages[k] : (uint32_t)k;
			if (inject && s.type != NC_SPEC_RX_BURST && s.type != NC_SPEC_TX_BURST)
				ret = plan_function_inproc(&c, procs[i], &s, err, errlen);
			else if (s.type == NC_SPEC_RX_BURST || s.type == NC_SPEC_TX_BURST)
				ret = plan_burst(&c, procs[i], &s, err, errlen);
			else if (s.type == NC_SPEC_USDT)
				ret = plan_usdt(&c, procs[i], &s, err, errlen);
			else
				ret = plan_function(&c, procs[i], &s, err, errlen);
			nc_spec_clear(&s);
			if (ret)
				return ret;
		}
	}
	return 0;
}
