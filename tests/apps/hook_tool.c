/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hook_tool PID HOOK_LIB FILE ROUNDS KILLS: function hooks put into a running nc_fwd and taken
 * out again, by netcap's own parts (issue 16; tests/integration/test_hook.sh).
 *
 * 1. fwd_burst and fwd_one found in /proc/PID/exe (core/discover: ELF symbols, load base); their
 *    bytes read from /proc/PID/mem;
 * 2. HOOK_LIB injected (core/inject: nc_inject, entry hook_lib_map) to map pages near them; its
 *    answer read from FILE;
 * 3. trampolines built (core/inject/hook.h: fwd_burst@1@2, cookie 0, general registers only;
 *    fwd_one@1, cookie 1, the stub saving the vector state for an entry that uses it) and
 *    written with their data slots through /proc/PID/mem;
 * 4. ROUNDS times: both functions patched in one stop, 5 ms of forwarding, both unpatched in one
 *    stop, 2 ms (core/inject/patch.h);
 * 5. KILLS times: a child process patching and unpatching without a pause is SIGKILLed after a
 *    random 0-20 ms; each function's first 5 bytes must then be the original or the whole jump,
 *    and no thread of PID traced; at the end the original bytes are put back.
 *
 * Prints one line: "rounds=… stops=… mean_us=… max_us=… held_mean_us=… held_max_us=…
 * lcore_held_max_us=… retries=… threads=… burst_calls=… burst_pkts=… one_calls=… kills=…
 * left_orig=… left_jump=…", exits 0, or 1 with the reason on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "discover/elf.h"
#include "discover/procmaps.h"
#include "inject/hook.h"
#include "inject/inject.h"
#include "inject/patch.h"

/*
 * The patcher's bound here: stopping every thread of nc_fwd took up to ~100 ms when other jobs
 * loaded the machine's 2 CPUs (its control threads wait for a CPU to stop); the default
 * (NC_PATCH_TIMEOUT_MS) would make the test fail with the machine's load.
 */
#define BOUND_MS 1000

struct fn {
	const char *name;
	uint64_t addr, size;
	uint8_t code[512];
	struct nc_hook_out out;
};

static int mem_fd;

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static int die(const char *fmt, ...)
{
	va_list ap;

	fputs("hook_tool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void mem(uint64_t addr, void *buf, size_t len, bool write)
{
	ssize_t n =
	    write ? pwrite(mem_fd, buf, len, (off_t)addr) : pread(mem_fd, buf, len, (off_t)addr);

	if (n != (ssize_t)len)
		die("%s %zu bytes at 0x%" PRIx64 ": %s", write ? "writing" : "reading", len, addr,
		    strerror(errno));
}

static void find(pid_t pid, struct fn *f, size_t n)
{
	char exe[64], path[PATH_MAX], err[256];
	struct nc_maps *m = NULL;
	struct nc_elf *e = NULL;
	uint64_t base;
	ssize_t len;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	len = readlink(exe, path, sizeof(path) - 1);
	if (len < 0)
		die("%s: %s", exe, strerror(errno));
	path[len] = 0;
	if (nc_elf_open(exe, &e, err, sizeof(err)) || nc_maps_read(pid, &m, err, sizeof(err)) ||
	    nc_maps_load_base(m, path, e, &base, err, sizeof(err)))
		die("%s", err);
	for (size_t i = 0; i < n; i++) {
		uint64_t off, vaddr;

		if (nc_elf_func(e, f[i].name, &off, &f[i].size, err, sizeof(err)) ||
		    nc_elf_vaddr(e, off, &vaddr))
			die("%s", err);
		if (f[i].size > sizeof(f[i].code))
			die("%s: %" PRIu64 " bytes", f[i].name, f[i].size);
		f[i].addr = base + vaddr;
		mem(f[i].addr, f[i].code, f[i].size, false);
	}
	nc_maps_free(m);
	nc_elf_close(e);
}

static void sites(struct fn *f, size_t n, bool on, struct nc_patch_site *s)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (struct nc_patch_site){f[i].addr, on ? f[i].out.orig : f[i].out.patch,
					      on ? f[i].out.patch : f[i].out.orig, 5};
}

static bool untraced(pid_t pid)
{
	char dir[64], path[384], line[256];
	bool ok = true;
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp))
			if (!strncmp(line, "TracerPid:", 10) && atoi(line + 10) != 0)
				ok = false;
		fclose(fp);
	}
	closedir(d);
	return ok;
}

int main(int argc, char **argv)
{
	struct fn f[2] = {{.name = "fwd_burst"}, {.name = "fwd_one"}};
	uint64_t tramp, data, entry, entry_vec, counters, c[2][2], total = 0, longest = 0;
	uint64_t held = 0, held_sum = 0, run_held = 0;
	unsigned retries = 0, threads = 0, left_orig = 0, left_jump = 0;
	struct nc_patch_site on[2], off[2];
	struct nc_inject_result ir;
	char arg[4200], err[256], line[256];
	int rounds, kills;
	pid_t pid;
	FILE *fp = NULL;

	if (argc != 6)
		die("usage: hook_tool PID HOOK_LIB FILE ROUNDS KILLS");
	pid = (pid_t)atoi(argv[1]);
	rounds = atoi(argv[4]);
	kills = atoi(argv[5]);
	snprintf(arg, sizeof(arg), "/proc/%d/mem", (int)pid);
	mem_fd = open(arg, O_RDWR | O_CLOEXEC);
	if (mem_fd < 0)
		die("%s: %s", arg, strerror(errno));
	find(pid, f, 2);

	snprintf(arg, sizeof(arg), "0x%" PRIx64 " %s", f[0].addr, argv[3]);
	if (nc_inject(pid, argv[2], "hook_lib_map", arg, NULL, &ir, err, sizeof(err)))
		die("inject: %s", err);
	for (int i = 0; i < 500 && !(fp = fopen(argv[3], "r")); i++)
		usleep(10000);
	if (!fp || !fgets(line, sizeof(line), fp) ||
	    sscanf(line,
		   "tramp=0x%" SCNx64 " data=0x%" SCNx64 " entry=0x%" SCNx64 " counters=0x%" SCNx64
		   " entry_vec=0x%" SCNx64,
		   &tramp, &data, &entry, &counters, &entry_vec) != 5)
		die("no answer from hook_lib in %s", argv[3]);
	fclose(fp);

	for (int i = 0; i < 2; i++) {
		struct nc_hook_in in = {
		    .code = f[i].code,
		    .code_len = f[i].size,
		    .func = f[i].addr,
		    .func_size = f[i].size,
		    .tramp = tramp + 2048 * (uint64_t)i,
		    .data = data + 64 * (uint64_t)i,
		    .kind = i == 0 ? NC_HOOK_VECTOR : NC_HOOK_SINGLE,
		    .arg = 1,
		    .count_arg = 2,
		    .name = f[i].name,
		    /* fwd_one's entry uses vector registers: the stub saves them */
		    .xsave_size = i == 1 ? nc_hook_xsave_size() : 0,
		};
		struct nc_hook_data d = {i == 1 && in.xsave_size ? entry_vec : entry, (uint64_t)i};

		if (nc_hook_build(&in, &f[i].out, err, sizeof(err)))
			die("%s", err);
		mem(in.tramp, f[i].out.tramp, f[i].out.tramp_len, true);
		mem(in.data, &d, sizeof(d), true);
	}
	sites(f, 2, true, on);
	sites(f, 2, false, off);

	for (int r = 0; r < rounds; r++) {
		struct nc_patch_result res;

		for (int k = 0; k < 2; k++) {
			if (nc_patch_apply(pid, k ? off : on, 2, BOUND_MS, &res, err, sizeof(err)))
				die("round %d, %s: %s", r, k ? "unpatch" : "patch", err);
			total += res.stop_ns;
			longest = res.stop_ns > longest ? res.stop_ns : longest;
			held = res.held_ns > held ? res.held_ns : held;
			held_sum += res.held_ns;
			run_held = res.run_held_ns > run_held ? res.run_held_ns : run_held;
			retries += res.tries - 1;
			threads = res.threads;
			usleep(k ? 2000 : 5000);
		}
	}
	mem(counters, c, sizeof(c), false);

	srand((unsigned)time(NULL));
	for (int k = 0; k < kills; k++) {
		pid_t child = fork();
		uint8_t now[5];
		int st;

		if (child < 0)
			die("fork: %s", strerror(errno));
		if (child == 0) {
			for (;;) {
				uint8_t cur[2][5];

				mem(f[0].addr, cur[0], 5, false);
				mem(f[1].addr, cur[1], 5, false);
				/* each site from what it holds now: a kill may leave one of each */
				struct nc_patch_site s[2];
				for (int i = 0; i < 2; i++) {
					bool patched = !memcmp(cur[i], f[i].out.patch, 5);

					s[i] = patched ? off[i] : on[i];
				}
				if (nc_patch_apply(pid, s, 2, BOUND_MS, NULL, err, sizeof(err)))
					die("child: %s", err);
			}
		}
		usleep((useconds_t)(rand() % 20000));
		kill(child, SIGKILL);
		if (waitpid(child, &st, 0) != child || !WIFSIGNALED(st))
			die("the patching child ended by itself (status 0x%x)", st);
		for (int i = 0; i < 2; i++) {
			mem(f[i].addr, now, 5, false);
			if (!memcmp(now, f[i].out.orig, 5))
				left_orig++;
			else if (!memcmp(now, f[i].out.patch, 5))
				left_jump++;
			else
				die("kill %d: %s half-written: %02x %02x %02x %02x %02x", k,
				    f[i].name, now[0], now[1], now[2], now[3], now[4]);
		}
		if (!untraced(pid))
			die("kill %d: a thread of %d still traced", k, (int)pid);
		if (kill(pid, 0))
			die("kill %d: process %d gone", k, (int)pid);
	}
	for (int i = 0; i < 2; i++) { /* the original bytes back */
		uint8_t now[5];
		struct nc_patch_site s = off[i];

		mem(f[i].addr, now, 5, false);
		if (!memcmp(now, f[i].out.patch, 5) &&
		    nc_patch_apply(pid, &s, 1, BOUND_MS, NULL, err, sizeof(err)))
			die("unpatch %s: %s", f[i].name, err);
	}
	printf("rounds=%d stops=%d mean_us=%.0f max_us=%.0f held_mean_us=%.0f held_max_us=%.0f "
	       "lcore_held_max_us=%.0f retries=%u threads=%u burst_calls=%" PRIu64
	       " burst_pkts=%" PRIu64 " one_calls=%" PRIu64
	       " kills=%d left_orig=%u left_jump=%u inject_stop_us=%.0f\n",
	       rounds, 2 * rounds, rounds ? (double)total / (2 * rounds) / 1e3 : 0.0,
	       (double)longest / 1e3, rounds ? (double)held_sum / (2 * rounds) / 1e3 : 0.0,
	       (double)held / 1e3, (double)run_held / 1e3, retries, threads, c[0][0], c[0][1],
	       c[1][0], kills, left_orig, left_jump, (double)ir.stop_ns / 1e3);
	return 0;
}
