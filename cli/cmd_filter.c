/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap filter [-d] [-s SNAPLEN] [--verify] EXPRESSION…
 * Compiles the expression as a capture would; -d prints the classic program (as tcpdump -d) and
 * its eBPF translation for Ethernet and raw IP; --verify also loads it into the kernel.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "netcap.h"

int cmd_filter(int argc, char **argv)
{
	gboolean dump = FALSE, verify = FALSE;
	gchar *snaplen_arg = NULL;
	guint64 snaplen = 262144;
	GError *gerr = NULL;
	GOptionEntry entries[] = {
	    {"dump", 'd', 0, G_OPTION_ARG_NONE, &dump,
	     "Print the cBPF and eBPF programs (Ethernet and raw IP)", NULL},
	    {"snaplen", 's', 0, G_OPTION_ARG_STRING, &snaplen_arg,
	     "Snap length an accepting filter returns (default 262144)", "SNAPLEN"},
	    {"verify", 0, 0, G_OPTION_ARG_NONE, &verify,
	     "Load the filter into the kernel to check that the verifier accepts it (root)", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *ctx = g_option_context_new("EXPRESSION... - compile a tcpdump filter");
	struct nc_filter *f = NULL;
	struct nc_filter_prog *prog = NULL;
	char err[512];
	gchar *expr = NULL;
	int status = 2;

	g_set_prgname("netcap filter");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(
	    ctx, "Examples:\n  netcap filter -d \"tcp port 80\"\n  netcap filter --verify "
		 "\"vlan and udp\"\n\nFilters run on packet bytes; expressions that need socket "
		 "metadata (inbound, outbound, ifindex) are refused.\n");
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap filter: %s; try: netcap filter --help\n", gerr->message);
		goto out;
	}
	if (snaplen_arg &&
	    !g_ascii_string_to_unsigned(snaplen_arg, 10, 1, UINT32_MAX, &snaplen, &gerr)) {
		fprintf(stderr, "netcap filter: bad --snaplen \"%s\": want a number from 1 to %u\n",
			snaplen_arg, UINT32_MAX);
		goto out;
	}
	if (argc < 2) {
		fprintf(
		    stderr,
		    "netcap filter: no expression given; try: netcap filter -d \"tcp port 80\"\n");
		goto out;
	}
	/* like tcpdump: the remaining arguments, joined by spaces, are the expression */
	expr = g_strjoinv(" ", argv + 1);
	status = 1;
	if (nc_filter_new(expr, (uint32_t)snaplen, 1, &f, err, sizeof(err))) {
		fprintf(stderr, "netcap: %s\n", err);
		goto out;
	}
	if (dump)
		nc_filter_dump(stdout, f);
	if (verify) {
		if (nc_filter_prog_load(f, &prog, err, sizeof(err))) {
			fprintf(stderr, "netcap: %s\n", err);
			goto out;
		}
		printf("filter \"%s\": accepted by the kernel verifier\n", expr);
	}
	status = 0;
out:
	nc_filter_prog_close(prog);
	nc_filter_free(f);
	g_free(expr);
	g_free(snaplen_arg);
	g_clear_error(&gerr);
	g_option_context_free(ctx);
	return status;
}
