/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel tracepoints that carry a struct sk_buff *, from the kernel's BTF (the btf_trace_NAME
 * typedefs: a pointer to the prototype of the tracepoint's probe functions), and the names of
 * enum skb_drop_reason.
 */
#ifndef NC_TRACEPOINT_H
#define NC_TRACEPOINT_H

#include <stddef.h>
#include <stdint.h>

struct nc_tracepoint {
	int skb_arg;	/* 0-based tracepoint argument that is the struct sk_buff * */
	int reason_arg; /* argument of type enum skb_drop_reason, or -1 */
	int nargs;
};

struct btf;

/* The kernel's BTF (libbpf's btf__load_vmlinux_btf()); NULL with a message in err */
struct btf *nc_kernel_btf(char *err, size_t errlen);

/*
 * Looks tracepoint `name` (without its category) up. -ENOENT "no tracepoint NAME in this
 * kernel", -EINVAL "tracepoint NAME carries no struct sk_buff" (both with the tracepoints that
 * would serve: nc_tracepoints_with_skb()).
 */
int nc_tracepoint_find(const struct btf *btf, const char *name, struct nc_tracepoint *tp, char *err,
		       size_t errlen);

/* "net:netif_receive_skb, net:net_dev_queue, ..." of the common skb tracepoints this kernel has;
 * g_free() the result */
char *nc_tracepoints_with_skb(const struct btf *btf);

/* The name of a drop reason ("NO_SOCKET" for SKB_DROP_REASON_NO_SOCKET), or NULL */
const char *nc_drop_reason_name(const struct btf *btf, uint32_t value);

#endif
