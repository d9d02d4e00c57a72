/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/jit_filter: TSC ticks per packet of the in-process filter (core/jit) on a burst of 32
 * fake DPDK 22.11 mbufs holding a 64-byte IPv4/UDP packet that no filter matches, against
 * libpcap's bpf_filter() called per packet and the same test written in C in the burst loop.
 * The least disturbed and the median of several rounds; prints a Markdown table.
 * Short rounds, many of them: on a shared machine the least disturbed round is the figure.
 * Usage: bench_jit_filter [BURSTS_PER_ROUND (20000)] [ROUNDS (201)]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <linux/types.h>

#include "../bpf/nc_record.h"
#include "discover/dpdk.h"
#include "filter/cbpf.h"
#include "jit/burst_jit.h"

#define BURST	   32
#define PKT_LEN	   64
#define HEADROOM   128
#define SNAPLEN	   262144
#define SLOW_FLAGS (NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED)
#define MAX_ROUNDS 1001

static const struct nc_mbuf_layout *ml;

/* 10.0.0.1:1234 -> 10.0.0.2:5678, UDP, 22 bytes of payload */
static const uint8_t packet[PKT_LEN] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x00, /* eth */
    0x45, 0x00, 0x00, 0x32, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,		    /* ip */
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x1e, 0x00, 0x00, /* udp */
};

/* ---- the mbuf fields, read as the agent would ---- */

static inline const uint8_t *data_of(const uint8_t *m)
{
	uint64_t addr;
	uint16_t off;

	memcpy(&addr, m + ml->buf_addr, sizeof(addr));
	memcpy(&off, m + ml->data_off, sizeof(off));
	return (const uint8_t *)(uintptr_t)addr + off;
}

static inline uint32_t data_len_of(const uint8_t *m)
{
	uint16_t v;

	memcpy(&v, m + ml->data_len, sizeof(v));
	return v;
}

static inline uint32_t pkt_len_of(const uint8_t *m)
{
	uint32_t v;

	memcpy(&v, m + ml->pkt_len, sizeof(v));
	return v;
}

static inline uint64_t ol_flags_of(const uint8_t *m)
{
	uint64_t v;

	memcpy(&v, m + ml->ol_flags, sizeof(v));
	return v;
}

static inline uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the three filters in C: libpcap's tests on this packet's path, with its bounds checks ----
 */

/* the UDP or TCP ports of an IPv4 or IPv6 packet equal `port` (libpcap's `proto port N`) */
static inline uint32_t c_port(const uint8_t *p, uint32_t len, uint8_t proto, uint32_t port)
{
	if (len < 14)
		return 0;
	if (be16(p + 12) == 0x86dd) {
		if (len < 58 || p[20] != proto)
			return 0;
		return be16(p + 54) == port || be16(p + 56) == port ? SNAPLEN : 0;
	}
	if (be16(p + 12) != 0x0800 || len < 24 || p[23] != proto || be16(p + 20) & 0x1fff)
		return 0;
	uint32_t ihl = (p[14] & 0xfu) * 4;

	if (len < 14 + ihl + 4)
		return 0;
	return be16(p + 14 + ihl) == port || be16(p + 16 + ihl) == port ? SNAPLEN : 0;
}

static inline uint32_t c_udp53(const uint8_t *p, uint32_t len)
{
	return c_port(p, len, 17, 53);
}

static inline uint32_t c_tcp80(const uint8_t *p, uint32_t len)
{
	return c_port(p, len, 6, 80);
}

/* `host 10.1.2.3`: IPv4 source or destination, or ARP/RARP sender or target */
static inline uint32_t c_host(const uint8_t *p, uint32_t len)
{
	const uint32_t a = 0x0a010203;
	uint32_t type;

	if (len < 14)
		return 0;
	type = be16(p + 12);
	if (type == 0x0800) {
		if (len < 34)
			return 0;
		return be32(p + 26) == a || be32(p + 30) == a ? SNAPLEN : 0;
	}
	if (type == 0x0806 || type == 0x8035) {
		if (len < 42)
			return 0;
		return be32(p + 28) == a || be32(p + 38) == a ? SNAPLEN : 0;
	}
	return 0;
}

static __attribute__((noinline)) uint32_t c_slow(const uint8_t *m)
{
	(void)m;
	fprintf(stderr, "bench_jit_filter: the slow path was called\n");
	exit(1);
}

/*
 * The burst loop with the test inlined, and the same flags test as the generated code: what
 * the agent's wrapper would be with the filter written in C.
 */
#define C_BURST(name, test)                                                                        \
	static __attribute__((noinline)) uint32_t name(void *const *mbufs, uint32_t n,             \
						       uint32_t *verdict)                          \
	{                                                                                          \
		uint32_t matched = 0;                                                              \
                                                                                                   \
		for (uint32_t i = 0; i < n; i++) {                                                 \
			const uint8_t *m = mbufs[i];                                               \
			uint32_t len = data_len_of(m);                                             \
                                                                                                   \
			if (ol_flags_of(m) & SLOW_FLAGS)                                           \
				verdict[i] = c_slow(m);                                            \
			else                                                                       \
				verdict[i] = test(data_of(m), len < 512 ? len : 512);              \
			matched += verdict[i] != 0;                                                \
		}                                                                                  \
		return matched;                                                                    \
	}

C_BURST(burst_udp53, c_udp53)
C_BURST(burst_tcp80, c_tcp80)
C_BURST(burst_host, c_host)

struct bench {
	const char *expr;
	uint32_t (*c_burst)(void *const *mbufs, uint32_t n, uint32_t *verdict);
};

static const struct bench benches[] = {
    {"udp port 53", burst_udp53},
    {"tcp port 80", burst_tcp80},
    {"host 10.1.2.3", burst_host},
};

static uint32_t no_slow(void *ctx, void *mbuf, uint32_t index)
{
	(void)ctx, (void)mbuf, (void)index;
	fprintf(stderr, "bench_jit_filter: the slow path was called\n");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "min (median)" of v[0..n-1] (sorts v) */
static const char *min_median(double *v, unsigned n, char *buf, size_t len)
{
	qsort(v, n, sizeof(*v), cmp_double);
	snprintf(buf, len, "%.1f (%.1f)", v[0], n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
	return buf;
}

enum way { WAY_JIT, WAY_LIBPCAP, WAY_C, WAY_COUNT };

/* ticks per packet of one round of `bursts` bursts */
static double round_of(enum way w, const struct bench *b, const struct nc_cbpf_insn *prog,
		       nc_jit_burst_fn fn, void *const *mbufs, unsigned bursts)
{
	uint32_t verdict[BURST];
	volatile uint32_t sink = 0;
	uint64_t t0 = __rdtsc();

	for (unsigned r = 0; r < bursts; r++) {
		uint32_t matched = 0;

		switch (w) {
		case WAY_JIT: matched = fn(mbufs, BURST, verdict, no_slow, NULL); break;
		case WAY_LIBPCAP:
			for (unsigned i = 0; i < BURST; i++) {
				const uint8_t *m = mbufs[i];
				uint32_t len = data_len_of(m);

				verdict[i] = nc_cbpf_run(prog, data_of(m), pkt_len_of(m),
							 len < 512 ? len : 512);
				matched += verdict[i] != 0;
			}
			break;
		default: matched = b->c_burst(mbufs, BURST, verdict); break;
		}
		sink += matched;
	}
	if (sink) {
		fprintf(stderr, "bench_jit_filter: \"%s\" matched the packet\n", b->expr);
		exit(1);
	}
	return (double)(__rdtsc() - t0) / ((double)bursts * BURST);
}

/* TSC ticks per nanosecond, over ~50 ms */
static double tsc_per_ns(void)
{
	struct timespec a, b;
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __rdtsc();
	do {
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 50000000L);
	t1 = __rdtsc();
	return (double)(t1 - t0) /
	       (double)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
}

int main(int argc, char **argv)
{
	unsigned bursts = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
	unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 201;
	void *mbufs[BURST];
	double ghz;

	if (!bursts || !rounds || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_jit_filter [BURSTS_PER_ROUND] [ROUNDS (1..%d)]\n",
			MAX_ROUNDS);
		return 2;
	}
	ml = nc_dpdk_mbuf_layout(NC_DPDK_22_11, true);
	/* one mbuf and buffer each, as from a mempool: header, headroom, data */
	for (unsigned i = 0; i < BURST; i++) {
		uint8_t *m = aligned_alloc(64, 2048);
		uint64_t addr = (uint64_t)(uintptr_t)(m + 128);
		uint16_t off = HEADROOM, len = PKT_LEN, segs = 1;
		uint32_t plen = PKT_LEN;

		memset(m, 0, 2048);
		memcpy(m + ml->buf_addr, &addr, sizeof(addr));
		memcpy(m + ml->data_off, &off, sizeof(off));
		memcpy(m + ml->data_len, &len, sizeof(len));
		memcpy(m + ml->nb_segs, &segs, sizeof(segs));
		memcpy(m + ml->pkt_len, &plen, sizeof(plen));
		memcpy(m + 128 + HEADROOM, packet, PKT_LEN);
		mbufs[i] = m;
	}
	ghz = tsc_per_ns();
	printf("TSC %.2f GHz; 64-byte IPv4/UDP packet matching no filter, bursts of %d; TSC ticks "
	       "per packet, least disturbed (median) of %u rounds of %u bursts\n\n",
	       ghz, BURST, rounds, bursts);
	printf("| filter | netcap jit | libpcap bpf_filter | C in the burst loop | jit code bytes "
	       "|\n|---|---:|---:|---:|---:|\n");
	for (size_t e = 0; e < sizeof(benches) / sizeof(benches[0]); e++) {
		const struct bench *b = &benches[e];
		struct nc_jit_layout lay;
		struct nc_cbpf_insn *prog;
		unsigned len;
		uint8_t *code;
		size_t code_len;
		nc_jit_burst_fn fn;
		static double res[WAY_COUNT][MAX_ROUNDS];
		char err[256];

		nc_jit_layout_init(&lay, ml, NC_DIR_IN, SNAPLEN);
		if (nc_cbpf_compile(b->expr, NC_LINK_L2, SNAPLEN, 1, &prog, &len, err,
				    sizeof(err)) ||
		    nc_jit_compile(prog, len, &lay, &code, &code_len, err, sizeof(err)) ||
		    nc_jit_map(code, code_len, &fn, err, sizeof(err))) {
			fprintf(stderr, "bench_jit_filter: %s: %s\n", b->expr, err);
			return 1;
		}
		for (unsigned r = 0; r < rounds; r++) /* alternate, so drift hits all three */
			for (int w = 0; w < WAY_COUNT; w++)
				res[w][r] = round_of((enum way)w, b, prog, fn, mbufs, bursts);
		char c1[32], c2[32], c3[32];

		printf("| `%s` | %s | %s | %s | %zu |\n", b->expr,
		       min_median(res[WAY_JIT], rounds, c1, sizeof(c1)),
		       min_median(res[WAY_LIBPCAP], rounds, c2, sizeof(c2)),
		       min_median(res[WAY_C], rounds, c3, sizeof(c3)), code_len);
		nc_jit_unmap(fn, code_len);
		free(code);
		free(prog);
	}
	for (unsigned i = 0; i < BURST; i++)
		free(mbufs[i]);
	return 0;
}
