/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inject_tool: the injector (core/inject) from the command line, for the shell tests.
 *
 *   inject_tool check PID                         prints the thread an injection would stop
 *   inject_tool inject PID LIB ENTRY ARG [TID]    injects; prints what happened on one line
 *
 * Exit status 0, or 1 with the core's message on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/inject.h"

int main(int argc, char **argv)
{
	char err[512] = "";
	int r;

	if (argc == 3 && !strcmp(argv[1], "check")) {
		pid_t tid = 0;

		r = nc_inject_check((pid_t)atoi(argv[2]), &tid, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "inject_tool: %s\n", err);
			return 1;
		}
		printf("tid=%d\n", (int)tid);
		return 0;
	}
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "inject")) {
		struct nc_inject_opts o = {.tid = argc == 7 ? (pid_t)atoi(argv[6]) : 0};
		struct nc_inject_result res;

		r = nc_inject((pid_t)atoi(argv[2]), argv[3], argv[4], argv[5], &o, &res, err,
			      sizeof(err));
		if (r < 0) {
			fprintf(stderr, "inject_tool: %s\n", err);
			return 1;
		}
		printf("tid=%d comm=%s syscall=%ld stop_us=%" PRIu64 " pages=0x%" PRIx64
		       " agent_tid=%d total_us=%" PRIu64 " stop_at_us=%" PRIu64 "\n",
		       (int)res.tid, res.comm, res.syscall_nr, res.stop_ns / 1000, res.pages,
		       (int)res.agent_tid, res.total_ns / 1000, res.stop_at_ns / 1000);
		return 0;
	}
	fprintf(stderr, "usage: inject_tool check PID | inject PID LIB ENTRY ARG [TID]\n");
	return 2;
}
