/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE /* asprintf */
#include "mbuf_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bpf/nc_filter_abi.h"
#include "../discover/procmaps.h"
#include "../util/err.h"
#include "counters.h"
#include "mbuf.skel.h"
#include "splice.h"

#define MAX_LINKS (2 * NC_MAX_HOOKS)

struct nc_mbuf_probe {
	struct nc_mbuf_bpf *skel; /* every map; its programs serve all hooks by attach cookie */
	/* without attach cookies (Linux < 5.15): an instance per hook, its id in its rodata,
	 * sharing skel's maps */
	struct nc_mbuf_bpf *own[NC_MAX_HOOKS];
	size_t n_own;
	bool cookies;
	struct nc_mbuf_probe_opts o; /* for the instances loaded at attach */
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
	size_t n_ahead; /* of them, attached to a perf event opened while the program loaded */
};

/* Whether the kernel has attach cookies for uprobes (bpf_get_attach_cookie, 5.15).
 * NETCAP_NO_ATTACH_COOKIES=1 takes the older kernels' way here too (tests). */
static bool have_cookies(void)
{
	const char *no = getenv("NETCAP_NO_ATTACH_COOKIES");

	if (no && !strcmp(no, "1"))
		return false;
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, NULL) == 1;
}

/* Instance `first`'s maps for every map of s but its read-only data (which holds the hook id) */
static int share_maps(struct nc_mbuf_bpf *first, struct nc_mbuf_bpf *s)
{
	struct bpf_map *m;

	bpf_object__for_each_map (m, s->obj) {
		const char *name = bpf_map__name(m);
		struct bpf_map *same = bpf_object__find_map_by_name(first->obj, name);
		int ret;

		if (strstr(name, ".rodata") || strstr(name, ".kconfig") || !same)
			continue;
		ret = bpf_map__reuse_fd(m, bpf_map__fd(same));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Opens, configures and loads one instance of the probe: the programs serve hook `hook` alone
 * (hook + 1 in rodata; 0: every hook, by cookie), the entry program if need_entry, the return
 * program if need_return; with `first`, its maps are used.
 */
static int load_instance(const struct nc_mbuf_probe_opts *o, uint32_t hook, bool need_entry,
			 bool need_return, struct nc_mbuf_bpf *first, struct nc_mbuf_bpf **out,
			 char *err, size_t errlen)
{
	struct nc_mbuf_bpf *skel = nc_mbuf_bpf__open();
	int ret;

	*out = skel;
	if (!skel)
		return nc_bpf_refused(err, errlen, -errno, "opening the mbuf probe");
	/* the kernel verifies each program loaded: only what is used (an instance that only
	 * holds the maps for the per-hook ones loads none) */
	bpf_program__set_autoload(skel->progs.nc_mbuf_entry, need_entry);
	bpf_program__set_autoload(skel->progs.nc_mbuf_return, need_return);
	skel->rodata->cfg.mbuf = o->mbuf;
	skel->rodata->cfg.snaplen = o->snaplen;
	skel->rodata->cfg.window = o->window;
	skel->rodata->cfg.wake_bytes = o->wake_bytes;
	skel->rodata->cfg.stacks = o->stacks;
	skel->rodata->cfg.hook = hook;
	ret = bpf_map__set_max_entries(skel->maps.ring, (__u32)o->ring_bytes);
	if (!ret && o->stacks)
		ret = bpf_map__set_max_entries(skel->maps.ustacks, o->stacks);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.scratch_map,
					       (__u32)libbpf_num_possible_cpus());
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.batch_map,
					       (__u32)libbpf_num_possible_cpus());
	if (!ret && first)
		ret = share_maps(first, skel);
	if (ret)
		return nc_err(err, errlen, -ret, "sizing the mbuf probe's maps: %s",
			      strerror(-ret));
	return nc_splice_load(skel->skeleton, o->filter, "the mbuf probe", err, errlen);
}

int nc_mbuf_probe_open(const struct nc_mbuf_probe_opts *o, struct nc_mbuf_probe **out, char *err,
		       size_t errlen)
{
	struct nc_mbuf_probe *p;
	int ret;

	if (!o->snaplen || o->snaplen > NC_MAX_SNAPLEN || !o->window ||
	    o->window > NC_FILTER_WINDOW || o->ring_bytes < NC_RING_BYTES_MIN || !o->wake_bytes ||
	    (o->ring_bytes & (o->ring_bytes - 1)))
		return nc_err(err, errlen, EINVAL,
			      "mbuf probe: snap length 1..%d, window 1..%d, a power-of-two ring "
			      "of at least %d bytes and a wake-up threshold are needed",
			      NC_MAX_SNAPLEN, NC_FILTER_WINDOW, NC_RING_BYTES_MIN);
	ret = nc_splice_register(err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	p->o = *o;
	p->cookies = have_cookies();
	ret = load_instance(o, 0, p->cookies, p->cookies && o->need_return, NULL, &p->skel, err,
			    errlen);
	if (ret)
		goto fail;
	*out = p;
	return 0;
fail:
	nc_mbuf_probe_close(p);
	return ret;
}

int nc_mbuf_probe_add_queue(struct nc_mbuf_probe *p, pid_t pid, uint64_t queue,
			    const struct nc_queue_id *q, char *err, size_t errlen)
{
	struct nc_queue_key key = {.queue = queue, .pid = (__u32)pid};

	if (bpf_map__update_elem(p->skel->maps.queues, &key, sizeof(key), q, sizeof(*q), BPF_ANY))
		return nc_err(err, errlen, errno, "recording PMD queue %#llx: %s",
			      (unsigned long long)queue, strerror(errno));
	return 0;
}

/* The program attached to the point's event opened ahead, or NULL (none, or it failed) */
static struct bpf_link *attach_opened(struct nc_mbuf_probe *p, struct bpf_program *prog,
				      const struct nc_attach_point *a, bool retprobe)
{
	LIBBPF_OPTS(bpf_perf_event_opts, opts, .bpf_cookie = p->cookies ? a->hook : 0);
	int pfd = a->events ? nc_uprobe_events_take(a->events, a->event + retprobe) : -ENOENT;
	struct bpf_link *link;

	if (pfd < 0)
		return NULL;
	link = bpf_program__attach_perf_event_opts(prog, pfd, &opts); /* owns pfd then */
	if (!link)
		close(pfd);
	return link;
}

static int attach_one(struct nc_mbuf_probe *p, struct bpf_program *prog,
		      const struct nc_attach_point *a, bool retprobe, char *err, size_t errlen)
{
	/* the kernel raises a USDT semaphore (ref_ctr_offset) while the uprobe is attached */
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = p->cookies ? a->hook : 0,
		    .retprobe = retprobe, .ref_ctr_offset = (size_t)a->ref_ctr_offset);
	struct bpf_link *link;

	if (p->n_links >= MAX_LINKS)
		return nc_err(err, errlen, E2BIG, "too many probes (at most %d)", MAX_LINKS);
	link = attach_opened(p, prog, a, retprobe);
	if (link) {
		p->links[p->n_links++] = link;
		p->n_ahead++;
		return 0;
	}
	/* not opened ahead, or attaching to it failed: libbpf opens it (and says why it cannot).
	 * By /proc/PID/map_files: a file put at a->path since it was read cannot get the probe (a
	 * member of the capture group could otherwise move it into a shared library) */
	char *path = nc_maps_file_link(a->pid, a->path);

	if (!path)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	link = bpf_program__attach_uprobe_opts(prog, a->pid, path, (size_t)a->offset, &opts);
	free(path);
	if (!link) {
		int ret = -errno;

		if (ret == -EPERM || ret == -EACCES)
			return nc_bpf_refused(err, errlen, ret, "attaching a uprobe");
		return nc_err(err, errlen, -ret, "attaching a %s at %s+%#llx (pid %d): %s",
			      retprobe ? "uretprobe" : "uprobe", a->path,
			      (unsigned long long)a->offset, (int)a->pid, strerror(-ret));
	}
	p->links[p->n_links++] = link;
	return 0;
}

int nc_mbuf_probe_attach(struct nc_mbuf_probe *p, const struct nc_attach_point *a, char *err,
			 size_t errlen)
{
	struct nc_mbuf_bpf *skel;
	int ret;

	if (a->hook >= NC_MAX_HOOKS)
		return nc_err(err, errlen, E2BIG, "too many hook points (at most %d)",
			      NC_MAX_HOOKS);
	if (bpf_map__update_elem(p->skel->maps.hooks, &a->hook, sizeof(a->hook), &a->cfg,
				 sizeof(a->cfg), BPF_ANY))
		return nc_err(err, errlen, errno, "configuring hook %u: %s", a->hook,
			      strerror(errno));
	skel = p->skel;
	if (!p->cookies) {
		if (p->n_own >= NC_MAX_HOOKS)
			return nc_err(err, errlen, E2BIG, "too many hook points (at most %d)",
				      NC_MAX_HOOKS);
		ret = load_instance(&p->o, a->hook + 1, true, a->cfg.kind == NC_HOOK_RET_SAVE,
				    p->skel, &p->own[p->n_own], err, errlen);
		skel = p->own[p->n_own++];
		if (ret)
			return ret;
	}
	ret = attach_one(p, skel->progs.nc_mbuf_entry, a, false, err, errlen);
	if (!ret && a->cfg.kind == NC_HOOK_RET_SAVE)
		ret = attach_one(p, skel->progs.nc_mbuf_return, a, true, err, errlen);
	return ret;
}

int nc_mbuf_probe_ring_fd(const struct nc_mbuf_probe *p)
{
	return bpf_map__fd(p->skel->maps.ring);
}

int nc_mbuf_probe_counters(const struct nc_mbuf_probe *p, uint32_t hook, struct nc_counters *sum)
{
	return nc_counters_sum(p->skel->maps.counters, hook, sum);
}

int nc_mbuf_probe_stack(const struct nc_mbuf_probe *p, int32_t id, uint64_t *ips)
{
	uint32_t key = (uint32_t)id;
	struct nc_ustack st;
	int n = 0;

	if (id == NC_USTACK_FULL)
		return -ENOSPC;
	if (id < 0)
		return -ENOENT;
	if (bpf_map__lookup_elem(p->skel->maps.ustacks, &key, sizeof(key), &st, sizeof(st), 0))
		return -errno;
	while (n < NC_USTACK_DEPTH && st.ips[n]) {
		ips[n] = st.ips[n];
		n++;
	}
	return n;
}

void nc_mbuf_probe_enable(struct nc_mbuf_probe *p, bool on)
{
	if (p) /* every instance shares this .bss */
		p->skel->bss->nc_on = on;
}

void nc_mbuf_probe_detach(struct nc_mbuf_probe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	p->n_links = 0;
}

void nc_mbuf_probe_close(struct nc_mbuf_probe *p)
{
	if (!p)
		return;
	nc_mbuf_probe_detach(p);
	for (size_t i = 0; i < p->n_own; i++)
		nc_mbuf_bpf__destroy(p->own[i]);
	nc_mbuf_bpf__destroy(p->skel);
	free(p);
}

size_t nc_mbuf_probe_links(const struct nc_mbuf_probe *p, size_t *ahead)
{
	*ahead = p->n_ahead;
	return p->n_links;
}
