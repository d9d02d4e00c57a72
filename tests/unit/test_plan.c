/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The plan as a value, without the kernel: DPDK points planned over a recorded process (the
 * nc_fwd fixture's ELF file, a memory map in text, two started ports whose PMD functions are
 * the fixture's own), kernel points over the running kernel's BTF (read only). Checked: the
 * points, their names, stages and backends; the uprobes (file offset from the ELF file, moved
 * past a single-stepped start, what they read); the queues; the refusals; the printed plan.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "discover/dpdk.h"
#include "discover/elf.h"
#include "discover/procmaps.h"
#include "discover/tracepoint.h"
#include "discover/usdt.h"
#include "plan/mbuf_plan.h"
#include "plan/plan.h"
#include "plan/skb_plan.h"
#include "write/pcapng.h"

static char fixture[4096];

static uint64_t func_offset(const char *name)
{
	struct nc_elf *e;
	uint64_t off;
	char err[256];

	g_assert_cmpint(nc_elf_open(fixture, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_func(e, name, &off, NULL, err, sizeof(err)), ==, 0);
	nc_elf_close(e);
	return off;
}

/* A recorded nc_fwd process: its executable mapped, ports 0 and 1 started, both served by the
 * same receive function (fwd_rx) and transmit function (fwd_burst), one queue each */
struct recorded {
	struct nc_dpdk_proc p;
	struct nc_dpdk_port ports[2];
};

static void record(struct recorded *r, pid_t pid)
{
	g_autofree char *maps =
	    g_strdup_printf("555555554000-555555556000 r--p 00000000 08:01 4242 %s\n"
			    "555555556000-555555580000 r-xp 00002000 08:01 4242 %s\n"
			    "7ffff7fc0000-7ffff7fc4000 rw-p 00000000 00:00 0 \n",
			    fixture, fixture);
	char err[256];

	memset(r, 0, sizeof(*r));
	r->p.pid = pid;
	r->p.comm = "nc_fwd";
	r->p.exe = fixture;
	r->p.abi = NC_DPDK_22_11;
	r->p.version = "22.11";
	r->p.mbuf = *nc_dpdk_mbuf_layout(NC_DPDK_22_11, true);
	g_assert_cmpint(nc_maps_parse(maps, &r->p.maps, err, sizeof(err)), ==, 0);
	for (uint16_t i = 0; i < 2; i++) {
		struct nc_dpdk_port *q = &r->ports[i];

		q->id = i;
		q->started = true;
		q->rx = (struct nc_dpdk_func){0, fixture, func_offset("fwd_rx"), "fwd_rx"};
		q->tx = (struct nc_dpdk_func){0, fixture, func_offset("fwd_burst"), "fwd_burst"};
		q->n_rxq = q->n_txq = 1;
		q->rxq[0] = 0x1000 + i;
		q->txq[0] = 0x2000 + i;
	}
	r->p.ports = r->ports;
	r->p.n_ports = 2;
}

static int plan_specs_how(struct nc_plan *plan, struct recorded *r, size_t n_procs,
			  const char *specs, bool inject, char *err, size_t errlen)
{
	g_auto(GStrv) v = g_strsplit(specs, ",", -1);
	struct nc_dpdk_proc *procs[2] = {&r[0].p, n_procs > 1 ? &r[1].p : NULL};
	struct nc_mbuf_layout layouts[2] = {r[0].p.mbuf, n_procs > 1 ? r[1].p.mbuf : r[0].p.mbuf};

	return nc_mbuf_plan(plan, procs, layouts, n_procs, v, g_strv_length(v), NULL, inject, err,
			    errlen);
}

static int plan_specs(struct nc_plan *plan, struct recorded *r, size_t n_procs, const char *specs,
		      char *err, size_t errlen)
{
	return plan_specs_how(plan, r, n_procs, specs, false, err, errlen);
}

static void test_burst(void)
{
	struct recorded r;
	struct nc_plan plan = {0};
	char err[512];
	uint32_t first, n;

	record(&r, 4242);
	g_assert_cmpint(plan_specs(&plan, &r, 1, "rx_burst,tx_burst:1", err, sizeof(err)), ==, 0);
	/* rx_burst: one point per port, one uprobe for the function both share */
	g_assert_cmpuint(plan.n_points, ==, 3);
	g_assert_cmpstr(plan.points[0].name, ==, "nc_fwd[4242]:rx_burst:port0");
	g_assert_cmpstr(plan.points[1].name, ==, "nc_fwd[4242]:rx_burst:port1");
	g_assert_cmpstr(plan.points[2].name, ==, "nc_fwd[4242]:tx_burst:port1");
	g_assert_cmpstr(plan.points[0].what, ==, "rx_burst:port0");
	g_assert_cmpstr(plan.points[0].label, ==, "fwd_rx");
	g_assert_cmpuint(plan.points[1].stage, ==, 0);
	g_assert_cmpuint(plan.points[2].stage, ==, 1);
	g_assert_cmpuint(plan.points[2].linktype, ==, NC_LINKTYPE_ETHERNET);
	g_assert_cmpuint(plan.n_uprobes, ==, 2);
	g_assert_cmpstr(plan.uprobes[0].path, ==, fixture);
	g_assert_cmpuint(plan.uprobes[0].pid, ==, 4242);
	g_assert_cmpuint(plan.uprobes[0].hook, ==, 0);
	g_assert_cmpuint(plan.uprobes[0].cfg.kind, ==, NC_HOOK_RET_SAVE);
	g_assert_cmpuint(plan.uprobes[0].cfg.ret_bits, ==, 16);
	g_assert_cmpuint(plan.uprobes[0].cfg.direction, ==, NC_DIR_IN);
	g_assert_cmpuint(plan.uprobes[0].cfg.arg_queue, ==, 1);
	/* fwd_rx starts with push: emulated, the probe stays at the entry */
	g_assert_cmphex(plan.uprobes[0].offset, ==, func_offset("fwd_rx"));
	g_assert_cmpuint(plan.uprobes[1].hook, ==, 2);
	g_assert_cmpuint(plan.uprobes[1].cfg.kind, ==, NC_HOOK_VECTOR);
	g_assert_cmpuint(plan.uprobes[1].cfg.arg_cnt, ==, 3);
	g_assert_cmpuint(plan.uprobes[1].cfg.direction, ==, NC_DIR_OUT);
	/* fwd_burst starts with test (single-stepped), then je: the probe moves 3 bytes on */
	g_assert_cmphex(plan.uprobes[1].offset, ==, func_offset("fwd_burst") + 3);
	/* the queues tell the ports apart */
	g_assert_cmpuint(plan.n_queues, ==, 3);
	g_assert_cmphex(plan.queues[1].ptr, ==, 0x1001);
	g_assert_cmpuint(plan.queues[1].id.port, ==, 1);
	g_assert_cmpuint(plan.queues[1].id.hook, ==, 1);
	g_assert_cmphex(plan.queues[2].ptr, ==, 0x2001);
	g_assert_cmpuint(plan.queues[2].id.hook, ==, 2);
	nc_plan_range(&plan, NC_BACKEND_UPROBE, &first, &n);
	g_assert_cmpuint(first, ==, 0);
	g_assert_cmpuint(n, ==, 3);
	nc_plan_range(&plan, NC_BACKEND_KERNEL, &first, &n);
	g_assert_cmpuint(n, ==, 0);
	g_assert_true(nc_plan_needs_return(&plan));
	nc_plan_clear(&plan);
	nc_maps_free(r.p.maps);
}

static void test_functions(void)
{
	struct recorded r;
	struct nc_plan plan = {0};
	char err[512];
	struct nc_usdt_probe *v;
	size_t nv;
	uint64_t burst_site = 0, sem = 0;

	record(&r, 4242);
	g_assert_cmpint(plan_specs(&plan, &r, 1,
				   "fwd_burst@1@2,fwd_rx@2@ret16,fwd_one@1,usdt:nc_fwd:burst@1@2",
				   err, sizeof(err)),
			==, 0);
	g_assert_cmpuint(plan.n_points, ==, 4);
	g_assert_cmpstr(plan.points[0].name, ==, "nc_fwd[4242]:fwd_burst");
	g_assert_cmpstr(plan.points[3].name, ==, "nc_fwd[4242]:usdt:nc_fwd:burst");
	g_assert_cmpuint(plan.n_uprobes, ==, 4);
	g_assert_cmpuint(plan.uprobes[0].cfg.kind, ==, NC_HOOK_VECTOR);
	g_assert_cmpuint(plan.uprobes[0].cfg.arg_pkt, ==, 1);
	g_assert_cmpuint(plan.uprobes[0].cfg.arg_cnt, ==, 2);
	g_assert_cmpuint(plan.uprobes[0].cfg.at_entry, ==, 1);
	g_assert_cmpuint(plan.uprobes[1].cfg.kind, ==, NC_HOOK_RET_SAVE);
	g_assert_cmpuint(plan.uprobes[1].cfg.ret_bits, ==, 16);
	g_assert_cmpuint(plan.uprobes[2].cfg.kind, ==, NC_HOOK_SINGLE);
	g_assert_cmphex(plan.uprobes[2].offset, ==, func_offset("fwd_one") + 3);
	/* the USDT site and its semaphore, as the note says */
	g_assert_cmpint(nc_usdt_list(fixture, &v, &nv, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].name, "burst")) {
			burst_site = v[i].offset;
			sem = v[i].sem_offset;
		}
	nc_usdt_free(v, nv);
	g_assert_cmphex(burst_site, !=, 0);
	g_assert_cmphex(plan.uprobes[3].offset, ==, burst_site);
	g_assert_cmphex(plan.uprobes[3].ref_ctr_offset, ==, sem);
	g_assert_cmpuint(plan.uprobes[3].cfg.loc_pkt.type, !=, 0);
	nc_plan_clear(&plan);
	nc_maps_free(r.p.maps);
}

static void test_refusals(void)
{
	struct recorded r[2];
	struct nc_plan plan = {0};
	char err[512];

	record(&r[0], 4242);
	g_assert_cmpint(plan_specs(&plan, r, 1, "rx_burst:5", err, sizeof(err)), ==, -ENOENT);
	g_assert_cmpstr(err, ==,
			"process 4242 (nc_fwd) has no started port 5 (started: 0, 1); try: netcap "
			"list --pid 4242");
	nc_plan_clear(&plan);
	g_assert_cmpint(plan_specs(&plan, r, 1, "no_such_func@1", err, sizeof(err)), ==, -ENOENT);
	g_assert_cmpstr(err, ==,
			"no function \"no_such_func\" in /proc/4242/exe or its libraries "
			"(stripped?); try: netcap list --pid 4242");
	nc_plan_clear(&plan);
	g_assert_cmpint(plan_specs(&plan, r, 1, "usdt:nc_fwd:nope@1", err, sizeof(err)), ==,
			-ENOENT);
	g_assert_cmpstr(err, ==,
			"no USDT probe nc_fwd:nope in /proc/4242/exe or its libraries; try: netcap "
			"list --pid 4242");
	nc_plan_clear(&plan);
	/* a burst function in no mapped file (anonymous memory) takes no uprobe */
	r[0].ports[1].rx = (struct nc_dpdk_func){0x7f0000002000, NULL, 0, NULL};
	g_assert_cmpint(plan_specs(&plan, r, 1, "rx_burst:1", err, sizeof(err)), ==, -ENOTSUP);
	g_assert_cmpstr(
	    err, ==,
	    "port 1 of process 4242 (nc_fwd): its rx_burst function (0x7f0000002000) is "
	    "in no mapped file, where a uprobe cannot go; try --inject");
	nc_plan_clear(&plan);
	/* two processes of different releases */
	record(&r[1], 4343);
	r[1].p.abi = NC_DPDK_24_11;
	r[1].p.version = "24.11";
	g_assert_cmpint(plan_specs(&plan, r, 2, "rx_burst", err, sizeof(err)), ==, -ENOTSUP);
	g_assert_cmpstr(err, ==,
			"processes 4242 (DPDK 22.11) and 4343 (DPDK 24.11) differ in DPDK release; "
			"capture them in two runs");
	nc_plan_clear(&plan);
	r[1].p.abi = NC_DPDK_22_11;
	r[1].p.mbuf.next = 8;
	g_assert_cmpint(plan_specs(&plan, r, 2, "rx_burst", err, sizeof(err)), ==, -ENOTSUP);
	g_assert_cmpstr(err, ==,
			"processes 4242 and 4343 lay out struct rte_mbuf differently; capture them "
			"in two runs");
	nc_plan_clear(&plan);
	nc_maps_free(r[0].p.maps);
	nc_maps_free(r[1].p.maps);
}

/* Two processes: every spec planned in each, the hook ids in process order */
static void test_two_processes(void)
{
	struct recorded r[2];
	struct nc_plan plan = {0};
	char err[512];

	record(&r[0], 4242);
	record(&r[1], 4343);
	g_assert_cmpint(plan_specs(&plan, r, 2, "tx_burst:0,fwd_one@1", err, sizeof(err)), ==, 0);
	g_assert_cmpuint(plan.n_points, ==, 4);
	g_assert_cmpstr(plan.points[2].name, ==, "nc_fwd[4343]:tx_burst:port0");
	g_assert_cmpuint(plan.points[3].stage, ==, 1);
	g_assert_cmpuint(plan.uprobes[3].pid, ==, 4343);
	g_assert_cmpuint(plan.n_procs, ==, 2);
	nc_plan_clear(&plan);
	nc_maps_free(r[0].p.maps);
	nc_maps_free(r[1].p.maps);
}

/* What -v prints */
static void test_print(void)
{
	struct recorded r;
	struct nc_plan plan = {0};
	char err[512], *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	g_autofree char *want = NULL;
	char *stages[] = {"tx_burst:1"};

	record(&r, 4242);
	g_assert_cmpint(plan_specs(&plan, &r, 1, "tx_burst:1", err, sizeof(err)), ==, 0);
	plan.stages = g_memdup2(stages, sizeof(stages));
	plan.stages[0] = g_strdup(stages[0]);
	plan.n_stages = 1;
	nc_plan_print(out, "plan: ", &plan);
	fclose(out);
	want = g_strdup_printf(
	    "plan: process 4242 (nc_fwd): DPDK 22.11\n"
	    "plan: rte_mbuf: buf_addr 0, data_off 16, nb_segs 20, port 22, ol_flags 24, pkt_len "
	    "36, data_len 40, vlan_tci 42, vlan_tci_outer 52, next 64\n"
	    "plan: point 0: nc_fwd[4242]:tx_burst:port1 (Ethernet, stage 0: tx_burst:1, uprobe)\n"
	    "plan: uprobe: %s+%#llx in process 4242 for point 0: mbuf array + count, argument 2, "
	    "count argument 3, direction out (+0x3: je, emulated, after 1 instruction(s) from "
	    "test)\n"
	    "plan: queue: 0x2001 in process 4242 is port 1 queue 0, point 0\n",
	    fixture, (unsigned long long)func_offset("fwd_burst") + 3);
	g_assert_cmpstr(text, ==, want);
	free(text);
	nc_plan_clear(&plan);
	nc_maps_free(r.p.maps);
}

/* --inject: one point per port served by the agent, the burst pointers it swaps; other kinds
 * refused */
static void test_inject(void)
{
	struct recorded r;
	struct nc_plan plan = {0};
	char err[512];
	uint32_t first, n;

	record(&r, 4242);
	r.p.fp_ops_addr = 0x7f0000001000;
	r.p.fp_ops_count = 32;
	g_assert_cmpint(plan_specs_how(&plan, &r, 1, "rx_burst,tx_burst:1", true, err, sizeof(err)),
			==, 0);
	g_assert_cmpuint(plan.n_points, ==, 3);
	g_assert_cmpuint(plan.n_uprobes, ==, 0);
	g_assert_cmpuint(plan.n_queues, ==, 0);
	g_assert_cmpuint(plan.n_agent_hooks, ==, 3);
	g_assert_cmpstr(plan.points[1].name, ==, "nc_fwd[4242]:rx_burst:port1");
	g_assert_cmpstr(plan.points[1].label, ==, "fwd_rx");
	g_assert_cmpstr(plan.points[1].description, ==,
			"netcap mbuf capture at fwd_rx in process 4242 (in-process, at "
			"rte_eth_fp_ops[1].rx_pkt_burst), DPDK 22.11");
	g_assert_cmpuint(plan.points[2].backend, ==, NC_BACKEND_AGENT);
	g_assert_false(plan.agent_hooks[0].tx);
	g_assert_cmpuint(plan.agent_hooks[1].port, ==, 1);
	g_assert_true(plan.agent_hooks[2].tx);
	g_assert_cmpuint(plan.agent_hooks[2].hook, ==, 2);
	g_assert_cmpint(plan.agent_hooks[2].queue, ==, -1);
	g_assert_cmphex(plan.procs[0].fp_ops_addr, ==, 0x7f0000001000);
	g_assert_cmpuint(plan.procs[0].fp_ops_count, ==, 32);
	nc_plan_range(&plan, NC_BACKEND_AGENT, &first, &n);
	g_assert_cmpuint(n, ==, 3);
	nc_plan_range(&plan, NC_BACKEND_UPROBE, &first, &n);
	g_assert_cmpuint(n, ==, 0);
	nc_plan_clear(&plan);
	/* a function in-process: one point, its entry patched (core/inproc/fhook.c) */
	g_assert_cmpint(
	    plan_specs_how(&plan, &r, 1, "rx_burst,fwd_burst@1@2", true, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(plan.n_points, ==, 3);
	g_assert_cmpuint(plan.n_uprobes, ==, 0);
	g_assert_cmpuint(plan.n_agent_hooks, ==, 3);
	g_assert_cmpstr(plan.points[2].name, ==, "nc_fwd[4242]:fwd_burst");
	g_assert_cmpstr(plan.points[2].label, ==, "fwd_burst");
	g_assert_cmpuint(plan.points[2].backend, ==, NC_BACKEND_AGENT);
	g_assert_true(
	    g_str_has_prefix(plan.points[2].description,
			     "netcap mbuf capture at fwd_burst in process 4242 (in-process, at "
			     "nc_fwd+0x"));
	g_assert_true(g_str_has_suffix(plan.points[2].description,
				       ", patched to jump into a trampoline), DPDK 22.11"));
	g_assert_cmpuint(plan.agent_hooks[2].hook, ==, 2);
	g_assert_cmpuint(plan.agent_hooks[2].arg, ==, 1);
	g_assert_cmpuint(plan.agent_hooks[2].count_arg, ==, 2);
	g_assert_cmpuint(plan.agent_hooks[2].ret_bits, ==, 0);
	g_assert_cmpuint(plan.agent_hooks[2].func_size, >, 5);
	g_assert_cmphex(plan.agent_hooks[2].func, !=, 0);
	g_assert_cmpstr(plan.agent_hooks[2].spec, ==, "fwd_burst@1@2");
	g_assert_cmpuint(plan.agent_hooks[2].cold_size, ==, 0); /* no fwd_burst.cold */
	nc_plan_clear(&plan);
	/* a function with a cold part (main.cold): where nm says it is, for the scan of its
	 * branches back into the patch */
	{
		g_autofree char *cmd = g_strdup_printf("nm -S %s", fixture), *out = NULL;
		g_auto(GStrv) lines = NULL;
		uint64_t value = 0, size = 0;

		g_assert_true(g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL));
		lines = g_strsplit(out, "\n", -1);
		for (size_t i = 0; lines[i]; i++)
			if (g_str_has_suffix(lines[i], " t main.cold"))
				g_assert_cmpint(
				    sscanf(lines[i], "%" SCNx64 " %" SCNx64, &value, &size), ==, 2);
		g_assert_cmpuint(size, >, 0);
		g_assert_cmpint(plan_specs_how(&plan, &r, 1, "main@1", true, err, sizeof(err)), ==,
				0);
		g_assert_cmpuint(plan.n_agent_hooks, ==, 1);
		g_assert_cmphex(plan.agent_hooks[0].cold, ==, 0x555555554000 + value);
		g_assert_cmpuint(plan.agent_hooks[0].cold_size, ==, size);
		g_assert_cmphex(plan.agent_hooks[0].cold_off, ==, value); /* PIE: offset = value */
		nc_plan_clear(&plan);
	}
	/* an offset where no function starts: its size unknown, refused */
	g_assert_cmpint(plan_specs_how(&plan, &r, 1, "nc_fwd+0x1@1", true, err, sizeof(err)), ==,
			-ENOTSUP);
	g_assert_true(g_str_has_prefix(err, "hook spec \"nc_fwd+0x1@1\": no function of "));
	g_assert_true(g_str_has_suffix(
	    err, " starts at 0x1 (no symbol, no unwind information): --inject needs its size to "
		 "patch it safely; capture it without --inject"));
	nc_plan_clear(&plan);
	nc_maps_free(r.p.maps);
}

/* Kernel points over the running kernel's BTF: tracepoints and refusals (nothing loaded) */
static void test_kernel(void)
{
	struct nc_skb_plan_opts o = {0};
	struct nc_plan plan = {0};
	char *specs[] = {"tp:net:netif_receive_skb", "net:net_dev_queue"};
	char *bad[] = {"tp:net:no_such_tracepoint"};
	char *notskb[] = {"ip_rcv@2"};
	uint32_t stages[] = {3, 5};
	char err[512];
	struct btf *btf = nc_kernel_btf(err, sizeof(err));
	uint32_t first, n;

	if (!btf) {
		g_test_skip(err);
		return;
	}
	g_assert_cmpint(nc_skb_plan(&plan, btf, &o, specs, 2, stages, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(plan.n_points, ==, 4);
	g_assert_cmpuint(plan.n_kpoints, ==, 2);
	g_assert_cmpstr(plan.points[0].name, ==, "net:netif_receive_skb");
	g_assert_cmpstr(plan.points[1].name, ==, "net:netif_receive_skb:raw");
	g_assert_cmpstr(plan.points[1].label, ==, "net:netif_receive_skb");
	g_assert_cmpuint(plan.points[1].linktype, ==, NC_LINKTYPE_RAW);
	g_assert_cmpuint(plan.points[2].stage, ==, 5);
	g_assert_cmpuint(plan.points[0].backend, ==, NC_BACKEND_KERNEL);
	g_assert_cmpstr(plan.kpoints[0].target, ==, "netif_receive_skb");
	g_assert_cmpuint(plan.kpoints[0].how, ==, NC_SKB_TRACEPOINT);
	g_assert_cmpuint(plan.kpoints[0].cfg.direction, ==, NC_DIR_IN);
	g_assert_cmpuint(plan.kpoints[1].cfg.direction, ==, NC_DIR_OUT);
	g_assert_cmpuint(plan.kpoints[1].cfg.hook_l2, ==, 2);
	g_assert_cmpuint(plan.kpoints[1].cfg.hook_l3, ==, 3);
	nc_plan_range(&plan, NC_BACKEND_KERNEL, &first, &n);
	g_assert_cmpuint(first, ==, 0);
	g_assert_cmpuint(n, ==, 4);
	nc_plan_clear(&plan);
	g_assert_cmpint(nc_skb_plan(&plan, btf, &o, bad, 1, NULL, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "no_such_tracepoint"));
	nc_plan_clear(&plan);
	/* ip_rcv(skb, dev, ...): argument 2 is the device */
	g_assert_cmpint(nc_skb_plan(&plan, btf, &o, notskb, 1, NULL, err, sizeof(err)), ==,
			-EINVAL);
	g_assert_cmpstr(err, ==,
			"argument 2 of ip_rcv is struct net_device *, not struct sk_buff *");
	nc_plan_clear(&plan);
	o.iface = "bad/name";
	g_assert_cmpint(nc_skb_plan(&plan, btf, &o, specs, 1, NULL, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "bad interface name \"bad/name\""));
	nc_plan_clear(&plan);
	btf__free(btf);
}

int main(int argc, char **argv)
{
	const char *build = g_getenv("NC_BUILD");

	g_test_init(&argc, &argv, NULL);
	if (!build) {
		fprintf(stderr, "NC_BUILD is not set (ctest sets it)\n");
		return 77;
	}
	snprintf(fixture, sizeof(fixture), "%s/tests/apps/nc_fwd", build);
	g_test_add_func("/plan/burst", test_burst);
	g_test_add_func("/plan/functions", test_functions);
	g_test_add_func("/plan/refusals", test_refusals);
	g_test_add_func("/plan/two_processes", test_two_processes);
	g_test_add_func("/plan/print", test_print);
	g_test_add_func("/plan/kernel", test_kernel);
	g_test_add_func("/plan/inject", test_inject);
	return g_test_run();
}
