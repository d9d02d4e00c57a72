/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Translator edge cases as a table (after the kernel's lib/test_bpf.c): raw classic programs,
 * packet bytes, lengths, and the value libpcap's interpreter returns; the translation, run in
 * the kernel, must return the same value, which must also equal the row's literal.
 * Refusals: what cannot run on copied bytes, with the exact message.
 */
#include <errno.h>
#include <glib.h>
#include <linux/filter.h>
#include <string.h>

#include "filter/filter.h"
#include "load/filter_prog.h"

#define MAXLEN 16

struct row {
	const char *name;
	struct nc_cbpf_insn prog[MAXLEN];
	uint8_t pkt[64];
	uint32_t caplen, wirelen;
	uint32_t expect;
};

/* prog lengths are taken up to the first all-zero slot after a ret */
static const struct row rows[] = {
    {"jgt-high-bit-immediate",
     {BPF_STMT(BPF_LD | BPF_IMM, 0x90000000), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x80000000, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     {0},
     1,
     1,
     1},
    {"jge-high-bit-immediate-false",
     {BPF_STMT(BPF_LD | BPF_IMM, 0x7fffffff), BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x80000000, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     {0},
     1,
     1,
     2},
    {"jeq-word-load-high-bit",
     {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xdeadbeef, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 7), BPF_STMT(BPF_RET | BPF_K, 0)},
     {0xde, 0xad, 0xbe, 0xef},
     4,
     4,
     7},
    {"jset-true-target-is-next",
     {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 3), BPF_STMT(BPF_RET | BPF_K, 4)},
     {0x7f},
     1,
     1,
     4},
    {"jset-x",
     {BPF_STMT(BPF_LDX | BPF_IMM, 6), BPF_STMT(BPF_LD | BPF_IMM, 2),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1), BPF_STMT(BPF_RET | BPF_K, 3),
      BPF_STMT(BPF_RET | BPF_K, 4)},
     {0},
     1,
     1,
     3},
    {"jgt-x-unsigned",
     {BPF_STMT(BPF_LDX | BPF_IMM, 1), BPF_STMT(BPF_LD | BPF_IMM, 0xffffffff),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1), BPF_STMT(BPF_RET | BPF_K, 3),
      BPF_STMT(BPF_RET | BPF_K, 4)},
     {0},
     1,
     1,
     3},
    {"div-by-x-zero-returns-0",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_LD | BPF_IMM, 10),
      BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0), BPF_STMT(BPF_RET | BPF_K, 9)},
     {0},
     1,
     1,
     0},
    {"mod-by-x",
     {BPF_STMT(BPF_LDX | BPF_IMM, 3), BPF_STMT(BPF_LD | BPF_IMM, 10),
      BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     1},
    {"div-by-high-bit-immediate",
     {BPF_STMT(BPF_LD | BPF_IMM, 0xffffffff), BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0x80000000),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     1},
    {"lsh-by-x-32-gives-0",
     {BPF_STMT(BPF_LDX | BPF_IMM, 32), BPF_STMT(BPF_LD | BPF_IMM, 1),
      BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0), BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 5),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     5},
    {"rsh-by-x-31",
     {BPF_STMT(BPF_LDX | BPF_IMM, 31), BPF_STMT(BPF_LD | BPF_IMM, 0x80000000),
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     1},
    {"add-wraps-at-32-bits",
     {BPF_STMT(BPF_LD | BPF_IMM, 0xffffffff), BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 2),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     1},
    {"mul-keeps-low-32-bits",
     {BPF_STMT(BPF_LD | BPF_IMM, 0x10000), BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x10001),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     0x10000},
    {"neg",
     {BPF_STMT(BPF_LD | BPF_IMM, 5), BPF_STMT(BPF_ALU | BPF_NEG, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     0xfffffffb},
    {"scratch-memory-round-trip",
     {BPF_STMT(BPF_LD | BPF_IMM, 7), BPF_STMT(BPF_ST, 15), BPF_STMT(BPF_LD | BPF_IMM, 1),
      BPF_STMT(BPF_LDX | BPF_MEM, 15), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     7},
    {"stx-then-ld-mem",
     {BPF_STMT(BPF_LDX | BPF_IMM, 11), BPF_STMT(BPF_STX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     11},
    {"len-is-the-wire-length",
     {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     14,
     1500,
     1500},
    {"ldx-len",
     {BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     14,
     9000,
     9000},
    {"msh",
     {BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 1), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0, 0x46},
     2,
     2,
     24},
    {"msh-past-caplen-rejects",
     {BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 2), BPF_STMT(BPF_RET | BPF_K, 1)},
     {0, 0x46, 0x45},
     2,
     3,
     0},
    {"half-load-straddling-caplen-rejects",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 3), BPF_STMT(BPF_RET | BPF_K, 1)},
     {1, 2, 3, 4},
     4,
     60,
     0},
    {"word-load-at-end-of-caplen",
     {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_A, 0)},
     {1, 2, 3, 4, 5, 6},
     6,
     60,
     0x03040506},
    {"load-past-the-window-rejects",
     {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 600), BPF_STMT(BPF_RET | BPF_K, 1)},
     {0},
     64,
     1500,
     0},
    {"indirect-load",
     {BPF_STMT(BPF_LDX | BPF_IMM, 2), BPF_STMT(BPF_LD | BPF_H | BPF_IND, 1),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0, 0, 0, 0xab, 0xcd},
     5,
     5,
     0xabcd},
    {"indirect-load-past-caplen-rejects",
     {BPF_STMT(BPF_LDX | BPF_IMM, 2), BPF_STMT(BPF_LD | BPF_W | BPF_IND, 1),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     {0, 0, 0, 0xab, 0xcd},
     5,
     5,
     0},
    {"indirect-load-huge-x-rejects",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0xfffffffe), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 3),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     {0, 0, 0, 0xab, 0xcd},
     5,
     5,
     0},
    {"indirect-load-offset-past-window-rejects",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0x80000000),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     {0},
     5,
     5,
     0},
    {"ret-k-all-ones", {BPF_STMT(BPF_RET | BPF_K, 0xffffffff)}, {0}, 1, 1, 0xffffffff},
    {"backward-jump-loop",
     /* X counts to 5 through a backward ja, as libpcap's protochain does */
     {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 5, 1, 0), BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-5),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     {0},
     1,
     1,
     5},
    {"jt-equals-jf",
     {BPF_STMT(BPF_LD | BPF_IMM, 1), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 1),
      BPF_STMT(BPF_RET | BPF_K, 3), BPF_STMT(BPF_RET | BPF_K, 4)},
     {0},
     1,
     1,
     4},
};

static unsigned prog_len(const struct nc_cbpf_insn *prog)
{
	unsigned n = MAXLEN;

	while (n > 1 && !prog[n - 1].code && !prog[n - 1].k && !prog[n - 1].jt && !prog[n - 1].jf)
		n--;
	return n;
}

/* An nc_filter holding one raw program for Ethernet (raw IP rejects all), as a capture would */
static struct nc_filter *raw_filter(const struct nc_cbpf_insn *prog, unsigned len)
{
	static const struct nc_cbpf_insn reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct nc_filter *f = g_new0(struct nc_filter, 1);
	char err[512];

	f->expr = strdup("(raw cBPF)");
	f->cbpf[NC_LINK_L2] = g_memdup2(prog, len * sizeof(*prog));
	f->cbpf_len[NC_LINK_L2] = len;
	f->cbpf[NC_LINK_L3] = g_memdup2(&reject, sizeof(reject));
	f->cbpf_len[NC_LINK_L3] = 1;
	for (int l = 0; l < NC_LINK_COUNT; l++)
		if (nc_filter_translate(f->cbpf[l], f->cbpf_len[l], &f->ebpf[l], &f->ebpf_len[l],
					err, sizeof(err)))
			g_error("%s", err);
	return f;
}

static void test_row(gconstpointer data)
{
	const struct row *r = data;
	unsigned len = prog_len(r->prog);
	struct nc_filter *f;
	struct nc_filter_prog *p;
	uint32_t oracle, got;
	char err[512];
	int ret;

	oracle = nc_cbpf_run(r->prog, r->pkt, r->wirelen, r->caplen);
	g_assert_cmphex(oracle, ==, r->expect);
	f = raw_filter(r->prog, len);
	ret = nc_filter_prog_load(f, &p, err, sizeof(err));
	if (ret == -EPERM) {
		g_test_skip("loading BPF programs needs root (CAP_BPF)");
		nc_filter_free(f);
		return;
	}
	if (ret)
		g_error("%s", err);
	g_assert_cmpint(
	    nc_filter_prog_run(p, NC_LINK_L2, r->pkt, r->caplen, r->wirelen, 1, &got, NULL), ==, 0);
	g_assert_cmphex(got, ==, oracle);
	nc_filter_prog_close(p);
	nc_filter_free(f);
}

struct refusal {
	const char *name;
	struct nc_cbpf_insn prog[4];
	const char *message;
};

static const struct refusal refusals[] = {
    {"inbound-needs-socket-metadata",
     {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     "the filter needs the packet direction (inbound/outbound), which a Linux socket "
     "supplies but copied packet bytes do not; drop that part of the expression (for "
     "direction, pick an rx or tx hook)"},
    {"ifindex-needs-socket-metadata",
     {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     "the filter needs the interface index (ifindex), which a Linux socket supplies but "
     "copied packet bytes do not; drop that part of the expression (for direction, pick an rx "
     "or tx hook)"},
    {"negative-offset-load",
     {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0x30, k 4293918720): negative (Linux SKF_*_OFF) load offsets "
     "are not supported"},
    {"constant-division-by-zero",
     {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0x34, k 0): division by the constant 0"},
    {"shift-by-32",
     {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0x64, k 32): shift by 32 or more bits"},
    {"jump-out-of-program",
     {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0x15, k 0): jump out of the program"},
    {"backward-jump-before-start",
     {BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-3), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0x05, k 4294967293): jump out of the program"},
    {"unknown-opcode",
     {BPF_STMT(0xff, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     "cBPF instruction 0 (code 0xff, k 0): opcode not in libpcap's instruction set"},
    {"no-final-ret",
     {BPF_STMT(BPF_RET | BPF_A, 0), BPF_STMT(BPF_LD | BPF_IMM, 1)},
     "cBPF instruction 1 (code 0x00, k 1): program does not end in ret"},
};

static void test_refusal(gconstpointer data)
{
	const struct refusal *r = data;
	struct bpf_insn *out = NULL;
	size_t out_len = 0;
	char err[512] = "";
	unsigned len = 0;

	while (len < G_N_ELEMENTS(r->prog) && (r->prog[len].code || r->prog[len].k))
		len++;
	g_assert_cmpint(nc_filter_translate(r->prog, len, &out, &out_len, err, sizeof(err)), ==,
			-EINVAL);
	g_assert_cmpstr(err, ==, r->message);
	g_assert_null(out);
}

/* Expressions libpcap compiles to socket metadata loads are refused when the filter is made */
static void test_inbound_expression(void)
{
	struct nc_filter *f = NULL;
	char err[512];

	g_assert_cmpint(nc_filter_new("inbound", 262144, 1, &f, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"filter \"inbound\": the filter needs the packet direction "
			"(inbound/outbound), which a Linux socket supplies but copied packet bytes "
			"do not; drop that part of the expression (for direction, pick an rx or "
			"tx hook)");
	g_assert_null(f);
	g_assert_cmpint(nc_filter_new("tcp and ifindex 3", 262144, 1, &f, err, sizeof(err)), ==,
			-EINVAL);
	g_assert_nonnull(strstr(err, "the interface index (ifindex)"));
}

static void test_syntax_error(void)
{
	struct nc_filter *f = NULL;
	char err[512];

	g_assert_cmpint(nc_filter_new("tcp port", 262144, 1, &f, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"bad filter \"tcp port\": can't parse filter expression: syntax error");
}

/* "arp" means nothing without a link header: its raw-IP program rejects everything */
static void test_l2_only_expression(void)
{
	struct nc_filter *f = NULL;
	char err[512];

	g_assert_cmpint(nc_filter_new("arp", 262144, 1, &f, err, sizeof(err)), ==, 0);
	g_assert_nonnull(f->l3_reject_reason);
	g_assert_cmpuint(f->cbpf_len[NC_LINK_L3], ==, 1);
	g_assert_cmpuint(f->cbpf[NC_LINK_L3][0].code, ==, BPF_RET | BPF_K);
	g_assert_cmpuint(f->cbpf[NC_LINK_L3][0].k, ==, 0);
	nc_filter_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *path = g_strdup_printf("/translate/%s", rows[i].name);

		g_test_add_data_func(path, &rows[i], test_row);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(refusals); i++) {
		g_autofree char *path = g_strdup_printf("/translate/refuses/%s", refusals[i].name);

		g_test_add_data_func(path, &refusals[i], test_refusal);
	}
	g_test_add_func("/filter/inbound-and-ifindex-are-refused", test_inbound_expression);
	g_test_add_func("/filter/syntax-error-names-the-expression", test_syntax_error);
	g_test_add_func("/filter/l2-only-expression-rejects-raw-ip", test_l2_only_expression);
	return g_test_run();
}
