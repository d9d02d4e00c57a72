/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Wireshark extcap protocol, apart from what an extcap captures (as Wireshark's own extcaps
 * share extcap-base): the protocol's options, the sentences of --extcap-interfaces, --extcap-dlts
 * and --extcap-config, the FIFO, the stop signals, the framing of the toolbar's control pipes,
 * and the log options (--log-level, --log-file). Protocol as Wireshark 4.0 behaves: see
 * docs/extcap.md.
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
	{                                                                                          \
		"help", no_argument, NULL, NC_EXTCAP_OPT                                           \
	}

/* Wireshark's log levels, as its extcaps offer them: each writes its own lines and those above */
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
	char *bad; /* the last value refused; freed by nc_extcap_end() */
};

/*
 * Takes option name (a row of NC_EXTCAP_OPTIONS, --log-level or --log-file) with its argument.
 * False when name is none of these. A bad log level is refused (nc_extcap_refuse()).
 */
bool nc_extcap_option(struct nc_extcap *x, const char *name, const char *arg);

/* Records a refused value: reported by nc_extcap_begin() or, in a capture, nc_extcap_open_fifo() */
void nc_extcap_refuse(struct nc_extcap *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * After the options: opens the log file (appending; refused when it cannot be opened) and logs
 * the command line (debug). Outside a capture, a refused value is printed ("NAME: what") and 1
 * returned; otherwise 0.
 */
int nc_extcap_begin(struct nc_extcap *x, int argc, char **argv);

/* Closes the log file and frees what x holds. */
void nc_extcap_end(struct nc_extcap *x);

/* A line in the log file, when level is at or above the level asked for. */
void nc_extcap_log(enum nc_extcap_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What Wireshark shows of a capture's end: "TAG: what" on stderr, and in the log (message). */
void nc_extcap_error(const struct nc_extcap *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The protocol's sentences, one line each on stdout. help and display may be NULL. */
void nc_extcap_print_version(const char *version, const char *help, const char *display);
void nc_extcap_print_interface(const char *value, const char *display);
void nc_extcap_print_dlt(int number, const char *name, const char *display);
/* def and range may be "": left out; reload: the selector has a reload button */
void nc_extcap_print_arg(int number, const char *call, const char *display, const char *type,
			 const char *def, const char *range, const char *tooltip, const char *group,
			 bool reload);
void nc_extcap_print_value(int arg, const char *value, const char *display, bool is_default);

/* The protocol's options for --help, a few lines */
void nc_extcap_usage(void);

/*
 * Opens --fifo for writing ("-": a copy of stdout) before anything can fail in a capture:
 * dumpcap blocks opening it until the extcap does, even to read an error. Then a refused value
 * is reported. The descriptor, or -1 after a message on stderr.
 */
int nc_extcap_open_fifo(const struct nc_extcap *x);

/* Set by SIGINT, SIGTERM (Wireshark's stop) and SIGPIPE (the reader went away) once
 * nc_extcap_catch_stop() has been called; nothing else happens in the handler. */
extern volatile sig_atomic_t nc_extcap_stop;
void nc_extcap_catch_stop(void);

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

/* Opens the pipes x names (after the FIFO), the one to read non-blocking. */
void nc_extcap_toolbar_open(struct nc_extcap_toolbar *t, const struct nc_extcap *x);
void nc_extcap_toolbar_close(struct nc_extcap_toolbar *t);

/* One message to Wireshark: 'T', a 24-bit length (payload + 2), control, command, payload (at
 * most 65535 bytes). A failed write closes the pipe: Wireshark went away, no toolbar any more. */
void nc_extcap_control_send(struct nc_extcap_toolbar *t, uint8_t control,
			    enum nc_extcap_command cmd, const char *payload);

/* Reads and drops what Wireshark sent (Initialized, button presses), which needs no answer. */
void nc_extcap_control_drain(struct nc_extcap_toolbar *t);

#endif
