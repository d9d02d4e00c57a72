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

#include <stdbool.h>
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

/*
 * Records made elsewhere, in this writer's format (a nanosecond file in host byte order: for each
 * packet u32 seconds, u32 nanoseconds, u32 caplen, u32 wirelen, then caplen bytes; see struct
 * nc_pcap_batch), `packets` of them in len bytes: appended as they are (stdio flushed, then
 * write(2), no copy of them), one block for the cut-back of a failed write. The caller vouches for
 * them (caplen <= wirelen and the snap length).
 */
int nc_pcap_records(struct nc_pcap *w, const void *buf, size_t len, uint64_t packets, char *err,
		    size_t errlen);

/*
 * Where a reader that knows the file's format writes a run of records, with no call per packet
 * (core/inproc's rings, --inject): buf has room for cap bytes, len of them written, in `packets`
 * records; at most max records (0: no limit); timestamps are CLOCK_MONOTONIC plus real_offset_ns
 * (the capture's nc_clock); written[] counts the records of each hook id.
 * Classic pcap records, or with pcapng EPBs as core/write/pcapng.c writes a DPDK point's packet
 * (epb_flags, epb_queue, epb_packetid, the comment): file_id[hook] is the hook's interface in the
 * file (NC_PCAP_BATCH_NO_ID until its IDB is written: the reader then stops, setting need to
 * that hook, for the caller to write it with nc_pcapng_file_id() and poll again), label[hook] its
 * point's label, and comment() (the backend's) makes the comment of a record.
 */
#define NC_PCAP_BATCH_HOOKS 64 /* NC_MAX_HOOKS */
#define NC_PCAP_BATCH_NO_ID UINT32_MAX
struct nc_record;
struct nc_pcap_batch {
	uint8_t *buf;
	size_t cap, len;
	uint64_t packets, max;
	int64_t real_offset_ns;
	uint64_t written[NC_PCAP_BATCH_HOOKS];
	bool pcapng;
	uint32_t need;
	uint32_t file_id[NC_PCAP_BATCH_HOOKS];
	const char *label[NC_PCAP_BATCH_HOOKS];
	void (*comment)(void *ctx, const struct nc_record *rec, const char *label, char *buf,
			size_t len);
	void *comment_ctx;
};

/* Hands buffered records to the kernel (fflush, never fsync). */
int nc_pcap_flush(struct nc_pcap *w, char *err, size_t errlen);

/*
 * Flushes, closes the output and frees w (always; NULL is a no-op). Returns 0 or the first
 * write error of the writer's life. libpcap's pcap_dump_close() returns nothing, so an error
 * of close(2) itself goes unreported; write errors are caught by the flush before it.
 */
int nc_pcap_close(struct nc_pcap *w, char *err, size_t errlen);

#endif
