/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap-extcap: the Wireshark extcap. Each running DPDK application gives interfaces
 * netcap:APP:rx_burst, netcap:APP:tx_burst and netcap:APP:FUNC for its functions that take
 * mbufs (DWARF); the kernel gives netcap:kernel:TRACEPOINT. Values hold no pid, so they stay the
 * same across restarts of the app. `--capture` runs the same core as `netcap mbuf`/`netcap skb`
 * into Wireshark's FIFO. Protocol as Wireshark 4.0 behaves: ../shared/reference/extcap.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/mbuf_capture.h"
#include "capture/skb_capture.h"
#include "discover/dwarf.h"
#include "filter/filter.h"
#include "util/privs.h"
#include "version.h"

#define HELP_URL "https://github.com/netcap/netcap"

/* Control toolbar (../shared/reference/extcap.md §8) */
#define CONTROL_LOG	      0
#define CONTROL_NONE	      255
#define CONTROL_CMD_ADD	      2
#define CONTROL_CMD_STATUSBAR 6

/* The kernel's interfaces */
static const char *const kernel_points[] = {"net:netif_receive_skb", "net:net_dev_queue",
					    "skb:kfree_skb"};

enum {
	OPT_INTERFACES = 1000,
	OPT_VERSION,
	OPT_INTERFACE,
	OPT_DLTS,
	OPT_CONFIG,
	OPT_FILTER,
	OPT_RELOAD,
	OPT_CAPTURE,
	OPT_FIFO,
	OPT_CONTROL_IN,
	OPT_CONTROL_OUT,
	OPT_HELP,
#define NC_ARG(id, call, display, type, def, range, tooltip, group) OPT_##id,
#define NC_VALUE(id, value, display, is_default)
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
};

static const struct option long_opts[] = {
    {"extcap-interfaces", no_argument, NULL, OPT_INTERFACES},
    {"extcap-version", optional_argument, NULL, OPT_VERSION},
    {"extcap-interface", required_argument, NULL, OPT_INTERFACE},
    {"extcap-dlts", no_argument, NULL, OPT_DLTS},
    {"extcap-config", no_argument, NULL, OPT_CONFIG},
    {"extcap-capture-filter", required_argument, NULL, OPT_FILTER},
    {"extcap-reload-option", required_argument, NULL, OPT_RELOAD},
    {"capture", no_argument, NULL, OPT_CAPTURE},
    {"fifo", required_argument, NULL, OPT_FIFO},
    {"extcap-control-in", required_argument, NULL, OPT_CONTROL_IN},
    {"extcap-control-out", required_argument, NULL, OPT_CONTROL_OUT},
    {"help", no_argument, NULL, OPT_HELP},
#define NC_ARG(id, call, display, type, def, range, tooltip, group)                                \
	{call, strcmp(type, "boolflag") ? required_argument : no_argument, NULL, OPT_##id},
#define NC_VALUE(id, value, display, is_default)
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
    {NULL, 0, NULL, 0},
};

struct options {
	bool interfaces, dlts, config, capture;
	char *iface, *filter, *fifo, *control_in, *control_out, *reload, *port;
	guint64 pid, snaplen;
	char *hook;
	bool stacks;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A running DPDK application: the first process of each name */
struct app {
	char *comm;
	pid_t pid;
};

static bool maps_has_ethdev(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "librte_ethdev.so") != NULL;
	fclose(f);
	return found;
}

static char *comm_of(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
	char *comm = NULL;

	if (!g_file_get_contents(path, &comm, NULL, NULL))
		return NULL;
	g_strchomp(comm);
	return comm;
}

/* DPDK applications from a /proc scan (what this user may read), oldest process first */
static GArray *find_apps(void)
{
	GArray *apps = g_array_new(FALSE, FALSE, sizeof(struct app));
	DIR *d = opendir("/proc");
	struct dirent *e;
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));

	while (d && (e = readdir(d))) {
		guint64 v;
		pid_t pid;

		if (!g_ascii_string_to_unsigned(e->d_name, 10, 1, INT32_MAX, &v, NULL))
			continue;
		pid = (pid_t)v;
		if (pid != getpid() && maps_has_ethdev(pid))
			g_array_append_val(pids, pid);
	}
	if (d)
		closedir(d);
	for (guint i = 0; i < pids->len; i++) {
		struct app a = {comm_of(g_array_index(pids, pid_t, i)),
				g_array_index(pids, pid_t, i)};
		bool dup = false;

		for (guint j = 0; a.comm && j < apps->len; j++)
			dup |= !strcmp(g_array_index(apps, struct app, j).comm, a.comm);
		if (a.comm && !dup)
			g_array_append_val(apps, a);
		else
			g_free(a.comm);
	}
	g_array_free(pids, TRUE);
	return apps;
}

/* The hook spec of a function that takes mbufs, as `netcap list` suggests it */
static char *func_spec(const struct nc_mbuf_func *f)
{
	if (!f->array)
		return g_strdup_printf("%s@%u", f->name, f->arg_pkt);
	if (f->arg_cnt)
		return g_strdup_printf("%s@%u@%u", f->name, f->arg_pkt, f->arg_cnt);
	if (f->ret_count)
		return g_strdup_printf("%s@%u@ret", f->name, f->arg_pkt);
	return NULL;
}

static void list_interfaces(void)
{
	GArray *apps = find_apps();

	printf("extcap {version=%s}{help=%s}{display=netcap}\n", NETCAP_VERSION, HELP_URL);
	for (guint i = 0; i < apps->len; i++) {
		const struct app *a = &g_array_index(apps, struct app, i);
		g_autofree char *exe = g_strdup_printf("/proc/%d/exe", (int)a->pid);
		struct nc_mbuf_func *f = NULL;
		size_t n = 0;

		printf("interface {value=netcap:%s:rx_burst}{display=netcap: %s/rx_burst}\n",
		       a->comm, a->comm);
		printf("interface {value=netcap:%s:tx_burst}{display=netcap: %s/tx_burst}\n",
		       a->comm, a->comm);
		if (nc_dwarf_mbuf_funcs(exe, &f, &n, NULL, 0))
			n = 0;
		for (size_t k = 0; k < n; k++) {
			g_autofree char *spec = func_spec(&f[k]);

			if (spec && !g_str_has_prefix(f[k].name, "rte_"))
				printf("interface {value=netcap:%s:%s}{display=netcap: %s/%s}\n",
				       a->comm, f[k].name, a->comm, f[k].name);
		}
		nc_mbuf_funcs_free(f, n);
		g_free(a->comm);
	}
	g_array_free(apps, TRUE);
	for (size_t i = 0; i < G_N_ELEMENTS(kernel_points); i++)
		printf("interface {value=netcap:kernel:%s}{display=netcap: kernel/%s}\n",
		       strchr(kernel_points[i], ':') + 1, strchr(kernel_points[i], ':') + 1);
	/* the toolbar: a log of attach and detach; the counters go to the status bar */
	printf("control {number=%d}{type=button}{role=logger}{display=Log}"
	       "{tooltip=netcap's attach and detach messages}\n",
	       CONTROL_LOG);
}

/* The control pipes Wireshark's GUI gives (tshark gives none) */
struct toolbar {
	int in, out;
	uint64_t last_ns;
};

/* One message on the control pipe: 'T', 24-bit length (payload + 2), control, command, payload */
static void control_send(struct toolbar *t, uint8_t control, uint8_t cmd, const char *payload)
{
	size_t len = strlen(payload);
	uint8_t hdr[6] = {
	    'T', (uint8_t)((len + 2) >> 16), (uint8_t)((len + 2) >> 8), (uint8_t)(len + 2), control,
	    cmd};

	if (t->out < 0 || len > 65535)
		return;
	if (write(t->out, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    write(t->out, payload, len) != (ssize_t)len) {
		close(t->out); /* Wireshark went away: no toolbar any more */
		t->out = -1;
	}
}

static void toolbar_log(void *ctx, const char *line)
{
	g_autofree char *text = g_strdup_printf("%s\n", line);

	control_send(ctx, CONTROL_LOG, CONTROL_CMD_ADD, text);
}

static void toolbar_tick(void *ctx, const struct nc_counters *k, uint64_t written)
{
	struct toolbar *t = ctx;
	char drain[256], text[200];

	/* what Wireshark sends (Initialized, button presses) needs no answer: keep the pipe empty
	 */
	while (t->in >= 0 && read(t->in, drain, sizeof(drain)) > 0)
		;
	snprintf(text, sizeof(text), "netcap: seen %llu, matched %llu, written %llu, dropped %llu",
		 (unsigned long long)k->seen, (unsigned long long)k->matched,
		 (unsigned long long)written, (unsigned long long)(k->ringfull + k->readerr));
	control_send(t, CONTROL_NONE, CONTROL_CMD_STATUSBAR, text);
}

/* The processes of the application an interface names, as values of the process selector */
static void print_processes(int number, const char *iface)
{
	g_auto(GStrv) parts = g_strsplit(iface ? iface : "", ":", 3);
	DIR *d;
	struct dirent *e;

	if (g_strv_length(parts) != 3 || !strcmp(parts[1], "kernel") || !(d = opendir("/proc")))
		return;
	while ((e = readdir(d))) {
		guint64 v;
		g_autofree char *comm = NULL;

		if (!g_ascii_string_to_unsigned(e->d_name, 10, 1, INT32_MAX, &v, NULL) ||
		    !(comm = comm_of((pid_t)v)) || strcmp(comm, parts[1]) ||
		    !maps_has_ethdev((pid_t)v))
			continue;
		printf("value {arg=%d}{value=%llu}{display=%s[%llu]}\n", number,
		       (unsigned long long)v, comm, (unsigned long long)v);
	}
	closedir(d);
}

static void print_arg(int number, const char *call, const char *display, const char *type,
		      const char *def, const char *range, const char *tooltip, const char *group)
{
	printf("arg {number=%d}{call=--%s}{display=%s}{type=%s}", number, call, display, type);
	if (!strcmp(call, "pid"))
		printf("{reload=true}");
	if (*def)
		printf("{default=%s}", def);
	if (*range)
		printf("{range=%s}", range);
	printf("{tooltip=%s}{group=%s}\n", tooltip, group);
}

static void list_config(const char *iface, const char *reload)
{
	if (reload) { /* only the values of the selector to reload */
		if (!strcmp(reload, "pid"))
			print_processes(OPT_PID - OPT_HELP - 1, iface);
		return;
	}
#define NC_ARG(id, call, display, type, def, range, tooltip, group)                                \
	print_arg(OPT_##id - OPT_HELP - 1, call, display, type, def, range, tooltip, group);
#define NC_VALUE(id, value, display, is_default)                                                   \
	printf("value {arg=%d}{value=%s}{display=%s}%s\n", OPT_##id - OPT_HELP - 1, value,         \
	       display, is_default ? "{default=true}" : "");
#include "extcap_args.def"
#undef NC_ARG
#undef NC_VALUE
	print_processes(OPT_PID - OPT_HELP - 1, iface);
}

static void usage(void)
{
	printf(
	    "netcap-extcap %s: DPDK and kernel capture for Wireshark (extcap)\n\n"
	    "  --extcap-interfaces, --extcap-dlts, --extcap-config, --extcap-interface IFACE,\n"
	    "  --extcap-capture-filter FILTER, --capture --fifo PATH|-, --extcap-version[=VER],\n"
	    "  --extcap-reload-option OPTION, --extcap-control-in PATH,\n"
	    "  --extcap-control-out PATH, --help\n",
	    NETCAP_VERSION);
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

/* netcap:APP:HOOK -> the app's first process and the hook spec */
static int plan_mbuf(const struct options *o, const char *app, const char *hook, pid_t *pid,
		     char **spec, char *err, size_t errlen)
{
	GArray *apps = find_apps();
	int ret = 0;

	*pid = (pid_t)o->pid;
	for (guint i = 0; !*pid && i < apps->len; i++)
		if (!strcmp(g_array_index(apps, struct app, i).comm, app))
			*pid = g_array_index(apps, struct app, i).pid;
	for (guint i = 0; i < apps->len; i++)
		g_free(g_array_index(apps, struct app, i).comm);
	g_array_free(apps, TRUE);
	if (!*pid) {
		snprintf(err, errlen, "no DPDK application \"%s\" is running", app);
		return -ESRCH;
	}
	/* before the app's files are read: a caller other than root captures its own only */
	if (!nc_privs_is_root() && (ret = nc_privs_may_trace(*pid, err, errlen)) && ret != -ESRCH)
		return ret;
	ret = 0;
	if (o->hook && *o->hook) {
		*spec = g_strdup(o->hook);
	} else if (!strcmp(hook, "rx_burst") || !strcmp(hook, "tx_burst")) {
		*spec =
		    o->port && *o->port ? g_strdup_printf("%s:%s", hook, o->port) : g_strdup(hook);
	} else {
		g_autofree char *exe = g_strdup_printf("/proc/%d/exe", (int)*pid);
		struct nc_mbuf_func *f = NULL;
		size_t n = 0;

		*spec = NULL;
		if (!nc_dwarf_mbuf_funcs(exe, &f, &n, err, errlen))
			for (size_t k = 0; !*spec && k < n; k++)
				if (!strcmp(f[k].name, hook))
					*spec = func_spec(&f[k]);
		nc_mbuf_funcs_free(f, n);
		if (!*spec) {
			snprintf(err, errlen, "%s has no function %s taking mbufs", app, hook);
			ret = -ENOENT;
		}
	}
	return ret;
}

static int capture(const struct options *o, int fd, struct toolbar *t)
{
	g_auto(GStrv) parts = g_strsplit(o->iface ? o->iface : "", ":", 3);
	struct nc_capture_result res;
	struct nc_sink_opts out = {.format = NC_SINK_PCAPNG,
				   .use_fd = true,
				   .fd = fd,
				   .linktype = NC_LINKTYPE_ETHERNET,
				   .snaplen = (uint32_t)o->snaplen};
	struct nc_capture_hooks hooks = {.log = toolbar_log, .tick = toolbar_tick, .ctx = t};
	char err[512];
	int ret;

	if (g_strv_length(parts) != 3 || strcmp(parts[0], "netcap")) {
		fprintf(stderr,
			"netcap: unknown interface \"%s\"; see: netcap-extcap "
			"--extcap-interfaces\n",
			o->iface ? o->iface : "");
		return 1;
	}
	struct nc_capture_common cap = {.filter = o->filter,
					.snaplen = (uint32_t)o->snaplen,
					.out = out,
					.stop = &stop,
					.hooks = hooks,
					.n_specs = 1};

	if (!strcmp(parts[1], "kernel")) {
		g_autofree char *spec = NULL;
		char *specs[1];
		struct nc_skb_request r = {.cap = cap};

		for (size_t i = 0; i < G_N_ELEMENTS(kernel_points); i++)
			if (!strcmp(strchr(kernel_points[i], ':') + 1, parts[2]))
				spec = g_strdup(kernel_points[i]);
		if (!spec)
			spec = g_strdup_printf("tracepoint:%s", parts[2]);
		specs[0] = spec;
		r.cap.specs = specs;
		r.cap.stacks = o->stacks; /* the kernel's stacks: for kernel points only */
		ret = nc_skb_capture(&r, &res, err, sizeof(err));
	} else {
		g_autofree char *spec = NULL;
		pid_t pid;
		struct nc_mbuf_request r = {.cap = cap};

		ret = plan_mbuf(o, parts[1], parts[2], &pid, &spec, err, sizeof(err));
		if (!ret) {
			char *specs[1] = {spec};

			r.pids = &pid;
			r.n_pids = 1;
			r.cap.specs = specs;
			ret = nc_mbuf_capture(&r, &res, err, sizeof(err));
		}
	}
	if (ret) {
		fprintf(stderr, "netcap: %s\n", err);
		return 1;
	}
	nc_capture_result_free(&res);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {.snaplen = NC_MAX_SNAPLEN};
	g_autofree char *bad = NULL; /* reported once the FIFO is open */
	struct toolbar toolbar = {.in = -1, .out = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	int c, fd, status;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_INTERFACES: o.interfaces = true; break;
		case OPT_VERSION: break;
		case OPT_INTERFACE: o.iface = optarg; break;
		case OPT_DLTS: o.dlts = true; break;
		case OPT_CONFIG: o.config = true; break;
		case OPT_FILTER: o.filter = optarg; break;
		case OPT_CAPTURE: o.capture = true; break;
		case OPT_FIFO: o.fifo = optarg; break;
		case OPT_CONTROL_IN: o.control_in = optarg; break;
		case OPT_CONTROL_OUT: o.control_out = optarg; break;
		case OPT_HELP: usage(); return 0;
		case OPT_PID:
		case OPT_SNAPLEN: {
			guint64 *v = c == OPT_PID ? &o.pid : &o.snaplen;

			if (!g_ascii_string_to_unsigned(optarg, 10, c == OPT_PID ? 0 : 1,
							c == OPT_PID ? INT32_MAX : NC_MAX_SNAPLEN,
							v, NULL))
				bad = g_strdup_printf(
				    "bad --%s \"%s\": want a number from %d to %d",
				    c == OPT_PID ? "pid" : "snaplen", optarg, c == OPT_PID ? 0 : 1,
				    c == OPT_PID ? INT32_MAX : NC_MAX_SNAPLEN);
			break;
		}
		case OPT_HOOK: o.hook = optarg; break;
		case OPT_PORT: {
			guint64 v;

			o.port = optarg;
			if (*optarg &&
			    !g_ascii_string_to_unsigned(optarg, 10, 0, UINT16_MAX, &v, NULL))
				bad =
				    g_strdup_printf("bad --port \"%s\": want a port number from 0 "
						    "to %d, or nothing for every port",
						    optarg, UINT16_MAX);
			break;
		}
		case OPT_RELOAD: o.reload = optarg; break;
		case OPT_STACKS: o.stacks = true; break;
		case OPT_LOG_LEVEL:
			if (strcmp(optarg, "message") && strcmp(optarg, "info") &&
			    strcmp(optarg, "debug") && strcmp(optarg, "noisy"))
				bad = g_strdup_printf("bad --log-level \"%s\": want message, info, "
						      "debug or noisy",
						      optarg);
			break;
		case OPT_LOG_FILE: break; /* accepted from Wireshark; netcap writes no log file */
		default: bad = g_strdup("unknown option; see: netcap-extcap --help"); break;
		}
	}
	if (bad && !o.capture) {
		fprintf(stderr, "netcap-extcap: %s\n", bad);
		return 1;
	}
	if (o.interfaces) {
		list_interfaces();
		return 0;
	}
	if (o.dlts) {
		printf("dlt {number=1}{name=EN10MB}{display=Ethernet}\n");
		return 0;
	}
	if (o.config) {
		list_config(o.iface, o.reload);
		return 0;
	}
	if (!o.capture && o.filter)
		return check_filter(o.filter);
	if (!o.capture) {
		usage();
		return 0;
	}
	/* the FIFO first: dumpcap blocks opening it until we do, even to read an error */
	if (!o.fifo) {
		fprintf(stderr, "netcap: --capture needs --fifo PATH (or - for standard output)\n");
		return 1;
	}
	fd = strcmp(o.fifo, "-") ? open(o.fifo, O_WRONLY | O_CLOEXEC) : dup(STDOUT_FILENO);
	if (fd < 0) {
		fprintf(stderr, "netcap: cannot open the FIFO %s: %s\n", o.fifo, strerror(errno));
		return 1;
	}
	if (bad) {
		fprintf(stderr, "netcap: %s\n", bad);
		close(fd);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* the GUI's control pipes, after the FIFO; tshark gives none */
	toolbar.in = o.control_in ? open(o.control_in, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	toolbar.out = o.control_out ? open(o.control_out, O_WRONLY | O_CLOEXEC) : -1;
	status = capture(&o, fd, &toolbar);
	if (toolbar.in >= 0)
		close(toolbar.in);
	if (toolbar.out >= 0)
		close(toolbar.out);
	close(fd);
	return status;
}
