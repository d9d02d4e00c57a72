/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capture commands, one body for both:
 * netcap mbuf -f SPEC[,SPEC...] --pid PID [--pid PID...] [-e EXPR] [-w FILE|-] [-P]
 *             [-t "TCPDUMP FLAGS"] [-c N] [-s SNAPLEN] [--duration SECONDS] [-S]
 *             [-G [--match pointer|content] [--gather-timeout MS]] [-i IFACE [--netns PATH]]
 * netcap skb -f SPEC[,SPEC...] [-i IFACE] [--netns PATH] [--attach fentry|kprobe] [-e EXPR] [-S]
 *            [-w FILE|-] [-P] [-t FLAGS] [-c N] [-s SNAPLEN] [--duration SECONDS]
 * Parses the options into a request (core/capture/request.h), checks it, runs it and prints the
 * summary.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "capture_opts.h"
#include "commands.h"
#include "netcap.h"

static const char mbuf_description[] =
    "Hook specs (-f, comma-separated or repeated):\n"
    "  FUNC@N             argument N (1-6) is a struct rte_mbuf *\n"
    "  FUNC@N@M           argument N is a struct rte_mbuf **, argument M the count\n"
    "  FUNC@N@ret         argument N is an array the function fills; the count is\n"
    "                     the return value (@ret16: a uint16_t return)\n"
    "  OBJECT:FUNC@...    FUNC in the mapped file OBJECT (path or file name)\n"
    "  OBJECT+0xOFF@...   the code at file offset OFF of OBJECT (stripped code)\n"
    "  rx_burst[:PORT]    the PMD receive function of each started port, read on return\n"
    "  tx_burst[:PORT]    the PMD transmit function, read on entry\n"
    "  usdt:PROVIDER:NAME@N[@M]\n"
    "                     a USDT probe (sys/sdt.h): its argument N is the mbuf, or\n"
    "                     the array with argument M the count (usdt:OBJECT:P:N@...\n"
    "                     for a probe in a library); its semaphore is raised\n"
    "  skb:SPEC           a kernel point in the same run, SPEC as netcap skb takes it\n"
    "                     (skb:net:netif_receive_skb, skb:FUNC@N); -i and --netns\n"
    "                     keep the kernel points to one interface\n"
    "FUNC is looked up in the executable, then in its shared libraries.\n"
    "-S puts the user stack of each packet's hook call in its comment (needs frame\n"
    "pointers: DPDK's own libraries are usually built without them); with --inject\n"
    "the agent walks it inside the application, the same frames as through uprobes.\n"
    "\n"
    "-G follows each packet through the hook points in the order given (-f A,B,C): its\n"
    "mbuf pointer in its process (--match pointer, the default) or its wire length and\n"
    "first 128 bytes (--match content) tie the records together. The packet's first\n"
    "record carries its path (\"path: A → +1.800 µs B → ...\", \"not seen at C\"), each\n"
    "later one the time since the point before; in pcapng as packet comments, with -t\n"
    "under each packet. Records wait until their packet reaches the last point or\n"
    "--gather-timeout passes. With kernel points (skb:...), -G follows a packet the\n"
    "application hands to the kernel (a TAP device) by content (--match content).\n"
    "\n"
    "Output: pcapng (-w FILE, or standard output when it is not a terminal), classic\n"
    "pcap (-P), or text through tcpdump (-t FLAGS; the default on a terminal).\n"
    "\n"
    "Privileges: root, or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN (uprobes) and, for another\n"
    "user's process, CAP_SYS_PTRACE; netcap names what is missing. Members of a group set\n"
    "up with netcap-privileges capture their own processes only (docs/privileges.md).\n"
    "\n"
    "Examples:\n"
    "  netcap mbuf -f rx_burst -e \"tcp port 80\" -t \"-nnve\" -c 10 --pid 1234\n"
    "  netcap mbuf -f fwd_burst@1@2,tx_burst:1 --pid 1234 -w cap.pcapng\n"
    "  netcap mbuf -f rx_burst:0,fwd_burst@1@2,tx_burst:0 -G -t \"-nn\" --pid 1234\n"
    "  netcap mbuf -f tx_burst:1,skb:net:netif_receive_skb -i dtap0 -G --match content "
    "--pid 1234\n"
    "  netcap mbuf -f librte_net_pcap.so.23.0+0x6e00@2@ret16 --pid 1234 -w - | tshark -r -\n";

static const char skb_description[] =
    "Hook specs (-f, comma-separated or repeated):\n"
    "  tracepoint:CAT:NAME  (or tp:CAT:NAME, CAT:NAME) a tracepoint that carries an skb,\n"
    "                       e.g. net:netif_receive_skb, net:net_dev_queue, net:net_dev_xmit,\n"
    "                       skb:kfree_skb (the drop reason goes into each packet's comment),\n"
    "                       skb:consume_skb\n"
    "  FUNC@N               a kernel function whose argument N is the skb, through fentry\n"
    "                       where the kernel allows it, else a kprobe (--attach chooses);\n"
    "                       e.g. icmp_rcv@1, __dev_queue_xmit@1, kfree_skb_reason@1 (its\n"
    "                       drop reason goes into each packet's comment)\n"
    "\n"
    "Packets with a MAC header go to an Ethernet interface of the file, packets without one\n"
    "(tun, ipip, ...) to a raw-IP interface; the filter runs in the matching form. pcap and\n"
    "text output carry Ethernet packets only.\n"
    "\n"
    "-G follows each packet through the hook points in the order given, by its skb\n"
    "pointer (--match pointer, the default) or its wire length and first 128 bytes\n"
    "(--match content): its first record carries its path with the time between points\n"
    "and \"not seen at\" the points it missed, each later one the time since the point\n"
    "before (docs/gather.md).\n"
    "\n"
    "Privileges: root, or CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN for --netns); netcap\n"
    "names what is missing. Members of a group set up with netcap-privileges may capture\n"
    "(docs/privileges.md).\n"
    "\n"
    "Examples:\n"
    "  netcap skb -f tracepoint:net:netif_receive_skb -i veth0 -e icmp -t -nnve\n"
    "  netcap skb -f tp:skb:kfree_skb -S -w drops.pcapng\n"
    "  netcap skb -f net:net_dev_queue,net:net_dev_xmit,net:netif_receive_skb -G -t -nn\n";

#define MODE_ROWS 5 /* the rows of each mode's own options */

/* -v: what the session says as it goes (attach, detach, the agent's injection) */
static void log_verbose(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "netcap: %s\n", line);
}

/* Parses, checks and runs one capture command; r->mode says which */
static int capture_command(struct nc_request *r, int argc, char **argv)
{
	static volatile sig_atomic_t stop;
	bool mbuf = r->mode == NC_MODE_MBUF;
	const char *cmd = mbuf ? "mbuf" : "skb";
	struct capture_opts o = {0};
	g_auto(GStrv) pid_args = NULL;
	gboolean stacks = FALSE, inject = FALSE;
	struct capture_gather gather = {0};
	g_autofree char *iface = NULL, *netns = NULL, *attach = NULL;
	GOptionEntry rows[MODE_ROWS + CAPTURE_GATHER_ENTRIES + CAPTURE_OPTS_ENTRIES] = {
	    {"stack", 'S', 0, G_OPTION_ARG_NONE, &stacks,
	     mbuf ? "User stack of each packet's hook call (needs frame pointers)"
		  : "Kernel stack of each packet",
	     NULL},
	    {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
	     mbuf ? "Kernel points (skb:...): only packets of this interface"
		  : "Only packets of this interface (and namespace); any: all",
	     "IFACE"},
	    {"netns", 0, 0, G_OPTION_ARG_FILENAME, &netns,
	     "The network namespace of -i (/run/netns/NAME, /proc/PID/ns/net)", "PATH"}};
	GOptionContext *ctx = g_option_context_new(
	    mbuf ? "[EXPRESSION] - capture packets of a DPDK process"
		 : "[EXPRESSION] - capture packets in the kernel network stack");
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GError) gerr = NULL;
	g_autofree char *prgname = g_strdup_printf("netcap %s", cmd);
	char **all_argv = g_strdupv(argv);
	struct nc_capture_result res;
	char err[512];
	int status = 2, n = 3;

	if (mbuf) {
		const GOptionEntry own[] = {{"pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pid_args,
					     "The DPDK process (repeatable)", "PID"},
					    {"inject", 0, 0, G_OPTION_ARG_NONE, &inject,
					     "Capture inside the process (netcap's agent, loaded "
					     "with ptrace): rx_burst, tx_burst, "
					     "FUNC@N, FUNC@N@M, FUNC@N@ret, OBJECT+0xOFF@..., "
					     "usdt:..., no kernel trap per hit; -S and -G too",
					     NULL}};

		memcpy(rows + n, own, sizeof(own));
		n += 2;
	} else {
		const GOptionEntry own[] = {
		    {"attach", 0, 0, G_OPTION_ARG_STRING, &attach,
		     "Hook FUNC@N through fentry or a kprobe (default: fentry where the kernel "
		     "allows it)",
		     "fentry|kprobe"}};

		memcpy(rows + n, own, sizeof(own));
		n += 1;
	}
	capture_gather_entries(
	    &gather, rows + n,
	    mbuf ? "-G: tie a packet's records by its mbuf pointer (default) or its content"
		 : "-G: tie a packet's records by its skb pointer (default) or its content");
	capture_opts_entries(&o, rows + n + CAPTURE_GATHER_ENTRIES,
			     "Hook point(s) to capture at (see below)");
	g_set_prgname(prgname);
	g_option_context_add_main_entries(ctx, rows, NULL);
	g_option_context_set_description(ctx, mbuf ? mbuf_description : skb_description);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap %s: %s; try: netcap %s --help\n", cmd, gerr->message, cmd);
		goto out;
	}
	for (char **p = pid_args; p && *p; p++) {
		guint64 v;
		pid_t pid;

		if (capture_parse_u64(cmd, "--pid", *p, 1, INT32_MAX, &v))
			goto out;
		pid = (pid_t)v;
		g_array_append_val(pids, pid);
	}
	if (capture_opts_finish(&o, cmd, argc, argv, all_argv))
		goto out;
	if (capture_gather_finish(&gather, cmd))
		goto out;
	if (attach && strcmp(attach, "fentry") && strcmp(attach, "kprobe")) {
		fprintf(stderr, "netcap %s: bad --attach \"%s\": give fentry or kprobe\n", cmd,
			attach);
		goto out;
	}
	r->attach = !attach			? NC_SKB_TRACEPOINT
		    : !strcmp(attach, "fentry") ? NC_SKB_FENTRY
						: NC_SKB_KPROBE;
	capture_request(&o, &gather, stacks, iface, netns, &r->cap);
	r->cap.stop = &stop;
	r->pids = (const pid_t *)pids->data;
	r->inject = inject;
	r->n_pids = pids->len;
	r->plan_out = o.verbose ? stderr : NULL; /* -v: the plan before anything is loaded */
	if (o.verbose)
		r->cap.hooks.log = log_verbose;
	if (nc_request_check(r, err, sizeof(err))) {
		fprintf(stderr, "netcap %s: %s\n", cmd, err);
		goto out;
	}
	nc_load_set_verbose(o.verbose);
	capture_signals(&stop);
	status = 1;
	if (nc_capture(r, &res, err, sizeof(err))) {
		fprintf(stderr, "netcap: %s\n", err);
		goto out;
	}
	capture_report(&res);
	nc_capture_result_free(&res);
	status = 0;
out:
	capture_opts_clear(&o);
	capture_gather_clear(&gather);
	g_strfreev(all_argv);
	g_option_context_free(ctx);
	return status;
}

int cmd_mbuf(int argc, char **argv)
{
	struct nc_request r = {.mode = NC_MODE_MBUF};

	return capture_command(&r, argc, argv);
}

int cmd_skb(int argc, char **argv)
{
	struct nc_request r = {.mode = NC_MODE_SKB};

	return capture_command(&r, argc, argv);
}
