/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Uprobe perf events opened ahead of the program they will run. Registering a uprobe makes the
 * kernel wait for an RCU grace period (4 ms and more; docs/performance.md), and libbpf's
 * bpf_program__attach_uprobe_opts() opens the event only once the program is loaded. These open
 * the same events (the perf_event_open(2) that libbpf makes: the uprobe PMU's type, its retprobe
 * and ref_ctr_offset format bits from sysfs) on a thread of their own, started as soon as the
 * attach points are known, so that the wait overlaps with the program's load and the ring's
 * creation; the loaded program is then attached to each open event
 * (bpf_program__attach_perf_event_opts). docs/ARCHITECTURE.md.
 */
#ifndef NC_UPROBE_EVENT_H
#define NC_UPROBE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One event: a uprobe (or uretprobe) at `offset` of file `path` in process pid */
struct nc_uprobe_event_spec {
	const char *path;
	uint64_t offset;
	pid_t pid;
	bool retprobe;
	uint64_t ref_ctr_offset; /* USDT: file offset of the semaphore the kernel raises, or 0 */
};

/* Opens one event (path through /proc/PID/map_files, as the attach does): its fd, or a negative
 * errno (-ENOENT: this kernel has no uprobe PMU; -EOVERFLOW: ref_ctr_offset does not fit). */
int nc_uprobe_event_open(const struct nc_uprobe_event_spec *s);

struct nc_uprobe_events;

/* Starts opening events s[0..n) on a thread (the specs are copied); NULL when it cannot start
 * (then nothing is opened, and the attach opens each event itself as before). */
struct nc_uprobe_events *nc_uprobe_events_start(const struct nc_uprobe_event_spec *s, size_t n);

/* Waits for the thread, then the fd of event i, which the caller now owns, or a negative errno:
 * the event is not open (it failed, or was taken already) and the caller opens it its own way,
 * which reports why. */
int nc_uprobe_events_take(struct nc_uprobe_events *e, size_t i);

/* Waits for the thread and closes every event not taken (the kernel removes those uprobes); e may
 * be NULL. */
void nc_uprobe_events_free(struct nc_uprobe_events *e);

#endif
