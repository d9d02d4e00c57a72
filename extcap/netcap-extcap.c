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

#include "capture/mbuf_capture.h"
#include "capture/skb_capture.h"
#include "extcap_base.h"
#include "filter/filter.h"
#include "interfaces.h"
#include "version.h"

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
    NC_EXTCAP_OPTIONS,
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
	bool stacks;
};

static void list_interfaces(void)
{
	nc_extcap_print_version(NETCAP_VERSION, NETCAP_EXTCAP_HELP, "netcap");
	iface_list();
	/* the toolbar: a log of attach and detach; the counters go to the status bar */
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

static void list_config(const char *iface, const char *reload)
{
	if (reload) { /* only the values of the selector to reload */
		if (!strcmp(reload, "pid"))
			iface_processes(ARG(PID), iface);
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
	iface_processes(ARG(PID), iface);
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

/* The capture filter check Wireshark runs while the user types: one line when bad, exit 0 */
static int check_filter(const char *filter)
{
	struct nc_filter *f;
	char err[512];

	if (nc_filter_new(filter, NC_MAX_SNAPLEN, 1, &f, err, sizeof(err)))
		printf("%s\n", err);
	else
		nc_filter_free(f);
	return 0;
}

static int capture(const struct nc_extcap *x, const struct options *o, int fd,
		   struct nc_extcap_toolbar *t)
{
	struct iface_target target;
	struct nc_capture_result res;
	struct nc_sink_opts out = {.format = NC_SINK_PCAPNG,
				   .use_fd = true,
				   .fd = fd,
				   .linktype = NC_LINKTYPE_ETHERNET,
				   .snaplen = (uint32_t)o->snaplen};
	struct nc_capture_hooks hooks = {.log = toolbar_log, .tick = toolbar_tick, .ctx = t};
	char err[512];
	int ret =
	    iface_resolve(x->iface, (pid_t)o->pid, o->port, o->hook, &target, err, sizeof(err));
	struct nc_capture_common cap = {.filter = x->filter,
					.snaplen = (uint32_t)o->snaplen,
					.out = out,
					.stop = &nc_extcap_stop,
					.hooks = hooks,
					.specs = &target.spec,
					.n_specs = 1};

	if (!ret && target.kernel) {
		struct nc_skb_request r = {.cap = cap};

		r.cap.stacks = o->stacks; /* the kernel's stacks: for kernel points only */
		nc_extcap_log(NC_EXTCAP_INFO, "%s: the kernel at %s, filter \"%s\", snap length %u",
			      x->iface, target.spec, x->filter ? x->filter : "", cap.snaplen);
		ret = nc_skb_capture(&r, &res, err, sizeof(err));
	} else if (!ret) {
		struct nc_mbuf_request r = {.cap = cap, .pids = &target.pid, .n_pids = 1};

		nc_extcap_log(NC_EXTCAP_INFO, "%s: process %d at %s, filter \"%s\", snap length %u",
			      x->iface, (int)target.pid, target.spec, x->filter ? x->filter : "",
			      cap.snaplen);
		ret = nc_mbuf_capture(&r, &res, err, sizeof(err));
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
	default: return false;
	}
}

int main(int argc, char **argv)
{
	struct nc_extcap x = {.name = "netcap-extcap", .tag = "netcap", .level = NC_EXTCAP_MESSAGE};
	struct options o = {.snaplen = NC_MAX_SNAPLEN};
	struct nc_extcap_toolbar toolbar;
	int c, i = 0, fd, status = 0;

	while ((c = getopt_long(argc, argv, "", long_opts, &i)) != -1)
		if (c == '?' || (!option(&o, &x, c, optarg) &&
				 !nc_extcap_option(&x, long_opts[i].name, optarg)))
			nc_extcap_refuse(&x, "unknown option; see: netcap-extcap --help");
	if (nc_extcap_begin(&x, argc, argv))
		status = 1;
	else if (x.help)
		usage();
	else if (x.interfaces)
		list_interfaces();
	else if (x.dlts)
		nc_extcap_print_dlt(1, "EN10MB", "Ethernet");
	else if (x.config)
		list_config(x.iface, x.reload);
	else if (!x.capture && x.filter)
		status = check_filter(x.filter);
	else if (!x.capture)
		usage();
	else if ((fd = nc_extcap_open_fifo(&x)) < 0)
		status = 1;
	else {
		nc_extcap_catch_stop();
		nc_extcap_toolbar_open(&toolbar, &x); /* after the FIFO; tshark gives none */
		status = capture(&x, &o, fd, &toolbar);
		nc_extcap_toolbar_close(&toolbar);
		close(fd);
	}
	nc_extcap_end(&x);
	return status;
}
