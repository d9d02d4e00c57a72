/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mbuf mode: uprobes and uretprobes on DPDK functions that take struct rte_mbuf * or
 * struct rte_mbuf ** + count. The attach cookie is the hook id; the hook's configuration says
 * where its mbufs are. For each mbuf: read the mbuf header, copy a header window (re-inserting
 * a VLAN tag the NIC stripped or is to insert), run the filter, copy the rest up to the snap
 * length on a match, and put a record into the ring without waking the reader until enough data
 * is pending (a wakeup per record costs ~1.6 us on the probed thread).
 */
/*
 * No vmlinux.h: user-space registers are the uapi struct pt_regs, so the probe has no CO-RE
 * relocation and loading it does not have to parse the kernel's BTF (~100 ms here).
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "nc_filter.bpf.h"
#include "nc_record.h"

#include "nc_capture.bpf.h"

/* ol_flags bits (rte_mbuf_core.h, the same from 21.11 to 24.11) */
#define RX_VLAN_STRIPPED (1ULL << 6)
#define RX_QINQ_STRIPPED (1ULL << 15)
#define TX_QINQ		 (1ULL << 49)
#define TX_VLAN		 (1ULL << 57)

const volatile struct nc_mbuf_probe_cfg cfg = {
    .snaplen = 262144 & (NC_MAX_SNAPLEN - 1),
    .window = NC_FILTER_WINDOW,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NC_MAX_HOOKS);
	__type(key, __u32);
	__type(value, struct nc_hook_cfg);
} hooks SEC(".maps");

/* queue pointer -> port and queue, for PMD burst functions shared by several ports */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct nc_queue_key);
	__type(value, struct nc_queue_id);
} queues SEC(".maps");

struct saved_key {
	__u32 tid;
	__u32 hook;
};

struct saved_args {
	__u64 array;
	__u64 queue;
	__s64 stack_id; /* the user stack at entry (-S), or -1 */
};

/* func@N@ret: arguments remembered at entry until the return, per thread and hook */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct saved_key);
	__type(value, struct saved_args);
} saved SEC(".maps");

/* the mbuf pointers of one burst */
struct burst {
	__u64 mbufs[NC_MAX_BURST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct burst);
} burst_map SEC(".maps");

/* -S: each distinct user stack is kept under its hash (31 bits), the id its records carry. A
 * hash, not a counter: a shared counter needs an atomic fetch-and-add, which kernels before 5.12
 * refuse anywhere in a program. Two stacks with one hash: the second is reported as lost. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* user space sizes it with -S */
	__type(key, __u32);
	__type(value, struct nc_ustack);
} ustacks SEC(".maps");

/* the stack being looked up */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nc_ustack);
} ustack_buf SEC(".maps");

/* A field of a struct rte_mbuf read into `hdr`, at an offset from the layout (rodata) */
#define FIELD(hdr, type, off) (*(type *)((hdr) + ((off) & (NC_MBUF_HDR - sizeof(type)))))

/* Register argument n (1-based) of the probed function; 0 for n out of range. The registers are
 * read at fixed offsets first: the verifier refuses a context access at a computed offset. */
static __always_inline __u64 arg(struct pt_regs *ctx, int n)
{
	__u64 a[8] = {
		0,
		PT_REGS_PARM1(ctx),
		PT_REGS_PARM2(ctx),
		PT_REGS_PARM3(ctx),
		PT_REGS_PARM4(ctx),
		PT_REGS_PARM5(ctx),
#if defined(__TARGET_ARCH_x86)
		ctx->r9, /* libbpf 1.1 has no PT_REGS_PARM6 */
#else
		0,
#endif
		0,
	};

	return a[n & 7];
}

/*
 * A hook's argument: register argument n, or for a USDT probe what its note's spec says (a
 * register, user memory at a register plus an offset, a constant), cut to its size and sign.
 * pt_regs is read through a helper: a context access must be at a constant offset.
 */
static __always_inline __u64 loc_arg(struct pt_regs *ctx, const struct nc_arg_loc *l, int n)
{
	__u32 size = l->size < 0 ? -l->size : l->size;
	__u64 v = 0, reg = 0;
	int shift;

	if (l->type == NC_ARG_ABI)
		return arg(ctx, n);
	if (size < 1 || size > 8)
		return 0;
	if (l->type == NC_ARG_CONST) {
		v = l->val_off;
	} else {
		if (l->reg_off > sizeof(struct pt_regs) - sizeof(reg) ||
		    bpf_probe_read_kernel(&reg, sizeof(reg), (void *)ctx + l->reg_off))
			return 0;
		v = reg;
		if (l->type == NC_ARG_REG_DEREF &&
		    bpf_probe_read_user(&v, size, (void *)(reg + l->val_off)))
			return 0;
	}
	shift = 64 - 8 * size;
	v <<= shift;
	return l->size < 0 ? (__u64)((__s64)v >> shift) : v >> shift;
}

/*
 * -S: the id of the user stack of this call (NC_USTACK_NONE, NC_USTACK_FULL). The kernel walks
 * frame pointers from rbp; a probe at a function's entry has its return address at [rsp] and no
 * frame yet, so that frame is put in as the second.
 */
static __always_inline __s64 user_stack(struct pt_regs *ctx, const struct nc_hook_cfg *h)
{
	struct nc_ustack *st, *kept;
	__u32 zero = 0, id;
	__u64 ret = 0, hash = 0xcbf29ce484222325ULL;

	if (!cfg.stacks)
		return NC_USTACK_NONE;
	st = bpf_map_lookup_elem(&ustack_buf, &zero);
	if (!st)
		return NC_USTACK_NONE;
	if (h->at_entry) {
		if (bpf_get_stack(ctx, &st->ips[1], sizeof(st->ips) - sizeof(__u64),
				  BPF_F_USER_STACK) <= 0 ||
		    bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)))
			return NC_USTACK_NONE;
		st->ips[0] = st->ips[1];
		st->ips[1] = ret;
	} else if (bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK) <= 0) {
		return NC_USTACK_NONE;
	}
	/* FNV-1a over the frames (bpf_get_stack zeroes the rest), 64-bit, folded to 31 bits */
	for (int i = 0; i < NC_USTACK_DEPTH; i++) {
		hash ^= st->ips[i];
		hash *= 0x100000001b3ULL;
	}
	id = (__u32)(hash ^ hash >> 32) & 0x7fffffff;
	kept = bpf_map_lookup_elem(&ustacks, &id);
	if (!kept) {
		if (bpf_map_update_elem(&ustacks, &id, st, BPF_NOEXIST) == 0)
			return id;
		kept = bpf_map_lookup_elem(&ustacks, &id); /* another CPU was first, or full */
		if (!kept)
			return NC_USTACK_FULL;
	}
	/* this stack, or another one of the same hash */
	for (int i = 0; i < NC_USTACK_DEPTH; i++)
		if (kept->ips[i] != st->ips[i])
			return NC_USTACK_FULL;
	return id;
}

/* The stack id the records of this hook call carry (set before capture_mbuf, per CPU) */
static __always_inline void set_stack_id(__s64 id)
{
	struct scratch *s = nc_scratch();

	if (s)
		s->rec.stack_id = (__s32)id;
}

/* the first NC_MBUF_HDR bytes of a struct rte_mbuf */
struct mbuf_hdr {
	__u8 b[NC_MBUF_HDR];
};

/*
 * The mbuf's first NC_MBUF_PRE bytes, read at once: the header (128), the usual headroom (128)
 * and the start of the data, which in a DPDK mempool follows the header. One user-memory read
 * per packet instead of two for packets that fit (the per-call cost of bpf_probe_read_user, not
 * the bytes, is most of a small packet's capture cost; docs/performance.md).
 */
#define NC_MBUF_PRE 512

struct mbuf_pre {
	__u64 at;   /* the mbuf's user address */
	__u32 have; /* bytes of b[] read: pre_len(), or NC_MBUF_HDR when that failed */
	__u32 pad;
	__u8 b[NC_MBUF_PRE + NC_FILTER_WINDOW]; /* read: pre_len(); the rest: room for a filter
						 * window starting anywhere in the first part */
	struct mbuf_hdr seg; /* the header of a later segment (here: 512 bytes of stack is all a
			      * call chain has, 5.x to 6.1 count every frame of it) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mbuf_pre);
} pre_map SEC(".maps");

/*
 * Bytes of an mbuf read at once: the header, the usual headroom and what the filter's window and
 * the snap length need of the data after it, in whole cache lines; no more (reading the
 * headroom and data the capture does not use cost ~5 % at 64-byte packets and snap 128).
 */
static __always_inline __u32 pre_len(void)
{
	__u32 n = 2 * NC_MBUF_HDR + (cfg.window < cfg.snaplen ? cfg.window : cfg.snaplen);

	n = (n + 63) & ~63u;
	return n > NC_MBUF_PRE ? NC_MBUF_PRE : n;
}

/*
 * The records of one probe hit, put into the ring with one bpf_ringbuf_output() at the end of the
 * hit (or when the next would not fit): a reservation per packet, under the ring's lock, was the
 * largest cost of a burst (docs/performance.md). Several records share one timestamp, taken
 * before the output, as one record's was (the reader merges rings by it).
 */
#define NC_BATCH_BYTES 32768

_Static_assert(NC_BATCH_BYTES >= sizeof(struct nc_record) + NC_MAX_SNAPLEN,
	       "a batch holds the largest record");

struct batch {
	__u64 unchecked; /* bytes this CPU put into the ring since it last asked how full it is */
	__u32 len;	 /* bytes of b[] used */
	__u32 n;	 /* records in b[] */
	__u32 last;	 /* offset of the last record in b[] */
	__u32 hook;	 /* the hook the records count under */
	__u32 cpu, pid, tid, pad;
	__u8 b[2 * NC_BATCH_BYTES]; /* room for an offset < NC_BATCH_BYTES plus a record */
};

/* One slot per CPU, indexed by CPU id (too large for a per-CPU array's value) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct batch);
} batch_map SEC(".maps");

/* batch_add(): records of at most this many 8-byte words are copied without a helper */
#define COPY_WORDS 32

static __always_inline struct batch *batch_of_cpu(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&batch_map, &cpu);
}

/*
 * Puts the CPU's pending records into the ring as one sample, stamped now; the reader is woken
 * only when wake_bytes are pending (asked every wake_bytes / 16 written by this CPU: asking per
 * record cost ~8 % of a capture; the reader also drains every 100 ms). Counts written or
 * ringfull.
 */
static __always_inline void batch_flush(struct batch *bt)
{
	struct nc_record *first = (struct nc_record *)bt->b;
	struct nc_counters *cnt;
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 len = bt->len, n = bt->n;

	if (!n)
		return;
	bt->n = 0;
	bt->len = 0;
	bt->b[(bt->last + __builtin_offsetof(struct nc_record, flags)) & (NC_BATCH_BYTES - 1)] &=
	    ~NC_REC_MORE;
	first->ts_ns = bpf_ktime_get_ns();
	if (len > NC_BATCH_BYTES)
		len = NC_BATCH_BYTES;
	bt->unchecked += len;
	if (bt->unchecked >= cfg.wake_bytes / 16) {
		bt->unchecked = 0;
		if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) >= cfg.wake_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	cnt = nc_counters_of(bt->hook);
	if (bpf_ringbuf_output(&ring, bt->b, len, flags)) {
		if (cnt)
			cnt->ringfull += n;
		return;
	}
	if (cnt)
		cnt->written += n;
}

/* The CPU's pending records into the ring (at the end of a probe hit) */
static __always_inline void flush(void)
{
	struct batch *bt = batch_of_cpu();

	if (bt)
		batch_flush(bt);
}

/*
 * Appends s->rec (its header filled by the caller except the common fields set here) and `copied`
 * bytes of s->data to the CPU's pending records, putting those into the ring first when it would
 * not fit or they count under another hook.
 */
static __always_inline void batch_add(struct scratch *s, __u64 object, __u32 hook, __u32 wire,
				      __u32 copied)
{
	struct batch *bt = batch_of_cpu();
	__u32 size, off;

	if (!bt)
		return;
	copied = nc_clamp(copied);
	size = sizeof(s->rec) + copied;
	if (bt->n && (bt->hook != hook || bt->len + size > NC_BATCH_BYTES))
		batch_flush(bt);
	if (!bt->n) {
		__u64 id = bpf_get_current_pid_tgid();

		bt->hook = hook;
		bt->cpu = bpf_get_smp_processor_id();
		bt->pid = id >> 32;
		bt->tid = (__u32)id;
	}
	s->rec.object = object;
	s->rec.hook = hook;
	s->rec.cpu = bt->cpu;
	s->rec.pid = bt->pid;
	s->rec.tid = bt->tid;
	s->rec.wire_len = wire;
	s->rec.cap_len = copied;
	if (copied < wire)
		s->rec.flags |= NC_REC_TRUNCATED;
	s->rec.flags |= NC_REC_MORE; /* cleared on the last at the flush */
	off = bt->len & (NC_BATCH_BYTES - 1);
	if (size <= 8 * COPY_WORDS) {
		/* a small record (snap 128 and less) copied by the program, 8 bytes at a time: a
		 * helper call per record cost more (the bytes past size are overwritten by the next
		 * record, or not sent) */
		__u8 *dst = bt->b + off;

		for (int i = 0; i < COPY_WORDS; i++) {
			if (i * 8 >= (int)size)
				break;
			*(__u64 *)(dst + i * 8) = *(__u64 *)((__u8 *)s + i * 8);
			barrier(); /* a loop, not a call of memcpy */
		}
	} else if (bpf_probe_read_kernel(bt->b + off, size, s)) {
		return;
	}
	bt->last = off;
	bt->len = off + size;
	bt->n++;
}

/* copy_packet(): the segment chain was longer than NC_MAX_SEGS and the copy stopped short */
#define COPY_CUT (1 << 30)

/*
 * Copies `len` bytes of packet memory at user address `addr` to offset `off` of the CPU's scratch
 * record, or fewer so as to end at `limit`. Returns the new offset, or -1 if the memory could not
 * be read. Global, so that the verifier checks it once, not once per segment of copy_packet().
 */
__noinline int copy_chunk(__u64 addr, __u32 len, __u32 off, __u32 limit)
{
	struct scratch *s = nc_scratch();
	__u32 chunk = len;

	if (!s)
		return -1;
	if (limit > NC_MAX_SNAPLEN)
		limit = NC_MAX_SNAPLEN;
	if (off >= limit)
		return off;
	if (chunk > limit - off)
		chunk = limit - off;
	chunk = nc_clamp(chunk);
	if (chunk &&
	    bpf_probe_read_user(s->data + (off & (NC_MAX_SNAPLEN - 1)), chunk, (void *)addr))
		return -1;
	return off + chunk;
}

/*
 * Copies up to `limit` bytes of the packet whose mbuf header the CPU's pre_map slot holds into
 * the CPU's scratch record, walking the segment chain, with `ntags` VLAN tags (`tags`, 8 bytes
 * in memory order) inserted after the 12 address bytes. Returns the bytes copied, with COPY_CUT
 * set when the chain had more than NC_MAX_SEGS segments, or -1 if packet memory could not be
 * read. Global, so that the verifier checks its segment loop once rather than at each of its two
 * call sites (this was most of the time to attach); scalar arguments only, as global functions
 * take before Linux 5.12.
 */
__noinline int copy_packet(__u32 limit, __u64 tags, __u32 ntags)
{
	__u32 zero = 0;
	struct mbuf_pre *m = bpf_map_lookup_elem(&pre_map, &zero);
	struct scratch *s = nc_scratch();
	__u64 addr, next;
	__u32 len, nb_segs, off = 0, chunk;

	if (!m || !s)
		return -1;
	addr = FIELD(m->b, __u64, cfg.mbuf.buf_addr) + FIELD(m->b, __u16, cfg.mbuf.data_off);
	len = FIELD(m->b, __u16, cfg.mbuf.data_len);
	next = FIELD(m->b, __u64, cfg.mbuf.next);
	nb_segs = FIELD(m->b, __u16, cfg.mbuf.nb_segs);
	if (limit > NC_MAX_SNAPLEN)
		limit = NC_MAX_SNAPLEN;
	/* the first segment: 12 address bytes, the tags, the rest */
	if (ntags) {
		if (len < 12 || limit < 12 + 4 * ntags) {
			ntags = 0;
		} else {
			if (bpf_probe_read_user(s->data, 12, (void *)addr))
				return -1;
			if (ntags > 2)
				ntags = 2;
			__builtin_memcpy(s->data + 12, &tags, 4);
			if (ntags == 2)
				__builtin_memcpy(s->data + 16, (__u8 *)&tags + 4, 4);
			off = 12 + 4 * ntags;
			addr += 12;
			len -= 12;
		}
	}
	for (int i = 0; i < NC_MAX_SEGS; i++) {
		int ret;

		if (off >= limit)
			break;
		/* the first segment's bytes may be in the copy read with the header */
		chunk = len < limit - off ? len : limit - off;
		if (i == 0 && addr >= m->at && addr - m->at <= m->have &&
		    chunk <= m->have - (addr - m->at)) {
			chunk = nc_clamp(chunk);
			if (chunk &&
			    bpf_probe_read_kernel(s->data + (off & (NC_MAX_SNAPLEN - 1)), chunk,
						  m->b + ((addr - m->at) & (NC_MBUF_PRE - 1))))
				return -1;
			ret = off + chunk;
		} else {
			ret = copy_chunk(addr, len, off, limit);
		}
		if (ret < 0)
			return -1;
		off = ret;
		if (i + 1 >= (int)nb_segs || !next)
			return off;
		if (bpf_probe_read_user(&m->seg, sizeof(m->seg), (void *)next))
			return -1;
		addr = FIELD(m->seg.b, __u64, cfg.mbuf.buf_addr) +
		       FIELD(m->seg.b, __u16, cfg.mbuf.data_off);
		len = FIELD(m->seg.b, __u16, cfg.mbuf.data_len);
		next = FIELD(m->seg.b, __u64, cfg.mbuf.next);
	}
	return off | (off < limit && nb_segs > NC_MAX_SEGS ? COPY_CUT : 0);
}

/*
 * Captures one mbuf for `hook`. Global, so that the verifier checks it once however many burst
 * slots call it. Returns 0.
 */
__noinline int capture_mbuf(__u32 hook, __u64 mbuf, __u32 direction, __u32 port_queue)
{
	struct mbuf_pre *m;
	__u8 *hdr, tags[8] = {};
	__u32 zero = 0;
	struct nc_counters *cnt = nc_counters_of(hook);
	__u32 ntags = 0, wire, limit, copied, pre = pre_len();
	bool filtered = false;
	struct scratch *s;
	__u64 ol_flags, tag_bytes;
	int ret;

	if (!cnt)
		return 0;
	cnt->seen++;
	s = nc_scratch();
	if (!s)
		return 0;
	m = bpf_map_lookup_elem(&pre_map, &zero);
	if (!m)
		return 0;
	hdr = m->b;
	m->at = mbuf;
	m->have = pre;
	if (mbuf && bpf_probe_read_user(m->b, pre, (void *)mbuf))
		m->have = NC_MBUF_HDR; /* the mbuf ends a mapping: its header alone */
	if (!mbuf ||
	    (m->have == NC_MBUF_HDR && bpf_probe_read_user(m->b, NC_MBUF_HDR, (void *)mbuf))) {
		cnt->readerr++;
		return 0;
	}
	ol_flags = FIELD(hdr, __u64, cfg.mbuf.ol_flags);
	wire = FIELD(hdr, __u32, cfg.mbuf.pkt_len);

	/* tags a NIC stripped (rx) or is to insert (tx): the outer one first */
	if ((direction != NC_DIR_OUT && (ol_flags & RX_QINQ_STRIPPED) &&
	     (ol_flags & RX_VLAN_STRIPPED)) ||
	    (direction != NC_DIR_IN && (ol_flags & TX_QINQ))) {
		__u16 outer = FIELD(hdr, __u16, cfg.mbuf.vlan_tci_outer);
		__u16 inner = FIELD(hdr, __u16, cfg.mbuf.vlan_tci);

		tags[0] = 0x88, tags[1] = 0xa8, tags[2] = outer >> 8, tags[3] = outer & 0xff;
		tags[4] = 0x81, tags[5] = 0x00, tags[6] = inner >> 8, tags[7] = inner & 0xff;
		ntags = 2;
	} else if ((direction != NC_DIR_OUT && (ol_flags & RX_QINQ_STRIPPED)) ||
		   (direction != NC_DIR_OUT && (ol_flags & RX_VLAN_STRIPPED)) ||
		   (direction != NC_DIR_IN && (ol_flags & TX_VLAN))) {
		/* QinQ stripped without VLAN stripped: only the outer tag was removed */
		__u16 tci = (ol_flags & RX_QINQ_STRIPPED)
				? FIELD(hdr, __u16, cfg.mbuf.vlan_tci_outer)
				: FIELD(hdr, __u16, cfg.mbuf.vlan_tci);

		tags[0] = 0x81, tags[1] = 0x00, tags[2] = tci >> 8, tags[3] = tci & 0xff;
		ntags = 1;
	}
	wire += 4 * ntags;

	/* the header window first, the filter on it, the rest only on a match */
	limit = cfg.window < cfg.snaplen ? cfg.window : cfg.snaplen;
	/* the window as it is in the copy read with the header (no tag to put in, all of it in
	 * the first segment): filtered there, so that a packet not kept is not copied at all */
	if (!ntags) {
		__u64 addr =
		    FIELD(hdr, __u64, cfg.mbuf.buf_addr) + FIELD(hdr, __u16, cfg.mbuf.data_off);
		__u32 len = FIELD(hdr, __u16, cfg.mbuf.data_len), n = len < limit ? len : limit;

		if (addr >= mbuf && addr - mbuf <= m->have && n <= m->have - (addr - mbuf) &&
		    (n == limit || FIELD(hdr, __u16, cfg.mbuf.nb_segs) <= 1 ||
		     !FIELD(hdr, __u64, cfg.mbuf.next))) {
			if (!nc_filter_l2((struct nc_filter_window *)(m->b + ((addr - mbuf) &
									      (NC_MBUF_PRE - 1))),
					  n < NC_FILTER_WINDOW ? n : NC_FILTER_WINDOW, wire))
				return 0;
			filtered = true;
		}
	}
	__builtin_memcpy(&tag_bytes, tags, sizeof(tag_bytes));
	ret = copy_packet(limit, tag_bytes, ntags);
	if (ret < 0) {
		cnt->readerr++;
		return 0;
	}
	copied = ret & ~COPY_CUT;
	if (!filtered && !nc_filter_l2((struct nc_filter_window *)s->data,
				       copied < NC_FILTER_WINDOW ? copied : NC_FILTER_WINDOW, wire))
		return 0;
	cnt->matched++;
	if (copied == limit && limit < cfg.snaplen && copied < wire) {
		ret = copy_packet(cfg.snaplen, tag_bytes, ntags);
		if (ret < 0) {
			cnt->readerr++;
			return 0;
		}
		copied = ret & ~COPY_CUT;
	}
	s->rec.port = port_queue >> 16;
	s->rec.queue = port_queue & 0xffff;
	s->rec.direction = direction;
	s->rec.flags =
	    (ntags ? NC_REC_VLAN_REINSERTED : 0) | (ret & COPY_CUT ? NC_REC_SEGS_CUT : 0);
	s->rec.aux = 0; /* stack_id: set by the caller (set_stack_id) */
	batch_add(s, mbuf, hook, wire, copied);
	return 0;
}

/*
 * The port and queue (port << 16 | queue) of a PMD queue pointer, and the hook the packet counts
 * under: the (port, queue)'s own when the queue is known. False if the hook wants only known
 * queues and this one is not.
 */
static __always_inline bool port_queue_of(const struct nc_hook_cfg *h, __u64 queue, __u32 *pq,
					  __u32 *hook)
{
	struct nc_queue_id *q;

	*pq = NC_PORT_UNKNOWN << 16;
	if (!h->arg_queue)
		return true;
	struct nc_queue_key key = {.queue = queue, .pid = bpf_get_current_pid_tgid() >> 32};

	q = bpf_map_lookup_elem(&queues, &key);
	if (q) {
		*pq = (__u32)q->port << 16 | q->queue;
		*hook = q->hook;
	}
	return q || !h->queue_only;
}

/*
 * Captures `count` mbufs of the array at user address `array`: a bounded loop that calls the
 * global capture_mbuf(), so the verifier walks NC_MAX_BURST short iterations (bpf_loop() would
 * need Linux 5.17).
 */
static __always_inline void capture_burst(__u32 hook, const struct nc_hook_cfg *h, __u64 array,
					  __u32 count, __u32 pq)
{
	__u32 key = 0, direction = h->direction;
	struct burst *b = bpf_map_lookup_elem(&burst_map, &key);
	__u64 size;

	if (!b || !array || !count)
		return;
	if (count > NC_MAX_BURST)
		count = NC_MAX_BURST;
	size = (__u64)count * sizeof(__u64);
	if (size > sizeof(b->mbufs))
		size = sizeof(b->mbufs);
	barrier_var(size); /* the read below must use the clamped register (verifier) */
	if (bpf_probe_read_user(b->mbufs, size, (void *)array)) {
		struct nc_counters *cnt = nc_counters_of(hook);

		if (cnt)
			cnt->readerr++;
		return;
	}
	for (__u32 i = 0; i < NC_MAX_BURST; i++) {
		if (i >= count)
			break;
		capture_mbuf(hook, b->mbufs[i], direction, pq);
	}
}

/* The hook of this call: this instance's own, or the attach cookie (where the kernel has them;
 * on older kernels the branch is never taken and the verifier does not see the helper) */
static __always_inline __u32 hook_of(struct pt_regs *ctx)
{
	return cfg.hook ? cfg.hook - 1 : (__u32)bpf_get_attach_cookie(ctx);
}

SEC("netcap.uprobe")
int nc_mbuf_entry(struct pt_regs *ctx)
{
	__u32 hook = hook_of(ctx), pq;
	struct nc_hook_cfg *h = bpf_map_lookup_elem(&hooks, &hook);

	if (!h || (!nc_on && h->kind != NC_HOOK_RET_SAVE))
		return 0;
	if (h->kind != NC_HOOK_RET_SAVE)
		set_stack_id(user_stack(ctx, h));
	switch (h->kind) {
	case NC_HOOK_SINGLE:
		if (port_queue_of(h, arg(ctx, h->arg_queue), &pq, &hook))
			capture_mbuf(hook, loc_arg(ctx, &h->loc_pkt, h->arg_pkt), h->direction, pq);
		break;
	case NC_HOOK_VECTOR:
		if (port_queue_of(h, arg(ctx, h->arg_queue), &pq, &hook))
			capture_burst(hook, h, loc_arg(ctx, &h->loc_pkt, h->arg_pkt),
				      (__u32)loc_arg(ctx, &h->loc_cnt, h->arg_cnt) & 0xffff, pq);
		break;
	case NC_HOOK_RET_SAVE: {
		struct saved_key k = {.tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook};
		struct saved_args a = {.array = arg(ctx, h->arg_pkt),
				       .queue = h->arg_queue ? arg(ctx, h->arg_queue) : 0,
				       .stack_id = user_stack(ctx, h)};

		bpf_map_update_elem(&saved, &k, &a, BPF_ANY);
		break;
	}
	}
	flush();
	return 0;
}

SEC("netcap.uretprobe")
int nc_mbuf_return(struct pt_regs *ctx)
{
	__u32 hook = hook_of(ctx), pq, count;
	struct saved_key k = {.tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook};
	struct nc_hook_cfg *h = bpf_map_lookup_elem(&hooks, &hook);
	struct saved_args *a;
	__u64 array, queue;

	if (!h)
		return 0;
	a = bpf_map_lookup_elem(&saved, &k);
	if (!a)
		return 0; /* the entry was missed (attached mid-call) */
	if (!nc_on) {
		bpf_map_delete_elem(&saved, &k);
		return 0;
	}
	array = a->array;
	queue = a->queue;
	set_stack_id(a->stack_id);
	bpf_map_delete_elem(&saved, &k);
	count = (__u32)PT_REGS_RC(ctx);
	if (h->ret_bits == 16)
		count &= 0xffff;
	if (port_queue_of(h, queue, &pq, &hook))
		capture_burst(hook, h, array, count, pq);
	flush();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
