/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What `netcap list --kernel` shows: the kernel's hook points for skb mode, from its BTF (as pwru
 * finds them): the tracepoints whose probe prototype (btf_trace_NAME) has a struct sk_buff *, and
 * the functions with a struct sk_buff * among their first five parameters, with whether this
 * kernel lets netcap hook functions at all (fentry or kprobes).
 *
 * Errors: 0 or a negative errno; nothing here prints or exits.
 */
#ifndef NC_KSKB_H
#define NC_KSKB_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

struct nc_kskb_point {
	char *name;	      /* tracepoint or function name */
	const char *category; /* tracepoints: the category, NULL when unknown */
	int skb_arg;	      /* 1-based argument that is the struct sk_buff * */
	int reason_arg;	      /* tracepoints: 1-based enum skb_drop_reason argument, or 0 */
};

/*
 * The tracepoints that carry an skb (in BTF order), with their categories from tracefs when it
 * is mounted, else from the kernel headers that define the common ones (*from_tracefs false).
 * Free with nc_kskb_free(). -ENOMEM only.
 */
int nc_kskb_tracepoints(const struct btf *btf, struct nc_kskb_point **out, size_t *n,
			bool *from_tracefs);

/* The functions with a struct sk_buff * among parameters 1 to 5 (the first such one), in BTF
 * order. -ENOMEM only. */
int nc_kskb_functions(const struct btf *btf, struct nc_kskb_point **out, size_t *n);

void nc_kskb_free(struct nc_kskb_point *v, size_t n);

/* Whether the kernel lets a fentry program attach to BTF function `id` (an empty one is loaded) */
bool nc_kskb_fentry_works(int id);

/*
 * How this kernel lets netcap hook a kernel function: "fentry" (a minimal fentry program loads
 * against function `probe`), "kprobe" (the kprobe event source exists), or NULL.
 */
const char *nc_kskb_function_hook(const struct btf *btf, const char *probe);

#endif
