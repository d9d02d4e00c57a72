/* SPDX-License-Identifier: BSD-2-Clause */
#include "uprobe_event.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../discover/procmaps.h"

#define PMU_DIR "/sys/bus/event_source/devices/uprobe/"

struct nc_uprobe_events {
	pthread_t thread;
	size_t n;
	struct nc_uprobe_event_spec *specs; /* their paths copied */
	int *fds;			    /* an fd, or a negative errno */
	bool joined;
};

/* The numbers the sysfs file holds, scanned with fmt: how many, or a negative errno */
static int scan_file(const char *file, const char *fmt, int *a, int *b)
{
	FILE *f = fopen(file, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, fmt, a, b);
	fclose(f);
	return n > 0 ? n : -EINVAL;
}

int nc_uprobe_event_open(const struct nc_uprobe_event_spec *s)
{
	struct perf_event_attr attr;
	int type, bit, last, fd;
	char *path;

	if (scan_file(PMU_DIR "type", "%d", &type, &type) != 1)
		return -ENOENT;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (__u32)type;
	if (s->retprobe) {
		if (scan_file(PMU_DIR "format/retprobe", "config:%d", &bit, &bit) != 1 || bit < 0 ||
		    bit > 63)
			return -ENOENT;
		attr.config |= 1ull << bit;
	}
	if (s->ref_ctr_offset) {
		/* "config:32-63": the bits the semaphore's file offset goes in (Linux >= 4.20) */
		if (scan_file(PMU_DIR "format/ref_ctr_offset", "config:%d-%d", &bit, &last) != 2 ||
		    bit < 0 || last > 63 || last < bit)
			return -ENOENT;
		if (last - bit < 63 && s->ref_ctr_offset >> (last - bit + 1))
			return -EOVERFLOW;
		attr.config |= s->ref_ctr_offset << bit;
	}
	path = nc_maps_file_link(s->pid, s->path);
	if (!path)
		return -ENOMEM;
	attr.config1 = (__u64)(uintptr_t)path; /* the file */
	attr.config2 = s->offset;	       /* the probe's offset in it */
	/* the process alone (any CPU); the kernel removes the uprobe when the fd closes */
	fd = (int)syscall(__NR_perf_event_open, &attr, s->pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	free(path);
	return fd;
}

static void *open_all(void *arg)
{
	struct nc_uprobe_events *e = arg;

	for (size_t i = 0; i < e->n; i++)
		e->fds[i] = nc_uprobe_event_open(&e->specs[i]);
	return NULL;
}

static void free_specs(struct nc_uprobe_events *e)
{
	for (size_t i = 0; e->specs && i < e->n; i++)
		free((char *)e->specs[i].path);
	free(e->specs);
	free(e->fds);
	free(e);
}

struct nc_uprobe_events *nc_uprobe_events_start(const struct nc_uprobe_event_spec *s, size_t n)
{
	struct nc_uprobe_events *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->n = n;
	e->specs = calloc(n ? n : 1, sizeof(*e->specs));
	e->fds = calloc(n ? n : 1, sizeof(*e->fds));
	if (!e->specs || !e->fds) {
		free_specs(e);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		e->specs[i] = s[i];
		e->specs[i].path = strdup(s[i].path);
		if (!e->specs[i].path) {
			free_specs(e);
			return NULL;
		}
	}
	if (pthread_create(&e->thread, NULL, open_all, e)) {
		free_specs(e);
		return NULL;
	}
	return e;
}

static void join(struct nc_uprobe_events *e)
{
	if (!e->joined)
		pthread_join(e->thread, NULL);
	e->joined = true;
}

int nc_uprobe_events_take(struct nc_uprobe_events *e, size_t i)
{
	int fd;

	if (!e || i >= e->n)
		return -ENOENT;
	join(e);
	fd = e->fds[i];
	e->fds[i] = -EBADF;
	return fd;
}

void nc_uprobe_events_free(struct nc_uprobe_events *e)
{
	if (!e)
		return;
	join(e);
	for (size_t i = 0; i < e->n; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	free_specs(e);
}
