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

/* The tcpdump expressions the differential tests run over the corpus (test_filter_diff: the
 * kernel translation; test_jit: the in-process compiler) */
const char *const corpus_expressions[] = {
    "",
    "ip",
    "ip6",
    "arp",
    "rarp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "tcp port 80",
    "udp port 53",
    "port 22",
    "not port 22",
    "src port 443",
    "dst port 80",
    "portrange 1000-2000",
    "tcp portrange 1000-2000",
    "host 10.0.0.1",
    "src host 10.0.0.1",
    "dst host 192.168.1.1",
    "net 10.0.0.0/8",
    "net 10.0.0.0/8 and not port 22",
    "src net 192.168.1.0/24",
    "ip multicast",
    "dst host 255.255.255.255",
    "ether broadcast",
    "ether multicast",
    "ether host 00:11:22:33:44:55",
    "ether src 00:11:22:33:44:55",
    "ether dst ff:ff:ff:ff:ff:ff",
    "ether proto 0x0806",
    "vlan",
    "vlan 10",
    "vlan and tcp port 80",
    "vlan 100 and ip6",
    "vlan and vlan 10",
    "vlan 200 and vlan 10 and tcp port 80",
    "mpls",
    "mpls 100",
    "mpls and ip",
    "ip6 and udp",
    "ip6 and tcp",
    "ip6 and tcp port 80",
    "ip6 multicast",
    "ip6 host ff02::1",
    "ip6 net fe80::/10",
    "greater 1000",
    "less 100",
    "len <= 100",
    "len > 1400",
    "len = 60",
    "len - 14 > 100",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack = 0",
    "tcp[tcpflags] == tcp-rst",
    "tcp[13] & 0x10 != 0",
    "tcp[tcpflags] & tcp-push != 0",
    "tcp and tcp[2:2] > 1023",
    "ip[2:2] > 100",
    "ip[8] < 64",
    "ip[0] & 0xf > 5",
    "ip[6:2] & 0x1fff != 0",
    "ip[6] & 0x20 != 0",
    "ip proto 1",
    "ip proto \\tcp",
    "ip6 proto 58",
    "ip6[6] = 17",
    "icmp[icmptype] = icmp-echo",
    "icmp[icmptype] == icmp-echoreply or icmp[icmptype] == icmp-unreach",
    "icmp6 and ip6[40] == 135",
    "udp port 4789",
    "udp dst port 6081",
    "udp port 4789 and udp[8] & 0x08 != 0",
    "geneve",
    "geneve and tcp port 80",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    "tcp[((tcp[12] & 0xf0) >> 2)] = 0x16",
    "ip and (tcp or udp) and not (port 53 or port 123)",
    "host 10.0.0.1 and (port 80 or port 443)",
    "udp and (udp[0:2] + udp[2:2]) > 2000",
    "(ip[2:2] - ((ip[0] & 0xf) << 2)) > 40",
    "ip[1] * 2 > 10",
    "ip[2:2] / 4 > 100",
    "ip[2:2] % 7 = 3",
    "ip[2:2] / (ip[8] & 3) > 100",
    "ip[2:2] % (ip[9] & 1) = 0",
    "ip[4] << (ip[1] & 7) != 0",
    "ip[4] >> (ip[8] & 63) != 0",
    "ip[5] << (ip[8] & 63) > 1000",
    "ip[0] ^ 0x45 = 0",
    "ip[0] | 0x0f = 0x4f",
    "-ip[8] > 100",
    "ip[16:4] = 0xe00000fb",
    "ip[12:4] > 0x80000000",
    "ip[12:4] >= 0xc0000000",
    "ip[12:4] & 0x80000000 != 0",
    "ether[0] & 1 != 0",
    "ether[12:2] = 0x86dd",
    "ether[len - 4:4] != 0",
    "ether[len - 1] = 0",
    "not ip and not ip6",
    "ip[300] = 0",
    "ether[600:4] = 0",
    "ip host 224.0.0.251",
    "udp port 5353 or udp port 123",
    "udp[8:4] = 0x08000000",
    "llc",
    "ip6 and ip6[6] = 0",
};
const size_t corpus_n_expressions = sizeof(corpus_expressions) / sizeof(corpus_expressions[0]);
