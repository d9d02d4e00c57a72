/* SPDX-License-Identifier: BSD-2-Clause */
#include "extcap_base.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t nc_extcap_stop;

static const char *const level_names[] = {"noisy", "debug", "info", "message"};

/* The log: one per process, as in Wireshark's extcaps */
static FILE *log_out;
static enum nc_extcap_level log_level = NC_EXTCAP_MESSAGE;

void nc_extcap_refuse(struct nc_extcap *x, const char *fmt, ...)
{
	va_list ap;

	g_free(x->bad);
	va_start(ap, fmt);
	x->bad = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void set_level(struct nc_extcap *x, const char *arg)
{
	for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++)
		if (!strcmp(arg, level_names[i])) {
			x->level = (enum nc_extcap_level)i;
			return;
		}
	nc_extcap_refuse(x, "bad --log-level \"%s\": want message, info, debug or noisy", arg);
}

bool nc_extcap_option(struct nc_extcap *x, const char *name, const char *arg)
{
	struct {
		const char *name;
		bool *flag;
		const char **value;
	} rows[] = {
	    {"extcap-interfaces", &x->interfaces, NULL},
	    {"extcap-dlts", &x->dlts, NULL},
	    {"extcap-config", &x->config, NULL},
	    {"capture", &x->capture, NULL},
	    {"help", &x->help, NULL},
	    {"extcap-interface", NULL, &x->iface},
	    {"extcap-capture-filter", NULL, &x->filter},
	    {"extcap-reload-option", NULL, &x->reload},
	    {"fifo", NULL, &x->fifo},
	    {"extcap-control-in", NULL, &x->control_in},
	    {"extcap-control-out", NULL, &x->control_out},
	    {"log-file", NULL, &x->log_file},
	    {"extcap-version", NULL, NULL}, /* the caller's version: nothing depends on it */
	};

	if (!strcmp(name, "log-level")) {
		set_level(x, arg);
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (strcmp(name, rows[i].name))
			continue;
		if (rows[i].flag)
			*rows[i].flag = true;
		if (rows[i].value)
			*rows[i].value = arg;
		return true;
	}
	return false;
}

static int begin(struct nc_extcap *x, int argc, char **argv)
{
	log_level = x->level;
	if (x->log_file && !(log_out = fopen(x->log_file, "ae")) && !x->bad)
		nc_extcap_refuse(x, "cannot open the log file %s: %s", x->log_file,
				 strerror(errno));
	if (log_out) {
		g_autoptr(GString) line = g_string_new("command line:");

		for (int i = 0; i < argc; i++)
			g_string_append_printf(line, " %s", argv[i]);
		nc_extcap_log(NC_EXTCAP_DEBUG, "%s", line->str);
	}
	if (x->bad && !x->capture) {
		fprintf(stderr, "%s: %s\n", x->name, x->bad);
		nc_extcap_log(NC_EXTCAP_MESSAGE, "%s", x->bad);
		return 1;
	}
	return 0;
}

static void end(struct nc_extcap *x)
{
	if (log_out)
		fclose(log_out);
	log_out = NULL;
	g_free(x->bad);
	x->bad = NULL;
}

static void log_v(enum nc_extcap_level level, const char *fmt, va_list ap)
{
	struct timeval tv;
	struct tm tm;
	char when[32];

	if (!log_out || level < log_level)
		return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(log_out, "%s.%03ld [%d] %s: ", when, (long)tv.tv_usec / 1000, (int)getpid(),
		level_names[level]);
	vfprintf(log_out, fmt, ap);
	fputc('\n', log_out);
	fflush(log_out);
}

void nc_extcap_log(enum nc_extcap_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

void nc_extcap_error(const struct nc_extcap *x, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", x->tag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	va_start(ap, fmt);
	log_v(NC_EXTCAP_MESSAGE, fmt, ap);
	va_end(ap);
}

static void print_version(const char *version, const char *help, const char *display)
{
	printf("extcap {version=%s}", version);
	if (help)
		printf("{help=%s}", help);
	if (display)
		printf("{display=%s}", display);
	printf("\n");
}

void nc_extcap_print_interface(const char *value, const char *display)
{
	printf("interface {value=%s}{display=%s}\n", value, display);
}

static void print_dlt(int number, const char *name, const char *display)
{
	printf("dlt {number=%d}{name=%s}{display=%s}\n", number, name, display);
}

void nc_extcap_print_arg(int number, const char *call, const char *display, const char *type,
			 const char *def, const char *range, const char *tooltip, const char *group,
			 bool reload)
{
	printf("arg {number=%d}{call=--%s}{display=%s}{type=%s}", number, call, display, type);
	if (reload)
		printf("{reload=true}");
	if (*def)
		printf("{default=%s}", def);
	if (*range)
		printf("{range=%s}", range);
	printf("{tooltip=%s}{group=%s}\n", tooltip, group);
}

void nc_extcap_print_value(int arg, const char *value, const char *display, bool is_default)
{
	printf("value {arg=%d}{value=%s}{display=%s}%s\n", arg, value, display,
	       is_default ? "{default=true}" : "");
}

void nc_extcap_usage(void)
{
	printf(
	    "  --extcap-interfaces, --extcap-dlts, --extcap-config, --extcap-interface IFACE,\n"
	    "  --extcap-capture-filter FILTER, --capture --fifo PATH|-, --extcap-version[=VER],\n"
	    "  --extcap-reload-option OPTION, --extcap-control-in PATH,\n"
	    "  --extcap-control-out PATH, --help\n");
}

static int open_fifo(const struct nc_extcap *x)
{
	int fd;

	if (!x->fifo) {
		nc_extcap_error(x, "--capture needs --fifo PATH (or - for standard output)");
		return -1;
	}
	fd = strcmp(x->fifo, "-") ? open(x->fifo, O_WRONLY | O_CLOEXEC) : dup(STDOUT_FILENO);
	if (fd < 0) {
		nc_extcap_error(x, "cannot open the FIFO %s: %s", x->fifo, strerror(errno));
		return -1;
	}
	if (x->bad) {
		nc_extcap_error(x, "%s", x->bad);
		close(fd);
		return -1;
	}
	nc_extcap_log(NC_EXTCAP_DEBUG, "FIFO %s open", x->fifo);
	return fd;
}

static void on_stop(int sig)
{
	(void)sig;
	nc_extcap_stop = 1;
}

static void catch_stop(void)
{
	struct sigaction sa = {.sa_handler = on_stop};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static void toolbar_open(struct nc_extcap_toolbar *t, const struct nc_extcap *x)
{
	t->in = x->control_in ? open(x->control_in, O_RDONLY | O_NONBLOCK | O_CLOEXEC) : -1;
	t->out = x->control_out ? open(x->control_out, O_WRONLY | O_CLOEXEC) : -1;
	if (x->control_in || x->control_out)
		nc_extcap_log(NC_EXTCAP_DEBUG, "control pipes: in %s, out %s",
			      t->in >= 0 ? "open" : "absent", t->out >= 0 ? "open" : "absent");
}

static void toolbar_close(struct nc_extcap_toolbar *t)
{
	if (t->in >= 0)
		close(t->in);
	if (t->out >= 0)
		close(t->out);
	t->in = t->out = -1;
}

void nc_extcap_control_send(struct nc_extcap_toolbar *t, uint8_t control,
			    enum nc_extcap_command cmd, const char *payload)
{
	size_t len = strlen(payload);
	uint8_t hdr[6] = {'T',
			  (uint8_t)((len + 2) >> 16),
			  (uint8_t)((len + 2) >> 8),
			  (uint8_t)(len + 2),
			  control,
			  (uint8_t)cmd};

	if (t->out < 0 || len > 65535)
		return;
	if (write(t->out, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    write(t->out, payload, len) != (ssize_t)len) {
		nc_extcap_log(NC_EXTCAP_INFO, "the control pipe is gone: %s", strerror(errno));
		close(t->out);
		t->out = -1;
	}
}

void nc_extcap_control_drain(struct nc_extcap_toolbar *t)
{
	char drain[256];

	while (t->in >= 0 && read(t->in, drain, sizeof(drain)) > 0)
		;
}

/* The filter check of Wireshark's GUI: one line on stdout when bad, exit 0 either way */
static int check_filter(const struct nc_extcap_tool *tool, const char *filter)
{
	char err[512];

	if (tool->check_filter(filter, err, sizeof(err)))
		printf("%s\n", err);
	return 0;
}

static int capture(struct nc_extcap *x, const struct nc_extcap_tool *tool)
{
	struct nc_extcap_toolbar toolbar;
	int fd = open_fifo(x), status;

	if (fd < 0)
		return 1;
	catch_stop();
	toolbar_open(&toolbar, x); /* after the FIFO; tshark gives none */
	status = tool->capture(tool->ctx, x, fd, &toolbar);
	toolbar_close(&toolbar);
	close(fd);
	return status;
}

int nc_extcap_run(struct nc_extcap *x, const struct nc_extcap_tool *tool, int argc, char **argv)
{
	int status = 0;

	if (begin(x, argc, argv))
		status = 1;
	else if (x->help)
		tool->usage();
	else if (x->interfaces) {
		print_version(tool->version, tool->help, tool->display);
		tool->interfaces();
	} else if (x->dlts)
		print_dlt(tool->dlt, tool->dlt_name, tool->dlt_display);
	else if (x->config)
		tool->config(x);
	else if (!x->capture && x->filter)
		status = check_filter(tool, x->filter);
	else if (!x->capture)
		tool->usage();
	else
		status = capture(x, tool);
	end(x);
	return status;
}
