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
#include "../util/err.h"
#include "counters.h"
#include "mbuf.skel.h"
#include "splice.h"

#define MAX_LINKS (2 * NC_MAX_HOOKS)

struct nc_mbuf_probe {
	struct nc_mbuf_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	size_t n_links;
};

int nc_mbuf_probe_open(const struct nc_mbuf_probe_opts *o, struct nc_mbuf_probe **out, char *err,
		       size_t errlen)
{
	struct nc_mbuf_probe *p;
	int ret;

	if (!o->snaplen || o->snaplen > NC_MAX_SNAPLEN || !o->window ||
	    o->window > NC_FILTER_WINDOW || o->ring_bytes < NC_RING_BYTES_MIN ||
	    (o->ring_bytes & (o->ring_bytes - 1)))
		return nc_err(err, errlen, EINVAL,
			      "mbuf probe: snap length 1..%d, window 1..%d and a power-of-two ring "
			      "of at least %d bytes are needed",
			      NC_MAX_SNAPLEN, NC_FILTER_WINDOW, NC_RING_BYTES_MIN);
	ret = nc_splice_register(err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	p->skel = nc_mbuf_bpf__open();
	if (!p->skel) {
		ret = nc_bpf_refused(err, errlen, -errno, "opening the mbuf probe");
		goto fail;
	}
	/* the kernel verifies each program loaded (~0.2 s each here): only what is used */
	bpf_program__set_autoload(p->skel->progs.nc_mbuf_return, o->need_return);
	p->skel->rodata->cfg.mbuf = o->mbuf;
	p->skel->rodata->cfg.snaplen = o->snaplen;
	p->skel->rodata->cfg.window = o->window;
	/* wake the reader once an eighth of the ring is pending; it also polls on a timer */
	p->skel->rodata->cfg.wake_bytes = o->ring_bytes / 8;
	p->skel->rodata->cfg.stacks = o->stacks;
	ret = bpf_map__set_max_entries(p->skel->maps.ring, (__u32)o->ring_bytes);
	if (!ret && o->stacks)
		ret = bpf_map__set_max_entries(p->skel->maps.ustacks, o->stacks);
	if (!ret && o->stacks)
		ret = bpf_map__set_max_entries(p->skel->maps.ustack_ids, o->stacks);
	if (!ret)
		ret = bpf_map__set_max_entries(p->skel->maps.scratch_map,
					       (__u32)libbpf_num_possible_cpus());
	if (!ret)
		ret = nc_splice_load(p->skel->skeleton, o->filter, "the mbuf probe", err, errlen);
	else
		nc_err(err, errlen, -ret, "sizing the mbuf probe's maps: %s", strerror(-ret));
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

/*
 * The path a uprobe goes in by: /proc/PID/map_files/START-END of a mapping of path in process
 * pid. The kernel resolves it to the very file the process maps, so a file put at path since
 * netcap read it cannot receive the probe (a member of the capture group could otherwise move a
 * probe planned in a file of their own into a shared library). Following map_files takes
 * CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE); without it, or when pid does not map path (it may
 * have exited), path itself. Free with free().
 */
static char *mapped_path(pid_t pid, const char *path)
{
	char maps[40], line[4096], *found = NULL;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = path[0] == '/' && strncmp(path, "/proc/", 6) ? fopen(maps, "re") : NULL;
	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		int at = 0;
		char *file;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end, &at) < 2 || !at)
			continue;
		file = line + at;
		file[strcspn(file, "\n")] = '\0';
		if (strcmp(file, path))
			continue;
		if (asprintf(&found, "/proc/%d/map_files/%llx-%llx", (int)pid, start, end) < 0)
			found = NULL;
	}
	if (f)
		fclose(f);
	if (found && access(found, F_OK)) { /* not ours to follow */
		free(found);
		found = NULL;
	}
	return found ? found : strdup(path);
}

static int attach_one(struct nc_mbuf_probe *p, struct bpf_program *prog,
		      const struct nc_attach_point *a, bool retprobe, char *err, size_t errlen)
{
	/* the kernel raises a USDT semaphore (ref_ctr_offset) while the uprobe is attached */
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = a->hook, .retprobe = retprobe,
		    .ref_ctr_offset = (size_t)a->ref_ctr_offset);
	struct bpf_link *link;

	if (p->n_links >= MAX_LINKS)
		return nc_err(err, errlen, E2BIG, "too many probes (at most %d)", MAX_LINKS);
	char *path = mapped_path(a->pid, a->path);

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
	int ret;

	if (a->hook >= NC_MAX_HOOKS)
		return nc_err(err, errlen, E2BIG, "too many hook points (at most %d)",
			      NC_MAX_HOOKS);
	if (bpf_map__update_elem(p->skel->maps.hooks, &a->hook, sizeof(a->hook), &a->cfg,
				 sizeof(a->cfg), BPF_ANY))
		return nc_err(err, errlen, errno, "configuring hook %u: %s", a->hook,
			      strerror(errno));
	ret = attach_one(p, p->skel->progs.nc_mbuf_entry, a, false, err, errlen);
	if (!ret && a->cfg.kind == NC_HOOK_RET_SAVE)
		ret = attach_one(p, p->skel->progs.nc_mbuf_return, a, true, err, errlen);
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
	if (id < 0 || (uint32_t)id >= p->skel->rodata->cfg.stacks)
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
	if (p)
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
	nc_mbuf_bpf__destroy(p->skel);
	free(p);
}
