/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process backend (--inject): the plan's DPDK points through netcap's agent inside each
 * process. open() makes the shared memory and the socket (nothing in the target yet); attach()
 * loads the agent with ptrace (core/inject) and hands it the configuration, after which it swaps
 * the burst pointers; closing the window asks it to put them back and leave; the records are
 * read from the shared rings (poll), not from a BPF ring.
 */
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../discover/usym.h"
#include "../filter/filter.h"
#include "../inject/inject.h"
#include "../inproc/client.h"
#include "../util/err.h"
#include "agent_lib.h"
#include "backend.h"

#define ACCEPT_MS 5000 /* the agent's connection after the injection */
#define STOP_MS	  2000 /* the agent's answer to STOP: pointers restored, memory unmapped */

/* One process's agent */
struct agent {
	pid_t pid;
	struct nc_inproc *client;
	struct nc_inproc_hook *hooks;
	size_t n_hooks;
	bool attached; /* injected and configured: its hooks are live */
	struct nc_inject_result injected;
	bool copied; /* the agent went in as a copy (a memfd): its path is not the process's */
	bool stopped;
};

struct agents {
	const struct nc_plan *plan;
	struct agent *v;
	size_t n;
	/* hook id → (agent, index of the hook in its options) */
	int32_t agent_of[NC_MAX_HOOKS];
	uint32_t index_of[NC_MAX_HOOKS];
	struct nc_usym *usym; /* -S */
};

/* Where netcap's agent library is: NETCAP_AGENT, the build tree beside this netcap, or the
 * installed one */
static char *agent_path(void)
{
	const char *env = getenv("NETCAP_AGENT");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env)
		return g_strdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		g_autofree char *dir = NULL, *built = NULL;

		self[n] = '\0';
		dir = g_path_get_dirname(self);
		built = g_build_filename(dir, "..", "agent", "libnetcap-agent.so", NULL);
		if (access(built, R_OK) == 0)
			return g_canonicalize_filename(built, NULL);
	}
	return g_strdup(NC_AGENT_INSTALLED);
}

/* Whether pid sees netcap's agent at lib: the same file through its root (a process on the
 * host, or a chroot or container that has it bound in). Otherwise the agent goes in as a copy. */
bool nc_agent_visible(pid_t pid, const char *lib)
{
	g_autofree char *there = g_strdup_printf("/proc/%d/root%s", (int)pid, lib);
	struct stat a, b;

	return !stat(lib, &a) && !stat(there, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

char *nc_agent_path(void)
{
	return agent_path();
}

/* The bound of each stop that patches or unpatches functions: NETCAP_PATCH_TIMEOUT_MS, else
 * core/inject/patch.h's default (100 ms) */
static int patch_ms(void)
{
	const char *env = getenv("NETCAP_PATCH_TIMEOUT_MS");
	long v = env && *env ? strtol(env, NULL, 10) : 0;

	return v > 0 && v <= 60000 ? (int)v : 0;
}

static void close_(void *state)
{
	struct agents *a = state;

	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		nc_inproc_close(a->v[i].client);
		g_free(a->v[i].hooks);
	}
	g_free(a->v);
	nc_usym_free(a->usym);
	free(a);
}

static int open_(const struct nc_plan *plan, const struct nc_backend_opts *o, void **state,
		 char *err, size_t errlen)
{
	struct agents *a = calloc(1, sizeof(*a));
	const struct nc_filter *f = o->filter;
	int ret = 0;

	if (!a)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	a->plan = plan;
	memset(a->agent_of, -1, sizeof(a->agent_of));
	if (o->stacks && !(a->usym = nc_usym_new())) {
		free(a);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	a->v = g_new0(struct agent, plan->n_procs);
	for (size_t p = 0; !ret && p < plan->n_procs; p++) {
		const struct nc_plan_proc *proc = &plan->procs[p];
		struct agent *ag = &a->v[a->n];
		struct nc_inproc_opts io = {.pid = proc->pid,
					    .fp_ops_addr = proc->fp_ops_addr,
					    .fp_ops_count = proc->fp_ops_count,
					    .fp_ops = proc->fp_ops,
					    .mbuf = plan->mbuf,
					    .snaplen = o->snaplen,
					    .ring_bytes = o->ring_bytes,
					    .patch_timeout_ms = patch_ms(),
					    .stacks = o->stacks};

		ag->pid = proc->pid;
		ag->hooks = g_new0(struct nc_inproc_hook, plan->n_agent_hooks);
		for (size_t i = 0; i < plan->n_agent_hooks; i++) {
			const struct nc_plan_agent_hook *h = &plan->agent_hooks[i];

			if (h->pid != proc->pid)
				continue;
			a->agent_of[h->hook] = (int32_t)a->n;
			a->index_of[h->hook] = (uint32_t)ag->n_hooks;
			ag->hooks[ag->n_hooks++] =
			    (struct nc_inproc_hook){.id = h->hook,
						    .tx = h->tx,
						    .port = h->port,
						    .queue = h->queue,
						    .func = h->func,
						    .func_size = h->func_size,
						    .path = h->path,
						    .file_off = h->file_off,
						    .arg = h->arg,
						    .count_arg = h->count_arg,
						    .ret_bits = h->ret_bits,
						    .spec = h->spec,
						    .site_off = h->site_off,
						    .loc = {h->loc_pkt, h->loc_cnt},
						    .sema = h->sema,
						    .func_name = h->func_name,
						    .cold = h->cold,
						    .cold_size = h->cold_size,
						    .cold_off = h->cold_off,
						    .frame0 = h->frame0};
		}
		if (!ag->n_hooks) {
			g_free(ag->hooks);
			ag->hooks = NULL;
			continue;
		}
		if (a->usym)
			nc_usym_watch(a->usym, proc->pid);
		a->n++;
		/* an expression's Ethernet program; "" (every packet) needs none */
		if (f && f->expr && *f->expr) {
			io.filter = f->cbpf[NC_LINK_L2];
			io.filter_len = f->cbpf_len[NC_LINK_L2];
		}
		io.hooks = ag->hooks;
		io.n_hooks = ag->n_hooks;
		ret = nc_inproc_open(&io, &ag->client, err, errlen);
	}
	if (ret) {
		close_(a);
		return ret;
	}
	*state = a;
	return 0;
}

static int ring_fd(void *state)
{
	(void)state;
	return -1; /* the records are in the shared memory: poll() */
}

static int attach(void *state, char *err, size_t errlen)
{
	struct agents *a = state;
	g_autofree char *lib = agent_path();
	int ret = 0;

	for (size_t i = 0; !ret && i < a->n; i++) {
		struct agent *ag = &a->v[i];
		struct nc_inject_opts io = {.soname = NC_AGENT_SONAME};
		char why[384];

		/* a process that does not see the agent's file (a container) gets a copy, which
		 * leaves no file behind */
		io.copy = ag->copied = !nc_agent_visible(ag->pid, lib);
		ret = nc_inject(ag->pid, lib, "nc_agent_main", nc_inproc_name(ag->client), &io,
				&ag->injected, why, sizeof(why));
		if (ret) {
			nc_err(err, errlen, -ret, "--inject: process %d: %s", (int)ag->pid, why);
			break;
		}
		ret = nc_inproc_accept(ag->client, ACCEPT_MS, why, sizeof(why));
		if (ret)
			nc_err(err, errlen, -ret, "--inject: process %d: %s", (int)ag->pid, why);
		else
			ag->attached = true;
	}
	return ret;
}

static void note(void *state, char *buf, size_t len)
{
	struct agents *a = state;
	size_t n = 0;

	for (size_t i = 0; i < a->n && n < len; i++) {
		const struct nc_inject_result *r = &a->v[i].injected;

		if (!a->v[i].attached)
			continue;
		n += (size_t)snprintf(
		    buf + n, len - n,
		    "%sagent loaded into process %d through thread %d (%s), stopped "
		    "%.3f ms; agent thread %d; %.1f ms in all%s%s",
		    n ? "\n" : "", (int)a->v[i].pid, (int)r->tid, r->comm, (double)r->stop_ns / 1e6,
		    (int)r->agent_tid, (double)r->total_ns / 1e6,
		    a->v[i].copied ? "; copied through a memfd (its root has no agent)" : "",
		    nc_inproc_netns(a->v[i].client) ? "; socket in its network namespace" : "");
	}
}

/* The agents capture from the moment they are configured; closing the window makes them leave
 * (every pointer put back, no thread inside a hook), so that nothing is counted after it */
static void enable(void *state, bool on)
{
	struct agents *a = state;

	if (on)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct agent *ag = &a->v[i];

		if (!ag->attached || ag->stopped)
			continue;
		ag->stopped = true;
		nc_inproc_stop(ag->client, STOP_MS, NULL, 0);
	}
}

static void detach(void *state)
{
	enable(state, false);
}

static int poll_(void *state, nc_record_fn fn, void *ctx, int timeout_ms)
{
	struct agents *a = state;
	int total = 0;

	for (size_t i = 0; i < a->n; i++) {
		int n;

		if (!a->v[i].attached)
			continue;
		n = nc_inproc_poll(a->v[i].client, fn, ctx, total ? 0 : timeout_ms);
		if (n < 0)
			return n;
		total += n;
	}
	if (!total && timeout_ms > 0 && !a->n)
		usleep((useconds_t)timeout_ms * 1000);
	return total;
}

static int poll_pcap(void *state, struct nc_pcap_batch *b, int timeout_ms)
{
	struct agents *a = state;
	int total = 0;

	/* one process after the other (as poll_), until one needs an interface's IDB first */
	for (size_t i = 0; i < a->n && b->need == NC_PCAP_BATCH_NO_ID; i++) {
		int n;

		if (!a->v[i].attached)
			continue;
		n = nc_inproc_poll_pcap(a->v[i].client, b, total ? 0 : timeout_ms);
		if (n < 0)
			return n;
		total += n;
	}
	if (!total && timeout_ms > 0 && !a->n)
		usleep((useconds_t)timeout_ms * 1000);
	return total;
}

static uint64_t malformed(void *state)
{
	struct agents *a = state;
	uint64_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += nc_inproc_malformed(a->v[i].client);
	return n;
}

static int counters(void *state, uint32_t hook, struct nc_counters *sum)
{
	struct agents *a = state;

	memset(sum, 0, sizeof(*sum));
	if (hook >= NC_MAX_HOOKS || a->agent_of[hook] < 0)
		return -ENOENT;
	return nc_inproc_counters(a->v[a->agent_of[hook]].client, a->index_of[hook], sum);
}

static void comment(void *state, const struct nc_record *rec, const char *label, char *buf,
		    size_t len)
{
	struct agents *a = state;
	uint64_t ips[NC_USTACK_DEPTH];

	nc_mbuf_comment(rec, label, buf, len);
	if (!a->usym || rec->hook >= NC_MAX_HOOKS || a->agent_of[rec->hook] < 0)
		return;
	/* -S: the stack the agent read at the hook call, as the uprobe path writes it */
	nc_stack_append(a->usym, (pid_t)rec->pid, ips,
			nc_inproc_stack(a->v[a->agent_of[rec->hook]].client, rec->stack_id, ips),
			buf, len);
}

const struct nc_backend nc_agent_backend = {.name = "agent",
					    .open = open_,
					    .ring_fd = ring_fd,
					    .poll = poll_,
					    .poll_pcap = poll_pcap,
					    .malformed = malformed,
					    .attach = attach,
					    .note = note,
					    .enable = enable,
					    .detach = detach,
					    .counters = counters,
					    .comment = comment,
					    .close = close_};
