/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a capture writer writes: a file, standard output ("-") or a descriptor handed over (an
 * extcap FIFO), behind one large stdio buffer. Shared by the pcapng and pcap writers.
 */
#ifndef NC_OUTPUT_H
#define NC_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

struct nc_output {
	FILE *f;    /* the buffered stream */
	char *buf;  /* f's buffer: freed by nc_output_release(), after f is closed */
	char *what; /* the output, for messages: a path, "standard output", "file descriptor 5" */
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

/* Frees what nc_output_open() allocated besides the stream; call after fclose(o->f). */
void nc_output_release(struct nc_output *o);

#endif
