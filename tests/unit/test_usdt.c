/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * USDT: the argument specs of .note.stapsdt become the locations the mbuf probe reads (or a
 * refusal that quotes the spec); usdt: hook specs parse; the fixture's notes are read as readelf
 * shows them (file offsets of the site and the semaphore included).
 */
#include <asm/ptrace.h>
#include <errno.h>
#include <glib.h>
#include <stddef.h>

#include "discover/elf.h"
#include "discover/usdt.h"
#include "plan/spec.h"

static void check_arg(const char *args, unsigned i, int type, int size, int reg_off,
		      int64_t val_off)
{
	struct nc_arg_loc l;
	char err[256];

	g_assert_cmpint(nc_usdt_arg(args, i, &l, err, sizeof(err)), ==, 0);
	g_assert_cmpint(l.type, ==, type);
	g_assert_cmpint(l.size, ==, size);
	if (type != NC_ARG_CONST)
		g_assert_cmpint(l.reg_off, ==, reg_off);
	g_assert_cmpint(l.val_off, ==, val_off);
}

static void test_args(void)
{
	const char *args = "8@%rdi -4@-4(%rbp) 4@$5 2@%bx 8@(%rbx) -1@%r9b 8@$-16 4@0x10(%r12)";

	g_assert_cmpuint(nc_usdt_nargs(args), ==, 8);
	check_arg(args, 1, NC_ARG_REG, 8, offsetof(struct pt_regs, rdi), 0);
	check_arg(args, 2, NC_ARG_REG_DEREF, -4, offsetof(struct pt_regs, rbp), -4);
	check_arg(args, 3, NC_ARG_CONST, 4, 0, 5);
	check_arg(args, 4, NC_ARG_REG, 2, offsetof(struct pt_regs, rbx), 0);
	check_arg(args, 5, NC_ARG_REG_DEREF, 8, offsetof(struct pt_regs, rbx), 0);
	check_arg(args, 6, NC_ARG_REG, -1, offsetof(struct pt_regs, r9), 0);
	check_arg(args, 7, NC_ARG_CONST, 8, 0, -16);
	check_arg(args, 8, NC_ARG_REG_DEREF, 4, offsetof(struct pt_regs, r12), 16);
}

static void check_refused(const char *args, unsigned i, int want, const char *msg)
{
	struct nc_arg_loc l;
	char err[256];

	g_assert_cmpint(nc_usdt_arg(args, i, &l, err, sizeof(err)), ==, want);
	g_assert_cmpstr(err, ==, msg);
}

static void test_refused(void)
{
	check_refused("8@%rdi", 2, -ERANGE, "the probe has 1 argument(s) (8@%rdi), not 2");
	check_refused("", 1, -ERANGE, "the probe has 0 argument(s) (none), not 1");
	check_refused(
	    "8@nc_fwd_x(%rip)", 1, -ENOTSUP,
	    "USDT argument \"8@nc_fwd_x(%rip)\": netcap reads memory at a general-purpose "
	    "register plus an offset (not %rip-relative or indexed)");
	check_refused("8@(%rax,%rbx,8)", 1, -ENOTSUP,
		      "USDT argument \"8@(%rax,%rbx,8)\": netcap reads memory at a general-purpose "
		      "register plus an offset (not %rip-relative or indexed)");
	check_refused("8@%xmm0", 1, -ENOTSUP,
		      "USDT argument \"8@%xmm0\": netcap reads general-purpose registers only");
	check_refused("3@%rdi", 1, -EINVAL, "USDT argument \"3@%rdi\": bad size");
	check_refused("%rdi", 1, -EINVAL, "USDT argument \"%rdi\" has no SIZE@");
}

static void test_specs(void)
{
	struct nc_hook_spec s;
	char err[256];

	g_assert_cmpint(nc_spec_parse("usdt:nc_fwd:burst@1@2", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpint(s.type, ==, NC_SPEC_USDT);
	g_assert_null(s.object);
	g_assert_cmpstr(s.provider, ==, "nc_fwd");
	g_assert_cmpstr(s.func, ==, "burst");
	g_assert_cmpint(s.kind, ==, NC_HOOK_VECTOR);
	g_assert_cmpuint(s.arg_cnt, ==, 2);
	nc_spec_clear(&s);
	g_assert_cmpint(nc_spec_parse("usdt:libapp.so.1:app:pkt@3", &s, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(s.object, ==, "libapp.so.1");
	g_assert_cmpstr(s.provider, ==, "app");
	g_assert_cmpstr(s.func, ==, "pkt");
	g_assert_cmpint(s.kind, ==, NC_HOOK_SINGLE);
	g_assert_cmpuint(s.arg_pkt, ==, 3);
	nc_spec_clear(&s);
	g_assert_cmpint(nc_spec_parse("usdt:pkt@1", &s, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==,
			"hook spec \"usdt:pkt@1\": a USDT probe is usdt:PROVIDER:NAME (or "
			"usdt:OBJECT:PROVIDER:NAME); see: netcap mbuf --help");
	g_assert_cmpint(nc_spec_parse("usdt::pkt@1", &s, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(nc_spec_parse("usdt:a:pkt@1@ret16", &s, err, sizeof(err)), ==, -EINVAL);
}

/* The fixture's two probes, as its notes say; offsets are the sections' file offsets */
static void test_fixture_notes(void)
{
	g_autofree char *path =
	    g_build_filename(g_getenv("NC_BUILD"), "tests", "apps", "nc_fwd", NULL);
	struct nc_usdt_probe *v;
	struct nc_elf *e;
	uint64_t off;
	size_t n;
	char err[256];

	g_assert_cmpint(nc_usdt_list(path, &v, &n, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(v[0].provider, ==, "nc_fwd");
	g_assert_cmpstr(v[0].name, ==, "burst");
	g_assert_cmpuint(nc_usdt_nargs(v[0].args), ==, 2);
	g_assert_cmpstr(v[1].name, ==, "one");
	g_assert_cmpuint(nc_usdt_nargs(v[1].args), ==, 1);
	/* PIE: the file offset of the site and of the semaphore equal their addresses in .text
	 * and .probes only up to the sections' address-offset difference: check through libelf */
	g_assert_cmpint(nc_elf_open(path, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_vaddr(e, v[0].offset, &off), ==, 0);
	g_assert_cmphex(off, ==, v[0].pc);
	g_assert_cmpint(nc_elf_vaddr(e, v[1].sem_offset, &off), ==, 0);
	g_assert_cmpint(nc_elf_object(e, "nc_fwd_one_semaphore", &off, NULL, err, sizeof(err)), ==,
			0);
	{
		uint64_t sem_vaddr;

		g_assert_cmpint(nc_elf_vaddr(e, v[1].sem_offset, &sem_vaddr), ==, 0);
		g_assert_cmphex(sem_vaddr, ==, off);
	}
	nc_elf_close(e);
	nc_usdt_free(v, n);
	g_assert_cmpint(nc_usdt_list("/nonexistent", &v, &n, err, sizeof(err)), ==, -ENOENT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/usdt/argument-forms", test_args);
	g_test_add_func("/usdt/argument-forms-refused", test_refused);
	g_test_add_func("/usdt/hook-specs", test_specs);
	g_test_add_func("/usdt/fixture-notes", test_fixture_notes);
	return g_test_run();
}
