/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * skb mode: a raw tracepoint program for tracepoints that carry a struct sk_buff * (and a kprobe
 * and an fentry program for kernel functions that take one, FUNC@N). One instance is loaded per
 * hook point, with only the program it needs (its rodata says which argument is the skb and which
 * hooks its packets count under); the instances share the ring and the counters. For each skb: the
 * packet from its MAC header (Ethernet, loopback) or its network header (devices without a link
 * header: tun, ipip, ...), the filter for that link type on the first bytes, then the linear
 * part and the page fragments up to the snap length (a fragment list, skb_shinfo()->frag_list,
 * is not followed: such a packet is marked truncated).
 */
/* vmlinux.h first: the other headers use its types */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "nc_filter.bpf.h"
#include "nc_record.h"

#include "nc_capture.bpf.h"

#define ARPHRD_ETHER	1
#define ARPHRD_LOOPBACK 772
#define NO_HEADER	0xffff /* (u16)~0U: skb->mac_header or network_header not set */

const volatile struct nc_skb_probe_cfg cfg = {
    .reason_arg = -1,
    .window = NC_FILTER_WINDOW,
};

#define MAX_FRAGS 17 /* MAX_SKB_FRAGS by default */

/*
 * For page_address() on x86-64: the direct map and the struct page array. With
 * CONFIG_RANDOMIZE_MEMORY (stock kernels) their bases are the variables below; without it they
 * are the fixed 4-level-paging addresses.
 */
extern const void page_offset_base __ksym __weak;
extern const void vmemmap_base __ksym __weak;
#define PAGE_OFFSET_FIXED  0xffff888000000000ULL
#define VMEMMAP_BASE_FIXED 0xffffea0000000000ULL

/*
 * The layouts of a page fragment (skb_frag_t), as CO-RE flavours of the kernel's types: a
 * struct bio_vec up to 6.1 (typedef struct bio_vec skb_frag_t), then a struct skb_frag with the
 * same bv_ names, then with page/len/offset, and with a netmem_ref in place of the page (6.10+).
 * Which one the running kernel has is asked field by field, never by version.
 */
struct bio_vec___frag {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} __attribute__((preserve_access_index));

struct skb_frag___bv {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
} __attribute__((preserve_access_index));

struct skb_frag___page {
	struct page *page;
	unsigned int len;
	unsigned int offset;
} __attribute__((preserve_access_index));

struct skb_frag___netmem {
	unsigned long netmem;
	unsigned int len;
	unsigned int offset;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1); /* user space sizes it when -S is given */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

/* Tracepoint argument i; read through a helper, so the verifier does not count it as a context
 * access (which must stay within the tracepoint's arity for every tracepoint) */
static __always_inline __u64 targ(struct bpf_raw_tracepoint_args *ctx, __u32 i)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx->args[i & 7]);
	return v;
}

/* A fragment in each layout. Out of line: the compiler would otherwise compute field addresses
 * of every layout ahead of the branch that picks one, and relocations of the layouts this kernel
 * does not have cannot be resolved (libbpf poisons them; they must stay unreached). */
static __noinline void read_bio_vec(void *frag, __u64 *page, __u32 *len, __u32 *off)
{
	struct bio_vec___frag *b = frag;

	*page = (__u64)BPF_CORE_READ(b, bv_page);
	*len = BPF_CORE_READ(b, bv_len);
	*off = BPF_CORE_READ(b, bv_offset);
}

static __noinline void read_frag_bv(void *frag, __u64 *page, __u32 *len, __u32 *off)
{
	struct skb_frag___bv *b = frag;

	*page = (__u64)BPF_CORE_READ(b, bv_page);
	*len = BPF_CORE_READ(b, bv_len);
	*off = BPF_CORE_READ(b, bv_offset);
}

static __noinline void read_frag_page(void *frag, __u64 *page, __u32 *len, __u32 *off)
{
	struct skb_frag___page *b = frag;

	*page = (__u64)BPF_CORE_READ(b, page);
	*len = BPF_CORE_READ(b, len);
	*off = BPF_CORE_READ(b, offset);
}

static __noinline void read_frag_netmem(void *frag, __u64 *page, __u32 *len, __u32 *off)
{
	struct skb_frag___netmem *b = frag;

	*page = BPF_CORE_READ(b, netmem);
	*len = BPF_CORE_READ(b, len);
	*off = BPF_CORE_READ(b, offset);
}

/*
 * Appends the page fragments of skb to s->data[copied..limit); returns the new count, or -1 when
 * a fragment could not be read. *cut is set when the skb has data this cannot reach.
 */
static __always_inline int copy_frags(struct scratch *s, struct sk_buff *skb, __u32 copied,
				      __u32 limit, bool *cut)
{
	struct skb_shared_info *sh =
	    (struct skb_shared_info *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, end));
	__u64 direct = PAGE_OFFSET_FIXED, vmemmap = VMEMMAP_BASE_FIXED;
	__u32 nr = BPF_CORE_READ(sh, nr_frags);

	*cut = BPF_CORE_READ(sh, frag_list) != NULL || nr > MAX_FRAGS;
	if ((&page_offset_base &&
	     bpf_probe_read_kernel(&direct, sizeof(direct), &page_offset_base)) ||
	    (&vmemmap_base && bpf_probe_read_kernel(&vmemmap, sizeof(vmemmap), &vmemmap_base)))
		return -1;
	for (__u32 i = 0; i < MAX_FRAGS; i++) {
		void *f = (void *)sh->frags + i * bpf_core_type_size(skb_frag_t);
		__u64 page, addr;
		__u32 len, off, chunk;

		if (i >= nr || copied >= limit)
			break;
		if (bpf_core_field_exists(struct skb_frag___netmem, netmem)) {
			read_frag_netmem(f, &page, &len, &off);
			if (page & 1) { /* a net_iov (device memory), not a page */
				*cut = true;
				break;
			}
		} else if (bpf_core_field_exists(struct skb_frag___page, page)) {
			read_frag_page(f, &page, &len, &off);
		} else if (bpf_core_field_exists(struct skb_frag___bv, bv_page)) {
			read_frag_bv(f, &page, &len, &off);
		} else {
			read_bio_vec(f, &page, &len, &off);
		}
		/* page_address(): the direct-map address of the page's frame */
		addr = direct + (page - vmemmap) / bpf_core_type_size(struct page) * 4096 + off;
		chunk = len < limit - copied ? len : limit - copied;
		chunk = nc_clamp(chunk);
		if (bpf_probe_read_kernel(s->data + (copied & (NC_MAX_SNAPLEN - 1)), chunk,
					  (void *)addr))
			return -1;
		copied += chunk;
	}
	return copied;
}

/* Captures skb for the hook point of this instance; ctx is the program's, for the stack */
static __always_inline int capture_skb(void *ctx, struct sk_buff *skb, __u32 reason)
{
	struct net_device *dev;
	struct nc_counters *cnt;
	struct scratch *s;
	unsigned char *head, *data, *start;
	__u32 len, data_len, linear, wire, limit, copied, hook;
	__u16 mac, net, type;
	bool l3, cut = false;

	if (!skb || !nc_on)
		return 0;
	dev = BPF_CORE_READ(skb, dev);
	if (cfg.ifindex && (!dev || BPF_CORE_READ(dev, ifindex) != (int)cfg.ifindex ||
			    BPF_CORE_READ(dev, nd_net.net, ns.inum) != cfg.netns))
		return 0;
	type = dev ? BPF_CORE_READ(dev, type) : 0;
	head = BPF_CORE_READ(skb, head);
	data = BPF_CORE_READ(skb, data);
	len = BPF_CORE_READ(skb, len);
	data_len = BPF_CORE_READ(skb, data_len);
	mac = BPF_CORE_READ(skb, mac_header);
	net = BPF_CORE_READ(skb, network_header);

	/* where the packet starts: never at head by mistake. On the way out the link header is
	 * pushed before the MAC header offset is set (__dev_queue_xmit sets it): then it starts at
	 * data, in front of the network header */
	l3 = !(type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK) || mac == NO_HEADER;
	if (l3 && (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK) && net != NO_HEADER &&
	    data < head + net)
		l3 = false, start = data;
	else
		start = l3 ? (net != NO_HEADER ? head + net : data) : head + mac;
	hook = l3 ? cfg.hook_l3 : cfg.hook_l2;
	cnt = nc_counters_of(hook);
	s = nc_scratch();
	if (!cnt || !s)
		return 0;
	cnt->seen++;
	if (start > data + (len - data_len) || data - start > 4096) {
		cnt->readerr++; /* headers not where the skb says: skip, do not guess */
		return 0;
	}
	linear = (__u32)(data - start) + (len - data_len);
	wire = (__u32)(data - start) + len;

	limit = cfg.window < cfg.snaplen ? cfg.window : cfg.snaplen;
	copied = nc_clamp(linear < limit ? linear : limit);
	if (bpf_probe_read_kernel(s->data, copied, start)) {
		cnt->readerr++;
		return 0;
	}
	/* two calls, not a function pointer: BPF has no indirect calls */
	if (l3 ? !nc_filter_l3((struct nc_filter_window *)s->data,
			       copied < NC_FILTER_WINDOW ? copied : NC_FILTER_WINDOW, wire)
	       : !nc_filter_l2((struct nc_filter_window *)s->data,
			       copied < NC_FILTER_WINDOW ? copied : NC_FILTER_WINDOW, wire))
		return 0;
	cnt->matched++;
	if (copied == limit && linear > copied && cfg.snaplen > copied) {
		copied = nc_clamp(linear < cfg.snaplen ? linear : cfg.snaplen);
		if (bpf_probe_read_kernel(s->data, copied, start)) {
			cnt->readerr++;
			return 0;
		}
	}
	if (data_len && copied == linear && copied < cfg.snaplen) {
		int ret = copy_frags(s, skb, copied, cfg.snaplen, &cut);

		if (ret < 0) {
			cnt->readerr++;
			return 0;
		}
		copied = ret;
	}
	s->rec.port = NC_PORT_UNKNOWN;
	s->rec.queue = 0;
	s->rec.direction = cfg.direction;
	s->rec.flags = cut ? NC_REC_SEGS_CUT : 0;
	s->rec.aux = reason;
	s->rec.stack_id = cfg.stacks ? bpf_get_stackid(ctx, &stacks, 0) : -1;
	nc_emit(s, cnt, (__u64)skb, hook, wire, copied, cfg.wake_bytes);
	return 0;
}

SEC("netcap.raw_tp")
int nc_skb(struct bpf_raw_tracepoint_args *ctx)
{
	return capture_skb(ctx, (struct sk_buff *)targ(ctx, cfg.skb_arg),
			   cfg.reason_arg >= 0 ? (__u32)targ(ctx, cfg.reason_arg) : 0);
}

/* FUNC@N through a kprobe: argument N (skb_arg + 1) in its register, the drop reason (a
 * kfree_skb_reason-like function) in the register of reason_arg */
SEC("netcap.kprobe")
int nc_skb_kprobe(struct pt_regs *ctx)
{
	__u64 a[6] = {PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		      PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx), 0};

	return capture_skb(ctx, (struct sk_buff *)a[cfg.skb_arg < 5 ? cfg.skb_arg : 5],
			   cfg.reason_arg >= 0 ? (__u32)a[cfg.reason_arg < 5 ? cfg.reason_arg : 5]
					       : 0);
}

/* FUNC@N through fentry: the arguments are the context's words */
SEC("netcap.fentry")
int nc_skb_fentry(__u64 *ctx)
{
	return capture_skb(ctx, (struct sk_buff *)targ((void *)ctx, cfg.skb_arg),
			   cfg.reason_arg >= 0 ? (__u32)targ((void *)ctx, cfg.reason_arg) : 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
