/* SPDX-License-Identifier: BSD-2-Clause */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/err.h"
#include "pcap.h"

struct nc_sink {
	enum nc_sink_format format;
	struct nc_pcapng *ng;
	struct nc_pcap *pcap;
	GPid tcpdump;	   /* TEXT */
	int text_fd;	   /* TEXT with annotations: tcpdump's standard output, read by us */
	GString *partial;  /* a line of tcpdump's not finished yet */
	GQueue *notes;	   /* annotations of the packets whose text is not all printed */
	bool started;	   /* tcpdump has begun printing a packet */
	uint32_t n_ifaces; /* PCAP, TEXT: interface ids only need to be distinct */
};

static int dlt_of(uint16_t linktype)
{
	return linktype == NC_LINKTYPE_RAW ? DLT_RAW : DLT_EN10MB;
}

/* Display flags of tcpdump(8) that take no argument: how packets are printed, nothing else */
static const char display_flags[] = "AbefHKlnNqStuUvxX#";
static const char *const display_long[] = {"--number", "--micro", "--nano"};

int nc_sink_check_tcpdump_flags(const char *flags, char *err, size_t errlen)
{
	g_auto(GStrv) words = NULL;
	g_autoptr(GError) gerr = NULL;

	if (!flags || !*flags)
		return 0;
	if (!g_shell_parse_argv(flags, NULL, &words, &gerr))
		return nc_err(err, errlen, EINVAL, "tcpdump flags \"%s\": %s", flags,
			      gerr->message);
	for (char **w = words; *w; w++) {
		bool ok = (*w)[0] == '-' && (*w)[1] && (*w)[1] != '-' &&
			  strspn(*w + 1, display_flags) == strlen(*w + 1);

		for (size_t i = 0; !ok && i < G_N_ELEMENTS(display_long); i++)
			ok = !strcmp(*w, display_long[i]);
		if (!ok)
			return nc_err(err, errlen, EINVAL,
				      "tcpdump flags \"%s\": \"%s\" is not a display flag; -t "
				      "passes only -A -b -e -f -H -K -l -n -N -q -S -t -u -U -v -x "
				      "-X -# --number --micro --nano (the filter goes in -e EXPR)",
				      flags, *w);
	}
	return 0;
}

/* tcpdump -r - FLAGS…, reading classic pcap from a pipe */
static int open_text(const struct nc_sink_opts *o, struct nc_sink *s, char *err, size_t errlen)
{
	g_auto(GStrv) flags = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) gerr = NULL;
	int fd;

	int ret = nc_sink_check_tcpdump_flags(o->tcpdump_flags, err, errlen);

	if (ret)
		return ret;
	if (o->tcpdump_flags && *o->tcpdump_flags &&
	    !g_shell_parse_argv(o->tcpdump_flags, NULL, &flags, &gerr))
		return nc_err(err, errlen, EINVAL, "tcpdump flags \"%s\": %s", o->tcpdump_flags,
			      gerr->message);
	g_ptr_array_add(argv, (gpointer) "tcpdump");
	g_ptr_array_add(argv, (gpointer) "-r");
	g_ptr_array_add(argv, (gpointer) "-");
	for (char **f = flags; f && *f; f++)
		g_ptr_array_add(argv, *f);
	if (o->annotate)
		g_ptr_array_add(argv, (gpointer) "-l"); /* a line as soon as it is printed */
	g_ptr_array_add(argv, NULL);
	s->text_fd = -1;
	if (!g_spawn_async_with_pipes(
		NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
		NULL, NULL, &s->tcpdump, &fd, o->annotate ? &s->text_fd : NULL, NULL, &gerr))
		return nc_err(err, errlen, ENOENT,
			      "cannot run tcpdump for text output: %s; install "
			      "tcpdump or write a file with -w",
			      gerr->message);
	if (o->annotate) {
		s->partial = g_string_new(NULL);
		s->notes = g_queue_new();
		g_unix_set_fd_nonblocking(s->text_fd, TRUE, NULL);
	}
	return nc_pcap_fdopen(fd, dlt_of(o->linktype), o->snaplen, &s->pcap, err, errlen);
}

/* Prints the annotation of the packet whose text tcpdump has finished */
static void print_note(struct nc_sink *s)
{
	char *note = g_queue_pop_head(s->notes);

	if (note && *note)
		printf("%s\n", note);
	g_free(note);
}

/*
 * Copies tcpdump's output to ours, putting each packet's annotation after the packet's lines: a
 * packet's text ends where the next packet's first line (not indented) begins, or at the end.
 * With wait, reads until tcpdump closes its output.
 */
static void pump_text(struct nc_sink *s, bool wait)
{
	char buf[4096];

	if (wait)
		g_unix_set_fd_nonblocking(s->text_fd, FALSE, NULL);
	for (;;) {
		ssize_t n = read(s->text_fd, buf, sizeof(buf));
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(s->partial, buf, n);
		while ((nl = memchr(s->partial->str, '\n', s->partial->len))) {
			size_t len = (size_t)(nl - s->partial->str) + 1;

			if (len > 1 && s->partial->str[0] != ' ' && s->partial->str[0] != '\t') {
				if (s->started)
					print_note(s);
				s->started = true;
			}
			fwrite(s->partial->str, 1, len, stdout);
			g_string_erase(s->partial, 0, (gssize)len);
		}
	}
	if (wait) {
		fwrite(s->partial->str, 1, s->partial->len, stdout);
		while (!g_queue_is_empty(s->notes))
			print_note(s);
	}
	fflush(stdout);
}

/* The lines of a comment after its first, indented: what goes under a packet's text */
static char *note_of(const char *comment)
{
	const char *rest = comment ? strchr(comment, '\n') : NULL;
	g_auto(GStrv) lines = NULL;
	GString *s = g_string_new(NULL);

	if (rest)
		lines = g_strsplit(rest + 1, "\n", -1);
	for (char **l = lines; l && *l; l++)
		g_string_append_printf(s, "%s\t%s", s->len ? "\n" : "", *l);
	return g_string_free(s, FALSE);
}

int nc_sink_open(const struct nc_sink_opts *o, struct nc_sink **out, char *err, size_t errlen)
{
	struct nc_sink *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	s->format = o->format;
	switch (o->format) {
	case NC_SINK_PCAPNG: {
		struct nc_pcapng_section shb = {.comment = o->comment};

		if (o->use_fd)
			ret = nc_pcapng_fdopen(fcntl(o->fd, F_DUPFD_CLOEXEC, 3), &shb, &s->ng, err,
					       errlen);
		else
			ret = nc_pcapng_open(o->path, &shb, &s->ng, err, errlen);
		break;
	}
	case NC_SINK_PCAP:
		ret = nc_pcap_open(o->path, dlt_of(o->linktype), o->snaplen, &s->pcap, err, errlen);
		break;
	case NC_SINK_TEXT: ret = open_text(o, s, err, errlen); break;
	default: ret = nc_err(err, errlen, EINVAL, "unknown output format %d", o->format);
	}
	if (ret) {
		if (s->tcpdump) {
			kill(s->tcpdump, SIGTERM);
			waitpid(s->tcpdump, NULL, 0);
		}
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int nc_sink_add_interface(struct nc_sink *s, const struct nc_pcapng_iface *iface, uint32_t *id,
			  char *err, size_t errlen)
{
	if (s->ng)
		return nc_pcapng_add_interface(s->ng, iface, id, err, errlen);
	*id = s->n_ifaces++;
	return 0;
}

int nc_sink_packet(struct nc_sink *s, const struct nc_pcapng_packet *pkt, char *err, size_t errlen)
{
	if (s->ng)
		return nc_pcapng_packet(s->ng, pkt, err, errlen);
	if (s->notes) {
		int ret = nc_pcap_packet(s->pcap, pkt->ts_ns, pkt->caplen, pkt->wirelen, pkt->data,
					 err, errlen);

		/* each packet goes to tcpdump at once, so that its text comes back in order */
		if (!ret)
			ret = nc_pcap_flush(s->pcap, err, errlen);
		if (!ret) {
			g_queue_push_tail(s->notes, note_of(pkt->comment));
			pump_text(s, false);
		}
		return ret;
	}
	return nc_pcap_packet(s->pcap, pkt->ts_ns, pkt->caplen, pkt->wirelen, pkt->data, err,
			      errlen);
}

bool nc_sink_takes_records(const struct nc_sink *s, bool *pcapng)
{
	*pcapng = s->ng != NULL;
	return s->ng || (s->format == NC_SINK_PCAP && s->pcap);
}

int nc_sink_file_id(struct nc_sink *s, uint32_t id, uint32_t *file_id, char *err, size_t errlen)
{
	if (!s->ng)
		return nc_err(err, errlen, EINVAL, "this output has no interface blocks");
	return nc_pcapng_file_id(s->ng, id, file_id, err, errlen);
}

int nc_sink_records(struct nc_sink *s, const struct nc_pcap_batch *b, const uint64_t *delivered,
		    uint32_t n, char *err, size_t errlen)
{
	bool ng;

	if (!nc_sink_takes_records(s, &ng) || ng != b->pcapng)
		return nc_err(err, errlen, EINVAL, "this output does not take these records");
	if (ng)
		return nc_pcapng_epbs(s->ng, b->buf, b->len, b->packets, delivered, n, err, errlen);
	return nc_pcap_records(s->pcap, b->buf, b->len, b->packets, err, errlen);
}

int nc_sink_flush(struct nc_sink *s, char *err, size_t errlen)
{
	return s->ng ? nc_pcapng_flush(s->ng, err, errlen) : nc_pcap_flush(s->pcap, err, errlen);
}

int nc_sink_close(struct nc_sink *s, const struct nc_pcapng_stats *stats,
		  const char **libpcap_refuses, char *err, size_t errlen)
{
	int ret;

	if (libpcap_refuses)
		*libpcap_refuses = NULL;
	if (!s)
		return 0;
	if (s->ng) {
		ret = nc_pcapng_finish(s->ng, stats, err, errlen);
		if (libpcap_refuses)
			*libpcap_refuses = nc_pcapng_libpcap_refuses(s->ng);
		/* close reports a write error of finish's (or its own) as before the split */
		int closed = nc_pcapng_close(s->ng, NULL, err, errlen);

		ret = closed ? closed : ret;
	} else {
		ret = nc_pcap_close(s->pcap, err, errlen);
	}
	if (s->notes) {
		pump_text(s, true);
		close(s->text_fd);
		g_queue_free_full(s->notes, g_free);
		g_string_free(s->partial, TRUE);
	}
	if (s->tcpdump) {
		int status = 0;

		/* tcpdump ends at the end of its input */
		while (waitpid(s->tcpdump, &status, 0) < 0 && errno == EINTR)
			;
		g_spawn_close_pid(s->tcpdump);
		if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			ret = nc_err(err, errlen, EPIPE, "tcpdump exited with status %d",
				     WIFEXITED(status) ? WEXITSTATUS(status)
						       : 128 + WTERMSIG(status));
	}
	free(s);
	return ret;
}
