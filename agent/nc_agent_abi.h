/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The contract between netcap and its in-process agent (libnetcap-agent.so, loaded into a running
 * DPDK application for `netcap mbuf --inject`; docs/inproc.md). Included by agent/agent.c and by
 * core/inproc/client.c; no DPDK header, no netcap header: fixed-width fields, natural alignment,
 * explicit padding, sizes pinned by _Static_assert at the end.
 *
 * Control: netcap listens on an abstract Unix stream socket whose name (without the leading NUL)
 * is the agent's argument string; the agent connects and the two exchange messages, each a
 * struct nc_agent_msg header followed by `len` bytes of payload:
 *
 *   agent  -> netcap  HELLO    struct nc_agent_hello
 *   netcap -> agent   CONFIG   struct nc_agent_config, and the memfd (SCM_RIGHTS)
 *   agent  -> netcap  READY    struct nc_agent_status (0: hooks installed; or -errno + reason,
 *                              after which the agent has left)
 *   (function hooks only, between CONFIG and READY:)
 *   agent  -> netcap  TRAMPS   struct nc_agent_tramps: per function hook, where netcap writes its
 *                              trampoline and where its data slot is (or READY with a refusal)
 *   netcap -> agent   ARMED    (no payload): every trampoline written, every function patched;
 *                              the agent switches the entries on and answers READY
 *   netcap -> agent   STOP     (no payload; netcap has put the functions' bytes back first)
 *   agent  -> netcap  STOPPED  struct nc_agent_status: every pointer restored, no lcore inside
 *                              a wrapper, the region unmapped; the agent closes the socket
 *
 * The agent leaves the same way, without STOPPED, when the socket closes or netcap's pid (watched
 * with pidfd_open) exits: netcap killed with SIGKILL leaves nothing behind in the application.
 *
 * Shared memory: a memfd made and sized by netcap, sealed against shrinking. At offset 0 a struct
 * nc_agent_region (what netcap laid out, the clock pairs the agent publishes); from offset 4096 a
 * compiled filter's code and program (struct nc_agent_filter), if any; at rings_off,
 * n_hooks * n_slots rings of ring_stride bytes each, ring (hook h, slot s) at
 * rings_off + (h * n_slots + s) * ring_stride.
 * A slot belongs to one application thread (an lcore) for the whole capture: each ring has one
 * producer (that thread) and one consumer (netcap).
 *
 * A ring: struct nc_agent_ring (head and the producer's counters on one cache line, tail two lines
 * further), then ring_bytes of data (a power of two). head and tail count bytes since the start
 * (free-running, offset = pos & (ring_bytes - 1)); the producer writes records at head and
 * publishes head once per burst (release); the consumer reads up to head (acquire) and publishes
 * tail (release). A record: struct nc_agent_record, cap_len packet bytes, padding to a multiple of
 * 8. A record never wraps: where the next one does not fit before the end, the producer writes a
 * NC_AGENT_REC_WRAP marker (size = the bytes to the end) and starts again at offset 0. A full
 * ring drops the packet and counts it (ringfull).
 *
 * Time: one rdtscp per burst with something to keep (its TSC_AUX gives the CPU); netcap converts
 * with the (tsc, CLOCK_MONOTONIC, CLOCK_REALTIME) pairs of the region: `base` taken when the hooks
 * are installed, `now` re-taken by the agent about every 50 ms (a sequence lock: odd while
 * written).
 */
#ifndef NC_AGENT_ABI_H
#define NC_AGENT_ABI_H

#include <stdint.h>

/* version 3: function hooks' entries touch no vector register (their trampolines have no xsave
 * stub): netcap refuses a version 2 agent still loaded in a process rather than hook through it.
 * Version 4: user stacks (-S) at function hooks: NC_AGENT_CFG_STACKS, NC_AGENT_HOOK_SITE and the
 * NC_AGENT_REC_STACK records */
#define NC_AGENT_MAGIC	     0x4741434eu /* "NCAG" */
#define NC_AGENT_VERSION     4
#define NC_AGENT_MAX_HOOKS   64	   /* hooks in one capture (one per port and direction) */
#define NC_AGENT_MAX_PORTS   32	   /* RTE_MAX_ETHPORTS of the builds netcap knows */
#define NC_AGENT_MAX_SLOTS   16	   /* application threads per hook (rings per hook) */
#define NC_AGENT_MAX_QUEUES  1024  /* RTE_MAX_QUEUES_PER_PORT */
#define NC_AGENT_MAX_SEGS    8	   /* segments followed per packet (NC_MAX_SEGS) */
#define NC_AGENT_MAX_SNAPLEN 16384 /* NC_MAX_SNAPLEN */
#define NC_AGENT_QUEUE_ANY   0xffff
#define NC_AGENT_NAME_MAX    100 /* abstract socket name, without the leading NUL */
#define NC_AGENT_TEXT	     160 /* reason text in a status message, NUL-terminated */

enum nc_agent_msg_type {
	NC_AGENT_HELLO = 1,
	NC_AGENT_CONFIG = 2,
	NC_AGENT_READY = 3,
	NC_AGENT_STOP = 4,
	NC_AGENT_STOPPED = 5,
	NC_AGENT_TRAMPS = 6,
	NC_AGENT_ARMED = 7,
};

struct nc_agent_msg {
	uint32_t magic;	  /* NC_AGENT_MAGIC */
	uint16_t version; /* NC_AGENT_VERSION */
	uint16_t type;	  /* enum nc_agent_msg_type */
	uint32_t len;	  /* payload bytes that follow: exactly the payload's struct size */
	uint32_t pad;
};

struct nc_agent_hello {
	uint32_t pid;	   /* the application's (getpid() in the agent) */
	uint32_t tid;	   /* the agent thread */
	uint32_t captures; /* captures this agent served before this one */
	uint32_t pad;
};

struct nc_agent_status {
	int32_t status; /* 0 or a negative errno */
	uint32_t pad;
	uint64_t noslot; /* bursts not captured: more threads than slots (all hooks) */
	char text[NC_AGENT_TEXT];
};

enum nc_agent_hook_kind {
	NC_AGENT_RX = 1, /* rte_eth_fp_ops[port].rx_pkt_burst: what the PMD returns, after it */
	NC_AGENT_TX = 2, /* .tx_pkt_burst: what is handed to the PMD, the accepted ones only */
	/* a function patched to jump into a trampoline (docs/inproc.md "Function hooks"): port
	 * NC_AGENT_PORT_NONE, direction 0, the capture of RX on what the entry is handed */
	NC_AGENT_FUNC_SINGLE = 3, /* func@N: the mbuf of argument N */
	/* func@N@M: argument N's array, argument M's count (low 16 bits) */
	NC_AGENT_FUNC_VECTOR = 4,
	/* func@N@ret[16]: argument N's array read after the call, the count the return value
	 * (its low ret_bits bits) */
	NC_AGENT_FUNC_RET = 5,
};

#define NC_AGENT_PORT_NONE 0xffff /* NC_PORT_UNKNOWN: a function hook's records */

/* nc_agent_hook.flags: a FUNC_SINGLE / FUNC_VECTOR hook at a USDT site, not at a function's
 * entry: its trampoline's stub stepped over the red zone (rsp at the site is 128 bytes above the
 * entry stub's), and the site has no return address at [rsp] */
#define NC_AGENT_HOOK_SITE 1

/* What the agent should do with a burst before copying (the seam of the in-process filter) */
enum nc_agent_filter_kind {
	NC_AGENT_FILTER_NONE = 0,   /* keep everything */
	NC_AGENT_FILTER_REJECT = 1, /* a filter function that keeps nothing (cost of the hook) */
	NC_AGENT_FILTER_COMPILED =
	    2, /* core/jit's code, and the classic program for its slow path */
};

/*
 * NC_AGENT_FILTER_COMPILED: where its pieces are in the memfd, between the region header's page
 * and rings_off. The code (core/jit/burst_jit.h's generated function) depends on the hooks'
 * direction (the tags it leaves to the slow path): [0] serves RX hooks, [1] TX hooks, [2] function
 * hooks (length 0: no hook of that kind). The program: prog_len classic BPF instructions (8 bytes
 * each: code u16, jt u8, jf u8, k u32), run by the agent on the packets the code sends to its slow
 * path, over the first `window` bytes of the packet with its tags put back.
 */
struct nc_agent_filter {
	uint32_t
	    code_off[3]; /* [2]: function hooks (direction unknown: every tag to the slow path) */
	uint32_t code_len[3];
	uint32_t prog_off;
	uint32_t prog_len;
	uint32_t window; /* min(snaplen, 512): the kernel probe's filter window */
	uint32_t pad;
};

struct nc_agent_hook {
	uint32_t id;	   /* netcap's hook id, for its records (the interface of the file) */
	uint8_t kind;	   /* enum nc_agent_hook_kind */
	uint8_t direction; /* enum nc_direction of bpf/nc_record.h: 1 in, 2 out */
	uint16_t port;	   /* < fp_ops_count and < NC_AGENT_MAX_PORTS; FUNC_*: NC_AGENT_PORT_NONE */
	uint16_t queue;	   /* a queue index, or NC_AGENT_QUEUE_ANY */
	uint8_t arg;	   /* FUNC_*: N, 1..16 */
	uint8_t count_arg; /* FUNC_VECTOR: M, 1..16 */
	uint8_t ret_bits;  /* FUNC_RET: 16 or 32 */
	uint8_t flags;	   /* NC_AGENT_HOOK_* */
	uint64_t func;	   /* FUNC_*: the function's address in the application (a USDT site: the
			    * probe's address, where the patch goes) */
	uint64_t sema; /* FUNC_* at a USDT site: the probe's 2-byte semaphore, 0 if none: the agent
			* adds 1 while the hook is armed, as the kernel does for a uprobe with a
			* ref_ctr_offset, and takes it back when it leaves */
};

/* TRAMPS: per hook of the configuration (burst hooks: all 0) */
struct nc_agent_tramp {
	uint64_t
	    tramp;     /* NC_AGENT_TRAMP_BYTES of read+execute memory within +-2 GB of the function:
			* netcap writes the trampoline there through /proc/PID/mem (unless the
			* bytes it would write are there already: a trampoline built before) */
	uint64_t data; /* its struct nc_agent_fh_data, within +-2 GB of tramp */
	uint8_t patched; /* 1: the function's first bytes are a jmp into a trampoline of this
			  * agent (a capture ended without unpatching); orig below holds what they
			  * were */
	uint8_t orig[5];
	uint8_t pad[2];
};

struct nc_agent_tramps {
	uint32_t n; /* = the configuration's n_hooks */
	uint32_t pad;
	struct nc_agent_tramp t[NC_AGENT_MAX_HOOKS];
};

#define NC_AGENT_TRAMP_BYTES 1024

/*
 * Where the agent puts trampolines (agent/fhook.c): regions of NC_AGENT_REGION_TRAMPS
 * trampolines of NC_AGENT_TRAMP_BYTES each (anonymous, read+execute), at addresses that are
 * multiples of NC_AGENT_REGION_ALIGN, followed by one read-write page of their data slots:
 * trampoline i at base + i * NC_AGENT_TRAMP_BYTES, its slot at base + NC_AGENT_REGION_TRAMPS *
 * NC_AGENT_TRAMP_BYTES + i * sizeof(struct nc_agent_fh_data). netcap recognises by this a jump
 * that an earlier capture left in a function (core/inproc/fhook.c).
 */
#define NC_AGENT_REGION_TRAMPS 64
#define NC_AGENT_REGION_ALIGN  (1ull << 20)

/*
 * A trampoline's data slot, in a read-write page of the agent. entry and cookie are core/inject's
 * struct nc_hook_data (read by the stub: entry 0 = no call); orig and orig_set are written by
 * netcap through /proc/PID/mem before it patches the function, so that a later capture learns
 * the function's original bytes from the agent even if this netcap was killed.
 */
struct nc_agent_fh_data {
	uint64_t entry;	 /* written by the agent: its entry, or 0 */
	uint64_t cookie; /* written by the agent: the trampoline's index */
	uint8_t orig[5];
	uint8_t pad[2];
	uint8_t orig_set;  /* 1 once orig is written */
	uint64_t ret;	   /* FUNC_RET, written by the agent: its return side's function (the
			    * trampoline's return stub calls it: never 0 again once set) */
	uint64_t ret_stub; /* FUNC_RET, written by netcap with orig: the return stub's address */
	uint64_t pad2[3];
};

/* Byte offsets of the struct rte_mbuf fields the agent reads (as struct nc_mbuf_layout) */
struct nc_agent_mbuf_layout {
	uint16_t buf_addr, data_off, nb_segs, port, ol_flags, pkt_len, data_len, vlan_tci,
	    vlan_tci_outer, next;
};

/* Byte offsets in struct rte_eth_fp_ops (as struct nc_fp_ops_layout) */
struct nc_agent_fp_ops_layout {
	uint16_t rx_pkt_burst, rxq_data, tx_pkt_burst, txq_data, size;
	uint16_t pad[3];
};

/*
 * nc_agent_config.flags: -S, the user stack of each hook call (function or burst) that keeps a
 * packet, written as a NC_AGENT_REC_STACK record before the call's packet records
 */
#define NC_AGENT_CFG_STACKS 1

struct nc_agent_config {
	uint64_t fp_ops_addr;  /* &rte_eth_fp_ops[0] in the application */
	uint32_t fp_ops_count; /* entries of rte_eth_fp_ops (RTE_MAX_ETHPORTS) */
	uint32_t netcap_pid;   /* the agent leaves when it exits */
	struct nc_agent_fp_ops_layout fp_ops;
	struct nc_agent_mbuf_layout mbuf;
	uint16_t filter;		 /* enum nc_agent_filter_kind */
	uint16_t flags;			 /* NC_AGENT_CFG_* */
	uint32_t snaplen;		 /* 1..NC_AGENT_MAX_SNAPLEN */
	uint32_t n_hooks;		 /* 1..NC_AGENT_MAX_HOOKS */
	uint64_t region_bytes;		 /* the memfd's size; the agent checks it with fstat */
	struct nc_agent_filter compiled; /* NC_AGENT_FILTER_COMPILED only */
	struct nc_agent_hook hooks[NC_AGENT_MAX_HOOKS];
};

/* One (tsc, clock) pair */
struct nc_agent_clock {
	uint64_t tsc;
	uint64_t mono_ns;
	uint64_t real_ns;
};

/* Offset 0 of the memfd */
struct nc_agent_region {
	/* written by netcap before the agent maps it; the agent checks them */
	uint32_t magic;	      /* NC_AGENT_MAGIC */
	uint32_t version;     /* NC_AGENT_VERSION */
	uint32_t n_hooks;     /* = config n_hooks */
	uint32_t n_slots;     /* rings per hook, 1..NC_AGENT_MAX_SLOTS */
	uint64_t ring_bytes;  /* data bytes per ring: a power of two, >= 4096 */
	uint64_t ring_stride; /* sizeof(struct nc_agent_ring) + ring_bytes */
	uint64_t rings_off;   /* offset of ring 0: a multiple of 4096 */
	uint64_t pad0[3];
	/* written by the agent */
	uint64_t clock_seq; /* odd while the pairs are being written */
	struct nc_agent_clock base;
	struct nc_agent_clock now;
	uint32_t agent_pid;
	uint32_t armed; /* 1 while the hooks are installed */
	uint64_t pad1[8];
	/* bursts a hook did not capture because every slot had another thread (atomic adds) */
	uint64_t noslot[NC_AGENT_MAX_HOOKS];
};

/* Ring header; data follows */
struct nc_agent_ring {
	/* producer's line */
	uint64_t head;
	uint64_t seen;	   /* packets the hook saw (TX: accepted by the PMD) */
	uint64_t matched;  /* of those, kept by the filter */
	uint64_t written;  /* records published */
	uint64_t ringfull; /* matched but no room */
	uint32_t tid;	   /* the thread that owns the ring, 0 until it is used */
	uint32_t pad0;
	uint64_t pad1[2];
	uint64_t gap[8]; /* keeps the adjacent-line prefetcher off the consumer's line */
	/* consumer's line */
	uint64_t tail;
	uint64_t pad2[15];
};

/* Record flags: bpf/nc_record.h's NC_REC_* values */
#define NC_AGENT_REC_VLAN_REINSERTED (1u << 0)
#define NC_AGENT_REC_TRUNCATED	     (1u << 1)
#define NC_AGENT_REC_SEGS_CUT	     (1u << 2)

enum nc_agent_rec_kind {
	NC_AGENT_REC_PACKET = 1,
	NC_AGENT_REC_WRAP = 2, /* padding to the end of the data: go on at offset 0 */
	/* -S (NC_AGENT_CFG_STACKS): struct nc_agent_stack, the user stack of the packet records
	 * that follow it in this ring, up to the next one */
	NC_AGENT_REC_STACK = 3,
};

struct nc_agent_record {
	uint32_t size; /* this record's bytes: header, cap_len bytes, padding to 8 */
	uint8_t kind;  /* enum nc_agent_rec_kind; a WRAP marker has only size and kind */
	uint8_t flags; /* NC_AGENT_REC_* */
	uint16_t queue;
	uint32_t cap_len;
	uint32_t wire_len; /* pkt_len plus re-inserted tags */
	uint64_t tsc;	   /* rdtscp of the burst */
	uint64_t mbuf;	   /* the mbuf's address */
	uint32_t cpu;	   /* the CPU of the burst (rdtscp's TSC_AUX & 0xfff) */
	uint32_t pad;
};

/*
 * A user stack: n return addresses, innermost first, from the hook's caller outwards (frame 0,
 * where the hook is, is netcap's to put in: the uprobe path's probe address). At a function's
 * entry the first is the return address at [rsp], then one per frame pointer from rbp; at a USDT
 * site the frames from rbp only. n 0: the stack could not be read (rsp in no stack mapping the
 * agent knows). size = 8 + 8 * n.
 */
#define NC_AGENT_STACK_DEPTH 31 /* NC_USTACK_DEPTH less frame 0 */

struct nc_agent_stack {
	uint32_t size;
	uint8_t kind; /* NC_AGENT_REC_STACK */
	uint8_t n;    /* 0..NC_AGENT_STACK_DEPTH */
	uint16_t pad;
	uint64_t ips[];
};

#define NC_AGENT_ALIGN(n) (((n) + 7u) & ~7u)

_Static_assert(NC_AGENT_REGION_TRAMPS * sizeof(struct nc_agent_fh_data) <= 4096,
	       "a region's data slots fit its page");
_Static_assert(sizeof(struct nc_agent_msg) == 16, "nc_agent_msg");
_Static_assert(sizeof(struct nc_agent_hello) == 16, "nc_agent_hello");
_Static_assert(sizeof(struct nc_agent_status) == 16 + NC_AGENT_TEXT, "nc_agent_status");
_Static_assert(sizeof(struct nc_agent_hook) == 32, "nc_agent_hook");
_Static_assert(sizeof(struct nc_agent_filter) == 40, "nc_agent_filter");
_Static_assert(sizeof(struct nc_agent_config) == 112 + 32 * NC_AGENT_MAX_HOOKS, "nc_agent_config");
_Static_assert(sizeof(struct nc_agent_tramp) == 24, "nc_agent_tramp");
_Static_assert(sizeof(struct nc_agent_tramps) == 8 + 24 * NC_AGENT_MAX_HOOKS, "nc_agent_tramps");
_Static_assert(sizeof(struct nc_agent_fh_data) == 64, "nc_agent_fh_data");
_Static_assert(sizeof(struct nc_agent_region) == 192 + 8 * NC_AGENT_MAX_HOOKS, "nc_agent_region");
_Static_assert(sizeof(struct nc_agent_ring) == 256, "nc_agent_ring");
_Static_assert(__builtin_offsetof(struct nc_agent_ring, tail) == 128, "tail two lines off head");
_Static_assert(sizeof(struct nc_agent_record) == 40, "nc_agent_record");
_Static_assert(sizeof(struct nc_agent_stack) == 8, "nc_agent_stack");

#endif
