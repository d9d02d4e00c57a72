/* SPDX-License-Identifier: BSD-2-Clause */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

struct corpus *corpus_load(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct corpus *c;
	pcap_t *p;
	int r;

	p = pcap_open_offline(path, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s", ebuf);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	c->linktype = pcap_datalink(p);
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		struct corpus_pkt *pk;

		c->pkts = realloc(c->pkts, (c->n + 1) * sizeof(*c->pkts));
		pk = &c->pkts[c->n++];
		pk->caplen = h->caplen;
		pk->wirelen = h->len;
		pk->data = malloc(h->caplen ? h->caplen : 1);
		memcpy(pk->data, data, h->caplen);
	}
	if (r == -1) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(p));
		corpus_free(c);
		c = NULL;
	}
	pcap_close(p);
	return c;
}

void corpus_free(struct corpus *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n; i++)
		free(c->pkts[i].data);
	free(c->pkts);
	free(c);
}
