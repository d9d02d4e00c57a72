/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process burst filter (core/jit) against libpcap's interpreter. Every expression of the
 * differential test, compiled by libpcap and then to x86-64 by netcap, filters fake mbufs in
 * DPDK 22.11's layout built around each corpus packet (one segment ending at a guard page,
 * segment chains, VLAN tags stripped by the "NIC"), in bursts of 1 to 64; every verdict must
 * equal bpf_filter() on the packet as netcap's kernel probe presents it (bpf/mbuf.bpf.c: the
 * first window bytes gathered across segments, tags put back, the wire length). The test's
 * slow path is a model of the agent's: linearize the window as the probe does, interpret.
 * Then random programs, edge cases, refusals, and checks that the harness catches a wrong
 * compilation and a wrong slow path. nc_jit_run(), the slow path's interpreter, must agree with
 * libpcap wherever the generated code is checked.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/types.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../bpf/nc_filter_abi.h"
#include "../../bpf/nc_record.h"
#include "corpus.h"
#include "discover/dpdk.h"
#include "filter/filter.h"
#include "jit/burst_jit.h"

#define MBUF_HDR  128 /* struct rte_mbuf: two cache lines */
#define HEADROOM  128 /* RTE_PKTMBUF_HEADROOM */
#define SNAPLEN	  262144
#define MAX_BURST 64
#define VLAN_TPID 0x8100
#define QINQ_TPID 0x88a8
#define MAX_PKT	  2048
#define CANARY	  0x5a5a5a5au

/* more for this compiler: backward jumps, window edges, the benchmark's expressions */
static const char *const extra_expressions[] = {
    "ip6 protochain 6",	 "ip6 protochain 17", "protochain 58",	"ether[508:4] != 0",
    "ether[509:4] != 0", "ether[511] = 0",    "ether[512] = 0", "host 10.1.2.3",
};

static struct corpus *eth, *raw;
static const struct nc_mbuf_layout *ml;

/* ---- fake mbufs ---- */

struct fake {
	uint8_t *mbuf; /* MBUF_HDR bytes of header */
	uint8_t *segs[NC_MAX_SEGS + 1];
	void *map; /* the guarded mapping, or NULL */
	size_t map_len;
	/* the packet as the kernel probe presents it */
	const uint8_t *view; /* its bytes (tags put back) */
	uint32_t view_len;   /* bytes of view */
	uint32_t wire;	     /* pkt_len + 4 per tag */
	bool must_slow;	     /* ol_flags send it to the slow path */
	bool may_slow;	     /* a load past the first segment may */
	uint8_t *owned_view; /* view, when made for this mbuf */
};

static void put16(uint8_t *m, uint16_t off, uint16_t v)
{
	memcpy(m + off, &v, sizeof(v));
}

static void put32(uint8_t *m, uint16_t off, uint32_t v)
{
	memcpy(m + off, &v, sizeof(v));
}

static void put64(uint8_t *m, uint16_t off, uint64_t v)
{
	memcpy(m + off, &v, sizeof(v));
}

static uint16_t get16(const uint8_t *m, uint16_t off)
{
	uint16_t v;

	memcpy(&v, m + off, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *m, uint16_t off)
{
	uint32_t v;

	memcpy(&v, m + off, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *m, uint16_t off)
{
	uint64_t v;

	memcpy(&v, m + off, sizeof(v));
	return v;
}

/* An mbuf header whose segment buffer is buf (headroom first), data_len bytes of data */
static uint8_t *new_mbuf(uint8_t *buf, uint16_t data_len)
{
	uint8_t *m = g_malloc0(MBUF_HDR);

	put64(m, ml->buf_addr, (uint64_t)(uintptr_t)buf);
	put16(m, ml->data_off, HEADROOM);
	put16(m, ml->data_len, data_len);
	put16(m, ml->nb_segs, 1);
	return m;
}

/*
 * A packet in segments of the given lengths (the last one takes the rest); the first segment
 * ends at a PROT_NONE page when guard is set, so a read past data_len faults.
 */
static void build(struct fake *f, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
		  const uint32_t *lens, unsigned nsegs, bool guard)
{
	uint32_t off = 0;
	uint8_t *prev = NULL;

	memset(f, 0, sizeof(*f));
	for (unsigned s = 0; s < nsegs; s++) {
		uint32_t n = s + 1 == nsegs ? caplen - off : MIN(lens[s], caplen - off);
		uint8_t *buf, *m;

		if (s == 0 && guard) {
			long page = sysconf(_SC_PAGESIZE);
			size_t need = HEADROOM + n;
			size_t len = ((need + (size_t)page - 1) / (size_t)page + 1) * (size_t)page;

			f->map = mmap(NULL, len, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			g_assert_true(f->map != MAP_FAILED);
			f->map_len = len;
			g_assert_cmpint(mprotect((uint8_t *)f->map + len - (size_t)page,
						 (size_t)page, PROT_NONE),
					==, 0);
			buf = (uint8_t *)f->map + len - (size_t)page - need;
		} else {
			buf = g_malloc0(HEADROOM + n + 1);
			f->segs[s] = buf;
		}
		memcpy(buf + HEADROOM, data + off, n);
		m = new_mbuf(buf, (uint16_t)n);
		if (prev)
			put64(prev, ml->next, (uint64_t)(uintptr_t)m);
		else
			f->mbuf = m;
		prev = m;
		off += n;
	}
	put16(f->mbuf, ml->nb_segs, (uint16_t)nsegs);
	put32(f->mbuf, ml->pkt_len, wirelen);
	f->view = data;
	f->view_len = caplen;
	f->wire = wirelen;
	f->may_slow = nsegs > 1 || wirelen > get16(f->mbuf, ml->data_len);
}

static void release(struct fake *f)
{
	uint8_t *m = f->mbuf;

	while (m) {
		uint8_t *next = (uint8_t *)(uintptr_t)get64(m, ml->next);

		g_free(m);
		m = next;
	}
	for (unsigned s = 0; s <= NC_MAX_SEGS; s++)
		g_free(f->segs[s]);
	if (f->map)
		munmap(f->map, f->map_len);
	g_free(f->owned_view);
}

/* the packet with `ntags` 4-byte tags (in order) put in after the 12 address bytes */
static uint8_t *with_tags(const uint8_t *data, uint32_t len, const uint16_t *tags, unsigned ntags)
{
	uint8_t *v = g_malloc(len + 8);

	memcpy(v, data, 12);
	for (unsigned t = 0; t < ntags; t++) {
		v[12 + 4 * t] = (uint8_t)(tags[2 * t] >> 8);
		v[13 + 4 * t] = (uint8_t)tags[2 * t];
		v[14 + 4 * t] = (uint8_t)(tags[2 * t + 1] >> 8);
		v[15 + 4 * t] = (uint8_t)tags[2 * t + 1];
	}
	memcpy(v + 12 + 4 * ntags, data + 12, len - 12);
	return v;
}

/* ---- the slow path: what the agent will do, modelled on bpf/mbuf.bpf.c ---- */

struct slow_ctx {
	const struct nc_cbpf_insn *prog;
	unsigned len;
	uint32_t window;
	int direction;
	void *const *mbufs;
	unsigned calls;
	unsigned wrong_args;
	bool *called; /* called[index] */
	bool lie;     /* return a wrong verdict (the harness must notice) */
};

/* The window of mbuf m as the kernel probe copies it; returns its length, *wire the length. */
static uint32_t linearize(const uint8_t *m, int direction, uint32_t limit, uint8_t *out,
			  uint32_t *wire)
{
	uint64_t fl = get64(m, ml->ol_flags);
	uint16_t tci = get16(m, ml->vlan_tci), outer = get16(m, ml->vlan_tci_outer);
	bool rx = direction != NC_DIR_OUT, tx = direction != NC_DIR_IN;
	uint16_t tags[4] = {0};
	unsigned ntags = 0, nb_segs = get16(m, ml->nb_segs);
	uint32_t off = 0;
	const uint8_t *seg = m;

	if ((rx && (fl & NC_MBUF_F_RX_QINQ_STRIPPED) && (fl & NC_MBUF_F_RX_VLAN_STRIPPED)) ||
	    (tx && (fl & NC_MBUF_F_TX_QINQ))) {
		tags[0] = QINQ_TPID, tags[1] = outer, tags[2] = VLAN_TPID, tags[3] = tci;
		ntags = 2;
	} else if ((rx && (fl & (NC_MBUF_F_RX_QINQ_STRIPPED | NC_MBUF_F_RX_VLAN_STRIPPED))) ||
		   (tx && (fl & NC_MBUF_F_TX_VLAN))) {
		tags[0] = VLAN_TPID;
		tags[1] = rx && (fl & NC_MBUF_F_RX_QINQ_STRIPPED) ? outer : tci;
		ntags = 1;
	}
	*wire = get32(m, ml->pkt_len) + 4 * ntags;
	for (unsigned s = 0; s < NC_MAX_SEGS && seg && off < limit; s++) {
		const uint8_t *d =
		    (const uint8_t *)(uintptr_t)get64(seg, ml->buf_addr) + get16(seg, ml->data_off);
		uint32_t n = get16(seg, ml->data_len);

		if (s == 0 && ntags && n >= 12 && limit >= 12 + 4 * ntags) {
			memcpy(out, d, 12);
			for (unsigned t = 0; t < ntags; t++) {
				out[12 + 4 * t] = (uint8_t)(tags[2 * t] >> 8);
				out[13 + 4 * t] = (uint8_t)tags[2 * t];
				out[14 + 4 * t] = (uint8_t)(tags[2 * t + 1] >> 8);
				out[15 + 4 * t] = (uint8_t)tags[2 * t + 1];
			}
			off = 12 + 4 * ntags;
			d += 12;
			n -= 12;
		}
		n = MIN(n, limit - off);
		memcpy(out + off, d, n);
		off += n;
		if (s + 1 >= nb_segs)
			break;
		seg = (const uint8_t *)(uintptr_t)get64(seg, ml->next);
	}
	return off;
}

uint32_t nc_test_jit_slow_path(void *ctx, void *mbuf, uint32_t index);

uint32_t nc_test_jit_slow_path(void *ctx, void *mbuf, uint32_t index)
{
	struct slow_ctx *c = ctx;
	uint8_t win[NC_JIT_MAX_WINDOW];
	uint32_t wire, n;

	c->calls++;
	if (c->mbufs[index] != mbuf || c->called[index])
		c->wrong_args++;
	c->called[index] = true;
	n = linearize(mbuf, c->direction, c->window, win, &wire);
	if (c->lie)
		return 0xdeadbeef;
	return nc_cbpf_run(c->prog, win, wire, n);
}

/*
 * What the generated code calls: checks that the stack was 16-byte aligned at the call (rsp is
 * 8 past a multiple of 16 at entry, as the System V ABI wants), then goes on to the slow path.
 */
uint32_t nc_test_jit_slow_entry(void *ctx, void *mbuf, uint32_t index);
__asm__(".text\n"
	".globl nc_test_jit_slow_entry\n"
	".type nc_test_jit_slow_entry, @function\n"
	"nc_test_jit_slow_entry:\n"
	"	mov %rsp, %rax\n"
	"	and $15, %eax\n"
	"	cmp $8, %eax\n"
	"	jne 1f\n"
	"	jmp nc_test_jit_slow_path@PLT\n"
	"1:	ud2\n"
	".size nc_test_jit_slow_entry, . - nc_test_jit_slow_entry\n");

/* ---- running ---- */

static struct nc_jit_layout layout(uint32_t window, uint64_t slow_flags)
{
	return (struct nc_jit_layout){
	    .buf_addr = ml->buf_addr,
	    .data_off = ml->data_off,
	    .data_len = ml->data_len,
	    .pkt_len = ml->pkt_len,
	    .nb_segs = ml->nb_segs,
	    .ol_flags = ml->ol_flags,
	    .window = window,
	    .slow_flags = slow_flags,
	};
}

#define RX_FLAGS (NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED)
#define TX_FLAGS (NC_MBUF_F_TX_VLAN | NC_MBUF_F_TX_QINQ)

struct code {
	nc_jit_burst_fn fn;
	size_t len;
};

static unsigned gpr_checked; /* programs whose code was checked by assert_gpr_only() */

/*
 * The agent calls this code from function hooks' trampolines, which save the general registers
 * only (docs/inproc.md "The trampoline"): every instruction decodes and none names a vector, x87
 * or mask register. tests/unit/agent_gpr.sh checks the agent's side.
 */
static void assert_gpr_only(const uint8_t *code, size_t len)
{
	csh cs;
	cs_insn *insn;
	size_t n, done = 0;

	g_assert_cmpint(cs_open(CS_ARCH_X86, CS_MODE_64, &cs), ==, CS_ERR_OK);
	n = cs_disasm(cs, code, len, 0, 0, &insn);
	for (size_t i = 0; i < n; i++) {
		const char *o = insn[i].op_str, *mn = insn[i].mnemonic;

		if (strstr(o, "xmm") || strstr(o, "ymm") || strstr(o, "zmm") || strstr(o, "mm") ||
		    strstr(o, "st(") || (o[0] == 'k' && o[1] >= '0' && o[1] <= '7') ||
		    mn[0] == 'f' || !strcmp(mn, "emms") || strstr(mn, "xsave") ||
		    strstr(mn, "xrstor") || strstr(mn, "mxcsr") || strstr(mn, "vzero"))
			g_error("compiled filter: %s %s at +%#" PRIx64
				" uses a vector or x87 register",
				mn, o, insn[i].address);
		done += insn[i].size;
	}
	if (n)
		cs_free(insn, n);
	cs_close(&cs);
	/* code the decoder stops in could hide anything */
	g_assert_cmpuint(done, ==, len);
	gpr_checked++;
}

/* Every program the cases above compiled went through assert_gpr_only() */
static void test_gpr_only(void)
{
	if (!gpr_checked) {
		g_test_skip("run with the other cases: they compile the programs checked");
		return;
	}
	g_test_message("%u compiled programs, general registers only", gpr_checked);
	g_assert_cmpuint(gpr_checked, >, 1000);
}

static int compile(const struct nc_cbpf_insn *prog, unsigned len, const struct nc_jit_layout *lay,
		   struct code *c, char *err, size_t errlen)
{
	uint8_t *code;
	size_t n;
	int ret = nc_jit_compile(prog, len, lay, &code, &n, err, errlen);

	if (ret)
		return ret;
	assert_gpr_only(code, n);
	ret = nc_jit_map(code, n, &c->fn, err, errlen);
	free(code);
	c->len = n;
	return ret;
}

static void compile_ok(const struct nc_cbpf_insn *prog, unsigned len,
		       const struct nc_jit_layout *lay, struct code *c)
{
	char err[256];

	if (compile(prog, len, lay, c, err, sizeof(err)))
		g_error("nc_jit_compile: %s", err);
}

struct tally {
	unsigned compared, matched, differed, slow_calls;
};

/*
 * Runs the compiled code on the fakes in bursts of 1, 2, ..., 64, 1, ... packets and compares
 * every verdict with bpf_filter() on the packet's view (clamped to the window).
 */
static void run_fakes(const char *what, const struct nc_cbpf_insn *prog, unsigned len,
		      const struct code *c, uint32_t window, int direction, struct fake *fakes,
		      unsigned n, struct tally *t, bool lie, bool report)
{
	void *mbufs[MAX_BURST];
	uint32_t verdict[MAX_BURST + 1];
	bool called[MAX_BURST];
	unsigned burst = 1;

	for (unsigned first = 0; first < n; first += burst, burst = burst % MAX_BURST + 1) {
		unsigned b = MIN(burst, n - first), nonzero = 0;
		struct slow_ctx sc = {.prog = prog,
				      .len = len,
				      .window = window,
				      .direction = direction,
				      .mbufs = mbufs,
				      .called = called,
				      .lie = lie};
		uint32_t ret;

		memset(called, 0, sizeof(called));
		for (unsigned i = 0; i < b; i++)
			mbufs[i] = fakes[first + i].mbuf;
		for (unsigned i = 0; i <= MAX_BURST; i++)
			verdict[i] = CANARY;
		ret = c->fn(mbufs, b, verdict, nc_test_jit_slow_entry, &sc);
		g_assert_cmpuint(verdict[b], ==, CANARY);
		g_assert_cmpuint(sc.wrong_args, ==, 0);
		for (unsigned i = 0; i < b; i++) {
			const struct fake *f = &fakes[first + i];
			uint32_t want =
			    nc_cbpf_run(prog, f->view, f->wire, MIN(f->view_len, window));
			uint32_t interp =
			    nc_jit_run(prog, len, f->view, f->wire, MIN(f->view_len, window));

			if (interp != want)
				g_error("%s packet %u: nc_jit_run %u, libpcap %u", what, first + i,
					interp, want);
			nonzero += verdict[i] != 0;
			if (called[i] && !f->must_slow && !f->may_slow)
				g_error("%s packet %u: slow path called for a packet the fast "
					"path holds whole",
					what, first + i);
			if (!called[i] && f->must_slow)
				g_error("%s packet %u: slow path not called for flags 0x%" PRIx64,
					what, first + i, get64(f->mbuf, ml->ol_flags));
			t->compared++;
			t->matched += want != 0;
			if (verdict[i] != want) {
				t->differed++;
				if (report)
					g_test_message("%s packet %u: jit %u, libpcap %u", what,
						       first + i, verdict[i], want);
			}
		}
		g_assert_cmpuint(ret, ==, nonzero);
		t->slow_calls += sc.calls;
	}
}

/* ---- the corpus as mbuf sets ---- */

enum variant {
	V_SINGLE,  /* one segment, guard page after it */
	V_SPLIT,   /* chains: first segment of split[] bytes, the rest in 40-byte segments */
	V_VLAN,	   /* rx, VLAN tag stripped */
	V_QINQ,	   /* rx, both tags stripped */
	V_OUTER,   /* rx, the outer tag only stripped (QINQ flag without VLAN flag) */
	V_TX_VLAN, /* tx, a tag to insert */
	V_TX_RXFL, /* tx hook, rx flags set: nothing to put back */
	V_COUNT
};

static const uint32_t split[] = {1, 12, 13, 14, 18, 20, 26, 34, 38, 40, 54, 60, 100, 300};

struct set {
	const char *name;
	struct fake *fakes;
	unsigned n;
	int direction;
};

static void make_set(struct set *s, const char *name, const struct corpus *c, enum variant v,
		     uint32_t first_len)
{
	s->name = name;
	s->fakes = g_new0(struct fake, c->n);
	s->n = 0;
	s->direction = v == V_TX_VLAN || v == V_TX_RXFL ? NC_DIR_OUT : NC_DIR_IN;
	for (unsigned i = 0; i < c->n; i++) {
		const struct corpus_pkt *pk = &c->pkts[i];
		struct fake *f = &s->fakes[s->n];
		uint32_t lens[NC_MAX_SEGS];
		unsigned nsegs = 1;
		uint16_t tags[4] = {VLAN_TPID, 0x2005, VLAN_TPID, 0x0123};
		uint64_t fl = 0;
		unsigned ntags = 0;

		if (v >= V_VLAN && pk->caplen < 14)
			continue; /* no room for the tag: the probe then adds none */
		if (v == V_SPLIT) {
			if (pk->caplen <= first_len)
				continue;
			lens[0] = first_len;
			while (nsegs < NC_MAX_SEGS - 1 && first_len + 40 * nsegs < pk->caplen)
				lens[nsegs++] = 40;
			nsegs++;
		}
		build(f, pk->data, pk->caplen, pk->wirelen, lens, nsegs, v == V_SINGLE);
		switch (v) {
		case V_VLAN:
			fl = NC_MBUF_F_RX_VLAN | NC_MBUF_F_RX_VLAN_STRIPPED;
			put16(f->mbuf, ml->vlan_tci, 0x2005);
			ntags = 1;
			break;
		case V_QINQ:
			fl = NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED;
			put16(f->mbuf, ml->vlan_tci_outer, 0x00c8);
			put16(f->mbuf, ml->vlan_tci, 0x000a);
			tags[0] = QINQ_TPID, tags[1] = 0x00c8, tags[3] = 0x000a;
			ntags = 2;
			break;
		case V_OUTER:
			fl = NC_MBUF_F_RX_QINQ_STRIPPED;
			put16(f->mbuf, ml->vlan_tci_outer, 0x0064);
			put16(f->mbuf, ml->vlan_tci, 0x0fff);
			tags[1] = 0x0064;
			ntags = 1;
			break;
		case V_TX_VLAN:
			fl = NC_MBUF_F_TX_VLAN;
			put16(f->mbuf, ml->vlan_tci, 0x000a);
			tags[1] = 0x000a;
			ntags = 1;
			break;
		case V_TX_RXFL:
			fl = NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED;
			put16(f->mbuf, ml->vlan_tci, 0x000a);
			break;
		default: break;
		}
		put64(f->mbuf, ml->ol_flags, fl);
		if (ntags) {
			f->owned_view = with_tags(pk->data, pk->caplen, tags, ntags);
			f->view = f->owned_view;
			f->view_len = pk->caplen + 4 * ntags;
			f->wire = pk->wirelen + 4 * ntags;
			f->must_slow = true;
		}
		s->n++;
	}
}

static void free_set(struct set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		release(&s->fakes[i]);
	g_free(s->fakes);
}

#define MAX_SETS (V_COUNT + G_N_ELEMENTS(split))

struct sets {
	struct set s[MAX_SETS];
	unsigned n;
};

static void make_sets(struct sets *ss, const struct corpus *c, bool link_layer)
{
	static char names[G_N_ELEMENTS(split)][32];

	ss->n = 0;
	make_set(&ss->s[ss->n++], "single segment", c, V_SINGLE, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(split); i++) {
		snprintf(names[i], sizeof(names[i]), "segments %u+40+...", split[i]);
		make_set(&ss->s[ss->n++], names[i], c, V_SPLIT, split[i]);
	}
	if (!link_layer)
		return;
	make_set(&ss->s[ss->n++], "rx vlan stripped", c, V_VLAN, 0);
	make_set(&ss->s[ss->n++], "rx qinq stripped", c, V_QINQ, 0);
	make_set(&ss->s[ss->n++], "rx outer tag stripped", c, V_OUTER, 0);
	make_set(&ss->s[ss->n++], "tx vlan to insert", c, V_TX_VLAN, 0);
	make_set(&ss->s[ss->n++], "tx hook, rx flags", c, V_TX_RXFL, 0);
}

static void free_sets(struct sets *ss)
{
	for (unsigned i = 0; i < ss->n; i++)
		free_set(&ss->s[i]);
}

static struct sets eth_sets, raw_sets;

/* Every set of one link type through the program of that link type of f. */
static void run_program(const struct nc_filter *f, enum nc_link link, uint32_t window,
			struct tally *t)
{
	struct sets *ss = link == NC_LINK_L2 ? &eth_sets : &raw_sets;

	for (unsigned s = 0; s < ss->n; s++) {
		const struct set *set = &ss->s[s];
		struct nc_jit_layout lay;
		struct code c;
		char what[256];

		nc_jit_layout_init(&lay, ml, (unsigned)set->direction, window);
		compile_ok(f->cbpf[link], f->cbpf_len[link], &lay, &c);
		snprintf(what, sizeof(what), "\"%s\" %s %s window %u", f->expr,
			 link == NC_LINK_L2 ? "Ethernet" : "raw IP", set->name, window);
		run_fakes(what, f->cbpf[link], f->cbpf_len[link], &c, window, set->direction,
			  set->fakes, set->n, t, false, true);
		nc_jit_unmap(c.fn, c.len);
	}
}

static void run_expressions(const char *const *exprs, size_t n, int optimize, uint32_t window)
{
	struct tally t = {0};

	for (size_t e = 0; e < n; e++) {
		struct nc_filter *f;
		char err[512];

		if (nc_filter_new(exprs[e], SNAPLEN, optimize, &f, err, sizeof(err)))
			g_error("%s: %s", exprs[e], err);
		run_program(f, NC_LINK_L2, window, &t);
		run_program(f, NC_LINK_L3, window, &t);
		nc_filter_free(f);
	}
	g_test_message("%zu expressions (optimize=%d, window %u): %u verdicts compared, %u "
		       "matches, %u slow-path calls, %u differences",
		       n, optimize, window, t.compared, t.matched, t.slow_calls, t.differed);
	g_assert_cmpuint(t.differed, ==, 0);
	g_assert_cmpuint(t.matched, >, 0);
	g_assert_cmpuint(t.matched, <, t.compared);
	g_assert_cmpuint(t.slow_calls, >, 0);
}

static void test_optimized(void)
{
	run_expressions(corpus_expressions, corpus_n_expressions, 1, NC_JIT_MAX_WINDOW);
}

static void test_unoptimized(void)
{
	run_expressions(corpus_expressions, corpus_n_expressions, 0, NC_JIT_MAX_WINDOW);
}

/* a snap length under the window: the probe copies, and the filter sees, only that much */
static void test_small_window(void)
{
	run_expressions(corpus_expressions, corpus_n_expressions, 1, 64);
}

static void test_extra(void)
{
	run_expressions(extra_expressions, G_N_ELEMENTS(extra_expressions), 1, NC_JIT_MAX_WINDOW);
	run_expressions(extra_expressions, G_N_ELEMENTS(extra_expressions), 0, NC_JIT_MAX_WINDOW);
}

/* nc_jit_layout_init(): the release's offsets, the probe's tags for the direction, the window */
static void test_layout_of_a_hook(void)
{
	static const struct {
		unsigned direction;
		uint32_t snaplen, window;
		uint64_t flags;
	} cases[] = {
	    {NC_DIR_IN, 262144, 512, RX_FLAGS},
	    {NC_DIR_OUT, 512, 512, TX_FLAGS},
	    {NC_DIR_NONE, 64, 64, RX_FLAGS | TX_FLAGS},
	    {NC_DIR_IN, 1, 1, RX_FLAGS},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct nc_jit_layout lay;

		memset(&lay, 0xa5, sizeof(lay));
		nc_jit_layout_init(&lay, ml, cases[i].direction, cases[i].snaplen);
		g_assert_cmpuint(lay.buf_addr, ==, 0);
		g_assert_cmpuint(lay.data_off, ==, 16);
		g_assert_cmpuint(lay.nb_segs, ==, 20);
		g_assert_cmpuint(lay.ol_flags, ==, 24);
		g_assert_cmpuint(lay.pkt_len, ==, 36);
		g_assert_cmpuint(lay.data_len, ==, 40);
		g_assert_cmpuint(lay.window, ==, cases[i].window);
		g_assert_cmpuint(lay.slow_flags, ==, cases[i].flags);
	}
}

/* ---- the harness catches a wrong compilation and a wrong slow path ---- */

static void test_catches_flipped_jump(void)
{
	struct nc_filter *f;
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);
	struct nc_cbpf_insn *flipped;
	struct tally t = {0};
	struct code c;
	char err[512];
	unsigned len;
	bool done = false;

	g_assert_cmpint(nc_filter_new("tcp port 80", SNAPLEN, 1, &f, err, sizeof(err)), ==, 0);
	len = f->cbpf_len[NC_LINK_L2];
	flipped = g_memdup2(f->cbpf[NC_LINK_L2], len * sizeof(*flipped));
	for (unsigned i = 0; i < len && !done; i++) {
		if (BPF_CLASS(flipped[i].code) == BPF_JMP && flipped[i].jt != flipped[i].jf &&
		    BPF_OP(flipped[i].code) != BPF_JA) {
			uint8_t jt = flipped[i].jt;

			flipped[i].jt = flipped[i].jf;
			flipped[i].jf = jt;
			done = true;
		}
	}
	g_assert_true(done);
	compile_ok(flipped, len, &lay, &c);
	/* the oracle runs the right program, the code is the flipped one */
	run_fakes("flipped", f->cbpf[NC_LINK_L2], len, &c, NC_JIT_MAX_WINDOW, NC_DIR_IN,
		  eth_sets.s[0].fakes, eth_sets.s[0].n, &t, false, false);
	g_test_message("flipped jump: %u of %u verdicts differ", t.differed, t.compared);
	g_assert_cmpuint(t.differed, >, 0);
	nc_jit_unmap(c.fn, c.len);
	g_free(flipped);
	nc_filter_free(f);
}

static void test_catches_wrong_slow_path(void)
{
	struct nc_filter *f;
	struct tally t = {0};
	const struct set *vlan = NULL;
	struct code c;
	char err[512];

	for (unsigned s = 0; s < eth_sets.n; s++)
		if (!strcmp(eth_sets.s[s].name, "rx vlan stripped"))
			vlan = &eth_sets.s[s];
	g_assert_nonnull(vlan);
	g_assert_cmpint(nc_filter_new("vlan 5", SNAPLEN, 1, &f, err, sizeof(err)), ==, 0);
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);

	compile_ok(f->cbpf[NC_LINK_L2], f->cbpf_len[NC_LINK_L2], &lay, &c);
	/* the tag put back (0x2005: priority 1, VLAN 5) matches on every packet */
	run_fakes("honest", f->cbpf[NC_LINK_L2], f->cbpf_len[NC_LINK_L2], &c, NC_JIT_MAX_WINDOW,
		  NC_DIR_IN, vlan->fakes, vlan->n, &t, false, true);
	g_assert_cmpuint(t.differed, ==, 0);
	g_assert_cmpuint(t.matched, ==, vlan->n);
	g_assert_cmpuint(t.slow_calls, ==, vlan->n);
	memset(&t, 0, sizeof(t));
	run_fakes("lying", f->cbpf[NC_LINK_L2], f->cbpf_len[NC_LINK_L2], &c, NC_JIT_MAX_WINDOW,
		  NC_DIR_IN, vlan->fakes, vlan->n, &t, true, false);
	g_assert_cmpuint(t.differed, ==, vlan->n);
	nc_jit_unmap(c.fn, c.len);
	nc_filter_free(f);
}

/* ---- edge cases: raw programs, one packet, the verdict written out ---- */

#define MAXLEN 16

struct row {
	const char *name;
	struct nc_cbpf_insn prog[MAXLEN];
	uint32_t caplen, wirelen;
	uint32_t expect;
	bool skip_oracle; /* the documented difference from libpcap 1.10.3 */
};

static const struct row rows[] = {
    {"jgt-high-bit-immediate",
     {BPF_STMT(BPF_LD | BPF_IMM, 0x90000000), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x80000000, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     1,
     false},
    {"jeq-negative-imm8",
     {BPF_STMT(BPF_LD | BPF_IMM, 0xffffff80), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffff80, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     1,
     false},
    {"jset-x",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0x100), BPF_STMT(BPF_LD | BPF_IMM, 0x301),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 1, 0), BPF_STMT(BPF_RET | BPF_K, 7),
      BPF_STMT(BPF_RET | BPF_K, 9)},
     60,
     60,
     9,
     false},
    {"ind-load-x-wraps-32-bits",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0xfffffffe), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 4),
      BPF_STMT(BPF_RET | BPF_K, 5)},
     60,
     60,
     0,
     false},
    {"ind-load-last-byte",
     {BPF_STMT(BPF_LDX | BPF_IMM, 50), BPF_STMT(BPF_LD | BPF_W | BPF_IND, 6),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     0x38393a3b,
     false},
    {"ind-load-one-past",
     {BPF_STMT(BPF_LDX | BPF_IMM, 51), BPF_STMT(BPF_LD | BPF_W | BPF_IND, 6),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     60,
     60,
     0,
     false},
    {"abs-half-straddles-caplen",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 59), BPF_STMT(BPF_RET | BPF_K, 1)},
     60,
     60,
     0,
     false},
    {"abs-half-big-endian",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 58), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     0x3a3b,
     false},
    {"msh",
     {BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 3), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     12,
     false},
    {"div-by-x-zero-rejects",
     {BPF_STMT(BPF_LD | BPF_IMM, 10), BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     60,
     60,
     0,
     false},
    {"mod-by-x-zero-rejects",
     {BPF_STMT(BPF_LD | BPF_IMM, 10), BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0),
      BPF_STMT(BPF_RET | BPF_K, 1)},
     60,
     60,
     0,
     false},
    {"div-mod-high-bit",
     {BPF_STMT(BPF_LD | BPF_IMM, 0xfffffff0), BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0x80000001),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 100), BPF_STMT(BPF_LDX | BPF_IMM, 7),
      BPF_STMT(BPF_ALU | BPF_MOD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     101 % 7,
     false},
    {"lsh-x-32-gives-0",
     {BPF_STMT(BPF_LD | BPF_IMM, 1), BPF_STMT(BPF_LDX | BPF_IMM, 32),
      BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0), BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 3),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     3,
     false},
    {"rsh-x-31",
     {BPF_STMT(BPF_LD | BPF_IMM, 0x80000000), BPF_STMT(BPF_LDX | BPF_IMM, 31),
      BPF_STMT(BPF_ALU | BPF_RSH | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     1,
     false},
    {"neg-mul",
     {BPF_STMT(BPF_LD | BPF_IMM, 3), BPF_STMT(BPF_ALU | BPF_NEG, 0),
      BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x10001), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     (uint32_t)(0u - 3u) * 0x10001u,
     false},
    {"scratch-memory",
     {BPF_STMT(BPF_LD | BPF_IMM, 5), BPF_STMT(BPF_ST, 15), BPF_STMT(BPF_LDX | BPF_IMM, 6),
      BPF_STMT(BPF_STX, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), BPF_STMT(BPF_LDX | BPF_MEM, 15),
      BPF_STMT(BPF_ALU | BPF_MUL | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     30,
     false},
    {"len-is-the-wire-length",
     {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     1500,
     3000,
     false},
    {"ret-a-zero-is-no-match",
     {BPF_STMT(BPF_LD | BPF_IMM, 0), BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     0,
     false},
    /* loads compared in packet byte order (find_raw): the constants must follow */
    {"raw-half-jeq-above-0xffff",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x10c0d, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     2,
     false},
    {"raw-half-jset-high-bits",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0xffff0000, 0, 1), BPF_STMT(BPF_RET | BPF_K, 1),
      BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     2,
     false},
    {"raw-half-jset-low-byte",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x0001, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     1,
     false},
    {"raw-word-jeq",
     {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x08090a0b, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     1,
     false},
    {"raw-values-joining",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0c0d, 0, 1),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 14), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0e0f, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     1,
     false},
    {"raw-then-ret-a",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0c0d, 0, 1),
      BPF_STMT(BPF_RET | BPF_A, 0), BPF_STMT(BPF_RET | BPF_K, 7)},
     60,
     60,
     0x0c0d,
     false},
    {"raw-then-jgt",
     {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0d0c, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x0c0e, 0, 1), BPF_STMT(BPF_RET | BPF_K, 1),
      BPF_STMT(BPF_RET | BPF_K, 2)},
     60,
     60,
     2,
     false},
    {"backward-jumps-64-followed",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 65, 1, 0), BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-5),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     65,
     false},
    {"backward-jump-65-rejects",
     {BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_MISC | BPF_TXA, 0),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 66, 1, 0), BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-5),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     0,
     true},
    {"jump-to-itself-rejects",
     {BPF_STMT(BPF_LD | BPF_IMM, 1), BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-1),
      BPF_STMT(BPF_RET | BPF_A, 0)},
     60,
     60,
     0,
     true},
};

static unsigned row_len(const struct row *r)
{
	unsigned n = 0;

	/* the first all-zero slot after instruction 0 ends the program */
	while (n < MAXLEN && (r->prog[n].code || r->prog[n].k || n == 0))
		n++;
	return n;
}

static void test_rows(void)
{
	uint8_t pkt[64];
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, 0);

	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
		const struct row *row = &rows[r];
		unsigned len = row_len(row);
		uint32_t lens[1] = {row->caplen};
		struct fake f;
		struct code c;
		void *mbufs[1];
		uint32_t verdict[1] = {CANARY}, ret;
		bool called[1] = {false};
		struct slow_ctx sc = {.prog = row->prog,
				      .len = len,
				      .window = NC_JIT_MAX_WINDOW,
				      .mbufs = mbufs,
				      .called = called};

		compile_ok(row->prog, len, &lay, &c);
		build(&f, pkt, row->caplen, row->wirelen, lens, 1, true);
		put32(f.mbuf, ml->pkt_len, row->wirelen);
		mbufs[0] = f.mbuf;
		ret = c.fn(mbufs, 1, verdict, nc_test_jit_slow_entry, &sc);
		if (verdict[0] != row->expect)
			g_error("%s: jit %u, expected %u", row->name, verdict[0], row->expect);
		g_assert_cmpuint(ret, ==, row->expect != 0);
		if (!row->skip_oracle)
			g_assert_cmpuint(nc_cbpf_run(row->prog, pkt, row->wirelen, row->caplen), ==,
					 row->expect);
		if (nc_jit_run(row->prog, len, pkt, row->wirelen, row->caplen) != row->expect)
			g_error("%s: nc_jit_run %u, expected %u", row->name,
				nc_jit_run(row->prog, len, pkt, row->wirelen, row->caplen),
				row->expect);
		nc_jit_unmap(c.fn, c.len);
		release(&f);
	}
}

/* A and X start at 0 for every packet, whatever the previous packet left in them. */
static void test_registers_start_at_zero(void)
{
	static const struct nc_cbpf_insn progs[][5] = {
	    {BPF_STMT(BPF_LDX | BPF_IMM, 5), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
	     BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
	    {BPF_STMT(BPF_MISC | BPF_TXA, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
	     BPF_STMT(BPF_RET | BPF_K, 1), BPF_STMT(BPF_RET | BPF_K, 2)},
	    /* X written on one path only */
	    {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 0x7f, 0, 1),
	     BPF_STMT(BPF_LDX | BPF_IMM, 9), BPF_STMT(BPF_MISC | BPF_TXA, 0),
	     BPF_STMT(BPF_RET | BPF_A, 0)},
	};
	static const unsigned lens[] = {4, 4, 5};
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);

	for (size_t p = 0; p < G_N_ELEMENTS(progs); p++) {
		struct tally t = {0};
		struct code c;

		compile_ok(progs[p], lens[p], &lay, &c);
		run_fakes("zero", progs[p], lens[p], &c, NC_JIT_MAX_WINDOW, NC_DIR_IN,
			  eth_sets.s[0].fakes, eth_sets.s[0].n, &t, false, true);
		g_assert_cmpuint(t.differed, ==, 0);
		g_assert_cmpuint(t.matched, >, 0);
		nc_jit_unmap(c.fn, c.len);
	}
}

static uint32_t slow_two(void *ctx, void *mbuf, uint32_t index)
{
	(void)ctx, (void)mbuf, (void)index;
	return 2;
}

/* The ol_flags test, of each width it takes: every single bit, against masks of 1 to 8 bytes. */
static void test_flags_widths(void)
{
	static const uint64_t masks[] = {
	    NC_MBUF_F_RX_VLAN_STRIPPED,	  RX_FLAGS,	     TX_FLAGS,
	    RX_FLAGS | TX_FLAGS,	  UINT64_C(1) << 63, UINT64_C(0x00ff000000000000),
	    UINT64_C(0x8000000000000001), ~UINT64_C(0)};
	struct nc_cbpf_insn accept[] = {BPF_STMT(BPF_RET | BPF_K, 1)};
	uint8_t pkt[60] = {0};
	uint32_t lens[1] = {60};
	struct fake f[65];
	void *mbufs[65];
	uint32_t verdict[65];

	for (unsigned b = 0; b <= 64; b++) {
		build(&f[b], pkt, 60, 60, lens, 1, false);
		put64(f[b].mbuf, ml->ol_flags, b < 64 ? UINT64_C(1) << b : 0);
		mbufs[b] = f[b].mbuf;
	}
	for (size_t m = 0; m < G_N_ELEMENTS(masks); m++) {
		struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, masks[m]);
		unsigned slow = 0;
		struct code c;

		compile_ok(accept, 1, &lay, &c);
		g_assert_cmpuint(c.fn(mbufs, 65, verdict, slow_two, NULL), ==, 65);
		for (unsigned b = 0; b <= 64; b++) {
			bool want_slow = b < 64 && (masks[m] >> b & 1);

			if (verdict[b] != (want_slow ? 2u : 1u))
				g_error("mask 0x%016" PRIx64 ", bit %u: verdict %u", masks[m], b,
					verdict[b]);
			slow += want_slow;
		}
		g_assert_cmpuint(slow, ==, (unsigned)__builtin_popcountll(masks[m]));
		nc_jit_unmap(c.fn, c.len);
	}
	for (unsigned b = 0; b <= 64; b++)
		release(&f[b]);
}

/* A NULL mbuf: verdict 0, no slow-path call; n == 0 writes nothing and calls nothing. */
static void test_null_and_empty(void)
{
	struct nc_cbpf_insn accept[] = {BPF_STMT(BPF_RET | BPF_K, 1)};
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);
	uint8_t pkt[60] = {0};
	uint32_t lens[1] = {60};
	struct fake f;
	struct code c;
	void *mbufs[3];
	uint32_t verdict[3] = {CANARY, CANARY, CANARY};
	bool called[3] = {false};
	struct slow_ctx sc = {
	    .prog = accept, .len = 1, .window = 512, .mbufs = mbufs, .called = called};

	compile_ok(accept, 1, &lay, &c);
	build(&f, pkt, 60, 60, lens, 1, false);
	mbufs[0] = f.mbuf, mbufs[1] = NULL, mbufs[2] = f.mbuf;
	g_assert_cmpuint(c.fn(mbufs, 0, verdict, nc_test_jit_slow_entry, &sc), ==, 0);
	g_assert_cmpuint(verdict[0], ==, CANARY);
	g_assert_cmpuint(c.fn(mbufs, 3, verdict, nc_test_jit_slow_entry, &sc), ==, 2);
	g_assert_cmpuint(verdict[0], ==, 1);
	g_assert_cmpuint(verdict[1], ==, 0);
	g_assert_cmpuint(verdict[2], ==, 1);
	g_assert_cmpuint(sc.calls, ==, 0);
	nc_jit_unmap(c.fn, c.len);
	release(&f);
}

/*
 * The slow path only where the first segment cannot decide: "tcp port 80" reads up to byte 54
 * of an IPv4/TCP frame, so a first segment of 60 bytes never needs it and one of 20 always.
 */
static void test_slow_only_when_needed(void)
{
	struct nc_filter *f;
	char err[512];
	struct code c;
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);
	unsigned checked = 0;

	g_assert_cmpint(nc_filter_new("tcp port 80", SNAPLEN, 1, &f, err, sizeof(err)), ==, 0);
	compile_ok(f->cbpf[NC_LINK_L2], f->cbpf_len[NC_LINK_L2], &lay, &c);
	for (unsigned i = 0; i < eth->n; i++) {
		const struct corpus_pkt *pk = &eth->pkts[i];
		uint32_t lens[2];
		struct fake big, small;
		void *mbufs[2];
		uint32_t verdict[2];
		bool called[2] = {false};
		struct slow_ctx sc = {.prog = f->cbpf[NC_LINK_L2],
				      .len = f->cbpf_len[NC_LINK_L2],
				      .window = NC_JIT_MAX_WINDOW,
				      .mbufs = mbufs,
				      .called = called};

		/* plain IPv4/TCP, no options, ports 80 or not, longer than 60 bytes */
		if (pk->caplen <= 60 || pk->caplen != pk->wirelen || pk->data[12] != 0x08 ||
		    pk->data[13] != 0x00 || pk->data[14] != 0x45 || pk->data[23] != 6)
			continue;
		lens[0] = 60;
		build(&big, pk->data, pk->caplen, pk->wirelen, lens, 2, false);
		lens[0] = 20;
		build(&small, pk->data, pk->caplen, pk->wirelen, lens, 2, false);
		mbufs[0] = big.mbuf, mbufs[1] = small.mbuf;
		c.fn(mbufs, 2, verdict, nc_test_jit_slow_entry, &sc);
		g_assert_false(called[0]);
		g_assert_true(called[1]);
		g_assert_cmpuint(verdict[0], ==,
				 nc_cbpf_run(f->cbpf[NC_LINK_L2], pk->data, pk->wirelen,
					     MIN(pk->caplen, NC_JIT_MAX_WINDOW)));
		g_assert_cmpuint(verdict[1], ==, verdict[0]);
		checked++;
		release(&big);
		release(&small);
	}
	g_assert_cmpuint(checked, >=, 10);
	nc_jit_unmap(c.fn, c.len);
	nc_filter_free(f);
}

/* ---- random programs ---- */

static uint32_t pick(GRand *r, const uint32_t *v, size_t n)
{
	return v[g_rand_int_range(r, 0, (gint32)n)];
}

/* A random program libpcap's validator accepts: M[] written first, forward jumps, ret A last */
static unsigned random_program(GRand *r, struct nc_cbpf_insn *p, unsigned max)
{
	static const uint32_t offs[] = {
	    0,	 1,   2,   12,	       13,	   14,	       20,	  23,  30,
	    40,	 54,  59,  60,	       100,	   250,	       500,	  508, 509,
	    510, 511, 512, 0x7fffffff, 0xffdfffff, 0x80000000, 0xfffff000};
	static const uint32_t imms[] = {0,    1,	  2,	      3,	  4,
					7,    8,	  31,	      32,	  33,
					0x45, 0x800,	  0xffff,     0x7fffffff, 0x80000000,
					511,  0xffffff80, 0xfffffffe, 0xffffffff, 0x12345678};
	static const uint16_t alu_ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND,
					   BPF_OR,  BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG};
	static const uint16_t jmp_ops[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
	static const uint16_t sizes[] = {BPF_B, BPF_H, BPF_W};
	unsigned n = 0, body = (unsigned)g_rand_int_range(r, 1, (gint32)max - 2 * BPF_MEMWORDS);

	for (unsigned m = 0; m < BPF_MEMWORDS; m++) {
		p[n++] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_IMM, pick(r, imms, 20));
		p[n++] = (struct nc_cbpf_insn)BPF_STMT(BPF_ST, m);
	}
	unsigned end = n + body;

	while (n < end - 1) {
		uint32_t k = pick(r, imms, G_N_ELEMENTS(imms));
		uint16_t size = sizes[g_rand_int_range(r, 0, 3)];
		unsigned left = end - 2 - n; /* the farthest forward jump: to the final ret */

		switch (g_rand_int_range(r, 0, 16)) {
		case 0:
		case 1:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | size | BPF_ABS,
							     pick(r, offs, G_N_ELEMENTS(offs)));
			break;
		case 2:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | size | BPF_IND,
							     pick(r, offs, G_N_ELEMENTS(offs)));
			break;
		case 3:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH,
							     pick(r, offs, G_N_ELEMENTS(offs)));
			break;
		case 4: p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_LDX | BPF_IMM, k); break;
		case 5:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(g_rand_boolean(r)
								 ? BPF_LD | BPF_W | BPF_LEN
								 : BPF_LDX | BPF_W | BPF_LEN,
							     0);
			break;
		case 6: {
			uint16_t codes[] = {BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX};

			p[n] = (struct nc_cbpf_insn)BPF_STMT(codes[g_rand_int_range(r, 0, 4)],
							     (uint32_t)g_rand_int_range(r, 0, 16));
			break;
		}
		case 7:
		case 8: {
			uint16_t op = alu_ops[g_rand_int_range(r, 0, G_N_ELEMENTS(alu_ops))];

			if (op == BPF_NEG) {
				p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_ALU | BPF_NEG, 0);
			} else if ((op == BPF_DIV || op == BPF_MOD) && k == 0) {
				k = 3;
			} else if ((op == BPF_LSH || op == BPF_RSH) && k >= 32) {
				k &= 31;
			}
			if (op != BPF_NEG)
				p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_ALU | op | BPF_K, k);
			break;
		}
		case 9:
		case 10: {
			uint16_t op = alu_ops[g_rand_int_range(r, 0, G_N_ELEMENTS(alu_ops) - 1)];

			p[n] = (struct nc_cbpf_insn)BPF_STMT(BPF_ALU | op | BPF_X, 0);
			break;
		}
		case 11:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(
			    BPF_MISC | (g_rand_boolean(r) ? BPF_TAX : BPF_TXA), 0);
			break;
		case 12:
		case 13: {
			uint16_t op = jmp_ops[g_rand_int_range(r, 0, 4)];
			uint8_t jt = (uint8_t)g_rand_int_range(r, 0, (gint32)MIN(left, 255) + 1);
			uint8_t jf = (uint8_t)g_rand_int_range(r, 0, (gint32)MIN(left, 255) + 1);

			p[n] = (struct nc_cbpf_insn)BPF_JUMP(
			    BPF_JMP | op | (g_rand_boolean(r) ? BPF_X : BPF_K), k, jt, jf);
			break;
		}
		case 14:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(
			    BPF_JMP | BPF_JA, (uint32_t)g_rand_int_range(r, 0, (gint32)left + 1));
			break;
		default:
			p[n] = (struct nc_cbpf_insn)BPF_STMT(
			    g_rand_boolean(r) ? BPF_RET | BPF_A : BPF_RET | BPF_K, k);
			break;
		}
		n++;
	}
	p[n++] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	return n;
}

static void test_random_programs(void)
{
	GRand *r = g_rand_new_with_seed(20261206);
	struct nc_cbpf_insn prog[256];
	unsigned programs = 0, refused = 0;
	struct tally t = {0};
	const struct set *single = &eth_sets.s[0], *split14 = NULL;

	for (unsigned s = 0; s < eth_sets.n; s++)
		if (!strcmp(eth_sets.s[s].name, "segments 14+40+..."))
			split14 = &eth_sets.s[s];
	g_assert_nonnull(split14);
	for (int i = 0; i < 3000; i++) {
		unsigned len = random_program(r, prog, g_rand_boolean(r) ? 48 : 200);
		struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);
		struct code c;
		char err[256];
		int ret;

		if (!nc_cbpf_validate(prog, len))
			g_error("random program %d does not validate", i);
		ret = compile(prog, len, &lay, &c, err, sizeof(err));
		if (ret) {
			/* only the Linux extension offsets, which the generator does pick */
			g_assert_cmpint(ret, ==, -EINVAL);
			g_assert_nonnull(strstr(err, "Linux"));
			refused++;
			continue;
		}
		run_fakes("random", prog, len, &c, NC_JIT_MAX_WINDOW, NC_DIR_IN, single->fakes,
			  single->n, &t, false, t.differed < 10);
		run_fakes("random split", prog, len, &c, NC_JIT_MAX_WINDOW, NC_DIR_IN,
			  split14->fakes, split14->n, &t, false, t.differed < 10);
		nc_jit_unmap(c.fn, c.len);
		programs++;
	}
	g_test_message("%u random programs (%u refused): %u verdicts, %u matches, %u slow "
		       "calls, %u differences",
		       programs, refused, t.compared, t.matched, t.slow_calls, t.differed);
	g_assert_cmpuint(t.differed, ==, 0);
	g_assert_cmpuint(programs, >, 2000);
	g_assert_cmpuint(refused, >, 0);
	g_assert_cmpuint(t.matched, >, t.compared / 20);
	g_rand_free(r);
}

/* ---- refusals ---- */

static void refused(const struct nc_cbpf_insn *prog, unsigned len, uint32_t window, int errnum,
		    const char *msg)
{
	struct nc_jit_layout lay = layout(window, 0);
	uint8_t *code = (uint8_t *)&lay; /* must stay as it is */
	size_t code_len = 12345;
	char err[256] = "";

	g_assert_cmpint(nc_jit_compile(prog, len, &lay, &code, &code_len, err, sizeof(err)), ==,
			-errnum);
	g_assert_cmpstr(err, ==, msg);
	g_assert_true(code == (uint8_t *)&lay);
	g_assert_cmpuint(code_len, ==, 12345);
}

static void test_refusals(void)
{
	struct nc_cbpf_insn p[3];
	struct nc_cbpf_insn *big = g_new0(struct nc_cbpf_insn, BPF_MAXINSNS + 1);

	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_AD_OFF + 4);
	p[1] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	refused(p, 2, 512, EINVAL,
		"the filter needs the packet direction (inbound/outbound), which a Linux socket "
		"supplies but copied packet bytes do not; drop that part of the expression (for "
		"direction, pick an rx or tx hook)");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0);
	refused(p, 2, 512, EINVAL,
		"cBPF instruction 0 (code 0x34, k 0): division by the constant 0");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32);
	refused(p, 2, 512, EINVAL,
		"cBPF instruction 0 (code 0x64, k 32): shift by 32 or more bits");
	p[0] = (struct nc_cbpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0);
	refused(p, 2, 512, EINVAL, "cBPF instruction 0 (code 0x15, k 1): jump out of the program");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)-2);
	refused(p, 2, 512, EINVAL,
		"cBPF instruction 0 (code 0x05, k 4294967294): jump out of the program");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_MEM, 16);
	refused(p, 2, 512, EINVAL,
		"cBPF instruction 0 (code 0x60, k 16): scratch memory index out of range");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(0xff, 0);
	refused(p, 2, 512, EINVAL,
		"cBPF instruction 0 (code 0xff, k 0): opcode not in libpcap's instruction set");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_IMM, 1);
	refused(p, 1, 512, EINVAL,
		"cBPF instruction 0 (code 0x00, k 1): program does not end in ret");
	refused(p, 0, 512, EINVAL, "cBPF program of 0 instructions (1..4096 allowed)");
	big[BPF_MAXINSNS] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_K, 1);
	refused(big, BPF_MAXINSNS + 1, 512, E2BIG,
		"cBPF program of 4097 instructions (1..4096 allowed)");
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_K, 1);
	refused(p, 1, 0, EINVAL, "filter window of 0 bytes (1..512 allowed)");
	refused(p, 1, 513, EINVAL, "filter window of 513 bytes (1..512 allowed)");
	g_free(big);
}

/* The longest program compiles (rel32 jumps across it) and runs. */
static void test_long_program(void)
{
	struct nc_cbpf_insn *p = g_new0(struct nc_cbpf_insn, BPF_MAXINSNS);
	struct nc_jit_layout lay = layout(NC_JIT_MAX_WINDOW, RX_FLAGS);
	struct tally t = {0};
	struct code c;

	/* IPv4 jumps over 4090 loads of P[i % 40] (rel32), the others run them */
	p[0] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12);
	p[1] = (struct nc_cbpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x800, 0, 1);
	p[2] = (struct nc_cbpf_insn)BPF_STMT(BPF_JMP | BPF_JA, BPF_MAXINSNS - 6);
	for (unsigned i = 3; i < BPF_MAXINSNS - 3; i++)
		p[i] = (struct nc_cbpf_insn)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, i % 40);
	p[BPF_MAXINSNS - 3] = (struct nc_cbpf_insn)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x800, 0, 1);
	p[BPF_MAXINSNS - 2] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_A, 0);
	p[BPF_MAXINSNS - 1] = (struct nc_cbpf_insn)BPF_STMT(BPF_RET | BPF_K, 1);
	g_assert_true(nc_cbpf_validate(p, BPF_MAXINSNS));
	compile_ok(p, BPF_MAXINSNS, &lay, &c);
	run_fakes("long", p, BPF_MAXINSNS, &c, NC_JIT_MAX_WINDOW, NC_DIR_IN, eth_sets.s[0].fakes,
		  eth_sets.s[0].n, &t, false, true);
	g_assert_cmpuint(t.differed, ==, 0);
	g_assert_cmpuint(t.matched, >, 0);
	g_assert_cmpuint(t.matched, <, t.compared);
	nc_jit_unmap(c.fn, c.len);
	g_free(p);
}

static struct corpus *load_corpus(const char *name)
{
	char err[512];
	g_autofree char *path = g_build_filename(g_getenv("NC_TEST_DATA"), name, NULL);
	struct corpus *c = corpus_load(path, err, sizeof(err));

	if (!c)
		g_error("corpus %s: %s (built by the nc_corpus target)", path, err);
	return c;
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	ml = nc_dpdk_mbuf_layout(NC_DPDK_22_11, true);
	g_assert_nonnull(ml);
	eth = load_corpus("corpus_eth.pcap");
	raw = load_corpus("corpus_raw.pcap");
	g_assert_cmpint(eth->linktype, ==, 1);
	g_assert_cmpint(raw->linktype, ==, 12);
	make_sets(&eth_sets, eth, true);
	make_sets(&raw_sets, raw, false);
	g_test_add_func("/jit/layout-of-a-hook", test_layout_of_a_hook);
	g_test_add_func("/jit/optimized-programs-agree-with-libpcap", test_optimized);
	g_test_add_func("/jit/unoptimized-programs-agree-with-libpcap", test_unoptimized);
	g_test_add_func("/jit/snaplen-64-window", test_small_window);
	g_test_add_func("/jit/protochain-and-window-edges", test_extra);
	g_test_add_func("/jit/edge-cases", test_rows);
	g_test_add_func("/jit/a-and-x-start-at-zero", test_registers_start_at_zero);
	g_test_add_func("/jit/null-mbuf-and-empty-burst", test_null_and_empty);
	g_test_add_func("/jit/flags-test-of-every-width", test_flags_widths);
	g_test_add_func("/jit/slow-path-only-when-needed", test_slow_only_when_needed);
	g_test_add_func("/jit/random-programs-agree-with-libpcap", test_random_programs);
	g_test_add_func("/jit/refusals", test_refusals);
	g_test_add_func("/jit/longest-program", test_long_program);
	g_test_add_func("/jit/a-flipped-jump-is-caught", test_catches_flipped_jump);
	g_test_add_func("/jit/a-wrong-slow-path-is-caught", test_catches_wrong_slow_path);
	g_test_add_func("/jit/general-registers-only", test_gpr_only);
	ret = g_test_run();
	free_sets(&eth_sets);
	free_sets(&raw_sets);
	corpus_free(eth);
	corpus_free(raw);
	return ret;
}
