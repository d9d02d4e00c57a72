/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The mbuf probe (bpf/mbuf.bpf.c) in the kernel: opened with the target's mbuf layout, the snap
 * length and the filter, then attached at (file, offset) points of one or more processes. Every
 * link is a file descriptor: if netcap dies, the kernel detaches the probes.
 */
#ifndef NC_MBUF_PROBE_H
#define NC_MBUF_PROBE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../filter/filter.h"
#include "uprobe_event.h"

struct nc_mbuf_probe;

struct nc_mbuf_probe_opts {
	const struct nc_filter *filter; /* NULL accepts every packet */
	struct nc_mbuf_offsets mbuf;
	uint32_t snaplen;    /* 1..NC_MAX_SNAPLEN */
	uint32_t window;     /* bytes copied before filtering, 1..NC_FILTER_WINDOW */
	size_t ring_bytes;   /* a power of two, at least NC_RING_BYTES_MIN */
	bool need_return;    /* some hook is return-side: load the uretprobe program too */
	uint32_t stacks;     /* -S: distinct user stacks kept; 0 off */
	uint64_t wake_bytes; /* wake the reader once this much is pending (nc_ring_wake_bytes) */
};

/* One attach point: code at `offset` of file `path` in process `pid` */
struct nc_attach_point {
	const char *path;
	uint64_t offset;
	pid_t pid;
	uint32_t hook; /* < NC_MAX_HOOKS: the attach cookie */
	struct nc_hook_cfg cfg;
	uint64_t ref_ctr_offset; /* USDT: file offset of the probe's semaphore, or 0 */
	/* the point's perf events opened ahead (uprobe_event.h), or NULL: its entry event is
	 * number `event` there, its return event (NC_HOOK_RET_SAVE) the next; an event not open
	 * there is opened at the attach */
	struct nc_uprobe_events *events;
	size_t event;
};

/* Loads the probe. Returns 0 and *out, or a negative errno with the reason in err (names the
 * capabilities when the kernel says EPERM). */
int nc_mbuf_probe_open(const struct nc_mbuf_probe_opts *o, struct nc_mbuf_probe **out, char *err,
		       size_t errlen);

/* Makes PMD queue pointer `queue` of process pid count as (q->port, q->queue) under q->hook. */
int nc_mbuf_probe_add_queue(struct nc_mbuf_probe *p, pid_t pid, uint64_t queue,
			    const struct nc_queue_id *q, char *err, size_t errlen);

/* Configures hook a->hook and attaches its uprobe (and uretprobe for NC_HOOK_RET_SAVE); on a
 * kernel without attach cookies (before 5.15) an instance of the programs for this hook alone is
 * loaded first. */
int nc_mbuf_probe_attach(struct nc_mbuf_probe *p, const struct nc_attach_point *a, char *err,
			 size_t errlen);

/* Opens (on) or closes the capture window: attached points count and capture only while open */
void nc_mbuf_probe_enable(struct nc_mbuf_probe *p, bool on);

/* Detaches every probe (the maps stay readable); p may be NULL. */
void nc_mbuf_probe_detach(struct nc_mbuf_probe *p);

/* The ring buffer's map fd, for the consumer */
int nc_mbuf_probe_ring_fd(const struct nc_mbuf_probe *p);

/* The counters of `hook`, summed over CPUs */
int nc_mbuf_probe_counters(const struct nc_mbuf_probe *p, uint32_t hook, struct nc_counters *sum);

/*
 * The user stack a record's stack_id names (-S): up to NC_USTACK_DEPTH addresses into ips,
 * innermost first. Returns how many, -ENOSPC when the probe had no room for another distinct
 * stack, -ENOENT when the stack could not be read.
 */
int nc_mbuf_probe_stack(const struct nc_mbuf_probe *p, int32_t id, uint64_t *ips);

/* Detaches everything and unloads; p may be NULL. */
void nc_mbuf_probe_close(struct nc_mbuf_probe *p);

/* The uprobes attached, and in *ahead how many of them to a perf event opened while the program
 * loaded (nc_attach_point.events) */
size_t nc_mbuf_probe_links(const struct nc_mbuf_probe *p, size_t *ahead);

#endif
