/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test-only stand-in for the injector (never installed): preloaded into a DPDK application
 * (LD_PRELOAD), it loads libnetcap-agent.so ($NC_AGENT_LIB) with dlopen, as the injected code
 * will, and calls nc_agent_main($NC_AGENT_SOCKET) on a thread of its own, again and again: each
 * call serves one capture of a client listening on that name, and returns at once while nobody
 * listens (then the thread waits 20 ms). The thread blocks every signal, so that the
 * application's handlers run on its own threads. Without NC_AGENT_SOCKET it does nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *serve(void *arg)
{
	const char *lib = getenv("NC_AGENT_LIB"), *name = arg;
	const struct timespec pause = {0, 20000000};
	int (*agent_main)(const char *);
	void *h = lib ? dlopen(lib, RTLD_NOW | RTLD_LOCAL) : NULL;

	if (!h) {
		fprintf(stderr, "agent_shim: cannot load NC_AGENT_LIB=%s: %s\n", lib ? lib : "",
			lib ? dlerror() : "unset");
		return NULL;
	}
	agent_main = (int (*)(const char *))dlsym(h, "nc_agent_main");
	if (!agent_main) {
		fprintf(stderr, "agent_shim: no nc_agent_main in %s\n", lib);
		return NULL;
	}
	for (;;) {
		if (agent_main(name) < 0)
			nanosleep(&pause, NULL);
	}
	return NULL;
}

__attribute__((constructor)) static void agent_shim_start(void)
{
	const char *name = getenv("NC_AGENT_SOCKET");
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;

	if (!name || !*name)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, serve, (void *)name))
		fprintf(stderr, "agent_shim: cannot start its thread\n");
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
