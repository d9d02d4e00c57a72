/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Probe placement on the fixture (gcc -O2): fwd_one and fwd_burst start with `test` (the kernel
 * single-steps it) followed by a `je` it emulates, so their entry probes move 3 bytes on;
 * fwd_rx starts with `push`, emulated, so its probe stays at the entry; an unknown size keeps
 * the entry.
 */
#include <glib.h>

#include "discover/elf.h"
#include "plan/placement.h"

static char fixture[4096];

static void site_of(const char *func, uint64_t *entry, uint64_t *site, char *why, size_t len)
{
	struct nc_elf *e;
	uint64_t size;
	char err[256];

	g_assert_cmpint(nc_elf_open(fixture, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_func(e, func, entry, &size, err, sizeof(err)), ==, 0);
	nc_elf_close(e);
	g_assert_cmpint(nc_probe_site(fixture, *entry, size, site, why, len), ==, 0);
}

static void test_moves_past_test(void)
{
	uint64_t entry, site;
	char why[192];

	site_of("fwd_one", &entry, &site, why, sizeof(why));
	g_assert_cmphex(site, ==, entry + 3);
	g_assert_cmpstr(why, ==, "+0x3: je, emulated, after 1 instruction(s) from test");
	site_of("fwd_burst", &entry, &site, why, sizeof(why));
	g_assert_cmphex(site, ==, entry + 3);
}

static void test_push_stays(void)
{
	uint64_t entry, site;
	char why[192];

	site_of("fwd_rx", &entry, &site, why, sizeof(why));
	g_assert_cmphex(site, ==, entry);
	g_assert_cmpstr(why, ==, "entry: push, emulated");
}

static void test_unknown_size_stays(void)
{
	uint64_t site;
	char why[192];

	g_assert_cmpint(nc_probe_site(fixture, 0x1000, 0, &site, why, sizeof(why)), ==, 0);
	g_assert_cmphex(site, ==, 0x1000);
	g_assert_cmpstr(why, ==, "entry (function size unknown)");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_snprintf(fixture, sizeof(fixture), "%s/tests/apps/nc_fwd", g_getenv("NC_BUILD"));
	g_test_add_func("/placement/moves-past-a-single-stepped-test", test_moves_past_test);
	g_test_add_func("/placement/push-at-entry-stays", test_push_stays);
	g_test_add_func("/placement/unknown-size-keeps-the-entry", test_unknown_size_stays);
	return g_test_run();
}
