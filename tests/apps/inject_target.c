/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inject_target: the process the injector's tests inject into (tests/unit/test_inject.c). Its
 * threads each sleep in a different way, and each checks that its sleeping call returned only
 * what the kernel may return to a program that has no signal handler:
 *
 *   busy       counts in a loop without system calls and records the longest gap between two
 *              turns (it must never be stopped: its voluntary context switches stay 0)
 *   epoll      epoll_wait(-1) on a pipe nobody writes: only -1/EINTR is expected (epoll_wait is
 *              never restarted, signal(7); a ptrace stop makes it return EINTR)
 *   poll       poll() with a 1 h timeout on that pipe: interrupted with -ERESTART_RESTARTBLOCK,
 *              restarted through restart_syscall: it must never return
 *   nanosleep  clock_nanosleep() for 1 h: the same restart; it must never return
 *   main       read() on stdin: interrupted with -ERESTARTSYS and restarted; it returns only data
 *
 * A handler counts SIGRTMIN+1 (SA_RESTART), which the tests send to the epoll thread only.
 * On stdin it takes one-letter commands: "s" prints one line of statistics,
 * "r" resets the longest gap, "q" exits 0. On start it prints "ready" and its threads' ids.
 * With --seccomp it first installs a seccomp filter that allows everything (the injector must
 * refuse it all the same).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static atomic_uint_fast64_t count, max_gap_ns;
static atomic_int bad, eintr, sigs, tids[4];
static char bad_what[256];
static int quiet_pipe[2];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void unexpected(const char *what, long ret, int err)
{
	if (atomic_fetch_add(&bad, 1) == 0)
		snprintf(bad_what, sizeof(bad_what), "%s returned %ld (%s)", what, ret,
			 ret < 0 ? strerror(err) : "no error");
}

/* SIGRTMIN+1 (queued: none is lost): counted; the tests send it to the epoll thread while they
 * inject into it */
static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigs, 1);
}

static void *busy(void *arg)
{
	uint64_t last = now_ns();

	(void)arg;
	prctl(PR_SET_NAME, "busy");
	atomic_store(&tids[0], gettid());
	for (;;) {
		uint64_t t = now_ns();

		if (t - last > atomic_load_explicit(&max_gap_ns, memory_order_relaxed))
			atomic_store_explicit(&max_gap_ns, t - last, memory_order_relaxed);
		last = t;
		atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *epoll_thread(void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN}, out;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	prctl(PR_SET_NAME, "epoll");
	epoll_ctl(ep, EPOLL_CTL_ADD, quiet_pipe[0], &ev);
	atomic_store(&tids[1], gettid());
	for (;;) {
		int n = epoll_wait(ep, &out, 1, -1);

		if (n == -1 && errno == EINTR)
			atomic_fetch_add(&eintr, 1);
		else
			unexpected("epoll_wait", n, errno);
	}
	return NULL;
}

static void *poll_thread(void *arg)
{
	struct pollfd p = {.fd = quiet_pipe[0], .events = POLLIN};

	(void)arg;
	prctl(PR_SET_NAME, "poll");
	atomic_store(&tids[2], gettid());
	for (;;) {
		int n = poll(&p, 1, 3600 * 1000);

		unexpected("poll", n, errno);
	}
	return NULL;
}

static void *sleep_thread(void *arg)
{
	struct timespec hour = {.tv_sec = 3600};

	(void)arg;
	prctl(PR_SET_NAME, "nanosleep");
	atomic_store(&tids[3], gettid());
	for (;;) {
		int e = clock_nanosleep(CLOCK_MONOTONIC, 0, &hour, NULL);

		unexpected("clock_nanosleep", e ? -1 : 0, e);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void *(*fn[])(void *) = {busy, epoll_thread, poll_thread, sleep_thread};
	char buf[64];

	if (argc > 1 && !strcmp(argv[1], "--seccomp")) {
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = {.len = 1, .filter = &allow};

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};

	sigemptyset(&sa.sa_mask);
	if (pipe(quiet_pipe) || sigaction(SIGRTMIN + 1, &sa, NULL))
		return 1;
	for (int i = 0; i < 4; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, fn[i], NULL))
			return 1;
	}
	for (int i = 0; i < 4; i++)
		while (!atomic_load(&tids[i]))
			usleep(1000);
	printf("ready main=%d busy=%d epoll=%d poll=%d nanosleep=%d\n", (int)getpid(),
	       atomic_load(&tids[0]), atomic_load(&tids[1]), atomic_load(&tids[2]),
	       atomic_load(&tids[3]));
	fflush(stdout);
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n == 0)
			return 0;
		if (n < 0) {
			unexpected("read", n, errno);
			continue;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'q')
				return 0;
			if (buf[i] == 'r')
				atomic_store(&max_gap_ns, 0);
			if (buf[i] == 's') {
				printf("count=%" PRIu64 " max_gap_us=%" PRIu64
				       " eintr=%d sigs=%d bad=%d what=%s\n",
				       (uint64_t)atomic_load(&count),
				       (uint64_t)atomic_load(&max_gap_ns) / 1000,
				       atomic_load(&eintr), atomic_load(&sigs), atomic_load(&bad),
				       atomic_load(&bad) ? bad_what : "-");
				fflush(stdout);
			}
		}
	}
}
