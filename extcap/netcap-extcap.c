/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap-extcap: the Wireshark extcap. Each running DPDK application gives interfaces
 * netcap:APP:rx_burst, netcap:APP:tx_burst and netcap:APP:FUNC for its functions that take
 * mbufs (DWARF); the kernel gives netcap:kernel:TRACEPOINT. Values hold no pid, so they stay the
 * same across restarts of the app. `--capture` runs the same core as `netcap mbuf`/`netcap skb`
 * into Wireshark's FIFO. The protocol is extcap_base.[ch], the interfaces interfaces.[ch]; here
 * the options (the dialog's rows: ui-config/extcap_args.def), the filter check and the capture.
 */
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extcap_base.h"
#include "interfaces.h"
#include "netcap.h"

#define CONTROL_LOG 0 /* the toolbar's Log button */

/* netcap's options, numbered after the protocol's; ARG(id) is a row's number in the dialog */
enum {
	OPT_BEFORE_ROWS = NC_EXTCAP_OPT,
#define NC_ARG(id, call, display, type, def, range, tooltip, group) OPT_##id,
#define NC_VALUE(id, value, display, is_default)
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
};
#define ARG(id) (OPT_##id - OPT_BEFORE_ROWS - 1)

static const struct option long_opts[] = {
    NC_EXTCAP_OPTIONS
#define NC_ARG(id, call, display, type, def, range, tooltip, group)                                \
	{call, strcmp(type, "boolflag") ? required_argument : no_argument, NULL, OPT_##id},
#define NC_VALUE(id, value, display, is_default)
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
    {NULL, 0, NULL, 0},
};

struct options {
	char *port, *hook;
	guint64 pid, snaplen;
	bool stacks, inject;
};

/* the interfaces, then the toolbar: a log of attach and detach (the counters go to the status
 * bar) */
static void list_interfaces(void)
{
	iface_list();
	printf("control {number=%d}{type=button}{role=logger}{display=Log}"
	       "{tooltip=netcap's attach and detach messages}\n",
	       CONTROL_LOG);
}

static void toolbar_log(void *ctx, const char *line)
{
	g_autofree char *text = g_strdup_printf("%s\n", line);

	nc_extcap_log(NC_EXTCAP_MESSAGE, "%s", line);
	nc_extcap_control_send(ctx, CONTROL_LOG, NC_EXTCAP_CMD_ADD, text);
}

static void toolbar_tick(void *ctx, const struct nc_counters *k, uint64_t written)
{
	char text[200];

	nc_extcap_control_drain(ctx);
	snprintf(text, sizeof(text), "netcap: seen %llu, matched %llu, written %llu, dropped %llu",
		 (unsigned long long)k->seen, (unsigned long long)k->matched,
		 (unsigned long long)written, (unsigned long long)(k->ringfull + k->readerr));
	nc_extcap_log(NC_EXTCAP_NOISY, "%s", text);
	nc_extcap_control_send(ctx, NC_EXTCAP_CONTROL_NONE, NC_EXTCAP_CMD_STATUSBAR, text);
}

static void list_config(const struct nc_extcap *x)
{
	if (x->reload) { /* only the values of the selector to reload */
		if (!strcmp(x->reload, "pid"))
			iface_processes(ARG(PID), x->iface);
		return;
	}
#define NC_ARG(id, call, display, type, def, range, tooltip, group)                                \
	nc_extcap_print_arg(ARG(id), call, display, type, def, range, tooltip, group,              \
			    OPT_##id == OPT_PID);
#define NC_VALUE(id, value, display, is_default)                                                   \
	nc_extcap_print_value(ARG(id), value, display, is_default);
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
	iface_processes(ARG(PID), x->iface);
}

static void usage(void)
{
	printf("netcap-extcap %s: DPDK and kernel capture for Wireshark (extcap)\n\n",
	       NETCAP_VERSION);
	nc_extcap_usage();
#define NC_ARG(id, call, display, type, def, range, tooltip, group)                                \
	printf("  --%-18s %s%s%s%s\n", call, tooltip, *def ? " (default " : "", def,               \
	       *def ? ")" : "");
#define NC_VALUE(id, value, display, is_default)
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
}

/* Whether netcap can capture with filter (compiled and translated, as a capture would) */
static int check_filter(const char *filter, char *err, size_t errlen)
{
	struct nc_filter *f;
	int ret = nc_filter_new(filter, NC_MAX_SNAPLEN, 1, &f, err, errlen);

	if (!ret)
		nc_filter_free(f);
	return ret;
}

static int capture(void *ctx, const struct nc_extcap *x, int fd, struct nc_extcap_toolbar *t)
{
	const struct options *o = ctx;
	struct iface_target target;
	struct nc_capture_result res;
	char err[512];
	int ret =
	    iface_resolve(x->iface, (pid_t)o->pid, o->port, o->hook, &target, err, sizeof(err));
	struct nc_request r = {
	    .mode = target.kernel ? NC_MODE_SKB : NC_MODE_MBUF,
	    .pids = &target.pid,
	    .n_pids = !target.kernel,
	    .inject = !target.kernel && o->inject,
	    .cap = {.specs = &target.spec,
		    .n_specs = 1,
		    .filter = x->filter,
		    .snaplen = (uint32_t)o->snaplen,
		    .stacks = target.kernel && o->stacks, /* the kernel's stacks: kernel points */
		    .out = {.format = NC_SINK_PCAPNG,
			    .use_fd = true,
			    .fd = fd,
			    .linktype = NC_LINKTYPE_ETHERNET,
			    .snaplen = (uint32_t)o->snaplen},
		    .stop = &nc_extcap_stop,
		    .hooks = {.log = toolbar_log, .tick = toolbar_tick, .ctx = t}}};

	if (!ret) {
		g_autofree char *who = target.kernel
					   ? g_strdup("the kernel")
					   : g_strdup_printf("process %d", (int)target.pid);

		nc_extcap_log(NC_EXTCAP_INFO, "%s: %s at %s, filter \"%s\", snap length %u",
			      x->iface, who, target.spec, x->filter ? x->filter : "",
			      r.cap.snaplen);
		ret = nc_capture(&r, &res, err, sizeof(err));
	}
	g_free(target.spec);
	if (ret) {
		nc_extcap_error(x, "%s", err);
		return 1;
	}
	nc_extcap_log(NC_EXTCAP_INFO, "%llu packet(s) written (%s)",
		      (unsigned long long)res.written, res.end ? res.end : "ended");
	nc_capture_result_free(&res);
	return 0;
}

/* netcap's own options; false for one it does not know */
static bool option(struct options *o, struct nc_extcap *x, int c, const char *arg)
{
	guint64 v;

	switch (c) {
	case OPT_PID:
		if (!g_ascii_string_to_unsigned(arg, 10, 0, INT32_MAX, &o->pid, NULL))
			nc_extcap_refuse(x, "bad --pid \"%s\": want a number from 0 to %d", arg,
					 INT32_MAX);
		return true;
	case OPT_SNAPLEN:
		if (!g_ascii_string_to_unsigned(arg, 10, 1, NC_MAX_SNAPLEN, &o->snaplen, NULL))
			nc_extcap_refuse(x, "bad --snaplen \"%s\": want a number from 1 to %d", arg,
					 NC_MAX_SNAPLEN);
		return true;
	case OPT_PORT:
		o->port = (char *)arg;
		if (*arg && !g_ascii_string_to_unsigned(arg, 10, 0, UINT16_MAX, &v, NULL))
			nc_extcap_refuse(x,
					 "bad --port \"%s\": want a port number from 0 to %d, or "
					 "nothing for every port",
					 arg, UINT16_MAX);
		return true;
	case OPT_HOOK: o->hook = (char *)arg; return true;
	case OPT_STACKS: o->stacks = true; return true;
	case OPT_INJECT: o->inject = true; return true;
	default: return false;
	}
}

int main(int argc, char **argv)
{
	struct nc_extcap x = {.name = "netcap-extcap", .tag = "netcap", .level = NC_EXTCAP_MESSAGE};
	struct options o = {.snaplen = NC_MAX_SNAPLEN};
	const struct nc_extcap_tool tool = {.version = NETCAP_VERSION,
					    .help = NETCAP_EXTCAP_HELP,
					    .display = "netcap",
					    .usage = usage,
					    .interfaces = list_interfaces,
					    .dlt = 1,
					    .dlt_name = "EN10MB",
					    .dlt_display = "Ethernet",
					    .config = list_config,
					    .check_filter = check_filter,
					    .capture = capture,
					    .ctx = &o};
	int c, i = 0;

	while ((c = getopt_long(argc, argv, "", long_opts, &i)) != -1)
		if (c == '?' || (!option(&o, &x, c, optarg) &&
				 !nc_extcap_option(&x, long_opts[i].name, optarg)))
			nc_extcap_refuse(&x, "unknown option; see: netcap-extcap --help");
	return nc_extcap_run(&x, &tool, argc, argv);
}
