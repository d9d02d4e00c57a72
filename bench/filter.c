/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/filter: nanoseconds per packet of the kernel-JITed filter (netcap's translation, run by
 * BPF_PROG_TEST_RUN with `repeat`) against libpcap's interpreter (bpf_filter) on the same
 * corpus and expressions. Medians of several rounds; prints a Markdown table.
 * Usage: bench_filter CORPUS.pcap [REPEAT] [ROUNDS]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../bpf/nc_filter_abi.h"
#include "corpus.h"
#include "filter/filter.h"
#include "load/filter_prog.h"

static const char *const expressions[] = {
    "",
    "ip",
    "tcp port 80",
    "vlan and tcp port 80",
    "net 10.0.0.0/8 and not port 22",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "ip6 and udp",
    "portrange 1000-2000",
    "greater 1000",
    "geneve and tcp port 80",
    "udp port 53 or udp port 123 or udp port 5353",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* mean ns per packet over the corpus, kernel side */
static double kernel_round(struct nc_filter_prog *p, const struct corpus *c, uint32_t repeat)
{
	double total = 0;

	for (unsigned i = 0; i < c->n; i++) {
		uint32_t verdict;
		uint32_t len = MIN(c->pkts[i].caplen, NC_FILTER_WINDOW);
		double ns;

		if (nc_filter_prog_bench(p, NC_LINK_L2, c->pkts[i].data, len, c->pkts[i].wirelen,
					 repeat, &verdict, &ns)) {
			fprintf(stderr, "bench_filter: test run failed\n");
			exit(1);
		}
		total += ns;
	}
	return total / c->n;
}

/* mean ns per packet over the corpus, libpcap's interpreter */
static double libpcap_round(const struct nc_filter *f, const struct corpus *c, uint32_t repeat)
{
	volatile unsigned sink = 0;
	double start = now_ns();

	for (unsigned i = 0; i < c->n; i++) {
		uint32_t len = MIN(c->pkts[i].caplen, NC_FILTER_WINDOW);

		for (uint32_t r = 0; r < repeat; r++)
			sink += nc_cbpf_run(f->cbpf[NC_LINK_L2], c->pkts[i].data,
					    c->pkts[i].wirelen, len);
	}
	(void)sink;
	return (now_ns() - start) / ((double)c->n * repeat);
}

int main(int argc, char **argv)
{
	uint32_t repeat = argc > 2 ? (uint32_t)atoi(argv[2]) : 1000;
	unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 7;
	struct corpus *c;
	char err[512];
	double kbase = 0, ubase = 0;
	g_autofree char *name = NULL;

	if (argc < 2 || !repeat || !rounds) {
		fprintf(stderr, "usage: bench_filter CORPUS.pcap [REPEAT] [ROUNDS]\n");
		return 2;
	}
	name = g_path_get_basename(argv[1]);
	c = corpus_load(argv[1], err, sizeof(err));
	if (!c) {
		fprintf(stderr, "bench_filter: %s\n", err);
		return 1;
	}
	printf("Filter cost per packet (mean over the %u packets of %s), median of %u rounds.\n"
	       "`libpcap`: its interpreter, bpf_filter(), %u calls per packet. `kernel`: netcap's "
	       "translation, JIT-compiled, called %d times per BPF_PROG_TEST_RUN run in a loop of "
	       "the test program (so the BPF-to-BPF call is included and the test-run harness is "
	       "spread over %d calls), %u runs per packet. The accept-all row (`\"\"`) is the cost "
	       "of calling a filter that does nothing, on each side; the `net` columns subtract "
	       "it, leaving the cost of evaluating the expression.\n\n",
	       c->n, name, rounds, repeat * NC_FILTER_BENCH_CALLS, NC_FILTER_BENCH_CALLS,
	       NC_FILTER_BENCH_CALLS, repeat);
	printf("| expression | cBPF insns | eBPF insns | libpcap ns | kernel ns | libpcap / kernel "
	       "| libpcap net ns | kernel net ns | net ratio |\n"
	       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t e = 0; e < G_N_ELEMENTS(expressions); e++) {
		double k[rounds], u[rounds], kmed, umed;
		char ratio[32];
		struct nc_filter *f;
		struct nc_filter_prog *p;

		if (nc_filter_new(expressions[e], 262144, 1, &f, err, sizeof(err)) ||
		    nc_filter_prog_load(f, &p, err, sizeof(err))) {
			fprintf(stderr, "bench_filter: %s\n", err);
			return 1;
		}
		for (unsigned r = 0; r < rounds; r++) {
			k[r] = kernel_round(p, c, repeat);
			u[r] = libpcap_round(f, c, repeat * NC_FILTER_BENCH_CALLS);
		}
		kmed = median(k, rounds);
		umed = median(u, rounds);
		if (e == 0) {
			kbase = kmed;
			ubase = umed;
		}
		/* a net below 0.1 ns is noise: no ratio */
		if (e == 0 || kmed - kbase < 0.1)
			snprintf(ratio, sizeof(ratio), "–");
		else
			snprintf(ratio, sizeof(ratio), "%.1f×", (umed - ubase) / (kmed - kbase));
		printf("| `\"%s\"` | %u | %zu | %.1f | %.1f | %.1f× | %.1f | %.1f | %s |\n",
		       expressions[e], f->cbpf_len[NC_LINK_L2], f->ebpf_len[NC_LINK_L2], umed, kmed,
		       umed / kmed, umed - ubase, kmed - kbase, ratio);
		nc_filter_prog_close(p);
		nc_filter_free(f);
	}
	corpus_free(c);
	return 0;
}
