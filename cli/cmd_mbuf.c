/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap mbuf -f SPEC[,SPEC...] --pid PID [--pid PID...] [-e EXPR] [-w FILE|-] [-P]
 *             [-t "TCPDUMP FLAGS"] [-c N] [-s SNAPLEN] [--duration SECONDS]
 * Parses the options into a request for core/capture and prints the summary.
 */
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture/mbuf_capture.h"
#include "commands.h"
#include "load/splice.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char description[] =
    "Hook specs (-f, comma-separated or repeated):\n"
    "  FUNC@N             argument N (1-6) is a struct rte_mbuf *\n"
    "  FUNC@N@M           argument N is a struct rte_mbuf **, argument M the count\n"
    "  FUNC@N@ret         argument N is an array the function fills; the count is\n"
    "                     the return value (@ret16: a uint16_t return)\n"
    "  OBJECT:FUNC@...    FUNC in the mapped file OBJECT (path or file name)\n"
    "  OBJECT+0xOFF@...   the code at file offset OFF of OBJECT (stripped code)\n"
    "  rx_burst[:PORT]    the PMD receive function of each started port, read on return\n"
    "  tx_burst[:PORT]    the PMD transmit function, read on entry\n"
    "FUNC is looked up in the executable, then in its shared libraries.\n"
    "\n"
    "Output: pcapng (-w FILE, or standard output when it is not a terminal), classic\n"
    "pcap (-P), or text through tcpdump (-t FLAGS; the default on a terminal).\n"
    "\n"
    "Examples:\n"
    "  netcap mbuf -f rx_burst -e \"tcp port 80\" -t \"-nnve\" -c 10 --pid 1234\n"
    "  netcap mbuf -f fwd_burst@1@2,tx_burst:1 --pid 1234 -w cap.pcapng\n"
    "  netcap mbuf -f librte_net_pcap.so.23.0+0x6e00@2@ret16 --pid 1234 -w - | tshark -r -\n";

static int parse_u64(const char *opt, const char *arg, guint64 min, guint64 max, guint64 *out)
{
	if (g_ascii_string_to_unsigned(arg, 10, min, max, out, NULL))
		return 0;
	fprintf(stderr, "netcap mbuf: bad %s \"%s\": want a number from %llu to %llu\n", opt, arg,
		(unsigned long long)min, (unsigned long long)max);
	return -1;
}

int cmd_mbuf(int argc, char **argv)
{
	g_auto(GStrv) funcs = NULL, pid_args = NULL;
	g_autofree char *expr = NULL, *write = NULL, *text = NULL, *count_arg = NULL,
			*snap_arg = NULL, *duration_arg = NULL, *ready = NULL;
	gboolean pcap = FALSE, verbose = FALSE;
	GOptionEntry entries[] = {
	    {"func", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &funcs,
	     "Hook point(s) to capture at (see below)", "SPEC[,SPEC...]"},
	    {"pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pid_args, "The DPDK process (repeatable)",
	     "PID"},
	    {"expr", 'e', 0, G_OPTION_ARG_STRING, &expr, "Capture filter (tcpdump syntax)", "EXPR"},
	    {"write", 'w', 0, G_OPTION_ARG_STRING, &write, "Write pcapng to FILE (- for stdout)",
	     "FILE"},
	    {"pcap", 'P', 0, G_OPTION_ARG_NONE, &pcap, "Write classic pcap instead of pcapng",
	     NULL},
	    {"tcpdump", 't', 0, G_OPTION_ARG_STRING, &text, "Print through tcpdump -r - FLAGS",
	     "FLAGS"},
	    {"count", 'c', 0, G_OPTION_ARG_STRING, &count_arg, "Stop after N packets", "N"},
	    {"snaplen", 's', 0, G_OPTION_ARG_STRING, &snap_arg,
	     "Bytes to keep per packet (default and most: 16384; 0 = most)", "SNAPLEN"},
	    {"duration", 0, 0, G_OPTION_ARG_STRING, &duration_arg, "Stop after SECONDS", "SECONDS"},
	    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &ready,
	     "Create PATH (holding netcap's pid) once the probes are attached", "PATH"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Show libbpf's messages", NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};
	GOptionContext *ctx =
	    g_option_context_new("[EXPRESSION] - capture packets of a DPDK process");
	g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GError) gerr = NULL;
	g_autofree char *cmdline = NULL;
	struct nc_mbuf_request r = {.snaplen = NC_DEFAULT_SNAPLEN, .stop = &stop};
	struct nc_capture_result res;
	struct sigaction sa = {.sa_handler = on_signal};
	guint64 v;
	char err[512];
	int status = 2;

	cmdline = g_strjoinv(" ", argv);
	g_set_prgname("netcap mbuf");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx, description);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap mbuf: %s; try: netcap mbuf --help\n", gerr->message);
		goto out;
	}
	for (char **f = funcs; f && *f; f++) {
		g_auto(GStrv) parts = g_strsplit(*f, ",", -1);

		for (char **p = parts; *p; p++)
			g_ptr_array_add(specs, g_strdup(g_strstrip(*p)));
	}
	for (char **p = pid_args; p && *p; p++) {
		pid_t pid;

		if (parse_u64("--pid", *p, 1, INT32_MAX, &v))
			goto out;
		pid = (pid_t)v;
		g_array_append_val(pids, pid);
	}
	if (!specs->len || !pids->len) {
		fprintf(stderr, "netcap mbuf: %s; e.g. netcap mbuf -f rx_burst --pid 1234\n",
			!specs->len ? "no hook point given (-f)" : "no process given (--pid)");
		goto out;
	}
	if (argc > 1) {
		if (expr) {
			fprintf(stderr,
				"netcap mbuf: give the filter once, with -e or at the end\n");
			goto out;
		}
		expr = g_strjoinv(" ", argv + 1);
	}
	if (count_arg && parse_u64("--count", count_arg, 1, UINT64_MAX, &r.count))
		goto out;
	if (snap_arg) {
		if (parse_u64("--snaplen", snap_arg, 0, 262144, &v))
			goto out;
		if (v > NC_MAX_SNAPLEN) {
			fprintf(stderr,
				"netcap mbuf: snap length %llu: netcap copies at most %d bytes "
				"per packet\n",
				(unsigned long long)v, NC_MAX_SNAPLEN);
			goto out;
		}
		r.snaplen = v ? (uint32_t)v : NC_MAX_SNAPLEN;
	}
	if (duration_arg) {
		char *end = NULL;
		double d = g_ascii_strtod(duration_arg, &end);

		if (!end || *end || end == duration_arg || !(d > 0) || d > 1e9) {
			fprintf(stderr,
				"netcap mbuf: bad --duration \"%s\": want seconds, e.g. 2.5\n",
				duration_arg);
			goto out;
		}
		r.duration_ms = (uint64_t)(d * 1000);
	}
	if (text && write) {
		fprintf(stderr, "netcap mbuf: -t prints text, -w writes a file: choose one\n");
		goto out;
	}
	if (text || (!write && isatty(STDOUT_FILENO))) {
		r.out.format = NC_SINK_TEXT;
		r.out.tcpdump_flags = text ? text : "-n";
	} else {
		r.out.format = pcap ? NC_SINK_PCAP : NC_SINK_PCAPNG;
		r.out.path = write ? write : "-";
	}
	r.out.linktype = NC_LINKTYPE_ETHERNET;
	r.out.snaplen = r.snaplen;
	r.out.comment = cmdline;
	r.pids = (const pid_t *)pids->data;
	r.n_pids = pids->len;
	r.specs = (char *const *)specs->pdata;
	r.n_specs = specs->len;
	r.filter = expr;
	r.ready_file = ready;
	r.verbose = verbose;
	nc_load_set_verbose(verbose);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	status = 1;
	if (nc_mbuf_capture(&r, &res, err, sizeof(err))) {
		fprintf(stderr, "netcap: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < res.n_hooks; i++) {
		const struct nc_counters *k = &res.hooks[i].counters;

		fprintf(
		    stderr,
		    "netcap: %s: seen %llu, matched %llu, written %llu, dropped %llu (ring full "
		    "%llu, unreadable %llu)\n",
		    res.hooks[i].name, (unsigned long long)k->seen, (unsigned long long)k->matched,
		    (unsigned long long)res.hooks[i].written,
		    (unsigned long long)(k->ringfull + k->readerr), (unsigned long long)k->ringfull,
		    (unsigned long long)k->readerr);
	}
	fprintf(stderr, "netcap: %llu packets written (%s)\n", (unsigned long long)res.written,
		res.end ? res.end : "done");
	nc_capture_result_free(&res);
	status = 0;
out:
	g_option_context_free(ctx);
	return status;
}
