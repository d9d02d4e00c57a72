/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent (libnetcap-agent.so, dlopened as the injector will) and its client (core/inproc) in
 * one process, against a stand-in for DPDK: an rte_eth_fp_ops array with the 22.11 layout whose
 * burst pointers are this file's functions, and mbufs built with the 22.11 offsets. Checks the
 * bytes of every record against what bpf/mbuf.bpf.c produces (VLAN and QinQ tags re-inserted,
 * segments followed up to 8 and the cut flagged, the snap length), TX records for the accepted
 * packets only and copied before the PMD, a full ring counted, the pointers put back, re-armed
 * after "DPDK" rewrote them, netcap vanishing, a second capture, refusals.
 *
 * NC_AGENT_LIB names the agent (ctest sets it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../agent/nc_agent_abi.h"
#include "corpus.h"
#include "discover/dpdk.h"
#include "filter/cbpf.h"
#include "inproc/client.h"

#define PORTS 4
#define BURST 64

typedef uint16_t (*burst_fn)(void *q, void **pkts, uint16_t n);

static int (*agent_main)(const char *arg);
static void *(*agent_thread_entry)(void *arg); /* nc_agent_thread: detaches itself */

/* ---- a stand-in for DPDK 22.11 ---- */

static uint8_t fp_ops[PORTS][128] __attribute__((aligned(64)));
static uint8_t rxq0, txq0, rxq1;
static void *rxq_data[PORTS][4], *txq_data[PORTS][4];
static const struct nc_mbuf_layout *L;
static const struct nc_fp_ops_layout *F;

static void *rx_next[BURST]; /* what the rx function returns next */
static uint16_t rx_n;
static uint16_t tx_accept = 0xffff; /* packets the tx function takes */
static uint32_t tx_calls, rx_calls, other_calls;

static uint16_t fake_rx(void *q, void **pkts, uint16_t n)
{
	uint16_t k = rx_n < n ? rx_n : n;

	(void)q;
	rx_calls++;
	memcpy(pkts, rx_next, k * sizeof(void *));
	rx_n = 0;
	return k;
}

/* Takes tx_accept packets and "frees" them: their bytes are overwritten */
static uint16_t fake_tx(void *q, void **pkts, uint16_t n)
{
	uint16_t k = tx_accept < n ? tx_accept : n;

	(void)q;
	tx_calls++;
	for (uint16_t i = 0; i < k; i++) {
		uint8_t *m = pkts[i], *buf;
		uint16_t off, len;

		memcpy(&buf, m + L->buf_addr, sizeof(buf));
		memcpy(&off, m + L->data_off, 2);
		memcpy(&len, m + L->data_len, 2);
		memset(buf + off, 0xee, len);
	}
	return k;
}

static uint16_t other_rx(void *q, void **pkts, uint16_t n)
{
	other_calls++;
	return fake_rx(q, pkts, n);
}

static void set_fn(unsigned port, uint16_t off, burst_fn f)
{
	__atomic_store_n((uint64_t *)(fp_ops[port] + off), (uint64_t)(uintptr_t)f,
			 __ATOMIC_SEQ_CST);
}

static burst_fn get_fn(unsigned port, uint16_t off)
{
	return (burst_fn)(uintptr_t)__atomic_load_n((uint64_t *)(fp_ops[port] + off),
						    __ATOMIC_SEQ_CST);
}

static void fake_dpdk(void)
{
	void *p;

	memset(fp_ops, 0, sizeof(fp_ops));
	for (unsigned port = 0; port < PORTS; port++) {
		set_fn(port, F->rx_pkt_burst, fake_rx);
		set_fn(port, F->tx_pkt_burst, fake_tx);
		p = rxq_data[port];
		memcpy(fp_ops[port] + F->rxq_data, &p, sizeof(p));
		p = txq_data[port];
		memcpy(fp_ops[port] + F->txq_data, &p, sizeof(p));
	}
	rxq_data[0][0] = &rxq0;
	rxq_data[0][1] = &rxq1;
	txq_data[0][0] = &txq0;
	tx_accept = 0xffff;
}

/* An mbuf of 22.11 (IOVA in the mbuf: next at 64) holding one segment */
struct mbuf {
	uint8_t hdr[128];
	uint8_t room[2048];
};

static struct mbuf *mbuf_new(const uint8_t *data, uint16_t len)
{
	struct mbuf *m = g_malloc0(sizeof(*m));
	uint8_t *buf = m->room;
	uint16_t off = 128;
	uint32_t pkt = len;
	uint16_t one = 1;

	memcpy(m->hdr + L->buf_addr, &buf, sizeof(buf));
	memcpy(m->hdr + L->data_off, &off, 2);
	memcpy(m->hdr + L->nb_segs, &one, 2);
	memcpy(m->hdr + L->pkt_len, &pkt, 4);
	memcpy(m->hdr + L->data_len, &len, 2);
	memcpy(m->room + off, data, len);
	return m;
}

/* A chain of k segments holding data, split as evenly as nc_fwd --segments does */
static struct mbuf *chain_new(const uint8_t *data, uint16_t len, unsigned k)
{
	uint16_t share = len / k, extra = len % k, off = 0;
	struct mbuf *first = NULL, *prev = NULL;
	uint16_t nb = (uint16_t)k;
	uint32_t pkt = len;

	for (unsigned i = 0; i < k; i++) {
		uint16_t n = share + (i < extra);
		struct mbuf *m = mbuf_new(data + off, n);

		off += n;
		if (prev)
			memcpy(prev->hdr + L->next, &m, sizeof(m));
		else
			first = m;
		prev = m;
	}
	memcpy(first->hdr + L->nb_segs, &nb, 2);
	memcpy(first->hdr + L->pkt_len, &pkt, 4);
	return first;
}

static void mbuf_free(struct mbuf *m)
{
	while (m) {
		struct mbuf *next;

		memcpy(&next, m->hdr + L->next, sizeof(next));
		g_free(m);
		m = next;
	}
}

static void set_vlan(struct mbuf *m, uint64_t flags, uint16_t tci, uint16_t outer)
{
	memcpy(m->hdr + L->ol_flags, &flags, 8);
	memcpy(m->hdr + L->vlan_tci, &tci, 2);
	memcpy(m->hdr + L->vlan_tci_outer, &outer, 2);
}

static void packet(uint8_t *p, uint16_t len, uint8_t seed)
{
	for (uint16_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* ---- the capture ---- */

struct got {
	struct nc_record rec;
	uint8_t data[NC_MAX_SNAPLEN];
};

static GArray *got; /* struct got */

static int on_record(void *ctx, const struct nc_record *rec, const uint8_t *data)
{
	struct got g;

	(void)ctx;
	g.rec = *rec;
	memcpy(g.data, data, rec->cap_len);
	g_array_append_val(got, g);
	return 0;
}

static void *agent_thread(void *arg)
{
	return GINT_TO_POINTER(agent_main(arg));
}

struct run {
	struct nc_inproc *c;
	pthread_t thread;
	char name[128];
	int agent_ret;
	bool joined;
};

static void run_start(struct run *r, struct nc_inproc_opts *o)
{
	char err[256] = "";
	int ret;

	o->pid = getpid();
	o->fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	o->fp_ops_count = PORTS;
	o->fp_ops = *F;
	o->mbuf = *L;
	if (!o->snaplen)
		o->snaplen = NC_MAX_SNAPLEN;
	ret = nc_inproc_open(o, &r->c, err, sizeof(err));
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(ret, ==, 0);
	snprintf(r->name, sizeof(r->name), "%s", nc_inproc_name(r->c));
	g_assert_cmpint(pthread_create(&r->thread, NULL, agent_thread, r->name), ==, 0);
	r->joined = false;
	ret = nc_inproc_accept(r->c, 5000, err, sizeof(err));
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(ret, ==, 0);
	if (got)
		g_array_set_size(got, 0);
	else
		got = g_array_new(FALSE, FALSE, sizeof(struct got));
}

static void run_join(struct run *r)
{
	void *ret;

	g_assert_cmpint(pthread_join(r->thread, &ret), ==, 0);
	r->agent_ret = GPOINTER_TO_INT(ret);
	r->joined = true;
}

static void run_stop(struct run *r)
{
	char err[256] = "";

	g_assert_cmpint(nc_inproc_stop(r->c, 5000, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
	run_join(r);
	g_assert_cmpint(r->agent_ret, ==, 0);
	while (nc_inproc_poll(r->c, on_record, NULL, 0) > 0)
		;
}

/* Is the shared memory mapped in this process (by either side)? */
static unsigned memfd_mappings(void)
{
	g_autofree char *maps = NULL;
	unsigned n = 0;

	g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
	for (char *p = maps; (p = strstr(p, "memfd:netcap-inproc")); p++)
		n++;
	return n;
}

static void rx_burst(unsigned port, void *q, struct mbuf **m, uint16_t n, uint16_t *got_n)
{
	void *pkts[BURST];
	burst_fn f = get_fn(port, F->rx_pkt_burst);

	for (uint16_t i = 0; i < n; i++)
		rx_next[i] = m[i];
	rx_n = n;
	*got_n = f(q, pkts, BURST);
}

static uint16_t tx_burst(unsigned port, void *q, struct mbuf **m, uint16_t n)
{
	burst_fn f = get_fn(port, F->tx_pkt_burst);

	return f(q, (void **)m, n);
}

/* ---- tests ---- */

static void test_rx_bytes(void)
{
	struct nc_inproc_hook h = {.id = 7, .port = 0, .queue = -1};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1};
	uint8_t p[3][300], want[308];
	struct mbuf *m[5];
	struct nc_counters cnt;
	struct run r;
	uint16_t n;

	fake_dpdk();
	packet(p[0], 60, 1);
	packet(p[1], 100, 2);
	packet(p[2], 300, 3);
	m[0] = mbuf_new(p[0], 60);
	m[1] = mbuf_new(p[1], 100); /* a tag stripped into vlan_tci */
	set_vlan(m[1], NC_MBUF_F_RX_VLAN | NC_MBUF_F_RX_VLAN_STRIPPED, 0x0123, 0);
	m[2] = chain_new(p[2], 300, 3);
	m[3] = chain_new(p[2], 300, 12); /* more segments than are followed */
	m[4] = mbuf_new(p[1], 100);	 /* QinQ stripped: two tags */
	set_vlan(m[4], NC_MBUF_F_RX_VLAN_STRIPPED | NC_MBUF_F_RX_QINQ_STRIPPED, 0x0005, 0x0abc);

	run_start(&r, &o);
	g_assert_true(get_fn(0, F->rx_pkt_burst) != fake_rx);
	rx_burst(0, &rxq0, m, 5, &n);
	g_assert_cmpint(n, ==, 5);
	run_stop(&r);
	g_assert_true(get_fn(0, F->rx_pkt_burst) == fake_rx);

	g_assert_cmpuint(got->len, ==, 5);
	for (unsigned i = 0; i < got->len; i++) {
		const struct nc_record *rec = &g_array_index(got, struct got, i).rec;

		g_assert_cmpuint(rec->hook, ==, 7);
		g_assert_cmpuint(rec->port, ==, 0);
		g_assert_cmpuint(rec->queue, ==, 0);
		g_assert_cmpuint(rec->direction, ==, NC_DIR_IN);
		g_assert_cmpuint(rec->pid, ==, (uint32_t)getpid());
		g_assert_cmpuint(rec->tid, ==, (uint32_t)gettid());
		g_assert_cmpuint(rec->object, ==, (uint64_t)(uintptr_t)m[i]);
		g_assert_cmpint(rec->stack_id, ==, NC_USTACK_NONE);
	}
	/* plain */
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.wire_len, ==, 60);
	g_assert_cmpmem(g_array_index(got, struct got, 0).data, 60, p[0], 60);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.flags, ==, 0);
	/* VLAN: 12 address bytes, 81 00 01 23, the rest */
	memcpy(want, p[1], 12);
	memcpy(want + 12, "\x81\x00\x01\x23", 4);
	memcpy(want + 16, p[1] + 12, 88);
	g_assert_cmpuint(g_array_index(got, struct got, 1).rec.wire_len, ==, 104);
	g_assert_cmpmem(g_array_index(got, struct got, 1).data, 104, want, 104);
	g_assert_cmpuint(g_array_index(got, struct got, 1).rec.flags, ==, NC_REC_VLAN_REINSERTED);
	/* three segments */
	g_assert_cmpmem(g_array_index(got, struct got, 2).data,
			g_array_index(got, struct got, 2).rec.cap_len, p[2], 300);
	g_assert_cmpuint(g_array_index(got, struct got, 2).rec.flags, ==, 0);
	/* twelve segments of 25 bytes: eight copied, then cut */
	g_assert_cmpuint(g_array_index(got, struct got, 3).rec.wire_len, ==, 300);
	g_assert_cmpmem(g_array_index(got, struct got, 3).data,
			g_array_index(got, struct got, 3).rec.cap_len, p[2], 200);
	g_assert_cmpuint(g_array_index(got, struct got, 3).rec.flags, ==,
			 NC_REC_SEGS_CUT | NC_REC_TRUNCATED);
	/* QinQ: 88 a8 0a bc, 81 00 00 05 */
	memcpy(want, p[1], 12);
	memcpy(want + 12, "\x88\xa8\x0a\xbc\x81\x00\x00\x05", 8);
	memcpy(want + 20, p[1] + 12, 88);
	g_assert_cmpmem(g_array_index(got, struct got, 4).data,
			g_array_index(got, struct got, 4).rec.cap_len, want, 108);

	g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
	g_assert_cmpuint(cnt.seen, ==, 5);
	g_assert_cmpuint(cnt.matched, ==, 5);
	g_assert_cmpuint(cnt.written, ==, 5);
	g_assert_cmpuint(cnt.ringfull, ==, 0);
	g_assert_cmpuint(nc_inproc_malformed(r.c), ==, 0);
	nc_inproc_close(r.c);
	g_assert_cmpuint(memfd_mappings(), ==, 0);
	for (unsigned i = 0; i < 5; i++)
		mbuf_free(m[i]);
}

static void test_snaplen(void)
{
	struct nc_inproc_hook h = {.id = 1, .port = 0, .queue = 0};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1, .snaplen = 14};
	uint8_t p[100], want[14];
	struct mbuf *m[3];
	struct run r;
	uint16_t n;

	fake_dpdk();
	packet(p, 100, 9);
	m[0] = mbuf_new(p, 100);
	m[1] = mbuf_new(p, 100);
	set_vlan(m[1], NC_MBUF_F_RX_VLAN_STRIPPED, 0x0fff, 0);
	m[2] = mbuf_new(p, 100);
	run_start(&r, &o);
	rx_burst(0, &rxq0, m, 2, &n);
	rx_burst(0, &rxq1, m + 2, 1, &n); /* queue 1: not this hook's */
	run_stop(&r);
	g_assert_cmpuint(got->len, ==, 2);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.cap_len, ==, 14);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.flags, ==, NC_REC_TRUNCATED);
	/* no room for the tag after the 12 address bytes: none is put in, but the wire length and
	 * the flag say it was there (as bpf/mbuf.bpf.c's copy_packet() does) */
	memcpy(want, p, 14);
	g_assert_cmpmem(g_array_index(got, struct got, 1).data, 14, want, 14);
	g_assert_cmpuint(g_array_index(got, struct got, 1).rec.wire_len, ==, 104);
	g_assert_cmpuint(g_array_index(got, struct got, 1).rec.flags, ==,
			 NC_REC_TRUNCATED | NC_REC_VLAN_REINSERTED);
	nc_inproc_close(r.c);
	for (unsigned i = 0; i < 3; i++)
		mbuf_free(m[i]);
}

static void test_tx_accepted(void)
{
	struct nc_inproc_hook h = {.id = 3, .tx = true, .port = 0, .queue = -1};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1};
	uint8_t p[5][80];
	struct mbuf *m[5];
	struct nc_counters cnt;
	struct run r;

	fake_dpdk();
	for (unsigned i = 0; i < 5; i++) {
		packet(p[i], 80, (uint8_t)(40 + i));
		m[i] = mbuf_new(p[i], 80);
	}
	set_vlan(m[1], 1ull << 57, 0x0042, 0); /* TX_VLAN: the NIC is to insert it */
	run_start(&r, &o);
	tx_accept = 3;
	g_assert_cmpint(tx_burst(0, &txq0, m, 5), ==, 3);
	tx_accept = 0xffff;
	g_assert_cmpint(tx_burst(0, &txq0, m + 3, 2), ==, 2); /* the two refused, sent again */
	run_stop(&r);
	g_assert_cmpuint(got->len, ==, 5);
	for (unsigned i = 0; i < 5; i++) {
		const struct got *g = &g_array_index(got, struct got, i);

		g_assert_cmpuint(g->rec.object, ==, (uint64_t)(uintptr_t)m[i]);
		g_assert_cmpuint(g->rec.direction, ==, NC_DIR_OUT);
		if (i == 1) {
			g_assert_cmpuint(g->rec.wire_len, ==, 84);
			g_assert_cmpmem(g->data, 12, p[1], 12);
			g_assert_cmpmem(g->data + 12, 4, "\x81\x00\x00\x42", 4);
			g_assert_cmpmem(g->data + 16, 68, p[1] + 12, 68);
		} else {
			g_assert_cmpmem(g->data, g->rec.cap_len, p[i], 80); /* before the PMD */
		}
	}
	g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
	g_assert_cmpuint(cnt.seen, ==, 5);
	g_assert_cmpuint(cnt.written, ==, 5);
	nc_inproc_close(r.c);
	for (unsigned i = 0; i < 5; i++)
		mbuf_free(m[i]);
}

/* A 64 KiB ring, bursts of 1500-byte packets without reading: drops counted, what was kept is
 * whole, and reading between bursts makes the records wrap around the end */
static void test_ring_full(void)
{
	struct nc_inproc_hook h = {.id = 0, .port = 0, .queue = -1};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1, .ring_bytes = 65536, .slots = 1};
	static uint8_t p[1500];
	struct mbuf *m[32];
	struct nc_counters cnt;
	struct run r;
	uint16_t n;
	uint64_t total = 0;

	fake_dpdk();
	packet(p, 1500, 5);
	for (unsigned i = 0; i < 32; i++)
		m[i] = mbuf_new(p, 1500);
	run_start(&r, &o);
	rx_burst(0, &rxq0, m, 32, &n);
	rx_burst(0, &rxq0, m, 32, &n);
	g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
	g_assert_cmpuint(cnt.seen, ==, 64);
	g_assert_cmpuint(cnt.written, ==, 65536 / (1500 + 40 + 4));
	g_assert_cmpuint(cnt.written + cnt.ringfull, ==, 64);
	total = cnt.written;
	for (unsigned i = 0; i < 20; i++) {
		while (nc_inproc_poll(r.c, on_record, NULL, 0) > 0)
			;
		rx_burst(0, &rxq0, m, 7, &n);
		total += 7;
	}
	run_stop(&r);
	g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
	g_assert_cmpuint(cnt.written, ==, total);
	g_assert_cmpuint(got->len, ==, total);
	for (unsigned i = 0; i < got->len; i++)
		g_assert_cmpmem(g_array_index(got, struct got, i).data, 1500, p, 1500);
	g_assert_cmpuint(nc_inproc_malformed(r.c), ==, 0);
	nc_inproc_close(r.c);
	for (unsigned i = 0; i < 32; i++)
		mbuf_free(m[i]);
}

/* "DPDK" restarts the port (another function in the slot): the agent wraps the new one */
static void test_rearm(void)
{
	struct nc_inproc_hook h[2] = {{.id = 0, .port = 0, .queue = -1},
				      {.id = 1, .port = 1, .tx = true, .queue = -1}};
	struct nc_inproc_opts o = {.hooks = h, .n_hooks = 2, .keep_none = true};
	struct nc_counters cnt;
	uint8_t p[64];
	struct mbuf *m;
	struct run r;
	uint16_t n;

	fake_dpdk();
	packet(p, 64, 0);
	m = mbuf_new(p, 64);
	run_start(&r, &o);
	set_fn(0, F->rx_pkt_burst, other_rx);
	for (int i = 0; i < 100 && get_fn(0, F->rx_pkt_burst) == other_rx; i++)
		g_usleep(10000);
	g_assert_true(get_fn(0, F->rx_pkt_burst) != other_rx);
	other_calls = 0;
	rx_burst(0, &rxq0, &m, 1, &n);
	g_assert_cmpuint(other_calls, ==, 1);
	run_stop(&r);
	g_assert_true(get_fn(0, F->rx_pkt_burst) == other_rx);
	g_assert_true(get_fn(1, F->tx_pkt_burst) == fake_tx);
	g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
	g_assert_cmpuint(cnt.seen, ==, 1);
	g_assert_cmpuint(cnt.matched, ==, 0); /* keep_none */
	g_assert_cmpuint(got->len, ==, 0);
	nc_inproc_close(r.c);
	mbuf_free(m);
}

/* netcap closes everything without a word (as when it is killed): the agent leaves */
static void test_netcap_gone(void)
{
	struct nc_inproc_hook h = {.id = 0, .port = 2, .queue = -1};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1};
	struct run r;

	for (int round = 0; round < 3; round++) {
		fake_dpdk();
		run_start(&r, &o);
		g_assert_true(get_fn(2, F->rx_pkt_burst) != fake_rx);
		nc_inproc_close(r.c);
		run_join(&r);
		g_assert_cmpint(r.agent_ret, ==, 0);
		g_assert_true(get_fn(2, F->rx_pkt_burst) == fake_rx);
		g_assert_cmpuint(memfd_mappings(), ==, 0);
	}
}

/* nc_agent_thread: what the injector starts with pthread_create; it detaches itself */
static void test_thread_entry(void)
{
	struct nc_inproc_hook h = {.id = 0, .port = 1, .queue = -1, .tx = true};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1, .snaplen = 64};
	char err[256] = "";
	struct nc_inproc *c;
	pthread_t t;

	fake_dpdk();
	o.pid = getpid();
	o.fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	o.fp_ops_count = PORTS;
	o.fp_ops = *F;
	o.mbuf = *L;
	g_assert_cmpint(nc_inproc_open(&o, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpint(pthread_create(&t, NULL, agent_thread_entry, (void *)nc_inproc_name(c)), ==,
			0);
	g_assert_cmpint(nc_inproc_accept(c, 5000, err, sizeof(err)), ==, 0);
	g_assert_true(get_fn(1, F->tx_pkt_burst) != fake_tx);
	g_assert_cmpint(nc_inproc_stop(c, 5000, err, sizeof(err)), ==, 0);
	g_assert_true(get_fn(1, F->tx_pkt_burst) == fake_tx);
	nc_inproc_close(c);
	g_assert_cmpuint(memfd_mappings(), ==, 0);
	/* the agent is free for the next capture once its thread has returned */
	for (int i = 0; i < 100 && agent_main("netcap-inproc.nobody-listens") == -EBUSY; i++)
		g_usleep(10000);
	g_assert_cmpint(agent_main("netcap-inproc.nobody-listens"), ==, -ECONNREFUSED);
}

static void test_refused(void)
{
	struct nc_inproc_hook h = {.id = 0, .port = 3, .queue = -1};
	struct nc_inproc_opts o = {.hooks = &h, .n_hooks = 1, .snaplen = 64};
	char err[256] = "";
	struct nc_inproc *c;
	pthread_t t;
	void *ret;

	fake_dpdk();
	set_fn(3, F->rx_pkt_burst, NULL); /* a port never set up */
	o.pid = getpid();
	o.fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	o.fp_ops_count = PORTS;
	o.fp_ops = *F;
	o.mbuf = *L;
	g_assert_cmpint(nc_inproc_open(&o, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpint(pthread_create(&t, NULL, agent_thread, (void *)nc_inproc_name(c)), ==, 0);
	g_assert_cmpint(nc_inproc_accept(c, 5000, err, sizeof(err)), ==, -ENOTSUP);
	g_assert_nonnull(strstr(err, "rx_pkt_burst of port 3 is 0"));
	pthread_join(t, &ret);
	nc_inproc_close(c);
	g_assert_cmpuint(memfd_mappings(), ==, 0);
	g_assert_true(get_fn(3, F->rx_pkt_burst) == NULL);

	/* rte_eth_fp_ops somewhere unmapped */
	o.fp_ops_addr = 4096;
	g_assert_cmpint(nc_inproc_open(&o, &c, err, sizeof(err)), ==, 0);
	g_assert_cmpint(pthread_create(&t, NULL, agent_thread, (void *)nc_inproc_name(c)), ==, 0);
	g_assert_cmpint(nc_inproc_accept(c, 5000, err, sizeof(err)), ==, -EFAULT);
	g_assert_nonnull(strstr(err, "is not writable memory of process"));
	pthread_join(t, &ret);
	nc_inproc_close(c);

	/* no netcap listening: the agent returns at once */
	g_assert_cmpint(agent_main("netcap-inproc.nobody-listens"), ==, -ECONNREFUSED);
	g_assert_cmpint(agent_main(""), ==, -EINVAL);
	g_assert_cmpint(agent_main(NULL), ==, -EINVAL);

	/* options the client refuses itself */
	o.fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	o.ring_bytes = 100000;
	g_assert_cmpint(nc_inproc_open(&o, &c, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==, "ring size 100000: a power of two from 64 KiB to 1 GiB");
}

/* ---- the agent against a hand-made netcap side: what it refuses ---- */

enum mutation {
	M_NONE,
	M_VERSION,
	M_UNSEALED,
	M_SIZE,
	M_MBUF_OFFSET,
	M_FP_LAYOUT,
	M_SAME_PORT,
	M_RING_SIZE,
	M_RINGS_PAST_END,
	M_SNAPLEN,
	M_FILTER,
};

/*
 * Plays netcap by hand (agent/nc_agent_abi.h), with one thing wrong, and returns the agent's
 * READY status; its text in text. The agent thread has returned and left nothing mapped.
 */
static int raw_session(enum mutation m, char *text, size_t len)
{
	struct nc_agent_config cfg = {0};
	struct nc_agent_region *r;
	struct nc_agent_msg h = {.magic = NC_AGENT_MAGIC, .version = NC_AGENT_VERSION};
	struct nc_agent_hello hello;
	struct nc_agent_status st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char name[64];
	size_t ring = 65536, bytes = 4096 + 2 * (sizeof(struct nc_agent_ring) + ring);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	struct iovec iov[2] = {{&h, sizeof(h)}, {&cfg, sizeof(cfg)}};
	struct msghdr mh = {
	    .msg_iov = iov, .msg_iovlen = 2, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	int lfd, fd, memfd;
	pthread_t t;
	void *ret;

	snprintf(name, sizeof(name), "nc-test-agent-raw.%d", (int)getpid());
	memcpy(sa.sun_path + 1, name, strlen(name));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_cmpint(
	    bind(lfd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
	    ==, 0);
	g_assert_cmpint(listen(lfd, 1), ==, 0);
	g_assert_cmpint(pthread_create(&t, NULL, agent_thread, name), ==, 0);
	fd = accept(lfd, NULL, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(read(fd, &h, sizeof(h)), ==, sizeof(h));
	g_assert_cmpint(read(fd, &hello, sizeof(hello)), ==, sizeof(hello));
	g_assert_cmpuint(hello.pid, ==, (uint32_t)getpid());

	memfd = memfd_create("netcap-inproc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	g_assert_cmpint(ftruncate(memfd, (off_t)bytes), ==, 0);
	if (m != M_UNSEALED)
		g_assert_cmpint(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), ==, 0);
	r = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	g_assert_true(r != MAP_FAILED);
	*r = (struct nc_agent_region){.magic = NC_AGENT_MAGIC,
				      .version = NC_AGENT_VERSION,
				      .n_hooks = 2,
				      .n_slots = 1,
				      .ring_bytes = ring,
				      .ring_stride = sizeof(struct nc_agent_ring) + ring,
				      .rings_off = 4096};
	cfg.fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	cfg.fp_ops_count = PORTS;
	cfg.netcap_pid = (uint32_t)getpid();
	cfg.fp_ops = (struct nc_agent_fp_ops_layout){.rx_pkt_burst = F->rx_pkt_burst,
						     .rxq_data = F->rxq_data,
						     .tx_pkt_burst = F->tx_pkt_burst,
						     .txq_data = F->txq_data,
						     .size = F->size};
	memcpy(&cfg.mbuf, L, sizeof(cfg.mbuf));
	cfg.snaplen = 64;
	cfg.n_hooks = 2;
	cfg.region_bytes = bytes;
	cfg.hooks[0] = (struct nc_agent_hook){
	    .id = 0, .kind = NC_AGENT_RX, .direction = 1, .port = 0, .queue = NC_AGENT_QUEUE_ANY};
	cfg.hooks[1] = (struct nc_agent_hook){
	    .id = 1, .kind = NC_AGENT_TX, .direction = 2, .port = 1, .queue = NC_AGENT_QUEUE_ANY};
	switch (m) {
	case M_NONE:
	case M_UNSEALED: break;
	case M_VERSION: h.version = NC_AGENT_VERSION + 1; break;
	case M_SIZE: cfg.region_bytes = bytes * 2; break;
	case M_MBUF_OFFSET: cfg.mbuf.next = 124; break;
	case M_FP_LAYOUT: cfg.fp_ops.tx_pkt_burst = 124; break;
	case M_SAME_PORT: cfg.hooks[1].kind = NC_AGENT_RX, cfg.hooks[1].port = 0; break;
	case M_RING_SIZE: r->ring_bytes = ring - 8; break;
	case M_RINGS_PAST_END: r->n_slots = 2; break;
	case M_SNAPLEN: cfg.snaplen = NC_MAX_SNAPLEN + 1; break;
	case M_FILTER: cfg.filter = 77; break;
	}
	h.type = NC_AGENT_CONFIG;
	h.len = sizeof(cfg);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
	g_assert_cmpint(sendmsg(fd, &mh, 0), ==, sizeof(h) + sizeof(cfg));
	g_assert_cmpint(read(fd, &h, sizeof(h)), ==, sizeof(h));
	g_assert_cmpuint(h.type, ==, NC_AGENT_READY);
	g_assert_cmpint(read(fd, &st, sizeof(st)), ==, sizeof(st));
	snprintf(text, len, "%s", st.text);
	close(fd); /* gone without STOP: the agent leaves */
	pthread_join(t, &ret);
	close(lfd);
	munmap(r, bytes);
	close(memfd);
	g_assert_true(get_fn(0, F->rx_pkt_burst) == fake_rx);
	g_assert_true(get_fn(1, F->tx_pkt_burst) == fake_tx);
	g_assert_cmpuint(memfd_mappings(), ==, 0);
	return st.status;
}

static void test_refused_raw(void)
{
	static const struct {
		enum mutation m;
		int status;
		const char *text;
	} cases[] = {
	    {M_NONE, 0, ""},
	    {M_VERSION, -EPROTO, "configuration of another protocol"},
	    {M_UNSEALED, -EPERM, "not sealed against shrinking"},
	    {M_SIZE, -EINVAL, "shared memory of"},
	    {M_MBUF_OFFSET, -EINVAL, "mbuf field 9 at offset 124: past the header"},
	    {M_FP_LAYOUT, -EINVAL, "bad rte_eth_fp_ops layout"},
	    {M_SAME_PORT, -EINVAL, "hooks 0 and 1: the same port"},
	    {M_RING_SIZE, -EINVAL, "bad shared memory header"},
	    {M_RINGS_PAST_END, -EINVAL, "the rings do not fit in the shared memory"},
	    {M_SNAPLEN, -EINVAL, "snap length 16385: 1 to 16384"},
	    {M_FILTER, -ENOTSUP, "filter kind 77 not known to this agent"},
	};

	fake_dpdk();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char text[NC_AGENT_TEXT];
		int status = raw_session(cases[i].m, text, sizeof(text));

		if (status != cases[i].status)
			g_error("case %zu: status %d (\"%s\"), want %d", i, status, text,
				cases[i].status);
		if (!*cases[i].text)
			g_assert_cmpstr(text, ==, "");
		else if (!strstr(text, cases[i].text))
			g_error("case %zu: \"%s\" does not say \"%s\"", i, text, cases[i].text);
	}
}

/* ---- the client against a hand-made agent: what it does not trust ---- */

struct fake_agent {
	int fd, memfd;
	struct nc_agent_config cfg;
	struct nc_agent_region *r;
};

/* Connects to the client's socket as an agent would and takes its configuration */
static void *fake_agent_run(void *arg)
{
	struct fake_agent *a = arg;
	struct nc_agent_msg h = {.magic = NC_AGENT_MAGIC, .version = NC_AGENT_VERSION};
	struct nc_agent_hello hello = {.pid = (uint32_t)getpid()};
	struct nc_agent_status st = {0};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct stat sb;

	h.type = NC_AGENT_HELLO;
	h.len = sizeof(hello);
	g_assert_cmpint(write(a->fd, &h, sizeof(h)), ==, sizeof(h));
	g_assert_cmpint(write(a->fd, &hello, sizeof(hello)), ==, sizeof(hello));
	g_assert_cmpint(recvmsg(a->fd, &mh, MSG_WAITALL), ==, sizeof(h));
	memcpy(&a->memfd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	g_assert_cmpint(read(a->fd, &a->cfg, sizeof(a->cfg)), ==, sizeof(a->cfg));
	g_assert_cmpint(fstat(a->memfd, &sb), ==, 0);
	a->r = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, a->memfd, 0);
	g_assert_true(a->r != MAP_FAILED);
	h.type = NC_AGENT_READY;
	h.len = sizeof(st);
	g_assert_cmpint(write(a->fd, &h, sizeof(h)), ==, sizeof(h));
	g_assert_cmpint(write(a->fd, &st, sizeof(st)), ==, sizeof(st));
	return NULL;
}

/* A client opened with o (the fake DPDK's layouts filled in), a fake agent connected to it and
 * configured */
static struct nc_inproc *fake_connect(struct nc_inproc_opts *o, struct fake_agent *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct nc_inproc *c;
	char err[256] = "";
	pthread_t t;

	o->pid = getpid();
	o->fp_ops_addr = (uint64_t)(uintptr_t)fp_ops;
	o->fp_ops_count = PORTS;
	o->fp_ops = *F;
	o->mbuf = *L;
	g_assert_cmpint(nc_inproc_open(o, &c, err, sizeof(err)), ==, 0);
	memcpy(sa.sun_path + 1, nc_inproc_name(c), strlen(nc_inproc_name(c)));
	a->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_cmpint(connect(a->fd, (struct sockaddr *)&sa,
				(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
					    strlen(nc_inproc_name(c)))),
			==, 0);
	g_assert_cmpint(pthread_create(&t, NULL, fake_agent_run, a), ==, 0);
	g_assert_cmpint(nc_inproc_accept(c, 5000, err, sizeof(err)), ==, 0);
	pthread_join(t, NULL);
	return c;
}

/* Writes a ring (hook 0, slot 0) as a broken agent might, then publishes head */
static void fake_records(struct fake_agent *a, const void *bytes, size_t len, uint64_t head)
{
	struct nc_agent_ring *ring = (void *)((uint8_t *)a->r + a->r->rings_off);

	memcpy(ring + 1, bytes, len);
	__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
}

static void test_client_distrusts(void)
{
	struct nc_inproc_hook h = {.id = 5, .port = 0, .queue = -1};
	struct nc_inproc_opts o = {
	    .hooks = &h, .n_hooks = 1, .snaplen = 64, .slots = 1, .ring_bytes = 65536};
	struct fake_agent a = {.memfd = -1};
	struct nc_inproc *c;
	char err[256] = "";
	struct {
		struct nc_agent_record rec;
		uint8_t data[64];
	} good = {.rec = {.size = sizeof(good),
			  .kind = NC_AGENT_REC_PACKET,
			  .cap_len = 64,
			  .wire_len = 100,
			  .mbuf = 0x1234}},
	  bad;

	memset(good.data, 0xab, sizeof(good.data));
	c = fake_connect(&o, &a);
	g_assert_cmpuint(a.cfg.hooks[0].id, ==, 5);
	g_assert_cmpuint(a.cfg.snaplen, ==, 64);
	if (got)
		g_array_set_size(got, 0);
	else
		got = g_array_new(FALSE, FALSE, sizeof(struct got));

	/* a good record is delivered */
	fake_records(&a, &good, sizeof(good), sizeof(good));
	g_assert_cmpint(nc_inproc_poll(c, on_record, NULL, 0), ==, 1);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.object, ==, 0x1234);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.hook, ==, 5);
	g_assert_cmpuint(g_array_index(got, struct got, 0).rec.wire_len, ==, 100);
	/* cap_len past the snap length, a size that does not match, a kind unknown, a head that
	 * runs past the ring, a stack record in a capture without -S: each counted, nothing
	 * delivered, the ring skipped to its head */
	for (int i = 0; i < 5; i++) {
		uint64_t at = (i + 1) * sizeof(good), head = at + sizeof(bad);
		struct nc_agent_ring *ring = (void *)((uint8_t *)a.r + a.r->rings_off);

		bad = good;
		if (i == 0)
			bad.rec.cap_len = 65;
		else if (i == 1)
			bad.rec.size = 8;
		else if (i == 2)
			bad.rec.kind = 9;
		else if (i == 3)
			head = at + 65536 + 8;
		else
			bad.rec = (struct nc_agent_record){
			    .size = 16, .kind = NC_AGENT_REC_STACK, .flags = 1}; /* its n */
		if (i == 4) { /* the head past the ring's end was not taken: where i == 3 wrote */
			at = 4 * sizeof(good);
			head = at + 16;
		}
		memcpy((uint8_t *)(ring + 1) + at, &bad, sizeof(bad));
		__atomic_store_n(&ring->head, head, __ATOMIC_RELEASE);
		g_assert_cmpint(nc_inproc_poll(c, on_record, NULL, 0), ==, 0);
		g_assert_cmpuint(nc_inproc_malformed(c), ==, (uint64_t)i + 1);
		g_assert_cmpuint(got->len, ==, 1);
		if (i != 3) /* skipped to the head */
			g_assert_cmpuint(__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE), ==, head);
	}
	/* the agent goes away: seen, and stop says it had already left */
	close(a.fd);
	for (int i = 0; i < 100 && !nc_inproc_gone(c); i++)
		g_usleep(10000);
	g_assert_true(nc_inproc_gone(c));
	g_assert_cmpint(nc_inproc_stop(c, 1000, err, sizeof(err)), ==, -EPIPE);
	nc_inproc_close(c);
	munmap(a.r, a.cfg.region_bytes);
	close(a.memfd);
}

/*
 * -S: stack records from a hand-made agent. Each names the stack of the packet records after it
 * in its ring, frame 0 the hook's frame0 put before the agent's frames; the same frames the same
 * id; n 0 no stack; a record with more than NC_AGENT_STACK_DEPTH frames or a size that does not
 * match is counted as malformed and its ring skipped; without -S a stack record is malformed
 */
static void test_client_stacks(void)
{
	struct nc_inproc_hook h = {.id = 3, .port = 0, .queue = -1, .frame0 = 0xf000};
	struct nc_inproc_opts o = {.hooks = &h,
				   .n_hooks = 1,
				   .snaplen = 64,
				   .slots = 1,
				   .ring_bytes = 65536,
				   .stacks = true};
	struct fake_agent a = {.memfd = -1};
	struct nc_inproc *c;
	struct {
		struct nc_agent_record rec;
		uint8_t data[64];
	} pkt = {.rec = {.size = sizeof(pkt),
			 .kind = NC_AGENT_REC_PACKET,
			 .cap_len = 64,
			 .wire_len = 64,
			 .mbuf = 0x1234}};
	struct {
		struct nc_agent_stack st;
		uint64_t ips[NC_AGENT_STACK_DEPTH + 1];
	} st = {0};
	uint8_t buf[4096];
	uint64_t ips[NC_USTACK_DEPTH];
	struct nc_agent_ring *ring;
	size_t n = 0;
	int32_t id;

	c = fake_connect(&o, &a);
	g_assert_cmpuint(a.cfg.flags, ==, NC_AGENT_CFG_STACKS);
	if (got)
		g_array_set_size(got, 0);
	else
		got = g_array_new(FALSE, FALSE, sizeof(struct got));

		/* stack {a1, a2}, 2 packets; the same stack again, 1 packet; no stack (n 0), 1
		 * packet; stack {b1}, 1 packet */
#define PUT(x, len) (memcpy(buf + n, (x), (len)), n += (len))
#define STACK(k, ...)                                                                              \
	do {                                                                                       \
		const uint64_t v_[] = {__VA_ARGS__};                                               \
		st.st = (struct nc_agent_stack){                                                   \
		    .size = (uint32_t)(8 + 8 * (k)), .kind = NC_AGENT_REC_STACK, .n = (k)};        \
		memcpy(st.ips, v_, 8 * (k));                                                       \
		PUT(&st, 8 + 8 * (k));                                                             \
	} while (0)
	STACK(2, 0xa1, 0xa2);
	PUT(&pkt, sizeof(pkt));
	PUT(&pkt, sizeof(pkt));
	STACK(2, 0xa1, 0xa2);
	PUT(&pkt, sizeof(pkt));
	STACK(0, 0);
	PUT(&pkt, sizeof(pkt));
	STACK(1, 0xb1);
	PUT(&pkt, sizeof(pkt));
	fake_records(&a, buf, n, n);
	g_assert_cmpint(nc_inproc_poll(c, on_record, NULL, 0), ==, 5);
	g_assert_cmpuint(nc_inproc_malformed(c), ==, 0);
	id = g_array_index(got, struct got, 0).rec.stack_id;
	g_assert_cmpint(id, >=, 0);
	g_assert_cmpint(g_array_index(got, struct got, 1).rec.stack_id, ==, id);
	g_assert_cmpint(g_array_index(got, struct got, 2).rec.stack_id, ==, id);
	g_assert_cmpint(g_array_index(got, struct got, 3).rec.stack_id, ==, NC_USTACK_NONE);
	g_assert_cmpint(g_array_index(got, struct got, 4).rec.stack_id, !=, id);
	g_assert_cmpint(nc_inproc_stack(c, id, ips), ==, 3);
	g_assert_cmpuint(ips[0], ==, 0xf000);
	g_assert_cmpuint(ips[1], ==, 0xa1);
	g_assert_cmpuint(ips[2], ==, 0xa2);
	g_assert_cmpint(nc_inproc_stack(c, g_array_index(got, struct got, 4).rec.stack_id, ips), ==,
			2);
	g_assert_cmpuint(ips[1], ==, 0xb1);
	g_assert_cmpint(nc_inproc_stack(c, NC_USTACK_NONE, ips), ==, -ENOENT);
	g_assert_cmpint(nc_inproc_stack(c, NC_USTACK_FULL, ips), ==, -ENOSPC);
	g_assert_cmpint(nc_inproc_stack(c, id + 2, ips), ==, -ENOENT);

	/* 32 frames; a size that does not say 8 + 8 n: each malformed, the packet not delivered */
	ring = (struct nc_agent_ring *)((uint8_t *)a.r + a.r->rings_off);
	for (int i = 0; i < 2; i++) {
		size_t at = n;

		st.st =
		    (struct nc_agent_stack){.size = (uint32_t)(8 + 8 * (NC_AGENT_STACK_DEPTH + 1)),
					    .kind = NC_AGENT_REC_STACK,
					    .n = NC_AGENT_STACK_DEPTH + 1};
		if (i)
			st.st.n = 2;
		PUT(&st, st.st.size);
		PUT(&pkt, sizeof(pkt));
		memcpy((uint8_t *)(ring + 1) + at, buf + at, n - at);
		__atomic_store_n(&ring->head, n, __ATOMIC_RELEASE);
		g_assert_cmpint(nc_inproc_poll(c, on_record, NULL, 0), ==, 0);
		g_assert_cmpuint(nc_inproc_malformed(c), ==, (uint64_t)i + 1);
		g_assert_cmpuint(got->len, ==, 5);
	}
#undef STACK
#undef PUT
	close(a.fd);
	nc_inproc_close(c);
	munmap(a.r, a.cfg.region_bytes);
	close(a.memfd);
}

/* ---- the compiled filter (core/jit) in the agent, against libpcap's verdicts ---- */

/* How a corpus packet is handed to the hook */
enum shape {
	SHAPE_PLAIN,   /* one segment */
	SHAPE_CHAIN,   /* three segments: the filter's reads past the first go to the slow path */
	SHAPE_STRIPPED /* an 802.1Q tag taken out into vlan_tci (RX stripped / TX to insert) */
};

/* The mbuf of packet p in shape sh for direction tx; NULL if the shape does not apply */
static struct mbuf *shaped(const struct corpus_pkt *p, enum shape sh, bool tx)
{
	struct mbuf *m;
	uint8_t buf[2048];

	if (sh == SHAPE_CHAIN)
		return p->caplen >= 3 ? chain_new(p->data, (uint16_t)p->caplen, 3) : NULL;
	if (sh == SHAPE_PLAIN)
		return mbuf_new(p->data, (uint16_t)p->caplen);
	if (p->caplen < 18 || p->data[12] != 0x81 || p->data[13] != 0x00)
		return NULL;
	memcpy(buf, p->data, 12);
	memcpy(buf + 12, p->data + 16, p->caplen - 16);
	m = mbuf_new(buf, (uint16_t)(p->caplen - 4));
	set_vlan(m, tx ? 1ull << 57 : NC_MBUF_F_RX_VLAN | NC_MBUF_F_RX_VLAN_STRIPPED,
		 (uint16_t)(p->data[14] << 8 | p->data[15]), 0);
	return m;
}

static void test_compiled_filter(void)
{
	static const char *const exprs[] = {"tcp",
					    "udp port 53",
					    "ip6",
					    "vlan",
					    "vlan and tcp",
					    "len > 100",
					    "tcp[13] & 2 != 0",
					    "ether[12:2] = 0x8100",
					    "not ip and not ip6",
					    "ip[8] > 63"};
	const char *dir = g_getenv("NC_TEST_DATA");
	g_autofree char *path = g_build_filename(dir ? dir : ".", "corpus_eth.pcap", NULL);
	char err[512] = "";
	struct corpus *cp = corpus_load(path, err, sizeof(err));
	unsigned checked = 0, kept_total = 0, slow_shapes = 0;

	if (!cp) {
		g_test_skip(err);
		return;
	}
	fake_dpdk();
	for (size_t e = 0; e < G_N_ELEMENTS(exprs); e++) {
		struct nc_cbpf_insn *prog = NULL;
		unsigned len = 0;

		g_assert_cmpint(nc_cbpf_compile(exprs[e], NC_LINK_L2, NC_MAX_SNAPLEN, 1, &prog,
						&len, err, sizeof(err)),
				==, 0);
		for (int tx = 0; tx < 2; tx++) {
			for (int sh = SHAPE_PLAIN; sh <= SHAPE_STRIPPED; sh++) {
				struct nc_inproc_hook h = {
				    .id = 0, .port = 0, .queue = -1, .tx = tx};
				struct nc_inproc_opts o = {
				    .hooks = &h, .n_hooks = 1, .filter = prog, .filter_len = len};
				GPtrArray *ms = g_ptr_array_new();
				GHashTable *want = g_hash_table_new(NULL, NULL);
				struct nc_counters cnt;
				struct run r;

				for (unsigned i = 0; i < cp->n; i++) {
					const struct corpus_pkt *p = &cp->pkts[i];
					struct mbuf *m;

					if (p->caplen != p->wirelen || p->caplen > 2000)
						continue;
					m = shaped(p, (enum shape)sh, tx);
					if (!m)
						continue;
					g_ptr_array_add(ms, m);
					if (nc_cbpf_run(prog, p->data, p->wirelen,
							p->caplen < 512 ? p->caplen : 512))
						g_hash_table_add(want, m);
				}
				run_start(&r, &o);
				for (unsigned i = 0; i < ms->len; i += 32) {
					uint16_t n = ms->len - i < 32 ? (uint16_t)(ms->len - i)
								      : 32,
						 got_n;

					if (tx)
						g_assert_cmpint(
						    tx_burst(0, &txq0,
							     (struct mbuf **)ms->pdata + i, n),
						    ==, n);
					else
						rx_burst(0, &rxq0, (struct mbuf **)ms->pdata + i, n,
							 &got_n);
				}
				run_stop(&r);
				g_assert_cmpint(nc_inproc_counters(r.c, 0, &cnt), ==, 0);
				g_assert_cmpuint(cnt.seen, ==, ms->len);
				if (cnt.matched != g_hash_table_size(want) ||
				    got->len != cnt.matched)
					g_error(
					    "\"%s\" %s shape %d: %llu matched, %u records, libpcap "
					    "keeps %u",
					    exprs[e], tx ? "tx" : "rx", sh,
					    (unsigned long long)cnt.matched, got->len,
					    g_hash_table_size(want));
				for (unsigned i = 0; i < got->len; i++) {
					void *m =
					    (void *)(uintptr_t)g_array_index(got, struct got, i)
						.rec.object;

					if (!g_hash_table_contains(want, m))
						g_error("\"%s\": a packet libpcap does not keep",
							exprs[e]);
				}
				checked += ms->len;
				kept_total += got->len;
				slow_shapes += sh != SHAPE_PLAIN;
				nc_inproc_close(r.c);
				for (unsigned i = 0; i < ms->len; i++)
					mbuf_free(ms->pdata[i]);
				g_ptr_array_free(ms, TRUE);
				g_hash_table_destroy(want);
			}
		}
		free(prog);
	}
	g_assert_cmpuint(kept_total, >, 0);
	g_assert_cmpuint(kept_total, <, checked);
	g_test_message("%u verdicts checked, %u kept", checked, kept_total);
	corpus_free(cp);
}

int main(int argc, char **argv)
{
	const char *lib = g_getenv("NC_AGENT_LIB");
	void *h;

	g_test_init(&argc, &argv, NULL);
	L = nc_dpdk_mbuf_layout(NC_DPDK_22_11, true);
	F = nc_dpdk_fp_ops_layout(NC_DPDK_22_11);
	h = lib ? dlopen(lib, RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!h) {
		g_printerr("cannot load the agent (NC_AGENT_LIB=%s): %s\n", lib ? lib : "unset",
			   lib ? dlerror() : "");
		return 1;
	}
	agent_main = (int (*)(const char *))dlsym(h, "nc_agent_main");
	g_assert_nonnull(agent_main);
	agent_thread_entry = (void *(*)(void *))dlsym(h, "nc_agent_thread");
	g_assert_nonnull(agent_thread_entry);
	g_test_add_func("/agent/rx-bytes-vlan-segments", test_rx_bytes);
	g_test_add_func("/agent/snaplen-and-queue", test_snaplen);
	g_test_add_func("/agent/tx-accepted-only-copied-before", test_tx_accepted);
	g_test_add_func("/agent/ring-full-counted-and-wrap", test_ring_full);
	g_test_add_func("/agent/rearm-after-port-restart", test_rearm);
	g_test_add_func("/agent/netcap-gone-leaves", test_netcap_gone);
	g_test_add_func("/agent/thread-entry", test_thread_entry);
	g_test_add_func("/agent/refused", test_refused);
	g_test_add_func("/agent/refused-configurations", test_refused_raw);
	g_test_add_func("/agent/client-distrusts-the-rings", test_client_distrusts);
	g_test_add_func("/agent/client-stack-records", test_client_stacks);
	g_test_add_func("/agent/compiled-filter-as-libpcap", test_compiled_filter);
	return g_test_run();
}
