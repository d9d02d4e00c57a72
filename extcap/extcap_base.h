/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Wireshark extcap protocol, apart from what an extcap captures (as Wireshark's own extcaps
 * share extcap-base): the protocol's options, the sentences of --extcap-interfaces, --extcap-dlts
 * and --extcap-config, which call does what (nc_extcap_run()), the FIFO, the stop signals, the
 * framing of the toolbar's control pipes, and the log options (--log-level, --log-file). The
 * protocol as Wireshark 4.0 behaves (its developer's guide, chapter "Extcap"); how netcap uses
 * it: docs/extcap.md.
 *
 * Messages: what Wireshark should show goes to stderr (during a capture, after the FIFO is open:
 * dumpcap waits for it); the log goes to --log-file only, never to stdout, which carries the
 * protocol's sentences or, with --fifo -, the capture.
 */
#ifndef NC_EXTCAP_BASE_H
#define NC_EXTCAP_BASE_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* getopt_long's value for the protocol's options (NC_EXTCAP_OPTIONS); an extcap numbers its own
 * above it and hands the base every option it does not know itself (nc_extcap_option()) */
#define NC_EXTCAP_OPT 1000
#define NC_EXTCAP_OPTIONS                                                                          \
	{"extcap-interfaces", no_argument, NULL, NC_EXTCAP_OPT},                                   \
	    {"extcap-version", optional_argument, NULL, NC_EXTCAP_OPT},                            \
	    {"extcap-interface", required_argument, NULL, NC_EXTCAP_OPT},                          \
	    {"extcap-dlts", no_argument, NULL, NC_EXTCAP_OPT},                                     \
	    {"extcap-config", no_argument, NULL, NC_EXTCAP_OPT},                                   \
	    {"extcap-capture-filter", required_argument, NULL, NC_EXTCAP_OPT},                     \
	    {"extcap-reload-option", required_argument, NULL, NC_EXTCAP_OPT},                      \
	    {"capture", no_argument, NULL, NC_EXTCAP_OPT},                                         \
	    {"fifo", required_argument, NULL, NC_EXTCAP_OPT},                                      \
	    {"extcap-control-in", required_argument, NULL, NC_EXTCAP_OPT},                         \
	    {"extcap-control-out", required_argument, NULL, NC_EXTCAP_OPT},                        \
	    {"help", no_argument, NULL, NC_EXTCAP_OPT},

/* Wireshark's log levels, as its extcaps offer them: a level keeps its lines and those above */
enum nc_extcap_level {
	NC_EXTCAP_NOISY,
	NC_EXTCAP_DEBUG,
	NC_EXTCAP_INFO,
	NC_EXTCAP_MESSAGE, /* the default */
};

/* One call of the extcap, as its options say */
struct nc_extcap {
	const char *name; /* "netcap-extcap": the prefix of a refusal outside a capture */
	const char *tag;  /* "netcap": the prefix of what Wireshark shows of a capture's end */
	bool interfaces, dlts, config, capture, help;
	const char *iface, *filter, *fifo, *control_in, *control_out, *reload;
	enum nc_extcap_level level;
	const char *log_file;
	char *bad; /* the last value refused; freed by nc_extcap_run() */
};

/*
 * Takes option name (a row of NC_EXTCAP_OPTIONS, --log-level or --log-file) with its argument.
 * False when name is none of these. A bad log level is refused (nc_extcap_refuse()).
 */
bool nc_extcap_option(struct nc_extcap *x, const char *name, const char *arg);

/* Records a refused value, for nc_extcap_run() to report */
void nc_extcap_refuse(struct nc_extcap *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line in the log file, when level is at or above the level asked for. */
void nc_extcap_log(enum nc_extcap_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What Wireshark shows of a capture's end: "TAG: what" on stderr, and in the log (message). */
void nc_extcap_error(const struct nc_extcap *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The protocol's sentences, one line each on stdout */
void nc_extcap_print_interface(const char *value, const char *display);
/* def and range may be "": left out; reload: the selector has a reload button */
void nc_extcap_print_arg(int number, const char *call, const char *display, const char *type,
			 const char *def, const char *range, const char *tooltip, const char *group,
			 bool reload);
void nc_extcap_print_value(int arg, const char *value, const char *display, bool is_default);

/* The protocol's options for --help, a few lines */
void nc_extcap_usage(void);

/* Set by SIGINT, SIGTERM (Wireshark's stop) and SIGPIPE (the reader went away) during a
 * capture; nothing else happens in the handler. */
extern volatile sig_atomic_t nc_extcap_stop;

/* The control pipes of the toolbar (Wireshark's GUI gives them, tshark does not) */
struct nc_extcap_toolbar {
	int in, out; /* -1 when absent, or gone */
};

#define NC_EXTCAP_CONTROL_NONE 255 /* a message for no control: the status bar */
enum nc_extcap_command {
	NC_EXTCAP_CMD_INITIALIZED = 0,
	NC_EXTCAP_CMD_SET = 1,
	NC_EXTCAP_CMD_ADD = 2,
	NC_EXTCAP_CMD_REMOVE = 3,
	NC_EXTCAP_CMD_ENABLE = 4,
	NC_EXTCAP_CMD_DISABLE = 5,
	NC_EXTCAP_CMD_STATUSBAR = 6,
	NC_EXTCAP_CMD_INFORMATION = 7,
	NC_EXTCAP_CMD_WARNING = 8,
	NC_EXTCAP_CMD_ERROR = 9,
};

/* One message to Wireshark: 'T', a 24-bit length (payload + 2), control, command, payload (at
 * most 65535 bytes). A failed write closes the pipe: Wireshark went away, no toolbar any more. */
void nc_extcap_control_send(struct nc_extcap_toolbar *t, uint8_t control,
			    enum nc_extcap_command cmd, const char *payload);

/* Reads and drops what Wireshark sent (Initialized, button presses), which needs no answer. */
void nc_extcap_control_drain(struct nc_extcap_toolbar *t);

/* What an extcap adds to the protocol: its sentences, its filter check and its capture */
struct nc_extcap_tool {
	const char *version, *help, *display; /* the `extcap` sentence; help may be NULL */
	void (*usage)(void);		      /* --help, and a call that asks for nothing */
	void (*interfaces)(void);	      /* the `interface` and `control` sentences */
	int dlt;			      /* every interface's link type, for --extcap-dlts */
	const char *dlt_name, *dlt_display;
	/* the `arg` and `value` sentences of x->iface; with x->reload, that selector's values */
	void (*config)(const struct nc_extcap *x);
	/* whether filter can be captured with: 0, or a negative errno and why in err */
	int (*check_filter)(const char *filter, char *err, size_t errlen);
	/* the capture into fd (the FIFO, open), while nc_extcap_stop is 0: the exit status, 1
	 * after nc_extcap_error() */
	int (*capture)(void *ctx, const struct nc_extcap *x, int fd, struct nc_extcap_toolbar *t);
	void *ctx;
};

/*
 * Answers the call the options (nc_extcap_option()) make: opens the log file (appending; a
 * refusal when it cannot) and logs the command line (debug); a refused value ends a call other
 * than a capture at once ("NAME: what" on stderr, 1). Then --help, --extcap-interfaces (the
 * `extcap` sentence first), --extcap-dlts, --extcap-config, the filter check of Wireshark's GUI
 * (--extcap-capture-filter without --capture: the message as one line on stdout when the filter
 * is bad, exit 0 either way), or --capture: the FIFO opened before anything can fail (dumpcap
 * blocks opening it until the extcap does, even to read an error), the refused value reported
 * after it, the stop signals caught, the control pipes opened, the tool's capture. Closes the
 * log and frees what x holds. The exit status.
 */
int nc_extcap_run(struct nc_extcap *x, const struct nc_extcap_tool *tool, int argc, char **argv);

#endif
