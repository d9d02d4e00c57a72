/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap list --pid PID: what netcap can hook in a DPDK process (core/discover/listing.h) — its
 * DPDK release, each port's PMD burst functions (symbol, or file+offset for stripped PMDs) and
 * queues, functions taking mbufs, USDT probes — with where the plan would put each probe.
 * netcap list --kernel: the kernel's tracepoints that carry an skb and, where the kernel lets
 * netcap hook functions, the functions that take one (BTF).
 */
#include <bpf/btf.h>
#include <glib.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "netcap.h"

static void print_func(const char *dir, const struct nc_dpdk_func *f)
{
	const char *base = f->path ? strrchr(f->path, '/') : NULL;
	uint64_t site;
	char why[192];

	if (!f->path) { /* a pointer into no mapped file (anonymous memory, JIT code) */
		printf("  %s %#llx (in no mapped file)\n", dir, (unsigned long long)f->addr);
		return;
	}
	printf("  %s %s+%#llx", dir, base ? base + 1 : f->path, (unsigned long long)f->offset);
	if (f->symbol)
		printf(" (%s)", f->symbol);
	printf("\n");
	/* stripped PMD code: the function's size comes from its unwind information */
	if (!nc_probe_site(f->path, f->offset, 0, &site, why, sizeof(why)))
		printf("      probe at %s\n", why);
}

/* The executable's functions that take mbufs (DWARF), with the specs that would hook them and
 * where an entry probe would sit (the return-side form stays at the entry) */
static void print_functions(const struct nc_listing *l)
{
	const char *exe = l->proc->exe;

	if (l->funcs_err) {
		printf("functions: %s\n", l->funcs_err);
		return;
	}
	if (!l->n_funcs) {
		printf("functions taking struct rte_mbuf: none found (no DWARF in %s?)\n", exe);
		return;
	}
	printf("functions taking struct rte_mbuf (DWARF of %s):\n", exe);
	for (size_t i = 0; i < l->n_funcs; i++) {
		const struct nc_listing_func *f = &l->funcs[i];
		uint64_t site;
		char why[192];

		for (size_t k = 0; k < f->n_specs; k++)
			printf("  %s", f->specs[k]);
		printf("    %s\n", f->proto);
		if (f->has_symbol &&
		    !nc_probe_site(exe, f->offset, f->size, &site, why, sizeof(why)))
			printf("      entry probe at %s\n", why);
	}
}

/* The USDT probes of every mapped ELF file, with the spec that hooks each */
static void print_usdt(const struct nc_listing *l)
{
	for (size_t i = 0; i < l->n_usdt; i++) {
		const struct nc_listing_usdt *u = &l->usdt[i];

		if (!i || strcmp(u->path, l->usdt[i - 1].path))
			printf("USDT probes in %s (usdt:...@N: argument N is the mbuf; @N@M: the "
			       "array and the count):\n",
			       u->path);
		printf("  %s    %u argument(s): %s%s\n", u->spec, u->nargs,
		       *u->args ? u->args : "-", u->semaphore ? ", semaphore" : "");
	}
	if (!l->n_usdt)
		printf("USDT probes: none\n");
}

/* Whether netcap mbuf --inject can load its agent into the process, and if not why */
static void print_inject(pid_t pid)
{
	char err[512], comm[64] = "?";
	pid_t tid;

	if (nc_inject_check(pid, &tid, err, sizeof(err))) {
		printf("in-process capture (--inject): not possible: %s\n", err);
		return;
	}
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/comm", (int)pid, (int)tid);
	g_autofree char *text = NULL;

	if (g_file_get_contents(path, &text, NULL, NULL))
		g_strlcpy(comm, g_strstrip(text), sizeof(comm));
	g_autofree char *lib = nc_agent_path();
	g_autofree char *netns = g_strdup_printf("/proc/%d/ns/net", (int)pid);
	struct stat a, b;
	bool other_netns = !stat("/proc/self/ns/net", &a) && !stat(netns, &b) &&
			   (a.st_dev != b.st_dev || a.st_ino != b.st_ino);

	/* the agent's socket is made in that namespace, which setns() enters only with it */
	if (other_netns && !nc_privs_have(CAP_SYS_ADMIN)) {
		printf("in-process capture (--inject): not possible: the process is in another "
		       "network namespace (a container?) and entering it for the agent's socket "
		       "takes CAP_SYS_ADMIN: run netcap as root\n");
		return;
	}

	/* a container: the agent goes in as a copy, its socket is made in the process's
	 * network namespace (core/load/agent_backend.c, core/inproc/client.c) */
	printf(
	    "in-process capture (--inject): possible (the agent is loaded through thread %d, %s, "
	    "stopped a few milliseconds; no lcore stops%s%s)\n",
	    (int)tid, comm,
	    nc_agent_visible(pid, lib) ? "" : "; copied in through a memfd: its root has no agent",
	    other_netns ? "; its socket made in the process's network namespace" : "");
}

static int list_one(pid_t pid)
{
	struct nc_listing *l;
	const struct nc_dpdk_proc *p;
	char err[512];

	if (nc_listing_read(pid, &l, err, sizeof(err))) {
		fprintf(stderr, "netcap: %s\n", err);
		return 1;
	}
	p = l->proc;
	printf("%s[%d]: DPDK %s, %s\n", p->comm, (int)p->pid, p->version, p->exe);
	if (!p->n_ports)
		printf("  no started port\n");
	for (size_t i = 0; i < p->n_ports; i++) {
		const struct nc_dpdk_port *port = &p->ports[i];

		printf("port %u%s: %u rx queue(s), %u tx queue(s)\n", port->id,
		       port->started ? "" : " (not started)", port->n_rxq, port->n_txq);
		print_func("rx_burst", &port->rx);
		print_func("tx_burst", &port->tx);
	}
	print_inject(pid);
	print_functions(l);
	print_usdt(l);
	nc_listing_free(l);
	return 0;
}

/* netcap list --kernel */
static int list_kernel(void)
{
	struct nc_kskb_point *tp = NULL, *fn = NULL;
	size_t ntp = 0, nfn = 0;
	const char *how;
	bool tracefs;
	char err[512];
	struct btf *btf = nc_kernel_btf(err, sizeof(err));

	if (!btf) {
		fprintf(stderr, "netcap: %s\n", err);
		return 1;
	}
	if (nc_kskb_tracepoints(btf, &tp, &ntp, &tracefs) || nc_kskb_functions(btf, &fn, &nfn)) {
		fprintf(stderr, "netcap: out of memory\n");
		btf__free(btf);
		return 1;
	}
	printf("kernel tracepoints that carry a struct sk_buff * (BTF; categories %s): %zu\n",
	       tracefs ? "from tracefs" : "from the kernel's trace headers, tracefs not mounted",
	       ntp);
	for (size_t i = 0; i < ntp; i++) {
		printf("  tracepoint:%s:%s    skb: argument %d",
		       tp[i].category ? tp[i].category : "?", tp[i].name, tp[i].skb_arg);
		if (tp[i].reason_arg)
			printf(", drop reason: argument %d", tp[i].reason_arg);
		printf("%s\n",
		       tp[i].category ? "" : " (category unknown: mount tracefs to see it)");
	}
	how = nfn ? nc_kskb_function_hook(btf, fn[0].name) : NULL;
	if (!how) {
		printf(
		    "kernel functions with a struct sk_buff * among arguments 1-5 (BTF): %zu, not "
		    "hookable here (no kprobe event source, fentry refused)\n",
		    nfn);
	} else {
		printf("kernel functions with a struct sk_buff * among arguments 1-5 (BTF, hooked "
		       "through %s): %zu\n",
		       how, nfn);
		for (size_t i = 0; i < nfn; i++)
			printf("  %s@%d\n", fn[i].name, fn[i].skb_arg);
	}
	nc_kskb_free(tp, ntp);
	nc_kskb_free(fn, nfn);
	btf__free(btf);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	g_auto(GStrv) pid_args = NULL;
	gboolean kernel = FALSE;
	GOptionEntry entries[] = {
	    {"pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pid_args, "A DPDK process (repeatable)",
	     "PID"},
	    {"kernel", 'k', 0, G_OPTION_ARG_NONE, &kernel,
	     "The kernel's tracepoints and functions that carry an skb", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *ctx =
	    g_option_context_new("- list the hook points of DPDK processes and the kernel");
	g_autoptr(GError) gerr = NULL;
	int status = 2;

	g_set_prgname("netcap list");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap list: %s; try: netcap list --help\n", gerr->message);
		goto out;
	}
	if ((!pid_args && !kernel) || argc > 1) {
		fprintf(stderr,
			"netcap list: give the process (netcap list --pid PID) or the kernel "
			"(netcap list --kernel)\n");
		goto out;
	}
	status = 0;
	if (kernel)
		status = list_kernel();
	for (char **p = pid_args; p && *p; p++) {
		guint64 pid;

		if (!g_ascii_string_to_unsigned(*p, 10, 1, INT32_MAX, &pid, NULL)) {
			fprintf(stderr, "netcap list: bad --pid \"%s\": want a process id\n", *p);
			status = 2;
			goto out;
		}
		status |= list_one((pid_t)pid);
	}
out:
	g_option_context_free(ctx);
	return status;
}
