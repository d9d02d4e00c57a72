/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agent_cap: a capture through the in-process agent (core/inproc), for the tests and the
 * benchmark until `netcap mbuf --inject` drives it (never installed). The agent must already be
 * in the application: tests/apps/agent_shim.c preloaded with NC_AGENT_SOCKET=NAME.
 *
 *   agent_cap --pid PID --name NAME -f rx:0[@QUEUE][,tx:1...] [-s SNAPLEN] [--keep-none | -e EXPR]
 * [-c COUNT]
 *             [--duration MS] [-w PREFIX] [--ready-file PATH] [--ring BYTES] [--progress MS]
 *
 * -w PREFIX writes each hook's packets to PREFIX.rx0.pcap, PREFIX.tx1.pcap ... (nanosecond
 * pcap). It ends after COUNT records, MS milliseconds, SIGINT/SIGTERM, or when the agent goes away
 * (the application exited); then asks the agent to stop, drains the rings and prints one line per
 * hook: "agent_cap: rx0 seen N matched N written N ringfull N records N noslot N threads N
 * queues MASK" (the application threads and the queues its records came from), then
 * "agent_cap: end REASON". --progress MS prints "agent_cap: progress HOOK seen N written N" every
 * MS ms while capturing. Exit status 0, 1 on an error (one line on stderr), 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "consume/ring.h"
#include "discover/dpdk.h"
#include "filter/cbpf.h"
#include "inproc/client.h"

#define MAX_HOOKS 16

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

struct out {
	pcap_t *dead;
	pcap_dumper_t *d[MAX_HOOKS];
	uint64_t records[MAX_HOOKS];
	uint32_t tids[MAX_HOOKS][16]; /* the application threads seen per hook */
	unsigned n_tids[MAX_HOOKS];
	uint64_t queues[MAX_HOOKS]; /* bit q: a record of queue q (< 64) */
	struct nc_clock clock;
	uint64_t total;
};

static int on_record(void *ctx, const struct nc_record *rec, const uint8_t *data)
{
	struct out *o = ctx;
	uint64_t t;
	struct pcap_pkthdr h;

	if (rec->hook >= MAX_HOOKS)
		return -EINVAL;
	o->records[rec->hook]++;
	if (rec->queue < 64)
		o->queues[rec->hook] |= 1ull << rec->queue;
	for (unsigned i = 0; i <= o->n_tids[rec->hook] && i < 16; i++) {
		if (i == o->n_tids[rec->hook]) {
			o->tids[rec->hook][o->n_tids[rec->hook]++] = rec->tid;
			break;
		}
		if (o->tids[rec->hook][i] == rec->tid)
			break;
	}
	o->total++;
	if (!o->d[rec->hook])
		return 0;
	t = nc_clock_to_realtime(&o->clock, rec->ts_ns);
	h.ts.tv_sec = (time_t)(t / 1000000000);
	h.ts.tv_usec = (suseconds_t)(t % 1000000000); /* nanoseconds: the dumper's precision */
	h.caplen = rec->cap_len;
	h.len = rec->wire_len;
	pcap_dump((u_char *)o->d[rec->hook], &h, data);
	return 0;
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: agent_cap --pid PID --name NAME -f rx:0[,tx:1...] [-s SNAPLEN] "
	    "[--keep-none | -e EXPR] [-c COUNT] [--duration MS] [-w PREFIX] [--ready-file PATH] "
	    "[--ring BYTES] [--progress MS]\n");
	return 2;
}

static int parse_hooks(char *spec, struct nc_inproc_hook *h, size_t *n)
{
	for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
		char *end;
		unsigned long port, queue = ULONG_MAX;

		if (*n == MAX_HOOKS || (strncmp(tok, "rx:", 3) && strncmp(tok, "tx:", 3)))
			return -1;
		port = strtoul(tok + 3, &end, 10);
		if (end == tok + 3 || port > 31)
			return -1;
		if (*end == '@') { /* rx:PORT@QUEUE: that queue only */
			const char *q = end + 1;

			queue = strtoul(q, &end, 10);
			if (end == q || queue > 1023)
				return -1;
		}
		if (*end)
			return -1;
		h[*n] = (struct nc_inproc_hook){.id = (uint32_t)*n,
						.tx = tok[0] == 't',
						.port = (uint16_t)port,
						.queue = queue == ULONG_MAX ? -1 : (int32_t)queue};
		(*n)++;
	}
	return *n ? 0 : -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct nc_inproc_hook hooks[MAX_HOOKS];
	struct nc_inproc_opts o = {.snaplen = NC_MAX_SNAPLEN, .hooks = hooks};
	const char *prefix = NULL, *ready = NULL, *end = "interrupted", *expr = NULL;
	struct nc_cbpf_insn *prog = NULL;
	uint64_t count = 0, duration = 0, progress = 0, start, last = 0;
	struct nc_dpdk_proc *p = NULL;
	struct nc_inproc *c = NULL;
	struct out out = {0};
	char err[512] = "";
	struct sigaction sa = {.sa_handler = on_signal};
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--keep-none")) {
			o.keep_none = true;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--pid"))
			o.pid = (pid_t)atoi(v);
		else if (!strcmp(a, "--name"))
			o.name = v;
		else if (!strcmp(a, "-f")) {
			if (parse_hooks(argv[i], hooks, &o.n_hooks))
				return usage();
		} else if (!strcmp(a, "-s"))
			o.snaplen = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "-c"))
			count = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--duration"))
			duration = strtoull(v, NULL, 10);
		else if (!strcmp(a, "-e"))
			expr = v;
		else if (!strcmp(a, "-w"))
			prefix = v;
		else if (!strcmp(a, "--ready-file"))
			ready = v;
		else if (!strcmp(a, "--progress"))
			progress = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--ring"))
			o.ring_bytes = strtoull(v, NULL, 10);
		else
			return usage();
	}
	if (o.pid <= 0 || !o.n_hooks || !o.name)
		return usage();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (expr) {
		ret = nc_cbpf_compile(expr, NC_LINK_L2, o.snaplen, 1, &prog, &o.filter_len, err,
				      sizeof(err));
		if (ret)
			goto out;
		o.filter = prog;
	}
	ret = nc_dpdk_inspect(o.pid, &p, err, sizeof(err));
	if (ret)
		goto out;
	o.fp_ops_addr = p->fp_ops_addr;
	o.fp_ops_count = p->fp_ops_count;
	o.fp_ops = p->fp_ops_layout;
	o.mbuf = p->mbuf;
	if (prefix) {
		out.dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, NC_MAX_SNAPLEN,
								PCAP_TSTAMP_PRECISION_NANO);
		for (size_t i = 0; i < o.n_hooks; i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s.%s%u.pcap", prefix,
				 hooks[i].tx ? "tx" : "rx", hooks[i].port);
			out.d[i] = pcap_dump_open(out.dead, path);
			if (!out.d[i]) {
				ret = -EIO;
				snprintf(err, sizeof(err), "%s", pcap_geterr(out.dead));
				goto out;
			}
		}
	}
	nc_clock_sync(&out.clock);
	ret = nc_inproc_open(&o, &c, err, sizeof(err));
	if (!ret)
		ret = nc_inproc_accept(c, 10000, err, sizeof(err));
	if (ret)
		goto out;
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f)
			fclose(f);
	}
	start = now_ms();
	for (;;) {
		if (quit)
			break;
		if (count && out.total >= count) {
			end = "count reached";
			break;
		}
		if (duration && now_ms() - start >= duration) {
			end = "duration reached";
			break;
		}
		if (nc_inproc_gone(c)) {
			end = "agent gone";
			break;
		}
		if (progress && now_ms() - last >= progress) {
			last = now_ms();
			for (size_t i = 0; i < o.n_hooks; i++) {
				struct nc_counters k;

				nc_inproc_counters(c, i, &k);
				printf("agent_cap: progress %s%u seen %llu written %llu\n",
				       hooks[i].tx ? "tx" : "rx", hooks[i].port,
				       (unsigned long long)k.seen, (unsigned long long)k.written);
			}
			fflush(stdout);
		}
		ret = nc_inproc_poll(c, on_record, &out, 50);
		if (ret < 0) {
			snprintf(err, sizeof(err), "reading the rings: %s", strerror(-ret));
			goto out;
		}
	}
	ret = 0;
	if (!nc_inproc_gone(c))
		ret = nc_inproc_stop(c, 5000, err, sizeof(err));
	while (nc_inproc_poll(c, on_record, &out, 0) > 0)
		;
	for (size_t i = 0; i < o.n_hooks; i++) {
		struct nc_counters k;

		nc_inproc_counters(c, i, &k);
		printf("agent_cap: %s%u seen %llu matched %llu written %llu ringfull %llu records "
		       "%" PRIu64 " noslot %" PRIu64 " threads %u queues %#" PRIx64 "\n",
		       hooks[i].tx ? "tx" : "rx", hooks[i].port, (unsigned long long)k.seen,
		       (unsigned long long)k.matched, (unsigned long long)k.written,
		       (unsigned long long)k.ringfull, out.records[i], nc_inproc_noslot(c, i),
		       out.n_tids[i], out.queues[i]);
	}
	printf("agent_cap: malformed %" PRIu64 "\nagent_cap: end %s\n", nc_inproc_malformed(c),
	       end);
out:
	for (size_t i = 0; i < MAX_HOOKS; i++)
		if (out.d[i])
			pcap_dump_close(out.d[i]);
	if (out.dead)
		pcap_close(out.dead);
	nc_inproc_close(c);
	nc_dpdk_free(p);
	free(prog);
	if (ret) {
		fprintf(stderr, "agent_cap: %s\n", err);
		return 1;
	}
	return 0;
}
