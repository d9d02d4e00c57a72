/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap: packet capture at any function of a DPDK pipeline or the kernel stack.
 * main() picks the subcommand; each subcommand parses its options into a request for the core.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "netcap.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"mbuf", cmd_mbuf, "capture packets at functions of a running DPDK process"},
    {"skb", cmd_skb, "capture packets at kernel tracepoints that carry an skb"},
    {"list", cmd_list, "list the hook points of DPDK processes"},
    {"filter", cmd_filter, "compile a tcpdump expression, print or check its programs"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: netcap COMMAND [OPTION...]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`netcap COMMAND --help` describes a command's options.\n");
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("netcap %s\n", NETCAP_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "netcap: unknown command \"%s\"; try: netcap --help\n", argv[1]);
	return 2;
}
