/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a capture's packets go: pcapng (the default), classic pcap, or tcpdump text (classic pcap
 * piped into `tcpdump -r - FLAGS`, spawned with an argument vector). One interface per hook
 * point; the pcap and text forms keep only the bytes and times.
 */
#ifndef NC_SINK_H
#define NC_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pcap.h"
#include "pcapng.h"

enum nc_sink_format {
	NC_SINK_PCAPNG = 1,
	NC_SINK_PCAP,
	NC_SINK_TEXT,
};

struct nc_sink_opts {
	enum nc_sink_format format;
	const char *path; /* PCAPNG/PCAP: a file, or "-" for standard output */
	bool use_fd;	  /* PCAPNG: write to fd (a FIFO opened by the caller) instead of path */
	int fd;		  /* duplicated: the caller keeps its own */
	const char
	    *tcpdump_flags;  /* TEXT: e.g. "-nnve" (split like a shell would, never run by one) */
	const char *comment; /* PCAPNG: the SHB comment (the command line) */
	uint16_t linktype;   /* PCAP/TEXT: the file's one link type */
	bool annotate; /* TEXT: print each packet comment's lines after its first under the packet
			  (kernel stacks) */
	uint32_t snaplen;
};

struct nc_sink;

/*
 * Checks tcpdump flags for text output: split as a shell would (never run by one), every word
 * must be a display flag (-A -b -e -f -H -K -l -n -N -q -S -t -u -U -v -x -X -#, combined as in
 * -nnve, or --number, --micro, --nano). Flags that read or write files, run commands, change
 * user or capture (-w -r -F -z -Z -C -G -W -i ...) and filter words are refused: -EINVAL with
 * one line naming the word.
 */
int nc_sink_check_tcpdump_flags(const char *flags, char *err, size_t errlen);

/* Returns 0 and *out, or a negative errno with the reason in err (a bad path, tcpdump missing,
 * unparsable flags). */
int nc_sink_open(const struct nc_sink_opts *o, struct nc_sink **out, char *err, size_t errlen);

/* Declares an interface (before the first packet). pcapng writes its IDB before its first
 * packet, or at the end (nc_pcapng_finish()). */
int nc_sink_add_interface(struct nc_sink *s, const struct nc_pcapng_iface *iface, uint32_t *id,
			  char *err, size_t errlen);

int nc_sink_packet(struct nc_sink *s, const struct nc_pcapng_packet *pkt, char *err, size_t errlen);

/* True when the sink is a file that takes records already in its format (struct nc_pcap_batch):
 * classic pcap, or pcapng (*pcapng set); not text */
bool nc_sink_takes_records(const struct nc_sink *s, bool *pcapng);

/* pcapng: the file id of declared interface id, its IDB written first if it is not yet */
int nc_sink_file_id(struct nc_sink *s, uint32_t id, uint32_t *file_id, char *err, size_t errlen);

/* The batch's records appended as they are; pcapng: delivered[i] packets of declared interface i
 * (n entries) among them. Only when nc_sink_takes_records() */
int nc_sink_records(struct nc_sink *s, const struct nc_pcap_batch *b, const uint64_t *delivered,
		    uint32_t n, char *err, size_t errlen);

int nc_sink_flush(struct nc_sink *s, char *err, size_t errlen);

/*
 * Writes the statistics (pcapng: nc_pcapng_finish(); stats has one entry per interface declared
 * or is NULL), closes, and for text waits for tcpdump. Always frees s. Returns the first error.
 * libpcap_refuses (may be NULL) receives, for pcapng, nc_pcapng_libpcap_refuses() of the file
 * (a static phrase, or NULL when tcpdump reads it), and NULL for pcap and text.
 */
int nc_sink_close(struct nc_sink *s, const struct nc_pcapng_stats *stats,
		  const char **libpcap_refuses, char *err, size_t errlen);

#endif
