/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libnetcap-agent.so: netcap's in-process capture agent (docs/inproc.md). Loaded into a running,
 * unmodified DPDK application; nc_agent_main() runs on a thread of its own, connects to netcap,
 * takes the capture's configuration and shared memory (agent/nc_agent_abi.h), replaces the burst
 * pointers of rte_eth_fp_ops[port] with wrappers of its own, filters each burst (core/jit's code,
 * with a classic BPF interpreter for the packets it leaves to its slow path), and copies what it
 * keeps into single-producer rings until netcap asks it to stop or goes away. Then it puts every
 * pointer back, waits until no thread is inside a wrapper, unmaps the memory and returns; the
 * library stays loaded (-z nodelete), and a later nc_agent_main() serves another capture.
 *
 * No DPDK header: every offset comes from netcap. Nothing received is trusted: the region and
 * rte_eth_fp_ops are checked against /proc/self/maps, the layouts against their structs' sizes,
 * the filter program's indexes and jumps against its length (the compiled code is netcap's own:
 * it is run as given).
 * The wrappers never block and never allocate; a full ring drops the packet and counts it.
 *
 * x86-64 only: rdtscp gives the burst's time and CPU in one instruction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "fhook.h"
#include "nc_agent_abi.h"
#include "nc_agent_io.h"
#include "sema.h"

#if !defined(__x86_64__)
#error "libnetcap-agent is x86-64 only (rdtscp)"
#endif

#define EXPORT __attribute__((visibility("default")))

#define TICK_MS	       50   /* control loop: re-arm, clock pair, watch netcap */
#define CONFIG_MS      5000 /* the configuration follows the hello within this */
#define WAIT_IN_MS     2000 /* the longest wait for threads to leave the wrappers */
#define TX_CHUNK       256  /* TX packets staged per PMD call */
#define FILTER_BATCH   64   /* packets per filter call (a 64-bit mask of verdicts) */
#define MBUF_HDR       128  /* bytes of struct rte_mbuf the offsets may point into */
#define MIN_RING       65536
#define FILTER_WINDOW  512  /* NC_FILTER_WINDOW: the bytes the kernel probe filters on */
#define MAX_PROG       4096 /* BPF_MAXINSNS */
#define MAX_CODE       (1u << 20)
#define MAX_BACKWARD   64  /* backward jumps followed per packet (libpcap's MAX_BACKWARD_JUMPS) */
#define MAX_STACK_VMAS 512 /* -S: the stack mappings the walk may read (anonymous rw, [stack]) */

typedef uint16_t (*burst_fn)(void *queue, void **pkts, uint16_t n);

/*
 * The filter seam, with the signature of core/jit's compiled burst filter (core/jit/burst_jit.h):
 * writes verdict[i] for mbufs[i] (0: not kept), returns how many are not 0; slow(ctx, mbuf, i)
 * decides the packets the compiled code cannot alone. Called with n <= 64.
 */
typedef uint32_t (*nc_agent_slow_fn)(void *ctx, void *mbuf, uint32_t index);
typedef uint32_t (*nc_agent_filter_fn)(void *const *mbufs, uint32_t n, uint32_t *verdict,
				       nc_agent_slow_fn slow, void *ctx);

/* One application thread's use of one (direction, port): single writer, the thread */
struct slot {
	_Atomic unsigned long owner; /* pthread_self() of the thread, 0 free */
	_Atomic uint64_t use;	     /* odd while the thread is inside the capture part */
	uint32_t tid;
	uint16_t last_queue; /* queue index of last_q */
	void *last_q;
	uint64_t tail_seen; /* the consumer's tail as last read */
	/* a func@N@ret hook: the calls the thread is inside, innermost last (agent/fhook.c) */
	uint32_t depth;
	struct {
		uint64_t ret, array;
	} shadow[8];
} __attribute__((aligned(64)));

/* A hooked burst pointer: rte_eth_fp_ops[port].{rx,tx}_pkt_burst */
struct port_hook {
	_Atomic(burst_fn) orig;	 /* what the wrapper calls: the PMD's function */
	_Atomic uint32_t active; /* capture on: rings mapped, counters live */
	uint32_t hook;		 /* index in the configuration */
	uint32_t n_slots;
	uint16_t queue; /* or NC_AGENT_QUEUE_ANY */
	uint8_t direction;
	uint8_t rx;
	uint8_t fidx;	      /* the filter's: 0 RX, 1 TX, 2 function hook */
	uint8_t ret_bits;     /* a func@N@ret hook: 16 or 32 */
	uint8_t site;	      /* a hook at a USDT site (NC_AGENT_HOOK_SITE) */
	uint64_t ret_stub;    /* and its trampoline's return stub */
	uintptr_t fn_addr;    /* &rte_eth_fp_ops[port].{rx,tx}_pkt_burst; 0: a function hook */
	uintptr_t qdata_addr; /* &rte_eth_fp_ops[port].{rx,tx}q.data */
	burst_fn wrapper;
	struct nc_agent_ring *rings[NC_AGENT_MAX_SLOTS]; /* this capture's ring per slot */
	_Atomic uint64_t noslot; /* bursts not captured: every slot had another thread */
	struct slot slots[NC_AGENT_MAX_SLOTS];
};

/* What the wrappers read while a capture runs: set before any hook is active */
static struct {
	struct nc_agent_mbuf_layout mbuf;
	uint32_t snaplen;
	uint64_t ring_mask;	      /* ring_bytes - 1 */
	nc_agent_filter_fn filter[3]; /* [0] RX, [1] TX, [2] function hooks; NULL: keep all */
	void *filter_ctx[3];
	bool stacks; /* -S: a stack record before the packets of each function hook call */
} cfg;

/*
 * -S: the mappings a stack walk may read: this process's anonymous read-write private mappings
 * and its [stack], from /proc/self/maps when the capture starts (install()) and again every
 * VMA_EVERY ticks of the agent thread (threads started since). The walk reads only inside the
 * one holding the hooking thread's rsp: a thread's own stack cannot be unmapped while it runs.
 * Each is one word, its first page number in bits 0..34, its length in pages in bits 35..62 (at
 * most 2^28 - 1: a longer one is cut), bit 63 set for [stack], rewritten in place: a walk during
 * a refresh sees each entry whole, the old one or the new one.
 */
static uint64_t stack_vmas[MAX_STACK_VMAS];
static uint32_t n_stack_vmas;
#define VMA_PAGE_BITS 35
#define VMA_LEN_BITS  28
#define VMA_MAIN      (1ull << 63) /* the main thread's [stack] */
#define VMA_EVERY     20	   /* ticks (1 s) */

/* Where a hook call's stack starts: rsp and rbp as they were where the hook sits, and the return
 * address at [rsp] (a function's entry) or none (0: a USDT site) */
struct stack_at {
	uint64_t sp, fp, ret;
	bool at_entry;
};

/* A compiled filter's slow path: the classic program, run on the packet as the kernel probe
 * presents it to its filter */
struct slow_ctx {
	const struct sock_filter *prog;
	uint32_t len;
	uint32_t window;
	uint8_t direction;
};

/* NC_AGENT_FILTER_COMPILED: the code (read+execute copies) and the program, per direction */
static struct {
	void *code[3];
	size_t code_bytes[3];
	struct sock_filter *prog;
	struct slow_ctx slow[3];
} compiled;

static struct port_hook hooks[2][NC_AGENT_MAX_PORTS]; /* [0] rx, [1] tx */
static struct port_hook fhooks[FH_MAX];		      /* per trampoline (agent/fhook.c) */
/* -S: the func@N@ret hooks ever armed (their ret_stub set), in fhooks: a return address that is
 * one's return stub stands for the real one on the thread's shadow (append-only) */
static uint32_t ret_hooks[FH_MAX];
static uint32_t n_ret_hooks;
static atomic_flag busy = ATOMIC_FLAG_INIT; /* one capture at a time */
/* membarrier(PRIVATE_EXPEDITED) is registered: leaving makes every thread of the process execute
 * a full barrier, so the wrappers' entry needs none of its own (only ever set, never cleared) */
static bool light_enter;
static uint32_t captures; /* served, for the hello */

/* ---- the wrappers (lcore threads) ---- */

static inline bool is_func(uint8_t kind)
{
	return kind == NC_AGENT_FUNC_SINGLE || kind == NC_AGENT_FUNC_VECTOR ||
	       kind == NC_AGENT_FUNC_RET;
}

static inline uint16_t rd16(const uint8_t *p, uint16_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint32_t rd32(const uint8_t *p, uint16_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p, uint16_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* gettid(2) without libc (the capture path calls nothing outside the agent: see copy_bytes()) */
static inline uint32_t gettid_raw(void)
{
	long r = SYS_gettid;

	__asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
	return (uint32_t)r;
}

/* The calling thread's slot of h, claimed on first use; NULL when every slot is another's */
static inline struct slot *slot_of(struct port_hook *h)
{
	unsigned long self = (unsigned long)__builtin_thread_pointer(); /* per thread, never 0 */

	for (uint32_t i = 0; i < h->n_slots; i++) {
		struct slot *s = &h->slots[i];
		unsigned long o = atomic_load_explicit(&s->owner, memory_order_relaxed);

		if (o == self)
			return s;
		if (o == 0) {
			if (atomic_compare_exchange_strong(&s->owner, &o, self)) {
				s->tid = gettid_raw();
				s->last_q = NULL;
				return s;
			}
			if (o == self)
				return s;
		}
	}
	return NULL;
}

/*
 * Enter the capture part (use odd), then see whether the capture is still on: a store then a load,
 * ordered against uninstall()'s store of active then load of use (Dekker). The store-load order
 * needs a full barrier on one side of each pair: here (mfence, ~30 cycles a burst), or, once
 * membarrier is registered, on the leaving side only (it makes every running thread execute one).
 */
static inline bool enter(struct port_hook *h, struct slot *s)
{
	atomic_store_explicit(&s->use, atomic_load_explicit(&s->use, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (__atomic_load_n(&light_enter, __ATOMIC_RELAXED))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&h->active, memory_order_acquire);
}

static inline void leave_slot(struct slot *s)
{
	atomic_store_explicit(&s->use, atomic_load_explicit(&s->use, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* The queue index of q in rte_eth_fp_ops[port].{rx,tx}q.data[], or NC_AGENT_QUEUE_ANY */
static inline uint16_t queue_of(const struct port_hook *h, struct slot *s, void *q)
{
	void *const *data;

	if (q == s->last_q)
		return s->last_queue;
	memcpy(&data, (const void *)h->qdata_addr, sizeof(data));
	if (!data)
		return NC_AGENT_QUEUE_ANY;
	for (uint16_t i = 0; i < NC_AGENT_MAX_QUEUES; i++) {
		if (!data[i])
			break;
		if (data[i] == q) {
			s->last_q = q;
			s->last_queue = i;
			return i;
		}
	}
	return NC_AGENT_QUEUE_ANY;
}

/*
 * memcpy for the capture path without vector registers: function hooks call it from a trampoline
 * that saves the general registers only (docs/inproc.md "The trampoline"); libc's memcpy uses
 * ymm registers. rep movsb (fast short rep movsb on current CPUs) costs about what libc's does
 * for 64-128 bytes, half of an 8-byte word loop (docs/performance.md).
 */
static inline void copy_bytes(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/*
 * Copies up to limit bytes of the packet of mbuf m to dst, walking its segments (at most
 * NC_AGENT_MAX_SEGS), with ntags VLAN tags (tags, in wire order) put after the 12 address bytes:
 * the same bytes as bpf/mbuf.bpf.c's copy_packet(). *cut is set when the chain had more segments
 * than are followed and the copy stopped short.
 */
static uint32_t copy_packet(const uint8_t *m, uint8_t *dst, uint32_t limit, const uint8_t *tags,
			    uint32_t ntags, bool *cut)
{
	const struct nc_agent_mbuf_layout *l = &cfg.mbuf;
	const uint8_t *addr =
	    (const uint8_t *)(uintptr_t)rd64(m, l->buf_addr) + rd16(m, l->data_off);
	uint32_t len = rd16(m, l->data_len), nb_segs = rd16(m, l->nb_segs), off = 0, chunk;
	const uint8_t *next = (const uint8_t *)(uintptr_t)rd64(m, l->next);

	*cut = false;
	if (ntags) {
		if (len < 12 || limit < 12 + 4 * ntags) {
			ntags = 0;
		} else {
			copy_bytes(dst, addr, 12);
			copy_bytes(dst + 12, tags, 4 * ntags);
			off = 12 + 4 * ntags;
			addr += 12;
			len -= 12;
		}
	}
	for (uint32_t i = 0; i < NC_AGENT_MAX_SEGS; i++) {
		if (off >= limit)
			return off;
		chunk = len < limit - off ? len : limit - off;
		copy_bytes(dst + off, addr, chunk);
		off += chunk;
		if (i + 1 >= nb_segs || !next)
			return off;
		addr =
		    (const uint8_t *)(uintptr_t)rd64(next, l->buf_addr) + rd16(next, l->data_off);
		len = rd16(next, l->data_len);
		next = (const uint8_t *)(uintptr_t)rd64(next, l->next);
	}
	*cut = off < limit && nb_segs > NC_AGENT_MAX_SEGS;
	return off;
}

/*
 * The tags a NIC stripped (RX) or is to insert (TX), outer first, as bpf/mbuf.bpf.c's
 * capture_mbuf() finds them; returns how many (0..2).
 */
static inline uint32_t vlan_tags(const uint8_t *m, uint8_t direction, uint8_t tags[8])
{
	const struct nc_agent_mbuf_layout *l = &cfg.mbuf;
	uint64_t fl = rd64(m, l->ol_flags);
	const uint64_t rx_vlan = 1ull << 6, rx_qinq = 1ull << 15, tx_qinq = 1ull << 49,
		       tx_vlan = 1ull << 57;
	bool in = direction != 2, out = direction != 1;

	if ((in && (fl & rx_qinq) && (fl & rx_vlan)) || (out && (fl & tx_qinq))) {
		uint16_t outer = rd16(m, l->vlan_tci_outer), inner = rd16(m, l->vlan_tci);

		tags[0] = 0x88, tags[1] = 0xa8, tags[2] = outer >> 8, tags[3] = outer & 0xff;
		tags[4] = 0x81, tags[5] = 0x00, tags[6] = inner >> 8, tags[7] = inner & 0xff;
		return 2;
	}
	if ((in && (fl & rx_qinq)) || (in && (fl & rx_vlan)) || (out && (fl & tx_vlan))) {
		/* QinQ stripped without VLAN stripped: only the outer tag was removed */
		uint16_t tci = (fl & rx_qinq) ? rd16(m, l->vlan_tci_outer) : rd16(m, l->vlan_tci);

		tags[0] = 0x81, tags[1] = 0x00, tags[2] = tci >> 8, tags[3] = tci & 0xff;
		return 1;
	}
	return 0;
}

static inline uint32_t be16_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Classic BPF over pkt[0..buflen), wire length wirelen: what libpcap's bpf_filter() returns, with
 * the rules core/jit follows where libpcap 1.10 has none (a shift by 32 or more gives 0, at most
 * MAX_BACKWARD backward jumps). The program was checked by check_prog(): indexes in range.
 */
static uint32_t run_cbpf(const struct sock_filter *prog, uint32_t len, const uint8_t *pkt,
			 uint32_t wirelen, uint32_t buflen)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {0}, pc = 0, back = 0, k;

	for (;;) {
		const struct sock_filter *i;

		if (pc >= len)
			return 0;
		i = &prog[pc++];
		k = i->k;
		switch (i->code) {
		case BPF_RET | BPF_K: return k;
		case BPF_RET | BPF_A: return A;
		case BPF_LD | BPF_W | BPF_ABS:
			if (k > buflen || 4 > buflen - k)
				return 0;
			A = be32_at(pkt + k);
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (k > buflen || 2 > buflen - k)
				return 0;
			A = be16_at(pkt + k);
			break;
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= buflen)
				return 0;
			A = pkt[k];
			break;
		case BPF_LD | BPF_W | BPF_IND:
			if (k > buflen || X > buflen - k || 4 > buflen - k - X)
				return 0;
			A = be32_at(pkt + k + X);
			break;
		case BPF_LD | BPF_H | BPF_IND:
			if (k > buflen || X > buflen - k || 2 > buflen - k - X)
				return 0;
			A = be16_at(pkt + k + X);
			break;
		case BPF_LD | BPF_B | BPF_IND:
			if (k >= buflen || X >= buflen - k)
				return 0;
			A = pkt[k + X];
			break;
		case BPF_LD | BPF_W | BPF_LEN: A = wirelen; break;
		case BPF_LDX | BPF_W | BPF_LEN: X = wirelen; break;
		case BPF_LD | BPF_IMM: A = k; break;
		case BPF_LDX | BPF_IMM: X = k; break;
		case BPF_LD | BPF_MEM: A = M[k]; break;
		case BPF_LDX | BPF_MEM: X = M[k]; break;
		case BPF_LDX | BPF_MSH | BPF_B:
			if (k >= buflen)
				return 0;
			X = (uint32_t)(pkt[k] & 0xf) << 2;
			break;
		case BPF_ST: M[k] = A; break;
		case BPF_STX: M[k] = X; break;
		case BPF_JMP | BPF_JA:
			if ((int32_t)k < 0 && ++back > MAX_BACKWARD)
				return 0;
			pc += k;
			break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += A > k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += A >= k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += A == k ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (A & k) ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGT | BPF_X: pc += A > X ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JEQ | BPF_X: pc += A == X ? i->jt : i->jf; break;
		case BPF_JMP | BPF_JSET | BPF_X: pc += (A & X) ? i->jt : i->jf; break;
		case BPF_ALU | BPF_ADD | BPF_X: A += X; break;
		case BPF_ALU | BPF_SUB | BPF_X: A -= X; break;
		case BPF_ALU | BPF_MUL | BPF_X: A *= X; break;
		case BPF_ALU | BPF_DIV | BPF_X:
			if (!X)
				return 0;
			A /= X;
			break;
		case BPF_ALU | BPF_MOD | BPF_X:
			if (!X)
				return 0;
			A %= X;
			break;
		case BPF_ALU | BPF_AND | BPF_X: A &= X; break;
		case BPF_ALU | BPF_OR | BPF_X: A |= X; break;
		case BPF_ALU | BPF_XOR | BPF_X: A ^= X; break;
		case BPF_ALU | BPF_LSH | BPF_X: A = X < 32 ? A << X : 0; break;
		case BPF_ALU | BPF_RSH | BPF_X: A = X < 32 ? A >> X : 0; break;
		case BPF_ALU | BPF_ADD | BPF_K: A += k; break;
		case BPF_ALU | BPF_SUB | BPF_K: A -= k; break;
		case BPF_ALU | BPF_MUL | BPF_K: A *= k; break;
		case BPF_ALU | BPF_DIV | BPF_K: A /= k; break; /* k != 0: check_prog() */
		case BPF_ALU | BPF_MOD | BPF_K: A %= k; break;
		case BPF_ALU | BPF_AND | BPF_K: A &= k; break;
		case BPF_ALU | BPF_OR | BPF_K: A |= k; break;
		case BPF_ALU | BPF_XOR | BPF_K: A ^= k; break;
		case BPF_ALU | BPF_LSH | BPF_K: A = k < 32 ? A << k : 0; break;
		case BPF_ALU | BPF_RSH | BPF_K: A = k < 32 ? A >> k : 0; break;
		case BPF_ALU | BPF_NEG: A = -A; break;
		case BPF_MISC | BPF_TAX: X = A; break;
		case BPF_MISC | BPF_TXA: A = X; break;
		default: return 0;
		}
	}
}

/*
 * The compiled filter's slow path (core/jit/burst_jit.h): the verdict of one packet as the kernel
 * probe filters it, its first `window` bytes with its tags put back, its wire length with them
 */
static uint32_t filter_reject(void *const *mbufs, uint32_t n, uint32_t *verdict,
			      nc_agent_slow_fn slow, void *ctx);

static uint32_t slow_path(void *ctx, void *mbuf, uint32_t index)
{
	const struct slow_ctx *c = ctx;
	uint8_t buf[FILTER_WINDOW], tags[8];
	uint32_t ntags, wire, copied;
	bool cut;

	(void)index;
	if (!mbuf)
		return 0;
	ntags = vlan_tags(mbuf, c->direction, tags);
	wire = rd32(mbuf, cfg.mbuf.pkt_len) + 4 * ntags;
	copied = copy_packet(mbuf, buf, c->window, tags, ntags, &cut);
	return run_cbpf(c->prog, c->len, buf, wire, copied);
}

/* Where the producer writes: its head, the data, and the tail it last saw */
struct writer {
	struct nc_agent_ring *r;
	uint8_t *data;
	uint64_t head;
	uint64_t tsc;
	uint32_t cpu;
	uint16_t queue;
	uint8_t direction;
	bool timed;
};

/*
 * Room for a record of `need` bytes at w->head: a WRAP marker first when it would run past the
 * ring's end (a record is never split), the reader's tail read again only when the one last seen
 * leaves too little. Where the record goes, or NULL when the reader has not made room (nothing
 * written).
 */
static inline uint8_t *ring_room(struct writer *w, struct slot *s, uint64_t need)
{
	uint64_t size = cfg.ring_mask + 1, pos = w->head & cfg.ring_mask, wrap = 0;

	if (pos + need > size)
		wrap = size - pos;
	if (w->head + wrap + need - s->tail_seen > size) {
		s->tail_seen = __atomic_load_n(&w->r->tail, __ATOMIC_ACQUIRE);
		if (w->head + wrap + need - s->tail_seen > size)
			return NULL;
	}
	if (wrap) {
		struct nc_agent_record *rec = (struct nc_agent_record *)(w->data + pos);

		rec->size = (uint32_t)wrap;
		rec->kind = NC_AGENT_REC_WRAP;
		w->head += wrap;
		pos = 0;
	}
	return w->data + pos;
}

/*
 * Writes one packet's record at w->head (not published). Returns false when the ring has no
 * room for it (nothing written).
 */
static inline bool put_record(struct writer *w, struct slot *s, const uint8_t *m)
{
	uint8_t tags[8];
	uint32_t ntags = vlan_tags(m, w->direction, tags);
	uint32_t wire = rd32(m, cfg.mbuf.pkt_len) + 4 * ntags;
	uint32_t want = wire < cfg.snaplen ? wire : cfg.snaplen, cap;
	struct nc_agent_record *rec;
	bool cut;

	rec = (struct nc_agent_record *)ring_room(w, s, NC_AGENT_ALIGN(sizeof(*rec) + want));
	if (!rec)
		return false;
	if (!w->timed) {
		unsigned int aux;

		w->tsc = __rdtscp(&aux);
		w->cpu = aux & 0xfff;
		w->timed = true;
	}
	/* at most the room taken: a chain holding more bytes than its pkt_len says is cut there */
	cap = copy_packet(m, (uint8_t *)(rec + 1), want, tags, ntags, &cut);
	rec->size = (uint32_t)NC_AGENT_ALIGN(sizeof(*rec) + cap);
	rec->kind = NC_AGENT_REC_PACKET;
	rec->flags = (ntags ? NC_AGENT_REC_VLAN_REINSERTED : 0) |
		     (cap < wire ? NC_AGENT_REC_TRUNCATED : 0) | (cut ? NC_AGENT_REC_SEGS_CUT : 0);
	rec->queue = w->queue;
	rec->cap_len = cap;
	rec->wire_len = wire;
	rec->tsc = w->tsc;
	rec->mbuf = (uint64_t)(uintptr_t)m;
	rec->cpu = w->cpu;
	rec->pad = 0;
	w->head += rec->size;
	return true;
}

/*
 * -S: ret as the caller sees it. A func@N@ret hook made the function return into its return
 * stub (fh_entry_ret): the k-th frame of the walk (innermost first) returning into that stub
 * returns to the k-th innermost address on the thread's shadow of that hook, as the kernel puts
 * a uretprobe's original return address back into the uprobe path's stacks. seen[] counts, per
 * hook of ret_hooks, the frames met so far.
 */
static uint64_t real_ret(uint64_t ret, uint32_t nr, uint8_t *seen)
{
	unsigned long self = (unsigned long)__builtin_thread_pointer();

	for (uint32_t i = 0; i < nr; i++) {
		const struct port_hook *h = &fhooks[ret_hooks[i]];

		if (__atomic_load_n(&h->ret_stub, __ATOMIC_RELAXED) != ret)
			continue;
		for (uint32_t k = 0; k < NC_AGENT_MAX_SLOTS; k++) {
			const struct slot *s = &h->slots[k];

			if (atomic_load_explicit(&s->owner, memory_order_relaxed) != self)
				continue;
			if (seen[i] < s->depth)
				return s->shadow[s->depth - 1 - seen[i]++].ret;
			break;
		}
		break;
	}
	return ret;
}

/*
 * -S: the return addresses of the hook call at `at` into ips (at most NC_AGENT_STACK_DEPTH), as
 * bpf_get_stack(BPF_F_USER_STACK) walks them for the uprobe path, from its second frame: the
 * return address at [rsp] for a function's entry, then [rbp + 8] of each frame pointer. Reads
 * only inside the mapping of stack_vmas holding rsp, and there only below the thread pointer
 * when it lies there (glibc puts a thread's descriptor at the top of the stack it mapped for the
 * thread) or up to the end of [stack] (the main thread's, which no other mapping merges into);
 * each rbp 8-aligned, above the last and its 16 bytes inside. A thread on another stack (its own
 * mmap, a signal's alternate stack: a mapping that may have merged with a neighbour since the
 * table was read) gets no walk, the return address at [rsp] (its own stack pointer) alone.
 * Returns how many (0: rsp in no known mapping).
 */
static uint32_t walk_stack(const struct stack_at *at, uint64_t *ips)
{
	uint32_t nr = __atomic_load_n(&n_ret_hooks, __ATOMIC_ACQUIRE);
	uint8_t seen[FH_MAX];
	uint64_t sp = at->sp, fp = at->fp, hi = 0,
		 tp = (uint64_t)(uintptr_t)__builtin_thread_pointer();
	uint32_t n = 0, nv = __atomic_load_n(&n_stack_vmas, __ATOMIC_ACQUIRE);
	bool main_stack = false;

	for (uint32_t i = 0; i < nv && i < MAX_STACK_VMAS; i++) {
		uint64_t v = __atomic_load_n(&stack_vmas[i], __ATOMIC_RELAXED),
			 lo = (v & ((1ull << VMA_PAGE_BITS) - 1)) << 12,
			 end = lo + (((v >> VMA_PAGE_BITS) & ((1ull << VMA_LEN_BITS) - 1)) << 12);

		if (sp >= lo && sp < end) {
			hi = end;
			main_stack = v & VMA_MAIN;
			break;
		}
	}
	if (!hi || sp & 7)
		return 0;
	if (tp > sp && tp < hi)
		hi = tp;
	else if (!main_stack)
		fp = 0; /* not a stack whose top is known: no walk */
	for (uint32_t i = 0; i < nr && i < FH_MAX; i++)
		seen[i] = 0;
	if (at->at_entry) {
		if (sp > hi - 8)
			return 0;
		ips[n++] = at->ret ? at->ret : real_ret(*(const uint64_t *)(uintptr_t)sp, nr, seen);
	}
	while (n < NC_AGENT_STACK_DEPTH && !(fp & 7) && fp >= sp && fp <= hi - 16) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)fp;
		uint64_t next = frame[0], ret = frame[1];

		if (!ret)
			break;
		ips[n++] = __builtin_expect(nr, 0) ? real_ret(ret, nr, seen) : ret;
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}

/*
 * -S: the stack of this hook call as a NC_AGENT_REC_STACK record at w->head (not published), for
 * the packet records that follow it. False when the ring has no room for it.
 */
static bool put_stack(struct writer *w, struct slot *s, const struct stack_at *at)
{
	struct nc_agent_stack *st = (struct nc_agent_stack *)ring_room(
	    w, s, sizeof(struct nc_agent_stack) + 8 * NC_AGENT_STACK_DEPTH);

	if (!st)
		return false;
	st->n = (uint8_t)walk_stack(at, st->ips);
	st->size = (uint32_t)(sizeof(*st) + 8u * st->n);
	st->kind = NC_AGENT_REC_STACK;
	st->pad = 0;
	w->head += st->size;
	return true;
}

/* The filter's verdict on pkts[0..n) (n <= 64) at a hook of direction d (0 RX, 1 TX): bit i set =
 * keep pkts[i] */
static inline uint64_t verdict(int d, void **pkts, uint32_t n)
{
	uint32_t v[FILTER_BATCH];
	uint64_t keep = 0;

	if (!cfg.filter[d])
		return n == 64 ? ~0ull : (1ull << n) - 1;
	/* no prefetch of the packets' first bytes before the filter: measured (perf on
	 * dpdk-testpmd's lcore, docs/inproc.md), a prefetch loop over the burst cost more than the
	 * misses it was to hide */
	if (!cfg.filter[d](pkts, n, v, slow_path, cfg.filter_ctx[d]))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		keep |= (uint64_t)(v[i] != 0) << i;
	return keep;
}

static inline struct writer writer_of(struct port_hook *h, struct slot *s, uint16_t queue)
{
	struct nc_agent_ring *r = h->rings[s - h->slots];
	struct writer w = {.r = r,
			   .data = (uint8_t *)(r + 1),
			   .head = r->head,
			   .queue = queue,
			   .direction = h->direction};

	if (r->tid != s->tid)
		r->tid = s->tid;
	return w;
}

static inline void add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* The counters of a burst that kept something, and its records published */
static inline void count_kept(struct nc_agent_ring *r, uint64_t matched, uint64_t written,
			      uint64_t head)
{
	add(&r->matched, matched);
	add(&r->written, written);
	if (matched != written)
		add(&r->ringfull, matched - written);
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
}

/* RX: the packets the PMD returned, all kept or dropped here; at: -S, where the hook call's
 * stack starts (NULL: none) */
static void capture_rx(struct port_hook *h, struct slot *s, uint16_t queue, void **pkts, uint16_t n,
		       const struct stack_at *at)
{
	struct writer w = writer_of(h, s, queue);
	uint64_t matched = 0, written = 0;
	bool room = true;

	for (uint32_t off = 0; off < n; off += FILTER_BATCH) {
		uint32_t m = n - off < FILTER_BATCH ? n - off : FILTER_BATCH;
		uint64_t keep = verdict(h->fidx, pkts + off, m);

		if (!keep && !off && m == n) {
			/* the usual burst kept by none: its count only */
			add(&w.r->seen, n);
			return;
		}
		while (keep) {
			uint32_t i = (uint32_t)__builtin_ctzll(keep);

			keep &= keep - 1;
			if (!pkts[off +
				  i]) /* not an mbuf: nothing to read (the kernel path's readerr) */
				continue;
			if (at) { /* before the call's first record; no room for it: none of them */
				room = put_stack(&w, s, at);
				at = NULL;
			}
			matched++;
			written += room && put_record(&w, s, pkts[off + i]);
		}
	}
	add(&w.r->seen, n);
	if (matched)
		count_kept(w.r, matched, written, w.head);
}

#define ST_SKIP 0
#define ST_PUT	1
#define ST_FULL 2

/*
 * TX: copies pkts[0..n) (n <= TX_CHUNK) before the PMD sees them (it may free them), calls it,
 * then publishes the records of the first `ret` (accepted) packets only: a packet the PMD
 * refused and the application sends again is captured once.
 */
static uint16_t capture_tx(struct port_hook *h, struct slot *s, burst_fn f, void *q, uint16_t queue,
			   void **pkts, uint16_t n, const struct stack_at *at)
{
	struct writer w = writer_of(h, s, queue);
	uint64_t end[TX_CHUNK], commit = w.head, matched = 0, written = 0,
				keep[TX_CHUNK / FILTER_BATCH], any = 0;
	bool room = true;
	uint8_t st[TX_CHUNK];
	uint16_t ret;

	for (uint32_t off = 0; off < n; off += FILTER_BATCH) {
		uint32_t m = n - off < FILTER_BATCH ? n - off : FILTER_BATCH;

		keep[off / FILTER_BATCH] = verdict(h->fidx, pkts + off, m);
		any |= keep[off / FILTER_BATCH];
	}
	if (!any) {
		/* kept by none: the PMD's count only */
		ret = f(q, pkts, n);
		if (ret > n)
			ret = n;
		add(&w.r->seen, ret);
		return ret;
	}
	for (uint32_t off = 0; off < n; off += FILTER_BATCH) {
		uint32_t m = n - off < FILTER_BATCH ? n - off : FILTER_BATCH;

		for (uint32_t i = 0; i < m; i++) {
			st[off + i] = ST_SKIP;
			if ((keep[off / FILTER_BATCH] >> i & 1) && pkts[off + i]) {
				if (at) { /* -S: before the first record, committed with it */
					room = put_stack(&w, s, at);
					at = NULL;
				}
				st[off + i] =
				    room && put_record(&w, s, pkts[off + i]) ? ST_PUT : ST_FULL;
			}
			end[off + i] = w.head;
		}
	}
	ret = f(q, pkts, n);
	if (ret > n)
		ret = n;
	for (uint16_t i = 0; i < ret; i++) {
		matched += st[i] != ST_SKIP;
		written += st[i] == ST_PUT;
		commit = end[i];
	}
	add(&w.r->seen, ret);
	if (matched)
		count_kept(w.r, matched, written, commit);
	return ret;
}

/*
 * -S at a burst hook: the wrapper was called by the application's inlined rte_eth_rx_burst() /
 * rte_eth_tx_burst() as the PMD's function would have been; the frame of the function holding
 * this (the wrapper, or rx_P / tx_P if it was inlined into them: either way a function the
 * application called, with a frame pointer) has the application's rbp and the return address
 * into it, which is where the uprobe path's walk at the PMD's entry starts
 */
#define BURST_AT(at)                                                                               \
	(__builtin_expect(cfg.stacks, 0) ? burst_at(&(at), __builtin_frame_address(0)) : NULL)

static inline const struct stack_at *burst_at(struct stack_at *at, const void *frame)
{
	const uint64_t *f = frame;

	*at = (struct stack_at){.sp = (uint64_t)(uintptr_t)(f + 1), .fp = f[0], .at_entry = true};
	return at;
}

static inline uint16_t rx_wrap(struct port_hook *h, void *q, void **pkts, uint16_t n)
{
	struct stack_at at;
	burst_fn f = atomic_load_explicit(&h->orig, memory_order_relaxed);
	uint16_t nb = f(q, pkts, n), queue;
	struct slot *s;

	if (!nb || !atomic_load_explicit(&h->active, memory_order_relaxed))
		return nb;
	s = slot_of(h);
	if (!s) {
		atomic_fetch_add_explicit(&h->noslot, 1, memory_order_relaxed);
		return nb;
	}
	if (enter(h, s)) {
		queue = queue_of(h, s, q);
		if (queue != NC_AGENT_QUEUE_ANY &&
		    (h->queue == NC_AGENT_QUEUE_ANY || h->queue == queue))
			capture_rx(h, s, queue, pkts, nb, BURST_AT(at));
	}
	leave_slot(s);
	return nb;
}

static inline uint16_t tx_wrap(struct port_hook *h, void *q, void **pkts, uint16_t n)
{
	struct stack_at at;
	const struct stack_at *pa;
	burst_fn f = atomic_load_explicit(&h->orig, memory_order_relaxed);
	uint16_t done = 0, queue;
	struct slot *s;

	if (!n || !atomic_load_explicit(&h->active, memory_order_relaxed))
		return f(q, pkts, n);
	s = slot_of(h);
	if (!s) {
		atomic_fetch_add_explicit(&h->noslot, 1, memory_order_relaxed);
		return f(q, pkts, n);
	}
	if (!enter(h, s)) {
		leave_slot(s);
		return f(q, pkts, n);
	}
	queue = queue_of(h, s, q);
	if (queue == NC_AGENT_QUEUE_ANY || (h->queue != NC_AGENT_QUEUE_ANY && h->queue != queue)) {
		leave_slot(s);
		return f(q, pkts, n);
	}
	pa = BURST_AT(at);
	while (done < n) {
		uint16_t m = n - done < TX_CHUNK ? n - done : TX_CHUNK;
		uint16_t ret = capture_tx(h, s, f, q, queue, pkts + done, m, pa);

		done += ret;
		if (ret < m)
			break;
	}
	leave_slot(s);
	return done;
}

/*
 * A function hook's entry, called by its trampoline (agent/fhook.c; core/inject/hook.h's stub,
 * which saves the general registers and the flags only): the RX wrapper's capture on what the
 * function is handed. Everything it runs must leave vector and x87 registers alone: this file is
 * compiled with -mgeneral-regs-only, copies with copy_bytes() and calls nothing in libc;
 * tests/unit/agent_gpr.sh checks the built code.
 */
/*
 * The trampoline's stub (core/inject/hook.c) pushed the flags and the 15 general registers and
 * set rbp to rsp before calling the entry: the entry's caller's rbp, the word its own frame
 * pointer points at, is where the saved registers are (rbp's at STUB_RBP)
 */
#define STUB_RBP   10
#define ENTRY_FP() ((const uint64_t *const *)__builtin_frame_address(0))

static inline void fh_capture(uint64_t cookie, void **pkts, uint16_t n,
			      const uint64_t *const *entry_fp)
{
	struct stack_at at;
	struct port_hook *h;
	struct slot *s;

	if (cookie >= FH_MAX || !n)
		return;
	h = &fhooks[cookie];
	if (!atomic_load_explicit(&h->active, memory_order_relaxed))
		return;
	s = slot_of(h);
	if (!s) {
		atomic_fetch_add_explicit(&h->noslot, 1, memory_order_relaxed);
		return;
	}
	if (enter(h, s)) {
		if (__builtin_expect(cfg.stacks, 0)) {
			const uint64_t *stub = *entry_fp;

			/* the stub's saved registers: rbp at +80, rsp at the entry +128 (the return
			 * address there), at a USDT site +256 (the red zone stepped over) */
			at = (struct stack_at){.sp = (uint64_t)(uintptr_t)stub +
						     (h->site ? 256 : 128),
					       .fp = stub[STUB_RBP],
					       .at_entry = !h->site};
			capture_rx(h, s, 0, pkts, n, &at);
		} else {
			capture_rx(h, s, 0, pkts, n, NULL);
		}
	}
	leave_slot(s);
}

__attribute__((noinline)) static void fh_entry_single(uint64_t cookie, uint64_t a, uint64_t b)
{
	void *pkt = (void *)(uintptr_t)a;

	(void)b;
	fh_capture(cookie, &pkt, 1, ENTRY_FP());
}

__attribute__((noinline)) static void fh_entry_vector(uint64_t cookie, uint64_t a, uint64_t b)
{
	if (a)
		fh_capture(cookie, (void **)(uintptr_t)a, (uint16_t)b, ENTRY_FP());
}

/*
 * func@N@ret at the entry: the return address and the array kept on the thread's slot, the
 * function made to return into the trampoline's return stub (which calls fh_return); the return
 * address unchanged when the hook is off, the thread has no slot or is 8 calls deep
 */
static uint64_t fh_entry_ret(uint64_t cookie, uint64_t array, uint64_t ret)
{
	struct port_hook *h;
	struct slot *s;

	if (cookie >= FH_MAX)
		return ret;
	h = &fhooks[cookie];
	if (!atomic_load_explicit(&h->active, memory_order_relaxed))
		return ret;
	s = slot_of(h);
	if (!s) {
		atomic_fetch_add_explicit(&h->noslot, 1, memory_order_relaxed);
		return ret;
	}
	if (s->depth >= sizeof(s->shadow) / sizeof(s->shadow[0]) || !h->ret_stub)
		return ret;
	s->shadow[s->depth].ret = ret;
	s->shadow[s->depth].array = array;
	s->depth++;
	return h->ret_stub;
}

/*
 * func@N@ret, from the return stub: the array captured with the return value as its count (its
 * low 16 or 32 bits; a negative 32-bit value is no packet), the real return address given back.
 * Runs whether the capture is on or not (a thread that entered during a capture may return after
 * it): the slot is the one the thread took at the entry, whatever the capture's slot count now.
 */
__attribute__((noinline)) static uint64_t fh_return(uint64_t cookie, uint64_t rax)
{
	struct port_hook *h = &fhooks[cookie < FH_MAX ? cookie : 0];
	unsigned long self = (unsigned long)__builtin_thread_pointer();
	struct slot *s = NULL;
	uint64_t n, ret, array;

	for (uint32_t i = 0; i < NC_AGENT_MAX_SLOTS && !s; i++)
		if (atomic_load_explicit(&h->slots[i].owner, memory_order_relaxed) == self)
			s = &h->slots[i];
	if (cookie >= FH_MAX || !s || !s->depth)
		__builtin_trap(); /* no return address to go back to: cannot happen */
	s->depth--;
	ret = s->shadow[s->depth].ret;
	array = s->shadow[s->depth].array;
	n = h->ret_bits == 16 ? (rax & 0xffff) : (uint32_t)rax;
	if (n > 0xffff)
		n = (int32_t)n < 0 ? 0 : 0xffff;
	if (n && array && atomic_load_explicit(&h->active, memory_order_relaxed)) {
		if (enter(h, s)) {
			struct stack_at at;
			const struct stack_at *pa = NULL;

			if (__builtin_expect(cfg.stacks, 0)) {
				/* -S: the stack at the entry, which the function's return gave
				 * back: the real return address, rbp restored (callee-saved); the
				 * return stub saved the registers as the entry's stub, rsp is 8
				 * more (the return address popped) */
				const uint64_t *stub = *ENTRY_FP();

				at = (struct stack_at){.sp = (uint64_t)(uintptr_t)stub + 136,
						       .fp = stub[STUB_RBP],
						       .ret = ret,
						       .at_entry = true};
				pa = &at;
			}
			capture_rx(h, s, 0, (void **)(uintptr_t)array, (uint16_t)n, pa);
		}
		leave_slot(s);
	}
	return ret;
}

/* One wrapper per port and direction: the port is a constant of the function */
#define WRAPPERS(P)                                                                                \
	static uint16_t rx_##P(void *q, void **pkts, uint16_t n)                                   \
	{                                                                                          \
		return rx_wrap(&hooks[0][P], q, pkts, n);                                          \
	}                                                                                          \
	static uint16_t tx_##P(void *q, void **pkts, uint16_t n)                                   \
	{                                                                                          \
		return tx_wrap(&hooks[1][P], q, pkts, n);                                          \
	}
#define WRAPPERS8(A, B, C, D, E, F, G, H)                                                          \
	WRAPPERS(A)                                                                                \
	WRAPPERS(B) WRAPPERS(C) WRAPPERS(D) WRAPPERS(E) WRAPPERS(F) WRAPPERS(G) WRAPPERS(H)
WRAPPERS8(0, 1, 2, 3, 4, 5, 6, 7)
WRAPPERS8(8, 9, 10, 11, 12, 13, 14, 15)
WRAPPERS8(16, 17, 18, 19, 20, 21, 22, 23)
WRAPPERS8(24, 25, 26, 27, 28, 29, 30, 31)

#define W2(P)                                                                                      \
	{                                                                                          \
		rx_##P, tx_##P                                                                     \
	}
static const burst_fn wrappers[NC_AGENT_MAX_PORTS][2] = {
    W2(0),  W2(1),  W2(2),  W2(3),  W2(4),  W2(5),  W2(6),  W2(7),  W2(8),  W2(9),  W2(10),
    W2(11), W2(12), W2(13), W2(14), W2(15), W2(16), W2(17), W2(18), W2(19), W2(20), W2(21),
    W2(22), W2(23), W2(24), W2(25), W2(26), W2(27), W2(28), W2(29), W2(30), W2(31)};

/* The filter seam's stand-in until compiled filters arrive: keeps nothing (its verdicts are not
 * read when it returns 0) */
__attribute__((noinline)) static uint32_t
filter_reject(void *const *mbufs, uint32_t n, uint32_t *verdict, nc_agent_slow_fn slow, void *ctx)
{
	(void)mbufs;
	(void)n;
	(void)verdict;
	(void)slow;
	(void)ctx;
	return 0;
}

/* ---- the agent thread ---- */

struct agent {
	int sock, memfd, pidfd;
	struct nc_agent_config c;
	struct nc_agent_region *region;
	size_t region_bytes;
	struct port_hook *active[NC_AGENT_MAX_HOOKS];
	uint64_t noslot_start[NC_AGENT_MAX_HOOKS];
	uint32_t n_active;
	uint32_t tramp[NC_AGENT_MAX_HOOKS]; /* FUNC_* hooks: the trampoline (agent/fhook.c) */
	bool has_func;			    /* the configuration has FUNC_* hooks */
	bool placed;			    /* and tramp[] is filled (TRAMPS sent) */
	uint32_t ticks;			    /* of the control loop */
};

static int fail(char *text, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *text, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, NC_AGENT_TEXT, fmt, ap);
	va_end(ap);
	return -errnum;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The tightest of a few (tsc, clock) readings */
static void clock_pair(struct nc_agent_clock *p)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t t0 = __rdtsc(), mono = clock_ns(CLOCK_MONOTONIC), t1 = __rdtsc();

		if (t1 - t0 < best) {
			best = t1 - t0;
			p->tsc = t0 + (t1 - t0) / 2;
			p->mono_ns = mono;
			p->real_ns = clock_ns(CLOCK_REALTIME) - (clock_ns(CLOCK_MONOTONIC) - mono);
		}
	}
}

static void publish_clock(struct nc_agent_region *r, bool base)
{
	struct nc_agent_clock p;

	clock_pair(&p);
	__atomic_store_n(&r->clock_seq, r->clock_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (base)
		r->base = p;
	r->now = p;
	__atomic_store_n(&r->clock_seq, r->clock_seq + 1, __ATOMIC_RELEASE);
}

static int send_msg(int fd, uint16_t type, const void *payload, uint32_t len)
{
	struct nc_agent_msg h = {
	    .magic = NC_AGENT_MAGIC, .version = NC_AGENT_VERSION, .type = type, .len = len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

/* The CONFIG message and its memfd */
static int recv_config(struct agent *a, char *text)
{
	struct nc_agent_msg h;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct pollfd pfd = {.fd = a->sock, .events = POLLIN};
	struct cmsghdr *cm;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, CONFIG_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return fail(text, r ? errno : ETIMEDOUT, "no configuration from netcap");
	n = recvmsg(a->sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	if (n != (ssize_t)sizeof(h))
		return fail(text, EPROTO, "short configuration header");
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&a->memfd, CMSG_DATA(cm), sizeof(int));
	if (mh.msg_flags & MSG_CTRUNC)
		return fail(text, EPROTO, "configuration: ancillary data truncated");
	if (h.magic != NC_AGENT_MAGIC || h.version != NC_AGENT_VERSION ||
	    h.type != NC_AGENT_CONFIG || h.len != sizeof(a->c))
		return fail(text, EPROTO,
			    "configuration of another protocol (magic %#x version %u type %u len "
			    "%u; this agent speaks version %u)",
			    h.magic, h.version, h.type, h.len, NC_AGENT_VERSION);
	if (a->memfd < 0)
		return fail(text, EPROTO, "configuration without its shared memory");
	r = nc_agent_read_full(a->sock, &a->c, sizeof(a->c), CONFIG_MS);
	return r ? fail(text, -r, "configuration body: %s", strerror(-r)) : 0;
}

/*
 * True when [addr, addr + len) is covered by adjacent mappings of this process that all have
 * `perms` (an executable's .bss may run from its file-backed mapping into an anonymous one)
 */
static bool mapped(uintptr_t addr, size_t len, const char *perms)
{
	FILE *f = fopen("/proc/self/maps", "re");
	uintptr_t at = addr, end = addr + len;
	char line[512];

	if (!f || end < addr)
		return f ? (fclose(f), false) : false;
	while (at < end && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) != 3 || at < lo || at >= hi)
			continue;
		if ((strchr(perms, 'r') && p[0] != 'r') || (strchr(perms, 'w') && p[1] != 'w') ||
		    (strchr(perms, 'x') && p[2] != 'x'))
			break;
		at = hi; /* the maps are sorted: the next line may go on from here */
	}
	fclose(f);
	return at >= end;
}

/*
 * -S: stack_vmas from /proc/self/maps: every anonymous read-write private mapping and [stack]
 * (glibc's thread stacks are anonymous mappings, the main thread's is [stack]), each entry
 * stored whole (walks may run meanwhile), then their count
 */
static void read_stack_vmas(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	uint32_t n = 0;

	if (!f)
		return;
	while (n < MAX_STACK_VMAS && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, ino;
		char p[5], path[64] = "";

		if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %63s", &lo, &hi, p, &ino, path) < 4 ||
		    strcmp(p, "rw-p") || ino || (path[0] && strcmp(path, "[stack]")))
			continue;
		if (lo >= hi || (lo >> 12) >= (1ull << VMA_PAGE_BITS))
			continue;
		if ((hi - lo) >> 12 >= (1ull << VMA_LEN_BITS))
			hi = lo + (((1ull << VMA_LEN_BITS) - 1) << 12);
		__atomic_store_n(&stack_vmas[n++],
				 (lo >> 12) | ((hi - lo) >> 12) << VMA_PAGE_BITS |
				     (path[0] ? VMA_MAIN : 0),
				 __ATOMIC_RELAXED);
	}
	fclose(f);
	__atomic_store_n(&n_stack_vmas, n, __ATOMIC_RELEASE);
}

static bool is_wrapper(burst_fn f)
{
	for (int p = 0; p < NC_AGENT_MAX_PORTS; p++)
		if (f == wrappers[p][0] || f == wrappers[p][1])
			return true;
	return false;
}

static int check_config(struct agent *a, char *text)
{
	const struct nc_agent_config *c = &a->c;
	const struct nc_agent_fp_ops_layout *fl = &c->fp_ops;
	const uint16_t *mo = &c->mbuf.buf_addr;
	static const uint8_t mbuf_sizes[10] = {8, 2, 2, 2, 8, 4, 2, 2, 2, 8};
	struct stat sb;
	const struct nc_agent_region *r;
	uint64_t rings;
	int seals;

	if (c->n_hooks < 1 || c->n_hooks > NC_AGENT_MAX_HOOKS)
		return fail(text, EINVAL, "%u hooks: 1 to %d", c->n_hooks, NC_AGENT_MAX_HOOKS);
	if (c->snaplen < 1 || c->snaplen > NC_AGENT_MAX_SNAPLEN)
		return fail(text, EINVAL, "snap length %u: 1 to %d", c->snaplen,
			    NC_AGENT_MAX_SNAPLEN);
	if (c->flags & ~NC_AGENT_CFG_STACKS)
		return fail(text, ENOTSUP, "configuration flags %#x not known to this agent",
			    c->flags);
	if (c->filter != NC_AGENT_FILTER_NONE && c->filter != NC_AGENT_FILTER_REJECT &&
	    c->filter != NC_AGENT_FILTER_COMPILED)
		return fail(text, ENOTSUP, "filter kind %u not known to this agent", c->filter);
	for (int i = 0; i < 10; i++)
		if (mo[i] + mbuf_sizes[i] > MBUF_HDR)
			return fail(text, EINVAL, "mbuf field %d at offset %u: past the header", i,
				    mo[i]);
	if (fl->size < 64 || fl->size > 1024 || fl->size % 8 || fl->rx_pkt_burst % 8 ||
	    fl->tx_pkt_burst % 8 || fl->rxq_data % 8 || fl->txq_data % 8 ||
	    fl->rx_pkt_burst + 8 > fl->size || fl->tx_pkt_burst + 8 > fl->size ||
	    fl->rxq_data + 8 > fl->size || fl->txq_data + 8 > fl->size)
		return fail(text, EINVAL, "bad rte_eth_fp_ops layout (size %u)", fl->size);
	if (c->fp_ops_count < 1 || c->fp_ops_count > 1024 || c->fp_ops_addr % 8 ||
	    !mapped((uintptr_t)c->fp_ops_addr, (size_t)c->fp_ops_count * fl->size, "rw"))
		return fail(text, EFAULT,
			    "rte_eth_fp_ops at %#llx (%u entries) is not writable memory of "
			    "process %d",
			    (unsigned long long)c->fp_ops_addr, c->fp_ops_count, (int)getpid());
	for (uint32_t i = 0; i < c->n_hooks; i++) {
		const struct nc_agent_hook *h = &c->hooks[i];

		if (is_func(h->kind)) {
			int r = fh_check(h, i, text);

			if (r)
				return r;
			if (!mapped((uintptr_t)h->func, 16, "x"))
				return fail(text, EFAULT,
					    "function hook %u: %#llx is not code of "
					    "process %d",
					    i, (unsigned long long)h->func, (int)getpid());
			a->has_func = true;
			continue;
		}
		if ((h->kind != NC_AGENT_RX && h->kind != NC_AGENT_TX) || h->flags ||
		    h->port >= c->fp_ops_count || h->port >= NC_AGENT_MAX_PORTS ||
		    (h->direction != 1 && h->direction != 2))
			return fail(text, EINVAL, "hook %u: kind %u port %u direction %u", i,
				    h->kind, h->port, h->direction);
		for (uint32_t k = 0; k < i; k++)
			if (c->hooks[k].kind == h->kind && c->hooks[k].port == h->port)
				return fail(text, EINVAL, "hooks %u and %u: the same port %u", k, i,
					    h->port);
	}
	if (fstat(a->memfd, &sb) || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != c->region_bytes || c->region_bytes < 4096 ||
	    c->region_bytes > (1ull << 36))
		return fail(text, EINVAL, "shared memory of %llu bytes, configuration says %llu",
			    (unsigned long long)sb.st_size, (unsigned long long)c->region_bytes);
	/* a region that could shrink under the wrappers would be a SIGBUS in the application */
	seals = fcntl(a->memfd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return fail(text, EPERM, "the shared memory is not sealed against shrinking");
	a->region = mmap(NULL, c->region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, a->memfd, 0);
	if (a->region == MAP_FAILED) {
		a->region = NULL;
		return fail(text, errno, "mapping the shared memory: %s", strerror(errno));
	}
	a->region_bytes = c->region_bytes;
	r = a->region;
	if (r->magic != NC_AGENT_MAGIC || r->version != NC_AGENT_VERSION ||
	    r->n_hooks != c->n_hooks || r->n_slots < 1 || r->n_slots > NC_AGENT_MAX_SLOTS ||
	    r->ring_bytes < MIN_RING || r->ring_bytes > (1ull << 30) ||
	    (r->ring_bytes & (r->ring_bytes - 1)) ||
	    r->ring_stride != sizeof(struct nc_agent_ring) + r->ring_bytes ||
	    r->rings_off < sizeof(*r) || r->rings_off % 4096)
		return fail(text, EINVAL, "bad shared memory header");
	rings = (uint64_t)r->n_hooks * r->n_slots * r->ring_stride;
	if (r->rings_off > c->region_bytes || rings > c->region_bytes - r->rings_off)
		return fail(text, EINVAL, "the rings do not fit in the shared memory");
	return 0;
}

/* Installs h's wrapper if the slot holds something else; returns false if it could not */
static bool arm(struct port_hook *h)
{
	uint64_t cur, want = (uint64_t)(uintptr_t)h->wrapper;

	if (!h->fn_addr) /* a function hook: its trampoline's entry is stored once */
		return true;
	cur = __atomic_load_n((uint64_t *)h->fn_addr, __ATOMIC_ACQUIRE);
	if (cur == want)
		return true;
	if (!cur || is_wrapper((burst_fn)(uintptr_t)cur) || !mapped((uintptr_t)cur, 1, "x"))
		return false;
	/* DPDK rewrote it (port stop/start): that is the function to call now */
	atomic_store_explicit(&h->orig, (burst_fn)(uintptr_t)cur, memory_order_release);
	return __atomic_compare_exchange_n((uint64_t *)h->fn_addr, &cur, want, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* Puts the PMD's pointer back where the wrapper still is */
static void disarm(struct port_hook *h)
{
	uint64_t want = (uint64_t)(uintptr_t)h->wrapper;
	uint64_t orig = (uint64_t)(uintptr_t)atomic_load(&h->orig);

	if (!h->fn_addr)
		return;
	__atomic_compare_exchange_n((uint64_t *)h->fn_addr, &want, orig, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_RELAXED);
}

/* A classic program the interpreter may run: indexes of M[] and jump targets in range, no
 * constant division by 0 (unknown opcodes stop it with 0) */
static bool check_prog(const struct sock_filter *p, uint32_t len)
{
	for (uint32_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &p[pc];

		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
		case BPF_LDX:
			if (BPF_MODE(i->code) == BPF_MEM && i->k >= BPF_MEMWORDS)
				return false;
			break;
		case BPF_ST:
		case BPF_STX:
			if (i->k >= BPF_MEMWORDS)
				return false;
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				if ((uint32_t)(pc + 1 + i->k) >= len)
					return false;
			} else if (pc + 1 + i->jt >= len || pc + 1 + i->jf >= len) {
				return false;
			}
			break;
		case BPF_ALU:
			if ((BPF_OP(i->code) == BPF_DIV || BPF_OP(i->code) == BPF_MOD) &&
			    BPF_SRC(i->code) == BPF_K && !i->k)
				return false;
			break;
		}
	}
	return true;
}

static void free_compiled(void)
{
	for (int d = 0; d < 3; d++) {
		if (compiled.code[d])
			munmap(compiled.code[d], compiled.code_bytes[d]);
		cfg.filter[d] = NULL;
		cfg.filter_ctx[d] = NULL;
	}
	free(compiled.prog);
	memset(&compiled, 0, sizeof(compiled));
}

/* True when [off, off + len) lies in the filter's part of the region (after the header page,
 * before the rings) */
static bool in_filter_area(const struct agent *a, uint64_t off, uint64_t len)
{
	uint64_t hi = a->region->rings_off;

	return off >= 4096 && off <= hi && len <= hi - off;
}

/*
 * NC_AGENT_FILTER_COMPILED: copies core/jit's code of each direction a hook has into memory of
 * its own (read+execute, never writable at once) and the classic program of its slow path
 */
static int load_compiled(struct agent *a, char *text)
{
	const struct nc_agent_filter *f = &a->c.compiled;
	const uint8_t *base = (const uint8_t *)a->region;
	bool need[3] = {false, false, false};

	for (uint32_t i = 0; i < a->c.n_hooks; i++)
		need[a->c.hooks[i].kind == NC_AGENT_RX	 ? 0
		     : a->c.hooks[i].kind == NC_AGENT_TX ? 1
							 : 2] = true;
	if (f->prog_len < 1 || f->prog_len > MAX_PROG || f->prog_off % 4 ||
	    !in_filter_area(a, f->prog_off, (uint64_t)f->prog_len * sizeof(struct sock_filter)))
		return fail(text, EINVAL, "filter program of %u instructions at %u: out of place",
			    f->prog_len, f->prog_off);
	if (f->window < 1 || f->window > FILTER_WINDOW)
		return fail(text, EINVAL, "filter window %u: 1 to %d", f->window, FILTER_WINDOW);
	compiled.prog = malloc(f->prog_len * sizeof(struct sock_filter));
	if (!compiled.prog)
		return fail(text, ENOMEM, "out of memory");
	memcpy(compiled.prog, base + f->prog_off, f->prog_len * sizeof(struct sock_filter));
	if (!check_prog(compiled.prog, f->prog_len))
		return fail(text, EINVAL, "the filter program has an index or a jump out of range");
	for (int d = 0; d < 3; d++) {
		size_t bytes;
		void *m;

		if (!need[d])
			continue;
		if (f->code_len[d] < 1 || f->code_len[d] > MAX_CODE ||
		    !in_filter_area(a, f->code_off[d], f->code_len[d]))
			return fail(text, EINVAL, "%s filter code of %u bytes at %u: out of place",
				    d == 2 ? "function"
				    : d	   ? "TX"
					   : "RX",
				    f->code_len[d], f->code_off[d]);
		bytes = (f->code_len[d] + 4095u) & ~4095u;
		m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return fail(text, errno, "memory for the filter: %s", strerror(errno));
		memcpy(m, base + f->code_off[d], f->code_len[d]);
		compiled.code[d] = m;
		compiled.code_bytes[d] = bytes;
		if (mprotect(m, bytes, PROT_READ | PROT_EXEC))
			return fail(text, errno, "making the filter executable: %s",
				    strerror(errno));
		compiled.slow[d] = (struct slow_ctx){.prog = compiled.prog,
						     .len = f->prog_len,
						     .window = f->window,
						     .direction = (uint8_t)(d == 2 ? 0
									    : d	   ? 2
										   : 1)};
		cfg.filter[d] = (nc_agent_filter_fn)m;
		cfg.filter_ctx[d] = &compiled.slow[d];
	}
	return 0;
}

static int install(struct agent *a, char *text)
{
	const struct nc_agent_config *c = &a->c;
	struct nc_agent_region *r = a->region;
	int ret;

	cfg.mbuf = c->mbuf;
	cfg.snaplen = c->snaplen;
	cfg.stacks = c->flags & NC_AGENT_CFG_STACKS;
	if (cfg.stacks)
		read_stack_vmas();
	cfg.ring_mask = r->ring_bytes - 1;
	for (int d = 0; d < 3; d++) {
		cfg.filter[d] = c->filter == NC_AGENT_FILTER_REJECT ? filter_reject : NULL;
		cfg.filter_ctx[d] = NULL;
	}
	if (c->filter == NC_AGENT_FILTER_COMPILED) {
		ret = load_compiled(a, text);
		if (ret)
			return ret;
	}
	/* two pairs 10 ms apart before the first record: netcap has a TSC rate from the start */
	publish_clock(r, true);
	nanosleep(&(struct timespec){0, 10000000}, NULL);
	publish_clock(r, false);
	for (uint32_t i = 0; i < c->n_hooks; i++) {
		const struct nc_agent_hook *ch = &c->hooks[i];
		bool func = is_func(ch->kind);
		int rx = ch->kind == NC_AGENT_RX;
		struct port_hook *h = func ? &fhooks[a->tramp[i]] : &hooks[!rx][ch->port];
		uintptr_t entry = (uintptr_t)c->fp_ops_addr + (uintptr_t)ch->port * c->fp_ops.size;

		h->hook = i;
		h->n_slots = r->n_slots;
		h->queue = ch->queue;
		h->direction = ch->direction;
		h->rx = (uint8_t)rx;
		h->fidx = func ? 2 : rx ? 0 : 1;
		h->site = func && (ch->flags & NC_AGENT_HOOK_SITE);
		h->fn_addr =
		    func ? 0 : entry + (rx ? c->fp_ops.rx_pkt_burst : c->fp_ops.tx_pkt_burst);
		h->qdata_addr = func ? 0 : entry + (rx ? c->fp_ops.rxq_data : c->fp_ops.txq_data);
		h->wrapper = func ? NULL : wrappers[ch->port][!rx];
		for (uint32_t s = 0; s < NC_AGENT_MAX_SLOTS; s++) {
			h->rings[s] =
			    s < r->n_slots
				? (struct nc_agent_ring *)((uint8_t *)r + r->rings_off +
							   ((uint64_t)i * r->n_slots + s) *
							       r->ring_stride)
				: NULL;
			h->slots[s].tail_seen = 0;
		}
		a->noslot_start[i] = atomic_load(&h->noslot);
		a->active[a->n_active++] = h;
	}
	for (uint32_t i = 0; i < a->n_active; i++) {
		struct port_hook *h = a->active[i];

		atomic_store_explicit(&h->active, 1, memory_order_release);
		if (!arm(h)) {
			uint64_t cur = __atomic_load_n((uint64_t *)h->fn_addr, __ATOMIC_ACQUIRE);

			return fail(text, ENOTSUP,
				    "%s_pkt_burst of port %u is %#llx, not code of this process "
				    "(port not set up?)",
				    h->rx ? "rx" : "tx", c->hooks[h->hook].port,
				    (unsigned long long)cur);
		}
	}
	for (uint32_t i = 0; i < c->n_hooks; i++)
		if (c->hooks[i].kind == NC_AGENT_FUNC_SINGLE) {
			fh_arm(a->tramp[i], fh_entry_single);
		} else if (c->hooks[i].kind == NC_AGENT_FUNC_VECTOR) {
			fh_arm(a->tramp[i], fh_entry_vector);
		} else if (c->hooks[i].kind == NC_AGENT_FUNC_RET) {
			struct port_hook *h = &fhooks[a->tramp[i]];
			uint64_t stub;
			int ret = fh_arm_ret(a->tramp[i], fh_entry_ret, fh_return, &stub, text);

			if (ret)
				return ret;
			h->ret_bits = c->hooks[i].ret_bits;
			if (!h->ret_stub && n_ret_hooks < FH_MAX) { /* -S: see real_ret() */
				ret_hooks[n_ret_hooks] = a->tramp[i];
				__atomic_store_n(&h->ret_stub, stub, __ATOMIC_RELEASE);
				__atomic_store_n(&n_ret_hooks, n_ret_hooks + 1, __ATOMIC_RELEASE);
			} else {
				__atomic_store_n(&h->ret_stub, stub, __ATOMIC_RELEASE);
			}
		}
	sema_raise(c); /* the guarded USDT sites run from here on */
	__atomic_store_n(&r->armed, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Undoes install(): hooks off, pointers back, then waits until no thread is inside a wrapper's
 * capture part (odd use); only then are the rings unmapped. Returns false if a thread stayed
 * inside for WAIT_IN_MS (the memory is then left mapped rather than pulled from under it).
 */
static bool uninstall(struct agent *a)
{
	struct timespec pause = {0, 20000};
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_IN_MS * 1000000ull;
	bool out = true;

	for (uint32_t i = 0; i < a->c.n_hooks && a->placed; i++)
		if (is_func(a->c.hooks[i].kind))
			fh_disarm(a->tramp[i]); /* the trampolines stay, calling nothing */
	sema_lower();
	for (uint32_t i = 0; i < a->n_active; i++)
		atomic_store(&a->active[i]->active, 0);
	if (!light_enter || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		atomic_thread_fence(memory_order_seq_cst); /* the wrappers fence themselves */
	for (uint32_t i = 0; i < a->n_active; i++)
		disarm(a->active[i]);
	for (uint32_t i = 0; i < a->n_active && out; i++) {
		struct port_hook *h = a->active[i];

		for (uint32_t s = 0; s < NC_AGENT_MAX_SLOTS && out; s++) {
			uint64_t use = atomic_load(&h->slots[s].use);

			while ((use & 1) && atomic_load(&h->slots[s].use) == use) {
				if (clock_ns(CLOCK_MONOTONIC) > deadline) {
					out = false;
					break;
				}
				nanosleep(&pause, NULL);
			}
		}
	}
	if (a->region) {
		for (uint32_t i = 0; i < a->n_active; i++) {
			struct port_hook *h = a->active[i];

			a->region->noslot[i] = atomic_load(&h->noslot) - a->noslot_start[i];
		}
		__atomic_store_n(&a->region->armed, 0, __ATOMIC_RELEASE);
	}
	for (uint32_t i = 0; i < a->n_active && out; i++)
		for (uint32_t s = 0; s < NC_AGENT_MAX_SLOTS; s++)
			a->active[i]->rings[s] = NULL;
	if (out)
		free_compiled(); /* no thread can be inside the filter any more */
	return out;
}

static uint64_t noslot_total(const struct agent *a)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < a->n_active; i++)
		n += atomic_load(&a->active[i]->noslot) - a->noslot_start[i];
	return n;
}

/* What netcap says while capturing: 1 = stop, 0 = nothing yet, < 0 = netcap gone */
static int control_msg(struct agent *a)
{
	struct nc_agent_msg h;
	int r = nc_agent_read_full(a->sock, &h, sizeof(h), 1000);

	if (r)
		return r;
	if (h.magic != NC_AGENT_MAGIC || h.version != NC_AGENT_VERSION || h.len)
		return -EPROTO;
	return h.type == NC_AGENT_STOP ? 1 : 0;
}

/* Capture until netcap asks to stop (returns true) or goes away (false) */
static bool serve(struct agent *a)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = a->sock, .events = POLLIN},
				      {.fd = a->pidfd, .events = POLLIN}};
		int n = poll(p, a->pidfd >= 0 ? 2 : 1, TICK_MS);

		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return false;
		if (n > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			int r = control_msg(a);

			if (r < 0)
				return false;
			if (r == 1)
				return true;
		}
		for (uint32_t i = 0; i < a->n_active; i++)
			arm(a->active[i]);
		publish_clock(a->region, false);
		if (cfg.stacks && ++a->ticks % VMA_EVERY == 0)
			read_stack_vmas();
	}
}

static int connect_to(const char *name, char *text)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = name ? strnlen(name, NC_AGENT_NAME_MAX + 1) : 0;
	int fd;

	if (len < 1 || len > NC_AGENT_NAME_MAX)
		return fail(text, EINVAL, "socket name of %zu bytes: 1 to %d", len,
			    NC_AGENT_NAME_MAX);
	memcpy(sa.sun_path + 1, name, len);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(text, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len))) {
		int e = errno;

		close(fd);
		return fail(text, e, "connect to @%s: %s", name, strerror(e));
	}
	return fd;
}

/*
 * The agent's entry: serves one capture for the netcap listening on the abstract socket `arg`,
 * on the calling thread (never an lcore), and returns when it is over: 0 after a capture netcap
 * stopped or left, a negative errno when there was none (no netcap listening, a configuration
 * refused, another capture running). Nothing of the capture remains in the process afterwards.
 */
EXPORT int nc_agent_main(const char *arg)
{
	struct agent a = {.sock = -1, .memfd = -1, .pidfd = -1};
	struct nc_agent_status st = {0};
	struct nc_agent_hello hello = {.pid = (uint32_t)getpid(),
				       .tid = (uint32_t)syscall(SYS_gettid)};
	bool stop = false, left = true;
	int r;

	if (atomic_flag_test_and_set(&busy))
		return -EBUSY;
	if (!light_enter &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		__atomic_store_n(&light_enter, true, __ATOMIC_SEQ_CST);
	hello.captures = captures;
	r = connect_to(arg, st.text); /* arg is not read after this */
	if (r < 0)
		goto out;
	a.sock = r;
	r = send_msg(a.sock, NC_AGENT_HELLO, &hello, sizeof(hello));
	if (r)
		goto out;
	r = recv_config(&a, st.text);
	if (!r)
		r = check_config(&a, st.text);
	if (!r) {
		/* a second watch besides the socket's end; none where the kernel has no pidfd
		 * (before 5.3) or netcap's pid is not in this process's pid namespace */
		a.pidfd = (int)syscall(SYS_pidfd_open, (pid_t)a.c.netcap_pid, 0);
	}
	if (!r && a.has_func) /* netcap writes the trampolines and patches the functions */
		r = fh_handshake(a.sock, &a.c, a.tramp, st.text);
	a.placed = a.has_func && !r;
	if (!r) {
		a.region->agent_pid = hello.pid;
		r = install(&a, st.text);
	}
	st.status = r;
	if (r) {
		left = uninstall(&a);
		send_msg(a.sock, NC_AGENT_READY, &st, sizeof(st));
		goto out;
	}
	send_msg(a.sock, NC_AGENT_READY, &st, sizeof(st));
	stop = serve(&a);
	left = uninstall(&a);
	st.noslot = noslot_total(&a);
	if (!left)
		st.status = fail(st.text, EBUSY,
				 "a thread stayed inside a wrapper for %d ms: shared memory left "
				 "mapped",
				 WAIT_IN_MS);
	if (left) { /* STOPPED means nothing of the capture is left mapped here */
		munmap(a.region, a.region_bytes);
		a.region = NULL;
	}
	if (stop)
		send_msg(a.sock, NC_AGENT_STOPPED, &st, sizeof(st));
	r = 0;
	captures++;
out:
	if (a.region && left)
		munmap(a.region, a.region_bytes);
	if (a.memfd >= 0)
		close(a.memfd);
	if (a.pidfd >= 0)
		close(a.pidfd);
	if (a.sock >= 0)
		close(a.sock);
	atomic_flag_clear(&busy);
	return r;
}

/*
 * The same as a thread's start routine, for pthread_create() straight from the injected code: the
 * thread detaches itself (nothing joins it) and ends after its capture.
 */
EXPORT void *nc_agent_thread(void *arg)
{
	pthread_detach(pthread_self());
	nc_agent_main(arg);
	return NULL;
}
