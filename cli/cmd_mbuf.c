/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap mbuf -f SPEC[,SPEC...] --pid PID [--pid PID...] [-e EXPR] [-w FILE|-] [-P]
 *             [-t "TCPDUMP FLAGS"] [-c N] [-s SNAPLEN] [--duration SECONDS] [-S]
 *             [-G [--match pointer|content] [--gather-timeout MS]] [-i IFACE [--netns PATH]]
 * Parses the options into a request for core/capture and prints the summary.
 */
#include <glib.h>
#include <stdio.h>

#include "capture/mbuf_capture.h"
#include "capture_opts.h"
#include "commands.h"
#include "load/splice.h"

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
    "  usdt:PROVIDER:NAME@N[@M]\n"
    "                     a USDT probe (sys/sdt.h): its argument N is the mbuf, or\n"
    "                     the array with argument M the count (usdt:OBJECT:P:N@...\n"
    "                     for a probe in a library); its semaphore is raised\n"
    "  skb:SPEC           a kernel point in the same run, SPEC as netcap skb takes it\n"
    "                     (skb:net:netif_receive_skb, skb:FUNC@N); -i and --netns\n"
    "                     keep the kernel points to one interface\n"
    "FUNC is looked up in the executable, then in its shared libraries.\n"
    "-S puts the user stack of each packet's hook call in its comment (needs frame\n"
    "pointers: DPDK's own libraries are usually built without them).\n"
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

int cmd_mbuf(int argc, char **argv)
{
	static volatile sig_atomic_t stop;
	struct capture_opts o = {0};
	g_auto(GStrv) pid_args = NULL;
	gboolean stacks = FALSE;
	struct capture_gather gather = {0};
	g_autofree char *iface = NULL, *netns = NULL;
	GOptionEntry rows[4 + CAPTURE_GATHER_ENTRIES + CAPTURE_OPTS_ENTRIES] = {
	    {"pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pid_args, "The DPDK process (repeatable)",
	     "PID"},
	    {"stack", 'S', 0, G_OPTION_ARG_NONE, &stacks,
	     "User stack of each packet's hook call (needs frame pointers)", NULL},
	    {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
	     "Kernel points (skb:...): only packets of this interface", "IFACE"},
	    {"netns", 0, 0, G_OPTION_ARG_FILENAME, &netns,
	     "The network namespace of -i (/run/netns/NAME, /proc/PID/ns/net)", "PATH"}};
	GOptionContext *ctx =
	    g_option_context_new("[EXPRESSION] - capture packets of a DPDK process");
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autoptr(GError) gerr = NULL;
	char **all_argv = g_strdupv(argv);
	struct nc_mbuf_request r = {.cap.stop = &stop};
	struct nc_capture_result res;
	char err[512];
	int status = 2;
	guint kernel = 0;

	capture_gather_entries(
	    &gather, rows + 4,
	    "-G: tie a packet's records by its mbuf pointer (default) or its content");
	capture_opts_entries(&o, rows + 4 + CAPTURE_GATHER_ENTRIES,
			     "Hook point(s) to capture at (see below)");
	g_set_prgname("netcap mbuf");
	g_option_context_add_main_entries(ctx, rows, NULL);
	g_option_context_set_description(ctx, description);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap mbuf: %s; try: netcap mbuf --help\n", gerr->message);
		goto out;
	}
	for (char **p = pid_args; p && *p; p++) {
		guint64 v;
		pid_t pid;

		if (capture_parse_u64("mbuf", "--pid", *p, 1, INT32_MAX, &v))
			goto out;
		pid = (pid_t)v;
		g_array_append_val(pids, pid);
	}
	if (capture_opts_finish(&o, "mbuf", argc, argv, all_argv))
		goto out;
	if (!o.specs->len || !pids->len) {
		fprintf(stderr, "netcap mbuf: %s; e.g. netcap mbuf -f rx_burst --pid 1234\n",
			!o.specs->len ? "no hook point given (-f)" : "no process given (--pid)");
		goto out;
	}
	if (capture_gather_finish(&gather, "mbuf", &o, "rx_burst,tx_burst"))
		goto out;
	for (guint i = 0; i < o.specs->len; i++)
		kernel += g_str_has_prefix(o.specs->pdata[i], NC_MBUF_SKB_PREFIX);
	if (!kernel && (iface || netns)) {
		fprintf(stderr,
			"netcap mbuf: %s names the interface of kernel points: give one, e.g. -f "
			"tx_burst,skb:net:netif_receive_skb\n",
			iface ? "-i" : "--netns");
		goto out;
	}
	if (kernel == o.specs->len) {
		fprintf(stderr,
			"netcap mbuf: only kernel points (skb:...) given: capture them with "
			"netcap skb, or add a DPDK hook point\n");
		goto out;
	}
	if (kernel && gather.on && gather.opts.match != NC_GATHER_CONTENT) {
		fprintf(stderr,
			"netcap mbuf: -G from DPDK to kernel points follows packets by "
			"content (the kernel copies them into an skb): add --match content\n");
		goto out;
	}
	capture_request(&o, &gather, stacks, iface, netns, &r.cap);
	r.pids = (const pid_t *)pids->data;
	r.n_pids = pids->len;
	r.verbose = o.verbose;
	nc_load_set_verbose(o.verbose);
	capture_signals(&stop);
	status = 1;
	if (nc_mbuf_capture(&r, &res, err, sizeof(err))) {
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
