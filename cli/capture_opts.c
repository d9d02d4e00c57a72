/* SPDX-License-Identifier: BSD-2-Clause */
#include "capture_opts.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netcap.h"

static volatile sig_atomic_t *stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	*stop_flag = 1;
}

void capture_signals(volatile sig_atomic_t *stop)
{
	struct sigaction sa = {.sa_handler = on_signal};

	stop_flag = stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

void capture_opts_entries(struct capture_opts *o, GOptionEntry *rows, const char *func_help)
{
	const GOptionEntry common[CAPTURE_OPTS_ENTRIES] = {
	    {"func", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &o->funcs, func_help, "SPEC[,SPEC...]"},
	    {"expr", 'e', 0, G_OPTION_ARG_STRING, &o->expr, "Capture filter (tcpdump syntax)",
	     "EXPR"},
	    {"write", 'w', 0, G_OPTION_ARG_STRING, &o->write, "Write pcapng to FILE (- for stdout)",
	     "FILE"},
	    {"pcap", 'P', 0, G_OPTION_ARG_NONE, &o->pcap, "Write classic pcap instead of pcapng",
	     NULL},
	    {"tcpdump", 't', 0, G_OPTION_ARG_STRING, &o->text,
	     "Print through tcpdump -r - FLAGS (display flags: -A -b -e -f -H -K -l -n -N -q -S -t "
	     "-u "
	     "-U -v -x -X -# --number --micro --nano)",
	     "FLAGS"},
	    {"count", 'c', 0, G_OPTION_ARG_STRING, &o->count_arg, "Stop after N packets", "N"},
	    {"snaplen", 's', 0, G_OPTION_ARG_STRING, &o->snap_arg,
	     "Bytes to keep per packet (default and most: 16384; 0 = most)", "SNAPLEN"},
	    {"buffer-size", 'B', 0, G_OPTION_ARG_STRING, &o->buffer_arg,
	     "Ring buffer between the probes and netcap, in KiB (default 4096 at DPDK points, "
	     "16384 at kernel points; at least 1024, rounded up to a power of two)",
	     "KIB"},
	    {"duration", 0, 0, G_OPTION_ARG_STRING, &o->duration_arg, "Stop after SECONDS",
	     "SECONDS"},
	    {"ready-file", 0, 0, G_OPTION_ARG_FILENAME, &o->ready,
	     "Create PATH (holding netcap's pid) once the probes are attached", "PATH"},
	    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose,
	     "Show the plan (hook points, where each probe sits), attach and detach, libbpf's "
	     "messages and the verifier's statistics",
	     NULL},
	    {NULL, 0, 0, 0, NULL, NULL, NULL},
	};

	memcpy(rows, common, sizeof(common));
}

void capture_gather_entries(struct capture_gather *g, GOptionEntry *rows, const char *match_help)
{
	const GOptionEntry gather[CAPTURE_GATHER_ENTRIES] = {
	    {"gather", 'G', 0, G_OPTION_ARG_NONE, &g->on,
	     "Follow each packet from hook point to hook point (see below)", NULL},
	    {"match", 0, 0, G_OPTION_ARG_STRING, &g->match_arg, match_help, "HOW"},
	    {"gather-timeout", 0, 0, G_OPTION_ARG_STRING, &g->timeout_arg,
	     "-G: a packet not at the last point after MS is not seen there (default 1000)", "MS"},
	};

	memcpy(rows, gather, sizeof(gather));
}

int capture_gather_finish(struct capture_gather *g, const char *cmd)
{
	g->opts = (struct nc_gather_opts){.match = NC_GATHER_POINTER, .timeout_ms = 1000};
	if (!g->on && (g->match_arg || g->timeout_arg)) {
		fprintf(stderr, "netcap %s: %s goes with -G (follow packets from point to point)\n",
			cmd, g->match_arg ? "--match" : "--gather-timeout");
		return 2;
	}
	if (g->match_arg && !strcmp(g->match_arg, "content")) {
		g->opts.match = NC_GATHER_CONTENT;
	} else if (g->match_arg && strcmp(g->match_arg, "pointer")) {
		fprintf(stderr, "netcap %s: bad --match \"%s\": want pointer or content\n", cmd,
			g->match_arg);
		return 2;
	}
	if (g->timeout_arg) {
		guint64 ms;

		if (capture_parse_u64(cmd, "--gather-timeout", g->timeout_arg, 1, 3600000, &ms))
			return 2;
		g->opts.timeout_ms = ms;
	}
	return 0;
}

void capture_gather_clear(struct capture_gather *g)
{
	g_free(g->match_arg);
	g_free(g->timeout_arg);
}

int capture_parse_u64(const char *cmd, const char *opt, const char *arg, guint64 min, guint64 max,
		      guint64 *out)
{
	if (g_ascii_string_to_unsigned(arg, 10, min, max, out, NULL))
		return 0;
	fprintf(stderr, "netcap %s: bad %s \"%s\": want a number from %llu to %llu\n", cmd, opt,
		arg, (unsigned long long)min, (unsigned long long)max);
	return -1;
}

int capture_opts_finish(struct capture_opts *o, const char *cmd, int argc, char **argv,
			char **all_argv)
{
	guint64 v;

	o->cmdline = g_strjoinv(" ", all_argv);
	o->specs = g_ptr_array_new_with_free_func(g_free);
	for (char **f = o->funcs; f && *f; f++) {
		g_auto(GStrv) parts = g_strsplit(*f, ",", -1);

		for (char **p = parts; *p; p++)
			g_ptr_array_add(o->specs, g_strdup(g_strstrip(*p)));
	}
	if (argc > 1) {
		if (o->expr) {
			fprintf(stderr, "netcap %s: give the filter once, with -e or at the end\n",
				cmd);
			return 2;
		}
		o->expr = g_strjoinv(" ", argv + 1);
	}
	if (o->count_arg && capture_parse_u64(cmd, "--count", o->count_arg, 1, UINT64_MAX, &v))
		return 2;
	o->count = o->count_arg ? v : 0;
	o->snaplen = NC_MAX_SNAPLEN;
	if (o->snap_arg) {
		if (capture_parse_u64(cmd, "--snaplen", o->snap_arg, 0, 262144, &v))
			return 2;
		/* above NC_MAX_SNAPLEN: nc_request_check() says so */
		o->snaplen = v ? (uint32_t)v : NC_MAX_SNAPLEN;
	}
	if (o->buffer_arg) {
		if (capture_parse_u64(cmd, "--buffer-size", o->buffer_arg, NC_RING_BYTES_MIN >> 10,
				      1u << 20, &v))
			return 2;
		for (o->ring_bytes = NC_RING_BYTES_MIN; o->ring_bytes < (v << 10);)
			o->ring_bytes <<= 1;
	}
	if (o->duration_arg) {
		char *end = NULL;
		double d = g_ascii_strtod(o->duration_arg, &end);

		if (!end || *end || end == o->duration_arg || !(d > 0) || d > 1e9) {
			fprintf(stderr,
				"netcap %s: bad --duration \"%s\": want seconds, e.g. 2.5\n", cmd,
				o->duration_arg);
			return 2;
		}
		o->duration_ms = (uint64_t)(d * 1000);
	}
	if (o->text && o->write) {
		fprintf(stderr, "netcap %s: -t prints text, -w writes a file: choose one\n", cmd);
		return 2;
	}
	if (o->text) {
		char why[512];

		if (nc_sink_check_tcpdump_flags(o->text, why, sizeof(why))) {
			fprintf(stderr, "netcap %s: %s\n", cmd, why);
			return 2;
		}
	}
	if (o->text || (!o->write && isatty(STDOUT_FILENO))) {
		o->out.format = NC_SINK_TEXT;
		o->out.tcpdump_flags = o->text ? o->text : "-n";
	} else {
		o->out.format = o->pcap ? NC_SINK_PCAP : NC_SINK_PCAPNG;
		o->out.path = o->write ? o->write : "-";
	}
	o->out.linktype = NC_LINKTYPE_ETHERNET;
	o->out.snaplen = o->snaplen;
	o->out.comment = o->cmdline;
	return 0;
}

void capture_opts_clear(struct capture_opts *o)
{
	g_strfreev(o->funcs);
	g_free(o->expr);
	g_free(o->write);
	g_free(o->text);
	g_free(o->count_arg);
	g_free(o->snap_arg);
	g_free(o->duration_arg);
	g_free(o->buffer_arg);
	g_free(o->ready);
	if (o->specs)
		g_ptr_array_free(o->specs, TRUE);
	g_free(o->cmdline);
}

void capture_report(const struct nc_capture_result *res)
{
	for (size_t i = 0; i < res->n_hooks; i++) {
		const struct nc_counters *k = &res->hooks[i].counters;

		/* the raw-IP twin of a hook point that saw none is noise */
		if (res->hooks[i].linktype == NC_LINKTYPE_RAW && !k->seen)
			continue;
		fprintf(
		    stderr,
		    "netcap: %s: seen %llu, matched %llu, written %llu, dropped %llu (ring full "
		    "%llu, unreadable %llu)",
		    res->hooks[i].name, (unsigned long long)k->seen, (unsigned long long)k->matched,
		    (unsigned long long)res->hooks[i].written,
		    (unsigned long long)(k->ringfull + k->readerr), (unsigned long long)k->ringfull,
		    (unsigned long long)k->readerr);
		if (res->hooks[i].skipped)
			fprintf(stderr, ", %llu of another link type not written (use pcapng)",
				(unsigned long long)res->hooks[i].skipped);
		fputc('\n', stderr);
	}
	if (res->gathered) {
		const struct nc_gather_summary *g = &res->gather;

		fprintf(stderr, "netcap: -G: %llu packets followed, %llu seen at all %u points\n",
			(unsigned long long)g->paths, (unsigned long long)g->complete, g->n_stages);
		for (uint32_t i = 0; i < g->n_stages; i++)
			if (g->missed[i])
				fprintf(stderr, "netcap: -G: %llu not seen at %s\n",
					(unsigned long long)g->missed[i], g->stage_names[i]);
	}
	/* libpcap 1.10 refuses a pcapng whose interfaces differ in link type (skb: Ethernet and
	 * raw IP); Wireshark reads it */
	if (res->libpcap_refuses)
		fprintf(stderr,
			"netcap: the pcapng %s: tcpdump and libpcap cannot read it, Wireshark and "
			"tshark can\n",
			res->libpcap_refuses);
	if (res->malformed)
		fprintf(stderr,
			"netcap: %llu ring records were malformed and skipped (a netcap bug: "
			"please report it with the command line)\n",
			(unsigned long long)res->malformed);
	fprintf(stderr, "netcap: %llu packets written (%s)\n", (unsigned long long)res->written,
		res->end ? res->end : "done");
}

void capture_request(const struct capture_opts *o, const struct capture_gather *g, bool stacks,
		     const char *iface, const char *netns, struct nc_capture_common *cap)
{
	cap->specs = (char *const *)o->specs->pdata;
	cap->n_specs = o->specs->len;
	cap->filter = o->expr;
	cap->snaplen = o->snaplen;
	cap->count = o->count;
	cap->duration_ms = o->duration_ms;
	cap->ring_bytes = o->ring_bytes;
	cap->stacks = stacks;
	cap->out = o->out;
	/* stacks and paths under each packet */
	cap->out.annotate = (stacks || g->on) && o->out.format == NC_SINK_TEXT;
	cap->ready_file = o->ready;
	cap->gather = g->on ? &g->opts : NULL;
	cap->iface = iface;
	cap->netns = netns;
}
