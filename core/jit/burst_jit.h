/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process packet filter: a classic BPF program (libpcap's, see core/filter/cbpf.h)
 * compiled to x86-64 machine code that filters a whole burst of DPDK mbufs in one call, for the
 * agent that captures inside a DPDK application at its PMD burst functions.
 *
 * Plain C, no global state; netcap compiles (core/inproc/client.c) and the agent only runs the
 * code. The program is checked by nc_cbpf_check() (core/filter/cbpf_check.c), as for the kernel.
 *
 * The generated function (System V ABI, position independent, no relocations):
 *
 *   uint32_t fn(void *const *mbufs, uint32_t n, uint32_t *verdict, nc_jit_slow_fn slow,
 *               void *ctx);
 *
 * For i in 0..n-1 it writes verdict[i], the value libpcap's bpf_filter() returns for mbufs[i]
 * presented as netcap's kernel probe presents it (bpf/mbuf.bpf.c): the packet's first
 * `layout->window` bytes (at most NC_JIT_MAX_WINDOW), gathered across segments, with the VLAN
 * tags the NIC stripped (or is to insert) put back, and its wire length (pkt_len plus 4 per
 * tag). 0 means no match; otherwise the program's `ret` value (the snap length for libpcap's
 * programs). It returns how many verdicts are not 0. n == 0 returns 0 and touches nothing.
 *
 * Fast path: the filter reads the first segment directly (buf_addr + data_off, data_len bytes,
 * at most the window; nothing past them, and no later segment) and `len` is pkt_len. A NULL
 * entry in mbufs gets verdict 0 (the kernel path counts it unreadable and captures nothing) and
 * no call. The code writes nothing but verdict[0..n-1], keeps no state between calls, and may
 * run on any number of threads at once.
 *
 * Slow path: the generated code calls
 *
 *   verdict[i] = slow(ctx, mbufs[i], i);
 *
 * for exactly the packets it cannot decide alone, at most once per packet, in burst order, on
 * the calling thread, and moves on to packet i + 1 with whatever slow returned:
 *  - ol_flags & layout->slow_flags is not 0 (a tag to put back: nc_jit_layout_init() picks the
 *    flags of the hook's direction), before the filter runs;
 *  - the filter loads a byte beyond the first segment's data_len, inside the window, and the
 *    packet has more (nb_segs > 1 or pkt_len > data_len); the partial run is dropped, the filter
 *    has no side effects.
 * slow must not be NULL. It must return what libpcap's bpf_filter() returns for that packet as
 * the kernel probe presents it (linearize the window across segments, put the tags back, run
 * an interpreter: nc_jit_run()). It may read mbufs and verdict[0..i-1], must not write them, and
 * must not unwind (longjmp) out of the generated code. It is called with the stack 16-byte aligned.
 *
 * Loads outside the window reject (verdict 0), as in bpf_filter(); so do loads past the data
 * of a packet whose first segment holds all of it. Division or modulo by X == 0 rejects; a
 * shift by X >= 32 gives 0. `M[]` starts zeroed for every packet, A and X start at 0.
 * Backward jumps (libpcap's `protochain`) are followed up to NC_JIT_MAX_BACKWARD times per
 * packet, then the packet is rejected, as libpcap's current interpreter does
 * (MAX_BACKWARD_JUMPS); Debian 12's libpcap 1.10.3 has no such limit, and follows a program
 * that loops for ever for ever.
 */
#ifndef NC_BURST_JIT_H
#define NC_BURST_JIT_H

#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_filter_abi.h"
#include "../discover/dpdk.h"
#include "../filter/cbpf.h"

/* the most bytes of a packet the filter sees: the kernel path's window */
#define NC_JIT_MAX_WINDOW NC_FILTER_WINDOW

/* backward jumps followed per packet before it is rejected (libpcap's MAX_BACKWARD_JUMPS) */
#define NC_JIT_MAX_BACKWARD 64

/* Where the fields the filter reads are in struct rte_mbuf, and what the filter sees. */
struct nc_jit_layout {
	/* byte offsets in struct rte_mbuf: nc_dpdk_mbuf_layout() (core/discover/dpdk.h) */
	uint16_t buf_addr; /* void * */
	uint16_t data_off; /* uint16_t */
	uint16_t data_len; /* uint16_t */
	uint16_t pkt_len;  /* uint32_t */
	uint16_t nb_segs;  /* uint16_t */
	uint16_t ol_flags; /* uint64_t */
	/* the bytes the filter sees at most: min(snap length, NC_JIT_MAX_WINDOW), 1..512 */
	uint32_t window;
	/*
	 * ol_flags bits that send a packet to the slow path: the flags under which the kernel
	 * probe re-inserts tags. An rx hook: NC_MBUF_F_RX_VLAN_STRIPPED |
	 * NC_MBUF_F_RX_QINQ_STRIPPED; a tx hook: NC_MBUF_F_TX_VLAN | NC_MBUF_F_TX_QINQ; a hook of
	 * unknown direction: all four.
	 */
	uint64_t slow_flags;
};

/*
 * Fills *lay for mbufs of layout m (nc_dpdk_mbuf_layout()), a hook of the given direction
 * (NC_DIR_IN, NC_DIR_OUT or NC_DIR_NONE of bpf/nc_record.h: the tags the kernel probe puts back
 * for it) and the capture's snap length (the window is the smaller of it and
 * NC_JIT_MAX_WINDOW).
 */
void nc_jit_layout_init(struct nc_jit_layout *lay, const struct nc_mbuf_layout *m,
			unsigned direction, uint32_t snaplen);

/* The slow path's callback: the verdict of mbufs[index] (see above). */
typedef uint32_t (*nc_jit_slow_fn)(void *ctx, void *mbuf, uint32_t index);

/* The generated function (see above). */
typedef uint32_t (*nc_jit_burst_fn)(void *const *mbufs, uint32_t n, uint32_t *verdict,
				    nc_jit_slow_fn slow, void *ctx);

/*
 * Compiles the classic BPF program prog[0..len-1] for the mbuf layout. On success *code is a
 * malloc'ed buffer of *code_len bytes of the generated function (free() it; run it from a copy
 * in executable memory, e.g. nc_jit_map()) and 0 is returned. On failure returns -EINVAL
 * (what nc_cbpf_check() of core/filter/cbpf.h refuses, with its message, or a bad layout),
 * -E2BIG (over BPF_MAXINSNS
 * instructions), -ENOMEM or -EFAULT (a bug of the compiler, named as such), with one line in
 * err, and leaves *code and *code_len unchanged.
 */
int nc_jit_compile(const struct nc_cbpf_insn *prog, unsigned len,
		   const struct nc_jit_layout *layout, uint8_t **code, size_t *code_len, char *err,
		   size_t errlen);

/*
 * The slow path's interpreter: the verdict of prog on the buflen bytes at pkt (the window, made
 * as the kernel probe makes it) and the wire length, with exactly the generated code's
 * semantics (above), which are libpcap's bpf_filter(). For a program nc_jit_compile() takes;
 * any other ends with 0 where it goes wrong. No state, no allocation.
 */
uint32_t nc_jit_run(const struct nc_cbpf_insn *prog, unsigned len, const uint8_t *pkt,
		    uint32_t wirelen, uint32_t buflen);

/*
 * Copies code into fresh executable memory (mmap, then mprotect to read+execute: never
 * writable and executable at once) and returns it as the function in *fn. 0 or a negative
 * errno with one line in err. Release with nc_jit_unmap(*fn, code_len).
 */
int nc_jit_map(const uint8_t *code, size_t code_len, nc_jit_burst_fn *fn, char *err, size_t errlen);
void nc_jit_unmap(nc_jit_burst_fn fn, size_t code_len);

#endif
