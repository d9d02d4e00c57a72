/* SPDX-License-Identifier: BSD-2-Clause */
#include "mbuf_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bpf/nc_filter_abi.h"
#include "../discover/dpdk.h"
#include "../discover/dwarf.h"
#include "../discover/elf.h"
#include "../discover/procmaps.h"
#include "../discover/usdt.h"
#include "../discover/usym.h"
#include "../filter/filter.h"
#include "../load/mbuf_probe.h"
#include "../plan/placement.h"
#include "../plan/spec.h"
#include "../util/err.h"
#include "guard.h"

#define RING_BYTES  (16u << 20)
#define STACK_SLOTS 4096 /* -S: distinct user stacks kept (~2 MiB) */

/* A PMD queue whose packets count under a hook point of their own (rx_burst:PORT) */
struct planned_queue {
	pid_t pid;
	uint64_t ptr;
	struct nc_queue_id id;
};

struct capture {
	const struct nc_mbuf_request *r;
	struct nc_dpdk_proc **procs;
	struct nc_filter *filter;
	struct nc_mbuf_probe *probe;
	struct nc_usym *usym; /* -S */
	struct nc_session session;
	struct nc_mbuf_layout mbuf; /* of every target process */
	struct nc_attach_point attach[NC_MAX_HOOKS];
	char *attach_paths[NC_MAX_HOOKS];
	uint32_t n_attach;
	uint32_t stage;		  /* the index of the spec being planned (-G) */
	const uint32_t *stage_of; /* with kernel points: the stage of each DPDK spec */
};

static const char *proc_name(const struct nc_dpdk_proc *p)
{
	return p->comm && *p->comm ? p->comm : "?";
}

/* A new hook point of process p; its hook id is c->session.n_points - 1 */
static int add_point(struct capture *c, const struct nc_dpdk_proc *p, const char *what,
		     const char *label, const char *where, char *err, size_t errlen)
{
	g_autofree char *name = g_strdup_printf("%s[%d]:%s", proc_name(p), (int)p->pid, what);
	g_autofree char *desc = g_strdup_printf(
	    "netcap mbuf capture at %s in process %d (probe at %s)", label, (int)p->pid, where);
	uint32_t hook;
	int ret = nc_session_add_point(&c->session, name, desc, label, NC_LINKTYPE_ETHERNET, &hook,
				       err, errlen);

	if (!ret) {
		c->session.points[hook].stage = c->stage;
		c->session.points[hook].what = g_strdup(what);
	}
	return ret;
}

static int add_attach(struct capture *c, const struct nc_dpdk_proc *p, const char *path,
		      uint64_t offset, uint32_t hook, const struct nc_hook_cfg *cfg, char *err,
		      size_t errlen)
{
	struct nc_attach_point *a;

	if (c->n_attach >= NC_MAX_HOOKS)
		return nc_err(err, errlen, E2BIG, "too many attach points (at most %d)",
			      NC_MAX_HOOKS);
	c->attach_paths[c->n_attach] = g_strdup(path);
	a = &c->attach[c->n_attach++];
	a->path = c->attach_paths[c->n_attach - 1];
	a->offset = offset;
	a->pid = p->pid;
	a->hook = hook;
	a->cfg = *cfg;
	a->ref_ctr_offset = 0;
	return 0;
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

static int plan_function(struct capture *c, const struct nc_dpdk_proc *p,
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
		ret = add_attach(c, p, path, site, c->session.n_points - 1, &cfg, err, errlen);
	return ret;
}

/*
 * rx_burst / tx_burst: one attach point per distinct PMD function, one hook point per port; the
 * ports sharing a function are told apart by their queue pointers.
 */
static int plan_burst(struct capture *c, const struct nc_dpdk_proc *p, const struct nc_hook_spec *s,
		      GArray *queues, char *err, size_t errlen)
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
			    strcmp(qf->path, fn->path) || qf->offset != fn->offset)
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
				first = c->session.n_points - 1;
			for (unsigned k = 0; k < n; k++) {
				struct planned_queue e = {
				    p->pid,
				    rx ? q->rxq[k] : q->txq[k],
				    {q->id, (__u16)k, c->session.n_points - 1}};

				g_array_append_val(queues, e);
			}
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
		ret = add_attach(c, p, fn->path, site, first, &cfg, err, errlen);
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
static int plan_usdt(struct capture *c, const struct nc_dpdk_proc *p, const struct nc_hook_spec *s,
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
			ret = add_attach(c, p, path, site->offset, c->session.n_points - 1, &cfg,
					 err, errlen);
		if (!ret)
			c->attach[c->n_attach - 1].ref_ctr_offset = site->sem_offset;
	}
	for (guint i = 0; i < sites->len; i++)
		nc_usdt_free(g_memdup2(&g_array_index(sites, struct nc_usdt_probe, i),
				       sizeof(struct nc_usdt_probe)),
			     1);
	free(files);
	return ret;
}

/* The session's operations on the mbuf probe */
static int attach_all(void *ctx, char *err, size_t errlen)
{
	struct capture *c = ctx;
	int ret = 0;

	for (uint32_t i = 0; !ret && i < c->n_attach; i++)
		ret = nc_mbuf_probe_attach(c->probe, &c->attach[i], err, errlen);
	return ret;
}

static void enable(void *ctx, bool on)
{
	nc_mbuf_probe_enable(((struct capture *)ctx)->probe, on);
}

static void detach_all(void *ctx)
{
	nc_mbuf_probe_detach(((struct capture *)ctx)->probe);
}

static int counters(void *ctx, uint32_t hook, struct nc_counters *sum)
{
	return nc_mbuf_probe_counters(((struct capture *)ctx)->probe, hook, sum);
}

/* -S: "\nstack:\n  fwd_one+0x3 (nc_fwd.c:120)\n  main+0xb98 (nc_fwd.c:515)..." */
static void append_stack(struct capture *c, const struct nc_record *rec, GString *s)
{
	uint64_t ips[NC_USTACK_DEPTH];
	int n = nc_mbuf_probe_stack(c->probe, rec->stack_id, ips);

	if (n == -ENOSPC) {
		g_string_append_printf(
		    s, "\nstack: lost (more than %d distinct stacks, or two of one hash)",
		    STACK_SLOTS);
		return;
	}
	if (n <= 0) {
		g_string_append(s, "\nstack: none (the user stack could not be read)");
		return;
	}
	g_string_append(s, "\nstack:");
	for (int i = 0; i < n; i++) {
		/* the kernel may have put the entry's return address in itself */
		if (i == 2 && ips[2] == ips[1])
			continue;
		nc_usym_append(c->usym, (pid_t)rec->pid, ips[i], i > 0, s);
	}
}

static void comment(void *ctx, const struct nc_record *rec, const struct nc_session_point *pt,
		    char *buf, size_t len)
{
	struct capture *c = ctx;
	GString *s = g_string_new(NULL);

	g_string_printf(s, "pid %u tid %u cpu %u %s%s%s", rec->pid, rec->tid, rec->cpu, pt->label,
			rec->flags & NC_REC_VLAN_REINSERTED ? ", VLAN tag re-inserted" : "",
			rec->flags & NC_REC_SEGS_CUT ? ", segments beyond the 8th not copied" : "");
	if (c->usym)
		append_stack(c, rec, s);
	snprintf(buf, len, "%s", s->str);
	g_string_free(s, TRUE);
}

static void free_capture(struct capture *c)
{
	nc_mbuf_probe_close(c->probe);
	nc_usym_free(c->usym);
	nc_session_clear(&c->session);
	for (uint32_t i = 0; i < c->n_attach; i++)
		g_free(c->attach_paths[i]);
	for (size_t i = 0; c->procs && i < c->r->n_pids; i++)
		nc_dpdk_free(c->procs[i]);
	free(c->procs);
	nc_filter_free(c->filter);
}

static int plan(struct capture *c, GArray *queues, char *err, size_t errlen)
{
	const struct nc_mbuf_request *r = c->r;
	int ret;

	c->procs = calloc(r->n_pids, sizeof(*c->procs));
	if (!c->procs)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_pids; i++) {
		struct nc_mbuf_layout mbuf;
		char why[256];

		ret = nc_dpdk_inspect(r->pids[i], &c->procs[i], err, errlen);
		if (ret)
			return ret;
		/* the app's own DWARF when it has one (its build options), else the release's */
		if (nc_dwarf_mbuf_layout(c->procs[i]->exe, &mbuf, why, sizeof(why)))
			mbuf = c->procs[i]->mbuf;
		if (i == 0)
			c->mbuf = mbuf;
		else if (memcmp(&mbuf, &c->mbuf, sizeof(mbuf)))
			return nc_err(err, errlen, ENOTSUP,
				      "processes %d and %d lay out struct rte_mbuf differently; "
				      "capture them in two runs",
				      (int)r->pids[0], (int)r->pids[i]);
		if (c->procs[i]->abi != c->procs[0]->abi)
			return nc_err(err, errlen, ENOTSUP,
				      "processes %d (DPDK %s) and %d (DPDK %s) differ in DPDK "
				      "release; capture them in two runs",
				      (int)r->pids[0], c->procs[0]->version, (int)r->pids[i],
				      c->procs[i]->version);
	}
	for (size_t i = 0; i < r->n_pids; i++) {
		for (size_t k = 0; k < r->cap.n_specs; k++) {
			struct nc_hook_spec s;

			ret = nc_spec_parse(r->cap.specs[k], &s, err, errlen);
			if (ret)
				return ret;
			c->stage = c->stage_of ? c->stage_of[k] : (uint32_t)k;
			if (s.type == NC_SPEC_RX_BURST || s.type == NC_SPEC_TX_BURST)
				ret = plan_burst(c, c->procs[i], &s, queues, err, errlen);
			else if (s.type == NC_SPEC_USDT)
				ret = plan_usdt(c, c->procs[i], &s, err, errlen);
			else
				ret = plan_function(c, c->procs[i], &s, err, errlen);
			nc_spec_clear(&s);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int mbuf_capture(const struct nc_mbuf_request *r, const struct nc_mbuf_request *all,
			const uint32_t *stage_of, const struct nc_skb_request *kr,
			const uint32_t *kstages, struct nc_capture_result *res, char *err,
			size_t errlen);

/* Kernel points among the specs: the DPDK and the kernel specs apart, each with its stage */
int nc_mbuf_capture(const struct nc_mbuf_request *r, struct nc_capture_result *res, char *err,
		    size_t errlen)
{
	size_t plen = strlen(NC_MBUF_SKB_PREFIX), nk = 0;
	struct nc_mbuf_request mr = *r;
	struct nc_skb_request kr = {0};
	g_autofree char **mspecs = NULL, **kspecs = NULL;
	g_autofree uint32_t *mstages = NULL, *kstages = NULL;

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < r->cap.n_specs; i++)
		nk += g_str_has_prefix(r->cap.specs[i], NC_MBUF_SKB_PREFIX);
	if (!nk) {
		if (r->cap.iface || r->cap.netns)
			return nc_err(err, errlen, EINVAL,
				      "%s names the interface of kernel points: give one, e.g. -f "
				      "tx_burst,skb:net:netif_receive_skb",
				      r->cap.iface ? "-i" : "--netns");
		return mbuf_capture(r, r, NULL, NULL, NULL, res, err, errlen);
	}
	if (nk == r->cap.n_specs)
		return nc_err(
		    err, errlen, EINVAL,
		    "only kernel points (skb:...) given: capture them with netcap skb, or "
		    "add a DPDK hook point");
	if (r->cap.gather && r->cap.gather->match != NC_GATHER_CONTENT)
		return nc_err(
		    err, errlen, EINVAL,
		    "-G from DPDK to kernel points follows packets by content (the kernel "
		    "copies them into an skb): add --match content");
	mspecs = calloc(r->cap.n_specs, sizeof(*mspecs));
	kspecs = calloc(r->cap.n_specs, sizeof(*kspecs));
	mstages = calloc(r->cap.n_specs, sizeof(*mstages));
	kstages = calloc(r->cap.n_specs, sizeof(*kstages));
	if (!mspecs || !kspecs || !mstages || !kstages)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	/* the kernel points take the request's filter, snap length, stacks, interface... */
	kr.cap = r->cap;
	kr.cap.n_specs = 0;
	mr.cap.n_specs = 0;
	for (size_t i = 0; i < r->cap.n_specs; i++) {
		if (g_str_has_prefix(r->cap.specs[i], NC_MBUF_SKB_PREFIX)) {
			kstages[kr.cap.n_specs] = (uint32_t)i;
			kspecs[kr.cap.n_specs++] = r->cap.specs[i] + plen;
		} else {
			mstages[mr.cap.n_specs] = (uint32_t)i;
			mspecs[mr.cap.n_specs++] = r->cap.specs[i];
		}
	}
	mr.cap.specs = mspecs;
	kr.cap.specs = kspecs;
	return mbuf_capture(&mr, r, mstages, &kr, kstages, res, err, errlen);
}

/* r: the DPDK specs; all: the request as given (every spec, for -G's stages) */
static int mbuf_capture(const struct nc_mbuf_request *r, const struct nc_mbuf_request *all,
			const uint32_t *stage_of, const struct nc_skb_request *kr,
			const uint32_t *kstages, struct nc_capture_result *res, char *err,
			size_t errlen)
{
	struct capture c = {.r = r, .stage_of = stage_of};
	struct nc_skb_part *kpart = NULL;
	g_autoptr(GArray) queues = g_array_new(FALSE, FALSE, sizeof(struct planned_queue));
	struct nc_mbuf_probe_opts po = {0};
	struct nc_session_opts so = nc_session_opts_of(&r->cap);
	struct nc_probe_ops ops[2] = {{.probe = &c,
				       .attach = attach_all,
				       .enable = enable,
				       .detach = detach_all,
				       .counters = counters,
				       .comment = comment}};
	int ret;

	so.watch = r->pids;
	so.n_watch = r->n_pids;
	so.stages = all->cap.specs;
	so.n_stages = (uint32_t)all->cap.n_specs;
	memset(res, 0, sizeof(*res));
	if (!r->n_pids || !r->cap.n_specs)
		return nc_err(err, errlen, EINVAL, "give a process (--pid) and a hook point (-f)");
	if (r->cap.gather && all->cap.n_specs < 2)
		return nc_err(err, errlen, EINVAL,
			      "-G follows packets from point to point: give two hook points or "
			      "more (-f A,B)");
	if (!r->cap.snaplen || r->cap.snaplen > NC_MAX_SNAPLEN)
		return nc_err(err, errlen, EINVAL, "snap length %u: netcap copies 1 to %d bytes",
			      r->cap.snaplen, NC_MAX_SNAPLEN);
	ret = nc_guard_mbuf(r, err, errlen); /* before anything is read or loaded */
	if (ret)
		return ret;
	ret = nc_filter_new(r->cap.filter ? r->cap.filter : "", r->cap.snaplen, 1, &c.filter, err,
			    errlen);
	if (!ret)
		ret = plan(&c, queues, err, errlen);
	if (ret)
		goto out;

	po.filter = c.filter;
	po.mbuf = (struct nc_mbuf_offsets){.buf_addr = c.mbuf.buf_addr,
					   .data_off = c.mbuf.data_off,
					   .nb_segs = c.mbuf.nb_segs,
					   .port = c.mbuf.port,
					   .ol_flags = c.mbuf.ol_flags,
					   .pkt_len = c.mbuf.pkt_len,
					   .data_len = c.mbuf.data_len,
					   .vlan_tci = c.mbuf.vlan_tci,
					   .vlan_tci_outer = c.mbuf.vlan_tci_outer,
					   .next = c.mbuf.next};
	po.snaplen = r->cap.snaplen;
	po.window = r->cap.snaplen < NC_FILTER_WINDOW ? r->cap.snaplen : NC_FILTER_WINDOW;
	po.ring_bytes = r->cap.ring_bytes ? r->cap.ring_bytes : RING_BYTES;
	po.stacks = r->cap.stacks ? STACK_SLOTS : 0;
	if (r->cap.stacks && !(c.usym = nc_usym_new())) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; c.usym && i < r->n_pids; i++)
		nc_usym_watch(c.usym, r->pids[i]);
	for (uint32_t i = 0; i < c.n_attach; i++)
		po.need_return |= c.attach[i].cfg.kind == NC_HOOK_RET_SAVE;
	ret = nc_mbuf_probe_open(&po, &c.probe, err, errlen);
	for (guint i = 0; !ret && i < queues->len; i++) {
		const struct planned_queue *e = &g_array_index(queues, struct planned_queue, i);

		ret = nc_mbuf_probe_add_queue(c.probe, e->pid, e->ptr, &e->id, err, errlen);
	}
	if (!ret) {
		ops[0].ring_fd = nc_mbuf_probe_ring_fd(c.probe);
		ops[0].n_hooks = c.session.n_points;
	}
	if (!ret && kr)
		ret = nc_skb_part_open(kr, kstages, &c.session, &kpart, &ops[1], err, errlen);
	if (!ret)
		ret = nc_session_run_probes(&c.session, &so, ops, kr ? 2 : 1, res, err, errlen);
out:
	nc_skb_part_close(kpart);
	free_capture(&c);
	return ret;
}
