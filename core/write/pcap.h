/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Classic pcap writer (the --pcap fallback): libpcap's own dumper on a handle opened with
 * nanosecond precision, so files carry the magic 0xA1B23C4D and nanosecond timestamps. One link
 * type per file, no interface names, no per-packet metadata; pcapng (pcapng.h) is the default.
 *
 * Output goes through stdio with a large buffer, to a file, a FIFO, a pipe or stdout; data
 * reaches the reader at nc_pcap_flush() or nc_pcap_close().
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL). A write error is sticky: every later call fails with the same
 * errno. Nothing here prints or exits.
 */
#ifndef NC_PCAP_H
#define NC_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct nc_pcap;

/*
 * Creates path ("-" = standard output, written through a duplicate of fd 1) and writes the file
 * header. linktype is DLT_EN10MB or DLT_RAW (libpcap writes them as link types 1 and 101);
 * snaplen 0 means 262144. Returns 0 and *out, or a negative errno with a message naming path;
 * *out is untouched on failure.
 */
int nc_pcap_open(const char *path, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		 size_t errlen);

/* Same on an open file descriptor, which the writer owns from this call on, also on failure. */
int nc_pcap_fdopen(int fd, int linktype, uint32_t snaplen, struct nc_pcap **out, char *err,
		   size_t errlen);

/*
 * Writes one record: ts_ns in nanoseconds since 1970-01-01 UTC, caplen bytes of data out of
 * wirelen. -EINVAL, with nothing written, when caplen exceeds wirelen or the snap length.
 */
int nc_pcap_packet(struct nc_pcap *w, uint64_t ts_ns, uint32_t caplen, uint32_t wirelen,
		   const void *data, char *err, size_t errlen);

/* Hands buffered records to the kernel (fflush, never fsync). */
int nc_pcap_flush(struct nc_pcap *w, char *err, size_t errlen);

/*
 * Flushes, closes the output and frees w (always; NULL is a no-op). Returns 0 or the first
 * write error of the writer's life. libpcap's pcap_dump_close() returns nothing, so an error
 * of close(2) itself goes unreported; write errors are caught by the flush before it.
 */
int nc_pcap_close(struct nc_pcap *w, char *err, size_t errlen);

#endif
