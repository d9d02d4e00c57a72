/* SPDX-License-Identifier: BSD-2-Clause */
/* Hook spec grammar: every form parses into the right fields; every mistake gets its message. */
#include <errno.h>
#include <glib.h>

#include "plan/spec.h"

static void test_forms(void)
{
	struct nc_hook_spec s;
	char err[256];

	g_assert_cmpint(nc_spec_parse("fwd_one@1", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.type, ==, NC_SPEC_FUNC);
	g_assert_cmpstr(s.func, ==, "fwd_one");
	g_assert_null(s.object);
	g_assert_cmpint(s.kind, ==, NC_HOOK_SINGLE);
	g_assert_cmpuint(s.arg_pkt, ==, 1);
	nc_spec_clear(&s);

	g_assert_cmpint(nc_spec_parse("fwd_burst@1@2", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.kind, ==, NC_HOOK_VECTOR);
	g_assert_cmpuint(s.arg_pkt, ==, 1);
	g_assert_cmpuint(s.arg_cnt, ==, 2);
	nc_spec_clear(&s);

	g_assert_cmpint(nc_spec_parse("fwd_rx@2@ret", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.kind, ==, NC_HOOK_RET_SAVE);
	g_assert_cmpuint(s.arg_pkt, ==, 2);
	g_assert_cmpuint(s.ret_bits, ==, 32);
	nc_spec_clear(&s);

	g_assert_cmpint(
	    nc_spec_parse("librte_net_pcap.so.23.0+0x6e00@2@ret16", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.type, ==, NC_SPEC_OFFSET);
	g_assert_cmpstr(s.object, ==, "librte_net_pcap.so.23.0");
	g_assert_cmphex(s.offset, ==, 0x6e00);
	g_assert_cmpuint(s.ret_bits, ==, 16);
	nc_spec_clear(&s);

	g_assert_cmpint(nc_spec_parse("libfoo.so:foo_tx@2@3", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(s.object, ==, "libfoo.so");
	g_assert_cmpstr(s.func, ==, "foo_tx");
	nc_spec_clear(&s);

	g_assert_cmpint(nc_spec_parse("rx_burst", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.type, ==, NC_SPEC_RX_BURST);
	g_assert_cmpint(s.port, ==, -1);
	nc_spec_clear(&s);

	g_assert_cmpint(nc_spec_parse("tx_burst:1", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.type, ==, NC_SPEC_TX_BURST);
	g_assert_cmpint(s.port, ==, 1);
	nc_spec_clear(&s);
}

static const struct {
	const char *spec, *message;
} bad[] = {
    {"", "empty hook spec; see: netcap mbuf --help"},
    {"fwd_one",
     "hook spec \"fwd_one\": say which argument holds the mbufs: FUNC@1 (struct rte_mbuf *), "
     "FUNC@1@2 (array and count) or FUNC@2@ret (array filled by the call); see: netcap mbuf "
     "--help"},
    {"fwd_one@7",
     "hook spec \"fwd_one@7\": argument 7 is out of range (netcap reads register arguments 1 to "
     "6); see: netcap mbuf --help"},
    {"fwd_one@0",
     "hook spec \"fwd_one@0\": argument 0 is out of range (netcap reads register arguments 1 to "
     "6); see: netcap mbuf --help"},
    {"fwd_one@x", "hook spec \"fwd_one@x\": \"x\" is not an argument number; see: netcap mbuf "
		  "--help"},
    {"fwd_burst@1@1",
     "hook spec \"fwd_burst@1@1\": one argument cannot be both the array and the count; see: "
     "netcap mbuf --help"},
    {"f@1@2@3", "hook spec \"f@1@2@3\": too many @ parts; see: netcap mbuf --help"},
    {"lib.so+6e00@1", "hook spec \"lib.so+6e00@1\": an offset is OBJECT+0xHEX, e.g. "
		      "librte_net_pcap.so.23.0+0x6e00; see: netcap mbuf --help"},
    {"rx_burst:x",
     "hook spec \"rx_burst:x\": the port must be a number (rx_burst:0); see: netcap mbuf --help"},
    {"rx_burst@2",
     "hook spec \"rx_burst@2\": the PMD burst points take a port, not arguments: rx_burst or "
     "rx_burst:PORT; see: netcap mbuf --help"},
    {"@1", "hook spec \"@1\": no function name; see: netcap mbuf --help"},
    {"a;b@1", "hook spec \"a;b@1\": not a function name; see: netcap mbuf --help"},
};

static void test_bad(gconstpointer data)
{
	const char *spec = bad[GPOINTER_TO_INT(data)].spec;
	struct nc_hook_spec s;
	char err[512] = "";

	g_assert_cmpint(nc_spec_parse(spec, &s, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==, bad[GPOINTER_TO_INT(data)].message);
	g_assert_null(s.text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/spec/every-form-parses", test_forms);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *path = g_strdup_printf("/spec/refuses/%zu", i);

		g_test_add_data_func(path, GINT_TO_POINTER(i), test_bad);
	}
	return g_test_run();
}
