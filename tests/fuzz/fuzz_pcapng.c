/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the pcapng writer (core/write/pcapng.c), read back by libpcap. The input drives
 * a file: section strings, 1 to 4 interfaces (link type, snap length, name, description,
 * filter), then packets (interface, lengths, timestamp, direction, queue, packet id, drop
 * count, comment, bytes) until it ends; bit 7 of the first byte adds counters to the ISBs. A
 * string is a length byte, a repeat byte and that many bytes repeated, so lengths around the
 * 65535-byte option limit are reachable.
 *
 * The writer must refuse exactly what its header says it refuses (-EINVAL: unknown interface,
 * caplen over wirelen or the snap length, a string over NC_PCAPNG_OPT_MAX), and libpcap must
 * read back every packet it wrote with its lengths, nanosecond timestamp and bytes, exactly when
 * nc_pcapng_libpcap_refuses() says it does (libpcap 1.10 refuses files whose IDBs differ in
 * link type or snap length, and files with more than one raw-IP interface; the IDBs are written
 * at each interface's first packet and, for some of the rest, at the end).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include "fuzz.h"
#include "write/pcapng.h"

#define MAX_IFACES  4
#define MAX_PACKETS 64

/* A string of the input: NULL (length 0), or a malloc'ed string of len × (repeat + 1) bytes */
static char *fuzz_string(struct fuzz_in *in, size_t *total)
{
	size_t len, rep, n;
	const uint8_t *p;
	char *s;

	len = fuzz_u8(in);
	rep = (size_t)fuzz_u8(in) * 4 + 1;
	p = fuzz_bytes(in, len, &len);
	*total = 0;
	if (!len)
		return NULL;
	s = malloc(len * rep + 1);
	if (!s)
		FUZZ_FAIL("out of memory");
	for (size_t r = 0; r < rep; r++)
		memcpy(s + r * len, p, len);
	s[len * rep] = '\0';
	n = strlen(s); /* the writer takes C strings: a NUL of the input ends it */
	*total = n;
	return s;
}

struct written {
	uint32_t iface, caplen, wirelen;
	uint64_t ts_ns;
	const uint8_t *data;
};

static void read_back(int fd, const struct written *w, unsigned nw, const char *refuses)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	unsigned i = 0;
	pcap_t *pc;
	FILE *fp;
	int r;

	if (lseek(fd, 0, SEEK_SET) != 0 || !(fp = fdopen(dup(fd), "rb")))
		FUZZ_FAIL("rewinding the output: %s", strerror(errno));
	pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc)
		FUZZ_FAIL("libpcap cannot open what the writer wrote: %s", errbuf);
	while ((r = pcap_next_ex(pc, &h, &bytes)) == 1) {
		const struct written *e = &w[i];
		uint64_t ts;

		if (i == nw)
			FUZZ_FAIL("libpcap reads more than the %u packets written", nw);
		ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		if (h->caplen != e->caplen || h->len != e->wirelen || ts != e->ts_ns ||
		    memcmp(bytes, e->data, e->caplen))
			FUZZ_FAIL(
			    "packet %u: libpcap reads %u of %u bytes at %llu ns, written were "
			    "%u of %u at %llu",
			    i, h->caplen, h->len, (unsigned long long)ts, e->caplen, e->wirelen,
			    (unsigned long long)e->ts_ns);
		i++;
	}
	if (r == -1 && !refuses)
		FUZZ_FAIL("libpcap fails after %u of %u packets: %s", i, nw, pcap_geterr(pc));
	if (r == -2 && refuses)
		FUZZ_FAIL("libpcap reads the %u packets of a file the writer says it %s", i,
			  refuses);
	if (r == -2 && i != nw)
		FUZZ_FAIL("libpcap reads %u of the %u packets written", i, nw);
	pcap_close(pc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct nc_pcapng_section shb = {.userappl = "netcap fuzz", .os = "fuzz"};
	char *strings[3 + MAX_IFACES * 3 + MAX_PACKETS] = {0};
	unsigned ns = 0, nifaces = fuzz_u8(&in) % MAX_IFACES + 1, nw = 0;
	struct nc_pcapng_iface ifaces[MAX_IFACES];
	struct nc_pcapng_stats stats[MAX_IFACES];
	struct written w[MAX_PACKETS];
	bool too_long = false;
	const char *refuses;
	struct nc_pcapng *pw;
	char err[512], path[64];
	size_t slen;
	int fd, ret;

	shb.comment = strings[ns++] = fuzz_string(&in, &slen);
	too_long |= slen > NC_PCAPNG_OPT_MAX;
	shb.hardware = strings[ns++] = fuzz_string(&in, &slen);
	too_long |= slen > NC_PCAPNG_OPT_MAX;
	fd = fuzz_memfd(NULL, 0, path, sizeof(path));
	if (fd < 0)
		abort();
	ret = nc_pcapng_fdopen(dup(fd), &shb, &pw, err, sizeof(err));
	if (ret == -EINVAL && too_long)
		goto out;
	if (ret)
		FUZZ_FAIL("nc_pcapng_fdopen: %s", err);
	for (unsigned i = 0; i < nifaces; i++) {
		uint8_t kind = fuzz_u8(&in);
		bool long_string = false;
		uint32_t id;

		ifaces[i] = (struct nc_pcapng_iface){
		    .linktype = kind & 1 ? NC_LINKTYPE_RAW : NC_LINKTYPE_ETHERNET,
		    .snaplen = kind & 2 ? fuzz_u16(&in) : 0,
		};
		ifaces[i].name = strings[ns++] = fuzz_string(&in, &slen);
		long_string |= slen > NC_PCAPNG_OPT_MAX;
		ifaces[i].description = strings[ns++] = fuzz_string(&in, &slen);
		long_string |= slen > NC_PCAPNG_OPT_MAX;
		ifaces[i].filter = strings[ns++] = fuzz_string(&in, &slen);
		long_string |= slen > NC_PCAPNG_OPT_MAX;
		ret = nc_pcapng_add_interface(pw, &ifaces[i], &id, err, sizeof(err));
		if (long_string != (ret == -EINVAL) || (ret && ret != -EINVAL))
			FUZZ_FAIL("interface %u: %d (%s) for strings %s the limit", i, ret,
				  ret ? err : "", long_string ? "over" : "within");
		if (ret) {
			nifaces = i;
			break;
		}
		if (id != i)
			FUZZ_FAIL("interface %u got id %u", i, id);
	}
	for (unsigned tries = 0; in.left && tries < MAX_PACKETS; tries++) {
		struct nc_pcapng_packet pkt = {0};
		size_t len;
		bool valid;

		pkt.iface_id = fuzz_u8(&in) % (MAX_IFACES + 1);
		pkt.wirelen = fuzz_u16(&in);
		pkt.ts_ns = (uint64_t)fuzz_u32(&in) << 32;
		pkt.ts_ns |= fuzz_u32(&in);
		pkt.direction = (enum nc_pcapng_direction)(fuzz_u8(&in) % 3);
		pkt.has_queue = pkt.direction & 1;
		pkt.queue = fuzz_u16(&in);
		pkt.has_packetid = pkt.wirelen & 1;
		pkt.packetid = pkt.ts_ns ^ 0x5555;
		pkt.has_dropcount = pkt.wirelen & 2;
		pkt.dropcount = pkt.queue;
		pkt.comment = strings[ns++] = fuzz_string(&in, &slen);
		pkt.data = fuzz_bytes(&in, fuzz_u8(&in), &len);
		pkt.caplen = (uint32_t)len;
		valid =
		    pkt.iface_id < nifaces && pkt.caplen <= pkt.wirelen &&
		    (!ifaces[pkt.iface_id].snaplen || pkt.caplen <= ifaces[pkt.iface_id].snaplen) &&
		    slen <= NC_PCAPNG_OPT_MAX;
		ret = nc_pcapng_packet(pw, &pkt, err, sizeof(err));
		if (valid != !ret || (ret && ret != -EINVAL))
			FUZZ_FAIL("packet %u: %d (%s) for a %s packet", nw, ret, ret ? err : "",
				  valid ? "valid" : "invalid");
		if (!ret)
			w[nw++] = (struct written){pkt.iface_id, pkt.caplen, pkt.wirelen, pkt.ts_ns,
						   pkt.data};
	}
	/* the ISBs, with counters when bit 7 of the first byte is set; bits 4-6 leave out the
	 * times and the drop counts (0 = unknown). libpcap skips ISBs; the sanitizers watch. */
	for (unsigned i = 0; i < nifaces; i++)
		stats[i] = (struct nc_pcapng_stats){
		    .start_ns = data[0] & 0x10 ? 0 : 1764000000000000000u + i,
		    .end_ns = data[0] & 0x20 ? 0 : UINT64_MAX - i,
		    .ifrecv = nw * 3u + i,
		    .ifdrop = data[0] & 0x40 ? 0 : UINT64_MAX,
		    .filteraccept = nw,
		    .osdrop = i,
		};
	if (nc_pcapng_finish(pw, size && data[0] & 0x80 ? stats : NULL, err, sizeof(err)))
		FUZZ_FAIL("nc_pcapng_finish: %s", err);
	refuses = nc_pcapng_libpcap_refuses(pw);
	if (nc_pcapng_close(pw, NULL, err, sizeof(err)))
		FUZZ_FAIL("nc_pcapng_close: %s", err);
	if (nifaces) /* libpcap refuses a file without interfaces */
		read_back(fd, w, nw, refuses);
out:
	close(fd);
	for (unsigned i = 0; i < ns; i++)
		free(strings[i]);
	return 0;
}
