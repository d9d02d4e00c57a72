/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hardening of the output: tcpdump flags for text output are display flags only
 * (nc_sink_check_tcpdump_flags), and a file that cannot grow any more (RLIMIT_FSIZE here, a full
 * disk in tests/integration/test_disk_full.sh) is cut back to whole blocks: the writer's error
 * names the packets the file keeps, and libpcap reads exactly those.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "write/pcap.h"
#include "write/pcapng.h"
#include "write/sink.h"

#define LIMIT 100000 /* bytes a file may grow to */

static const char *const allowed[] = {"",
				      "-n",
				      "-nnve",
				      "-nn -t -e",
				      "--number -tttt -XX",
				      "-# -A -b -f -H -K -l -N -q -S -u -U -v -x --micro --nano"};

static void test_flags_display(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++) {
		char err[512] = "";

		g_assert_cmpint(nc_sink_check_tcpdump_flags(allowed[i], err, sizeof(err)), ==, 0);
		g_assert_cmpstr(err, ==, "");
	}
	g_assert_cmpint(nc_sink_check_tcpdump_flags(NULL, NULL, 0), ==, 0);
}

static void test_flags_refused(void)
{
	static const struct {
		const char *flags, *word;
	} bad[] = {
	    {"-w /tmp/x", "-w"}, {"-r -", "-r"},	{"-z /bin/sh", "-z"},
	    {"-Z root", "-Z"},	 {"-F file", "-F"},	{"-nw x", "-nw"},
	    {"-i lo", "-i"},	 {"-C 1", "-C"},	{"-G 5", "-G"},
	    {"-W 3", "-W"},	 {"-s0", "-s0"},	{"--print", "--print"},
	    {"-", "-"},		 {"--", "--"},		{"tcp port 80", "tcp"},
	    {"-n ;id", ";id"},	 {"-n $(id)", "$(id)"}, {"-n `id`", "`id`"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *want = g_strdup_printf(
		    "tcpdump flags \"%s\": \"%s\" is not a display flag; -t passes only -A -b -e "
		    "-f "
		    "-H -K -l -n -N -q -S -t -u -U -v -x -X -# --number --micro --nano (the filter "
		    "goes in -e EXPR)",
		    bad[i].flags, bad[i].word);
		char err[512];

		g_assert_cmpint(nc_sink_check_tcpdump_flags(bad[i].flags, err, sizeof(err)), ==,
				-EINVAL);
		g_assert_cmpstr(err, ==, want);
	}
}

/* Packets as big as a typical frame, each with distinct bytes */
static void fill(uint8_t *buf, size_t len, unsigned n)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(n * 7 + i);
}

/* Reads path with libpcap: the number of packets, each checked against fill() */
static unsigned read_back(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned n = 0;
	int r;

	g_assert_nonnull(p);
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		uint8_t want[1000];

		g_assert_cmpuint(h->caplen, ==, sizeof(want));
		fill(want, sizeof(want), n);
		g_assert_cmpmem(data, h->caplen, want, sizeof(want));
		n++;
	}
	g_assert_cmpint(r, ==, PCAP_ERROR_BREAK); /* the end, not a cut-short record */
	pcap_close(p);
	return n;
}

/* Writes 1000-byte packets into a file limited to LIMIT bytes until the writer fails */
static void test_file_full(gconstpointer data)
{
	bool ng = GPOINTER_TO_INT(data);
	g_autofree char *dir = g_dir_make_tmp("nctest-harden-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, ng ? "full.pcapng" : "full.pcap", NULL);
	struct rlimit old, lim;
	struct nc_pcapng *w = NULL;
	struct nc_pcap *wp = NULL;
	uint8_t pkt[1000];
	char err[512], want[512];
	unsigned n = 0;
	int ret = 0;
	guint64 kept;
	const char *tail;
	struct stat st;

	g_assert_nonnull(dir);
	signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of a signal */
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
	lim = old;
	lim.rlim_cur = LIMIT;
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
	if (ng) {
		uint32_t id;
		struct nc_pcapng_iface iface = {.linktype = NC_LINKTYPE_ETHERNET, .name = "x"};

		g_assert_cmpint(nc_pcapng_open(path, NULL, &w, err, sizeof(err)), ==, 0);
		g_assert_cmpint(nc_pcapng_add_interface(w, &iface, &id, err, sizeof(err)), ==, 0);
	} else {
		g_assert_cmpint(nc_pcap_open(path, DLT_EN10MB, 0, &wp, err, sizeof(err)), ==, 0);
	}
	for (; !ret && n < 10000; n++) {
		fill(pkt, sizeof(pkt), n);
		if (ng) {
			struct nc_pcapng_packet p = {.ts_ns = 1000000000ull * n,
						     .caplen = sizeof(pkt),
						     .wirelen = sizeof(pkt),
						     .data = pkt,
						     .comment = "a comment of some length"};

			ret = nc_pcapng_packet(w, &p, err, sizeof(err));
		} else {
			ret = nc_pcap_packet(wp, 1000000000ull * n, sizeof(pkt), sizeof(pkt), pkt,
					     err, sizeof(err));
		}
		if (!ret && n % 7 == 6) /* flushes now and then, as the capture loop does */
			ret = ng ? nc_pcapng_flush(w, err, sizeof(err))
				 : nc_pcap_flush(wp, err, sizeof(err));
	}
	g_assert_cmpint(ret, ==, -EFBIG);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
	/* "cannot write pcapng to PATH: File too large; it holds the first N packets, whole" */
	tail = strstr(err, "; it holds the first ");
	g_assert_nonnull(tail);
	kept = g_ascii_strtoull(tail + strlen("; it holds the first "), NULL, 10);
	snprintf(want, sizeof(want),
		 "cannot write %s to %s: File too large; it holds the first %llu packets, whole",
		 ng ? "pcapng" : "pcap", path, (unsigned long long)kept);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpuint(kept, >, 10);
	g_assert_cmpuint(kept, <, n);
	/* close reports the same, and writes nothing more */
	ret = ng ? nc_pcapng_close(w, NULL, err, sizeof(err)) : nc_pcap_close(wp, err, sizeof(err));
	g_assert_cmpint(ret, ==, -EFBIG);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_size, <=, LIMIT);
	g_assert_cmpuint(read_back(path), ==, kept);
	g_unlink(path);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/harden/tcpdump-flags/display-flags-taken", test_flags_display);
	g_test_add_func("/harden/tcpdump-flags/others-refused-by-name", test_flags_refused);
	g_test_add_data_func("/harden/full-file/pcapng-cut-to-whole-blocks", GINT_TO_POINTER(1),
			     test_file_full);
	g_test_add_data_func("/harden/full-file/pcap-cut-to-whole-records", GINT_TO_POINTER(0),
			     test_file_full);
	return g_test_run();
}
