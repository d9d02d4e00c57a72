/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nc_fwd: the DPDK forwarder that netcap's integration tests capture from.
 *
 *   nc_fwd EAL-ARGS... -- [--ready-file PATH] [--go-file PATH] [--count N] [--idle-exit MS]
 *                         [--segments K] [--strip-vlan] [--garbage] [--idle-sleep US] [--stats]
 *                         [--rate PPS] [--run-ms MS] [--pdump] [--lcores N]
 *
 * One lcore polls every started port p: fwd_rx(p) receives a burst of up to 32 mbufs, the burst
 * is optionally reshaped (VLAN tag stripped as a NIC's offload would, data split into a chain of
 * K segments), handed to fwd_burst() and to fwd_one() per packet, restored to its received bytes
 * and sent on peer(p) (p ^ 1 with two or more ports, else p itself). With net_pcap
 * (--vdev 'net_pcap0,rx_pcap=IN,tx_pcap=OUT') the tx file then holds the bytes of the rx file.
 *
 * --lcores N: N lcores forward instead (EAL -l with N lcores or more; the main lcore is the first
 * of them), the ports split into N groups of consecutive ports, each polled by one lcore and
 * forwarded within the group (p ^ 1 with two ports in it, else p itself), --count and --rate per
 * lcore. Each burst goes to fwd_burst() and each packet to fwd_one() and to fwd_csum(), a static
 * function, as they came (no --segments or --strip-vlan, no USDT probe), whose hashes of the
 * packets forwarded add up to the checksum that --stats prints (the sum is the same in any order,
 * so the same input gives the same checksum whichever lcore forwarded what, and whatever a hook
 * does).
 *
 * fwd_rx, fwd_burst and fwd_one are the functions netcap's tests hook with uprobes: they stay out
 * of line and keep their arguments in the ABI registers (rdi, rsi, rdx on x86-64).
 *
 * Exit status: 0 after --count, --idle-exit, SIGINT or SIGTERM (ports stopped and closed, so
 * net_pcap's tx file is complete); 1 on a DPDK error; 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* rte_mbuf_check() is experimental in DPDK 20.11 (stable since 21.11) */
#define ALLOW_EXPERIMENTAL_API 1

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pdump.h>
#include <rte_version.h>

/* DPDK 20.11 names of what 21.11 renamed (the fixture builds against 20.11, 22.11 and 24.11) */
#if RTE_VERSION < RTE_VERSION_NUM(21, 11, 0, 0)
#define RTE_ETH_TX_OFFLOAD_MULTI_SEGS DEV_TX_OFFLOAD_MULTI_SEGS
#define RTE_MBUF_F_RX_VLAN	      PKT_RX_VLAN
#define RTE_MBUF_F_RX_VLAN_STRIPPED   PKT_RX_VLAN_STRIPPED
#endif

/* USDT probes (systemtap's sys/sdt.h), with semaphores: netcap's tests hook them as
 * usdt:nc_fwd:burst@1@2 and usdt:nc_fwd:one@1; "one" fires only while a tracer holds its
 * semaphore, so a capture through it also shows that netcap raised the semaphore. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short nc_fwd_burst_semaphore __attribute__((unused, section(".probes")));
unsigned short nc_fwd_one_semaphore __attribute__((unused, section(".probes")));

#define BURST	     32
#define POOL_MBUFS   4095 /* fits in --no-huge -m 256 */
#define POOL_CACHE   64
#define RING_SIZE    1024
#define MAX_SEGMENTS 16	       /* more than netcap follows (8), to see its cut */
#define GO_POLL_NS   10000000L /* --go-file is checked every 10 ms */

/*
 * Hook points: out of line, externally visible, never cloned or specialised (a GCC
 * "fwd_rx.constprop.0" clone would take the calls and leave the uprobe on fwd_rx silent).
 */
#if defined(__clang__)
#define NC_HOOK __attribute__((noinline, used))
#else
#define NC_HOOK __attribute__((noinline, noipa, used))
#endif

uint16_t fwd_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n);
void fwd_burst(struct rte_mbuf **pkts, uint16_t n);
void fwd_one(struct rte_mbuf *m);

static volatile sig_atomic_t quit;
static volatile sig_atomic_t unpaced; /* SIGUSR1: --rate no longer applies */

static struct {
	const char *ready_file;
	const char *go_file;
	uint64_t count;	       /* 0: forward until a signal */
	uint64_t idle_exit_ms; /* 0: off */
	uint64_t idle_sleep_us;
	unsigned segments;
	bool garbage;
	bool strip_vlan;
	bool stats;
	uint64_t rate;	 /* packets per second received at most; 0: as fast as the ports give */
	uint64_t run_ms; /* stop receiving MS ms after the go (idle until a signal); 0: off */
	bool pdump;	 /* rte_pdump_init(): dpdk-dumpcap can capture (needs hugepages) */
	unsigned lcores; /* 0: the main lcore polls every port, no checksum */
} opt = {.segments = 1};

struct fwd_stats {
	uint64_t rx, tx, dropped;
	uint64_t burst_bytes, one_bytes; /* what fwd_burst and fwd_one saw */
	uint64_t bad_chains;		 /* segments not adding up to pkt_len (fwd_one) */
	uint64_t seg_failed;		 /* no mbufs to build a chain: sent unsegmented */
	uint64_t vlan_stripped;
	uint64_t chained;   /* packets turned into chains by --segments */
	uint64_t inspected; /* fwd_inspect calls (--garbage) */
	uint64_t csum;	    /* the sum of fwd_csum()'s hashes (--lcores) */
	bool done;	    /* this lcore reached --count or --idle-exit */
};

/* one per forwarding lcore (the first also the main thread's before and after forwarding); st is
 * the calling thread's */
static struct fwd_stats stats[RTE_MAX_LCORE];
static __thread struct fwd_stats *st = &stats[0];

static struct rte_mempool *pool;

/* netcap's tests hook this as "fwd_rx@2@ret": the mbuf array is argument 2, the count the
 * return value. rte_eth_rx_burst itself is inline and cannot be hooked. */
NC_HOOK uint16_t fwd_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(port, 0, pkts, n);
}

/* netcap's tests hook this as "fwd_burst@1@2": array = argument 1, count = argument 2. */
NC_HOOK void fwd_burst(struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	st->burst_bytes += bytes;
}

/* netcap's tests hook this as "fwd_one@1": one mbuf (possibly a chain) per call. */
NC_HOOK void fwd_one(struct rte_mbuf *m)
{
	uint64_t bytes = 0;
	unsigned segs = 0;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		bytes += rte_pktmbuf_data_len(s);
		segs++;
	}
	if (bytes != rte_pktmbuf_pkt_len(m) || segs != m->nb_segs)
		st->bad_chains++;
	st->one_bytes += bytes;
}

/*
 * --lcores: the hash (64-bit FNV-1a) of the bytes of one packet (all its segments). netcap's tests
 * hook it as "fwd_csum@1" while two lcores call it. It is static and noinline but not noipa, so
 * GCC's -fipa-ra lets its caller keep values in the call-clobbered registers it sees fwd_csum
 * leave alone: built -O2 by GCC 12, forward_lcore() (inlined into run_lcore()) keeps the array
 * pointer and the sum in r9 and r11 across the call (test_inject_lcores.sh checks the
 * disassembly). A hook's trampoline must therefore preserve every register. noclone keeps the
 * calls on this symbol (no fwd_csum.constprop or .isra clone).
 */
#if defined(__clang__)
#define NC_NOCLONE __attribute__((noinline))
#else
#define NC_NOCLONE __attribute__((noinline, noclone))
#endif
static NC_NOCLONE uint64_t fwd_csum(const struct rte_mbuf *m)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);

		for (uint16_t i = 0; i < s->data_len; i++)
			h = (h ^ p[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* netcap's hardening test hooks this as "fwd_inspect@1" and calls it with garbage (--garbage): it
 * only counts its calls, so no pointer it gets is ever dereferenced here. */
NC_HOOK void fwd_inspect(struct rte_mbuf *m)
{
	asm volatile("" : : "r"(m) : "memory");
	st->inspected++;
}

/*
 * --garbage: what a buggy pipeline might hand a hooked function: NULL, a small integer, a pointer
 * to memory just unmapped, an mbuf whose data_len runs far past its buffer, and one whose next
 * points at itself with nb_segs 200. netcap must count what it cannot read and carry on; this
 * process must not notice.
 */
static void call_with_garbage(void)
{
	static struct rte_mbuf huge, loop;
	static char buf[2048];
	void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (gone != MAP_FAILED)
		munmap(gone, 4096);
	huge.buf_addr = buf;
	huge.data_off = 0;
	huge.data_len = 60000;
	huge.pkt_len = 60000;
	huge.nb_segs = 1;
	loop.buf_addr = buf;
	loop.data_off = 0;
	loop.data_len = 60;
	loop.pkt_len = 6000;
	loop.nb_segs = 200;
	loop.next = &loop;
	fwd_inspect(NULL);
	fwd_inspect((struct rte_mbuf *)0x10);
	fwd_inspect(gone == MAP_FAILED ? NULL : gone);
	fwd_inspect(&huge);
	fwd_inspect(&loop);
}

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	unpaced = 1;
}

static void usage(const char *prog)
{
	fprintf(
	    stderr,
	    "usage: %s EAL-ARGS... -- [options]\n"
	    "  --ready-file PATH  write the pid to PATH once the ports are started\n"
	    "  --go-file PATH     do not receive until PATH exists (checked every 10 ms)\n"
	    "  --count N          exit after forwarding N packets\n"
	    "  --idle-exit MS     exit when nothing arrived for MS ms after the first packet\n"
	    "  --segments K       turn every packet into a chain of K segments (1-16, default 1)\n"
	    "  --garbage          call fwd_inspect() with bad mbuf pointers before forwarding\n"
	    "  --strip-vlan       strip 802.1Q tags into vlan_tci/ol_flags like a NIC offload\n"
	    "  --idle-sleep US    sleep US microseconds after a poll round that got nothing\n"
	    "  --stats            print \"nc_fwd: rx N tx N dropped N\" at exit (stdout) and\n"
	    "                     \"nc_fwd: N VLAN tags stripped, N chains built\" (stderr)\n"
	    "  --rate PPS         receive at most PPS packets per second (busy-polling between)\n"
	    "                     until SIGUSR1\n"
	    "  --run-ms MS        receive for MS ms only, then idle until SIGINT/SIGTERM\n"
	    "  --pdump            serve dpdk-dumpcap/dpdk-pdump (rte_pdump_init; needs hugepages)\n"
	    "  --lcores N         N lcores forward (EAL -l: N or more), each its share of the "
	    "ports\n"
	    "                     (N groups of consecutive ports), --count and --rate per lcore,\n"
	    "                     no --segments or --strip-vlan;\n"
	    "                     --stats adds \"nc_fwd: lcore K rx N tx N dropped N\" per lcore "
	    "and\n"
	    "                     \"nc_fwd: checksum HEX\" (the sum of fwd_csum's hashes)\n"
	    "example: %s --no-huge --no-pci -m 256 -l 0 --file-prefix t1 \\\n"
	    "    --vdev 'net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap' -- --count 10 --stats\n",
	    prog, prog);
}

static void usage_hook(const char *prog)
{
	usage(prog);
}

/* The whole string a decimal number in [min, max], or exit 2 naming the option. */
static uint64_t parse_num(const char *name, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr,
			"nc_fwd: bad %s \"%s\": want a number from %" PRIu64 " to %" PRIu64 "\n",
			name, s, min, max);
		rte_eal_cleanup();
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = strcmp(a, "--ready-file") == 0 || strcmp(a, "--go-file") == 0 ||
				 strcmp(a, "--count") == 0 || strcmp(a, "--idle-exit") == 0 ||
				 strcmp(a, "--segments") == 0 || strcmp(a, "--idle-sleep") == 0 ||
				 strcmp(a, "--rate") == 0 || strcmp(a, "--run-ms") == 0 ||
				 strcmp(a, "--lcores") == 0;
		const char *v = NULL;

		if (has_value) {
			if (i + 1 >= argc) {
				fprintf(stderr, "nc_fwd: %s needs a value\n", a);
				goto fail;
			}
			v = argv[++i];
		}
		if (strcmp(a, "--ready-file") == 0 && v[0] != '\0') {
			opt.ready_file = v;
		} else if (strcmp(a, "--go-file") == 0 && v[0] != '\0') {
			opt.go_file = v;
		} else if (strcmp(a, "--count") == 0) {
			opt.count = parse_num(a, v, 1, UINT64_MAX);
		} else if (strcmp(a, "--idle-exit") == 0) {
			opt.idle_exit_ms = parse_num(a, v, 1, 86400000);
		} else if (strcmp(a, "--idle-sleep") == 0) {
			opt.idle_sleep_us = parse_num(a, v, 0, 1000000);
		} else if (strcmp(a, "--segments") == 0) {
			opt.segments = parse_num(a, v, 1, MAX_SEGMENTS);
		} else if (strcmp(a, "--strip-vlan") == 0) {
			opt.strip_vlan = true;
		} else if (strcmp(a, "--garbage") == 0) {
			opt.garbage = true;
		} else if (strcmp(a, "--stats") == 0) {
			opt.stats = true;
		} else if (strcmp(a, "--rate") == 0) {
			opt.rate = parse_num(a, v, 1, 1000000000);
		} else if (strcmp(a, "--run-ms") == 0) {
			opt.run_ms = parse_num(a, v, 1, 86400000);
		} else if (strcmp(a, "--lcores") == 0) {
			opt.lcores = parse_num(a, v, 1, RTE_MAX_LCORE);
		} else if (strcmp(a, "--pdump") == 0) {
			opt.pdump = true;
		} else if (strcmp(a, "--help") == 0) {
			usage(argv[0]);
			rte_eal_cleanup();
			exit(0);
		} else if (has_value) {
			fprintf(stderr, "nc_fwd: %s: empty path\n", a);
			goto fail;
		} else {
			fprintf(stderr, "nc_fwd: unknown option \"%s\"\n", a);
			goto fail;
		}
	}
	if (opt.lcores != 0 && (opt.segments > 1 || opt.strip_vlan)) {
		fprintf(stderr, "nc_fwd: --lcores forwards packets as they come: no --segments or "
				"--strip-vlan with it\n");
		goto fail;
	}
	return;
fail:
	usage(argv[0]);
	rte_eal_cleanup();
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int port_init(uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = RING_SIZE, nb_txd = RING_SIZE;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	/* net_pcap does not advertise MULTI_SEGS but its tx dumper reads chains (rte_pktmbuf_read);
	 * ask for the offload only where it is offered, as ethdev refuses anything else. */
	if (opt.segments > 1 && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret != 0)
		return ret;
	ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, rte_eth_dev_socket_id(port), NULL, pool);
	if (ret != 0)
		return ret;
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, rte_eth_dev_socket_id(port), NULL);
	if (ret != 0)
		return ret;
	return rte_eth_dev_start(port);
}

/* PATH.tmp then rename: a reader sees no file or the whole "PID\n". */
static void write_ready_file(const char *path)
{
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp = malloc(n);
	FILE *f;

	if (tmp == NULL)
		rte_exit(EXIT_FAILURE, "out of memory\n");
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0)
		rte_exit(EXIT_FAILURE, "cannot write the ready file %s: %s\n", path,
			 strerror(errno));
	free(tmp);
}

static void wait_go_file(const char *path)
{
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = GO_POLL_NS};

	while (!quit && access(path, F_OK) != 0)
		nanosleep(&tick, NULL);
}

/* A NIC's VLAN strip: the 802.1Q tag leaves the data for vlan_tci and RX_VLAN(_STRIPPED). */
static void strip_vlan(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr) + sizeof(struct rte_vlan_hdr) ||
	    eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN))
		return;
	/* sets vlan_tci and RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED, moves the 12 address
	 * bytes forward over the tag and drops 4 bytes from the front (rte_pktmbuf_adj) */
	rte_vlan_strip(m);
	st->vlan_stripped++;
}

/* Put the stripped tag back so that the bytes sent are the bytes received. */
static int restore_vlan(struct rte_mbuf *m)
{
	uint16_t l2_len = m->l2_len;

	if (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED))
		return 0;
	/* rte_vlan_insert needs the 12 address bytes in the first segment */
	if (rte_pktmbuf_data_len(m) < 2 * RTE_ETHER_ADDR_LEN && rte_pktmbuf_linearize(m) != 0)
		return -1;
	if (rte_vlan_insert(&m) != 0)
		return -1;
	m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
	m->vlan_tci = 0;
	m->l2_len = l2_len; /* rte_vlan_insert added 4 */
	return 0;
}

/*
 * Turn a one-segment mbuf into a chain of k segments, the data split as evenly as possible (the
 * first len % k segments one byte longer). The original mbuf stays the first segment; the
 * others come from the same pool. A packet shorter than k bytes gets one byte per segment.
 */
static int segment(struct rte_mbuf *m, unsigned k)
{
	struct rte_mbuf *segs[MAX_SEGMENTS];
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m), share, extra, off;
	struct rte_mbuf *prev = m;
	const char *reason;

	if (m->nb_segs != 1)
		return 0;
	if (k > len)
		k = len;
	if (k <= 1)
		return 0;
	if (rte_pktmbuf_alloc_bulk(pool, segs, k - 1) != 0)
		return -1;
	share = len / k;
	extra = len % k;
	off = share + (extra > 0);
	for (unsigned i = 1; i < k; i++) {
		struct rte_mbuf *s = segs[i - 1];
		uint16_t n = share + (i < extra);

		memcpy(rte_pktmbuf_mtod(s, uint8_t *), data + off, n);
		s->data_len = n;
		s->pkt_len = n;
		s->port = m->port;
		prev->next = s;
		prev = s;
		off += n;
	}
	m->data_len = share + (extra > 0);
	m->nb_segs = k;
	st->chained++;
	if (rte_mbuf_check(m, 1, &reason) != 0)
		rte_panic("segmenting built a bad chain: %s\n", reason);
	return 0;
}

static void forward(uint16_t peer, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent, keep = 0;

	for (uint16_t i = 0; i < n; i++) {
		if (opt.strip_vlan)
			strip_vlan(pkts[i]);
		if (opt.segments > 1 && segment(pkts[i], opt.segments) != 0)
			st->seg_failed++;
	}
	fwd_burst(pkts, n);
	DTRACE_PROBE2(nc_fwd, burst, pkts, n);
	for (uint16_t i = 0; i < n; i++) {
		fwd_one(pkts[i]);
		if (nc_fwd_one_semaphore)
			DTRACE_PROBE1(nc_fwd, one, pkts[i]);
	}
	/* net_pcap's tx dumper writes chains itself (rte_pktmbuf_read into a bounce buffer), so
	 * the segments are sent as they are */
	for (uint16_t i = 0; i < n; i++) {
		if (opt.strip_vlan && restore_vlan(pkts[i]) != 0) {
			rte_pktmbuf_free(pkts[i]);
			st->dropped++;
			continue;
		}
		pkts[keep++] = pkts[i];
	}
	sent = keep ? rte_eth_tx_burst(peer, 0, pkts, keep) : 0;
	st->tx += sent;
	st->dropped += keep - sent;
	for (uint16_t i = sent; i < keep; i++)
		rte_pktmbuf_free(pkts[i]);
}

/* what one lcore forwards: ports[i] received, sent on peers[i]; its counters in stats[idx] */
struct job {
	const uint16_t *ports, *peers;
	unsigned nb_ports, idx;
};

/* Forwards until a signal, or until this lcore's --count or --idle-exit (st->done). */
static void run(const uint16_t *ports, const uint16_t *peers, unsigned nb_ports)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t last_rx = 0, start_ns = now_ns();
	bool any = false;

	while (!quit && !st->done) {
		bool got = false;

		if (opt.run_ms != 0 && now_ns() - start_ns >= opt.run_ms * 1000000) {
			usleep(
			    1000); /* the measured window is over: keep still, stay attached to */
			continue;
		}
		for (unsigned i = 0; i < nb_ports && !quit && !st->done; i++) {
			uint64_t want = BURST;
			uint16_t n;

			if (opt.count != 0 && opt.count - st->rx < want)
				want = opt.count - st->rx;
			if (opt.rate != 0 && !unpaced) {
				/* the packets due by now, in whole bursts unless the count ends */
				uint64_t due = (uint64_t)((unsigned __int128)(now_ns() - start_ns) *
							  opt.rate / 1000000000);

				if (due < st->rx + want)
					continue;
			}
			n = fwd_rx(ports[i], pkts, (uint16_t)want);

			if (n == 0)
				continue;
			got = any = true;
			st->rx += n;
			forward(peers[i], pkts, n);
			if (opt.count != 0 && st->rx >= opt.count)
				st->done = true;
		}
		if (opt.idle_exit_ms != 0 && any) {
			uint64_t now = now_ms();

			if (got)
				last_rx = now;
			else if (now - last_rx >= opt.idle_exit_ms)
				st->done = true;
		}
		if (!got && opt.idle_sleep_us != 0)
			usleep(opt.idle_sleep_us);
	}
}

/*
 * --lcores: what each lcore does with a burst: fwd_burst, fwd_one and fwd_csum per packet, sent on
 * peer. Not forward(): its USDT sites must stay single (netcap wants each probe's arguments in one
 * place) and forward() and run() inlined into main() alone (the -S stacks of the usdt test).
 */
static void forward_lcore(uint16_t peer, struct rte_mbuf **pkts, uint16_t n)
{
	uint64_t sum = 0;
	uint16_t sent;

	fwd_burst(pkts, n);
	for (uint16_t i = 0; i < n; i++)
		fwd_one(pkts[i]);
	for (uint16_t i = 0; i < n; i++)
		sum += fwd_csum(pkts[i]);
	st->csum += sum;
	sent = rte_eth_tx_burst(peer, 0, pkts, n);
	st->tx += sent;
	st->dropped += n - sent;
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

/* --lcores: run() of one lcore, the main one included, with forward_lcore() */
static __attribute__((noinline)) int run_lcore(void *arg)
{
	const struct job *job = arg;
	struct rte_mbuf *pkts[BURST];
	uint64_t last_rx = 0, start_ns = now_ns();
	bool any = false;

	st = &stats[job->idx];
	while (!quit && !st->done) {
		bool got = false;

		if (opt.run_ms != 0 && now_ns() - start_ns >= opt.run_ms * 1000000) {
			usleep(1000);
			continue;
		}
		for (unsigned i = 0; i < job->nb_ports && !quit && !st->done; i++) {
			uint64_t want = BURST;
			uint16_t n;

			if (opt.count != 0 && opt.count - st->rx < want)
				want = opt.count - st->rx;
			if (opt.rate != 0 && !unpaced &&
			    (uint64_t)((unsigned __int128)(now_ns() - start_ns) * opt.rate /
				       1000000000) < st->rx + want)
				continue;
			n = fwd_rx(job->ports[i], pkts, (uint16_t)want);
			if (n == 0)
				continue;
			got = any = true;
			st->rx += n;
			forward_lcore(job->peers[i], pkts, n);
			if (opt.count != 0 && st->rx >= opt.count)
				st->done = true;
		}
		if (opt.idle_exit_ms != 0 && any) {
			uint64_t now = now_ms();

			if (got)
				last_rx = now;
			else if (now - last_rx >= opt.idle_exit_ms)
				st->done = true;
		}
		if (!got && opt.idle_sleep_us != 0)
			usleep(opt.idle_sleep_us);
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint16_t ports[RTE_MAX_ETHPORTS], peers[RTE_MAX_ETHPORTS];
	struct job jobs[RTE_MAX_LCORE];
	struct fwd_stats total;
	unsigned nb_ports = 0, lcore;
	struct sigaction sa;
	int ret;

	rte_set_application_usage_hook(usage_hook);
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot initialise EAL (see above)\n");
	argc -= ret;
	argv += ret; /* argv[0] is the program name again */
	parse_args(argc, argv);
	if (opt.pdump) {
		ret = rte_pdump_init();
		if (ret < 0)
			rte_exit(EXIT_FAILURE, "cannot serve pdump: %s\n", rte_strerror(rte_errno));
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	for (unsigned p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (rte_eth_dev_is_valid_port(p))
			ports[nb_ports++] = p;
	}
	if (nb_ports == 0)
		rte_exit(EXIT_FAILURE,
			 "no ports: add one, e.g. --vdev 'net_pcap0,rx_pcap=IN,tx_pcap=OUT'\n");
	if (opt.lcores == 0) {
		for (unsigned i = 0; i < nb_ports; i++) {
			uint16_t q = ports[i] ^ 1;

			peers[i] = nb_ports >= 2 && rte_eth_dev_is_valid_port(q) ? q : ports[i];
		}
	} else {
		unsigned per = nb_ports / opt.lcores;

		if (rte_lcore_count() < opt.lcores || nb_ports % opt.lcores != 0)
			rte_exit(EXIT_FAILURE,
				 "--lcores %u: want %u lcores or more (EAL -l, %u given) and a "
				 "multiple of "
				 "%u ports (%u given)\n",
				 opt.lcores, opt.lcores, rte_lcore_count(), opt.lcores, nb_ports);
		/* group g: ports[g * per .. g * per + per - 1], each sent on its partner (i ^ 1
		 * within the group) or, alone, on itself */
		for (unsigned i = 0; i < nb_ports; i++) {
			unsigned first = i / per * per, j = first + ((i - first) ^ 1);

			peers[i] = j < first + per ? ports[j] : ports[i];
		}
		for (unsigned g = 0; g < opt.lcores; g++)
			jobs[g] = (struct job){.ports = ports + g * per,
					       .peers = peers + g * per,
					       .nb_ports = per,
					       .idx = g};
	}

	pool = rte_pktmbuf_pool_create("nc_fwd_pool", POOL_MBUFS, POOL_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the mbuf pool: %s\n",
			 rte_strerror(rte_errno));
	for (unsigned i = 0; i < nb_ports; i++) {
		ret = port_init(ports[i]);
		if (ret != 0)
			rte_exit(EXIT_FAILURE, "cannot start port %u: %s\n", ports[i],
				 rte_strerror(-ret));
	}

	if (opt.ready_file != NULL)
		write_ready_file(opt.ready_file);
	if (opt.go_file != NULL)
		wait_go_file(opt.go_file);
	if (opt.garbage)
		call_with_garbage();
	if (opt.lcores == 0) {
		run(ports, peers, nb_ports);
	} else {
		unsigned g = 1;

		/* group 0 on the main lcore, the others on the first workers */
		RTE_LCORE_FOREACH_WORKER(lcore)
		{
			if (g == opt.lcores)
				break;
			ret = rte_eal_remote_launch(run_lcore, &jobs[g++], lcore);
			if (ret != 0)
				rte_exit(EXIT_FAILURE, "cannot start lcore %u: %s\n", lcore,
					 rte_strerror(-ret));
		}
		run_lcore(&jobs[0]);
		rte_eal_mp_wait_lcore();
		/* the totals below are the sums of every lcore's */
		total = stats[0];
		for (g = 1; g < opt.lcores; g++) {
			const struct fwd_stats *l = &stats[g];

			total.rx += l->rx;
			total.tx += l->tx;
			total.dropped += l->dropped;
			total.burst_bytes += l->burst_bytes;
			total.one_bytes += l->one_bytes;
			total.bad_chains += l->bad_chains;
			total.seg_failed += l->seg_failed;
			total.vlan_stripped += l->vlan_stripped;
			total.chained += l->chained;
			total.csum += l->csum;
		}
		st = &total;
	}

	/* Nothing is buffered for tx (each burst is sent at once); stopping the ports closes
	 * net_pcap's dumpers, so the tx files are complete when we exit. */
	for (unsigned i = 0; i < nb_ports; i++) {
		ret = rte_eth_dev_stop(ports[i]);
		if (ret != 0)
			fprintf(stderr, "nc_fwd: stopping port %u: %s\n", ports[i],
				rte_strerror(-ret));
		rte_eth_dev_close(ports[i]);
	}
	if (st->burst_bytes != st->one_bytes || st->bad_chains != 0 || st->seg_failed != 0)
		fprintf(stderr,
			"nc_fwd: warning: fwd_burst saw %" PRIu64 " bytes, fwd_one %" PRIu64
			", %" PRIu64 " bad chains, %" PRIu64 " packets left unsegmented\n",
			st->burst_bytes, st->one_bytes, st->bad_chains, st->seg_failed);
	if (opt.stats) {
		for (unsigned g = 0; g < opt.lcores; g++)
			printf("nc_fwd: lcore %u rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64
			       "\n",
			       g, stats[g].rx, stats[g].tx, stats[g].dropped);
		if (opt.lcores != 0)
			printf("nc_fwd: checksum %016" PRIx64 "\n", st->csum);
		printf("nc_fwd: rx %" PRIu64 " tx %" PRIu64 " dropped %" PRIu64 "\n", st->rx,
		       st->tx, st->dropped);
		fflush(stdout);
		fprintf(stderr,
			"nc_fwd: %" PRIu64 " VLAN tags stripped, %" PRIu64 " chains built, %" PRIu64
			" garbage calls\n",
			st->vlan_stripped, st->chained, st->inspected);
	}
	if (opt.pdump)
		rte_pdump_uninit();
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
