/* SPDX-License-Identifier: BSD-2-Clause */
/* Packets of a pcap file, for tests (kept apart from libpcap's header, see core/filter/cbpf.h). */
#ifndef NC_TEST_CORPUS_H
#define NC_TEST_CORPUS_H

#include <stddef.h>
#include <stdint.h>

struct corpus_pkt {
	uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
};

struct corpus {
	struct corpus_pkt *pkts;
	unsigned n;
	int linktype; /* LINKTYPE_* of the file */
};

/* Reads every packet of path; returns NULL with a message in err on failure. */
struct corpus *corpus_load(const char *path, char *err, size_t errlen);
void corpus_free(struct corpus *c);

/* The tcpdump expressions of the differential tests, "" (every packet) first */
extern const char *const corpus_expressions[];
extern const size_t corpus_n_expressions;

#endif
