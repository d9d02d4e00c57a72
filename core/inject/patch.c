/* SPDX-License-Identifier: BSD-2-Clause */
/* Writing code bytes of a running process with every thread stopped: see patch.h. */
#define _GNU_SOURCE
#include "inject/patch.h"
#include "discover/procmaps.h"
#include "util/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct thr {
	pid_t tid;
	bool interrupted; /* PTRACE_INTERRUPT sent */
	bool deferred;	  /* found running: interrupted after the others stopped */
	uint64_t stop_at; /* when its stop was seen */
	bool stopped;
	bool gone;
	bool checked; /* its rip and stack looked at (check()) */
	int sig;      /* a signal it stopped with, handed back at the detach */
};

struct tset {
	struct thr *t;
	size_t n, cap;
	uint64_t held_ns, run_held_ns; /* longest stop to detach: any thread, a running one */
	unsigned signals;	       /* signals handed back at the detach */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct thr *find(struct tset *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].tid == tid)
			return &s->t[i];
	return NULL;
}

static struct thr *add(struct tset *s, pid_t tid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct thr *t = realloc(s->t, cap * sizeof(*t));

		if (!t)
			return NULL;
		s->t = t;
		s->cap = cap;
	}
	s->t[s->n] = (struct thr){.tid = tid};
	return &s->t[s->n++];
}

/*
 * What PTRACE_SEIZE's EPERM meant: 1 the thread is traced by this thread already (a clone
 * auto-attached), 0 it is exiting or gone (skip it), -1 a real refusal.
 */
static int why_eperm(pid_t pid, pid_t tid)
{
	char path[64], line[256];
	int tracer = -1, ret = 0;
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &state);
		else if (!strncmp(line, "TracerPid:", 10))
			tracer = atoi(line + 10);
	}
	fclose(f);
	if (tracer == (int)syscall(SYS_gettid))
		ret = 1;
	else if (state == 'Z' || state == 'X' || state == 0)
		ret = 0;
	else
		ret = -1;
	return ret;
}

/* Whether thread tid is running or runnable now (state R in its stat). */
static bool running_now(pid_t pid, pid_t tid)
{
	char path[96], stat[512];
	const char *p;
	bool ret = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')) && p[1])
		ret = p[2] == 'R';
	fclose(f);
	return ret;
}

/* Interrupts the threads not interrupted yet; returns how many there were. */
static size_t interrupt_rest(struct tset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!s->t[i].interrupted && !s->t[i].gone) {
			ptrace(PTRACE_INTERRUPT, s->t[i].tid, 0, 0);
			s->t[i].interrupted = true;
			s->t[i].deferred = true;
			n++;
		}
	return n;
}

/*
 * Attaches and interrupts every thread of pid not in s yet; *added says whether there was one.
 * -ESRCH when the process is gone, -EPERM when ptrace is refused.
 */
static int seize_new(pid_t pid, struct tset *s, bool *added, char *err, size_t errlen)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*added = false;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		struct thr *t;

		if (tid <= 0 || find(s, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACECLONE)) {
			int e = errno, why = e == EPERM ? why_eperm(pid, tid) : -1;

			if (e == ESRCH || why == 0)
				continue; /* exited or exiting meanwhile */
			if (why < 0) {
				ret = nc_err(err, errlen, e,
					     "cannot attach thread %d of process %d: %s (traced by "
					     "another process, or no CAP_SYS_PTRACE?)",
					     (int)tid, (int)pid, strerror(e));
				break;
			}
		}
		t = add(s, tid);
		if (!t) {
			ptrace(PTRACE_DETACH, tid, 0,
			       0); /* not stopped: fails, the exit detaches */
			ret = nc_err(err, errlen, ENOMEM, "out of memory");
			break;
		}
		*added = true;
		/* a running thread (an lcore) is interrupted only once the others stopped: see
		 * stop_all() */
		if (!running_now(pid, tid)) {
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			t->interrupted = true;
		}
	}
	closedir(d);
	return ret;
}

/* Collects the stops of s's threads without blocking; returns how many are still running. */
static size_t reap(struct tset *s)
{
	size_t running = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct thr *t = &s->t[i];
		int st;
		pid_t r;

		if (t->stopped || t->gone)
			continue;
		r = waitpid(t->tid, &st, __WALL | WNOHANG);
		if (r < 0) {
			t->gone = true; /* ECHILD: exited and reaped */
		} else if (r == 0) {
			running++;
		} else if (WIFEXITED(st) || WIFSIGNALED(st)) {
			t->gone = true;
		} else if (WIFSTOPPED(st)) {
			t->stopped = true;
			t->stop_at = now_ns();
			/* a signal-delivery-stop keeps its signal; an event stop (ours, a clone's)
			 * carries none */
			t->sig = (st >> 16) == 0 ? WSTOPSIG(st) : 0;
		}
	}
	return running;
}

/* Detaches every stopped thread; a thread that has not stopped yet is waited for up to 2 s. */
static void release(struct tset *s)
{
	uint64_t until = now_ns() + 2000000000u;

	interrupt_rest(s); /* a thread only attached would never stop */
	while (reap(s) && now_ns() < until)
		usleep(100);
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].stopped && !s->t[i].gone) {
			uint64_t held;

			ptrace(PTRACE_DETACH, s->t[i].tid, 0, (void *)(long)s->t[i].sig);
			s->signals += s->t[i].sig != 0;
			held = now_ns() - s->t[i].stop_at;
			if (held > s->held_ns)
				s->held_ns = held;
			if (s->t[i].deferred && held > s->run_held_ns)
				s->run_held_ns = held;
		}
	s->n = 0;
}

/* -ETIMEDOUT naming a thread that did not stop, its state and where it sleeps. */
static int not_stopped(pid_t pid, struct tset *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		char path[96], wchan[64] = "?", stat[512] = "", state = '?';
		const char *p;
		FILE *f;

		if (s->t[i].stopped || s->t[i].gone)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)s->t[i].tid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')) && p[1])
				state = p[2];
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid, (int)s->t[i].tid);
		f = fopen(path, "re");
		if (f) {
			if (!fgets(wchan, sizeof(wchan), f))
				snprintf(wchan, sizeof(wchan), "?");
			fclose(f);
		}
		return nc_err(err, errlen, ETIMEDOUT,
			      "thread %d of process %d did not stop in time (state %c, in %s)",
			      (int)s->t[i].tid, (int)pid, state, wchan);
	}
	return nc_err(err, errlen, ETIMEDOUT, "the threads of process %d did not all stop in time",
		      (int)pid);
}

static bool inside(const struct nc_patch_site *sites, size_t n, uint64_t a)
{
	for (size_t k = 0; k < n; k++)
		if (a > sites[k].addr && a < sites[k].addr + sites[k].len)
			return true;
	return false;
}

/* What the threads are checked against, and what a thread found inside leaves. */
struct check {
	int mem;
	pid_t pid;
	struct nc_maps *maps;
	const struct nc_patch_site *sites;
	size_t n;
	struct nc_patch_result *res;
	bool inside; /* a thread found inside: the try ends */
};

/*
 * Whether a stopped thread's stack holds an address strictly inside a site, from its rsp up to
 * the end of the mapping holding rsp (NC_PATCH_STACK_SCAN bytes at most): the saved rip of a
 * signal handler's interrupted context, or the return address of a call made from the site's
 * bytes. Either would resume in the middle of the new bytes. c->maps was read before the threads
 * were stopped (reading it takes longer than the whole check); it is read again here only when
 * rsp lies outside every mapping it holds (a thread or stack mapped since). The word's address
 * and value go to *at and *val.
 */
static bool stack_holds(struct check *c, uint64_t rsp, uint64_t *at, uint64_t *val)
{
	uint64_t buf[2048]; /* 16 KiB: a read */
	uint64_t a = rsp & ~7ull, end;
	const struct nc_maps_entry *e = c->maps ? nc_maps_find(c->maps, a) : NULL;

	if (!e) {
		nc_maps_free(c->maps);
		c->maps = NULL;
		if (nc_maps_read(c->pid, &c->maps, NULL, 0) || !(e = nc_maps_find(c->maps, a)))
			return false; /* rsp in no mapping: nothing to read */
	}
	end = e->end - a > NC_PATCH_STACK_SCAN ? a + NC_PATCH_STACK_SCAN : e->end;
	while (a < end) {
		size_t want = end - a < sizeof(buf) ? (size_t)(end - a) : sizeof(buf);
		ssize_t got = pread(c->mem, buf, want, (off_t)a);

		if (got < 8)
			return false;
		for (size_t i = 0; i < (size_t)got / 8; i++)
			if (inside(c->sites, c->n, buf[i])) {
				*at = a + 8 * i;
				*val = buf[i];
				return true;
			}
		a += (uint64_t)got & ~7ull;
	}
	return false;
}

/*
 * Whether a stopped thread not checked yet is strictly inside a site, or would return or resume
 * there (its stack, stack_holds()): c->inside, and in c->res its tid, the address, and where on
 * its stack (0: its rip). Each thread is checked once per try: a stopped thread does not move.
 */
static bool check(struct check *c, struct tset *s)
{
	for (size_t i = 0; i < s->n && !c->inside; i++) {
		struct thr *t = &s->t[i];
		struct user_regs_struct r;
		uint64_t at = 0, val;

		if (!t->stopped || t->gone || t->checked)
			continue;
		t->checked = true;
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &r))
			continue;
		val = r.rip;
		if (inside(c->sites, c->n, r.rip) || stack_holds(c, r.rsp, &at, &val)) {
			c->res->busy_tid = t->tid;
			c->res->busy_rip = val;
			c->res->busy_stack = at;
			c->inside = true;
		}
	}
	return c->inside;
}

/*
 * Stops every thread of pid (s empty on entry). Threads found running (the lcores, polling on
 * CPUs of their own) are interrupted last, once every other thread stopped: a sleeping thread
 * may wait for a CPU before it can stop (milliseconds on a loaded machine), and an lcore
 * stopped first would stand still for all that time; interrupted last, it stops within
 * microseconds (an IPI) and is held only while the bytes are checked and written. The threads
 * stopped first are checked (check()) before the running ones are interrupted, so that reading
 * their stacks does not hold the lcores; one found inside ends the stop there (0, c->inside).
 */
static int stop_all(pid_t pid, struct tset *s, uint64_t deadline, struct check *c, char *err,
		    size_t errlen)
{
	unsigned spins = 0;

	for (;;) {
		/* stops first, then the scan: a clone made before its parent stopped is seen */
		size_t running = reap(s);
		bool added;
		int ret = seize_new(pid, s, &added, err, errlen);

		if (ret)
			return ret;
		if (!added) {
			size_t waiting = 0;

			for (size_t i = 0; i < s->n; i++)
				waiting += s->t[i].interrupted && !s->t[i].stopped && !s->t[i].gone;
			/* one found inside: the threads only attached are interrupted by release()
			 */
			if (!waiting && check(c, s))
				return 0;
			if (!waiting && interrupt_rest(s))
				continue;
		}
		if (!running && !added) {
			size_t live = 0;

			for (size_t i = 0; i < s->n; i++)
				live += !s->t[i].gone;
			if (!live)
				return nc_err(err, errlen, ESRCH, "process %d exited", (int)pid);
			return 0;
		}
		if (now_ns() > deadline)
			return not_stopped(pid, s, err, errlen);
		if (++spins < 200)
			sched_yield();
		else
			usleep(50);
	}
}

static void hex(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%02x", i ? " " : "", b[i]);
}

/* With every thread stopped: check, write, verify; puts back what it wrote on failure. */
static int write_sites(int mem, pid_t pid, const struct nc_patch_site *sites, size_t n, char *err,
		       size_t errlen)
{
	uint8_t now[NC_PATCH_MAX_LEN];
	char a[64], b[64];
	size_t k;
	int ret = 0;

	for (k = 0; k < n; k++) {
		const struct nc_patch_site *st = &sites[k];

		if (pread(mem, now, st->len, (off_t)st->addr) != (ssize_t)st->len)
			return nc_err(err, errlen, EFAULT, "cannot read 0x%llx of process %d: %s",
				      (unsigned long long)st->addr, (int)pid, strerror(errno));
		if (memcmp(now, st->expect, st->len)) {
			hex(now, st->len, a, sizeof(a));
			hex(st->expect, st->len, b, sizeof(b));
			return nc_err(err, errlen, ESTALE,
				      "the code at 0x%llx of process %d changed: %s where %s was "
				      "expected",
				      (unsigned long long)st->addr, (int)pid, a, b);
		}
	}
	for (k = 0; k < n; k++) {
		const struct nc_patch_site *st = &sites[k];

		if (pwrite(mem, st->write, st->len, (off_t)st->addr) != (ssize_t)st->len ||
		    pread(mem, now, st->len, (off_t)st->addr) != (ssize_t)st->len ||
		    memcmp(now, st->write, st->len)) {
			ret = nc_err(err, errlen, EIO,
				     "cannot write %zu bytes at 0x%llx of process %d", st->len,
				     (unsigned long long)st->addr, (int)pid);
			break;
		}
	}
	if (ret)
		while (k-- > 0)
			if (pwrite(mem, sites[k].expect, sites[k].len, (off_t)sites[k].addr) < 0)
				break;
	return ret;
}

int nc_patch_apply(pid_t pid, const struct nc_patch_site *sites, size_t n, int timeout_ms,
		   struct nc_patch_result *res, char *err, size_t errlen)
{
	struct nc_patch_result local;
	struct tset s = {0};
	struct check c = {.sites = sites, .n = n, .pid = pid};
	int bound_ms = timeout_ms > 0 ? timeout_ms : NC_PATCH_TIMEOUT_MS;
	uint64_t deadline;
	char path[64];
	int mem, ret;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	for (size_t k = 0; k < n; k++)
		if (!sites[k].len || sites[k].len > NC_PATCH_MAX_LEN ||
		    (sites[k].addr & 4095) + sites[k].len > 4096)
			return nc_err(err, errlen, EINVAL,
				      "site 0x%llx: 1 to %d bytes within one page",
				      (unsigned long long)sites[k].addr, NC_PATCH_MAX_LEN);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDWR | O_CLOEXEC);
	if (mem < 0)
		return nc_err(err, errlen,
			      errno == ENOENT	? ESRCH
			      : errno == EACCES ? EPERM
						: errno,
			      "cannot open %s: %s", path, strerror(errno));
	deadline = now_ns() + (uint64_t)bound_ms * 1000000u;
	c.mem = mem;
	c.res = res;
	for (;;) {
		uint64_t t0, dt;

		/* the stacks' mappings, read while the threads still run (~1 ms for a DPDK process:
		 * longer than the rest of a stop) */
		nc_maps_free(c.maps);
		if (nc_maps_read(pid, &c.maps, NULL, 0))
			c.maps = NULL;
		t0 = now_ns();
		res->tries++;
		c.inside = false;
		ret = stop_all(pid, &s, deadline, &c, err, errlen);
		res->threads = 0;
		for (size_t i = 0; i < s.n; i++)
			res->threads += s.t[i].stopped && !s.t[i].gone;
		if (!ret)
			check(&c, &s); /* the threads stop_all() left unchecked */
		if (!ret && !c.inside)
			ret = write_sites(mem, pid, sites, n, err, errlen);
		s.held_ns = s.run_held_ns = 0;
		release(&s);
		dt = now_ns() - t0;
		if (dt > res->stop_ns)
			res->stop_ns = dt;
		if (s.held_ns > res->held_ns)
			res->held_ns = s.held_ns;
		if (s.run_held_ns > res->run_held_ns)
			res->run_held_ns = s.run_held_ns;
		res->signals += s.signals;
		s.signals = 0;
		if (ret == -ETIMEDOUT && res->busy_tid)
			goto stayed; /* the last try ran out of time, a thread was inside before */
		if (ret || !c.inside)
			break;
		if (now_ns() + 1000000u > deadline) {
		stayed:
			if (res->busy_stack)
				ret = nc_err(
				    err, errlen, ETIMEDOUT,
				    "thread %d of process %d kept 0x%llx, inside the bytes to "
				    "patch, on its stack (at 0x%llx: a return address or a "
				    "signal handler's interrupted context) for %d ms",
				    (int)res->busy_tid, (int)pid, (unsigned long long)res->busy_rip,
				    (unsigned long long)res->busy_stack, bound_ms);
			else
				ret = nc_err(
				    err, errlen, ETIMEDOUT,
				    "thread %d of process %d stayed inside the bytes to patch "
				    "(at 0x%llx) for %d ms",
				    (int)res->busy_tid, (int)pid, (unsigned long long)res->busy_rip,
				    bound_ms);
			break;
		}
		usleep(1000);
	}
	free(s.t);
	nc_maps_free(c.maps);
	close(mem);
	return ret;
}
