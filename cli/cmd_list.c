/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap list --pid PID: what netcap can hook in a DPDK process — its DPDK release, each port's
 * PMD burst functions (symbol, or file+offset for stripped PMDs) and queues, functions taking
 * mbufs, USDT probes.
 * netcap list --kernel: the kernel's tracepoints that carry an skb and, where the kernel lets
 * netcap hook functions, the functions that take one (BTF).
 */
#include <bpf/btf.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "discover/dpdk.h"
#include "discover/dwarf.h"
#include "discover/elf.h"
#include "discover/kskb.h"
#include "discover/procmaps.h"
#include "discover/tracepoint.h"
#include "discover/usdt.h"
#include "plan/placement.h"

static void print_func(const char *dir, const struct nc_dpdk_func *f)
{
	const char *base = strrchr(f->path, '/');
	uint64_t site;
	char why[192];

	printf("  %s %s+%#llx", dir, base ? base + 1 : f->path, (unsigned long long)f->offset);
	if (f->symbol)
		printf(" (%s)", f->symbol);
	printf("\n");
	/* stripped PMD code: the function's size comes from its unwind information */
	if (!nc_probe_site(f->path, f->offset, 0, &site, why, sizeof(why)))
		printf("      probe at %s\n", why);
}

/* Where an entry probe on f would sit (the return-side form stays at the entry) */
static void print_site(const struct nc_elf *e, const char *exe, const struct nc_mbuf_func *f)
{
	uint64_t off, size, site;
	char why[192];

	if (!e || nc_elf_func(e, f->name, &off, &size, NULL, 0) ||
	    nc_probe_site(exe, off, size, &site, why, sizeof(why)))
		return;
	printf("      entry probe at %s\n", why);
}

/* The executable's functions that take mbufs (DWARF), with the specs that would hook them */
static void list_functions(const char *exe)
{
	struct nc_elf *e = NULL;

	struct nc_mbuf_func *f;
	size_t n;
	char err[512];

	if (nc_dwarf_mbuf_funcs(exe, &f, &n, err, sizeof(err))) {
		printf("functions: %s\n", err);
		return;
	}
	if (!n) {
		printf("functions taking struct rte_mbuf: none found (no DWARF in %s?)\n", exe);
		return;
	}
	printf("functions taking struct rte_mbuf (DWARF of %s):\n", exe);
	if (nc_elf_open(exe, &e, NULL, 0))
		e = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!f[i].array)
			printf("  %s@%u", f[i].name, f[i].arg_pkt);
		if (f[i].array && f[i].arg_cnt)
			printf("  %s@%u@%u", f[i].name, f[i].arg_pkt, f[i].arg_cnt);
		if (f[i].array && f[i].ret_count)
			printf("  %s@%u@ret", f[i].name, f[i].arg_pkt);
		printf("    %s\n", f[i].proto);
		print_site(e, exe, &f[i]);
	}
	nc_mbuf_funcs_free(f, n);
	nc_elf_close(e);
}

/* The USDT probes of every mapped ELF file, with the spec that hooks each */
static void list_usdt(const struct nc_dpdk_proc *p)
{
	struct nc_maps_file *files = NULL;
	size_t n = 0, total = 0;

	if (nc_maps_elf_files(p->maps, &files, &n, NULL, 0))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(files[i].path, '/');
		bool exe = !strcmp(files[i].path, p->exe);
		struct nc_usdt_probe *v;
		size_t m;

		if (nc_usdt_list(files[i].path, &v, &m, NULL, 0) || !m)
			continue;
		printf("USDT probes in %s (usdt:...@N: argument N is the mbuf; @N@M: the array "
		       "and the count):\n",
		       files[i].path);
		for (size_t k = 0; k < m; k++)
			printf("  usdt:%s%s%s:%s    %u argument(s): %s%s\n", exe ? "" : base + 1,
			       exe ? "" : ":", v[k].provider, v[k].name, nc_usdt_nargs(v[k].args),
			       *v[k].args ? v[k].args : "-", v[k].sem_offset ? ", semaphore" : "");
		total += m;
		nc_usdt_free(v, m);
	}
	if (!total)
		printf("USDT probes: none\n");
	free(files);
}

static int list_one(pid_t pid)
{
	struct nc_dpdk_proc *p;
	char err[512];

	if (nc_dpdk_inspect(pid, &p, err, sizeof(err))) {
		fprintf(stderr, "netcap: %s\n", err);
		return 1;
	}
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
	list_functions(p->exe);
	list_usdt(p);
	nc_dpdk_free(p);
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
