/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include "fuzz_filter.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#include "../../bpf/nc_filter_abi.h"
#include "load/filter_prog.h"

bool fuzz_filter_kernel;

/*
 * Name resolution stays off: pcap_compile() resolves "host foo" with getaddrinfo(), which would
 * make the fuzzer wait on DNS. This definition takes the place of libc's for libpcap and keeps
 * only numeric look-ups.
 */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	typedef int (*real_fn)(const char *, const char *, const struct addrinfo *,
			       struct addrinfo **);
	static real_fn real;
	struct addrinfo h = {0};

	if (!real)
		real = (real_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
	return real(node, service, &h, res);
}

/* Fixed packets: Ethernet ones for the DLT_EN10MB program, raw IP ones for DLT_RAW */
static const uint8_t eth_tcp4[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00, /* eth */
    0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10,	  0,
    0,	  1,	192,  168,  1,	  1, /* ipv4 */
    0x04, 0xd2, 0x00, 0x50, 0,	  0,	0,    1,    0,	  0,	0,    0,    0x50, 0x02,
    0xff, 0xff, 0,    0,    0,	  0, /* tcp syn, port 1234 -> 80 */
};
static const uint8_t eth_vlan_udp4[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0,	  0,	1, 0x81, 0x00, 0x00, 0x0a, 0x08,
    0x00, 0x45, 0x00, 0x00, 0x24, 0,	0,    0, 0, 0x40, 0x11, 0, 0,	 10,   1,    2,	   3,
    224,  0,	0,    251,								/* ipv4 */
    0x14, 0xe9, 0x14, 0xe9, 0x00, 0x10, 0,    0, 1, 2,	  3,	4, 5,	 6,    7,    8, /* udp 5353
											 */
};
static const uint8_t eth_udp6[] = {
    0x33, 0x33, 0,    0,    0,	  1,	0x02, 0, 0,    0,    0,	   2,	 0x86, 0xdd, 0x60, 0, 0,
    0,	  0,	0x0c, 0x11, 0x40, 0xfe, 0x80, 0, 0,    0,    0,	   0,	 0,    0,    0,	   0, 0,
    0,	  0,	0,    1, /* src */
    0xff, 0x02, 0,    0,    0,	  0,	0,    0, 0,    0,    0,	   0,	 0,    0,    0,	   1, /* dst
											       */
    0x00, 0x35, 0x12, 0xb5, 0x00, 0x0c, 0,    0, 0xde, 0xad, 0xbe, 0xef, /* udp 53 */
};
static const uint8_t eth_arp[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,  0, 0, 0, 3, 0x08, 0x06, 0, 1, 0x08, 0,  6, 4, 0,
    1,	  0x02, 0,    0,    0,	  0,	3,    10, 0, 0, 1, 0, 0,    0,	  0, 0, 0,    10, 0, 0, 2,
};
static const uint8_t raw_icmp4[] = {
    0x45, 0, 0,	 0x1c, 0, 1, 0, 0, 0x40, 0x01, 0, 0, 10, 0,
    0,	  1, 10, 0,    0, 2, 8, 0, 0,	 0,    0, 1, 0,	 1,
};
static const uint8_t raw_tcp6[] = {
    0x60, 0, 0, 0, 0, 0x14, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,
    0,	  0, 0, 0, 0, 0,    0,	  0,	1,    0x20, 0x01, 0x0d, 0xb8, 0,    0,
    0,	  0, 0, 0, 0, 0,    0,	  0,	0,    2,    0x01, 0xbb, 0xc0, 0x00, 0,
    0,	  0, 0, 0, 0, 0,    0,	  0x50, 0x12, 0x20, 0x00, 0,	0,    0,    0,
};

struct fixed_pkt {
	const uint8_t *data;
	uint32_t len;
};

static const struct fixed_pkt fixed[NC_LINK_COUNT][4] = {
    [NC_LINK_L2] = {{eth_tcp4, sizeof(eth_tcp4)},
		    {eth_vlan_udp4, sizeof(eth_vlan_udp4)},
		    {eth_udp6, sizeof(eth_udp6)},
		    {eth_arp, sizeof(eth_arp)}},
    [NC_LINK_L3] = {{raw_icmp4, sizeof(raw_icmp4)}, {raw_tcp6, sizeof(raw_tcp6)}},
};

/* What the kernel did, printed at exit: the share of executions that reach it */
static unsigned long n_loaded, n_refused, n_compared;

static void print_counts(void)
{
	fprintf(stderr,
		"fuzz: %lu programs loaded, %lu refused by the kernel (documented), %lu verdicts "
		"compared with libpcap\n",
		n_loaded, n_refused, n_compared);
}

void fuzz_filter_init(void)
{
	struct nc_filter *f;
	struct nc_filter_prog *p;
	char err[512];
	int ret;

	if (nc_filter_new("", 262144, 1, &f, err, sizeof(err)))
		FUZZ_FAIL("the accept-all filter: %s", err);
	ret = nc_filter_prog_load(f, &p, err, sizeof(err));
	nc_filter_free(f);
	if (ret == -EPERM || ret == -EACCES) {
		fprintf(stderr, "fuzz: loading BPF programs needs root (CAP_BPF): the verifier and "
				"the verdicts are not checked\n");
		return;
	}
	if (ret)
		FUZZ_FAIL("loading the accept-all filter: %s", err);
	nc_filter_prog_close(p);
	fuzz_filter_kernel = true;
	atexit(print_counts);
}

/* The last programs loaded, by key: a load costs about a millisecond, a test run microseconds */
#define CACHE_SLOTS 16
static struct cached {
	void *key;
	size_t keylen;
	struct nc_filter_prog *prog; /* NULL: refused (documented) */
} cache[CACHE_SLOTS];
static unsigned cache_next;

/* Refusals by the kernel that docs/filters.md documents: the verifier cannot prove that a
 * backward jump (libpcap's protochain) ends, or the program is beyond its complexity limit. */
static bool documented_refusal(const char *err)
{
	return strstr(err, "too complex") || strstr(err, "BPF program is too large") ||
	       strstr(err, "infinite loop detected") || strstr(err, "back-edge");
}

static struct nc_filter_prog *load(const struct nc_filter *f, const void *key, size_t keylen)
{
	sigset_t alarm, old;
	struct cached *c;
	char err[2048];
	int ret;

	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].key && cache[i].keylen == keylen && !memcmp(cache[i].key, key, keylen))
			return cache[i].prog;
	c = &cache[cache_next++ % CACHE_SLOTS];
	free(c->key);
	nc_filter_prog_close(c->prog);
	c->key = malloc(keylen ? keylen : 1);
	if (!c->key)
		FUZZ_FAIL("out of memory");
	memcpy(c->key, key, keylen);
	c->keylen = keylen;
	c->prog = NULL;
	/* libFuzzer's timer (SIGALRM, for -timeout) would interrupt a long verification: the
	 * verifier stops at a pending signal, and when its log is full by then the load fails with
	 * ENOSPC and the log ends mid-program. The signal waits until the load is done. */
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old);
	ret = nc_filter_prog_load(f, &c->prog, err, sizeof(err));
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	n_loaded += !ret;
	n_refused += ret != 0;
	if (ret && !documented_refusal(err))
		FUZZ_FAIL("the kernel refused the translation of \"%s\" (%s: %s)", f->expr,
			  strerror(-ret), err);
	return c->prog;
}

static void compare(const struct nc_filter *f, struct nc_filter_prog *p, enum nc_link link,
		    const uint8_t *pkt, uint32_t caplen, uint32_t wirelen)
{
	uint32_t buflen = caplen < NC_FILTER_WINDOW ? caplen : NC_FILTER_WINDOW;
	uint32_t want = nc_cbpf_run(f->cbpf[link], pkt, wirelen, buflen);
	uint32_t got;
	int ret = nc_filter_prog_run(p, link, pkt, buflen, wirelen, 1, &got, NULL);

	if (ret)
		FUZZ_FAIL("BPF_PROG_TEST_RUN: %s", strerror(-ret));
	n_compared++;
	if (got != want) {
		fprintf(stderr, "fuzz: packet (%u of %u bytes):", caplen, wirelen);
		for (uint32_t i = 0; i < buflen; i++)
			fprintf(stderr, " %02x", pkt[i]);
		fputc('\n', stderr);
		nc_filter_dump(stderr, f);
		FUZZ_FAIL("\"%s\" %s: kernel %u, libpcap %u", f->expr,
			  link == NC_LINK_L2 ? "Ethernet" : "raw IP", got, want);
	}
}

void fuzz_filter_check(const struct nc_filter *f, const void *key, size_t keylen,
		       const uint8_t *pkt, size_t len, uint32_t extra)
{
	struct nc_filter_prog *p;
	uint32_t caplen = len < NC_FILTER_WINDOW ? (uint32_t)len : NC_FILTER_WINDOW;

	if (!fuzz_filter_kernel)
		return;
	p = load(f, key, keylen);
	if (!p)
		return;
	for (int l = 0; l < NC_LINK_COUNT; l++) {
		for (unsigned i = 0; i < 4 && fixed[l][i].data; i++) {
			const struct fixed_pkt *fp = &fixed[l][i];

			compare(f, p, (enum nc_link)l, fp->data, fp->len, fp->len);
			/* the same packet cut short, longer on the wire */
			compare(f, p, (enum nc_link)l, fp->data, fp->len / 2, fp->len + 1000);
		}
		compare(f, p, (enum nc_link)l, pkt, caplen, caplen + extra);
	}
}
