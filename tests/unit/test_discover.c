/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The discovery stage (core/discover): the per-release rte_mbuf and rte_eth_fp_ops layouts
 * against the reference values; /proc/PID/maps parsing and address-to-file translation checked on
 * this test's own process and libc; ELF symbol lookups and their error messages; the errors for a
 * missing pid and a process without DPDK; and a live dpdk-testpmd (net_pcap0 + net_null0, no
 * hugepages) whose ports, burst functions and queues nc_dpdk_inspect() must find.
 *
 * The live tests need root (they read /proc/PID/mem) and /usr/bin/dpdk-testpmd; they skip
 * otherwise. Each starts its own testpmd with a unique --file-prefix in a fixture whose teardown,
 * or the SIGABRT handler when an assertion aborts, kills that pid only and removes its runtime
 * directory and the test's temporary directory.
 */
#define _GNU_SOURCE /* dlvsym, RTLD_NOLOAD, pipe2 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover/dpdk.h"
#include "discover/dwarf.h"
#include "discover/elf.h"
#include "discover/kallsyms.h"
#include "discover/procmaps.h"

#define READY_TIMEOUT_US (15 * G_USEC_PER_SEC) /* longest wait for testpmd's ports */
#define POLL_US		 (100 * 1000)

/* A function and an object of this program, looked up by name in /proc/self/exe. */
__attribute__((noinline)) int nc_test_marker_func(int x);
__attribute__((noinline)) int nc_test_marker_func(int x)
{
	return x * 3 + 1;
}

int nc_test_marker_var = 42;

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

/* ---- layout tables ---- */

static void check_mbuf_common(const struct nc_mbuf_layout *l)
{
	g_assert_nonnull(l);
	g_assert_cmpuint(l->buf_addr, ==, 0);
	g_assert_cmpuint(l->data_off, ==, 16);
	g_assert_cmpuint(l->nb_segs, ==, 20);
	g_assert_cmpuint(l->port, ==, 22);
	g_assert_cmpuint(l->ol_flags, ==, 24);
	g_assert_cmpuint(l->pkt_len, ==, 36);
	g_assert_cmpuint(l->data_len, ==, 40);
	g_assert_cmpuint(l->vlan_tci, ==, 42);
	g_assert_cmpuint(l->vlan_tci_outer, ==, 52);
}

static void test_mbuf_layout_iova_in_mbuf_all_releases(void)
{
	enum nc_dpdk_abi abis[] = {NC_DPDK_21_11, NC_DPDK_22_11, NC_DPDK_23_11, NC_DPDK_24_11};

	for (size_t i = 0; i < G_N_ELEMENTS(abis); i++) {
		const struct nc_mbuf_layout *l = nc_dpdk_mbuf_layout(abis[i], true);

		check_mbuf_common(l);
		g_assert_cmpuint(l->next, ==, 64);
	}
}

static void test_mbuf_layout_no_iova_next_at_8(void)
{
	enum nc_dpdk_abi abis[] = {NC_DPDK_22_11, NC_DPDK_23_11, NC_DPDK_24_11};

	for (size_t i = 0; i < G_N_ELEMENTS(abis); i++) {
		const struct nc_mbuf_layout *l = nc_dpdk_mbuf_layout(abis[i], false);

		check_mbuf_common(l);
		g_assert_cmpuint(l->next, ==, 8);
	}
}

static void test_mbuf_layout_21_11_has_no_no_iova_build(void)
{
	g_assert_null(nc_dpdk_mbuf_layout(NC_DPDK_21_11, false));
	g_assert_null(nc_dpdk_mbuf_layout((enum nc_dpdk_abi)99, true));
}

static void check_fp_ops(enum nc_dpdk_abi abi, unsigned rx, unsigned rxq, unsigned tx, unsigned txq)
{
	const struct nc_fp_ops_layout *l = nc_dpdk_fp_ops_layout(abi);

	g_assert_nonnull(l);
	g_assert_cmpuint(l->rx_pkt_burst, ==, rx);
	g_assert_cmpuint(l->rxq_data, ==, rxq);
	g_assert_cmpuint(l->tx_pkt_burst, ==, tx);
	g_assert_cmpuint(l->txq_data, ==, txq);
	g_assert_cmpuint(l->size, ==, 128);
}

static void test_fp_ops_layout_21_11(void)
{
	check_fp_ops(NC_DPDK_21_11, 0, 24, 64, 88);
}

static void test_fp_ops_layout_22_11(void)
{
	check_fp_ops(NC_DPDK_22_11, 0, 24, 64, 88);
}

static void test_fp_ops_layout_23_11_moved_queues_first(void)
{
	check_fp_ops(NC_DPDK_23_11, 16, 0, 80, 64);
}

static void test_fp_ops_layout_24_11(void)
{
	check_fp_ops(NC_DPDK_24_11, 16, 0, 80, 64);
	g_assert_null(nc_dpdk_fp_ops_layout((enum nc_dpdk_abi)99));
}

static void test_ol_flags_bits(void)
{
	g_assert_cmphex(NC_MBUF_F_RX_VLAN, ==, 0x1);
	g_assert_cmphex(NC_MBUF_F_RX_VLAN_STRIPPED, ==, 0x40);
	g_assert_cmphex(NC_MBUF_F_RX_QINQ_STRIPPED, ==, 0x8000);
	g_assert_cmphex(NC_MBUF_F_RX_QINQ, ==, 0x100000);
	g_assert_cmphex(NC_MBUF_F_TX_QINQ, ==, 0x2000000000000);
	g_assert_cmphex(NC_MBUF_F_TX_VLAN, ==, 0x200000000000000);
}

static void test_abi_from_ethdev_soname(void)
{
	static const struct {
		const char *name;
		enum nc_dpdk_abi abi;
		const char *version;
	} rows[] = {
	    {"librte_ethdev.so.22", NC_DPDK_21_11, "21.11"},
	    {"/usr/lib/x86_64-linux-gnu/librte_ethdev.so.23.0", NC_DPDK_22_11, "22.11"},
	    {"librte_ethdev.so.24.0", NC_DPDK_23_11, "23.11"},
	    {"/opt/dpdk/lib/librte_ethdev.so.25", NC_DPDK_24_11, "24.11"},
	};
	char err[256];

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		enum nc_dpdk_abi abi = 99;

		g_assert_cmpint(nc_dpdk_abi_from_soname(rows[i].name, &abi, err, sizeof(err)), ==,
				0);
		g_assert_cmpint(abi, ==, rows[i].abi);
		g_assert_cmpstr(nc_dpdk_abi_version(abi), ==, rows[i].version);
	}
}

static void test_abi_unknown_soname_is_enotsup(void)
{
	enum nc_dpdk_abi abi = NC_DPDK_22_11;
	char err[256];

	g_assert_cmpint(
	    nc_dpdk_abi_from_soname("/usr/lib/librte_ethdev.so.26.0", &abi, err, sizeof(err)), ==,
	    -ENOTSUP);
	g_assert_cmpstr(
	    err, ==,
	    "DPDK 25.11 or later (librte_ethdev.so.26) is newer than netcap: its rte_mbuf "
	    "and rte_eth_fp_ops layouts are not in netcap's tables, which end at 24.11 "
	    "(librte_ethdev.so.25); not reading it with a guessed layout");
	g_assert_cmpint(abi, ==, NC_DPDK_22_11);
	/* 20.11 by its release, and why */
	g_assert_cmpint(nc_dpdk_abi_from_soname("/usr/lib/x86_64-linux-gnu/librte_ethdev.so.21.0",
						&abi, err, sizeof(err)),
			==, -ENOTSUP);
	g_assert_cmpstr(
	    err, ==,
	    "DPDK 20.11 (librte_ethdev.so.21) is not supported: it has no rte_eth_fp_ops, "
	    "the table netcap finds the burst functions in (netcap reads DPDK 21.11 to "
	    "24.11)");
	g_assert_cmpint(nc_dpdk_abi_from_soname("librte_ethdev.so.20.0", &abi, err, sizeof(err)),
			==, -ENOTSUP);
	g_assert_nonnull(strstr(err, "older than 20.11 (librte_ethdev.so.20)"));
	g_assert_cmpint(abi, ==, NC_DPDK_22_11);
	g_assert_cmpint(nc_dpdk_abi_from_soname("librte_ethdev.so", &abi, err, sizeof(err)), ==,
			-EINVAL);
	g_assert_cmpint(nc_dpdk_abi_from_soname("librte_mbuf.so.23", &abi, err, sizeof(err)), ==,
			-EINVAL);
}

/* ---- /proc/PID/maps ---- */

static const char sample_maps[] =
    "5631e99c0000-5631e9a00000 r--p 00000000 fe:00 10977374                   "
    "/usr/bin/dpdk-testpmd\n"
    "5631e9a00000-5631e9a59000 r-xp 00040000 fe:00 10977374                   "
    "/usr/bin/dpdk-testpmd\n"
    "5631eb000000-5631eb021000 rw-p 00000000 00:00 0                          [heap]\n"
    "7fd28a400000-7fd28a401000 rw-p 00000000 00:00 0 \n"
    "7fd28a420000-7fd28a42b000 r-xp 00002000 fe:00 14885593                   /opt/my "
    "dir/libx.so (deleted)\n";

static void test_maps_parse_fields_and_paths(void)
{
	struct nc_maps *m = NULL;
	const struct nc_maps_entry *e;
	const char *path = NULL;
	uint64_t off = 0;
	char err[256];

	g_assert_cmpint(nc_maps_parse(sample_maps, &m, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(m->n, ==, 5);
	e = &m->v[1];
	g_assert_cmphex(e->start, ==, 0x5631e9a00000);
	g_assert_cmphex(e->end, ==, 0x5631e9a59000);
	g_assert_cmphex(e->offset, ==, 0x40000);
	g_assert_cmpstr(e->perms, ==, "r-xp");
	g_assert_cmpstr(e->path, ==, "/usr/bin/dpdk-testpmd");
	g_assert_cmpstr(m->v[2].path, ==, "[heap]");
	g_assert_cmpstr(m->v[3].path, ==, "");
	g_assert_cmpstr(m->v[4].path, ==, "/opt/my dir/libx.so (deleted)");

	g_assert_true(nc_maps_find(m, 0x5631e9a00000) == &m->v[1]);
	g_assert_true(nc_maps_find(m, 0x5631e9a58fff) == &m->v[1]);
	g_assert_true(nc_maps_find(m, 0x7fd28a42afff) == &m->v[4]);
	g_assert_null(nc_maps_find(m, 0x5631e9a59000));
	g_assert_null(nc_maps_find(m, 0));

	g_assert_cmpint(nc_maps_to_file(m, 0x5631e9a01234, &path, &off, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(path, ==, "/usr/bin/dpdk-testpmd");
	g_assert_cmphex(off, ==, 0x41234);
	g_assert_cmpint(nc_maps_to_file(m, 0x5631eb000010, &path, &off, err, sizeof(err)), ==,
			-ENOENT);
	g_assert_nonnull(strstr(err, "[heap]"));
	g_assert_cmpint(nc_maps_to_file(m, 0x1000, &path, &off, err, sizeof(err)), ==, -EFAULT);
	nc_maps_free(m);
}

/* The device and inode of each maps line; a path parsed from text is kept as written */
static void test_maps_parse_dev_inode(void)
{
	struct nc_maps *m = NULL;
	char err[256];

	g_assert_cmpint(nc_maps_parse(sample_maps, &m, err, sizeof(err)), ==, 0);
	g_assert_cmphex(m->v[1].dev, ==, makedev(0xfe, 0));
	g_assert_cmpuint(m->v[1].inode, ==, 10977374);
	g_assert_cmpuint(m->v[2].inode, ==, 0);
	g_assert_true(m->v[1].shown == m->v[1].path);
	g_assert_cmpstr(nc_maps_local_path(m, "/usr/bin/dpdk-testpmd"), ==,
			"/usr/bin/dpdk-testpmd");
	g_assert_null(nc_maps_local_path(m, "/usr/bin/other"));
	nc_maps_free(m);
}

/*
 * A process with a root of its own (a container: its mount namespace, its root pivoted, the host's
 * tree detached) maps /H/f of its root while the host has another file at /H/f: the path netcap
 * gets for that mapping opens the container's file, never the host's.
 */
static void test_maps_container_file_not_the_hosts(void)
{
	g_autofree char *host = g_dir_make_tmp("nc-host-XXXXXX", NULL);
	g_autofree char *root = g_dir_make_tmp("nc-root-XXXXXX", NULL);
	g_autofree char *inner = g_strconcat(root, host, NULL);
	g_autofree char *inner_f = g_strconcat(inner, "/f", NULL);
	g_autofree char *host_f = g_strconcat(host, "/f", NULL);
	g_autofree char *old = g_strconcat(root, "/old", NULL);
	g_autofree char *text = NULL;
	const char *local;
	struct nc_maps *m = NULL;
	int go[2], status;
	char err[256], c;
	pid_t pid;

	g_assert_nonnull(host);
	g_assert_nonnull(root);
	g_assert_cmpint(g_mkdir_with_parents(inner, 0755), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(old, 0755), ==, 0);
	g_assert_true(g_file_set_contents(inner_f, "container", -1, NULL));
	g_assert_true(g_file_set_contents(host_f, "host", -1, NULL));
	g_assert_cmpint(pipe(go), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		char path[4096];
		int fd;

		close(go[0]);
		snprintf(path, sizeof(path), "%s/f", host);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(root, root, NULL, MS_BIND, NULL) || chdir(root) ||
		    syscall(SYS_pivot_root, ".", "old") || chdir("/") ||
		    umount2("/old", MNT_DETACH) || (fd = open(path, O_RDONLY)) < 0 ||
		    mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
			_exit(77);
		if (write(go[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1) {
		close(go[0]);
		waitpid(pid, &status, 0);
		g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 77);
		g_test_skip("no mount namespace and pivot_root here (root needed)");
		goto out;
	}
	close(go[0]);
	g_assert_cmpint(nc_maps_read(pid, &m, err, sizeof(err)), ==, 0);
	/* the kernel shows the container's path, which the host has too */
	local = nc_maps_local_path(m, host_f);
	g_assert_nonnull(local);
	g_assert_cmpstr(local, !=, host_f);
	g_assert_true(g_str_has_prefix(local, "/proc/"));
	g_assert_true(g_file_get_contents(local, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "container");
	nc_maps_free(m);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
out:
	g_unlink(inner_f);
	g_unlink(host_f);
	g_rmdir(inner);
	g_rmdir(host);
	/* the inner copy of the host's temporary directory's parents, then the root */
	for (char *p = strrchr(inner, '/'); p && p > inner + strlen(root);
	     p = strrchr(inner, '/')) {
		*p = '\0';
		g_rmdir(inner);
	}
	g_rmdir(old);
	g_rmdir(root);
}

static void test_maps_bad_line_is_einval(void)
{
	struct nc_maps *m = NULL;
	char err[256];

	g_assert_cmpint(nc_maps_parse("00400000-00401000 r-xp\n", &m, err, sizeof(err)), ==,
			-EINVAL);
	g_assert_null(m);
	g_assert_nonnull(strstr(err, "line 1"));
}

static char *self_exe(void)
{
	char *exe = g_file_read_link("/proc/self/exe", NULL);

	g_assert_nonnull(exe);
	return exe;
}

static void test_maps_own_function_translates_to_its_symbol_offset(void)
{
	uint64_t addr = (uint64_t)(uintptr_t)&nc_test_marker_func, off = 0, symoff = 0, size = 0;
	struct nc_maps *m = NULL;
	struct nc_elf *e = NULL;
	const char *path = NULL;
	char *exe = self_exe(), err[256], sym[128];

	g_assert_cmpint(nc_test_marker_func(1), ==, 4);
	g_assert_cmpint(nc_maps_read(getpid(), &m, err, sizeof(err)), ==, 0);
	g_assert_nonnull(strchr(nc_maps_find(m, addr)->perms, 'x'));
	g_assert_cmpint(nc_maps_to_file(m, addr, &path, &off, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(path, ==, exe);

	g_assert_cmpint(nc_elf_open("/proc/self/exe", &e, err, sizeof(err)), ==, 0);
	g_assert_true(nc_elf_has_symtab(e));
	g_assert_cmpint(nc_elf_func(e, "nc_test_marker_func", &symoff, &size, err, sizeof(err)), ==,
			0);
	g_assert_cmphex(symoff, ==, off);
	g_assert_cmpuint(size, >, 0);

	g_assert_cmpint(nc_elf_symbolize(e, symoff, sym, sizeof(sym)), ==, 0);
	g_assert_cmpstr(sym, ==, "nc_test_marker_func");
	g_assert_cmpint(nc_elf_symbolize(e, symoff + 1, sym, sizeof(sym)), ==, 0);
	g_assert_cmpstr(sym, ==, "nc_test_marker_func+0x1");
	nc_elf_close(e);
	nc_maps_free(m);
	g_free(exe);
}

static void test_maps_load_base_plus_vaddr_is_runtime_address(void)
{
	struct nc_maps *m = NULL;
	struct nc_maps_file *files = NULL;
	struct nc_elf *e = NULL;
	uint64_t vaddr = 0, size = 0, base = 0;
	size_t n = 0, i;
	bool exe_listed = false, libc_listed = false;
	char *exe = self_exe(), err[256];

	g_assert_cmpint(nc_maps_read(getpid(), &m, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_open(exe, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_object(e, "nc_test_marker_var", &vaddr, &size, err, sizeof(err)), ==,
			0);
	g_assert_cmpuint(size, ==, sizeof(int));
	g_assert_cmpint(nc_maps_load_base(m, exe, e, &base, err, sizeof(err)), ==, 0);
	g_assert_cmphex(base + vaddr, ==, (uint64_t)(uintptr_t)&nc_test_marker_var);

	g_assert_cmpint(nc_maps_elf_files(m, &files, &n, err, sizeof(err)), ==, 0);
	for (i = 0; i < n; i++) {
		if (strcmp(files[i].path, exe) == 0) {
			exe_listed = true;
			g_assert_cmphex(files[i].base, ==, base);
		}
		if (strcmp(base_name(files[i].path), "libc.so.6") == 0)
			libc_listed = true;
		for (size_t j = 0; j < i; j++)
			g_assert_cmpstr(files[j].path, !=, files[i].path);
	}
	g_assert_true(exe_listed);
	g_assert_true(libc_listed);
	free(files);
	nc_elf_close(e);
	nc_maps_free(m);
	g_free(exe);
}

/* The path of libc as mapped in this process. */
static char *libc_path(void)
{
	struct nc_maps *m = NULL;
	char err[256], *path = NULL;

	g_assert_cmpint(nc_maps_read(getpid(), &m, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < m->n && !path; i++)
		if (strcmp(base_name(m->v[i].path), "libc.so.6") == 0)
			path = g_strdup(m->v[i].path);
	nc_maps_free(m);
	g_assert_nonnull(path);
	return path;
}

/* Looks name up in libc with nc_elf and with the dynamic linker; both give one file offset. */
static void check_libc_func(const char *libc, const char *name)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *addr = h ? dlsym(h, name) : NULL;
	struct nc_maps *m = NULL;
	struct nc_elf *e = NULL;
	const char *path = NULL;
	uint64_t off = 0, elf_off = 0;
	char err[256];

	g_assert_nonnull(addr);
	g_assert_cmpint(nc_maps_read(getpid(), &m, err, sizeof(err)), ==, 0);
	g_assert_cmpint(
	    nc_maps_to_file(m, (uint64_t)(uintptr_t)addr, &path, &off, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(path, ==, libc);
	g_assert_cmpint(nc_elf_open(libc, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_func(e, name, &elf_off, NULL, err, sizeof(err)), ==, 0);
	g_assert_cmphex(elf_off, ==, off);
	nc_elf_close(e);
	nc_maps_free(m);
	dlclose(h);
}

static void test_elf_libc_getpid_in_dynsym(void)
{
	char *libc = libc_path();
	struct nc_elf *e = NULL;
	char err[256];

	g_assert_cmpint(nc_elf_open(libc, &e, err, sizeof(err)), ==, 0);
	g_assert_false(nc_elf_has_symtab(e)); /* Debian's libc: .dynsym only */
	nc_elf_close(e);
	check_libc_func(libc, "getpid");
	g_free(libc);
}

/* timer_delete: .dynsym lists the hidden GLIBC_2.2.5 version before the default GLIBC_2.34. */
static void test_elf_dynsym_prefers_default_version(void)
{
	char *libc = libc_path();

	check_libc_func(libc, "timer_delete");
	g_free(libc);
}

static void test_elf_missing_function_names_symbol_and_file(void)
{
	char *libc = libc_path(), *want;
	struct nc_elf *e = NULL;
	uint64_t off = 7, vaddr = 7;
	char err[256];

	g_assert_cmpint(nc_elf_open(libc, &e, err, sizeof(err)), ==, 0);
	g_assert_cmpint(nc_elf_func(e, "nc_no_such_function", &off, NULL, err, sizeof(err)), ==,
			-ENOENT);
	want = g_strdup_printf("no function \"nc_no_such_function\" in %s (stripped?)", libc);
	g_assert_cmpstr(err, ==, want);
	g_assert_cmpuint(off, ==, 7);
	g_assert_cmpint(nc_elf_object(e, "getpid", &vaddr, NULL, err, sizeof(err)), ==, -ENOENT);
	g_assert_cmpuint(vaddr, ==, 7);
	g_free(want);
	nc_elf_close(e);
	g_free(libc);
}

static void test_elf_not_elf_is_enoexec(void)
{
	struct nc_elf *e = NULL;
	char err[512];

	GError *gerr = NULL;
	char *path = NULL;
	int fd = g_file_open_tmp("netcap-test-discover-XXXXXX", &path, &gerr);

	g_assert_no_error(gerr);
	g_assert_cmpint(write(fd, "not ELF\n", 8), ==, 8);
	close(fd);
	g_assert_cmpint(nc_elf_open(path, &e, err, sizeof(err)), ==, -ENOEXEC);
	unlink(path);
	g_assert_null(e);
	g_assert_nonnull(strstr(err, path));
	g_free(path);
	g_assert_cmpint(nc_elf_open("/nonexistent/netcap", &e, err, sizeof(err)), ==, -ENOENT);
	g_assert_nonnull(strstr(err, "/nonexistent/netcap"));
}

/* ---- process errors ---- */

static void test_dpdk_nonexistent_pid_is_esrch(void)
{
	struct nc_dpdk_proc *p = NULL;
	char *text = NULL, err[256], want[64];
	long pid_max;

	g_assert_true(g_file_get_contents("/proc/sys/kernel/pid_max", &text, NULL, NULL));
	pid_max = strtol(text, NULL, 10);
	g_free(text);
	g_assert_cmpint(nc_dpdk_inspect((pid_t)pid_max + 1, &p, err, sizeof(err)), ==, -ESRCH);
	snprintf(want, sizeof(want), "no process with pid %ld", pid_max + 1);
	g_assert_cmpstr(err, ==, want);
	g_assert_null(p);
}

/* Waits (bounded) until /proc/PID/comm reads comm, i.e. the child has exec'ed. */
static bool wait_comm(GPid pid, const char *comm)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	while (g_get_monotonic_time() < end) {
		char *text = NULL;
		bool ok = g_file_get_contents(path, &text, NULL, NULL) &&
			  strcmp(g_strchomp(text), comm) == 0;

		g_free(text);
		if (ok)
			return true;
		g_usleep(10 * 1000);
	}
	return false;
}

static volatile pid_t sleep_pid; /* for on_abort() */

static void test_dpdk_non_dpdk_process_is_enoent(void)
{
	char *argv[] = {"sleep", "30", NULL}, err[256], *want;
	struct nc_dpdk_proc *p = NULL;
	GError *gerr = NULL;
	GPid pid;
	int r;

	g_assert_true(g_spawn_async(NULL, argv, NULL,
				    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				    &pid, &gerr));
	g_assert_no_error(gerr);
	sleep_pid = pid;
	g_assert_true(wait_comm(pid, "sleep"));
	r = nc_dpdk_inspect(pid, &p, err, sizeof(err));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sleep_pid = 0;
	g_assert_cmpint(r, ==, -ENOENT);
	want = g_strdup_printf("process %d (sleep) is not a DPDK application (no librte_ethdev "
			       "mapped)",
			       (int)pid);
	g_assert_cmpstr(err, ==, want);
	g_assert_null(p);
	g_free(want);
}

/* ---- live dpdk-testpmd ---- */

struct live {
	char *dir;     /* temporary directory: in.pcap, out.pcap, testpmd.log */
	char *prefix;  /* --file-prefix */
	char *runtime; /* <runtime>/dpdk/<prefix> */
	GPid pid;      /* testpmd, 0 when not running */
	int stdin_w;   /* write end of testpmd's stdin, kept open so it stays up */
	bool skipped;
};

static struct live *volatile current_live; /* for on_abort() */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	if (dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Kills testpmd (this fixture's pid only) and waits for it, up to 5 s with SIGTERM. */
static void stop_testpmd(struct live *fx)
{
	gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	if (!fx->pid)
		return;
	kill(fx->pid, SIGTERM);
	while (waitpid(fx->pid, NULL, WNOHANG) == 0) {
		if (g_get_monotonic_time() > end) {
			kill(fx->pid, SIGKILL);
			waitpid(fx->pid, NULL, 0);
			break;
		}
		g_usleep(10 * 1000);
	}
	fx->pid = 0;
}

/* A failed assertion aborts in the test's own thread: kill our children, remove our files. */
static void on_abort(int sig)
{
	struct live *fx = current_live;

	if (sleep_pid)
		kill(sleep_pid, SIGKILL);
	if (fx) {
		if (fx->pid)
			kill(fx->pid, SIGKILL);
		remove_tree(fx->runtime);
		remove_tree(fx->dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Ten 60-byte UDP packets for net_pcap0's rx stream. */
static void write_rx_pcap(const char *path)
{
	static const uint8_t pkt[60] = {
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	    0x45, 0x00, 0x00, 0x2e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00,
	    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x30, 0x39, 0x00, 0x35, 0x00, 0x1a, 0x00, 0x00,
	};
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;

	g_assert_nonnull(pd);
	d = pcap_dump_open(pd, path);
	g_assert_nonnull(d);
	for (int i = 0; i < 10; i++) {
		struct pcap_pkthdr h = {.caplen = sizeof(pkt), .len = sizeof(pkt)};

		h.ts.tv_sec = 1700000000 + i;
		pcap_dump((u_char *)d, &h, pkt);
	}
	pcap_dump_close(d);
	pcap_close(pd);
}

static void live_setup(struct live *fx, gconstpointer data)
{
	const char *rundir = g_getenv("RUNTIME_DIRECTORY");
	char *testpmd = g_find_program_in_path("dpdk-testpmd");
	char *in, *out, *log, *vdev;
	GError *gerr = NULL;
	int pipefd[2], logfd;

	(void)data;
	memset(fx, 0, sizeof(*fx));
	fx->stdin_w = -1;
	if (geteuid() != 0 || !testpmd) {
		fx->skipped = true;
		g_free(testpmd);
		return;
	}
	fx->dir = g_dir_make_tmp("netcap-test-discover-XXXXXX", &gerr);
	g_assert_no_error(gerr);
	fx->prefix = g_strdup_printf("netcap_disc_%d", (int)getpid());
	fx->runtime = g_strdup_printf("%s/dpdk/%s", rundir ? rundir : "/var/run", fx->prefix);
	current_live = fx;

	in = g_build_filename(fx->dir, "in.pcap", NULL);
	out = g_build_filename(fx->dir, "out.pcap", NULL);
	log = g_build_filename(fx->dir, "testpmd.log", NULL);
	write_rx_pcap(in);
	vdev = g_strdup_printf("net_pcap0,rx_pcap=%s,tx_pcap=%s", in, out);
	{
		char *argv[] = {testpmd,	 "--no-huge", "--no-pci", "-m",
				"256",		 "-l",	      "0-1",	  "--file-prefix",
				fx->prefix,	 "--vdev",    vdev,	  "--vdev",
				"net_null0",	 "--",	      "-i",	  "--total-num-mbufs=4096",
				"--no-flush-rx", NULL};

		g_assert_cmpint(pipe2(pipefd, O_CLOEXEC), ==, 0);
		logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		g_assert_cmpint(logfd, >=, 0);
		g_assert_true(g_spawn_async_with_fds(fx->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
						     NULL, NULL, &fx->pid, pipefd[0], logfd, logfd,
						     &gerr));
		g_assert_no_error(gerr);
	}
	close(pipefd[0]);
	close(logfd);
	fx->stdin_w = pipefd[1];
	g_free(vdev);
	g_free(log);
	g_free(out);
	g_free(in);
	g_free(testpmd);
}

static void live_teardown(struct live *fx, gconstpointer data)
{
	(void)data;
	stop_testpmd(fx);
	if (fx->stdin_w >= 0)
		close(fx->stdin_w);
	remove_tree(fx->runtime);
	remove_tree(fx->dir);
	current_live = NULL;
	if (fx->runtime)
		g_assert_false(g_file_test(fx->runtime, G_FILE_TEST_EXISTS));
	g_free(fx->runtime);
	g_free(fx->prefix);
	g_free(fx->dir);
}

static bool live_skip(const struct live *fx)
{
	if (!fx->skipped)
		return false;
	g_test_skip(geteuid() != 0 ? "needs root: reads /proc/PID/mem of dpdk-testpmd"
				   : "dpdk-testpmd is not installed");
	return true;
}

static char *testpmd_log(const struct live *fx)
{
	char *path = g_build_filename(fx->dir, "testpmd.log", NULL), *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("(no log)");
	g_free(path);
	return text;
}

/*
 * Polls nc_dpdk_inspect() (bounded by READY_TIMEOUT_US) until exactly `ports` ports are listed,
 * all started. Returns the inspection, or NULL after marking the test failed with the last error
 * and testpmd's log.
 */
static struct nc_dpdk_proc *wait_ports(struct live *fx, size_t ports)
{
	gint64 end = g_get_monotonic_time() + READY_TIMEOUT_US;
	char err[256] = "";

	while (g_get_monotonic_time() < end) {
		struct nc_dpdk_proc *p = NULL;
		size_t started = 0;

		if (waitpid(fx->pid, NULL, WNOHANG) == fx->pid) {
			char *log = testpmd_log(fx);

			fx->pid = 0;
			g_test_fail_printf("dpdk-testpmd exited early:\n%s", log);
			g_free(log);
			return NULL;
		}
		if (nc_dpdk_inspect(fx->pid, &p, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < p->n_ports; i++)
				started += p->ports[i].started;
			if (p->n_ports == ports && started == ports)
				return p;
			snprintf(err, sizeof(err), "%zu ports listed, %zu started", p->n_ports,
				 started);
			nc_dpdk_free(p);
		}
		g_usleep(POLL_US);
	}
	{
		char *log = testpmd_log(fx);

		g_test_fail_printf("testpmd's ports did not start in time (last: %s); log:\n%s",
				   err, log);
		g_free(log);
	}
	return NULL;
}

static void check_func(const struct nc_dpdk_proc *p, const struct nc_dpdk_func *f, const char *file,
		       const char *what)
{
	const struct nc_maps_entry *ent = nc_maps_find(p->maps, f->addr);
	struct nc_elf *e = NULL;
	char err[256];

	g_test_message("%s: 0x%" G_GINT64_MODIFIER "x = %s+0x%" G_GINT64_MODIFIER "x (%s)", what,
		       f->addr, f->path, f->offset, f->symbol ? f->symbol : "no symbol");
	g_assert_nonnull(f->path);
	g_assert_cmpstr(base_name(f->path), ==, file);
	g_assert_cmpuint(f->offset, !=, 0);
	g_assert_nonnull(ent);
	g_assert_nonnull(strchr(ent->perms, 'x'));
	g_assert_cmphex(f->offset, ==, f->addr - ent->start + ent->offset);
	/* Debian's PMDs are stripped and their burst functions static: no name to give */
	g_assert_cmpint(nc_elf_open(f->path, &e, err, sizeof(err)), ==, 0);
	g_assert_false(nc_elf_has_symtab(e));
	nc_elf_close(e);
	g_assert_null(f->symbol);
}

static void test_live_testpmd_ports_and_burst_functions(struct live *fx, gconstpointer data)
{
	struct nc_dpdk_proc *p;
	const char *path = NULL;
	uint64_t off = 0;
	char err[256], *want;

	(void)data;
	if (live_skip(fx))
		return;
	p = wait_ports(fx, 2);
	if (!p)
		return;
	g_test_message("pid %d (%s) DPDK %s, ethdev %s, rte_eth_fp_ops at 0x%" G_GINT64_MODIFIER
		       "x in %s, %u entries",
		       (int)p->pid, p->comm, p->version, p->ethdev_path, p->fp_ops_addr,
		       p->fp_ops_path, p->fp_ops_count);
	g_assert_cmpint(p->pid, ==, fx->pid);
	g_assert_cmpstr(p->comm, ==, "dpdk-testpmd");
	g_assert_cmpstr(base_name(p->exe), ==, "dpdk-testpmd");
	g_assert_cmpint(p->abi, ==, NC_DPDK_22_11);
	g_assert_cmpstr(p->version, ==, "22.11");
	g_assert_cmpstr(base_name(p->ethdev_path), ==, "librte_ethdev.so.23.0");
	g_assert_cmpuint(p->mbuf.next, ==, 64);
	g_assert_cmpuint(p->fp_ops_layout.rxq_data, ==, 24);
	/* R_X86_64_COPY: the live array is in the executable's .bss */
	g_assert_true(p->fp_ops_in_exe);
	g_assert_cmpstr(p->fp_ops_path, ==, p->exe);
	g_assert_cmpuint(p->fp_ops_count, ==, 32); /* RTE_MAX_ETHPORTS */

	g_assert_cmpuint(p->n_ports, ==, 2);
	for (size_t i = 0; i < 2; i++) {
		const struct nc_dpdk_port *port = &p->ports[i];
		const char *pmd = i == 0 ? "librte_net_pcap.so.23.0" : "librte_net_null.so.23.0";
		char what[32];

		g_assert_cmpuint(port->id, ==, i);
		g_assert_true(port->started);
		snprintf(what, sizeof(what), "port %zu rx", i);
		check_func(p, &port->rx, pmd, what);
		snprintf(what, sizeof(what), "port %zu tx", i);
		check_func(p, &port->tx, pmd, what);
		g_test_message("port %zu: %u rx queues (first 0x%" G_GINT64_MODIFIER
			       "x), %u tx queues (first 0x%" G_GINT64_MODIFIER "x)",
			       i, port->n_rxq, port->rxq[0], port->n_txq, port->txq[0]);
		g_assert_cmpuint(port->n_rxq, >=, 1);
		g_assert_cmpuint(port->n_txq, >=, 1);
		g_assert_cmphex(port->rxq[0], !=, port->txq[0]);
	}
	g_assert_cmphex(p->ports[0].rxq[0], !=, p->ports[1].rxq[0]);

	/* exported functions resolve in the library that defines them, the rest name the pid */
	g_assert_cmpint(nc_dpdk_resolve_func(p, "rte_eth_dev_start", &path, &off, err, sizeof(err)),
			==, 0);
	g_assert_cmpstr(base_name(path), ==, "librte_ethdev.so.23.0");
	g_assert_cmpuint(off, !=, 0);
	g_assert_cmpint(
	    nc_dpdk_resolve_func(p, "nc_no_such_function", &path, &off, err, sizeof(err)), ==,
	    -ENOENT);
	want = g_strdup_printf("no function \"nc_no_such_function\" in /proc/%d/exe or its "
			       "libraries (stripped?); try: netcap list --pid %d",
			       (int)fx->pid, (int)fx->pid);
	g_assert_cmpstr(err, ==, want);
	g_free(want);
	nc_dpdk_free(p);
}

/* After "port stop 1" ethdev's dummy burst functions are back in port 1's entry. */
static void test_live_testpmd_stopped_port_is_left_out(struct live *fx, gconstpointer data)
{
	static const char cmd[] = "port stop 1\n";
	struct nc_dpdk_proc *p;

	(void)data;
	if (live_skip(fx))
		return;
	p = wait_ports(fx, 2);
	if (!p)
		return;
	nc_dpdk_free(p);
	g_assert_cmpint(write(fx->stdin_w, cmd, strlen(cmd)), ==, (ssize_t)strlen(cmd));
	p = wait_ports(fx, 1);
	if (!p)
		return;
	g_assert_cmpuint(p->ports[0].id, ==, 0);
	g_assert_cmpstr(base_name(p->ports[0].rx.path), ==, "librte_net_pcap.so.23.0");
	nc_dpdk_free(p);
}

#define LIVE(path, fn) g_test_add(path, struct live, NULL, live_setup, fn, live_teardown)

/* The fixture is built with -g: its DWARF gives the same mbuf layout as the 22.11 table, and lists
 * its hook functions with the specs that fit them */
static const char *fixture_path(void)
{
	static char path[4096];

	g_snprintf(path, sizeof(path), "%s/tests/apps/nc_fwd", g_getenv("NC_BUILD"));
	return path;
}

static void test_dwarf_mbuf_layout(void)
{
	struct nc_mbuf_layout l;
	char err[256];

	g_assert_cmpint(nc_dwarf_mbuf_layout(fixture_path(), &l, err, sizeof(err)), ==, 0);
	g_assert_cmpmem(&l, sizeof(l), nc_dpdk_mbuf_layout(NC_DPDK_22_11, true), sizeof(l));
	g_assert_cmpint(nc_dwarf_mbuf_layout("/bin/true", &l, err, sizeof(err)), ==, -ENOENT);
	g_assert_cmpstr(err, ==, "no DWARF description of struct rte_mbuf in /bin/true");
}

static void test_dwarf_mbuf_funcs(void)
{
	struct nc_mbuf_func *f;
	size_t n;
	char err[256];
	int seen = 0;

	g_assert_cmpint(nc_dwarf_mbuf_funcs(fixture_path(), &f, &n, err, sizeof(err)), ==, 0);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f[i].name, "fwd_one")) {
			g_assert_true(!f[i].array && f[i].arg_pkt == 1);
			seen |= 1;
		} else if (!strcmp(f[i].name, "fwd_burst")) {
			g_assert_true(f[i].array && f[i].arg_pkt == 1 && f[i].arg_cnt == 2 &&
				      !f[i].ret_count);
			seen |= 2;
		} else if (!strcmp(f[i].name, "fwd_rx")) {
			g_assert_true(f[i].array && f[i].arg_pkt == 2 && f[i].arg_cnt == 3 &&
				      f[i].ret_count);
			g_assert_cmpstr(f[i].proto, ==,
					"uint16_t fwd_rx(uint16_t, struct rte_mbuf **, uint16_t)");
			seen |= 4;
		}
	}
	g_assert_cmpint(seen, ==, 7);
	nc_mbuf_funcs_free(f, n);
	g_assert_cmpint(nc_dwarf_mbuf_funcs("/bin/true", &f, &n, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(n, ==, 0);
}

/* A recorded /proc/kallsyms and /proc/modules (addresses shortened, the shape kept) */
static const char kallsyms_text[] = "ffffffff81000000 T _stext\n"
				    "ffffffff81000000 T startup_64\n"
				    "ffffffff81100000 T sk_skb_reason_drop\n"
				    "ffffffff81100200 T __udp4_lib_rcv\n"
				    "ffffffff81200000 T bpf_trace_run4\n"
				    "ffffffff81200400 t __bpf_trace_kfree_skb\n"
				    "ffffffff81300000 T _etext\n"
				    "ffffffff82000000 T _sinittext\n"
				    "ffffffff82100000 T _einittext\n"
				    "ffffffffc0001000 t veth_xmit\t[veth]\n"
				    "ffffffffc0100000 t bpf_prog_0123456789abcdef_nc_skb\t[bpf]\n"
				    "ffffffffc0200000 t bpf_trampoline_6442453466\t[bpf]\n";
static const char modules_text[] = "veth 40960 0 - Live 0xffffffffc0000000\n";

static struct nc_kallsyms *recorded_kallsyms(char **dir)
{
	struct nc_kallsyms *k = NULL;
	char err[256] = "";
	g_autofree char *ks = NULL, *mods = NULL;

	*dir = g_dir_make_tmp("nc-kallsyms-XXXXXX", NULL);
	g_assert_nonnull(*dir);
	ks = g_build_filename(*dir, "kallsyms", NULL);
	mods = g_build_filename(*dir, "modules", NULL);
	g_assert_true(g_file_set_contents(ks, kallsyms_text, -1, NULL));
	g_assert_true(g_file_set_contents(mods, modules_text, -1, NULL));
	g_assert_cmpint(nc_kallsyms_load_from(ks, mods, &k, err, sizeof(err)), ==, 0);
	g_assert_nonnull(k);
	g_remove(ks);
	g_remove(mods);
	g_rmdir(*dir);
	return k;
}

static void test_kallsyms_outside_text_is_unknown(void)
{
	g_autofree char *dir = NULL;
	struct nc_kallsyms *k = recorded_kallsyms(&dir);
	char buf[128];

	g_assert_true(nc_kallsyms_format(k, 0xffffffff81100090, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "sk_skb_reason_drop+0x90");
	g_assert_true(nc_kallsyms_format(k, 0xffffffff81100200, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "__udp4_lib_rcv");
	g_assert_true(nc_kallsyms_format(k, 0xffffffffc0001010, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "veth_xmit+0x10");
	/* past the last symbol below it: not "_einittext+0x3ca151fc" */
	g_assert_false(nc_kallsyms_format(k, 0xffffffffbeb15250, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "0xffffffffbeb15250");
	/* between _etext and the init text, and in module space outside every module */
	g_assert_false(nc_kallsyms_format(k, 0xffffffff81400000, buf, sizeof(buf)));
	g_assert_false(nc_kallsyms_format(k, 0xffffffffc0050000, buf, sizeof(buf)));
	/* a BPF program: named near its symbol only */
	g_assert_true(nc_kallsyms_format(k, 0xffffffffc0100040, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "bpf_prog_0123456789abcdef_nc_skb+0x40");
	g_assert_false(nc_kallsyms_format(k, 0xffffffffc01f0000, buf, sizeof(buf)));
	nc_kallsyms_free(k);
}

static void test_kallsyms_probe_frames_by_address(void)
{
	g_autofree char *dir = NULL;
	struct nc_kallsyms *k = recorded_kallsyms(&dir);
	/* the probe's own code, wherever kallsyms says it is or not */
	const struct nc_addr_range own[] = {{0xffffffffbeb15000, 0xffffffffbeb16000},
					    {0xffffffffbeb17000, 0xffffffffbeb17100}};
	const uint64_t raw_tp[] = {0xffffffffbeb15250, 0xffffffffbeb17010, 0xffffffff8120010d,
				   0xffffffff81200410, 0xffffffff81100090, 0xffffffff811002f0};
	const uint64_t fentry[] = {0xffffffffbeb15250, 0xffffffffc0200040, 0xffffffff81100005,
				   0xffffffff811002f0};
	/* a kprobe's stack starts at the probed function: nothing of the probe in it */
	const uint64_t kprobe[] = {0xffffffff81100000, 0xffffffff811002f0};
	/* the glue is dropped only after the probe's own frames */
	const uint64_t glue_first[] = {0xffffffff8120010d, 0xffffffff81100090};

	g_assert_cmpuint(nc_kallsyms_probe_frames(k, raw_tp, 6, own, 2), ==, 4);
	g_assert_cmpuint(nc_kallsyms_probe_frames(k, fentry, 4, own, 2), ==, 2);
	g_assert_cmpuint(nc_kallsyms_probe_frames(k, kprobe, 2, own, 2), ==, 0);
	g_assert_cmpuint(nc_kallsyms_probe_frames(k, glue_first, 2, own, 2), ==, 0);
	g_assert_cmpuint(nc_kallsyms_probe_frames(k, raw_tp, 6, NULL, 0), ==, 0);
	nc_kallsyms_free(k);
}

/* One pass over a kallsyms file: the kernel's own text symbols, T or t; module and data
 * symbols and absent names are 0 */
static void test_kallsyms_text_types(void)
{
	static const char text[] = "ffffffff81100000 T __dev_queue_xmit\n"
				   "ffffffff81100800 t dev_queue_xmit\n"
				   "ffffffff81200000 D some_data\n"
				   "ffffffffc0001000 t veth_xmit\t[veth]\n"
				   "ffffffff81300000 T dev_queue_xmit\n";
	g_autofree char *dir = g_dir_make_tmp("nc-kallsyms-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "kallsyms", NULL);
	const char *const names[] = {"dev_queue_xmit", "__dev_queue_xmit", "some_data", "veth_xmit",
				     "absent"};
	char types[5];

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(nc_kallsyms_text_types(path, names, 5, types), ==, 0);
	g_assert_cmpint(types[0], ==, 't'); /* the first one listed */
	g_assert_cmpint(types[1], ==, 'T');
	g_assert_cmpint(types[2], ==, 0);
	g_assert_cmpint(types[3], ==, 0);
	g_assert_cmpint(types[4], ==, 0);
	g_remove(path);
	g_rmdir(dir);
	g_assert_cmpint(nc_kallsyms_text_types(path, names, 5, types), ==, -ENOENT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGABRT, on_abort);

	g_test_add_func("/dpdk/mbuf-layout-iova-in-mbuf-same-in-all-releases",
			test_mbuf_layout_iova_in_mbuf_all_releases);
	g_test_add_func("/dpdk/mbuf-layout-no-iova-next-at-8", test_mbuf_layout_no_iova_next_at_8);
	g_test_add_func("/dpdk/mbuf-layout-21.11-has-no-no-iova-build",
			test_mbuf_layout_21_11_has_no_no_iova_build);
	g_test_add_func("/dpdk/fp-ops-layout-21.11", test_fp_ops_layout_21_11);
	g_test_add_func("/dpdk/fp-ops-layout-22.11", test_fp_ops_layout_22_11);
	g_test_add_func("/dpdk/fp-ops-layout-23.11-moved-queues-first",
			test_fp_ops_layout_23_11_moved_queues_first);
	g_test_add_func("/dpdk/fp-ops-layout-24.11", test_fp_ops_layout_24_11);
	g_test_add_func("/dpdk/ol-flags-bits", test_ol_flags_bits);
	g_test_add_func("/dpdk/abi-from-ethdev-soname", test_abi_from_ethdev_soname);
	g_test_add_func("/dpdk/abi-unknown-soname-is-enotsup", test_abi_unknown_soname_is_enotsup);
	g_test_add_func("/kallsyms/outside-kernel-and-module-text-is-unknown",
			test_kallsyms_outside_text_is_unknown);
	g_test_add_func("/kallsyms/probe-frames-go-by-address",
			test_kallsyms_probe_frames_by_address);
	g_test_add_func("/kallsyms/text-types-in-one-pass", test_kallsyms_text_types);
	g_test_add_func("/maps/parse-fields-and-paths", test_maps_parse_fields_and_paths);
	g_test_add_func("/maps/parse-dev-inode", test_maps_parse_dev_inode);
	g_test_add_func("/maps/container-file-not-the-hosts",
			test_maps_container_file_not_the_hosts);
	g_test_add_func("/maps/bad-line-is-einval", test_maps_bad_line_is_einval);
	g_test_add_func("/maps/own-function-translates-to-its-symbol-offset",
			test_maps_own_function_translates_to_its_symbol_offset);
	g_test_add_func("/maps/load-base-plus-vaddr-is-runtime-address",
			test_maps_load_base_plus_vaddr_is_runtime_address);
	g_test_add_func("/elf/libc-getpid-in-dynsym", test_elf_libc_getpid_in_dynsym);
	g_test_add_func("/elf/dynsym-prefers-default-version",
			test_elf_dynsym_prefers_default_version);
	g_test_add_func("/elf/missing-function-names-symbol-and-file",
			test_elf_missing_function_names_symbol_and_file);
	g_test_add_func("/elf/not-elf-is-enoexec", test_elf_not_elf_is_enoexec);
	g_test_add_func("/dpdk/nonexistent-pid-is-esrch", test_dpdk_nonexistent_pid_is_esrch);
	g_test_add_func("/dpdk/non-dpdk-process-is-enoent", test_dpdk_non_dpdk_process_is_enoent);
	LIVE("/dpdk/live-testpmd-ports-and-burst-functions",
	     test_live_testpmd_ports_and_burst_functions);
	LIVE("/dpdk/live-testpmd-stopped-port-is-left-out",
	     test_live_testpmd_stopped_port_is_left_out);
	g_test_add_func("/dwarf/fixture-mbuf-layout-equals-the-22.11-table",
			test_dwarf_mbuf_layout);
	g_test_add_func("/dwarf/fixture-functions-taking-mbufs", test_dwarf_mbuf_funcs);
	return g_test_run();
}
