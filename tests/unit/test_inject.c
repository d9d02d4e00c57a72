/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The injector (core/inject) against real processes: inject_target (tests/apps/inject_target.c:
 * a busy thread and threads sleeping in epoll_wait, poll, clock_nanosleep and read) and
 * inject_lib (its entry appends its argument to a file). Needs ptrace: skipped with the reason
 * without it. NC_INJECT_TARGET, NC_INJECT_LIB, NC_INJECT_STATIC name the programs (ctest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"
#include "inject/inject_int.h"

/* ---- the pieces on their own ---- */

#define ERESTARTSYS	      512
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

static void test_resume_regs(void)
{
	static const struct {
		const char *name;
		struct nc_inject_regs in, out;
		bool restart;
	} cases[] = {
	    {"read: -ERESTARTSYS restarts read",
	     {-(uint64_t)ERESTARTSYS, 0, 0x1002},
	     {0, -1ull, 0x1000},
	     true},
	    {"select: -ERESTARTNOHAND restarts",
	     {-(uint64_t)ERESTARTNOHAND, 23, 0x1002},
	     {23, -1ull, 0x1000},
	     true},
	    {"poll: -ERESTART_RESTARTBLOCK goes through restart_syscall",
	     {-(uint64_t)ERESTART_RESTARTBLOCK, 7, 0x1002},
	     {SYS_restart_syscall, -1ull, 0x1000},
	     true},
	    {"epoll_wait: -EINTR is returned",
	     {-(uint64_t)EINTR, 232, 0x1002},
	     {-(uint64_t)EINTR, -1ull, 0x1002},
	     false},
	    {"a finished call keeps its result", {5, 0, 0x1002}, {5, -1ull, 0x1002}, false},
	    {"not in a system call: nothing to restart",
	     {-(uint64_t)ERESTARTSYS, -1ull, 0x1002},
	     {-(uint64_t)ERESTARTSYS, -1ull, 0x1002},
	     false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct nc_inject_regs r = cases[i].in;
		bool restart = nc_inject_resume_regs(&r);

		g_test_message("%s", cases[i].name);
		g_assert_cmpint(restart, ==, cases[i].restart);
		g_assert_cmphex(r.rax, ==, cases[i].out.rax);
		g_assert_cmphex(r.orig_rax, ==, cases[i].out.orig_rax);
		g_assert_cmphex(r.rip, ==, cases[i].out.rip);
	}
}

static void test_thread_kind(void)
{
	g_assert_cmpint(nc_inject_thread_kind("rte-worker-1"), ==, NC_THREAD_LCORE);
	g_assert_cmpint(nc_inject_thread_kind("lcore-worker-3"), ==, NC_THREAD_LCORE);
	g_assert_cmpint(nc_inject_thread_kind("dpdk-worker2"), ==, NC_THREAD_LCORE);
	g_assert_cmpint(nc_inject_thread_kind("eal-intr-thread"), ==, NC_THREAD_CONTROL);
	g_assert_cmpint(nc_inject_thread_kind("rte_mp_handle"), ==, NC_THREAD_CONTROL);
	g_assert_cmpint(nc_inject_thread_kind("telemetry-v2"), ==, NC_THREAD_CONTROL);
	g_assert_cmpint(nc_inject_thread_kind("dpdk-intr"), ==, NC_THREAD_CONTROL);
	g_assert_cmpint(nc_inject_thread_kind("nc_fwd"), ==, NC_THREAD_OTHER);
}

static void test_restorer(void)
{
	static const unsigned char code[] = {0x90, 0x90, 0x48, 0xc7, 0xc0, 0x0f,
					     0,	   0,	 0,    0x0f, 0x05, 0xc3};
	static const unsigned char other[] = {0x48, 0xc7, 0xc0, 0x0e, 0, 0, 0, 0x0f, 0x05};

	g_assert_cmpint(nc_inject_find_restorer(code, sizeof(code)), ==, 2);
	g_assert_cmpint(nc_inject_find_restorer(other, sizeof(other)), ==, -1);
}

/* ---- real processes ---- */

static const char *env(const char *name)
{
	const char *v = g_getenv(name);

	if (!v)
		g_error("%s is not set (run through ctest)", name);
	return v;
}

struct target {
	GPid pid;
	int in;	   /* its stdin */
	FILE *out; /* its stdout */
	pid_t busy, epoll, poll, nanosleep;
};

static void target_start_env(struct target *t, const char *opt, char **envp)
{
	char *argv[] = {(char *)env("NC_INJECT_TARGET"), (char *)opt, NULL};
	g_autoptr(GError) e = NULL;
	char line[256];
	int out, main_pid;

	memset(t, 0, sizeof(*t));
	g_assert_true(g_spawn_async_with_pipes(NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					       NULL, &t->pid, &t->in, &out, NULL, &e));
	t->out = fdopen(out, "r");
	g_assert_nonnull(fgets(line, sizeof(line), t->out));
	g_assert_cmpint(sscanf(line, "ready main=%d busy=%d epoll=%d poll=%d nanosleep=%d",
			       &main_pid, &t->busy, &t->epoll, &t->poll, &t->nanosleep),
			==, 5);
	g_assert_cmpint(main_pid, ==, t->pid);
	g_usleep(50000); /* into their sleeping calls */
}

static void target_start_args(struct target *t, const char *opt)
{
	target_start_env(t, opt, NULL);
}

static void target_start(struct target *t)
{
	target_start_args(t, NULL);
}

static void target_stop(struct target *t)
{
	int st;

	if (!t->pid)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	fclose(t->out);
	close(t->in);
	t->pid = 0;
}

struct stats {
	uint64_t count, max_gap_us;
	int eintr, sigs, bad;
	char what[128];
};

/* Asks the target for its statistics (wakes its main thread: a read() that returns data). */
static void target_stats(struct target *t, struct stats *s)
{
	char line[512];

	g_assert_cmpint(write(t->in, "s\n", 2), ==, 2);
	g_assert_nonnull(fgets(line, sizeof(line), t->out));
	memset(s, 0, sizeof(*s));
	g_assert_cmpint(sscanf(line,
			       "count=%" SCNu64 " max_gap_us=%" SCNu64
			       " eintr=%d sigs=%d bad=%d what=%127[^\n]",
			       &s->count, &s->max_gap_us, &s->eintr, &s->sigs, &s->bad, s->what),
			==, 6);
}

static void target_reset_gap(struct target *t)
{
	g_assert_cmpint(write(t->in, "r\n", 2), ==, 2);
}

/* A number from /proc/PID/task/TID/status ("voluntary_ctxt_switches:", "TracerPid:") */
static long task_status(pid_t pid, pid_t tid, const char *field)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/status", (int)pid, (int)tid);
	g_autofree char *text = NULL;
	char *l;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	l = strstr(text, field);
	g_assert_nonnull(l);
	return strtol(l + strlen(field), NULL, 10);
}

/* The system call thread tid sleeps in (/proc/PID/task/TID/syscall), -1 if none */
static long task_syscall(pid_t pid, pid_t tid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	g_autofree char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return g_ascii_isdigit(text[0]) ? strtol(text, NULL, 10) : -1;
}

/* noinline: gcc 12 -O2 takes the inlined &text for a dangling pointer (-Wdangling-pointer) */
__attribute__((noinline)) static char *read_maps(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* The scratch page pairs left in pid: anonymous read-write-execute memory, 8 KiB each (the
 * kernel merges neighbours into one mapping) */
static int scratch_pages(pid_t pid)
{
	g_autofree char *maps = read_maps(pid);
	g_auto(GStrv) lines = g_strsplit(maps, "\n", -1);
	unsigned long long bytes = 0;

	for (char **l = lines; *l; l++) {
		unsigned long long a, b, off;
		char perms[8];
		int consumed = 0;

		if (sscanf(*l, "%llx-%llx %7s %llx %*s %*s%n", &a, &b, perms, &off, &consumed) >=
			4 &&
		    !strcmp(perms, "rwxp") && consumed &&
		    !(*l)[consumed + strspn(*l + consumed, " ")])
			bytes += b - a;
	}
	return (int)(bytes / 0x2000);
}

/* No thread of pid is traced any more. */
static void assert_untraced(pid_t pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)pid);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_assert_cmpint(task_status(pid, (pid_t)atoi(name), "TracerPid:"), ==, 0);
}

/* Skips the test (true) when this process may not ptrace. */
static bool skip_without_ptrace(pid_t pid)
{
	char err[512];
	int r = nc_inject_check(pid, NULL, err, sizeof(err));

	if (r == -EPERM) {
		g_test_skip(err);
		return true;
	}
	g_assert_cmpint(r, ==, 0);
	return false;
}

/* The files the injected library writes, in a directory of this run's, removed at its end (a
 * library killed mid-injection may still write after a test removed its file) */
static char *out_dir;

static char *out_path(const char *tag)
{
	return g_strdup_printf("%s/%s.out", out_dir, tag);
}

static void out_dir_remove(void)
{
	GDir *d = g_dir_open(out_dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(out_dir, name, NULL);

		g_unlink(path);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(out_dir);
	g_free(out_dir);
}

static const char *thread_name(const struct target *t, pid_t tid)
{
	return tid == t->epoll	     ? "epoll"
	       : tid == t->poll	     ? "poll"
	       : tid == t->nanosleep ? "nanosleep"
	       : tid == t->pid	     ? "main"
				     : "?";
}

/*
 * One injection into thread tid (0: the injector's choice) of a running target: the library ran
 * with the argument on a thread of its own, the library is in the maps, the busy thread never
 * stopped, every sleeping call returned only what it may.
 */
static void inject_one(struct target *t, pid_t tid, struct nc_inject_result *res)
{
	g_autofree char *out = out_path(tid ? thread_name(t, tid) : "auto");
	g_autofree char *text = NULL, *maps = NULL, *want = NULL;
	struct nc_inject_opts o = {.tid = tid};
	struct stats before, after;
	long vol0, vol1;
	char err[512];
	int r;

	g_unlink(out);
	target_stats(t, &before);
	target_reset_gap(t);
	vol0 = task_status(t->pid, t->busy, "voluntary_ctxt_switches:");
	r = nc_inject(t->pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", out, &o, res, err,
		      sizeof(err));
	if (r < 0)
		g_error("nc_inject: %s", err);
	g_assert_cmpint(res->tid, !=, t->busy);
	if (tid)
		g_assert_cmpint(res->tid, ==, tid);
	/* entry may still be writing: wait for its line */
	for (int i = 0;
	     i < 500 && !(g_file_get_contents(out, &text, NULL, NULL) && strchr(text, '\n')); i++) {
		g_clear_pointer(&text, g_free);
		g_usleep(2000);
	}
	g_assert_nonnull(text);
	want = g_strdup_printf("arg=%s pid=%d tid=%d ", out, (int)t->pid, (int)res->agent_tid);
	g_assert_true(g_str_has_prefix(text, want));
	g_assert_cmpint(res->agent_tid, !=, res->tid);
	g_assert_true(g_str_has_suffix(text, " comm=nc-agent\n"));
	maps = read_maps(t->pid);
	g_assert_nonnull(strstr(maps, env("NC_INJECT_LIB")));
	assert_untraced(t->pid);
	g_usleep(20000);
	vol1 = task_status(t->pid, t->busy, "voluntary_ctxt_switches:");
	target_stats(t, &after);
	g_assert_cmpint(vol1, ==, vol0); /* a ptrace stop would be a voluntary switch */
	g_assert_cmpuint(after.count, >, before.count);
	if (after.bad)
		g_error("%s", after.what);
	g_test_message("stopped %s (tid %d, syscall %ld) for %" PRIu64 " us; busy thread's "
		       "longest gap meanwhile %" PRIu64 " us; call %" PRIu64 " us",
		       res->comm, (int)res->tid, res->syscall_nr, res->stop_ns / 1000,
		       after.max_gap_us, res->total_ns / 1000);
	g_unlink(out);
}

static void test_each_thread(void)
{
	struct nc_inject_result res;
	struct target t;
	struct stats s;
	uint64_t max_stop = 0, quiet_gap;

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	/* the busy thread's longest gap with nothing going on, for comparison */
	target_reset_gap(&t);
	g_usleep(300000);
	target_stats(&t, &s);
	quiet_gap = s.max_gap_us;
	pid_t tids[] = {t.epoll, t.poll, t.nanosleep, t.pid, 0};
	for (size_t i = 0; i < G_N_ELEMENTS(tids); i++) {
		inject_one(&t, tids[i], &res);
		if (res.stop_ns > max_stop)
			max_stop = res.stop_ns;
		if (!tids[i]) /* the injector's choice: a sleeping thread that is not main */
			g_assert_cmpint(res.tid, ==, t.epoll);
		/* the stub restarted poll and clock_nanosleep through restart_syscall, as the
		 * kernel does: their restart blocks (the time left) were kept */
		if (tids[i] == t.poll || tids[i] == t.nanosleep)
			g_assert_cmpint(task_syscall(t.pid, tids[i]), ==, SYS_restart_syscall);
	}
	/* a second and a third load of the same library into the same process */
	inject_one(&t, t.poll, &res);
	g_assert_cmpint(scratch_pages(t.pid), ==, 6);
	target_stats(&t, &s);
	g_assert_cmpint(s.bad, ==, 0);
	g_assert_cmpint(s.eintr, >=, 1); /* the epoll thread's, expected */
	g_test_message("longest stop %" PRIu64 " us; busy thread's longest gap when quiet %" PRIu64
		       " us",
		       max_stop / 1000, quiet_gap);
	target_stop(&t);
}

static void test_refuse_no_process(void)
{
	char err[512], want[128];
	pid_t pid = fork();
	int st;

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, &st, 0); /* pid is free now */
	g_assert_cmpint(nc_inject_check(pid, NULL, err, sizeof(err)), ==, -ESRCH);
	snprintf(want, sizeof(want), "no process with pid %d", (int)pid);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpint(nc_inject(pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", "x", NULL,
				  NULL, err, sizeof(err)),
			==, -ESRCH);
	g_assert_cmpstr(err, ==, want);
}

static void test_refuse_static(void)
{
	char *argv[] = {(char *)env("NC_INJECT_STATIC"), NULL};
	g_autofree char *maps0 = NULL, *maps1 = NULL, *want = NULL;
	g_autoptr(GError) e = NULL;
	char err[512];
	GPid pid;
	int st;

	g_assert_true(
	    g_spawn_async(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &e));
	g_usleep(50000);
	maps0 = read_maps(pid);
	want = g_strdup_printf("process %d (inject_static) has no libc.so.6 mapped (a static or "
			       "non-glibc binary): injection goes through glibc's dlopen; capture "
			       "without --inject",
			       (int)pid);
	if (nc_inject_check(pid, NULL, err, sizeof(err)) == -EPERM) {
		g_test_skip(err);
	} else {
		g_assert_cmpint(nc_inject_check(pid, NULL, err, sizeof(err)), ==, -ENOEXEC);
		g_assert_cmpstr(err, ==, want);
		g_assert_cmpint(nc_inject(pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", "x",
					  NULL, NULL, err, sizeof(err)),
				==, -ENOEXEC);
		g_assert_cmpstr(err, ==, want);
		maps1 = read_maps(pid);
		g_assert_cmpstr(maps1, ==, maps0); /* nothing left in the target */
		assert_untraced(pid);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/* A library the target cannot see, and an entry the library lacks: refused with dlerror()'s
 * text where it comes from the target, and the target works on. */
static void test_refuse_library(void)
{
	g_autofree char *maps0 = NULL, *maps1 = NULL, *want = NULL, *prefix = NULL;
	struct nc_inject_result res;
	struct target t;
	struct stats s;
	char err[512];

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	maps0 = read_maps(t.pid);
	g_assert_cmpint(
	    nc_inject(t.pid, "/nonexistent/agent.so", "entry", "", NULL, &res, err, sizeof(err)),
	    ==, -ENOENT);
	want = g_strdup_printf("process %d sees no /nonexistent/agent.so to load: No such file or "
			       "directory",
			       (int)t.pid);
	g_assert_cmpstr(err, ==, want);
	maps1 = read_maps(t.pid);
	g_assert_cmpstr(maps1, ==, maps0);
	g_assert_cmpint(res.stop_ns, ==, 0); /* refused before anything was stopped */

	g_assert_cmpint(nc_inject(t.pid, env("NC_INJECT_LIB"), "no_such_entry", "", NULL, &res, err,
				  sizeof(err)),
			==, -ENOENT);
	prefix = g_strdup_printf(
	    "%s loaded into process %d has no no_such_entry: ", env("NC_INJECT_LIB"), (int)t.pid);
	g_assert_true(g_str_has_prefix(err, prefix));
	g_assert_nonnull(strstr(err, "undefined symbol: no_such_entry"));
	assert_untraced(t.pid);
	target_stats(&t, &s);
	g_assert_cmpint(s.bad, ==, 0);
	target_stop(&t);
}

/* The distinct memfds named NAME mapped in pid: the copies of a library loaded from memfds */
static int memfd_copies(pid_t pid, const char *name)
{
	g_autofree char *maps = read_maps(pid);
	g_autofree char *tail = g_strdup_printf(" /memfd:%s (deleted)", name);
	g_auto(GStrv) lines = g_strsplit(maps, "\n", -1);
	g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (char **l = lines; *l; l++) {
		char inode[32];

		if (g_str_has_suffix(*l, tail) && sscanf(*l, "%*s %*s %*s %*s %31s", inode) == 1)
			g_hash_table_add(inodes, g_strdup(inode));
	}
	return (int)g_hash_table_size(inodes);
}

/* Waits for the line entry appends to out; the text */
static char *entry_line(const char *out)
{
	char *text = NULL;

	for (int i = 0;
	     i < 500 && !(g_file_get_contents(out, &text, NULL, NULL) && strchr(text, '\n')); i++) {
		g_clear_pointer(&text, g_free);
		g_usleep(2000);
	}
	g_assert_nonnull(text);
	return text;
}

/*
 * Copy mode (a container that cannot see the library): the library is read by the injector from
 * a path the target cannot open (a directory of mode 0700 of another user's... here: a file
 * removed from the target's view is not needed: the target never opens the path), copied into a
 * memfd of the target, loaded from it; no mapping of the path, the copy's bytes unmapped (only
 * the 8 KiB scratch pages stay). A second injection finds it loaded through its soname: one
 * copy. memfd_create() refused in the target (RLIMIT_NOFILE 0): refused with its error, the
 * bytes unmapped, nothing loaded.
 */
static void test_copy_mode(void)
{
	g_autofree char *dir = g_dir_make_tmp("nc-inject-copy-XXXXXX", NULL);
	g_autofree char *lib = NULL, *bytes = NULL, *out = out_path("copy"), *text = NULL;
	g_autofree char *want = NULL, *maps = NULL;
	struct nc_inject_opts o = {.copy = true, .soname = "inject_lib.so"};
	struct nc_inject_result res;
	struct rlimit old, none;
	struct target t;
	struct stats s;
	gsize len;
	char err[512];

	g_assert_nonnull(dir);
	lib = g_build_filename(dir, "inject_lib.so", NULL);
	g_assert_true(g_file_get_contents(env("NC_INJECT_LIB"), &bytes, &len, NULL));
	g_assert_true(g_file_set_contents(lib, bytes, (gssize)len, NULL));
	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		g_unlink(lib);
		g_rmdir(dir);
		return;
	}
	/* refused: no descriptor may be made in the target */
	g_assert_cmpint(prlimit(t.pid, RLIMIT_NOFILE, NULL, &old), ==, 0);
	none = old;
	none.rlim_cur = 0;
	g_assert_cmpint(prlimit(t.pid, RLIMIT_NOFILE, &none, NULL), ==, 0);
	g_assert_cmpint(
	    nc_inject(t.pid, lib, "nc_inject_test_entry", out, &o, &res, err, sizeof(err)), ==,
	    -EMFILE);
	g_assert_cmpint(prlimit(t.pid, RLIMIT_NOFILE, &old, NULL), ==, 0);
	want = g_strdup_printf("process %d could not copy %s into a memfd of its own: Too many "
			       "open files",
			       (int)t.pid, lib);
	g_assert_cmpstr(err, ==, want);
	g_usleep(20000);
	g_assert_cmpint(scratch_pages(t.pid), ==, 1); /* the bytes' room unmapped */
	g_assert_cmpint(memfd_copies(t.pid, "inject_lib.so"), ==, 0);
	maps = read_maps(t.pid);
	g_assert_null(strstr(maps, "inject_lib"));
	g_clear_pointer(&maps, g_free);

	/* copied and loaded, twice: one copy */
	for (int i = 1; i <= 2; i++) {
		g_autofree char *line = NULL;

		g_unlink(out);
		if (nc_inject(t.pid, lib, "nc_inject_test_entry", out, &o, &res, err, sizeof(err)))
			g_error("nc_inject (copy mode, %d): %s", i, err);
		text = entry_line(out);
		line = g_strdup_printf("arg=%s pid=%d tid=%d comm=nc-agent\n", out, (int)t.pid,
				       (int)res.agent_tid);
		g_assert_cmpstr(text, ==, line);
		g_clear_pointer(&text, g_free);
		g_assert_cmpint(memfd_copies(t.pid, "inject_lib.so"), ==, 1);
		maps = read_maps(t.pid);
		g_assert_null(strstr(maps, lib)); /* never loaded from the path */
		g_clear_pointer(&maps, g_free);
		g_usleep(20000);
		g_assert_cmpint(scratch_pages(t.pid), ==, 1 + i); /* 8 KiB each, no more */
		g_test_message("copy mode %d: stopped %" PRIu64 " us; call %" PRIu64 " us", i,
			       res.stop_ns / 1000, res.total_ns / 1000);
	}
	/* the target's descriptors: the memfd closed after dlopen */
	{
		g_autofree char *fds = g_strdup_printf("/proc/%d/fd", (int)t.pid);
		g_autoptr(GDir) d = g_dir_open(fds, 0, NULL);
		const char *name;

		g_assert_nonnull(d);
		while ((name = g_dir_read_name(d))) {
			g_autofree char *link = g_build_filename(fds, name, NULL);
			g_autofree char *to = g_file_read_link(link, NULL);

			g_assert_true(!to || !strstr(to, "memfd:inject_lib.so"));
		}
	}
	assert_untraced(t.pid);
	target_stats(&t, &s);
	if (s.bad)
		g_error("%s", s.what);
	target_stop(&t);
	g_unlink(out);
	g_unlink(lib);
	g_rmdir(dir);
}

/*
 * mmap() refused in the target (its address space limited to what it uses): the injection fails
 * with mmap's error, and the thread, stopped in poll() with a restart block, is put back by
 * netcap itself: poll goes on sleeping (no EINTR), nothing is loaded.
 */
static void test_mmap_refused(void)
{
	struct rlimit old, lim;
	struct nc_inject_opts o;
	struct nc_inject_result res;
	struct target t;
	struct stats s;
	g_autofree char *want = NULL, *maps = NULL;
	char err[512];

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	o = (struct nc_inject_opts){.tid = t.poll};
	g_assert_cmpint(prlimit(t.pid, RLIMIT_AS, NULL, &old), ==, 0);
	lim = old;
	lim.rlim_cur = (rlim_t)task_status(t.pid, t.pid, "VmSize:") * 1024;
	g_assert_cmpint(prlimit(t.pid, RLIMIT_AS, &lim, NULL), ==, 0);
	g_assert_cmpint(nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", "x", &o,
				  &res, err, sizeof(err)),
			==, -ENOMEM);
	g_assert_cmpint(prlimit(t.pid, RLIMIT_AS, &old, NULL), ==, 0);
	want = g_strdup_printf("mmap() in process %d failed: Cannot allocate memory", (int)t.pid);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpuint(res.stop_ns, >, 0);
	assert_untraced(t.pid);
	g_usleep(20000);
	g_assert_cmpint(scratch_pages(t.pid), ==, 0);
	maps = read_maps(t.pid);
	g_assert_null(strstr(maps, env("NC_INJECT_LIB")));
	target_stats(&t, &s);
	if (s.bad)
		g_error("%s", s.what);
	/* the poll thread sleeps on through restart_syscall: its restart block was kept */
	g_assert_cmpint(task_syscall(t.pid, t.poll), ==, SYS_restart_syscall);
	target_stop(&t);
}

/* A process under seccomp, and one a debugger traces: refused, nothing changed. */
static void test_refuse_seccomp_and_traced(void)
{
	g_autofree char *maps0 = NULL, *maps1 = NULL, *want = NULL;
	struct target t;
	char err[512];
	pid_t tracer;
	int st, pipefd[2];

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	target_stop(&t);

	target_start_args(&t, "--seccomp");
	maps0 = read_maps(t.pid);
	g_assert_cmpint(nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", "x", NULL,
				  NULL, err, sizeof(err)),
			==, -EACCES);
	want = g_strdup_printf("process %d (inject_target) runs under seccomp (filter mode): the "
			       "system calls injection makes (mmap, clone, openat) may be refused "
			       "or kill it; capture without --inject",
			       (int)t.pid);
	g_assert_cmpstr(err, ==, want);
	maps1 = read_maps(t.pid);
	g_assert_cmpstr(maps1, ==, maps0);
	assert_untraced(t.pid);
	target_stop(&t);

	target_start(&t);
	g_assert_cmpint(pipe(pipefd), ==, 0);
	tracer = fork();
	g_assert_cmpint(tracer, >=, 0);
	if (tracer == 0) { /* a debugger on the main thread, until killed */
		char c = ptrace(PTRACE_SEIZE, t.pid, 0, 0) ? 'n' : 'y';

		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	g_assert_cmpint(read(pipefd[0], &st, 1), ==, 1);
	close(pipefd[0]);
	close(pipefd[1]);
	g_clear_pointer(&want, g_free);
	want = g_strdup_printf("process %d (inject_target) is traced by process %d (test_inject), "
			       "a debugger?: detach it first, or capture without --inject",
			       (int)t.pid, (int)tracer);
	g_assert_cmpint(nc_inject_check(t.pid, NULL, err, sizeof(err)), ==, -EPERM);
	g_assert_cmpstr(err, ==, want);
	kill(tracer, SIGKILL);
	waitpid(tracer, &st, 0);
	target_stop(&t);
}

/* Another user's process, without CAP_SYS_PTRACE: refused (as root: checked from a child that
 * became nobody, against this process). */
static void test_refuse_other_user(void)
{
	char err[512] = "", want[64];
	pid_t victim = getuid() == 0 ? getpid() : 1, child;
	int st, fd[2];

	g_assert_cmpint(pipe(fd), ==, 0);
	child = fork();
	g_assert_cmpint(child, >=, 0);
	if (child == 0) {
		int r;

		if (getuid() == 0 && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
				      setresuid(65534, 65534, 65534)))
			_exit(2);
		r = nc_inject_check(victim, NULL, err, sizeof(err));
		if (write(fd[1], err, sizeof(err)) != (ssize_t)sizeof(err))
			_exit(3);
		_exit(r == -EPERM ? 0 : 1);
	}
	close(fd[1]);
	g_assert_cmpint(read(fd[0], err, sizeof(err)), ==, sizeof(err));
	close(fd[0]);
	waitpid(child, &st, 0);
	g_test_message("%s", err);
	g_assert_true(WIFEXITED(st));
	g_assert_cmpint(WEXITSTATUS(st), ==, 0);
	snprintf(want, sizeof(want), "process %d (", (int)victim);
	g_assert_true(g_str_has_prefix(err, want));
	g_assert_nonnull(strstr(err, " runs as uid 0 (root)"));
}

/*
 * Signals for the stopped thread while it is being injected into (a queued real-time signal
 * with a handler, 200 of them, sent to the epoll thread from another process): the injector
 * hands each on, none is lost, and the injection works.
 */
static void test_signals_during_injection(void)
{
	g_autofree char *out = out_path("signals");
	struct nc_inject_opts o;
	struct nc_inject_result res;
	struct target t;
	struct stats s;
	char err[512];
	pid_t sender;
	int st, n = 0;

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	o = (struct nc_inject_opts){.tid = t.epoll};
	sender = fork();
	g_assert_cmpint(sender, >=, 0);
	if (sender == 0) {
		for (int i = 0; i < 200; i++) {
			if (syscall(SYS_tgkill, t.pid, t.epoll, SIGRTMIN + 1))
				_exit(1);
			usleep(50);
		}
		_exit(0);
	}
	/* injections one after the other for as long as the signals come */
	do {
		g_unlink(out);
		if (nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", out, &o, &res,
			      err, sizeof(err)))
			g_error("nc_inject: %s", err);
		n++;
	} while (waitpid(sender, &st, WNOHANG) == 0);
	g_test_message("%d injections while 200 signals came", n);
	g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	g_usleep(50000);
	assert_untraced(t.pid);
	target_stats(&t, &s);
	if (s.bad)
		g_error("%s", s.what);
	g_assert_cmpint(s.sigs, ==, 200);
	g_unlink(out);
	target_stop(&t);
}

/* The path of libc.so.6 in this process */
static char *own_libc(void)
{
	char *maps = read_maps(getpid());
	char *l = strstr(maps, "/libc.so.6\n"), *start, *path;

	g_assert_nonnull(l);
	for (start = l; start > maps && start[-1] != ' '; start--)
		;
	path = g_strndup(start, (size_t)(l - start) + strlen("/libc.so.6"));
	g_free(maps);
	return path;
}

/*
 * A target whose libc.so.6 was deleted after it was mapped (an upgrade replaces it): found as
 * "libc.so.6 (deleted)" and read through /proc/PID/map_files.
 */
static void test_deleted_libc(void)
{
	g_autofree char *libc = own_libc(), *dir = g_dir_make_tmp("nc-inject-XXXXXX", NULL);
	g_autofree char *copy = g_build_filename(dir, "libc.so.6", NULL), *text = NULL;
	g_autofree char *ldpath = g_strdup_printf("LD_LIBRARY_PATH=%s", dir);
	g_autofree char *maps = NULL, *deleted = g_strdup_printf("%s (deleted)", copy);
	g_autofree char *out = out_path("deleted");
	char *envp[] = {ldpath, NULL};
	struct nc_inject_result res;
	struct target t;
	struct stats s;
	char err[512];

	gsize len;

	g_assert_nonnull(dir);
	g_assert_true(g_file_get_contents(libc, &text, &len, NULL));
	g_assert_true(g_file_set_contents(copy, text, (gssize)len, NULL));
	target_start_env(&t, NULL, envp);
	g_unlink(copy);
	g_rmdir(dir);
	maps = read_maps(t.pid);
	g_assert_nonnull(strstr(maps, deleted));
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		return;
	}
	g_unlink(out);
	if (nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", out, NULL, &res, err,
		      sizeof(err)))
		g_error("nc_inject: %s", err);
	g_clear_pointer(&text, g_free);
	for (int i = 0; i < 500 && !g_file_get_contents(out, &text, NULL, NULL); i++)
		g_usleep(2000);
	g_assert_nonnull(text);
	g_assert_true(g_str_has_prefix(text, "arg="));
	target_stats(&t, &s);
	g_assert_cmpint(s.bad, ==, 0);
	g_unlink(out);
	target_stop(&t);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The injecting process SIGKILLed at random moments, 50 times, each time into another of the
 * sleeping threads: half of the kills anywhere in a whole injection, half around the time the
 * thread is stopped (aimed again after each: the time varies with the machine's load). The target
 * survives each, no thread stays traced, every sleeping call returned only what it may, the busy
 * thread never stopped.
 */
static void test_killed_injector(void)
{
	g_autofree char *out = out_path("kill");
	struct nc_inject_result res;
	struct target t;
	struct stats s, prev;
	pid_t tids[4];
	uint64_t total, stop_at, stop_len;
	int during = 0, ran = 0, pages_before, pages;
	long vol0;
	GRand *rnd = g_rand_new();
	char err[512];

	target_start(&t);
	if (skip_without_ptrace(t.pid)) {
		target_stop(&t);
		g_rand_free(rnd);
		return;
	}
	tids[0] = t.epoll;
	tids[1] = t.poll;
	tids[2] = t.nanosleep;
	tids[3] = t.pid;
	/* one whole injection in a child, to know how long its parts take */
	g_assert_cmpint(nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", out, NULL,
				  &res, err, sizeof(err)),
			==, 0);
	total = res.total_ns;
	stop_at = res.stop_at_ns;
	stop_len = res.stop_ns;
	g_test_message("one injection: %" PRIu64 " us, the thread stopped at %" PRIu64
		       " us for %" PRIu64 " us",
		       total / 1000, stop_at / 1000, stop_len / 1000);
	vol0 = task_status(t.pid, t.busy, "voluntary_ctxt_switches:");
	target_stats(&t, &prev);
	for (int i = 0; i < 50; i++) {
		struct nc_inject_opts o = {.tid = tids[i % 4]};
		uint64_t delay, t0;
		pid_t child;
		int st;

		if (i % 2 == 0)
			delay = (uint64_t)g_rand_double_range(rnd, 0, (double)total * 1.2);
		else
			delay = (uint64_t)g_rand_double_range(rnd, (double)stop_at * 0.8,
							      (double)(stop_at + stop_len) * 1.2);
		pages_before = scratch_pages(t.pid);
		g_unlink(out);
		child = fork();
		g_assert_cmpint(child, >=, 0);
		if (child == 0)
			_exit(nc_inject(t.pid, env("NC_INJECT_LIB"), "nc_inject_test_entry", out,
					&o, NULL, NULL, 0)
				  ? 1
				  : 0);
		t0 = mono_ns();
		while (mono_ns() - t0 < delay)
			;
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
		g_usleep(30000); /* the agent thread, if it was started, finishes */
		g_assert_cmpint(waitpid(t.pid, &st, WNOHANG), ==, 0); /* alive */
		assert_untraced(t.pid);
		pages = scratch_pages(t.pid);
		if (g_file_test(out, G_FILE_TEST_EXISTS)) {
			ran++;
			if (i % 2)
				stop_at = stop_at * 4 / 5; /* too late: aim earlier */
		} else if (pages > pages_before) {
			during++; /* killed between the stop and the start of the agent */
		} else if (i % 2) {
			stop_at = stop_at * 6 / 5; /* too early: aim later */
		}
		target_stats(&t, &s);
		if (s.bad)
			g_error("kill %d (%s thread, %" PRIu64 " us): %s", i,
				thread_name(&t, tids[i % 4]), delay / 1000, s.what);
		g_assert_cmpuint(s.count, >, prev.count);
		prev = s;
	}
	g_assert_cmpint(task_status(t.pid, t.busy, "voluntary_ctxt_switches:"), ==, vol0);
	g_test_message("50 kills: %d after the agent ran, %d after the scratch pages were mapped "
		       "but before the agent ran, %d before; the target survived all",
		       ran, during, 50 - ran - during);
	g_unlink(out);
	g_rand_free(rnd);
	target_stop(&t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/inject/resume-registers-like-the-kernel", test_resume_regs);
	g_test_add_func("/inject/lcore-threads-by-name", test_thread_kind);
	g_test_add_func("/inject/rt-sigreturn-trampoline", test_restorer);
	g_test_add_func("/inject/refuses-a-pid-that-does-not-exist", test_refuse_no_process);
	g_test_add_func("/inject/refuses-a-static-binary", test_refuse_static);
	g_test_add_func("/inject/refuses-a-missing-library-or-entry", test_refuse_library);
	g_test_add_func("/inject/refuses-seccomp-and-a-traced-process",
			test_refuse_seccomp_and_traced);
	g_test_add_func("/inject/refuses-another-users-process", test_refuse_other_user);
	g_test_add_func("/inject/each-sleeping-thread-resumes", test_each_thread);
	g_test_add_func("/inject/mmap-refused-thread-put-back", test_mmap_refused);
	g_test_add_func("/inject/copy-through-a-memfd", test_copy_mode);
	g_test_add_func("/inject/libc-deleted-since-mapped", test_deleted_libc);
	g_test_add_func("/inject/signals-during-injection-delivered",
			test_signals_during_injection);
	g_test_add_func("/inject/target-survives-a-killed-injector", test_killed_injector);
	out_dir = g_dir_make_tmp("nc-inject-XXXXXX", NULL);
	g_assert_nonnull(out_dir);
	int r = g_test_run();

	out_dir_remove();
	return r;
}
