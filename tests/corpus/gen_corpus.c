/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_corpus OUTDIR: writes the packet corpus of the differential filter test,
 * OUTDIR/corpus_eth.pcap (DLT_EN10MB) and OUTDIR/corpus_raw.pcap (DLT_RAW).
 *
 * Every packet is built by hand here, so the files are the same on every machine and every run:
 * fixed timestamps, fixed addresses, IPv4 identifications from a counter, and "random" bytes
 * from a fixed-seed xorshift generator. See README.md for what the corpus contains and why.
 */
#define _DEFAULT_SOURCE /* pcap.h uses u_char and u_int, also under -std=c11 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKT_MAX	  2048
#define SNAPLEN	  65535
#define TS_BASE	  1700000000
#define ETH_MIN	  60 /* minimum Ethernet frame without FCS */
#define ETH_HLEN  14
#define NTP_EPOCH 2208988800u /* seconds from 1900 to 1970 */

#define ET_IPV4	 0x0800
#define ET_ARP	 0x0806
#define ET_RARP	 0x8035
#define ET_VLAN	 0x8100
#define ET_QINQ	 0x88a8
#define ET_IPV6	 0x86dd
#define ET_MPLS	 0x8847
#define ET_TEB	 0x6558 /* transparent Ethernet bridging, Geneve's inner Ethernet */
#define P_ICMP	 1
#define P_IGMP	 2
#define P_TCP	 6
#define P_UDP	 17
#define P_HOPOPT 0
#define P_ROUTE	 43
#define P_FRAG	 44
#define P_ICMP6	 58
#define P_NONXT	 59
#define P_DSTOPT 60

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

#define IP_DF 0x4000
#define IP_MF 0x2000

struct pkt {
	uint8_t b[PKT_MAX];
	size_t n;
};

struct ip6a {
	uint8_t b[16];
};

struct mac {
	uint8_t b[6];
};

struct out {
	pcap_t *dead;
	pcap_dumper_t *dump;
	int dlt;
	unsigned n;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

/* ---- byte writers ---- */

static uint8_t *grow(struct pkt *p, size_t len)
{
	uint8_t *q;

	if (len > PKT_MAX - p->n)
		die("packet too long");
	q = p->b + p->n;
	p->n += len;
	return q;
}

static void put8(struct pkt *p, unsigned v)
{
	*grow(p, 1) = (uint8_t)v;
}

static void put16(struct pkt *p, unsigned v)
{
	uint8_t *q = grow(p, 2);

	q[0] = (uint8_t)(v >> 8);
	q[1] = (uint8_t)v;
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void putn(struct pkt *p, const void *d, size_t len)
{
	if (len)
		memcpy(grow(p, len), d, len);
}

static void putz(struct pkt *p, size_t len)
{
	if (len)
		memset(grow(p, len), 0, len);
}

static void puts_(struct pkt *p, const char *s)
{
	putn(p, s, strlen(s));
}

/* len bytes of readable filler text (a payload no dissector takes for a header) */
static void putfill(struct pkt *p, size_t len)
{
	static const char text[] = "netcap corpus payload 0123456789 ";

	for (size_t i = 0; i < len; i++)
		put8(p, (unsigned char)text[i % (sizeof(text) - 1)]);
}

static void set16(struct pkt *p, size_t off, unsigned v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

static void pad_to(struct pkt *p, size_t len)
{
	if (p->n < len)
		putz(p, len - p->n);
}

/* ---- fixed-seed generator: xorshift64, never rand() ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 32);
}

static void putrand(struct pkt *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put8(p, rnd() & 0xff);
}

/* ---- addresses ---- */

static uint32_t a4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die(s);
	return ntohl(a.s_addr);
}

static struct ip6a a6(const char *s)
{
	struct ip6a a;

	if (inet_pton(AF_INET6, s, a.b) != 1)
		die(s);
	return a;
}

static const struct mac MAC_BCAST = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct mac MAC_ZERO = {{0, 0, 0, 0, 0, 0}};
static const struct mac MAC_STP = {{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};
/* unicast addresses the frames rotate through; the first is the one filters name */
static const struct mac MACS[] = {
    {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}}, {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
    {{0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}}, {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {{0x3c, 0xfd, 0xfe, 0x01, 0x02, 0x03}},
};
#define NMACS (sizeof(MACS) / sizeof(MACS[0]))
#define MAC_A (&MACS[0]) /* 00:11:22:33:44:55 */
#define MAC_B (&MACS[1])
#define MAC_C (&MACS[2])
#define MAC_D (&MACS[3])

static struct mac mac_mcast4(uint32_t ip)
{
	struct mac m = {{0x01, 0x00, 0x5e, (ip >> 16) & 0x7f, (ip >> 8) & 0xff, ip & 0xff}};

	return m;
}

static struct mac mac_mcast6(const struct ip6a *ip)
{
	struct mac m = {{0x33, 0x33, ip->b[12], ip->b[13], ip->b[14], ip->b[15]}};

	return m;
}

/* ---- checksums ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *d, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)d[i] << 8 | d[i + 1];
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Checksum of the L4 header at l4 (to the end of p) whose checksum field is at l4 + field; ip is
 * the offset of the enclosing IPv4 or IPv6 header (for the pseudo-header; ICMPv4 has none).
 */
static void l4_csum(struct pkt *p, size_t ip, size_t l4, unsigned proto, size_t field)
{
	size_t len = p->n - l4;
	uint32_t sum = 0;
	uint16_t c;

	set16(p, l4 + field, 0);
	if (p->b[ip] >> 4 == 4) {
		if (proto != P_ICMP)
			sum = csum_add(0, p->b + ip + 12, 8) + proto + (uint32_t)len;
	} else {
		sum = csum_add(0, p->b + ip + 8, 32) + (uint32_t)(len >> 16) +
		      (uint32_t)(len & 0xffff) + proto;
	}
	c = csum_fold(csum_add(sum, p->b + l4, len));
	if (proto == P_UDP && c == 0)
		c = 0xffff;
	set16(p, l4 + field, c);
}

/* ---- link layer ---- */

static void eth_addrs(struct pkt *p, const struct mac *dst, const struct mac *src)
{
	putn(p, dst->b, 6);
	putn(p, src->b, 6);
}

static void eth(struct pkt *p, const struct mac *dst, const struct mac *src, unsigned type)
{
	eth_addrs(p, dst, src);
	put16(p, type);
}

static void tag(struct pkt *p, unsigned tpid, unsigned pcp, unsigned vid)
{
	put16(p, tpid);
	put16(p, pcp << 13 | vid);
}

static void mpls(struct pkt *p, unsigned label, unsigned tc, int bottom, unsigned ttl)
{
	put32(p, (uint32_t)label << 12 | tc << 9 | (bottom ? 1u : 0u) << 8 | ttl);
}

static void arp(struct pkt *p, unsigned op, const struct mac *sha, uint32_t spa,
		const struct mac *tha, uint32_t tpa)
{
	put16(p, 1); /* Ethernet */
	put16(p, ET_IPV4);
	put8(p, 6);
	put8(p, 4);
	put16(p, op);
	putn(p, sha->b, 6);
	put32(p, spa);
	putn(p, tha->b, 6);
	put32(p, tpa);
}

/* ---- IPv4 ---- */

struct ip4h {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint16_t id;   /* 0: the next of a counter */
	uint16_t frag; /* flags and fragment offset, as on the wire */
	const uint8_t *opt;
	size_t optlen; /* a multiple of 4, at most 40 */
};

static uint16_t next_ip_id = 0x1c46;

static size_t ip4_begin(struct pkt *p, const struct ip4h *h)
{
	size_t off = p->n;

	if (h->optlen % 4 || h->optlen > 40)
		die("IPv4 options");
	put8(p, 0x40 | (5 + h->optlen / 4));
	put8(p, h->tos);
	put16(p, 0); /* total length: ip4_end */
	put16(p, h->id ? h->id : next_ip_id++);
	put16(p, h->frag);
	put8(p, h->ttl ? h->ttl : 64);
	put8(p, h->proto);
	put16(p, 0);
	put32(p, h->src);
	put32(p, h->dst);
	putn(p, h->opt, h->optlen);
	return off;
}

static void ip4_end(struct pkt *p, size_t off)
{
	size_t hl = (p->b[off] & 0xfu) * 4;

	set16(p, off + 2, (unsigned)(p->n - off));
	set16(p, off + 10, 0);
	set16(p, off + 10, csum_fold(csum_add(0, p->b + off, hl)));
}

/* ---- IPv6 ---- */

static size_t ip6_begin(struct pkt *p, const struct ip6a *src, const struct ip6a *dst, unsigned nh,
			unsigned hlim, unsigned tclass, uint32_t flow)
{
	size_t off = p->n;

	put32(p, 6u << 28 | tclass << 20 | (flow & 0xfffff));
	put16(p, 0); /* payload length: ip6_end */
	put8(p, nh);
	put8(p, hlim ? hlim : 64);
	putn(p, src->b, 16);
	putn(p, dst->b, 16);
	return off;
}

static void ip6_end(struct pkt *p, size_t off)
{
	set16(p, off + 4, (unsigned)(p->n - off - 40));
}

/* hop-by-hop or destination options header of 8 bytes: a router alert (MLD) or a PadN */
static void ext_opts(struct pkt *p, unsigned nh, int router_alert)
{
	put8(p, nh);
	put8(p, 0);
	if (router_alert) {
		put8(p, 5);
		put8(p, 2);
		put16(p, 0);
		put8(p, 1); /* PadN of 2 */
		put8(p, 0);
	} else {
		put8(p, 1); /* PadN of 6 */
		put8(p, 4);
		put32(p, 0);
	}
}

/* type 0 routing header with one address and no segment left (the pseudo-header is unchanged) */
static void ext_routing(struct pkt *p, unsigned nh, const struct ip6a *via)
{
	put8(p, nh);
	put8(p, 2);
	put8(p, 0);
	put8(p, 0);
	put32(p, 0);
	putn(p, via->b, 16);
}

static void ext_frag(struct pkt *p, unsigned nh, unsigned off8, int more, uint32_t id)
{
	put8(p, nh);
	put8(p, 0);
	put16(p, off8 << 3 | (more ? 1u : 0u));
	put32(p, id);
}

/* ---- transport ---- */

struct tcph {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urp;
	const uint8_t *opt;
	size_t optlen; /* a multiple of 4 */
	const void *data;
	size_t dlen; /* data == NULL: dlen bytes of filler */
};

static void tcp_put(struct pkt *p, size_t ip, const struct tcph *t)
{
	size_t l4 = p->n;

	if (t->optlen % 4 || t->optlen > 40)
		die("TCP options");
	put16(p, t->sport);
	put16(p, t->dport);
	put32(p, t->seq);
	put32(p, t->ack);
	put8(p, (unsigned)(5 + t->optlen / 4) << 4);
	put8(p, t->flags);
	put16(p, t->win ? t->win : 64240);
	put16(p, 0);
	put16(p, t->urp);
	putn(p, t->opt, t->optlen);
	if (t->data)
		putn(p, t->data, t->dlen);
	else
		putfill(p, t->dlen);
	l4_csum(p, ip, l4, P_TCP, 16);
}

/* data == NULL: len bytes of filler */
static void udp_put(struct pkt *p, size_t ip, unsigned sport, unsigned dport, const void *data,
		    size_t len)
{
	size_t l4 = p->n;

	put16(p, sport);
	put16(p, dport);
	put16(p, (unsigned)(8 + len));
	put16(p, 0);
	if (data)
		putn(p, data, len);
	else
		putfill(p, len);
	l4_csum(p, ip, l4, P_UDP, 6);
}

/* ICMP (proto 1) or ICMPv6 (proto 58): type, code, the 4 bytes after the checksum, data */
static void icmp_put(struct pkt *p, size_t ip, unsigned proto, unsigned type, unsigned code,
		     uint32_t rest, const void *data, size_t len)
{
	size_t l4 = p->n;

	put8(p, type);
	put8(p, code);
	put16(p, 0);
	put32(p, rest);
	if (data)
		putn(p, data, len);
	else
		putfill(p, len);
	l4_csum(p, ip, l4, proto, 2);
}

/* whole IPv4 datagrams */

static void v4_tcp(struct pkt *p, struct ip4h h, const struct tcph *t)
{
	size_t ip;

	h.proto = P_TCP;
	ip = ip4_begin(p, &h);
	tcp_put(p, ip, t);
	ip4_end(p, ip);
}

static void v4_udp(struct pkt *p, struct ip4h h, unsigned sport, unsigned dport, const void *data,
		   size_t len)
{
	size_t ip;

	h.proto = P_UDP;
	ip = ip4_begin(p, &h);
	udp_put(p, ip, sport, dport, data, len);
	ip4_end(p, ip);
}

static void v4_icmp(struct pkt *p, struct ip4h h, unsigned type, unsigned code, uint32_t rest,
		    const void *data, size_t len)
{
	size_t ip;

	h.proto = P_ICMP;
	ip = ip4_begin(p, &h);
	icmp_put(p, ip, P_ICMP, type, code, rest, data, len);
	ip4_end(p, ip);
}

/* whole IPv6 datagrams without extension headers */

static void v6_tcp(struct pkt *p, struct ip6a s, struct ip6a d, unsigned hlim, const struct tcph *t)
{
	size_t ip = ip6_begin(p, &s, &d, P_TCP, hlim, 0, 0);

	tcp_put(p, ip, t);
	ip6_end(p, ip);
}

static void v6_udp(struct pkt *p, struct ip6a s, struct ip6a d, unsigned sport, unsigned dport,
		   const void *data, size_t len)
{
	size_t ip = ip6_begin(p, &s, &d, P_UDP, 0, 0, 0x12345);

	udp_put(p, ip, sport, dport, data, len);
	ip6_end(p, ip);
}

static void v6_icmp(struct pkt *p, struct ip6a s, struct ip6a d, unsigned hlim, unsigned type,
		    unsigned code, uint32_t rest, const void *data, size_t len)
{
	size_t ip = ip6_begin(p, &s, &d, P_ICMP6, hlim, 0, 0);

	icmp_put(p, ip, P_ICMP6, type, code, rest, data, len);
	ip6_end(p, ip);
}

/* ---- application payloads (well-formed, so the dissectors find no fault) ---- */

static void dns_name(struct pkt *p, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");

		put8(p, (unsigned)l);
		putn(p, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	put8(p, 0);
}

/* a DNS message with one question and, if a is non-zero, one A answer */
static void dns_msg(struct pkt *p, unsigned id, unsigned flags, const char *qname, unsigned qtype,
		    uint32_t a)
{
	put16(p, id);
	put16(p, flags);
	put16(p, 1);
	put16(p, a ? 1 : 0);
	put16(p, 0);
	put16(p, 0);
	dns_name(p, qname);
	put16(p, qtype);
	put16(p, 1);
	if (a) {
		put16(p, 0xc00c);
		put16(p, 1);
		put16(p, 1);
		put32(p, 300);
		put16(p, 4);
		put32(p, a);
	}
}

static void dhcp_msg(struct pkt *p, unsigned op, unsigned msgtype, uint32_t xid, uint32_t yiaddr,
		     uint32_t server, const struct mac *chaddr)
{
	put8(p, op);
	put8(p, 1);
	put8(p, 6);
	put8(p, 0);
	put32(p, xid);
	put16(p, 0);
	put16(p, op == 1 ? 0x8000 : 0);
	put32(p, 0);
	put32(p, yiaddr);
	put32(p, 0);
	put32(p, 0);
	putn(p, chaddr->b, 6);
	putz(p, 10 + 64 + 128);
	put32(p, 0x63825363);
	put8(p, 53);
	put8(p, 1);
	put8(p, msgtype);
	if (server) {
		put8(p, 54);
		put8(p, 4);
		put32(p, server);
		put8(p, 1);
		put8(p, 4);
		put32(p, 0xffffff00);
	}
	put8(p, 255);
}

/* an NTPv4 client request (only the transmit timestamp set) or server reply */
static void ntp_msg(struct pkt *p, int server)
{
	uint32_t now = TS_BASE + NTP_EPOCH;

	put8(p, server ? 0x24 : 0x23); /* version 4, mode 4 or 3 */
	put8(p, server ? 2 : 0);       /* stratum */
	put8(p, 6);		       /* poll */
	put8(p, 0xec);		       /* precision */
	put32(p, server ? 0x00000200 : 0);
	put32(p, server ? 0x00000400 : 0);
	put32(p, server ? a4("192.168.1.1") : 0);
	put32(p, server ? now - 60 : 0); /* reference */
	put32(p, 0);
	put32(p, server ? now : 0); /* origin */
	put32(p, 0);
	put32(p, server ? now : 0); /* receive */
	put32(p, server ? 0x10000000 : 0);
	put32(p, now); /* transmit */
	put32(p, 0x20000000);
}

/* a TLS 1.2 record with a minimal ClientHello: tcp[data] = 0x16 */
static void tls_client_hello(struct pkt *p)
{
	put8(p, 0x16);
	put16(p, 0x0301);
	put16(p, 47);
	put8(p, 1);
	put8(p, 0);
	put16(p, 43);
	put16(p, 0x0303);
	putrand(p, 32);
	put8(p, 0);
	put16(p, 2);
	put16(p, 0x1301);
	put8(p, 1);
	put8(p, 0);
	put16(p, 0);
}

static const char HTTP_GET[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n"
			       "User-Agent: netcap-corpus\r\n\r\n";
static const char SSH_BANNER[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
/* a zero payload, so that loads deep into large packets (ip[300], ether[600:4]) can find 0 */
static const uint8_t ZEROS[1500];

/* an HTTP response that is exactly len bytes long, body included */
static void http_response(struct pkt *p, size_t len)
{
	char head[128];
	size_t body;
	int hl;

	/* the Content-Length digits change the header length: find the fixed point */
	for (body = len > 80 ? len - 80 : 0;; body++) {
		hl = snprintf(head, sizeof(head),
			      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu"
			      "\r\n\r\n",
			      body);
		if ((size_t)hl + body >= len)
			break;
	}
	if ((size_t)hl + body != len)
		die("HTTP response length");
	puts_(p, head);
	putfill(p, body);
}

/* ---- output ---- */

static void out_open(struct out *o, const char *dir, const char *name, int dlt)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	o->dlt = dlt;
	o->n = 0;
	o->dead = pcap_open_dead(dlt, SNAPLEN);
	if (!o->dead)
		die("pcap_open_dead");
	o->dump = pcap_dump_open(o->dead, path);
	if (!o->dump) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, pcap_geterr(o->dead));
		exit(1);
	}
}

static void out_close(struct out *o)
{
	if (pcap_dump_flush(o->dump))
		die("pcap_dump_flush");
	pcap_dump_close(o->dump);
	pcap_close(o->dead);
}

/* writes p with only its first caplen bytes captured (0: all of it) */
static void emit(struct out *o, const struct pkt *p, size_t caplen)
{
	struct pcap_pkthdr h;

	if (caplen == 0 || caplen > p->n)
		caplen = p->n;
	if (caplen == 0)
		die("empty packet");
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = TS_BASE + o->n / 1000000; /* 1700000000 s + n µs */
	h.ts.tv_usec = o->n % 1000000;
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)p->n;
	pcap_dump((unsigned char *)o->dump, &h, p->b);
	o->n++;
}

/* wraps an L3 datagram in an Ethernet header with the given addresses, padded to 60 bytes */
static void emit_eth(struct out *o, const struct mac *dst, const struct mac *src,
		     const struct pkt *l3, size_t l3caplen)
{
	struct pkt f = {.n = 0};

	eth(&f, dst, src, l3->b[0] >> 4 == 6 ? ET_IPV6 : ET_IPV4);
	putn(&f, l3->b, l3->n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, l3caplen ? l3caplen + ETH_HLEN : 0);
}

/*
 * Writes an L3 datagram: as is to the raw-IP file, in an Ethernet frame to the Ethernet file
 * (destination MAC from the destination address: broadcast, IPv4 or IPv6 multicast, otherwise
 * unicast addresses in rotation). l3caplen counts from the IP header (0: everything).
 */
static void emit_l3(struct out *o, const struct pkt *l3, size_t l3caplen)
{
	struct mac dst, src;
	unsigned i = o->n;

	if (o->dlt == DLT_RAW) {
		emit(o, l3, l3caplen);
		return;
	}
	src = MACS[i % NMACS];
	dst = MACS[(i + 1 + (i / NMACS) % (NMACS - 1)) % NMACS];
	if (l3->n >= 20 && l3->b[0] >> 4 == 4) {
		uint32_t d = (uint32_t)l3->b[16] << 24 | (uint32_t)l3->b[17] << 16 |
			     (uint32_t)l3->b[18] << 8 | l3->b[19];

		if (d == 0xffffffff || (d & 0xff) == 0xff)
			dst = MAC_BCAST;
		else if (d >> 28 == 0xe)
			dst = mac_mcast4(d);
	} else if (l3->n >= 40 && l3->b[0] >> 4 == 6 && l3->b[24] == 0xff) {
		struct ip6a d;

		memcpy(d.b, l3->b + 24, 16);
		dst = mac_mcast6(&d);
	}
	emit_eth(o, &dst, &src, l3, l3caplen);
}

/* ---- the L3 datagrams both files hold ---- */

static const unsigned TCP_PORTS[] = {22, 80, 443, 999, 1000, 1500, 2000, 2001, 8080};
#define NPORTS (sizeof(TCP_PORTS) / sizeof(TCP_PORTS[0]))
static const uint8_t TCP_FLAGS[] = {
    F_SYN,
    F_SYN | F_ACK,
    F_ACK,
    F_FIN | F_ACK,
    F_RST,
    F_PSH | F_ACK,
    F_URG | F_ACK,
    F_RST | F_ACK,
    0,
    F_FIN | F_PSH | F_URG,
    F_SYN | F_ECE | F_CWR,
    F_FIN | F_PSH | F_ACK,
};
#define NFLAGS (sizeof(TCP_FLAGS) / sizeof(TCP_FLAGS[0]))
static const char *const V4_PAIRS[][2] = {
    {"10.0.0.1", "10.0.0.2"},		{"10.1.2.3", "192.168.1.1"},
    {"192.168.1.100", "93.184.216.34"}, {"192.168.2.7", "10.255.255.254"},
    {"172.16.0.5", "11.0.0.1"},		{"9.255.255.255", "192.168.1.50"},
    {"8.8.8.8", "192.168.1.100"},
};
#define NPAIRS (sizeof(V4_PAIRS) / sizeof(V4_PAIRS[0]))

/* TCP options: MSS, SACK permitted, timestamps, NOP, window scale (20 bytes: data offset 10) */
static const uint8_t TCPOPT_SYN[] = {2,	   4,	 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				     0x12, 0x34, 0,    0,    0, 0, 1, 3,  3, 7};
/* NOP, NOP, timestamps (12 bytes: data offset 8) */
static const uint8_t TCPOPT_TS[] = {1, 1, 8, 10, 0, 0, 0x56, 0x78, 0, 0, 0x12, 0x34};
/* MSS only (data offset 6) */
static const uint8_t TCPOPT_MSS[] = {2, 4, 0x05, 0x78};

/* IPv4 options: record route with two slots, then NOP (12 bytes: IHL 8) */
static const uint8_t IPOPT_RR[] = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1};
/* four NOPs (IHL 6) */
static const uint8_t IPOPT_NOP[] = {1, 1, 1, 1};
/* router alert (IHL 6) */
static const uint8_t IPOPT_RA[] = {148, 4, 0, 0};
/* the longest header: record route with nine slots and an end of list (40 bytes: IHL 15) */
static const uint8_t IPOPT_RR9[40] = {7, 39, 4};

static void tcp_matrix_one(struct out *o, unsigned i, unsigned port, unsigned flags, int reverse,
			   unsigned ttl, unsigned tos)
{
	struct pkt p = {.n = 0};
	const char *const *pair = V4_PAIRS[i % NPAIRS];
	unsigned eph = 40000 + i * 37;
	struct tcph t = {
	    .sport = (uint16_t)(reverse ? port : eph),
	    .dport = (uint16_t)(reverse ? eph : port),
	    .seq = 0x10000000u + i * 0x01010101u,
	    .ack = flags & F_ACK ? 0x20000000u + i : 0,
	    .flags = (uint8_t)flags,
	    .urp = flags & F_URG ? 8 : 0,
	};

	if (flags & F_SYN) {
		t.opt = i % 2 ? TCPOPT_SYN : TCPOPT_MSS;
		t.optlen = i % 2 ? sizeof(TCPOPT_SYN) : sizeof(TCPOPT_MSS);
	} else if (i % 3 == 0) {
		t.opt = TCPOPT_TS;
		t.optlen = sizeof(TCPOPT_TS);
	}
	/* data only on ports no dissector reads as a header */
	if ((flags & F_PSH || flags & F_URG) && port != 80 && port != 443 && port != 8080 &&
	    port != 22 && port != 2000)
		t.dlen = 10 + i * 7 % 60;
	v4_tcp(&p,
	       (struct ip4h){.src = a4(pair[reverse]),
			     .dst = a4(pair[!reverse]),
			     .ttl = (uint8_t)ttl,
			     .tos = (uint8_t)tos,
			     .frag = i % 2 ? IP_DF : 0},
	       &t);
	emit_l3(o, &p, 0);
}

static void common_tcp(struct out *o)
{
	struct pkt p;

	/* one of each port and flag combination of interest, client to server */
	for (unsigned i = 0; i < NPORTS; i++)
		tcp_matrix_one(o, i, TCP_PORTS[i], TCP_FLAGS[i], 0, 64, 0);

	/* payloads filters look into */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("93.184.216.34"), .frag = IP_DF},
	       &(struct tcph){.sport = 51000,
			      .dport = 80,
			      .seq = 1001,
			      .ack = 5001,
			      .flags = F_PSH | F_ACK,
			      .opt = TCPOPT_TS,
			      .optlen = sizeof(TCPOPT_TS),
			      .data = HTTP_GET,
			      .dlen = sizeof(HTTP_GET) - 1});
	emit_l3(o, &p, 0);

	{
		struct pkt d = {.n = 0};

		http_response(&d, 120);
		p.n = 0;
		v4_tcp(&p,
		       (struct ip4h){.src = a4("93.184.216.34"),
				     .dst = a4("10.0.0.1"),
				     .ttl = 52,
				     .frag = IP_DF},
		       &(struct tcph){.sport = 80,
				      .dport = 51000,
				      .seq = 5001,
				      .ack = 1001 + sizeof(HTTP_GET) - 1,
				      .flags = F_PSH | F_ACK,
				      .data = d.b,
				      .dlen = d.n});
		emit_l3(o, &p, 0);

		d.n = 0;
		tls_client_hello(&d);
		p.n = 0;
		v4_tcp(
		    &p,
		    (struct ip4h){.src = a4("192.168.1.100"), .dst = a4("10.0.0.1"), .tos = 0x10},
		    &(struct tcph){.sport = 52000,
				   .dport = 443,
				   .seq = 777,
				   .ack = 888,
				   .flags = F_PSH | F_ACK,
				   .data = d.b,
				   .dlen = d.n});
		emit_l3(o, &p, 0);
	}

	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.1.2.3"), .dst = a4("10.0.0.1"), .ttl = 63},
	       &(struct tcph){.sport = 22,
			      .dport = 50022,
			      .seq = 42,
			      .ack = 43,
			      .flags = F_PSH | F_ACK,
			      .data = SSH_BANNER,
			      .dlen = sizeof(SSH_BANNER) - 1});
	emit_l3(o, &p, 0);

	/* SYN with every common option, and its SYN+ACK */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("10.0.0.2"), .frag = IP_DF},
	       &(struct tcph){.sport = 1023,
			      .dport = 80,
			      .seq = 100,
			      .flags = F_SYN,
			      .opt = TCPOPT_SYN,
			      .optlen = sizeof(TCPOPT_SYN)});
	emit_l3(o, &p, 0);
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.0.0.2"), .dst = a4("10.0.0.1"), .frag = IP_DF},
	       &(struct tcph){.sport = 80,
			      .dport = 1023,
			      .seq = 900,
			      .ack = 101,
			      .flags = F_SYN | F_ACK,
			      .opt = TCPOPT_TS,
			      .optlen = sizeof(TCPOPT_TS)});
	emit_l3(o, &p, 0);
}

static void common_ipopts_frags(struct out *o)
{
	struct pkt p, whole;

	p.n = 0;
	v4_tcp(&p,
	       (struct ip4h){.src = a4("10.0.0.1"),
			     .dst = a4("192.168.1.1"),
			     .opt = IPOPT_RR,
			     .optlen = sizeof(IPOPT_RR)},
	       &(struct tcph){.sport = 40100, .dport = 80, .seq = 1, .flags = F_SYN});
	emit_l3(o, &p, 0);

	{
		struct pkt d = {.n = 0};

		dns_msg(&d, 0x4242, 0x0100, "example.com", 1, 0);
		p.n = 0;
		v4_udp(&p,
		       (struct ip4h){.src = a4("192.168.1.100"),
				     .dst = a4("192.168.1.1"),
				     .opt = IPOPT_NOP,
				     .optlen = sizeof(IPOPT_NOP)},
		       40053, 53, d.b, d.n);
		emit_l3(o, &p, 0);
	}

	p.n = 0;
	v4_icmp(&p,
		(struct ip4h){.src = a4("10.9.8.7"),
			      .dst = a4("8.8.8.8"),
			      .opt = IPOPT_RR9,
			      .optlen = sizeof(IPOPT_RR9)},
		8, 0, 0x00070001, NULL, 32);
	emit_l3(o, &p, 0);

	/* IGMPv2 membership report for 224.0.0.251 with a router alert */
	{
		size_t ip, l4;

		p.n = 0;
		ip = ip4_begin(&p, &(struct ip4h){.src = a4("192.168.1.100"),
						  .dst = a4("224.0.0.251"),
						  .proto = P_IGMP,
						  .ttl = 1,
						  .tos = 0xc0,
						  .opt = IPOPT_RA,
						  .optlen = sizeof(IPOPT_RA)});
		l4 = p.n;
		put8(&p, 0x16);
		put8(&p, 0);
		put16(&p, 0);
		put32(&p, a4("224.0.0.251"));
		l4_csum(&p, ip, l4, P_ICMP, 2); /* IGMP: no pseudo-header, like ICMP */
		ip4_end(&p, ip);
		emit_l3(o, &p, 0);
	}

	/* a UDP datagram in three fragments: first (MF), middle (offset, MF), last (offset) */
	{
		struct pkt d = {.n = 0};

		putfill(&d, 500); /* then zeros: the middle and last fragments differ at ip[300] */
		putz(&d, 500);
		whole.n = 0;
		v4_udp(&whole,
		       (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("192.168.1.1"), .id = 0x7a7a},
		       1500, 1500, d.b, d.n);
	}
	for (unsigned f = 0; f < 3; f++) {
		size_t from = 20 + f * 400, to = f == 2 ? whole.n : from + 400, ip;

		p.n = 0;
		ip = ip4_begin(
		    &p, &(struct ip4h){.src = a4("10.0.0.1"),
				       .dst = a4("192.168.1.1"),
				       .proto = P_UDP,
				       .id = 0x7a7a,
				       .frag = (uint16_t)((f < 2 ? IP_MF : 0) | (from - 20) / 8)});
		putn(&p, whole.b + from, to - from);
		ip4_end(&p, ip);
		emit_l3(o, &p, 0);
	}
}

static void common_udp_icmp(struct out *o)
{
	struct pkt p, d;

	d.n = 0;
	dns_msg(&d, 0xbeef, 0x0100, "www.example.org", 1, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("192.168.1.100"), .dst = a4("8.8.8.8")}, 53001, 53, d.b,
	       d.n);
	emit_l3(o, &p, 0);
	d.n = 0;
	dns_msg(&d, 0xbeef, 0x8180, "www.example.org", 1, a4("93.184.216.34"));
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("8.8.8.8"), .dst = a4("192.168.1.100"), .ttl = 118}, 53,
	       53001, d.b, d.n);
	emit_l3(o, &p, 0);

	d.n = 0;
	dhcp_msg(&d, 1, 1, 0x3903f326, 0, 0, MAC_A);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = 0, .dst = a4("255.255.255.255"), .tos = 0x10}, 68, 67, d.b,
	       d.n);
	emit_l3(o, &p, 0);
	d.n = 0;
	dhcp_msg(&d, 2, 2, 0x3903f326, a4("192.168.1.100"), a4("192.168.1.1"), MAC_A);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("192.168.1.1"), .dst = a4("192.168.1.100")}, 67, 68, d.b,
	       d.n);
	emit_l3(o, &p, 0);

	d.n = 0;
	ntp_msg(&d, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.0.0.5"), .dst = a4("10.0.0.1")}, 123, 123, d.b, d.n);
	emit_l3(o, &p, 0);

	d.n = 0;
	dns_msg(&d, 0, 0x0000, "netcap._http._tcp.local", 12, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("192.168.1.100"), .dst = a4("224.0.0.251"), .ttl = 255},
	       5353, 5353, d.b, d.n);
	emit_l3(o, &p, 0);

	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.2.3.4"), .dst = a4("239.255.255.250"), .ttl = 4},
	       1500, 1500, NULL, 40);
	emit_l3(o, &p, 0);

	/* ICMP echo request and reply, and two errors quoting a UDP datagram */
	p.n = 0;
	v4_icmp(&p, (struct ip4h){.src = a4("192.168.1.100"), .dst = a4("10.0.0.1")}, 8, 0,
		0x1234 << 16 | 1, NULL, 56);
	emit_l3(o, &p, 0);
	p.n = 0;
	v4_icmp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("192.168.1.100"), .ttl = 255}, 0,
		0, 0x1234 << 16 | 1, NULL, 56);
	emit_l3(o, &p, 0);
	d.n = 0;
	v4_udp(&d,
	       (struct ip4h){.src = a4("192.168.1.100"), .dst = a4("10.0.0.1"), .ttl = 1, .id = 9},
	       33434, 33434, NULL, 32);
	d.n = 28;
	p.n = 0;
	v4_icmp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("192.168.1.100")}, 3, 3, 0, d.b,
		d.n);
	emit_l3(o, &p, 0);
	p.n = 0;
	v4_icmp(&p, (struct ip4h){.src = a4("172.16.0.1"), .dst = a4("192.168.1.100")}, 11, 0, 0,
		d.b, d.n);
	emit_l3(o, &p, 0);
}

static void common_ip6(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2"), g3 = a6("2001:db8:1::10");
	struct ip6a ll1 = a6("fe80::5054:ff:fe12:3456"), ll2 = a6("fe80::211:22ff:fe33:4455");
	struct ip6a all = a6("ff02::1"), sol = a6("ff02::1:ff33:4455"), mdns = a6("ff02::fb");
	struct ip6a mld = a6("ff02::16"), target = ll2;
	struct pkt p, d;
	size_t ip;

	p.n = 0;
	v6_tcp(&p, g1, g2, 64,
	       &(struct tcph){.sport = 40600,
			      .dport = 80,
			      .seq = 7,
			      .flags = F_SYN,
			      .opt = TCPOPT_SYN,
			      .optlen = sizeof(TCPOPT_SYN)});
	emit_l3(o, &p, 0);
	p.n = 0;
	v6_tcp(&p, g2, g1, 64,
	       &(struct tcph){.sport = 443, .dport = 40601, .seq = 8, .ack = 9, .flags = F_ACK});
	emit_l3(o, &p, 0);

	d.n = 0;
	dns_msg(&d, 0x6666, 0x0100, "example.net", 28, 0);
	p.n = 0;
	v6_udp(&p, g1, g3, 40053, 53, d.b, d.n);
	emit_l3(o, &p, 0);

	/* ICMPv6 echo request and reply, and an echo request to all nodes */
	p.n = 0;
	v6_icmp(&p, g1, g2, 64, 128, 0, 0x00420001, NULL, 56);
	emit_l3(o, &p, 0);
	p.n = 0;
	v6_icmp(&p, g2, g1, 64, 129, 0, 0x00420001, NULL, 56);
	emit_l3(o, &p, 0);
	p.n = 0;
	v6_icmp(&p, ll1, all, 1, 128, 0, 0x00430001, NULL, 16);
	emit_l3(o, &p, 0);

	/* neighbor solicitation (to the solicited-node group) and advertisement */
	d.n = 0;
	putn(&d, target.b, 16);
	put8(&d, 1);
	put8(&d, 1);
	putn(&d, MACS[1].b, 6);
	p.n = 0;
	v6_icmp(&p, ll1, sol, 255, 135, 0, 0, d.b, d.n);
	emit_l3(o, &p, 0);
	d.n = 0;
	putn(&d, target.b, 16);
	put8(&d, 2);
	put8(&d, 1);
	putn(&d, MAC_A->b, 6);
	p.n = 0;
	v6_icmp(&p, ll2, ll1, 255, 136, 0, 0x60000000, d.b, d.n);
	emit_l3(o, &p, 0);

	/* extension headers: hop-by-hop before UDP */
	p.n = 0;
	ip = ip6_begin(&p, &g1, &g2, P_HOPOPT, 64, 0, 0);
	ext_opts(&p, P_UDP, 0);
	udp_put(&p, ip, 41000, 1500, NULL, 24);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* routing header before TCP */
	p.n = 0;
	ip = ip6_begin(&p, &g1, &g2, P_ROUTE, 64, 0, 0);
	ext_routing(&p, P_TCP, &g3);
	tcp_put(&p, ip, &(struct tcph){.sport = 41001, .dport = 80, .seq = 11, .flags = F_SYN});
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* fragment header: first fragment with the TCP header, then a later fragment */
	p.n = 0;
	ip = ip6_begin(&p, &g2, &g1, P_FRAG, 64, 0, 0);
	ext_frag(&p, P_TCP, 0, 1, 0xabcdef01);
	put16(&p, 8080);
	put16(&p, 41002);
	put32(&p, 1);
	put32(&p, 2);
	put8(&p, 0x50);
	put8(&p, F_PSH | F_ACK);
	put16(&p, 500);
	put16(&p, 0x1111); /* the checksum of a whole segment not sent here */
	put16(&p, 0);
	putfill(&p, 44);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);
	p.n = 0;
	ip = ip6_begin(&p, &g2, &g1, P_FRAG, 64, 0, 0);
	ext_frag(&p, P_UDP, 8, 1, 0xabcdef02);
	putfill(&p, 64);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* destination options before ICMPv6 */
	p.n = 0;
	ip = ip6_begin(&p, &g1, &g2, P_DSTOPT, 64, 0, 0);
	ext_opts(&p, P_ICMP6, 0);
	icmp_put(&p, ip, P_ICMP6, 128, 0, 0x00440001, NULL, 8);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* hop-by-hop, destination options and routing chained before TCP port 80 */
	p.n = 0;
	ip = ip6_begin(&p, &g1, &g2, P_HOPOPT, 64, 0, 0);
	ext_opts(&p, P_DSTOPT, 0);
	ext_opts(&p, P_ROUTE, 0);
	ext_routing(&p, P_TCP, &g3);
	tcp_put(&p, ip,
		&(struct tcph){.sport = 41003, .dport = 80, .seq = 12, .flags = F_FIN | F_ACK});
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* MLDv2 report: hop-by-hop router alert before ICMPv6 */
	p.n = 0;
	ip = ip6_begin(&p, &ll1, &mld, P_HOPOPT, 1, 0, 0);
	ext_opts(&p, P_ICMP6, 1);
	d.n = 0;
	put8(&d, 4);
	put8(&d, 0);
	put16(&d, 0);
	putn(&d, mdns.b, 16);
	icmp_put(&p, ip, P_ICMP6, 143, 0, 1, d.b, d.n);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);

	/* mDNS to ff02::fb */
	d.n = 0;
	dns_msg(&d, 0, 0x0000, "netcap.local", 28, 0);
	p.n = 0;
	v6_udp(&p, ll1, mdns, 5353, 5353, d.b, d.n);
	emit_l3(o, &p, 0);

	/* no next header */
	p.n = 0;
	ip = ip6_begin(&p, &ll2, &ll1, P_NONXT, 64, 0, 0);
	ip6_end(&p, ip);
	emit_l3(o, &p, 0);
}

static void common_large_trunc(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2");
	struct pkt p, d;

	/* a full-size TCP segment (IPv4 1500 bytes), an IPv6 datagram of 1280, a truncated one */
	d.n = 0;
	http_response(&d, 1500 - 20 - 32);
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("93.184.216.34"), .dst = a4("10.0.0.1"), .frag = IP_DF},
	       &(struct tcph){.sport = 80,
			      .dport = 51001,
			      .seq = 1,
			      .ack = 1,
			      .flags = F_PSH | F_ACK,
			      .opt = TCPOPT_TS,
			      .optlen = sizeof(TCPOPT_TS),
			      .data = d.b,
			      .dlen = d.n});
	emit_l3(o, &p, 0);
	p.n = 0;
	v6_udp(&p, g1, g2, 1500, 41500, NULL, 1280 - 48);
	emit_l3(o, &p, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.0.0.7"), .dst = a4("192.168.1.7")}, 41501, 1500,
	       NULL, 1400 - 28);
	emit_l3(o, &p, 86);

	/* cut inside the IPv4 header, inside the TCP header, inside IPv6, before the UDP ports */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("10.0.0.2")},
	       &(struct tcph){.sport = 40200, .dport = 80, .seq = 3, .flags = F_SYN});
	emit_l3(o, &p, 10);
	emit_l3(o, &p, 30);
	p.n = 0;
	v6_udp(&p, g2, g1, 41600, 53, NULL, 20);
	emit_l3(o, &p, 30);
	emit_l3(o, &p, 41);
}

static void gen_common(struct out *o)
{
	common_tcp(o);
	common_ipopts_frags(o);
	common_udp_icmp(o);
	common_ip6(o);
	common_large_trunc(o);
}

/* ---- Ethernet only ---- */

static void eth_more_tcp(struct out *o)
{
	static const unsigned ttls[] = {64, 128, 255, 1, 32, 63};
	static const unsigned toss[] = {0, 0x10, 0xb8, 0x02, 0, 0x28};

	/* every port again with other flags, both directions, other TTLs and TOS */
	for (unsigned i = 0; i < 3 * NPORTS; i++)
		tcp_matrix_one(o, NPORTS + i, TCP_PORTS[i % NPORTS],
			       TCP_FLAGS[(i * 5 + 3) % NFLAGS], (int)(i % 2), ttls[i % 6],
			       toss[i % 6]);

	/* IPv6 TCP over several ports, link-local and global */
	for (unsigned i = 0; i < 6; i++) {
		struct pkt p = {.n = 0};
		struct ip6a s = a6(i % 2 ? "fe80::5054:ff:fe12:3456" : "2001:db8::1");
		struct ip6a d = a6(i % 2 ? "fe80::211:22ff:fe33:4455" : "2001:db8:1::10");

		v6_tcp(&p, s, d, i % 3 ? 64 : 255,
		       &(struct tcph){.sport = (uint16_t)(42000 + i),
				      .dport = (uint16_t)TCP_PORTS[(i * 2) % NPORTS],
				      .seq = i,
				      .ack = i ? 1000 + i : 0,
				      .flags = TCP_FLAGS[(i * 7 + 1) % NFLAGS],
				      .opt = i % 2 ? TCPOPT_TS : NULL,
				      .optlen = i % 2 ? sizeof(TCPOPT_TS) : 0});
		emit_l3(o, &p, 0);
	}
}

static void eth_arp_llc(struct out *o)
{
	struct pkt f;

	/* request (broadcast), reply (unicast), gratuitous, RARP request */
	f.n = 0;
	eth(&f, &MAC_BCAST, MAC_A, ET_ARP);
	arp(&f, 1, MAC_A, a4("192.168.1.100"), &MAC_ZERO, a4("192.168.1.1"));
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
	f.n = 0;
	eth(&f, MAC_A, MAC_B, ET_ARP);
	arp(&f, 2, MAC_B, a4("192.168.1.1"), MAC_A, a4("192.168.1.100"));
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
	f.n = 0;
	eth(&f, &MAC_BCAST, MAC_C, ET_ARP);
	arp(&f, 1, MAC_C, a4("10.0.0.9"), &MAC_ZERO, a4("10.0.0.9"));
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
	f.n = 0;
	eth(&f, &MAC_BCAST, MAC_D, ET_RARP);
	arp(&f, 3, MAC_D, 0, MAC_D, 0);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
	/* an ARP reply as the sender sees it: 42 bytes, no padding */
	f.n = 0;
	eth(&f, MAC_C, MAC_A, ET_ARP);
	arp(&f, 2, MAC_A, a4("10.0.0.1"), MAC_C, a4("10.0.0.9"));
	emit(o, &f, 0);

	/* 802.3 with LLC: spanning tree BPDU, and an LLC XID */
	f.n = 0;
	eth_addrs(&f, &MAC_STP, MAC_B);
	put16(&f, 38);
	put8(&f, 0x42);
	put8(&f, 0x42);
	put8(&f, 0x03);
	put16(&f, 0); /* STP */
	put8(&f, 0);
	put8(&f, 0);
	put8(&f, 0);
	put16(&f, 0x8000);
	putn(&f, MAC_B->b, 6);
	put32(&f, 0);
	put16(&f, 0x8000);
	putn(&f, MAC_B->b, 6);
	put16(&f, 0x8001);
	put16(&f, 0);
	put16(&f, 20 << 8);
	put16(&f, 2 << 8);
	put16(&f, 15 << 8);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
	f.n = 0;
	eth_addrs(&f, &MAC_BCAST, MAC_A);
	put16(&f, 6);
	put8(&f, 0);
	put8(&f, 0);
	put8(&f, 0xaf); /* XID */
	put8(&f, 0x81);
	put8(&f, 0x01);
	put8(&f, 0x00);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
}

static void eth_vlan(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2");
	struct pkt f, p, d;

	/* VLAN 10: IPv4 TCP port 80 (SYN, SYN+ACK, GET), ARP */
	for (unsigned i = 0; i < 3; i++) {
		p.n = 0;
		v4_tcp(&p,
		       (struct ip4h){.src = a4(i == 1 ? "10.10.0.80" : "10.10.0.5"),
				     .dst = a4(i == 1 ? "10.10.0.5" : "10.10.0.80")},
		       &(struct tcph){.sport = (uint16_t)(i == 1 ? 80 : 43000),
				      .dport = (uint16_t)(i == 1 ? 43000 : 80),
				      .seq = i == 1 ? 900 : 50 + (i ? 1 : 0),
				      .ack = i == 1 ? 51
					     : i    ? 901
						    : 0,
				      .flags = (uint8_t)(i == 0	  ? F_SYN
							 : i == 1 ? F_SYN | F_ACK
								  : F_PSH | F_ACK),
				      .data = i == 2 ? HTTP_GET : NULL,
				      .dlen = i == 2 ? sizeof(HTTP_GET) - 1 : 0});
		f.n = 0;
		eth_addrs(&f, i == 1 ? MAC_C : MAC_A, i == 1 ? MAC_A : MAC_C);
		tag(&f, ET_VLAN, i, 10);
		put16(&f, ET_IPV4);
		putn(&f, p.b, p.n);
		pad_to(&f, ETH_MIN);
		emit(o, &f, 0);
	}
	f.n = 0;
	eth_addrs(&f, &MAC_BCAST, MAC_B);
	tag(&f, ET_VLAN, 0, 10);
	put16(&f, ET_ARP);
	arp(&f, 1, MAC_B, a4("10.10.0.1"), &MAC_ZERO, a4("10.10.0.80"));
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);

	/* VLAN 100: IPv6 UDP (DNS, filler), IPv6 TCP 80, IPv4 UDP */
	d.n = 0;
	dns_msg(&d, 0x1010, 0x0100, "vlan.example", 28, 0);
	p.n = 0;
	v6_udp(&p, g1, g2, 44053, 53, d.b, d.n);
	f.n = 0;
	eth_addrs(&f, MAC_D, MAC_A);
	tag(&f, ET_VLAN, 5, 100);
	put16(&f, ET_IPV6);
	putn(&f, p.b, p.n);
	emit(o, &f, 0);
	p.n = 0;
	v6_udp(&p, g2, g1, 1500, 44054, NULL, 100);
	f.n = 0;
	eth_addrs(&f, MAC_A, MAC_D);
	tag(&f, ET_VLAN, 0, 100);
	put16(&f, ET_IPV6);
	putn(&f, p.b, p.n);
	emit(o, &f, 0);
	p.n = 0;
	v6_tcp(&p, g1, g2, 64, &(struct tcph){.sport = 44080, .dport = 80, .flags = F_SYN});
	f.n = 0;
	eth_addrs(&f, MAC_D, MAC_B);
	tag(&f, ET_VLAN, 0, 100);
	put16(&f, ET_IPV6);
	putn(&f, p.b, p.n);
	emit(o, &f, 0);
	d.n = 0;
	ntp_msg(&d, 1);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.100.0.1"), .dst = a4("10.100.0.2")}, 123, 123, d.b,
	       d.n);
	f.n = 0;
	eth_addrs(&f, MAC_B, MAC_C);
	tag(&f, ET_VLAN, 0, 100);
	put16(&f, ET_IPV4);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);

	/* QinQ: 802.1ad VLAN 200 outside, 802.1Q VLAN 10 (or 20) inside, IPv4 TCP 80 or 443 */
	for (unsigned i = 0; i < 4; i++) {
		unsigned port = i == 3 ? 443 : 80;

		p.n = 0;
		v4_tcp(&p, (struct ip4h){.src = a4("10.20.0.1"), .dst = a4("10.20.0.2")},
		       &(struct tcph){.sport = (uint16_t)(i == 1 ? port : 45000 + i),
				      .dport = (uint16_t)(i == 1 ? 45000 + i : port),
				      .seq = i,
				      .ack = i ? 5 : 0,
				      .flags = TCP_FLAGS[i]});
		f.n = 0;
		eth_addrs(&f, MAC_B, MAC_A);
		tag(&f, i == 2 ? ET_VLAN : ET_QINQ, 0, 200); /* i == 2: old-style 0x8100 twice */
		tag(&f, ET_VLAN, 0, i == 3 ? 20 : 10);
		put16(&f, ET_IPV4);
		putn(&f, p.b, p.n);
		pad_to(&f, ETH_MIN);
		emit(o, &f, 0);
	}
}

static void eth_mpls(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2");
	struct pkt f, p, d;

	/* one label: IPv4 TCP 80 */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.30.0.1"), .dst = a4("10.30.0.2")},
	       &(struct tcph){.sport = 46000, .dport = 80, .flags = F_SYN});
	f.n = 0;
	eth(&f, MAC_C, MAC_D, ET_MPLS);
	mpls(&f, 100, 0, 1, 64);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);

	/* two labels: IPv4 UDP 53 */
	d.n = 0;
	dns_msg(&d, 0x5353, 0x0100, "mpls.example", 1, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.30.0.1"), .dst = a4("8.8.4.4")}, 46053, 53, d.b,
	       d.n);
	f.n = 0;
	eth(&f, MAC_C, MAC_D, ET_MPLS);
	mpls(&f, 200, 0, 0, 64);
	mpls(&f, 300, 5, 1, 64);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);

	/* two labels, label 100 inside: IPv4 ICMP echo */
	p.n = 0;
	v4_icmp(&p, (struct ip4h){.src = a4("10.30.0.3"), .dst = a4("192.168.1.1")}, 8, 0,
		0x77 << 16 | 3, NULL, 24);
	f.n = 0;
	eth(&f, MAC_D, MAC_C, ET_MPLS);
	mpls(&f, 16, 0, 0, 255);
	mpls(&f, 100, 0, 1, 255);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);

	/* one label: IPv6 UDP */
	p.n = 0;
	v6_udp(&p, g1, g2, 46100, 1500, NULL, 12);
	f.n = 0;
	eth(&f, MAC_D, MAC_C, ET_MPLS);
	mpls(&f, 1000, 0, 1, 64);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 0);
}

/* an inner Ethernet frame with IPv4 TCP port 80 (for VXLAN and Geneve) */
static void inner_frame(struct pkt *f, unsigned sport, unsigned i)
{
	struct pkt p = {.n = 0};

	v4_tcp(&p, (struct ip4h){.src = a4("10.200.0.1"), .dst = a4("10.200.0.2")},
	       &(struct tcph){.sport = (uint16_t)sport,
			      .dport = 80,
			      .seq = 100 + i,
			      .ack = i ? 200 : 0,
			      .flags = (uint8_t)(i ? F_PSH | F_ACK : F_SYN),
			      .data = i ? HTTP_GET : NULL,
			      .dlen = i ? sizeof(HTTP_GET) - 1 : 0});
	eth(f, MAC_B, MAC_A, ET_IPV4);
	putn(f, p.b, p.n);
}

static void eth_tunnels(struct out *o)
{
	struct pkt f, p, d;

	/* VXLAN (flags I, VNI 42 / 4096) */
	for (unsigned i = 0; i < 2; i++) {
		d.n = 0;
		put8(&d, 0x08);
		putz(&d, 3);
		put32(&d, (i ? 4096u : 42u) << 8);
		inner_frame(&d, 47000, i);
		p.n = 0;
		v4_udp(&p, (struct ip4h){.src = a4("192.168.1.10"), .dst = a4("172.16.0.5")},
		       49152 + i, 4789, d.b, d.n);
		f.n = 0;
		eth(&f, MAC_D, MAC_C, ET_IPV4);
		putn(&f, p.b, p.n);
		emit(o, &f, 0);
	}
	/* Geneve: without options, then with one 4-byte option */
	for (unsigned i = 0; i < 2; i++) {
		d.n = 0;
		put8(&d, i ? 2 : 0); /* version 0, option length in 4-byte words */
		put8(&d, 0);
		put16(&d, ET_TEB);
		put32(&d, (i ? 7u : 99u) << 8);
		if (i) {
			put16(&d, 0x0103);
			put8(&d, 0x80);
			put8(&d, 1);
			put32(&d, 0xdeadbeef);
		}
		inner_frame(&d, 48000 + i, i);
		p.n = 0;
		v4_udp(&p, (struct ip4h){.src = a4("10.50.0.1"), .dst = a4("10.50.0.2")}, 50000 + i,
		       6081, d.b, d.n);
		f.n = 0;
		eth(&f, MAC_C, MAC_A, ET_IPV4);
		putn(&f, p.b, p.n);
		emit(o, &f, 0);
	}
}

static void eth_large(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2");
	/* wire length of the frame, and bytes captured (0: all) */
	static const struct {
		unsigned len, cap;
	} v4[] = {{1514, 0},  {1000, 0},   {999, 0},	{1001, 0},
		  {1200, 64}, {1514, 100}, {1400, 128}, {1514, 300}};
	struct pkt f, p, d;

	for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		unsigned ip_len = v4[i].len - ETH_HLEN;

		p.n = 0;
		if (i % 2) {
			v4_udp(&p,
			       (struct ip4h){.src = a4(i % 4 == 1 ? "10.0.0.1" : "192.168.1.20"),
					     .dst = a4("172.16.0.9")},
			       41700 + i, 1500, i % 4 == 1 ? ZEROS : NULL, ip_len - 28);
		} else {
			d.n = 0;
			http_response(&d, ip_len - 40);
			v4_tcp(&p,
			       (struct ip4h){.src = a4(i % 4 == 0 ? "10.0.0.2" : "93.184.216.34"),
					     .dst = a4("192.168.1.100"),
					     .frag = IP_DF},
			       &(struct tcph){.sport = 80,
					      .dport = 41700 + i,
					      .seq = 1 + i,
					      .ack = 1,
					      .flags = F_ACK | F_PSH,
					      .data = d.b,
					      .dlen = d.n});
		}
		emit_eth(o, MAC_A, MAC_B, &p, v4[i].cap ? v4[i].cap - ETH_HLEN : 0);
	}
	/* IPv6: a full 1514 and one cut at 128 */
	p.n = 0;
	v6_udp(&p, g1, g2, 41800, 1500, NULL, 1500 - 48);
	emit_eth(o, MAC_C, MAC_D, &p, 0);
	emit_eth(o, MAC_D, MAC_C, &p, 128 - ETH_HLEN);
	/* VLAN: 1518 bytes cut at 64 */
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.10.0.5"), .dst = a4("10.10.0.80")}, 41801, 1500,
	       NULL, 1500 - 28);
	f.n = 0;
	eth_addrs(&f, MAC_B, MAC_A);
	tag(&f, ET_VLAN, 0, 10);
	put16(&f, ET_IPV4);
	putn(&f, p.b, p.n);
	emit(o, &f, 64);
}

static void eth_trunc_small(struct out *o)
{
	struct ip6a g1 = a6("2001:db8::1"), g2 = a6("2001:db8::2");
	static const unsigned v4cuts[] = {1, 10, 14, 20, 30, 34, 40, 47, 48};
	struct pkt f, p;

	/* IPv4 TCP port 80 (IHL 5) cut at every boundary of interest */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("192.168.1.1")},
	       &(struct tcph){.sport = 1999,
			      .dport = 80,
			      .seq = 5,
			      .flags = F_SYN,
			      .opt = TCPOPT_SYN,
			      .optlen = sizeof(TCPOPT_SYN)});
	for (unsigned i = 0; i < sizeof(v4cuts) / sizeof(v4cuts[0]); i++) {
		f.n = 0;
		eth(&f, i % 2 ? MAC_A : MAC_B, i % 2 ? MAC_C : MAC_A, ET_IPV4);
		putn(&f, p.b, p.n);
		emit(o, &f, v4cuts[i]);
	}
	/* IPv4 with options cut inside the options, and after them inside TCP */
	p.n = 0;
	v4_tcp(&p,
	       (struct ip4h){.src = a4("10.0.0.3"),
			     .dst = a4("10.0.0.4"),
			     .opt = IPOPT_RR,
			     .optlen = sizeof(IPOPT_RR)},
	       &(struct tcph){.sport = 22, .dport = 1000, .flags = F_RST | F_ACK});
	emit_eth(o, MAC_C, MAC_D, &p, 28);
	emit_eth(o, MAC_D, MAC_C, &p, 38);
	/* IPv6 with a hop-by-hop header cut in the IPv6 header, at its end, inside the extension */
	{
		size_t ip;

		p.n = 0;
		ip = ip6_begin(&p, &g1, &g2, P_HOPOPT, 64, 0, 0);
		ext_opts(&p, P_TCP, 0);
		tcp_put(&p, ip, &(struct tcph){.sport = 48000, .dport = 80, .flags = F_SYN});
		ip6_end(&p, ip);
		emit_eth(o, MAC_A, MAC_D, &p, 16);
		emit_eth(o, MAC_A, MAC_D, &p, 40);
		emit_eth(o, MAC_A, MAC_D, &p, 44);
		emit_eth(o, MAC_A, MAC_D, &p, 50);
	}
	/* 802.1Q cut inside the tag and inside the inner type */
	p.n = 0;
	v4_tcp(&p, (struct ip4h){.src = a4("10.10.0.5"), .dst = a4("10.10.0.80")},
	       &(struct tcph){.sport = 48001, .dport = 80, .flags = F_SYN});
	f.n = 0;
	eth_addrs(&f, MAC_B, MAC_A);
	tag(&f, ET_VLAN, 0, 10);
	put16(&f, ET_IPV4);
	putn(&f, p.b, p.n);
	pad_to(&f, ETH_MIN);
	emit(o, &f, 15);
	emit(o, &f, 17);
	emit(o, &f, 30);

	/* exactly 100 and 101 bytes */
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("10.0.0.2")}, 1000, 2000, NULL,
	       100 - 42);
	emit_eth(o, MAC_A, MAC_B, &p, 0);
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.0.0.2"), .dst = a4("10.0.0.1")}, 2000, 1000, NULL,
	       101 - 42);
	emit_eth(o, MAC_B, MAC_A, &p, 0);

	/* runts: Ethernet header only, 20 bytes, an IPv4 header without its TCP, 6 bytes */
	f.n = 0;
	eth(&f, MAC_A, MAC_B, ET_IPV4);
	emit(o, &f, 0);
	f.n = 0;
	eth(&f, MAC_B, MAC_A, ET_IPV4);
	put16(&f, 0x4500);
	put16(&f, 0x0014);
	putz(&f, 2);
	emit(o, &f, 0);
	{
		size_t ip;

		p.n = 0;
		ip = ip4_begin(
		    &p,
		    &(struct ip4h){.src = a4("10.0.0.1"), .dst = a4("10.0.0.2"), .proto = P_TCP});
		ip4_end(&p, ip);
		f.n = 0;
		eth(&f, MAC_C, MAC_A, ET_IPV4);
		putn(&f, p.b, p.n);
		emit(o, &f, 0);
	}
	f.n = 0;
	putn(&f, MAC_A->b, 6);
	emit(o, &f, 0);
	/* an IPv4 header claiming more bytes than the frame has */
	p.n = 0;
	v4_udp(&p, (struct ip4h){.src = a4("10.0.0.1"), .dst = a4("10.0.0.2")}, 1000, 1500, NULL,
	       10);
	set16(&p, 2, 576);
	set16(&p, 10, 0);
	set16(&p, 10, csum_fold(csum_add(0, p.b, 20)));
	emit_eth(o, MAC_B, MAC_C, &p, 0);
}

static void gen_garbage(struct out *o, int eth_file)
{
	static const unsigned lens[] = {1, 7, 13, 33, 60, 64, 150, 600, 1514};
	struct pkt f;

	if (!eth_file) {
		/* random bytes; then random bytes made to look like IPv4 and IPv6 */
		for (unsigned i = 0; i < 3; i++) {
			f.n = 0;
			putrand(&f, 20 + 50 * i);
			if (i == 1)
				f.b[0] = (uint8_t)(0x40 | (f.b[0] & 0x0f));
			if (i == 2)
				f.b[0] = (uint8_t)(0x60 | (f.b[0] & 0x0f));
			emit(o, &f, 0);
		}
		return;
	}
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		f.n = 0;
		putrand(&f, lens[i]);
		emit(o, &f, 0);
	}
	/* random after a real Ethernet header: IPv4 with random IHL, IPv6, 802.1Q, MPLS */
	for (unsigned i = 0; i < 6; i++) {
		static const unsigned types[] = {ET_IPV4, ET_IPV4, ET_IPV4,
						 ET_IPV6, ET_VLAN, ET_MPLS};

		f.n = 0;
		eth(&f, &MACS[i % NMACS], &MACS[(i + 2) % NMACS], types[i]);
		putrand(&f, 46 + 40 * i);
		if (types[i] == ET_IPV4)
			f.b[ETH_HLEN] = (uint8_t)(0x40 | (f.b[ETH_HLEN] & 0x0f));
		if (types[i] == ET_IPV6)
			f.b[ETH_HLEN] = (uint8_t)(0x60 | (f.b[ETH_HLEN] & 0x0f));
		emit(o, &f, 0);
	}
}

/* ---- raw IP only ---- */

static void raw_more(struct out *o)
{
	struct pkt p;

	/* two more cuts: one byte, and inside the TCP header after IP options */
	p.n = 0;
	v4_tcp(&p,
	       (struct ip4h){.src = a4("10.0.0.3"),
			     .dst = a4("10.0.0.4"),
			     .opt = IPOPT_NOP,
			     .optlen = sizeof(IPOPT_NOP)},
	       &(struct tcph){.sport = 1500, .dport = 22, .flags = F_SYN});
	emit(o, &p, 1);
	emit(o, &p, 37);
}

int main(int argc, char **argv)
{
	struct out o;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus OUTDIR\n");
		return 2;
	}

	out_open(&o, argv[1], "corpus_eth.pcap", DLT_EN10MB);
	next_ip_id = 0x1c46;
	rng_state = 0x2545f4914f6cdd1dull;
	gen_common(&o);
	eth_more_tcp(&o);
	eth_arp_llc(&o);
	eth_vlan(&o);
	eth_mpls(&o);
	eth_tunnels(&o);
	eth_large(&o);
	eth_trunc_small(&o);
	gen_garbage(&o, 1);
	fprintf(stderr, "gen_corpus: corpus_eth.pcap: %u packets\n", o.n);
	out_close(&o);

	out_open(&o, argv[1], "corpus_raw.pcap", DLT_RAW);
	next_ip_id = 0x1c46;
	rng_state = 0x2545f4914f6cdd1dull;
	gen_common(&o);
	raw_more(&o);
	gen_garbage(&o, 0);
	fprintf(stderr, "gen_corpus: corpus_raw.pcap: %u packets\n", o.n);
	out_close(&o);
	return 0;
}
