/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The differential test of the filter translator: every expression, compiled by libpcap and
 * translated by netcap, runs in the kernel (BPF_PROG_TEST_RUN, JIT) on every packet of the
 * corpus, and its return value must equal libpcap's own interpreter (bpf_filter) on the same
 * bytes. Ethernet packets go through the DLT_EN10MB program, raw IP packets through DLT_RAW.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "corpus.h"
#include "filter/filter.h"
#include "load/filter_prog.h"

/* Expressions of the issue that must both match and miss packets of the corpus. */
static const char *const must_split[] = {
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "ip[2:2] > 100",
    "vlan and tcp port 80",
    "ip6 and udp",
    "net 10.0.0.0/8 and not port 22",
    "greater 1000",
    "len <= 100",
    "ether host 00:11:22:33:44:55",
    "icmp6",
    "arp",
    "portrange 1000-2000",
    "ip multicast",
    "mpls",
    "geneve",
    "udp port 4789",
    "ip[6:2] & 0x1fff != 0",
};

static struct corpus *eth, *raw;

static struct corpus *load_corpus(const char *name)
{
	char err[512];
	g_autofree char *path = g_build_filename(g_getenv("NC_TEST_DATA"), name, NULL);
	struct corpus *c = corpus_load(path, err, sizeof(err));

	if (!c)
		g_error("corpus %s: %s (built by the nc_corpus target)", path, err);
	return c;
}

static bool bpf_usable(void)
{
	struct nc_filter *f;
	struct nc_filter_prog *p;
	char err[512];
	int ret;

	g_assert_cmpint(nc_filter_new("", 262144, 1, &f, err, sizeof(err)), ==, 0);
	ret = nc_filter_prog_load(f, &p, err, sizeof(err));
	nc_filter_free(f);
	if (ret == -EPERM || ret == -EACCES) {
		g_test_skip("loading BPF programs needs root (CAP_BPF)");
		return false;
	}
	if (ret)
		g_error("loading the accept-all filter: %s", err);
	nc_filter_prog_close(p);
	return true;
}

struct tally {
	unsigned compared, matched, differed;
};

/* Runs program `link` of f and libpcap's interpreter on every packet of c. */
static void compare(const struct nc_filter *f, struct nc_filter_prog *p, enum nc_link link,
		    const struct corpus *c, struct tally *t, bool report)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct corpus_pkt *pk = &c->pkts[i];
		/* the filter sees at most the window; the oracle gets exactly the same bytes */
		uint32_t buflen = MIN(pk->caplen, NC_FILTER_WINDOW);
		uint32_t want = nc_cbpf_run(f->cbpf[link], pk->data, pk->wirelen, buflen);
		uint32_t got;

		g_assert_cmpint(
		    nc_filter_prog_run(p, link, pk->data, buflen, pk->wirelen, 1, &got, NULL), ==,
		    0);
		t->compared++;
		t->matched += want != 0;
		if (got != want) {
			t->differed++;
			if (report)
				g_test_message("\"%s\" %s packet %u: kernel %u, libpcap %u",
					       f->expr, link == NC_LINK_L2 ? "Ethernet" : "raw IP",
					       i, got, want);
		}
	}
}

static void run_all(int optimize)
{
	struct tally total = {0};

	if (!bpf_usable())
		return;
	for (size_t e = 0; e < corpus_n_expressions; e++) {
		struct nc_filter *f;
		struct nc_filter_prog *p;
		struct tally t = {0};
		char err[512];

		if (nc_filter_new(corpus_expressions[e], 262144, optimize, &f, err, sizeof(err)))
			g_error("%s", err);
		if (nc_filter_prog_load(f, &p, err, sizeof(err)))
			g_error("%s", err);
		compare(f, p, NC_LINK_L2, eth, &t, true);
		compare(f, p, NC_LINK_L3, raw, &t, true);
		for (size_t m = 0; optimize && m < G_N_ELEMENTS(must_split); m++)
			if (!strcmp(must_split[m], corpus_expressions[e]) &&
			    (t.matched == 0 || t.matched == t.compared))
				g_error("\"%s\" matches %u of %u packets: the corpus does not "
					"exercise it",
					corpus_expressions[e], t.matched, t.compared);
		total.compared += t.compared;
		total.matched += t.matched;
		total.differed += t.differed;
		nc_filter_prog_close(p);
		nc_filter_free(f);
	}
	g_test_message("%zu expressions (optimize=%d), %u verdicts compared, %u matches, %u "
		       "differences",
		       corpus_n_expressions, optimize, total.compared, total.matched,
		       total.differed);
	g_assert_cmpuint(total.differed, ==, 0);
	g_assert_cmpuint(total.compared, ==, corpus_n_expressions * (eth->n + raw->n));
}

static void test_optimized(void)
{
	run_all(1);
}

static void test_unoptimized(void)
{
	run_all(0);
}

/*
 * The harness must catch a wrong translation: flip the first conditional jump of
 * "tcp port 80" (== becomes !=, and so on) and expect differences.
 */
static void test_catches_flipped_jump(void)
{
	struct nc_filter *f;
	struct nc_filter_prog *p;
	struct tally t = {0};
	char err[512];
	bool flipped = false;

	if (!bpf_usable())
		return;
	g_assert_cmpint(nc_filter_new("tcp port 80", 262144, 1, &f, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < f->ebpf_len[NC_LINK_L2] && !flipped; i++) {
		struct bpf_insn *in = &f->ebpf[NC_LINK_L2][i];

		if (BPF_CLASS(in->code) == BPF_JMP32 && BPF_OP(in->code) == BPF_JNE) {
			in->code = (uint8_t)((in->code & ~0xf0) | BPF_JEQ);
			flipped = true;
		}
	}
	g_assert_true(flipped);
	g_assert_cmpint(nc_filter_prog_load(f, &p, err, sizeof(err)), ==, 0);
	compare(f, p, NC_LINK_L2, eth, &t, false);
	g_test_message("flipped jump: %u of %u verdicts differ", t.differed, t.compared);
	g_assert_cmpuint(t.differed, >, 0);
	nc_filter_prog_close(p);
	nc_filter_free(f);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	eth = load_corpus("corpus_eth.pcap");
	raw = load_corpus("corpus_raw.pcap");
	g_assert_cmpint(eth->linktype, ==, 1);	/* DLT_EN10MB */
	g_assert_cmpint(raw->linktype, ==, 12); /* DLT_RAW (LINKTYPE_RAW in the file) */
	g_assert_cmpuint(eth->n, >=, 100);
	g_assert_cmpuint(raw->n, >=, 30);
	g_test_add_func("/filter-diff/optimized-programs-agree-with-libpcap", test_optimized);
	g_test_add_func("/filter-diff/unoptimized-programs-agree-with-libpcap", test_unoptimized);
	g_test_add_func("/filter-diff/a-flipped-jump-is-caught", test_catches_flipped_jump);
	ret = g_test_run();
	corpus_free(eth);
	corpus_free(raw);
	return ret;
}
