/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The library the injector's tests load into a target (tests/unit/test_inject.c,
 * tests/integration/test_inject.sh): its entry appends one line to the file its argument names,
 * saying who ran it, and returns 42.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int nc_inject_test_entry(const char *arg);

int nc_inject_test_entry(const char *arg)
{
	char comm[17] = "";
	FILE *f = fopen(arg, "a");

	if (!f)
		return -1;
	prctl(PR_GET_NAME, comm);
	fprintf(f, "arg=%s pid=%d tid=%d comm=%s\n", arg, (int)getpid(), (int)gettid(), comm);
	fclose(f);
	return 42;
}
