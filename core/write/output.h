/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a capture writer writes: a file, standard output ("-") or a descriptor handed over (an
 * extcap FIFO), behind one large stdio buffer. Shared by the pcapng and pcap writers.
 */
#ifndef NC_OUTPUT_H
#define NC_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The end of a whole block and the units (packets) written up to it */
struct nc_output_mark {
	uint64_t end;
	uint64_t units;
};

struct nc_output {
	FILE *f;      /* the buffered stream */
	char *buf;    /* f's buffer: freed by nc_output_release(), after f is closed */
	char *what;   /* the output, for messages: a path, "standard output", "file descriptor 5" */
	bool regular; /* a regular file: a failed write can be cut back */
	uint64_t pos; /* the file offset after the whole blocks handed to f */
	uint64_t units;		      /* their units */
	struct nc_output_mark synced; /* the last block end known to be in the file */
	struct nc_output_mark *marks; /* block ends since, maybe still in f's buffer */
	size_t n_marks, cap_marks;
};

/*
 * Opens path for writing, truncating it; "-" is a duplicate of standard output, so that closing
 * the writer leaves fd 1 alone. kind ("pcapng", "pcap") names the format in messages. Returns 0
 * and fills o, or a negative errno with the reason in err.
 */
int nc_output_open(const char *path, const char *kind, struct nc_output *o, char *err,
		   size_t errlen);

/* Like nc_output_open() for a descriptor, which it takes over (and closes on failure). */
int nc_output_fdopen(int fd, const char *kind, struct nc_output *o, char *err, size_t errlen);

/*
 * A whole block of bytes (carrying units packets) has been handed to the stream. For a regular
 * file its end is remembered until nc_output_synced(), so that a failed write can be cut back.
 */
void nc_output_block(struct nc_output *o, uint64_t bytes, uint64_t units);

/* The stream was flushed: every block so far is in the file. */
void nc_output_synced(struct nc_output *o);

/* Write len bytes of whole records (units of them) past stdio: what stdio holds first, then the
 * block with write(2), copied once; 0, or -errno (the caller cuts the file back) */
int nc_output_write_block(struct nc_output *o, const void *buf, size_t len, uint64_t units);

/*
 * After a failed write (a full disk): cuts a regular file back to the end of the last whole
 * block that reached it and drops what is still buffered, so that the file holds whole blocks
 * only; *units receives their units. -ENOTSUP for a pipe, FIFO or terminal (nothing to cut),
 * or a negative errno.
 */
int nc_output_cut(struct nc_output *o, uint64_t *units);

/* Frees what nc_output_open() allocated besides the stream; call after fclose(o->f). */
void nc_output_release(struct nc_output *o);

#endif
