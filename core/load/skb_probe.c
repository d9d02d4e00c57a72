/* SPDX-License-Identifier: BSD-2-Clause */
#include "skb_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../consume/ring.h"
#include "../util/err.h"
#include "counters.h"
#include "skb.skel.h"
#include "splice.h"

#define STACK_ENTRIES 16384

struct nc_skb_probe {
	struct nc_skb_bpf *inst[NC_SKB_MAX_TRACEPOINTS];
	struct bpf_link *links[NC_SKB_MAX_TRACEPOINTS];
	const char *names[NC_SKB_MAX_TRACEPOINTS];
	enum nc_skb_attach how[NC_SKB_MAX_TRACEPOINTS];
	size_t n;
};

/* Instance i > 0 uses instance 0's maps */
static int share_maps(struct nc_skb_bpf *first, struct nc_skb_bpf *s)
{
	int ret = bpf_map__reuse_fd(s->maps.ring, bpf_map__fd(first->maps.ring));

	if (!ret)
		ret = bpf_map__reuse_fd(s->maps.counters, bpf_map__fd(first->maps.counters));
	if (!ret)
		ret = bpf_map__reuse_fd(s->maps.scratch_map, bpf_map__fd(first->maps.scratch_map));
	if (!ret)
		ret = bpf_map__reuse_fd(s->maps.stacks, bpf_map__fd(first->maps.stacks));
	return ret;
}

int nc_skb_probe_open(const struct nc_skb_point *points, size_t n, const struct nc_filter *f,
		      size_t ring_bytes, bool stacks, struct nc_skb_probe **out, char *err,
		      size_t errlen)
{
	struct nc_skb_probe *p;
	uint64_t wake;
	int ret;

	if (!n || n > NC_SKB_MAX_TRACEPOINTS)
		return nc_err(err, errlen, E2BIG, "1 to %d tracepoints per capture",
			      NC_SKB_MAX_TRACEPOINTS);
	/* the reader woken once 1/8 of the ring is pending (it also polls on a timer) */
	ret = nc_ring_wake_bytes(ring_bytes, &wake, err, errlen);
	if (!ret)
		ret = nc_splice_register(err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct nc_skb_bpf *s = nc_skb_bpf__open();
		char what[96];

		if (!s) {
			ret = nc_bpf_refused(err, errlen, -errno, "opening the skb probe");
			goto fail;
		}
		p->inst[p->n] = s;
		p->how[p->n] = points[i].how;
		p->names[p->n++] = points[i].target;
		/* only the program this point is attached with */
		bpf_program__set_autoload(s->progs.nc_skb, points[i].how == NC_SKB_TRACEPOINT);
		bpf_program__set_autoload(s->progs.nc_skb_kprobe, points[i].how == NC_SKB_KPROBE);
		bpf_program__set_autoload(s->progs.nc_skb_fentry, points[i].how == NC_SKB_FENTRY);
		s->rodata->cfg = points[i].cfg;
		s->rodata->cfg.wake_bytes = wake;
		s->rodata->cfg.stacks = stacks;
		ret = bpf_map__set_max_entries(s->maps.ring, (__u32)ring_bytes);
		if (!ret)
			ret = bpf_map__set_max_entries(s->maps.scratch_map,
						       (__u32)libbpf_num_possible_cpus());
		if (!ret && stacks)
			ret = bpf_map__set_max_entries(s->maps.stacks, STACK_ENTRIES);
		if (!ret && i > 0)
			ret = share_maps(p->inst[0], s);
		if (!ret && points[i].how == NC_SKB_FENTRY)
			ret = bpf_program__set_attach_target(s->progs.nc_skb_fentry, 0,
							     points[i].target);
		if (ret) {
			nc_err(err, errlen, -ret, "setting up the skb probe's maps: %s",
			       strerror(-ret));
			goto fail;
		}
		snprintf(what, sizeof(what), "the skb probe for %s", points[i].target);
		ret = nc_splice_load(s->skeleton, f, what, err, errlen);
		if (ret)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	nc_skb_probe_close(p);
	return ret;
}

int nc_skb_probe_attach(struct nc_skb_probe *p, char *err, size_t errlen)
{
	static const char *const kind[] = {[NC_SKB_TRACEPOINT] = "tracepoint",
					   [NC_SKB_KPROBE] = "kprobe",
					   [NC_SKB_FENTRY] = "fentry"};

	for (size_t i = 0; i < p->n; i++) {
		struct nc_skb_bpf *s = p->inst[i];
		char what[128];

		switch (p->how[i]) {
		case NC_SKB_TRACEPOINT:
			p->links[i] =
			    bpf_program__attach_raw_tracepoint(s->progs.nc_skb, p->names[i]);
			break;
		case NC_SKB_KPROBE:
			p->links[i] =
			    bpf_program__attach_kprobe(s->progs.nc_skb_kprobe, false, p->names[i]);
			break;
		case NC_SKB_FENTRY: /* the target was set before the load */
			p->links[i] = bpf_program__attach_trace(s->progs.nc_skb_fentry);
			break;
		}
		if (!p->links[i]) {
			snprintf(what, sizeof(what), "attaching a %s to %s", kind[p->how[i]],
				 p->names[i]);
			return nc_bpf_refused(err, errlen, -errno, what);
		}
	}
	return 0;
}

void nc_skb_probe_enable(struct nc_skb_probe *p, bool on)
{
	for (size_t i = 0; p && i < p->n; i++)
		p->inst[i]->bss->nc_on = on;
}

void nc_skb_probe_detach(struct nc_skb_probe *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
}

int nc_skb_probe_ring_fd(const struct nc_skb_probe *p)
{
	return bpf_map__fd(p->inst[0]->maps.ring);
}

int nc_skb_probe_counters(const struct nc_skb_probe *p, uint32_t hook, struct nc_counters *sum)
{
	return nc_counters_sum(p->inst[0]->maps.counters, hook, sum);
}

/* Appends the JIT images of program fd's functions to *r (grown with realloc) */
static int prog_text(int fd, struct nc_addr_range **r, size_t *n)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info), count;
	__u64 *addrs;
	__u32 *lens;
	int ret;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	count = info.nr_jited_ksyms;
	if (!count || count != info.nr_jited_func_lens)
		return -ENOENT; /* not JITed, or its addresses hidden */
	addrs = calloc(count, sizeof(*addrs));
	lens = calloc(count, sizeof(*lens));
	memset(&info, 0, sizeof(info));
	info.nr_jited_ksyms = info.nr_jited_func_lens = count;
	info.jited_ksyms = (__u64)(uintptr_t)addrs;
	info.jited_func_lens = (__u64)(uintptr_t)lens;
	len = sizeof(info);
	ret = addrs && lens ? bpf_obj_get_info_by_fd(fd, &info, &len) : -ENOMEM;
	if (!ret) {
		struct nc_addr_range *grown = realloc(*r, (*n + count) * sizeof(**r));

		if (!grown)
			ret = -ENOMEM;
		for (__u32 i = 0; grown && i < count; i++)
			grown[(*n)++] = (struct nc_addr_range){addrs[i], addrs[i] + lens[i]};
		if (grown)
			*r = grown;
	} else if (ret == -1) {
		ret = -errno;
	}
	free(addrs);
	free(lens);
	return ret;
}

int nc_skb_probe_text(const struct nc_skb_probe *p, struct nc_addr_range **out, size_t *n)
{
	struct bpf_program *progs[3];
	int ret = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; !ret && i < p->n; i++) {
		progs[0] = p->inst[i]->progs.nc_skb;
		progs[1] = p->inst[i]->progs.nc_skb_kprobe;
		progs[2] = p->inst[i]->progs.nc_skb_fentry;
		for (size_t j = 0; !ret && j < 3; j++)
			if (bpf_program__fd(progs[j]) >= 0)
				ret = prog_text(bpf_program__fd(progs[j]), out, n);
	}
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

int nc_skb_probe_stack(const struct nc_skb_probe *p, int32_t id, uint64_t *ips)
{
	int n = 0;

	if (id < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(bpf_map__fd(p->inst[0]->maps.stacks), &id, ips))
		return -errno;
	while (n < NC_STACK_DEPTH && ips[n])
		n++;
	return n;
}

void nc_skb_probe_close(struct nc_skb_probe *p)
{
	if (!p)
		return;
	nc_skb_probe_detach(p);
	for (size_t i = 0; i < p->n; i++)
		nc_skb_bpf__destroy(p->inst[i]);
	free(p);
}
