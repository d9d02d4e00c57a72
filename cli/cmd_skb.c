/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap skb -f SPEC[,SPEC...] [-i IFACE] [--netns PATH] [--attach fentry|kprobe] [-e EXPR] [-S]
 *            [-w FILE|-] [-P]
 *            [-t FLAGS] [-c N] [-s SNAPLEN] [--duration SECONDS]
 * Kernel capture at tracepoints that carry a struct sk_buff *.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "capture/skb_capture.h"
#include "capture_opts.h"
#include "commands.h"
#include "load/splice.h"

static const char description[] =
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

int cmd_skb(int argc, char **argv)
{
	static volatile sig_atomic_t stop;
	struct capture_opts o = {0};
	g_autofree char *iface = NULL, *netns = NULL, *attach = NULL;
	gboolean stacks = FALSE;
	struct capture_gather gather = {0};
	GOptionEntry rows[4 + CAPTURE_GATHER_ENTRIES + CAPTURE_OPTS_ENTRIES] = {
	    {"interface", 'i', 0, G_OPTION_ARG_STRING, &iface,
	     "Only packets of this interface (and namespace); any: all", "IFACE"},
	    {"netns", 0, 0, G_OPTION_ARG_FILENAME, &netns,
	     "The network namespace of -i (/run/netns/NAME, /proc/PID/ns/net)", "PATH"},
	    {"stack", 'S', 0, G_OPTION_ARG_NONE, &stacks, "Kernel stack of each packet", NULL},
	    {"attach", 0, 0, G_OPTION_ARG_STRING, &attach,
	     "Hook FUNC@N through fentry or a kprobe (default: fentry where the kernel allows it)",
	     "fentry|kprobe"}};
	GOptionContext *ctx =
	    g_option_context_new("[EXPRESSION] - capture packets in the kernel network stack");
	g_autoptr(GError) gerr = NULL;
	char **all_argv = g_strdupv(argv);
	struct nc_skb_request r = {.cap.stop = &stop};
	struct nc_capture_result res;
	char err[512];
	int status = 2;

	capture_gather_entries(
	    &gather, rows + 4,
	    "-G: tie a packet's records by its skb pointer (default) or its content");
	capture_opts_entries(&o, rows + 4 + CAPTURE_GATHER_ENTRIES,
			     "Hook point(s) to capture at (see below)");
	g_set_prgname("netcap skb");
	g_option_context_add_main_entries(ctx, rows, NULL);
	g_option_context_set_description(ctx, description);
	if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
		fprintf(stderr, "netcap skb: %s; try: netcap skb --help\n", gerr->message);
		goto out;
	}
	if (capture_opts_finish(&o, "skb", argc, argv, all_argv))
		goto out;
	if (!o.specs->len) {
		fprintf(stderr, "netcap skb: no hook point given (-f); e.g. netcap skb -f "
				"tracepoint:net:netif_receive_skb\n");
		goto out;
	}
	if (capture_gather_finish(&gather, "skb", &o,
				  "tp:net:net_dev_queue,tp:net:netif_receive_skb"))
		goto out;
	if (attach && strcmp(attach, "fentry") && strcmp(attach, "kprobe")) {
		fprintf(stderr, "netcap skb: bad --attach \"%s\": give fentry or kprobe\n", attach);
		goto out;
	}
	r.attach = !attach		       ? NC_SKB_TRACEPOINT
		   : !strcmp(attach, "fentry") ? NC_SKB_FENTRY
					       : NC_SKB_KPROBE;
	capture_request(&o, &gather, stacks, iface, netns, &r.cap);
	nc_load_set_verbose(o.verbose);
	capture_signals(&stop);
	status = 1;
	if (nc_skb_capture(&r, &res, err, sizeof(err))) {
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
