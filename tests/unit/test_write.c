/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The capture-file writers (core/write): what a pcapng or pcap file written by netcap says, as
 * read back by libpcap, tshark and capinfos, and by a block walker written here from the
 * specification; output to files, pipes, FIFOs and stdout; and every error path (unwritable
 * path, full disk at flush and at close, options too long for their 16-bit length).
 *
 * Each test works in its own g_dir_make_tmp() directory, removed by the fixture's teardown and,
 * when an assertion aborts the program, by the SIGABRT handler.
 */
#define _GNU_SOURCE /* pipe2() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "version.h"
#include "write/pcap.h"
#include "write/pcapng.h"

#define TIMEOUT_US (10 * G_USEC_PER_SEC) /* longest wait for a reader thread */

/* ---- temporary directory per test ---- */

struct fixture {
	char *dir;
};

static char *volatile current_dir; /* for on_abort() */

/* Removes dir and the files in it (the tests make no subdirectories). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* A failed assertion aborts in the test's own thread, not inside malloc: cleaning up is safe. */
static void on_abort(int sig)
{
	if (current_dir)
		remove_tree(current_dir);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fx_setup(struct fixture *fx, gconstpointer data)
{
	GError *e = NULL;

	(void)data;
	fx->dir = g_dir_make_tmp("netcap-test-write-XXXXXX", &e);
	g_assert_no_error(e);
	current_dir = fx->dir;
}

static void fx_teardown(struct fixture *fx, gconstpointer data)
{
	(void)data;
	current_dir = NULL;
	remove_tree(fx->dir);
	g_assert_false(g_file_test(fx->dir, G_FILE_TEST_EXISTS));
	g_free(fx->dir);
}

static char *tmp_path(const struct fixture *fx, const char *name)
{
	return g_build_filename(fx->dir, name, NULL);
}

/* ---- the sample capture: two interfaces of different link types ---- */

#define SHB_COMMENT "netcap mbuf -p 123 -w x.pcapng 'tcp port 80'"
#define IF0_NAME    "l2fwd[123]:port0:rx"
#define IF0_DESC    "l2fwd pid 123, port 0 (0000:00:08.0), rx burst i40e_recv_pkts"
#define IF0_FILTER  "tcp port 80"
#define IF1_NAME    "pid1234:ip_rcv"
#define IF1_OS	    "Debian GNU/Linux 12"

/* Ethernet, IPv4, TCP SYN to port 80, padded to 60 bytes */
static const uint8_t eth_syn[60] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* IPv4, UDP, 3 bytes of payload: 31 bytes, so the EPB needs one byte of padding */
static const uint8_t ip_udp[31] = {
    0x45, 0x00, 0x00, 0x1f, 0x00, 0x02, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
    0x0a, 0x00, 0x00, 0x02, 0x00, 0x35, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 'a',  'b',	'c',
};

static uint8_t pattern[1514]; /* filled by main() */

static const struct nc_pcapng_iface sample_ifaces[] = {
    {.linktype = NC_LINKTYPE_ETHERNET,
     .snaplen = 128,
     .name = IF0_NAME,
     .description = IF0_DESC,
     .filter = IF0_FILTER},
    {.linktype = NC_LINKTYPE_RAW, .snaplen = 0, .name = IF1_NAME, .os = IF1_OS},
};

static const struct nc_pcapng_packet sample_pkts[] = {
    {.iface_id = 0,
     .ts_ns = 1700000000123456789ull,
     .caplen = sizeof(eth_syn),
     .wirelen = sizeof(eth_syn),
     .data = eth_syn,
     .direction = NC_PCAPNG_DIR_INBOUND,
     .has_queue = true,
     .queue = 3,
     .has_packetid = true,
     .packetid = 0xffff888012345678ull,
     .has_dropcount = true,
     .dropcount = 0, /* present, and zero */
     .comment = "pid 123 tid 124 cpu 2 i40e_recv_pkts"},
    {.iface_id = 0,
     .ts_ns = 1700000000123456790ull, /* 1 ns later */
     .caplen = 64,
     .wirelen = 1514,
     .data = pattern,
     .direction = NC_PCAPNG_DIR_OUTBOUND,
     .has_queue = true,
     .queue = 0,
     .has_packetid = true,
     .packetid = 2,
     .has_dropcount = true,
     .dropcount = 5},
    {.iface_id = 1,
     .ts_ns = 1700000001000000000ull,
     .caplen = sizeof(ip_udp),
     .wirelen = sizeof(ip_udp),
     .data = ip_udp,
     .comment = "caf\xc3\xa9 \xe2\x98\x95" /* UTF-8, odd length */},
    {.iface_id = 1,
     .ts_ns = 2147483648000000001ull, /* past 2038 in 32-bit seconds */
     .caplen = 20,
     .wirelen = 20,
     .data = ip_udp,
     .direction = NC_PCAPNG_DIR_INBOUND,
     .has_queue = true,
     .queue = 7,
     .comment = "" /* empty: left out */},
};

static const struct nc_pcapng_stats sample_stats[] = {
    {.start_ns = 1700000000000000000ull,
     .end_ns = 1700000002000000000ull,
     .ifrecv = 1000,
     .ifdrop = 7,
     .filteraccept = 2,
     .osdrop = 0},
    {.start_ns = 0, /* unknown: left out */
     .end_ns = 2147483650000000000ull,
     .ifrecv = 2,
     .ifdrop = 0,
     .filteraccept = 2,
     .osdrop = 3,
     .comment = "4 malformed ring records skipped"},
};

/* What `tshark -T fields` prints for the sample, with the fields of tshark_fields_argv(). */
static const char *const sample_tshark_lines[] = {
    IF0_NAME "\t" IF0_DESC "\t0x00000001\t3\t18446612682375452280\t0\t"
	     "pid 123 tid 124 cpu 2 i40e_recv_pkts\t60\t60",
    IF0_NAME "\t" IF0_DESC "\t0x00000002\t0\t2\t5\t\t1514\t64",
    IF1_NAME "\t\t\t\t\t\tcaf\xc3\xa9 \xe2\x98\x95\t31\t31",
    IF1_NAME "\t\t0x00000001\t7\t\t\t\t20\t20",
    NULL,
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Writes the sample through w and closes it; every call must succeed. */
static void write_sample(struct nc_pcapng *w)
{
	char err[256] = "";
	uint32_t id;

	for (uint32_t i = 0; i < N_ELEMS(sample_ifaces); i++) {
		g_assert_cmpint(
		    nc_pcapng_add_interface(w, &sample_ifaces[i], &id, err, sizeof(err)), ==, 0);
		g_assert_cmpuint(id, ==, i);
	}
	g_assert_cmpuint(nc_pcapng_interface_count(w), ==, N_ELEMS(sample_ifaces));
	for (size_t i = 0; i < N_ELEMS(sample_pkts); i++)
		g_assert_cmpint(nc_pcapng_packet(w, &sample_pkts[i], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, sample_stats, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
}

static const struct nc_pcapng_section sample_shb = {.comment = SHB_COMMENT};

static void write_sample_file(const char *path)
{
	struct nc_pcapng *w = NULL;
	char err[256] = "";

	g_assert_cmpint(nc_pcapng_open(path, &sample_shb, &w, err, sizeof(err)), ==, 0);
	g_assert_nonnull(w);
	write_sample(w);
}

static char *kernel_release(void)
{
	struct utsname u;

	g_assert_cmpint(uname(&u), ==, 0);
	return g_strdup(u.release);
}

/* ---- external tools ---- */

static bool have_wireshark_tools(void)
{
	char *tshark = g_find_program_in_path("tshark");
	char *capinfos = g_find_program_in_path("capinfos");
	bool ok = tshark && capinfos;

	if (!ok)
		g_test_skip("tshark or capinfos not installed (apt install tshark)");
	g_free(tshark);
	g_free(capinfos);
	return ok;
}

static char **tool_env(void)
{
	return g_environ_setenv(g_get_environ(), "LC_ALL", "C", TRUE);
}

/* Runs argv (looked up in PATH, no shell) and returns its stdout; asserts exit status 0. */
static char *run_tool(const char *const *argv)
{
	char *out = NULL, *errout = NULL;
	char **env = tool_env();
	GError *e = NULL;
	int status;

	g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
		     &status, &e);
	g_strfreev(env);
	g_assert_no_error(e);
	if (!g_spawn_check_wait_status(status, &e))
		g_test_message("%s failed; its stderr:\n%s", argv[0], errout);
	g_assert_no_error(e);
	g_free(errout);
	return out;
}

#define TSHARK_FIELDS                                                                              \
	"-T", "fields", "-e", "frame.interface_name", "-e", "frame.interface_description", "-e",   \
	    "frame.packet_flags_direction", "-e", "frame.interface_queue", "-e",                   \
	    "frame.packet_id", "-e", "frame.drop_count", "-e", "frame.comment", "-e", "frame.len", \
	    "-e", "frame.cap_len"

/* Compares text, split at newlines, with expected (NULL-terminated), line for line. */
static void assert_lines(const char *text, const char *const *expected)
{
	char **lines = g_strsplit(text, "\n", -1);
	guint n = g_strv_length(lines);
	guint i;

	/* text ends with a newline: the last piece is empty */
	g_assert_cmpuint(n, >=, 1);
	g_assert_cmpstr(lines[n - 1], ==, "");
	for (i = 0; expected[i]; i++) {
		g_assert_cmpuint(i, <, n - 1);
		g_assert_cmpstr(lines[i], ==, expected[i]);
	}
	g_assert_cmpuint(i, ==, n - 1);
	g_strfreev(lines);
}

/* ---- a block walker, written from the specification, for what no tool shows ---- */

struct block {
	uint32_t type;
	const uint8_t *body; /* after type and length, before the trailing length */
	size_t len;
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Splits a pcapng file into blocks, asserting each block's framing. */
static GArray *walk_blocks(const uint8_t *buf, size_t len)
{
	GArray *blocks = g_array_new(FALSE, FALSE, sizeof(struct block));
	size_t off = 0;

	while (off < len) {
		struct block b;
		uint32_t total;

		g_assert_cmpuint(len - off, >=, 12);
		b.type = rd32(buf + off);
		total = rd32(buf + off + 4);
		g_assert_cmpuint(total % 4, ==, 0);
		g_assert_cmpuint(total, >=, 12);
		g_assert_cmpuint(total, <=, len - off);
		g_assert_cmpuint(rd32(buf + off + total - 4), ==, total);
		b.body = buf + off + 8;
		b.len = total - 12;
		g_array_append_val(blocks, b);
		off += total;
	}
	return blocks;
}

struct option {
	uint16_t code;
	uint16_t len;
	const uint8_t *val;
};

/* Splits an option list that must fill [p, p + len) exactly and end with opt_endofopt. */
static GArray *walk_options(const uint8_t *p, size_t len)
{
	GArray *opts = g_array_new(FALSE, FALSE, sizeof(struct option));
	size_t off = 0;

	for (;;) {
		struct option o;

		g_assert_cmpuint(len - off, >=, 4);
		o.code = rd16(p + off);
		o.len = rd16(p + off + 2);
		off += 4;
		if (o.code == 0) {
			g_assert_cmpuint(o.len, ==, 0);
			break;
		}
		g_assert_cmpuint(len - off, >=, (o.len + 3u) & ~3u);
		o.val = p + off;
		for (unsigned i = o.len; i < ((o.len + 3u) & ~3u); i++)
			g_assert_cmpuint(p[off + i], ==, 0); /* padding is zeros */
		off += (o.len + 3u) & ~3u;
		g_array_append_val(opts, o);
	}
	g_assert_cmpuint(off, ==, len);
	return opts;
}

static void assert_option_u64(const GArray *opts, guint i, uint16_t code, uint64_t v)
{
	const struct option *o = &g_array_index(opts, struct option, i);

	g_assert_cmpuint(o->code, ==, code);
	g_assert_cmpuint(o->len, ==, 8);
	g_assert_cmpuint(rd64(o->val), ==, v);
}

/* isb_starttime/isb_endtime: high 32 bits, then low 32 bits */
static void assert_option_ts(const GArray *opts, guint i, uint16_t code, uint64_t ns)
{
	const struct option *o = &g_array_index(opts, struct option, i);

	g_assert_cmpuint(o->code, ==, code);
	g_assert_cmpuint(o->len, ==, 8);
	g_assert_cmpuint(rd32(o->val), ==, ns >> 32);
	g_assert_cmpuint(rd32(o->val + 4), ==, ns & 0xffffffffu);
}

/* ---- libpcap as the reader ---- */

static void assert_pkt(const struct pcap_pkthdr *h, const u_char *d,
		       const struct nc_pcapng_packet *want)
{
	g_assert_cmpint(h->ts.tv_sec, ==, want->ts_ns / 1000000000u);
	g_assert_cmpint(h->ts.tv_usec, ==, want->ts_ns % 1000000000u);
	g_assert_cmpuint(h->caplen, ==, want->caplen);
	g_assert_cmpuint(h->len, ==, want->wirelen);
	g_assert_cmpmem(d, h->caplen, want->data, want->caplen);
}

/* Reads path with nanosecond precision; asserts its link type and exactly the packets want. */
static void assert_libpcap_reads(const char *path, int dlt, const struct nc_pcapng_packet *want,
				 size_t n)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;
	size_t i;
	int ret;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		g_test_message("libpcap: %s", errbuf);
	g_assert_nonnull(p);
	g_assert_cmpint(pcap_datalink(p), ==, dlt);
	for (i = 0; (ret = pcap_next_ex(p, &h, &d)) == 1; i++) {
		g_assert_cmpuint(i, <, n);
		assert_pkt(h, d, &want[i]);
	}
	if (ret == PCAP_ERROR)
		g_test_message("libpcap: %s", pcap_geterr(p));
	g_assert_cmpint(ret, ==, PCAP_ERROR_BREAK); /* end of file */
	g_assert_cmpuint(i, ==, n);
	pcap_close(p);
}

/* ---- a thread that reads a descriptor or a FIFO to its end ---- */

struct slurp {
	int fd;		  /* or -1 and path: opened (blocking) by the thread */
	const char *path; /* a FIFO */
	GByteArray *bytes;
};

static gpointer slurp_main(gpointer data)
{
	struct slurp *s = data;
	uint8_t buf[4096];
	ssize_t n;

	if (s->fd < 0)
		s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return NULL;
	while ((n = read(s->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			g_byte_array_append(s->bytes, buf, (guint)n);
	close(s->fd);
	return s;
}

/* ---- pcapng: the sample read back ---- */

static void test_pcapng_tshark_fields(struct fixture *fx, gconstpointer data)
{
	char *path = tmp_path(fx, "sample.pcapng");
	const char *argv[] = {"tshark", "-r", path, TSHARK_FIELDS, NULL};
	char *out;

	(void)data;
	if (!have_wireshark_tools())
		goto out;
	write_sample_file(path);
	out = run_tool(argv);
	assert_lines(out, sample_tshark_lines);
	g_free(out);
out:
	g_free(path);
}

static void test_pcapng_capinfos(struct fixture *fx, gconstpointer data)
{
	char *path = tmp_path(fx, "sample.pcapng");
	const char *argv[] = {"capinfos", path, NULL};
	char *rel = kernel_release();
	char *out, **lines;
	guint n, first_iface = 0;

	(void)data;
	if (!have_wireshark_tools())
		goto out;
	write_sample_file(path);
	out = run_tool(argv);

	/* capinfos indents and aligns; compare each line without its leading blanks */
	lines = g_strsplit(out, "\n", -1);
	n = g_strv_length(lines);
	for (guint i = 0; i < n; i++) {
		g_strstrip(lines[i]);
		if (!first_iface && g_str_equal(lines[i], "Interface #0 info:"))
			first_iface = i;
	}
	{
		char *oper = g_strdup_printf("Capture oper-sys:    %s", rel);
		const char *const want_anywhere[] = {
		    "File encapsulation:  Per packet",
		    "File timestamp precision:  nanoseconds (9)",
		    "Number of packets:   4",
		    oper,
		    "Capture application: netcap " NETCAP_VERSION,
		    "Capture comment:     " SHB_COMMENT,
		    "Number of interfaces in file: 2",
		};

		for (size_t i = 0; i < N_ELEMS(want_anywhere); i++)
			if (!g_strv_contains((const char *const *)lines, want_anywhere[i]))
				g_error("capinfos did not print \"%s\":\n%s", want_anywhere[i],
					out);
		g_free(oper);
	}
	{
		char *os0 = g_strdup_printf("Operating system = %s", rel);
		/* from "Interface #0 info:" to the end, every line */
		const char *const want_ifaces[] = {
		    "Interface #0 info:",
		    "Name = " IF0_NAME,
		    "Description = " IF0_DESC,
		    "Encapsulation = Ethernet (1 - ether)",
		    "Capture length = 128",
		    "Time precision = nanoseconds (9)",
		    "Time ticks per second = 1000000000",
		    "Time resolution = 0x09",
		    "Filter string = " IF0_FILTER,
		    os0,
		    "Number of stat entries = 1",
		    "Number of packets = 2",
		    "Interface #1 info:",
		    "Name = " IF1_NAME,
		    "Encapsulation = Raw IP (7 - rawip)",
		    "Capture length = 0",
		    "Time precision = nanoseconds (9)",
		    "Time ticks per second = 1000000000",
		    "Time resolution = 0x09",
		    "Operating system = " IF1_OS,
		    "Number of stat entries = 1",
		    "Number of packets = 2",
		    "",
		};

		g_assert_cmpuint(first_iface, >, 0);
		g_assert_cmpuint(n - first_iface, ==, N_ELEMS(want_ifaces));
		for (size_t i = 0; i < N_ELEMS(want_ifaces); i++)
			g_assert_cmpstr(lines[first_iface + i], ==, want_ifaces[i]);
		g_free(os0);
	}
	g_strfreev(lines);
	g_free(out);
out:
	g_free(rel);
	g_free(path);
}

static void test_pcapng_block_layout(struct fixture *fx, gconstpointer data)
{
	/* each IDB right before its interface's first packet */
	static const uint32_t want_types[] = {0x0A0D0D0A, 1, 6, 6, 1, 6, 6, 5, 5};
	char *path = tmp_path(fx, "sample.pcapng");
	char *rel = kernel_release();
	GError *e = NULL;
	GArray *blocks, *opts;
	const struct block *b;
	gchar *buf;
	gsize len;

	(void)data;
	write_sample_file(path);
	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	g_assert_cmpuint(blocks->len, ==, N_ELEMS(want_types));
	for (guint i = 0; i < blocks->len; i++)
		g_assert_cmphex(g_array_index(blocks, struct block, i).type, ==, want_types[i]);

	/* SHB: native byte order, version 1.0, unknown section length; then its options */
	b = &g_array_index(blocks, struct block, 0);
	g_assert_cmphex(rd32(b->body), ==, 0x1A2B3C4D);
	g_assert_cmpuint(rd16(b->body + 4), ==, 1);
	g_assert_cmpuint(rd16(b->body + 6), ==, 0);
	g_assert_cmpint((int64_t)rd64(b->body + 8), ==, -1);
	opts = walk_options(b->body + 16, b->len - 16);
	g_assert_cmpuint(opts->len, ==, 3);
	g_assert_cmpuint(g_array_index(opts, struct option, 0).code, ==, 1); /* opt_comment */
	g_assert_cmpmem(g_array_index(opts, struct option, 0).val,
			g_array_index(opts, struct option, 0).len, SHB_COMMENT,
			strlen(SHB_COMMENT));
	g_assert_cmpuint(g_array_index(opts, struct option, 1).code, ==, 3); /* shb_os */
	g_assert_cmpmem(g_array_index(opts, struct option, 1).val,
			g_array_index(opts, struct option, 1).len, rel, strlen(rel));
	g_assert_cmpuint(g_array_index(opts, struct option, 2).code, ==, 4); /* shb_userappl */
	g_assert_cmpmem(g_array_index(opts, struct option, 2).val,
			g_array_index(opts, struct option, 2).len, "netcap " NETCAP_VERSION,
			strlen("netcap " NETCAP_VERSION));
	g_array_free(opts, TRUE);

	/* IDB 0: link type, reserved, 32-bit snap length; if_filter = type byte 0 + string */
	b = &g_array_index(blocks, struct block, 1);
	g_assert_cmpuint(rd16(b->body), ==, 1);
	g_assert_cmpuint(rd16(b->body + 2), ==, 0);
	g_assert_cmpuint(rd32(b->body + 4), ==, 128);
	opts = walk_options(b->body + 8, b->len - 8);
	g_assert_cmpuint(opts->len, ==, 5);
	g_assert_cmpuint(g_array_index(opts, struct option, 0).code, ==, 11);
	g_assert_cmpmem(g_array_index(opts, struct option, 0).val,
			g_array_index(opts, struct option, 0).len, "\0" IF0_FILTER,
			1 + strlen(IF0_FILTER));
	g_assert_cmpuint(g_array_index(opts, struct option, 3).code, ==, 9); /* if_tsresol */
	g_assert_cmpuint(g_array_index(opts, struct option, 3).len, ==, 1);
	g_assert_cmpuint(g_array_index(opts, struct option, 3).val[0], ==, 9);
	g_array_free(opts, TRUE);

	/* IDB 1: raw IP */
	b = &g_array_index(blocks, struct block, 4);
	g_assert_cmpuint(rd16(b->body), ==, 101);
	g_assert_cmpuint(rd32(b->body + 4), ==, 0);

	/* EPB 2: 31 bytes of data padded to 32, then the comment */
	b = &g_array_index(blocks, struct block, 5);
	g_assert_cmpuint(rd32(b->body), ==, 1);
	g_assert_cmpuint(rd32(b->body + 4), ==, sample_pkts[2].ts_ns >> 32);
	g_assert_cmpuint(rd32(b->body + 8), ==, sample_pkts[2].ts_ns & 0xffffffffu);
	g_assert_cmpuint(rd32(b->body + 12), ==, 31);
	g_assert_cmpmem(b->body + 20, 31, ip_udp, 31);
	g_assert_cmpuint(b->body[20 + 31], ==, 0);
	opts = walk_options(b->body + 20 + 32, b->len - 20 - 32);
	g_assert_cmpuint(opts->len, ==, 1);
	g_array_free(opts, TRUE);

	/* one ISB per IDB, after the last EPB, with every counter */
	for (guint i = 0; i < 2; i++) {
		const struct nc_pcapng_stats *s = &sample_stats[i];
		guint k = 0;

		b = &g_array_index(blocks, struct block, 7 + i);
		g_assert_cmpuint(rd32(b->body), ==, i);
		g_assert_cmpuint(rd32(b->body + 4), ==, s->end_ns >> 32);
		g_assert_cmpuint(rd32(b->body + 8), ==, s->end_ns & 0xffffffffu);
		opts = walk_options(b->body + 12, b->len - 12);
		g_assert_cmpuint(opts->len, ==, (s->start_ns ? 7 : 6) + (s->comment ? 1 : 0));
		if (s->start_ns)
			assert_option_ts(opts, k++, 2, s->start_ns);
		assert_option_ts(opts, k++, 3, s->end_ns);
		assert_option_u64(opts, k++, 4, s->ifrecv);
		assert_option_u64(opts, k++, 5, s->ifdrop);
		assert_option_u64(opts, k++, 6, s->filteraccept);
		assert_option_u64(opts, k++, 7, s->osdrop);
		assert_option_u64(opts, k++, 8, 2); /* isb_usrdeliv: EPBs written */
		if (s->comment) {		    /* opt_comment */
			g_assert_cmpuint(g_array_index(opts, struct option, k).code, ==, 1);
			g_assert_cmpmem(g_array_index(opts, struct option, k).val,
					g_array_index(opts, struct option, k).len, s->comment,
					strlen(s->comment));
		}
		g_array_free(opts, TRUE);
	}
	g_array_free(blocks, TRUE);
	g_free(buf);
	g_free(rel);
	g_free(path);
}

/* Without counters the ISBs are still there, one per IDB, with isb_usrdeliv only. */
static void test_pcapng_isb_without_stats(struct fixture *fx, gconstpointer data)
{
	static const struct nc_pcapng_iface ifc = {.linktype = NC_LINKTYPE_ETHERNET};
	char *path = tmp_path(fx, "nostats.pcapng");
	struct nc_pcapng_packet pkt = {.caplen = 60, .wirelen = 60, .data = eth_syn};
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	GArray *blocks, *opts;
	const struct block *b;
	GError *e = NULL;
	gchar *buf;
	gsize len;

	(void)data;
	g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, 0);
	for (pkt.iface_id = 0; pkt.iface_id < 2; pkt.iface_id++)
		g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL); /* id 2 */
	pkt.iface_id = 1;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);

	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	g_assert_cmpuint(blocks->len, ==, 1 + 2 + 3 + 2);
	for (guint i = 0; i < 2; i++) {
		b = &g_array_index(blocks, struct block, 6 + i);
		g_assert_cmphex(b->type, ==, 5);
		g_assert_cmpuint(rd32(b->body), ==, i);
		opts = walk_options(b->body + 12, b->len - 12);
		g_assert_cmpuint(opts->len, ==, 1);
		assert_option_u64(opts, 0, 8, i + 1);
		g_array_free(opts, TRUE);
	}
	g_array_free(blocks, TRUE);
	g_free(buf);
	g_free(path);
}

/* libpcap 1.10 refuses a section whose IDBs differ in link type or snap length ("an interface
 * has a type 101 different from the type of the first interface"): one of each per file here. */
static void test_pcapng_libpcap_reads_packets(struct fixture *fx, gconstpointer data)
{
	static const struct nc_pcapng_iface eth[] = {
	    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 2048, .name = "l2fwd[123]:port0:rx"},
	    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 2048, .name = "l2fwd[123]:port0:tx"},
	};
	static const struct nc_pcapng_iface raw = {.linktype = NC_LINKTYPE_RAW, .name = "ip"};
	/* caplen 60..63: every amount of padding; one truncated; ns at both ends of a second */
	const struct nc_pcapng_packet eth_pkts[] = {
	    {.iface_id = 0,
	     .ts_ns = 1700000000000000000ull,
	     .caplen = 60,
	     .wirelen = 60,
	     .data = eth_syn,
	     .direction = NC_PCAPNG_DIR_INBOUND},
	    {.iface_id = 1,
	     .ts_ns = 1700000000999999999ull,
	     .caplen = 61,
	     .wirelen = 61,
	     .data = pattern,
	     .direction = NC_PCAPNG_DIR_OUTBOUND,
	     .comment = "x"},
	    {.iface_id = 0,
	     .ts_ns = 1700000001000000001ull,
	     .caplen = 62,
	     .wirelen = 62,
	     .data = pattern + 1},
	    {.iface_id = 0,
	     .ts_ns = 1700000001500000000ull,
	     .caplen = 63,
	     .wirelen = 1514,
	     .data = pattern + 2,
	     .has_queue = true,
	     .queue = 1},
	    {.iface_id = 1,
	     .ts_ns = 1700000002000000000ull,
	     .caplen = 1514,
	     .wirelen = 1514,
	     .data = pattern},
	};
	const struct nc_pcapng_packet raw_pkts[] = {
	    {.ts_ns = 1, .caplen = 31, .wirelen = 31, .data = ip_udp},
	    {.ts_ns = 2147483648000000001ull, .caplen = 20, .wirelen = 31, .data = ip_udp},
	};
	char *eth_path = tmp_path(fx, "eth.pcapng");
	char *raw_path = tmp_path(fx, "raw.pcapng");
	struct nc_pcapng *w = NULL;
	char err[256] = "";

	(void)data;
	g_assert_cmpint(nc_pcapng_open(eth_path, NULL, &w, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < N_ELEMS(eth); i++)
		g_assert_cmpint(nc_pcapng_add_interface(w, &eth[i], NULL, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < N_ELEMS(eth_pkts); i++)
		g_assert_cmpint(nc_pcapng_packet(w, &eth_pkts[i], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);
	assert_libpcap_reads(eth_path, DLT_EN10MB, eth_pkts, N_ELEMS(eth_pkts));

	g_assert_cmpint(nc_pcapng_open(raw_path, NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &raw, NULL, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < N_ELEMS(raw_pkts); i++)
		g_assert_cmpint(nc_pcapng_packet(w, &raw_pkts[i], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);
	assert_libpcap_reads(raw_path, DLT_RAW, raw_pkts, N_ELEMS(raw_pkts));

	g_free(eth_path);
	g_free(raw_path);
}

/* ---- pcapng: interfaces written as their packets come ---- */

/* The if_name option of an IDB */
static char *idb_name(const struct block *b)
{
	GArray *opts = walk_options(b->body + 8, b->len - 8);
	char *name = NULL;

	for (guint i = 0; i < opts->len; i++) {
		const struct option *o = &g_array_index(opts, struct option, i);

		if (o->code == 2)
			name = g_strndup((const char *)o->val, o->len);
	}
	g_array_free(opts, TRUE);
	return name;
}

/* The value of option code of an ISB (isb_ifrecv 4, isb_ifdrop 5, isb_usrdeliv 8) */
static uint64_t isb_option(const struct block *b, uint16_t code)
{
	GArray *opts = walk_options(b->body + 12, b->len - 12);
	uint64_t v = UINT64_MAX;

	for (guint i = 0; i < opts->len; i++)
		if (g_array_index(opts, struct option, i).code == code)
			v = rd64(g_array_index(opts, struct option, i).val);
	g_array_free(opts, TRUE);
	return v;
}

/*
 * A kernel capture's shape: an Ethernet and a raw-IP interface per hook point, declared up
 * front. Packets come at eth-b, then eth-a, then eth-b again; eth-quiet, raw-lossy and
 * raw-quiet carry none, raw-a neither.
 */
static const struct nc_pcapng_iface late_ifaces[] = {
    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 256, .name = "eth-a", .description = "A"},
    {.linktype = NC_LINKTYPE_RAW, .snaplen = 256, .name = "raw-a"},
    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 256, .name = "eth-b", .filter = "tcp"},
    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 256, .name = "eth-quiet"},
    {.linktype = NC_LINKTYPE_RAW, .snaplen = 256, .name = "raw-lossy"},
    {.linktype = NC_LINKTYPE_RAW, .snaplen = 256, .name = "raw-quiet"},
};

/* Writes late_ifaces with packets at 2, 0, 2; raw-lossy's counters show lossy drops. Returns
 * what nc_pcapng_libpcap_refuses() said after the packets and after nc_pcapng_finish(). */
static void write_late(const char *path, uint64_t lossy, const char **before, const char **after)
{
	static const uint32_t at[] = {2, 0, 2};
	struct nc_pcapng_stats stats[N_ELEMS(late_ifaces)];
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	uint32_t id;

	g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
	for (uint32_t i = 0; i < N_ELEMS(late_ifaces); i++) {
		g_assert_cmpint(nc_pcapng_add_interface(w, &late_ifaces[i], &id, err, sizeof(err)),
				==, 0);
		g_assert_cmpuint(id, ==, i); /* the declaration's id, not the file's */
		stats[i] = (struct nc_pcapng_stats){.ifrecv = 100 + i, .filteraccept = i};
	}
	stats[4].ifdrop = lossy;
	for (size_t i = 0; i < N_ELEMS(at); i++) {
		struct nc_pcapng_packet pkt = {.iface_id = at[i],
					       .ts_ns = 1700000000000000000ull + i,
					       .caplen = 60,
					       .wirelen = 60,
					       .data = eth_syn};

		g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, 0);
	}
	*before = nc_pcapng_libpcap_refuses(w);
	g_assert_cmpint(nc_pcapng_finish(w, stats, err, sizeof(err)), ==, 0);
	*after = nc_pcapng_libpcap_refuses(w);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(err, ==, "");
}

/*
 * Each IDB goes out right before its interface's first packet, and the file numbers the
 * interfaces in that order; at the end come the IDBs of the interfaces without packets that
 * libpcap reads beside the others (eth-quiet) or whose counters show a loss (raw-lossy), then
 * one ISB per IDB in the file's order with the counters of its own interface. raw-a and
 * raw-quiet (another link type, nothing lost) are left out.
 */
static void test_pcapng_idb_at_first_packet(struct fixture *fx, gconstpointer data)
{
	static const uint32_t want_types[] = {0x0A0D0D0A, 1, 6, 1, 6, 6, 1, 1, 5, 5, 5, 5};
	/* declared index of the file's interfaces 0..3 */
	static const uint32_t file_order[] = {2, 0, 3, 4};
	static const uint64_t delivered[] = {2, 1, 0, 0};
	char *path = tmp_path(fx, "late.pcapng");
	const char *before, *after;
	GArray *blocks;
	GError *e = NULL;
	gchar *buf;
	gsize len;

	(void)data;
	write_late(path, 5, &before, &after);
	g_assert_null(before); /* eth-b and eth-a only: libpcap reads that */
	g_assert_cmpstr(after, ==, "has Ethernet and raw-IP interfaces");

	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	g_assert_cmpuint(blocks->len, ==, N_ELEMS(want_types));
	for (guint i = 0; i < blocks->len; i++)
		g_assert_cmphex(g_array_index(blocks, struct block, i).type, ==, want_types[i]);
	{
		static const guint idbs[] = {1, 3, 6, 7};

		for (guint f = 0; f < N_ELEMS(idbs); f++) {
			const struct block *b = &g_array_index(blocks, struct block, idbs[f]);
			char *name = idb_name(b);

			g_assert_cmpstr(name, ==, late_ifaces[file_order[f]].name);
			g_assert_cmpuint(rd16(b->body), ==, late_ifaces[file_order[f]].linktype);
			g_free(name);
		}
	}
	/* the EPBs name the file's ids: eth-b 0, eth-a 1, eth-b 0 */
	g_assert_cmpuint(rd32(g_array_index(blocks, struct block, 2).body), ==, 0);
	g_assert_cmpuint(rd32(g_array_index(blocks, struct block, 4).body), ==, 1);
	g_assert_cmpuint(rd32(g_array_index(blocks, struct block, 5).body), ==, 0);
	for (guint f = 0; f < 4; f++) {
		const struct block *b = &g_array_index(blocks, struct block, 8 + f);

		g_assert_cmpuint(rd32(b->body), ==, f);
		g_assert_cmpuint(isb_option(b, 4), ==, 100 + file_order[f]); /* isb_ifrecv */
		g_assert_cmpuint(isb_option(b, 5), ==, file_order[f] == 4 ? 5 : 0);
		g_assert_cmpuint(isb_option(b, 8), ==, delivered[f]); /* isb_usrdeliv */
	}
	g_array_free(blocks, TRUE);
	g_free(buf);

	if (have_wireshark_tools()) {
		const char *argv[] = {"tshark",
				      "-r",
				      path,
				      "-T",
				      "fields",
				      "-e",
				      "frame.interface_id",
				      "-e",
				      "frame.interface_name",
				      NULL};
		const char *const want[] = {"0\teth-b", "1\teth-a", "0\teth-b", NULL};
		char *out = run_tool(argv);

		assert_lines(out, want);
		g_free(out);
	}
	g_free(path);
}

/* Without a loss at raw-lossy every IDB is Ethernet: libpcap (tcpdump) reads the file. */
static void test_pcapng_one_link_type_read_by_libpcap(struct fixture *fx, gconstpointer data)
{
	const struct nc_pcapng_packet want[] = {
	    {.ts_ns = 1700000000000000000ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	    {.ts_ns = 1700000000000000001ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	    {.ts_ns = 1700000000000000002ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	};
	char *path = tmp_path(fx, "eth.pcapng");
	const char *before, *after;
	GArray *blocks;
	GError *e = NULL;
	gchar *buf;
	gsize len;

	(void)data;
	write_late(path, 0, &before, &after);
	g_assert_null(before);
	g_assert_null(after);
	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	/* SHB, IDB eth-b, EPB, IDB eth-a, EPB, EPB, IDB eth-quiet, 3 ISBs */
	g_assert_cmpuint(blocks->len, ==, 10);
	for (guint i = 0; i < blocks->len; i++)
		if (g_array_index(blocks, struct block, i).type == 1)
			g_assert_cmpuint(rd16(g_array_index(blocks, struct block, i).body), ==,
					 NC_LINKTYPE_ETHERNET);
	g_array_free(blocks, TRUE);
	g_free(buf);
	assert_libpcap_reads(path, DLT_EN10MB, want, N_ELEMS(want));
	g_free(path);
}

/* Raw IP only (a tun device): one raw-IP IDB, and libpcap reads it; a second raw-IP interface
 * with packets makes a file libpcap 1.10 refuses, and the writer says so. */
static void test_pcapng_raw_ip_only(struct fixture *fx, gconstpointer data)
{
	static const struct nc_pcapng_iface ifc[] = {
	    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 256, .name = "rx"},
	    {.linktype = NC_LINKTYPE_RAW, .snaplen = 256, .name = "rx:raw"},
	    {.linktype = NC_LINKTYPE_ETHERNET, .snaplen = 256, .name = "tx"},
	    {.linktype = NC_LINKTYPE_RAW, .snaplen = 256, .name = "tx:raw"},
	};
	const struct nc_pcapng_packet pkts[] = {
	    {.iface_id = 1, .ts_ns = 1, .caplen = 31, .wirelen = 31, .data = ip_udp},
	    {.iface_id = 1, .ts_ns = 2, .caplen = 20, .wirelen = 31, .data = ip_udp},
	    {.iface_id = 3, .ts_ns = 3, .caplen = 31, .wirelen = 31, .data = ip_udp},
	};

	(void)data;
	for (size_t n = 2; n <= 3; n++) {
		char *path = tmp_path(fx, n == 2 ? "one-raw.pcapng" : "two-raw.pcapng");
		struct nc_pcapng *w = NULL;
		char err[256] = "";
		GArray *blocks;
		GError *e = NULL;
		gchar *buf;
		gsize len;
		guint idbs = 0;

		g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
		for (size_t i = 0; i < N_ELEMS(ifc); i++)
			g_assert_cmpint(nc_pcapng_add_interface(w, &ifc[i], NULL, err, sizeof(err)),
					==, 0);
		for (size_t i = 0; i < n; i++)
			g_assert_cmpint(nc_pcapng_packet(w, &pkts[i], err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcapng_finish(w, NULL, err, sizeof(err)), ==, 0);
		if (n == 2)
			g_assert_null(nc_pcapng_libpcap_refuses(w));
		else
			g_assert_cmpstr(nc_pcapng_libpcap_refuses(w), ==,
					"has more than one raw-IP interface");
		g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);

		g_file_get_contents(path, &buf, &len, &e);
		g_assert_no_error(e);
		blocks = walk_blocks((const uint8_t *)buf, len);
		for (guint i = 0; i < blocks->len; i++)
			if (g_array_index(blocks, struct block, i).type == 1) {
				g_assert_cmpuint(rd16(g_array_index(blocks, struct block, i).body),
						 ==, NC_LINKTYPE_RAW);
				idbs++;
			}
		g_assert_cmpuint(idbs, ==, n - 1);
		g_array_free(blocks, TRUE);
		g_free(buf);
		if (n == 2) {
			assert_libpcap_reads(path, DLT_RAW, pkts, n);
		} else {
			char errbuf[PCAP_ERRBUF_SIZE] = "";
			pcap_t *p = pcap_open_offline(path, errbuf);
			struct pcap_pkthdr *h;
			const u_char *d;
			int ret;

			g_assert_nonnull(p);
			while ((ret = pcap_next_ex(p, &h, &d)) == 1)
				;
			g_assert_cmpint(ret, ==, PCAP_ERROR);
			pcap_close(p);
		}
		g_free(path);
	}
}

/*
 * A capture without packets still gets an IDB, so that libpcap opens it: the first declared
 * interface, and the others libpcap reads beside it, each with its ISB. After the statistics no
 * packet goes in, and a second finish writes nothing.
 */
static void test_pcapng_no_packets(struct fixture *fx, gconstpointer data)
{
	static const uint32_t want_types[] = {0x0A0D0D0A, 1, 1, 5, 5};
	char *path = tmp_path(fx, "empty.pcapng");
	struct nc_pcapng_packet pkt = {.caplen = 60, .wirelen = 60, .data = eth_syn};
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	char *want_err;
	GArray *blocks;
	GError *e = NULL;
	gchar *buf;
	gsize len;

	(void)data;
	g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < 4; i++) /* eth-a, raw-a, eth-b, eth-quiet */
		g_assert_cmpint(nc_pcapng_add_interface(w, &late_ifaces[i], NULL, err, sizeof(err)),
				==, 0);
	g_assert_cmpint(nc_pcapng_finish(w, NULL, err, sizeof(err)), ==, 0);
	g_assert_null(nc_pcapng_libpcap_refuses(w));
	g_assert_cmpint(nc_pcapng_finish(w, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	want_err = g_strdup_printf("pcapng packet after the statistics of %s were written", path);
	g_assert_cmpstr(err, ==, want_err);
	g_free(want_err);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);

	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	/* SHB, IDBs eth-a eth-b eth-quiet, their 3 ISBs */
	g_assert_cmpuint(blocks->len, ==, 7);
	for (guint i = 0; i < blocks->len; i++)
		g_assert_cmphex(g_array_index(blocks, struct block, i).type, ==,
				i == 0	? want_types[0]
				: i < 4 ? 1u
					: 5u);
	for (guint f = 0; f < 3; f++) {
		char *name = idb_name(&g_array_index(blocks, struct block, 1 + f));

		g_assert_cmpstr(name, ==, late_ifaces[f == 0 ? 0 : f + 1].name);
		g_free(name);
	}
	g_array_free(blocks, TRUE);
	g_free(buf);
	assert_libpcap_reads(path, DLT_EN10MB, NULL, 0);
	g_free(path);
}

/* ---- pcapng through pipes, FIFOs, stdout ---- */

struct got {
	bool end;   /* no more packets; status is pcap_next_ex()'s last result */
	int status; /* or, with !end, nothing */
	char why[PCAP_ERRBUF_SIZE];
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	uint8_t data[64];
};

struct pipe_reader {
	int fd;
	GAsyncQueue *q; /* of struct got, as each packet arrives */
};

static gpointer pipe_reader_main(gpointer data)
{
	struct pipe_reader *r = data;
	struct got *end = g_new0(struct got, 1);
	struct pcap_pkthdr *h;
	const u_char *d;
	FILE *f;
	pcap_t *p;

	end->end = true;
	f = fdopen(r->fd, "rb");
	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, end->why);
	if (!p) {
		fclose(f);
		end->status = PCAP_ERROR;
		g_async_queue_push(r->q, end);
		return NULL;
	}
	while ((end->status = pcap_next_ex(p, &h, &d)) == 1) {
		struct got *g = g_new0(struct got, 1);

		g->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		g->caplen = h->caplen;
		g->wirelen = h->len;
		memcpy(g->data, d, MIN(h->caplen, sizeof(g->data)));
		g_async_queue_push(r->q, g);
	}
	if (end->status == PCAP_ERROR)
		g_strlcpy(end->why, pcap_geterr(p), sizeof(end->why));
	pcap_close(p); /* closes f and the read end */
	g_async_queue_push(r->q, end);
	return NULL;
}

static void assert_got(struct got *g, const struct nc_pcapng_packet *want)
{
	g_assert_nonnull(g); /* NULL: nothing arrived within TIMEOUT_US */
	if (g->end)
		g_error("reader ended (%d: %s) instead of reading a packet", g->status, g->why);
	g_assert_cmpuint(g->ts_ns, ==, want->ts_ns);
	g_assert_cmpuint(g->caplen, ==, want->caplen);
	g_assert_cmpuint(g->wirelen, ==, want->wirelen);
	g_assert_cmpmem(g->data, MIN(g->caplen, sizeof(g->data)), want->data,
			MIN(want->caplen, sizeof(g->data)));
	g_free(g);
}

/* The writer buffers until a flush; a flush delivers whole blocks to a reader that is still
 * waiting for more; close closes the descriptor, so the reader sees the end. */
static void test_pcapng_pipe_flush_delivers(struct fixture *fx, gconstpointer data)
{
	static const struct nc_pcapng_iface ifc = {.linktype = NC_LINKTYPE_ETHERNET,
						   .name = "pipe"};
	const struct nc_pcapng_packet pkts[] = {
	    {.ts_ns = 1700000000000000001ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	    {.ts_ns = 1700000000000000002ull, .caplen = 61, .wirelen = 100, .data = pattern},
	};
	struct pipe_reader r;
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	struct got *g;
	GThread *t;
	int p[2];

	(void)fx;
	(void)data;
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	r.fd = p[0];
	r.q = g_async_queue_new();
	t = g_thread_new("pcapng-pipe-reader", pipe_reader_main, &r);

	g_assert_cmpint(nc_pcapng_fdopen(p[1], NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_packet(w, &pkts[0], err, sizeof(err)), ==, 0);
	/* still in the stdio buffer: the reader has not even seen the section header */
	g_assert_null(g_async_queue_timeout_pop(r.q, G_USEC_PER_SEC / 10));
	g_assert_cmpint(nc_pcapng_flush(w, err, sizeof(err)), ==, 0);
	assert_got(g_async_queue_timeout_pop(r.q, TIMEOUT_US), &pkts[0]);

	g_assert_cmpint(nc_pcapng_packet(w, &pkts[1], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);
	/* the writer closed p[1]: no descriptor of this process refers to it any more */
	g_assert_cmpint(fcntl(p[1], F_GETFD), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	assert_got(g_async_queue_timeout_pop(r.q, TIMEOUT_US), &pkts[1]);
	g = g_async_queue_timeout_pop(r.q, TIMEOUT_US);
	g_assert_nonnull(g);
	g_assert_true(g->end);
	g_assert_cmpint(g->status, ==, PCAP_ERROR_BREAK); /* clean end of file */
	g_free(g);

	g_thread_join(t);
	g_async_queue_unref(r.q);
}

/* tshark reads the sample from its standard input: no seeking anywhere. */
static void test_pcapng_tshark_reads_pipe(struct fixture *fx, gconstpointer data)
{
	const char *argv[] = {"tshark", "-r", "-", TSHARK_FIELDS, NULL};
	int in_fd, out_fd, status;
	struct nc_pcapng *w = NULL;
	struct slurp s = {.fd = -1};
	char err[256] = "";
	char **env;
	GError *e = NULL;
	GPid pid;

	(void)fx;
	(void)data;
	if (!have_wireshark_tools())
		return;
	env = tool_env();
	g_spawn_async_with_pipes(NULL, (char **)argv, env,
				 G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
				     G_SPAWN_STDERR_TO_DEV_NULL,
				 NULL, NULL, &pid, &in_fd, &out_fd, NULL, &e);
	g_strfreev(env);
	g_assert_no_error(e);

	s.fd = out_fd;
	s.bytes = g_byte_array_new();
	{
		GThread *t = g_thread_new("tshark-stdout", slurp_main, &s);

		g_assert_cmpint(nc_pcapng_fdopen(in_fd, &sample_shb, &w, err, sizeof(err)), ==, 0);
		write_sample(w); /* closes in_fd: tshark sees the end */
		g_assert_nonnull(g_thread_join(t));
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_byte_array_append(s.bytes, (const guint8 *)"", 1);
	assert_lines((const char *)s.bytes->data, sample_tshark_lines);
	g_byte_array_unref(s.bytes);
}

/* A FIFO given by path gets byte for byte what a regular file gets. */
static void test_pcapng_fifo_matches_file(struct fixture *fx, gconstpointer data)
{
	char *file = tmp_path(fx, "sample.pcapng");
	char *fifo = tmp_path(fx, "fifo");
	struct slurp s = {.fd = -1, .path = fifo};
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	GError *e = NULL;
	gchar *want;
	gsize want_len;
	GThread *t;

	(void)data;
	write_sample_file(file);
	g_file_get_contents(file, &want, &want_len, &e);
	g_assert_no_error(e);

	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	s.bytes = g_byte_array_new();
	t = g_thread_new("fifo-reader", slurp_main, &s);
	/* blocks until the thread opens the other end */
	g_assert_cmpint(nc_pcapng_open(fifo, &sample_shb, &w, err, sizeof(err)), ==, 0);
	write_sample(w);
	g_assert_nonnull(g_thread_join(t));
	g_assert_cmpmem(s.bytes->data, s.bytes->len, want, want_len);

	g_byte_array_unref(s.bytes);
	g_free(want);
	g_free(fifo);
	g_free(file);
}

/* "-" writes to standard output, through its own descriptor: fd 1 stays open afterwards. */
static void test_pcapng_dash_is_stdout(struct fixture *fx, gconstpointer data)
{
	char *file = tmp_path(fx, "sample.pcapng");
	struct slurp s = {.fd = -1};
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	int p[2], saved, ret;
	GError *e = NULL;
	gchar *want;
	gsize want_len;
	GThread *t;

	(void)data;
	write_sample_file(file);
	g_file_get_contents(file, &want, &want_len, &e);
	g_assert_no_error(e);

	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	s.fd = p[0];
	s.bytes = g_byte_array_new();
	t = g_thread_new("stdout-reader", slurp_main, &s);
	/* the test's own output goes to fd 1: nothing may print between the two dup2() calls */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	g_assert_cmpint(saved, >=, 0);
	g_assert_cmpint(dup2(p[1], STDOUT_FILENO), ==, STDOUT_FILENO);
	ret = nc_pcapng_open("-", &sample_shb, &w, err, sizeof(err));
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[1]);
	g_assert_cmpint(ret, ==, 0);
	write_sample(w);
	g_assert_nonnull(g_thread_join(t));
	g_assert_cmpmem(s.bytes->data, s.bytes->len, want, want_len);
	g_assert_cmpint(fcntl(STDOUT_FILENO, F_GETFD), >=, 0);

	g_byte_array_unref(s.bytes);
	g_free(want);
	g_free(file);
}

/* ---- pcapng errors ---- */

static void test_pcapng_unwritable_path(struct fixture *fx, gconstpointer data)
{
	char *missing = g_build_filename(fx->dir, "no-such-dir", "x.pcapng", NULL);
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	char *want;

	(void)data;
	g_assert_cmpint(nc_pcapng_open(missing, NULL, &w, err, sizeof(err)), ==, -ENOENT);
	g_assert_null(w);
	want = g_strdup_printf("cannot create %s: %s", missing, g_strerror(ENOENT));
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	g_assert_cmpint(nc_pcapng_open(fx->dir, NULL, &w, err, sizeof(err)), ==, -EISDIR);
	g_assert_null(w);
	want = g_strdup_printf("cannot create %s: %s", fx->dir, g_strerror(EISDIR));
	g_assert_cmpstr(err, ==, want);
	g_free(want);
	g_free(missing);
}

static bool have_dev_full(void)
{
	if (access("/dev/full", W_OK) != 0) {
		g_test_skip("/dev/full is not writable here");
		return false;
	}
	return true;
}

/* A full disk shows at the first flush, and every later call reports it again. */
static void test_pcapng_full_disk_at_flush(struct fixture *fx, gconstpointer data)
{
	char *want = g_strdup_printf("cannot write pcapng to /dev/full: %s", g_strerror(ENOSPC));
	char *want_again = g_strdup_printf("%s (an earlier write failed)", want);
	struct nc_pcapng *w = NULL;
	char err[256] = "";

	(void)fx;
	(void)data;
	if (!have_dev_full())
		goto out;
	g_assert_cmpint(nc_pcapng_open("/dev/full", NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &sample_ifaces[0], NULL, err, sizeof(err)), ==,
			0);
	g_assert_cmpint(nc_pcapng_packet(w, &sample_pkts[0], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_flush(w, err, sizeof(err)), ==, -ENOSPC);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpint(nc_pcapng_packet(w, &sample_pkts[1], err, sizeof(err)), ==, -ENOSPC);
	g_assert_cmpstr(err, ==, want_again);
	g_assert_cmpint(nc_pcapng_flush(w, err, sizeof(err)), ==, -ENOSPC);
	g_assert_cmpint(nc_pcapng_close(w, sample_stats, err, sizeof(err)), ==, -ENOSPC);
	g_assert_cmpstr(err, ==, want);
out:
	g_free(want_again);
	g_free(want);
}

/* Without a flush, close is where a full disk shows: it must not be lost there. */
static void test_pcapng_full_disk_at_close(struct fixture *fx, gconstpointer data)
{
	char *want = g_strdup_printf("cannot write pcapng to /dev/full: %s", g_strerror(ENOSPC));
	struct nc_pcapng *w = NULL;
	char err[256] = "";

	(void)fx;
	(void)data;
	if (!have_dev_full())
		goto out;
	g_assert_cmpint(nc_pcapng_open("/dev/full", NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &sample_ifaces[0], NULL, err, sizeof(err)), ==,
			0);
	g_assert_cmpint(nc_pcapng_packet(w, &sample_pkts[0], err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, -ENOSPC);
	g_assert_cmpstr(err, ==, want);
out:
	g_free(want);
}

/* Option lengths are 16-bit: 65535 bytes fit, 65536 are refused and nothing is written. */
static void test_pcapng_long_option_refused(struct fixture *fx, gconstpointer data)
{
	char *path = tmp_path(fx, "long.pcapng");
	char *fits = g_strnfill(65535, 'a');
	char *too_long = g_strnfill(65536, 'b');
	struct nc_pcapng_section shb = {.comment = too_long};
	struct nc_pcapng_iface ifc = {.linktype = NC_LINKTYPE_ETHERNET, .name = too_long};
	struct nc_pcapng_packet pkt = sample_pkts[0];
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	GArray *blocks, *opts;
	const struct block *b;
	GError *e = NULL;
	gchar *buf;
	gsize len;

	(void)data;
	g_assert_cmpint(nc_pcapng_open(path, &shb, &w, err, sizeof(err)), ==, -EINVAL);
	g_assert_null(w);
	g_assert_cmpstr(err, ==,
			"pcapng option opt_comment is 65536 bytes long; an option holds at most "
			"65535");

	g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcapng option if_name is 65536 bytes long; an option holds at most 65535");
	ifc.name = "ok";
	ifc.filter = fits; /* with its type byte: 65536 */
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcapng option if_filter (type byte and filter string) is 65536 bytes "
			"long; an option holds at most 65535");
	ifc.filter = NULL;
	ifc.description = fits;
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(nc_pcapng_interface_count(w), ==, 1);

	pkt.comment = too_long;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcapng option opt_comment is 65536 bytes long; an option holds at most "
			"65535");
	pkt.comment = fits;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);

	/* SHB, the one IDB, the one EPB with its 65535-byte comment, the ISB */
	g_file_get_contents(path, &buf, &len, &e);
	g_assert_no_error(e);
	blocks = walk_blocks((const uint8_t *)buf, len);
	g_assert_cmpuint(blocks->len, ==, 4);
	g_assert_cmphex(g_array_index(blocks, struct block, 1).type, ==, 1);
	b = &g_array_index(blocks, struct block, 2);
	g_assert_cmphex(b->type, ==, 6);
	opts = walk_options(b->body + 20 + 60, b->len - 20 - 60);
	g_assert_cmpuint(g_array_index(opts, struct option, 4).code, ==, 1);
	g_assert_cmpmem(g_array_index(opts, struct option, 4).val,
			g_array_index(opts, struct option, 4).len, fits, 65535);
	g_array_free(opts, TRUE);
	g_array_free(blocks, TRUE);
	g_free(buf);
	assert_libpcap_reads(path, DLT_EN10MB, &pkt, 1);

	g_free(too_long);
	g_free(fits);
	g_free(path);
}

/* Packets and interfaces that would make a wrong file are refused, and nothing is written. */
static void test_pcapng_bad_input_refused(struct fixture *fx, gconstpointer data)
{
	char *path = tmp_path(fx, "bad.pcapng");
	struct nc_pcapng_iface ifc = {.linktype = 12 /* DLT_RAW, not LINKTYPE_RAW */};
	struct nc_pcapng_packet pkt = {.caplen = 60, .wirelen = 60, .data = eth_syn};
	struct nc_pcapng *w = NULL;
	char err[256] = "";
	char *want;

	(void)data;
	g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	want = g_strdup_printf("pcapng packet for interface 0, but %s has 0 interface(s)", path);
	g_assert_cmpstr(err, ==, want);
	g_free(want);
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcapng interface \"\": link type 12; netcap writes 1 (Ethernet) or 101 "
			"(raw IP; not the platform's DLT_RAW)");
	ifc.linktype = NC_LINKTYPE_ETHERNET;
	ifc.snaplen = 60;
	g_assert_cmpint(nc_pcapng_add_interface(w, &ifc, NULL, err, sizeof(err)), ==, 0);
	pkt.caplen = 61;
	pkt.wirelen = 61;
	pkt.data = pattern;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcapng packet: 61 bytes captured of 61 on the wire, snap length 60");
	pkt.caplen = 60;
	pkt.wirelen = 59;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	pkt.wirelen = 60;
	pkt.direction = 3;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==, "pcapng packet: direction 3 is not 0, 1 or 2");
	pkt.direction = NC_PCAPNG_DIR_NONE;
	g_assert_cmpint(nc_pcapng_packet(w, &pkt, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcapng_close(w, NULL, err, sizeof(err)), ==, 0);
	assert_libpcap_reads(path, DLT_EN10MB, &pkt, 1);
	g_free(path);
}

/* ---- classic pcap ---- */

static void test_pcap_ns_magic_and_link_types(struct fixture *fx, gconstpointer data)
{
	static const struct {
		int dlt;
		uint32_t linktype; /* in the file */
	} cases[] = {{DLT_EN10MB, 1}, {DLT_RAW, 101}};
	const struct nc_pcapng_packet pkts[] = {
	    {.ts_ns = 1700000000123456789ull, .caplen = 31, .wirelen = 31, .data = ip_udp},
	    {.ts_ns = 1700000000999999999ull, .caplen = 20, .wirelen = 31, .data = ip_udp},
	    {.ts_ns = 1700000001000000000ull, .caplen = 1514, .wirelen = 1514, .data = pattern},
	};

	(void)data;
	for (size_t c = 0; c < N_ELEMS(cases); c++) {
		char *path = tmp_path(fx, c ? "raw.pcap" : "eth.pcap");
		struct nc_pcap *w = NULL;
		char err[256] = "";
		GError *e = NULL;
		gchar *buf;
		gsize len;

		g_assert_cmpint(nc_pcap_open(path, cases[c].dlt, 4096, &w, err, sizeof(err)), ==,
				0);
		for (size_t i = 0; i < N_ELEMS(pkts); i++)
			g_assert_cmpint(nc_pcap_packet(w, pkts[i].ts_ns, pkts[i].caplen,
						       pkts[i].wirelen, pkts[i].data, err,
						       sizeof(err)),
					==, 0);
		g_assert_cmpint(nc_pcap_flush(w, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, 0);

		g_file_get_contents(path, &buf, &len, &e);
		g_assert_no_error(e);
		g_assert_cmpuint(len, ==, 24 + 3 * 16 + 31 + 20 + 1514);
		g_assert_cmphex(rd32((const uint8_t *)buf), ==, 0xA1B23C4D);
		g_assert_cmpuint(rd16((const uint8_t *)buf + 4), ==, 2);
		g_assert_cmpuint(rd16((const uint8_t *)buf + 6), ==, 4);
		g_assert_cmpuint(rd32((const uint8_t *)buf + 16), ==, 4096);
		g_assert_cmpuint(rd32((const uint8_t *)buf + 20), ==, cases[c].linktype);
		/* first record: seconds, nanoseconds */
		g_assert_cmpuint(rd32((const uint8_t *)buf + 24), ==, 1700000000u);
		g_assert_cmpuint(rd32((const uint8_t *)buf + 28), ==, 123456789u);
		g_free(buf);
		assert_libpcap_reads(path, cases[c].dlt, pkts, N_ELEMS(pkts));
		g_free(path);
	}
}

/* Appends a record as struct nc_pcap_batch lays them out (host order: s, ns, caplen, wirelen) */
static size_t put_rec(uint8_t *at, const struct nc_pcapng_packet *p)
{
	uint32_t h[4] = {(uint32_t)(p->ts_ns / 1000000000u), (uint32_t)(p->ts_ns % 1000000000u),
			 p->caplen, p->wirelen};

	memcpy(at, h, sizeof(h));
	memcpy(at + sizeof(h), p->data, p->caplen);
	return sizeof(h) + p->caplen;
}

/* Records handed over as a block (nc_pcap_records, the --inject reader's path) between records
 * written one by one: the same file, byte for byte, as all written one by one */
static void test_pcap_records_same_as_packets(struct fixture *fx, gconstpointer data)
{
	const struct nc_pcapng_packet pkts[] = {
	    {.ts_ns = 1700000000123456789ull, .caplen = 31, .wirelen = 31, .data = ip_udp},
	    {.ts_ns = 1700000000999999999ull, .caplen = 20, .wirelen = 31, .data = ip_udp},
	    {.ts_ns = 1700000001000000000ull, .caplen = 1514, .wirelen = 1514, .data = pattern},
	    {.ts_ns = 1700000002000000001ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	};
	char *one = tmp_path(fx, "one.pcap"), *block = tmp_path(fx, "block.pcap");
	uint8_t buf[4096];
	size_t len = 0;
	struct nc_pcap *w = NULL;
	char err[256] = "";
	gchar *a, *b;
	gsize alen, blen;
	GError *e = NULL;

	(void)data;
	g_assert_cmpint(nc_pcap_open(one, DLT_EN10MB, 0, &w, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < N_ELEMS(pkts); i++)
		g_assert_cmpint(nc_pcap_packet(w, pkts[i].ts_ns, pkts[i].caplen, pkts[i].wirelen,
					       pkts[i].data, err, sizeof(err)),
				==, 0);
	g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, 0);

	g_assert_cmpint(nc_pcap_open(block, DLT_EN10MB, 0, &w, err, sizeof(err)), ==, 0);
	/* the first still in stdio's buffer when the block goes past it */
	g_assert_cmpint(nc_pcap_packet(w, pkts[0].ts_ns, pkts[0].caplen, pkts[0].wirelen,
				       pkts[0].data, err, sizeof(err)),
			==, 0);
	len += put_rec(buf + len, &pkts[1]);
	len += put_rec(buf + len, &pkts[2]);
	g_assert_cmpint(nc_pcap_records(w, buf, len, 2, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcap_records(w, buf, 0, 0, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcap_packet(w, pkts[3].ts_ns, pkts[3].caplen, pkts[3].wirelen,
				       pkts[3].data, err, sizeof(err)),
			==, 0);
	g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, 0);

	g_file_get_contents(one, &a, &alen, &e);
	g_assert_no_error(e);
	g_file_get_contents(block, &b, &blen, &e);
	g_assert_no_error(e);
	g_assert_cmpuint(alen, ==, 24 + 4 * 16 + 31 + 20 + 1514 + 60);
	g_assert_cmpuint(blen, ==, alen);
	g_assert_cmpint(memcmp(a, b, alen), ==, 0);
	g_free(a);
	g_free(b);
	assert_libpcap_reads(block, DLT_EN10MB, pkts, N_ELEMS(pkts));

	/* a full device: the block's write fails, and stays failed */
	if (access("/dev/full", W_OK) == 0) {
		g_assert_cmpint(nc_pcap_open("/dev/full", DLT_EN10MB, 0, &w, err, sizeof(err)), ==,
				0);
		g_assert_cmpint(nc_pcap_records(w, buf, len, 2, err, sizeof(err)), ==, -ENOSPC);
		g_assert_nonnull(strstr(err, "No space left on device"));
		g_assert_cmpint(nc_pcap_records(w, buf, len, 2, err, sizeof(err)), ==, -ENOSPC);
		g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, -ENOSPC);
	}
	g_free(one);
	g_free(block);
}

static void test_pcap_errors(struct fixture *fx, gconstpointer data)
{
	char *missing = g_build_filename(fx->dir, "no-such-dir", "x.pcap", NULL);
	char *path = tmp_path(fx, "x.pcap");
	char *want;
	struct nc_pcap *w = NULL;
	char err[256] = "";

	(void)data;
	g_assert_cmpint(nc_pcap_open(missing, DLT_EN10MB, 0, &w, err, sizeof(err)), ==, -ENOENT);
	g_assert_null(w);
	want = g_strdup_printf("cannot create %s: %s", missing, g_strerror(ENOENT));
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	/* 101 is LINKTYPE_RAW, the value in files, not a DLT */
	g_assert_cmpint(nc_pcap_open(path, 101, 0, &w, err, sizeof(err)), ==, -EINVAL);
	g_assert_null(w);
	want = g_strdup_printf("pcap output %s: link type 101; netcap writes DLT_EN10MB (1) or "
			       "DLT_RAW (%d)",
			       path, DLT_RAW);
	g_assert_cmpstr(err, ==, want);
	g_free(want);

	g_assert_cmpint(nc_pcap_open(path, DLT_EN10MB, 60, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcap_packet(w, 1, 61, 61, pattern, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"pcap packet: 61 bytes captured of 61 on the wire, snap length 60");
	g_assert_cmpint(nc_pcap_packet(w, 1, 60, 59, pattern, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, 0);

	if (have_dev_full()) {
		want = g_strdup_printf("cannot write pcap to /dev/full: %s", g_strerror(ENOSPC));
		/* at flush, then again at close */
		g_assert_cmpint(nc_pcap_open("/dev/full", DLT_EN10MB, 0, &w, err, sizeof(err)), ==,
				0);
		g_assert_cmpint(nc_pcap_packet(w, 1, 60, 60, eth_syn, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcap_flush(w, err, sizeof(err)), ==, -ENOSPC);
		g_assert_cmpstr(err, ==, want);
		g_assert_cmpint(nc_pcap_packet(w, 2, 60, 60, eth_syn, err, sizeof(err)), ==,
				-ENOSPC);
		g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, -ENOSPC);
		g_assert_cmpstr(err, ==, want);
		/* at close, without a flush */
		g_assert_cmpint(nc_pcap_open("/dev/full", DLT_RAW, 0, &w, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcap_packet(w, 1, 31, 31, ip_udp, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, -ENOSPC);
		g_assert_cmpstr(err, ==, want);
		g_free(want);
	}
	g_free(path);
	g_free(missing);
}

/* A pipe: flush delivers, close ends the stream, and libpcap reads ns timestamps from it. */
static void test_pcap_pipe_flush_delivers(struct fixture *fx, gconstpointer data)
{
	const struct nc_pcapng_packet pkts[] = {
	    {.ts_ns = 1700000000000000007ull, .caplen = 60, .wirelen = 60, .data = eth_syn},
	    {.ts_ns = 1700000000000000008ull, .caplen = 64, .wirelen = 1514, .data = pattern},
	};
	struct pipe_reader r;
	struct nc_pcap *w = NULL;
	char err[256] = "";
	struct got *g;
	GThread *t;
	int p[2];

	(void)fx;
	(void)data;
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	r.fd = p[0];
	r.q = g_async_queue_new();
	t = g_thread_new("pcap-pipe-reader", pipe_reader_main, &r);
	g_assert_cmpint(nc_pcap_fdopen(p[1], DLT_EN10MB, 0, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_pcap_packet(w, pkts[0].ts_ns, pkts[0].caplen, pkts[0].wirelen,
				       pkts[0].data, err, sizeof(err)),
			==, 0);
	g_assert_cmpint(nc_pcap_flush(w, err, sizeof(err)), ==, 0);
	assert_got(g_async_queue_timeout_pop(r.q, TIMEOUT_US), &pkts[0]);
	g_assert_cmpint(nc_pcap_packet(w, pkts[1].ts_ns, pkts[1].caplen, pkts[1].wirelen,
				       pkts[1].data, err, sizeof(err)),
			==, 0);
	g_assert_cmpint(nc_pcap_close(w, err, sizeof(err)), ==, 0);
	assert_got(g_async_queue_timeout_pop(r.q, TIMEOUT_US), &pkts[1]);
	g = g_async_queue_timeout_pop(r.q, TIMEOUT_US);
	g_assert_nonnull(g);
	g_assert_true(g->end);
	g_assert_cmpint(g->status, ==, PCAP_ERROR_BREAK);
	g_free(g);
	g_thread_join(t);
	g_async_queue_unref(r.q);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGABRT, on_abort);
	signal(SIGPIPE, SIG_IGN); /* a reader that quits early gives EPIPE, not death */
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 7);

	ADD("/pcapng/options-read-back-by-tshark-fields", test_pcapng_tshark_fields);
	ADD("/pcapng/shb-and-idb-options-read-back-by-capinfos", test_pcapng_capinfos);
	ADD("/pcapng/blocks-framed-per-spec-with-one-isb-per-idb-at-the-end",
	    test_pcapng_block_layout);
	ADD("/pcapng/isb-per-idb-even-without-counters", test_pcapng_isb_without_stats);
	ADD("/pcapng/packets-and-ns-timestamps-read-back-by-libpcap",
	    test_pcapng_libpcap_reads_packets);
	ADD("/pcapng/idb-at-first-packet-ids-in-write-order-late-idbs-and-isbs",
	    test_pcapng_idb_at_first_packet);
	ADD("/pcapng/one-link-type-in-the-file-read-by-libpcap",
	    test_pcapng_one_link_type_read_by_libpcap);
	ADD("/pcapng/raw-ip-only-read-by-libpcap-two-raw-ip-refused", test_pcapng_raw_ip_only);
	ADD("/pcapng/no-packets-still-idbs-and-isbs-nothing-after-finish", test_pcapng_no_packets);
	ADD("/pcapng/pipe-gets-packets-at-flush-and-end-at-close", test_pcapng_pipe_flush_delivers);
	ADD("/pcapng/tshark-reads-capture-from-a-pipe", test_pcapng_tshark_reads_pipe);
	ADD("/pcapng/fifo-gets-same-bytes-as-a-file", test_pcapng_fifo_matches_file);
	ADD("/pcapng/dash-writes-to-stdout-and-leaves-fd-1-open", test_pcapng_dash_is_stdout);
	ADD("/pcapng/unwritable-path-gives-errno-and-names-path", test_pcapng_unwritable_path);
	ADD("/pcapng/full-disk-fails-at-flush-and-every-call-after",
	    test_pcapng_full_disk_at_flush);
	ADD("/pcapng/full-disk-fails-at-close-without-flush", test_pcapng_full_disk_at_close);
	ADD("/pcapng/option-over-65535-bytes-refused-65535-written",
	    test_pcapng_long_option_refused);
	ADD("/pcapng/bad-packet-or-link-type-refused-without-writing",
	    test_pcapng_bad_input_refused);
	ADD("/pcap/ns-magic-link-types-1-and-101-read-back-by-libpcap",
	    test_pcap_ns_magic_and_link_types);
	ADD("/pcap/records-as-a-block-same-bytes-as-one-by-one", test_pcap_records_same_as_packets);
	ADD("/pcap/unwritable-path-bad-link-type-and-full-disk-fail", test_pcap_errors);
	ADD("/pcap/pipe-gets-packets-at-flush-and-end-at-close", test_pcap_pipe_flush_delivers);
	return g_test_run();
}
