/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the probes and user space share: the ring-buffer record, the per-hook configuration and
 * counters. Fixed-width fields, natural alignment with explicit padding; core/consume pins the
 * layout with _Static_assert. Included by BPF programs (after vmlinux.h) and by user space (after
 * <linux/types.h>).
 */
#ifndef NC_RECORD_H
#define NC_RECORD_H

#define NC_MAX_HOOKS	  64	/* hook ids 0..63: an IDB each (and per port for PMD hooks) */
#define NC_MAX_BURST	  64	/* mbufs read per burst call */
#define NC_MAX_SEGS	  8	/* mbuf segments followed per packet */
#define NC_MAX_SNAPLEN	  16384 /* bytes copied per packet at most */
#define NC_MBUF_HDR	  128	/* bytes of struct rte_mbuf read per segment */
#define NC_PORT_UNKNOWN	  0xffff
#define NC_RING_BYTES_MIN (1 << 20)

/* How a hook finds its mbufs */
enum nc_hook_kind {
	NC_HOOK_SINGLE = 1,   /* func@N: argument N is a struct rte_mbuf * */
	NC_HOOK_VECTOR = 2,   /* func@N@M: argument N is struct rte_mbuf **, argument M the count */
	NC_HOOK_RET_SAVE = 3, /* func@N@ret, at entry: remember argument N (and the queue) */
	NC_HOOK_RET_READ =
	    4, /* func@N@ret, at return: the remembered array, count = return value */
};

enum nc_direction {
	NC_DIR_NONE = 0,
	NC_DIR_IN = 1,	/* pcapng epb_flags inbound */
	NC_DIR_OUT = 2, /* outbound */
};

/* Where a USDT argument is (its .note.stapsdt spec: "8@%rdi", "-4@-4(%rbp)", "4@$5") */
enum nc_arg_loc_type {
	NC_ARG_ABI = 0,	      /* not a USDT argument: the register argument arg_pkt/arg_cnt */
	NC_ARG_CONST = 1,     /* the constant val_off */
	NC_ARG_REG = 2,	      /* the register at reg_off in struct pt_regs */
	NC_ARG_REG_DEREF = 3, /* user memory at that register + val_off */
};

struct nc_arg_loc {
	__s64 val_off; /* NC_ARG_CONST: the value; NC_ARG_REG_DEREF: the offset */
	__u16 reg_off; /* byte offset of the register in struct pt_regs */
	__u8 type;     /* enum nc_arg_loc_type */
	__s8 size;     /* bytes (1, 2, 4, 8), negative for a signed value */
	__u32 pad;
};

/* Per hook, in the `hooks` array map at index = hook id = the attach cookie */
struct nc_hook_cfg {
	__u8 kind;	 /* enum nc_hook_kind */
	__u8 arg_pkt;	 /* 1-based register argument: the mbuf or the array */
	__u8 arg_cnt;	 /* 1-based register argument: the count (NC_HOOK_VECTOR) */
	__u8 arg_queue;	 /* 1-based register argument: the PMD queue pointer, 0 if none */
	__u8 direction;	 /* enum nc_direction */
	__u8 ret_bits;	 /* width of the return value used as count: 16 or 32 */
	__u8 queue_only; /* capture only queues present in the `queues` map */
	__u8 at_entry;	 /* the probe sits where [rsp] is the return address (-S adds it) */
	struct nc_arg_loc loc_pkt; /* USDT: where the mbuf or the array is */
	struct nc_arg_loc loc_cnt; /* USDT: where the count is */
};

/* Key of the `queues` map: a queue pointer in a process (processes with the same memory layout,
 * e.g. two --no-huge DPDK apps, have the same queue addresses) */
struct nc_queue_key {
	__u64 queue;
	__u32 pid; /* as the kernel's root pid namespace sees it */
	__u32 pad;
};

/* Value of the `queues` map: a PMD function serves several ports, and each
 * (port, queue) it serves is a hook point of its own, counted and written under `hook` */
struct nc_queue_id {
	__u16 port;
	__u16 queue;
	__u32 hook;
};

/* Per-CPU counters, per hook */
struct nc_counters {
	__u64 seen;	/* mbufs the hook was called with */
	__u64 matched;	/* passed the filter */
	__u64 written;	/* records in the ring */
	__u64 ringfull; /* matched but the ring had no room */
	__u64 readerr;	/* mbuf or packet memory could not be read */
};

/* Record flags */
#define NC_REC_VLAN_REINSERTED (1u << 0) /* tag(s) put back from vlan_tci(_outer) */
#define NC_REC_TRUNCATED       (1u << 1) /* fewer bytes than the wire length, past the snap length */
#define NC_REC_SEGS_CUT	       (1u << 2) /* more segments than NC_MAX_SEGS, or a broken chain */
/* Ring only: another record follows this one's cap_len bytes in the same ring sample (the mbuf
 * probe puts the records of one probe hit into the ring at once); never set on the last one */
#define NC_REC_MORE (1u << 3)

/* One ring record: this header, then cap_len bytes of packet. A ring sample holds one, or several
 * back to back (no padding), each but the last flagged NC_REC_MORE; then the first record's ts_ns
 * is the time of them all (the others' is not set) */
struct nc_record {
	__u64 ts_ns;  /* CLOCK_MONOTONIC at the probe */
	__u64 object; /* the mbuf's address: follows one packet across hook points */
	__u32 hook;
	__u32 cpu;
	__u32 pid;
	__u32 tid;
	__u32 wire_len; /* pkt_len, plus re-inserted tags */
	__u32 cap_len;
	__u16 port; /* NC_PORT_UNKNOWN if not known */
	__u16 queue;
	__u8 direction;
	__u8 flags;
	__u16 pad;
	__u32 aux;	/* skb:kfree_skb: the drop reason (enum skb_drop_reason) */
	__s32 stack_id; /* in the probe's stack map (-S), or < 0 */
};

/* Layout of struct rte_mbuf for the target's DPDK (set by user space before load) */
struct nc_mbuf_offsets {
	__u16 buf_addr, data_off, nb_segs, port, ol_flags, pkt_len, data_len, vlan_tci,
	    vlan_tci_outer, next;
};

/* Load-time settings of the mbuf probe (rodata) */
struct nc_mbuf_probe_cfg {
	struct nc_mbuf_offsets mbuf;
	__u32 snaplen;	  /* <= NC_MAX_SNAPLEN */
	__u32 window;	  /* bytes copied before filtering, <= NC_FILTER_WINDOW */
	__u64 wake_bytes; /* wake the reader when this much data is pending */
	__u32 stacks;	  /* -S: distinct user stacks kept (ustacks); 0 off */
	__u32 hook;	  /* hook id + 1 of every call of this instance; 0: the attach cookie is the
			   * hook id (cookies need Linux 5.15: older ones load an instance per hook) */
};

#define NC_USTACK_DEPTH 32   /* user frames recorded per hook call (-S) */
#define NC_USTACK_NONE	(-1) /* record stack_id: the user stack could not be read */
#define NC_USTACK_FULL                                                                             \
	(-2) /* record stack_id: no room for another distinct stack (or its hash                   \
	      * was another's) */

/* A user stack (mbuf probe, -S): each distinct one is kept in the `ustacks` hash map under its
 * 31-bit hash, the id its records carry, for the whole capture */
struct nc_ustack {
	__u64 ips[NC_USTACK_DEPTH]; /* innermost first, 0 after the last */
};

/* Load-time settings of the skb probe (rodata), one probe instance per tracepoint */
struct nc_skb_probe_cfg {
	__u32 hook_l2;	  /* hook of packets with an Ethernet header */
	__u32 hook_l3;	  /* hook of packets without a link header (raw IP) */
	__u32 skb_arg;	  /* tracepoint argument (0-based) holding the struct sk_buff * */
	__s32 reason_arg; /* argument holding enum skb_drop_reason, or -1 */
	__u32 direction;  /* enum nc_direction */
	__u32 ifindex;	  /* 0: every interface */
	__u64 netns;	  /* with ifindex: the interface's network namespace (inode number) */
	__u32 snaplen;
	__u32 window;
	__u64 wake_bytes;
	__u32 stacks; /* record the kernel stack (-S) */
	__u32 pad;
};

/* How an skb probe instance is attached */
enum nc_skb_attach {
	NC_SKB_TRACEPOINT = 0, /* raw tracepoint */
	NC_SKB_KPROBE,	       /* kernel function through a kprobe */
	NC_SKB_FENTRY,	       /* kernel function through fentry */
};

#endif
