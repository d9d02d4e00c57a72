/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The injector (inject.h, docs/inject.md). The order of the steps is what makes it safe: at every
 * moment the stopped thread's registers, as the kernel would resume it if netcap died, lead back
 * to what the thread was doing.
 *
 *   1. Stopped (PTRACE_INTERRUPT), registers untouched: on netcap's death the kernel resumes it,
 *      restarting the interrupted system call itself.
 *   2. It calls libc's mmap() for the scratch pages and returns into glibc's rt_sigreturn
 *      trampoline (__restore_rt) over a signal frame netcap wrote on its stack below the red zone:
 *      all registers, flags, FP/vector state (as read with PTRACE_GETREGSET, rewritten only by the
 *      thread's own rt_sigreturn) and signal mask. On netcap's death the thread maps the pages,
 *      returns through rt_sigreturn and resumes, its call restarted in the frame already (one
 *      that needed a restart block is issued again: rt_sigreturn cancels restart blocks;
 *      sigreturn_regs()).
 *   3. netcap sees mmap()'s return at its syscall-exit stop (PTRACE_SYSCALL), writes the stub and
 *      its data into the pages, and turns the thread into a call of pthread_create() that returns
 *      into the restore stub (stub.c), then detaches. From here nothing of netcap is needed.
 */
#define _GNU_SOURCE
#include "inject.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../discover/elf.h"
#include "../discover/procmaps.h"
#include "../util/err.h"
#include "../util/privs.h"
#include "inject_int.h"
#include "stub.h"

/* the kernel's restart codes (not exported to user space) */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

#define NC_CAP_SYS_PTRACE 19
#define STOP_TIMEOUT_MS	  2000	/* for the thread to stop, and for mmap() to return */
#define LET_GO_TIMEOUT_MS 30000 /* for it to stop to be detached after a failure */
#define RED_ZONE	  128
#define XSTATE_MAX	  (64 * 1024)
#define IMG_MAX		  (64 << 20) /* copy mode: the largest library copied */
#ifndef FP_XSTATE_MAGIC2
#define FP_XSTATE_MAGIC2 0x46505845u
#endif
#define UC_FP_XSTATE	     0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4
/* neither 0, SS_ONSTACK nor SS_DISABLE: rt_sigreturn keeps the thread's alternate signal stack as
 * it is (the kernel's restore_altstack() ignores the error) */
#define SS_INVALID_MODE 3

bool nc_inject_resume_regs(struct nc_inject_regs *r)
{
	bool restart = false;

	if ((int64_t)r->orig_rax >= 0) {
		switch (-(int64_t)r->rax) {
		case ERESTARTSYS:
		case ERESTARTNOINTR:
		case ERESTARTNOHAND:
			r->rax = r->orig_rax;
			r->rip -= 2;
			restart = true;
			break;
		case ERESTART_RESTARTBLOCK:
			r->rax = SYS_restart_syscall;
			r->rip -= 2;
			restart = true;
			break;
		}
	}
	r->orig_rax = (uint64_t)-1;
	return restart;
}

enum nc_inject_kind nc_inject_thread_kind(const char *comm)
{
	static const char *const lcore[] = {"rte-worker-", "lcore-worker-", "dpdk-worker"};
	static const char *const control[] = {"eal-intr-thread", "rte_mp_handle", "rte_mp_async",
					      "telemetry-v",	 "dpdk-intr",	  "dpdk-mp-",
					      "dpdk-telemet",	 "rte-telemetry", "dpdk-ctrl"};

	for (size_t i = 0; i < G_N_ELEMENTS(lcore); i++)
		if (g_str_has_prefix(comm, lcore[i]))
			return NC_THREAD_LCORE;
	for (size_t i = 0; i < G_N_ELEMENTS(control); i++)
		if (g_str_has_prefix(comm, control[i]))
			return NC_THREAD_CONTROL;
	return NC_THREAD_OTHER;
}

long nc_inject_find_restorer(const unsigned char *buf, size_t len)
{
	static const unsigned char pat[] = {0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0, 0x0f, 0x05};
	const unsigned char *p = memmem(buf, len, pat, sizeof(pat));

	return p ? (long)(p - buf) : -1;
}

#if defined(__x86_64__)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One field ("Seccomp:", "TracerPid:") of /proc/PID/status, or NULL */
static char *status_field(pid_t pid, const char *name)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++)
		if (g_str_has_prefix(*l, name))
			return g_strstrip(g_strdup(*l + strlen(name)));
	return NULL;
}

static void proc_comm(pid_t pid, pid_t tid, char *out, size_t len)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/comm", (int)pid, (int)tid);
	g_autofree char *s = NULL;

	if (g_file_get_contents(path, &s, NULL, NULL))
		g_strlcpy(out, g_strchomp(s), len);
	else
		g_strlcpy(out, "?", len);
}

/* A thread of the target: its name, scheduler state and the system call it sleeps in. */
struct thread {
	pid_t tid;
	char comm[16];
	char state; /* R, S, D, T, t, ... */
	long nr;    /* /proc/PID/task/TID/syscall: the call it is blocked in, -1 none */
	bool main;  /* tid == pid */
};

static int read_thread(pid_t pid, pid_t tid, struct thread *t)
{
	g_autofree char *p1 = g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, (int)tid);
	g_autofree char *p2 = g_strdup_printf("/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	g_autofree char *stat = NULL, *sc = NULL;
	char *rp;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->main = tid == pid;
	t->nr = -1;
	if (!g_file_get_contents(p1, &stat, NULL, NULL) || !(rp = strrchr(stat, ')')) || !rp[1])
		return -ESRCH;
	t->state = rp[2];
	proc_comm(pid, tid, t->comm, sizeof(t->comm));
	if (g_file_get_contents(p2, &sc, NULL, NULL) && isdigit((unsigned char)sc[0]))
		t->nr = strtol(sc, NULL, 10);
	return 0;
}

/* The threads of pid, in the order of /proc/PID/task. */
static int list_threads(pid_t pid, GArray **out)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task", (int)pid);
	GArray *a = g_array_new(FALSE, TRUE, sizeof(struct thread));
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d) {
		g_array_free(a, TRUE);
		return -ESRCH;
	}
	while ((de = readdir(d))) {
		struct thread t;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (!read_thread(pid, (pid_t)atoi(de->d_name), &t))
			g_array_append_val(a, t);
	}
	closedir(d);
	*out = a;
	return 0;
}

/*
 * System calls that install a temporary signal mask: /proc and ptrace show that mask while the
 * thread sleeps, and the fallback signal frame (step 2) would make it permanent.
 */
static bool temp_mask_call(long nr)
{
	return nr == SYS_rt_sigsuspend || nr == SYS_rt_sigtimedwait || nr == SYS_pselect6 ||
	       nr == SYS_ppoll || nr == SYS_epoll_pwait || nr == 441 /* epoll_pwait2 */;
}

static bool sleeping(const struct thread *t)
{
	return t->state == 'S' && t->nr >= 0 && !temp_mask_call(t->nr);
}

/* Whether the main thread of a DPDK process only sleeps (it is lcore 0 when it polls): five
 * looks, 2 ms apart, all asleep in a system call. */
static bool main_only_sleeps(pid_t pid)
{
	for (int i = 0; i < 5; i++) {
		struct thread t;

		if (i)
			g_usleep(2000);
		if (read_thread(pid, pid, &t) || !sleeping(&t))
			return false;
	}
	return true;
}

/*
 * Calls whose interruption may leave a restart block (a timeout that goes on): if netcap died
 * while the thread is in the fallback path (inject.c's step 2), the call would start over or
 * return EINTR (sigreturn_regs()). Threads in other calls are preferred.
 */
static bool restart_block_call(long nr)
{
	return nr == SYS_restart_syscall || nr == SYS_nanosleep || nr == SYS_clock_nanosleep ||
	       nr == SYS_poll || nr == SYS_futex;
}

/*
 * The rank of a thread as the one to stop (lower first), or -1: never. DPDK's own sleeping
 * threads first, then the application's other sleeping threads, then its main thread, which in
 * a DPDK process is lcore 0 unless it only sleeps; within each, calls without a restart block
 * first.
 */
static int thread_rank(pid_t pid, const struct thread *t, bool dpdk)
{
	enum nc_inject_kind k = nc_inject_thread_kind(t->comm);
	int rb = restart_block_call(t->nr);

	if (!sleeping(t) || (dpdk && k == NC_THREAD_LCORE))
		return -1;
	if (dpdk && k == NC_THREAD_CONTROL)
		return 0 + rb;
	if (!t->main)
		return 2 + rb;
	if (dpdk && !main_only_sleeps(pid))
		return -1;
	return 4 + rb;
}

/* The libc functions and code the injection uses, as addresses in the target. */
struct libc_syms {
	char path[PATH_MAX];
	uint64_t dlopen, dlsym, dlerror, pthread_create, pthread_self, pthread_detach, mmap;
	uint64_t restorer; /* __restore_rt: mov $15, %rax; syscall */
};

/* "libc.so.6" (or glibc's older "libc-2.31.so") */
static bool is_libc(const char *path)
{
	const char *b = strrchr(path, '/');

	if (!b)
		return false;
	b++;
	/* " (deleted)": replaced on disk since it was mapped (an upgrade) */
	return !strcmp(b, "libc.so.6") || !strcmp(b, "libc.so.6 (deleted)") ||
	       (g_str_has_prefix(b, "libc-2.") && strstr(b, ".so"));
}

static const struct nc_maps_entry *find_lib(const struct nc_maps *m, bool (*match)(const char *))
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].path[0] == '/' && match(m->v[i].path))
			return &m->v[i];
	return NULL;
}

static bool is_libdl(const char *path)
{
	const char *b = strrchr(path, '/');

	return b && g_str_has_prefix(b + 1, "libdl.so.2");
}

/*
 * A path to open the file mapped at path in the target: /proc/PID/map_files/START-END (the very
 * file, also when it was deleted or replaced since; needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE), else through the target's root (a container's own files), else path.
 */
static char *mapped_file(pid_t pid, const struct nc_maps *m, const char *path)
{
	char *p;

	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, path)) {
			p = g_strdup_printf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid,
					    m->v[i].start, m->v[i].end);
			if (!access(p, R_OK))
				return p;
			g_free(p);
			break;
		}
	p = g_strdup_printf("/proc/%d/root%s", (int)pid, path);
	if (!access(p, R_OK))
		return p;
	g_free(p);
	return g_strdup(path);
}

static int open_mapped_elf(pid_t pid, const struct nc_maps *m, const char *path, struct nc_elf **e,
			   char *err, size_t errlen)
{
	g_autofree char *file = mapped_file(pid, m, path);

	return nc_elf_open(file, e, err, errlen);
}

/* Whether the ELF file mapped at path is x86-64. */
static bool is_x86_64(pid_t pid, const struct nc_maps *m, const char *path)
{
	g_autofree char *file = mapped_file(pid, m, path);
	Elf64_Ehdr h;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return true; /* cannot tell: the symbol lookups will say */
	ok = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
	     h.e_ident[EI_CLASS] == ELFCLASS64 && h.e_machine == EM_X86_64;
	close(fd);
	return ok;
}

/* The runtime address of function name of e (loaded at base); 0 when absent. */
static uint64_t func_addr(const struct nc_elf *e, uint64_t base, const char *name)
{
	uint64_t off, va;

	if (nc_elf_func(e, name, &off, NULL, NULL, 0) || nc_elf_vaddr(e, off, &va))
		return 0;
	return base + va;
}

static int mem_read(int fd, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

static int mem_write(int fd, uint64_t addr, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(addr + done));

		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
	}
	return 0;
}

/*
 * Finds rt_sigreturn's trampoline in the executable mappings of libc: in the file (mapped here:
 * fast), checked against the target's memory; else in the target's memory itself.
 */
static uint64_t find_restorer(pid_t pid, const struct nc_maps *m, const char *libc)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/mem", (int)pid);
	g_autofree char *name = mapped_file(pid, m, libc);
	g_autoptr(GMappedFile) file = g_mapped_file_new(name, FALSE, NULL);
	const unsigned char *fbuf =
	    file ? (const unsigned char *)g_mapped_file_get_contents(file) : NULL;
	size_t flen = file ? g_mapped_file_get_length(file) : 0;
	uint64_t found = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	for (size_t i = 0; i < m->n && !found; i++) {
		const struct nc_maps_entry *e = &m->v[i];
		size_t len = (size_t)(e->end - e->start);
		unsigned char *buf, check[9];
		long at;

		if (strcmp(e->path, libc) || e->perms[2] != 'x')
			continue;
		if (fbuf && e->offset < flen) {
			size_t n = MIN(len, flen - (size_t)e->offset);

			at = nc_inject_find_restorer(fbuf + e->offset, n);
			if (at >= 0 &&
			    !mem_read(fd, e->start + (uint64_t)at, check, sizeof(check)) &&
			    nc_inject_find_restorer(check, sizeof(check)) == 0) {
				found = e->start + (uint64_t)at;
				break;
			}
		}
		if (!(buf = malloc(len)))
			continue;
		if (!mem_read(fd, e->start, buf, len) &&
		    (at = nc_inject_find_restorer(buf, len)) >= 0)
			found = e->start + (uint64_t)at;
		free(buf);
	}
	close(fd);
	return found;
}

static int find_libc(pid_t pid, const char *comm, const struct nc_maps *m, struct libc_syms *s,
		     char *err, size_t errlen)
{
	const struct nc_maps_entry *libc = find_lib(m, is_libc), *dl;
	struct nc_elf *e = NULL, *edl = NULL;
	uint64_t base, dlbase;
	int r;

	memset(s, 0, sizeof(*s));
	if (!libc)
		return nc_err(err, errlen, ENOEXEC,
			      "process %d (%s) has no libc.so.6 mapped (a static or non-glibc "
			      "binary): injection goes through glibc's dlopen; capture without "
			      "--inject",
			      (int)pid, comm);
	g_strlcpy(s->path, libc->path, sizeof(s->path));
	if (!is_x86_64(pid, m, libc->path))
		return nc_err(err, errlen, ENOEXEC,
			      "process %d (%s) maps %s, which is not x86-64: injection supports "
			      "x86-64 processes only; capture without --inject",
			      (int)pid, comm, libc->path);
	r = open_mapped_elf(pid, m, libc->path, &e, err, errlen);
	if (r < 0)
		return r;
	r = nc_maps_load_base(m, libc->path, e, &base, err, errlen);
	if (r < 0)
		goto out;
	s->pthread_create = func_addr(e, base, "pthread_create");
	s->pthread_self = func_addr(e, base, "pthread_self");
	s->pthread_detach = func_addr(e, base, "pthread_detach");
	s->mmap = func_addr(e, base, "mmap");
	s->dlopen = func_addr(e, base, "dlopen"); /* glibc 2.34+ */
	s->dlsym = func_addr(e, base, "dlsym");
	s->dlerror = func_addr(e, base, "dlerror");
	if (!s->dlopen && (dl = find_lib(m, is_libdl)) &&
	    !open_mapped_elf(pid, m, dl->path, &edl, NULL, 0) &&
	    !nc_maps_load_base(m, dl->path, edl, &dlbase, NULL, 0)) {
		s->dlopen = func_addr(edl, dlbase, "dlopen");
		s->dlsym = func_addr(edl, dlbase, "dlsym");
		s->dlerror = func_addr(edl, dlbase, "dlerror");
	}
	if (!s->dlopen || !s->dlsym || !s->dlerror) {
		r = nc_err(err, errlen, ENOENT,
			   "%s of process %d (%s) has no dlopen (glibc before 2.34) and libdl.so.2 "
			   "is not loaded: capture without --inject",
			   libc->path, (int)pid, comm);
		goto out;
	}
	if (!s->pthread_create || !s->pthread_self || !s->pthread_detach || !s->mmap) {
		r = nc_err(err, errlen, ENOENT,
			   "%s of process %d (%s) lacks pthread_create, pthread_self, "
			   "pthread_detach or mmap: capture without --inject",
			   libc->path, (int)pid, comm);
		goto out;
	}
	s->restorer = find_restorer(pid, m, libc->path);
	if (!s->restorer)
		r = nc_err(err, errlen, ENOENT,
			   "no rt_sigreturn trampoline found in %s of process %d (%s): a glibc "
			   "build injection does not know; capture without --inject",
			   libc->path, (int)pid, comm);
out:
	nc_elf_close(edl);
	nc_elf_close(e);
	return r;
}

/* What an injection into pid needs, found without touching it. */
struct plan {
	pid_t pid;
	char comm[64];
	bool dpdk;
	struct thread thread; /* the one to stop */
	struct libc_syms libc;
	struct nc_maps *maps;
	/* copy mode: the library's bytes, put after the pages (NC_INJECT_IMG_OFF) */
	const unsigned char *img;
	size_t img_len;
	uint64_t map_size; /* the pages, and the bytes rounded up to a page */
};

static bool is_eal(const char *path)
{
	const char *b = strrchr(path, '/');

	return b && g_str_has_prefix(b + 1, "librte_eal.so");
}

static int check_privileges(pid_t pid, const char *comm, char *err, size_t errlen)
{
	int scope = nc_privs_yama_scope();

	if (scope >= 3)
		return nc_err(err, errlen, EPERM,
			      "Yama's ptrace_scope is 3 (/proc/sys/kernel/yama/ptrace_scope): no "
			      "process may be traced until reboot, so netcap cannot inject into "
			      "process %d (%s); capture without --inject",
			      (int)pid, comm);
	if (nc_privs_have(NC_CAP_SYS_PTRACE))
		return 0;
	if (scope >= 1)
		return nc_err(err, errlen, EPERM,
			      "injecting into process %d (%s) needs CAP_SYS_PTRACE under Yama's "
			      "ptrace_scope %d: run netcap as root, or capture without --inject",
			      (int)pid, comm, scope);
	return nc_privs_may_trace(pid, err, errlen);
}

static int make_plan(pid_t pid, pid_t want_tid, struct plan *p, char *err, size_t errlen)
{
	g_autofree char *seccomp = NULL, *tracer = NULL, *features = NULL;
	g_autoptr(GArray) threads = NULL;
	g_autoptr(GString) names = g_string_new(NULL);
	char tcomm[16];
	int r, best = -1;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH) || list_threads(pid, &threads))
		return nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
	proc_comm(pid, pid, tcomm, sizeof(tcomm));
	g_strlcpy(p->comm, tcomm, sizeof(p->comm));
	r = check_privileges(pid, p->comm, err, errlen);
	if (r < 0)
		return r;
	tracer = status_field(pid, "TracerPid:");
	if (tracer && strcmp(tracer, "0")) {
		char tc[16];

		proc_comm((pid_t)atoi(tracer), (pid_t)atoi(tracer), tc, sizeof(tc));
		return nc_err(
		    err, errlen, EPERM,
		    "process %d (%s) is traced by process %s (%s), a debugger?: detach it "
		    "first, or capture without --inject",
		    (int)pid, p->comm, tracer, tc);
	}
	seccomp = status_field(pid, "Seccomp:");
	if (seccomp && strcmp(seccomp, "0"))
		return nc_err(err, errlen, EACCES,
			      "process %d (%s) runs under seccomp (%s mode): the system calls "
			      "injection makes (mmap, clone, openat) may be refused or kill it; "
			      "capture without --inject",
			      (int)pid, p->comm, !strcmp(seccomp, "1") ? "strict" : "filter");
	features = status_field(pid, "x86_Thread_features:");
	if (features && strstr(features, "shstk"))
		return nc_err(err, errlen, ENOTSUP,
			      "process %d (%s) runs with shadow stacks (x86_Thread_features: %s): "
			      "injection's call and return would fault; capture without --inject",
			      (int)pid, p->comm, features);
	r = nc_maps_read(pid, &p->maps, err, errlen);
	if (r < 0)
		return r;
	r = find_libc(pid, p->comm, p->maps, &p->libc, err, errlen);
	if (r < 0)
		goto fail;
	p->dpdk = find_lib(p->maps, is_eal) != NULL;
	for (guint i = 0; i < threads->len; i++)
		if (nc_inject_thread_kind(g_array_index(threads, struct thread, i).comm) ==
		    NC_THREAD_LCORE)
			p->dpdk = true; /* a static DPDK build */
	for (guint i = 0; i < threads->len; i++) {
		const struct thread *t = &g_array_index(threads, struct thread, i);
		enum nc_inject_kind k = nc_inject_thread_kind(t->comm);
		int rank;

		if (want_tid) {
			if (t->tid != want_tid)
				continue;
			if (k == NC_THREAD_LCORE) {
				r = nc_err(err, errlen, EPERM,
					   "thread %d of process %d is a DPDK lcore (%s): it polls "
					   "and must not be stopped",
					   (int)want_tid, (int)pid, t->comm);
				goto fail;
			}
			p->thread = *t;
			return 0;
		}
		g_string_append_printf(names, "%s%s %c", names->len ? ", " : "", t->comm, t->state);
		rank = thread_rank(pid, t, p->dpdk);
		if (rank >= 0 && (best < 0 || rank < best)) {
			best = rank;
			p->thread = *t;
		}
	}
	if (want_tid) {
		r = nc_err(err, errlen, ESRCH, "process %d has no thread %d", (int)pid,
			   (int)want_tid);
		goto fail;
	}
	if (best < 0) {
		r = nc_err(err, errlen, EBUSY,
			   "no thread of process %d (%s) sleeps in a system call outside the DPDK "
			   "lcores (threads: %s); capture without --inject",
			   (int)pid, p->comm, names->str);
		goto fail;
	}
	return 0;
fail:
	nc_maps_free(p->maps);
	p->maps = NULL;
	return r;
}

int nc_inject_check(pid_t pid, pid_t *tid, char *err, size_t errlen)
{
	struct plan p;
	int r = make_plan(pid, 0, &p, err, errlen);

	if (r < 0)
		return r;
	if (tid)
		*tid = p.thread.tid;
	nc_maps_free(p.maps);
	return 0;
}

/* The x86-64 signal frame, as the kernel builds it for a handler and rt_sigreturn reads it. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* 64-byte aligned XSAVE area, magic2 after it */
	uint64_t reserved1[8];
};
struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
};
struct k_ucontext {
	uint64_t uc_flags, uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};
struct k_rt_sigframe {
	uint64_t pretcode; /* the return address: the trampoline */
	struct k_ucontext uc;
	unsigned char info[128];
};
_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe");

/* An injection in progress. */
struct session {
	pid_t pid, tid;
	int mem;      /* /proc/PID/mem */
	bool seized;  /* attached with ptrace */
	bool at_exit; /* stopped at mmap()'s return (step 3 may begin) */
	bool started; /* set to call pthread_create() */
	struct user_regs_struct saved;
	uint64_t stopped_at, detached_at;
};

/* Waits up to timeout_ms for a ptrace stop or the end of tid: 0 and *status, -ETIMEDOUT, or
 * -ESRCH when tid is gone. */
static int wait_tid(pid_t tid, unsigned timeout_ms, int *status)
{
	uint64_t start = now_ns(), end = start + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);

		if (r == tid)
			return WIFEXITED(*status) || WIFSIGNALED(*status) ? -ESRCH : 0;
		if (r < 0 && errno != EINTR)
			return -ESRCH;
		if (now_ns() > end)
			return -ETIMEDOUT;
		/* the thread stops within microseconds when it gets a CPU: yield to it (on a busy
		 * machine a sleep would add the timer's slack to its stop, each time) */
		if (now_ns() - start < 5000000u)
			sched_yield();
		else
			g_usleep(50);
	}
}

/* Lets the thread go from wherever it is, with whatever registers it holds (every step leaves
 * them resumable). */
static void let_go(struct session *s)
{
	int st;

	if (!s->seized)
		return;
	if (ptrace(PTRACE_DETACH, s->tid, 0, 0) && errno == ESRCH) {
		/* running (not in a stop): stop it first; a thread that does not stop now (an
		 * uninterruptible sleep) would stop later and wait for netcap until its exit: wait
		 * longer for it */
		if (!ptrace(PTRACE_INTERRUPT, s->tid, 0, 0) &&
		    !wait_tid(s->tid, LET_GO_TIMEOUT_MS, &st))
			ptrace(PTRACE_DETACH, s->tid, 0, 0);
	}
	s->seized = false;
	s->detached_at = now_ns();
}

/* Stops the thread (step 1): 0 once it is in its PTRACE_INTERRUPT stop. */
static int stop_thread(struct session *s, const char *comm, char *err, size_t errlen)
{
	int st, r;

	if (ptrace(PTRACE_SEIZE, s->tid, 0, PTRACE_O_TRACESYSGOOD)) {
		if (errno == ESRCH)
			return nc_err(err, errlen, ESRCH, "thread %d of process %d exited",
				      (int)s->tid, (int)s->pid);
		return nc_err(err, errlen, EPERM, "cannot trace thread %d (%s) of process %d: %s",
			      (int)s->tid, comm, (int)s->pid, strerror(errno));
	}
	s->seized = true;
	if (ptrace(PTRACE_INTERRUPT, s->tid, 0, 0))
		return nc_err(err, errlen, ESRCH, "thread %d of process %d exited", (int)s->tid,
			      (int)s->pid);
	for (;;) {
		r = wait_tid(s->tid, STOP_TIMEOUT_MS, &st);
		if (r == -ETIMEDOUT)
			return nc_err(err, errlen, ETIMEDOUT,
				      "thread %d (%s) of process %d did not stop within %d ms "
				      "(uninterruptible sleep?)",
				      (int)s->tid, comm, (int)s->pid, STOP_TIMEOUT_MS);
		if (r < 0)
			return nc_err(err, errlen, ESRCH, "process %d exited", (int)s->pid);
		if (st >> 16 == PTRACE_EVENT_STOP && WSTOPSIG(st) == SIGTRAP)
			break; /* our interrupt */
		if (st >> 16 == PTRACE_EVENT_STOP)
			return nc_err(err, errlen, EAGAIN,
				      "process %d is stopped (%s): continue it (kill -CONT %d) "
				      "first",
				      (int)s->pid, strsignal(WSTOPSIG(st)), (int)s->pid);
		/* a signal arrived first: hand it on; our interrupt stays pending */
		if (ptrace(PTRACE_CONT, s->tid, 0, (void *)(uintptr_t)WSTOPSIG(st)))
			return nc_err(err, errlen, ESRCH, "process %d exited", (int)s->pid);
	}
	s->stopped_at = now_ns();
	if (ptrace(PTRACE_GETREGS, s->tid, 0, &s->saved))
		return nc_err(err, errlen, errno, "cannot read the registers of thread %d: %s",
			      (int)s->tid, strerror(errno));
	return 0;
}

/* The registers the thread resumes with: its own, the restart applied. */
static struct user_regs_struct resume_regs(const struct user_regs_struct *saved)
{
	struct user_regs_struct r = *saved;
	struct nc_inject_regs k = {.rax = r.rax, .orig_rax = r.orig_rax, .rip = r.rip};

	nc_inject_resume_regs(&k);
	r.rax = k.rax;
	r.orig_rax = k.orig_rax;
	r.rip = k.rip;
	return r;
}

/*
 * The same for the fallback frame, which rt_sigreturn loads: rt_sigreturn cancels the restart
 * block, so restart_syscall would return -EINTR to a program that has no signal handler. The
 * interrupted call is issued again with its original arguments instead (a relative timeout starts
 * over): its number is orig_rax, or, when the thread slept in restart_syscall already (an earlier
 * stop), the immediate of the "mov $NR, %eax" right before the syscall instruction, as glibc's
 * wrappers have it. Without one the call returns -EINTR.
 */
static struct user_regs_struct sigreturn_regs(const struct session *s)
{
	struct user_regs_struct r = resume_regs(&s->saved);
	unsigned char code[5];

	if (r.rax != SYS_restart_syscall || -(int64_t)s->saved.rax != ERESTART_RESTARTBLOCK)
		return r;
	if (s->saved.orig_rax != SYS_restart_syscall)
		r.rax = s->saved.orig_rax;
	else if (!mem_read(s->mem, s->saved.rip - 7, code, sizeof(code)) && code[0] == 0xb8) {
		uint32_t nr;

		memcpy(&nr, code + 1, sizeof(nr));
		if (nr != SYS_restart_syscall && nr < 1024)
			r.rax = nr;
	}
	return r;
}

/* Writes the fallback signal frame (step 2) below the thread's red zone; *frame_at is where
 * its return address (pretcode) lies: the stack pointer for the call of mmap(). */
static int write_frame(struct session *s, const struct nc_maps *maps, uint64_t restorer,
		       uint64_t *frame_at, char *err, size_t errlen)
{
	g_autofree unsigned char *xs = g_malloc0(XSTATE_MAX);
	struct iovec iov = {.iov_base = xs, .iov_len = XSTATE_MAX};
	struct user_regs_struct r = sigreturn_regs(s);
	struct k_rt_sigframe f;
	const struct nc_maps_entry *stack;
	uint64_t fp, at, mask = 0;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	int e;

	if (ptrace(PTRACE_GETREGSET, s->tid, (void *)NT_X86_XSTATE, &iov))
		return nc_err(err, errlen, errno, "cannot read the FP state of thread %d: %s",
			      (int)s->tid, strerror(errno));
	fp = (s->saved.rsp - RED_ZONE - iov.iov_len - sizeof(magic2)) & ~(uint64_t)63;
	at = ((fp - sizeof(f)) & ~(uint64_t)15) - 8; /* 8 mod 16: a function's entry */
	stack = nc_maps_find(maps, s->saved.rsp);
	if (!stack || at < stack->start || stack->perms[1] != 'w')
		return nc_err(err, errlen, ENOMEM,
			      "the stack of thread %d has no room below 0x%llx for a %zu-byte "
			      "frame",
			      (int)s->tid, (unsigned long long)s->saved.rsp,
			      (size_t)(s->saved.rsp - at));
	if (ptrace(PTRACE_GETSIGMASK, s->tid, (void *)sizeof(mask), &mask))
		return nc_err(err, errlen, errno, "cannot read the signal mask of thread %d: %s",
			      (int)s->tid, strerror(errno));
	memset(&f, 0, sizeof(f));
	f.pretcode = restorer;
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.uc_stack.ss_flags = SS_INVALID_MODE;
	f.uc.uc_sigmask = mask;
	f.uc.uc_mcontext = (struct k_sigcontext){.r8 = r.r8,
						 .r9 = r.r9,
						 .r10 = r.r10,
						 .r11 = r.r11,
						 .r12 = r.r12,
						 .r13 = r.r13,
						 .r14 = r.r14,
						 .r15 = r.r15,
						 .rdi = r.rdi,
						 .rsi = r.rsi,
						 .rbp = r.rbp,
						 .rbx = r.rbx,
						 .rdx = r.rdx,
						 .rax = r.rax,
						 .rcx = r.rcx,
						 .rsp = r.rsp,
						 .rip = r.rip,
						 .eflags = r.eflags,
						 .cs = (uint16_t)r.cs,
						 .ss = (uint16_t)r.ss,
						 .fpstate = fp};
	if ((e = mem_write(s->mem, fp, xs, iov.iov_len)) ||
	    (e = mem_write(s->mem, fp + iov.iov_len, &magic2, sizeof(magic2))) ||
	    (e = mem_write(s->mem, at, &f, sizeof(f))))
		return nc_err(err, errlen, -e, "cannot write the stack of thread %d: %s",
			      (int)s->tid, strerror(-e));
	*frame_at = at;
	return 0;
}

/* Step 2: the thread calls mmap() and stops at its return; *pages is the result. */
static int map_pages(struct session *s, const struct plan *p, uint64_t *pages, char *err,
		     size_t errlen)
{
	struct user_regs_struct r = s->saved;
	bool in_call = false, ours = false;
	uint64_t frame = 0, mask;
	int st, e;

	e = write_frame(s, p->maps, p->libc.restorer, &frame, err, errlen);
	if (e < 0)
		return e;
	r.rip = p->libc.mmap;
	r.rsp = frame;
	r.rdi = 0;
	r.rsi = p->map_size;
	r.rdx = PROT_READ | PROT_WRITE | PROT_EXEC;
	r.rcx = MAP_PRIVATE | MAP_ANONYMOUS;
	r.r8 = (uint64_t)-1;
	r.r9 = 0;
	r.rax = 0;
	r.orig_rax = (uint64_t)-1; /* no restart of the interrupted call into mmap() */
	if (ptrace(PTRACE_SETREGS, s->tid, 0, &r))
		return nc_err(err, errlen, errno, "cannot set the registers of thread %d: %s",
			      (int)s->tid, strerror(errno));
	if (ptrace(PTRACE_SYSCALL, s->tid, 0, 0))
		return nc_err(err, errlen, ESRCH, "process %d exited", (int)p->pid);
	for (;;) {
		int sig = 0;

		e = wait_tid(s->tid, STOP_TIMEOUT_MS, &st);
		if (e == -ETIMEDOUT)
			return nc_err(err, errlen, ETIMEDOUT,
				      "mmap() in thread %d of process %d did not return within %d "
				      "ms",
				      (int)s->tid, (int)p->pid, STOP_TIMEOUT_MS);
		if (e < 0)
			return nc_err(err, errlen, ESRCH, "process %d exited", (int)p->pid);
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, s->tid, 0, &r))
				return nc_err(err, errlen, ESRCH, "process %d exited", (int)p->pid);
			if (in_call) { /* a system call's exit: ours, or a signal handler's */
				in_call = false;
				if (ours) {
					s->at_exit = true;
					if (r.rax > (uint64_t)-4096)
						return nc_err(err, errlen, (int)-r.rax,
							      "mmap() in process %d failed: %s",
							      (int)p->pid, strerror((int)-r.rax));
					*pages = r.rax;
					return 0;
				}
			} else {
				in_call = true;
				ours = r.orig_rax == SYS_mmap && r.rsi == p->map_size &&
				       r.rdx == (PROT_READ | PROT_WRITE | PROT_EXEC) &&
				       r.r10 == (MAP_PRIVATE | MAP_ANONYMOUS);
				/*
				 * Out of its system call the thread has its own signal mask
				 * again: a call like ppoll() shows the one it installed for the
				 * wait in SigBlk, which the frame must not make permanent.
				 */
				if (ours &&
				    !ptrace(PTRACE_GETSIGMASK, s->tid, (void *)sizeof(mask), &mask))
					mem_write(s->mem,
						  frame +
						      offsetof(struct k_rt_sigframe, uc.uc_sigmask),
						  &mask, sizeof(mask));
			}
		} else if (st >> 16 == PTRACE_EVENT_STOP) {
			return nc_err(err, errlen, EAGAIN, "process %d was stopped meanwhile",
				      (int)p->pid);
		} else {
			sig = WSTOPSIG(st); /* a signal for the thread: delivered */
		}
		if (ptrace(PTRACE_SYSCALL, s->tid, 0, (void *)(uintptr_t)sig))
			return nc_err(err, errlen, ESRCH, "process %d exited", (int)p->pid);
	}
}

/* The file name of a path (the memfd's name in copy mode) */
static const char *name_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Step 3: the stub and its data into the pages, then the thread set to call pthread_create(). */
static int start_thread(struct session *s, const struct plan *p, uint64_t pages, const char *lib,
			const char *soname, const char *sym, const char *arg, char *err,
			size_t errlen)
{
	g_autofree unsigned char *img = g_malloc0(NC_INJECT_PAGES_SIZE);
	struct nc_inject_data *d = (struct nc_inject_data *)(img + NC_INJECT_DATA_OFF);
	struct user_regs_struct res = resume_regs(&s->saved), r = s->saved;
	size_t code = (size_t)(nc_inject_stub_end - nc_inject_stub_begin);
	uint64_t ret_at = ((s->saved.rsp - RED_ZONE) & ~(uint64_t)15) - 8;
	uint64_t ret_to = pages + (uint64_t)(nc_inject_stub_restore - nc_inject_stub_begin);
	int e;

	memcpy(img, nc_inject_stub_begin, code);
	d->regs[NC_R_R15] = res.r15;
	d->regs[NC_R_R14] = res.r14;
	d->regs[NC_R_R13] = res.r13;
	d->regs[NC_R_R12] = res.r12;
	d->regs[NC_R_RBP] = res.rbp;
	d->regs[NC_R_RBX] = res.rbx;
	d->regs[NC_R_R11] = res.r11;
	d->regs[NC_R_R10] = res.r10;
	d->regs[NC_R_R9] = res.r9;
	d->regs[NC_R_R8] = res.r8;
	d->regs[NC_R_RAX] = res.rax;
	d->regs[NC_R_RCX] = res.rcx;
	d->regs[NC_R_RDX] = res.rdx;
	d->regs[NC_R_RSI] = res.rsi;
	d->regs[NC_R_RDI] = res.rdi;
	d->regs[NC_R_EFLAGS] = res.eflags;
	d->regs[NC_R_RIP] = res.rip;
	d->regs[NC_R_RSP] = res.rsp;
	d->fn_dlopen = p->libc.dlopen;
	d->fn_dlsym = p->libc.dlsym;
	d->fn_dlerror = p->libc.dlerror;
	d->fn_pthread_self = p->libc.pthread_self;
	d->fn_pthread_detach = p->libc.pthread_detach;
	d->create_ret = -1;
	d->memfd = -1;
	strcpy(d->name, "nc-agent");
	if (p->img_len) {
		/* the stub appends the memfd's number */
		strcpy((char *)img + NC_INJECT_PATH_OFF, NC_INJECT_FD_PREFIX);
		d->img_len = p->img_len;
		d->img_map = p->map_size - NC_INJECT_IMG_OFF;
		g_strlcpy(d->soname, soname ? soname : "", sizeof(d->soname));
		g_strlcpy(d->memfd_name, name_of(lib), sizeof(d->memfd_name));
	} else {
		strcpy((char *)img + NC_INJECT_PATH_OFF, lib);
	}
	strcpy((char *)img + NC_INJECT_SYM_OFF, sym);
	strcpy((char *)img + NC_INJECT_ARG_OFF, arg);
	if ((e = mem_write(s->mem, pages, img, NC_INJECT_PAGES_SIZE)) ||
	    (p->img_len &&
	     (e = mem_write(s->mem, pages + NC_INJECT_IMG_OFF, p->img, p->img_len))) ||
	    (e = mem_write(s->mem, ret_at, &ret_to, sizeof(ret_to))))
		return nc_err(err, errlen, -e, "cannot write into process %d: %s", (int)p->pid,
			      strerror(-e));
	r.rip = p->libc.pthread_create;
	r.rsp = ret_at;
	r.rdi = pages + NC_INJECT_DATA_OFF + offsetof(struct nc_inject_data, pthread);
	r.rsi = 0;
	r.rdx = pages + (uint64_t)(nc_inject_stub_thread - nc_inject_stub_begin);
	r.rcx = 0;
	r.rax = 0;
	r.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETREGS, s->tid, 0, &r))
		return nc_err(err, errlen, errno, "cannot set the registers of thread %d: %s",
			      (int)s->tid, strerror(errno));
	s->started = true;
	return 0;
}

/* After the detach: waits for the restore stub and for the new thread to call entry. */
static int wait_agent(struct session *s, uint64_t pages, const char *lib, const char *sym,
		      unsigned timeout_ms, struct nc_inject_result *res, char *err, size_t errlen)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct nc_inject_data d;
	int e;

	for (;;) {
		e = mem_read(s->mem, pages + NC_INJECT_DATA_OFF, &d, sizeof(d));
		if (e < 0)
			return nc_err(err, errlen, ESRCH, "process %d exited during the injection",
				      (int)s->pid);
		res->agent_tid = d.agent_tid;
		if (d.reached && d.create_ret > 0)
			return nc_err(err, errlen, d.create_ret,
				      "pthread_create() in process %d failed: %s", (int)s->pid,
				      strerror(d.create_ret));
		d.err[sizeof(d.err) - 1] = '\0';
		if (d.state == NC_INJ_MEMFD_FAILED)
			return nc_err(err, errlen, d.sys_err > 0 ? d.sys_err : EIO,
				      "process %d could not copy %s into a memfd of its own: %s",
				      (int)s->pid, lib, strerror(d.sys_err > 0 ? d.sys_err : EIO));
		if (d.state == NC_INJ_DLOPEN_FAILED)
			return nc_err(err, errlen, ENOENT, "process %d could not load %s: %s",
				      (int)s->pid, lib, d.err);
		if (d.state == NC_INJ_DLSYM_FAILED)
			return nc_err(err, errlen, ENOENT,
				      "%s loaded into process %d has no %s: %s", lib, (int)s->pid,
				      sym, d.err);
		if (d.reached && d.state >= NC_INJ_CALLING) {
			res->entry_returned = d.state == NC_INJ_RETURNED;
			res->entry_ret = d.entry_ret;
			return 0;
		}
		if (now_ns() > end)
			return nc_err(err, errlen, ETIMEDOUT,
				      "process %d did not call %s of %s within %u ms (state %d)",
				      (int)s->pid, sym, lib, timeout_ms, (int)d.state);
		g_usleep(500);
	}
}

int nc_inject(pid_t pid, const char *lib_path, const char *entry_symbol, const char *arg,
	      const struct nc_inject_opts *opts, struct nc_inject_result *res, char *err,
	      size_t errlen)
{
	struct nc_inject_result local;
	struct session s = {.pid = pid, .mem = -1};
	uint64_t t0 = now_ns(), pages = 0;
	unsigned timeout = opts && opts->timeout_ms ? opts->timeout_ms : 5000;
	g_autofree char *mem = NULL;
	g_autofree gchar *img = NULL;
	gsize img_len = 0;
	GError *gerr = NULL;
	struct plan p;
	int r;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	res->syscall_nr = -1;
	if (!lib_path || lib_path[0] != '/' || strlen(lib_path) >= NC_INJECT_PATH_MAX)
		return nc_err(err, errlen, EINVAL,
			      "the library to inject must be an absolute path shorter than %d "
			      "bytes",
			      NC_INJECT_PATH_MAX);
	if (!entry_symbol || !entry_symbol[0] || strlen(entry_symbol) >= NC_INJECT_SYM_MAX)
		return nc_err(err, errlen, EINVAL, "the entry symbol must be 1 to %d bytes",
			      NC_INJECT_SYM_MAX - 1);
	if (!arg)
		arg = "";
	if (strlen(arg) >= NC_INJECT_ARG_MAX)
		return nc_err(err, errlen, EINVAL, "the argument for %s is longer than %d bytes",
			      entry_symbol, NC_INJECT_ARG_MAX - 1);
	if (opts && opts->copy) {
		/* netcap's own file: the target need not see it */
		if (!g_file_get_contents(lib_path, &img, &img_len, &gerr)) {
			r = nc_err(err, errlen, ENOENT,
				   "cannot read %s to copy it into process %d: %s", lib_path,
				   (int)pid, gerr->message);
			g_error_free(gerr);
			return r;
		}
		if (!img_len || img_len > IMG_MAX)
			return nc_err(err, errlen, EINVAL,
				      "%s is %zu bytes: a library to copy into a process is 1 byte "
				      "to %d MiB",
				      lib_path, (size_t)img_len, IMG_MAX >> 20);
	}
	r = make_plan(pid, opts ? opts->tid : 0, &p, err, errlen);
	if (r < 0)
		return r;
	p.img = (const unsigned char *)img;
	p.img_len = img_len;
	p.map_size = NC_INJECT_PAGES_SIZE;
	if (img_len)
		p.map_size = NC_INJECT_IMG_OFF + ((img_len + 4095) & ~(uint64_t)4095);
	mem = g_strdup_printf("/proc/%d/root%s", (int)pid, lib_path);
	if (!img_len && access(mem, R_OK)) {
		r = nc_err(err, errlen, ENOENT, "process %d sees no %s to load: %s", (int)pid,
			   lib_path, strerror(errno));
		goto out;
	}
	g_free(g_steal_pointer(&mem));
	s.tid = p.thread.tid;
	res->tid = p.thread.tid;
	g_strlcpy(res->comm, p.thread.comm, sizeof(res->comm));
	res->syscall_nr = p.thread.nr;
	mem = g_strdup_printf("/proc/%d/mem", (int)pid);
	s.mem = open(mem, O_RDWR | O_CLOEXEC);
	if (s.mem < 0) {
		r = nc_err(err, errlen, errno == ENOENT ? ESRCH : errno, "cannot open %s: %s", mem,
			   strerror(errno));
		goto out;
	}
	r = stop_thread(&s, p.thread.comm, err, errlen);
	if (r == 0) {
		/* what it really slept in, now that it is stopped */
		res->syscall_nr = (long)s.saved.orig_rax;
		r = map_pages(&s, &p, &pages, err, errlen);
	}
	if (r == 0) {
		res->pages = pages;
		r = start_thread(&s, &p, pages, lib_path, opts ? opts->soname : NULL, entry_symbol,
				 arg, err, errlen);
	}
	if (r < 0 && s.at_exit && !s.started) {
		/* netcap is here to put the thread back itself: the restart block stays intact
		 * (if this fails the frame's rt_sigreturn does it) */
		struct user_regs_struct back = resume_regs(&s.saved);

		ptrace(PTRACE_SETREGS, s.tid, 0, &back);
	}
	let_go(&s);
	if (s.stopped_at) {
		res->stop_at_ns = s.stopped_at - t0;
		res->stop_ns = s.detached_at - s.stopped_at;
	}
	if (r == 0)
		r = wait_agent(&s, pages, lib_path, entry_symbol, timeout, res, err, errlen);
out:
	if (s.mem >= 0)
		close(s.mem);
	nc_maps_free(p.maps);
	res->total_ns = now_ns() - t0;
	return r;
}

#else /* not x86-64 */

int nc_inject_check(pid_t pid, pid_t *tid, char *err, size_t errlen)
{
	(void)tid;
	return nc_err(err, errlen, ENOTSUP,
		      "injection into process %d: netcap supports it on x86-64 only", (int)pid);
}

int nc_inject(pid_t pid, const char *lib_path, const char *entry_symbol, const char *arg,
	      const struct nc_inject_opts *opts, struct nc_inject_result *res, char *err,
	      size_t errlen)
{
	(void)lib_path, (void)entry_symbol, (void)arg, (void)opts, (void)res;
	return nc_inject_check(pid, NULL, err, errlen);
}

#endif
