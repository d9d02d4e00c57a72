/* SPDX-License-Identifier: BSD-2-Clause */
#include "dpdk.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/privs.h"
#include "elf.h"
#include "procmaps.h"

#define ETHDEV_PREFIX "librte_ethdev.so."
#define FP_OPS_SYMBOL "rte_eth_fp_ops"
#define FP_OPS_MAX    1024 /* sanity bound on st_size / 128; Debian has RTE_MAX_ETHPORTS 32 */

/* ---- layout tables ---- */

static const char *const versions[] = {
    [NC_DPDK_21_11] = "21.11",
    [NC_DPDK_22_11] = "22.11",
    [NC_DPDK_23_11] = "23.11",
    [NC_DPDK_24_11] = "24.11",
};

/*
 * Byte offsets are the same in 21.11 to 24.11 (lib/mbuf/rte_mbuf_core.h at each tag); only next
 * moves with the IOVA build option (enable_iova_as_pa, 22.11+).
 */
#define MBUF_COMMON                                                                                \
	.buf_addr = 0, .data_off = 16, .nb_segs = 20, .port = 22, .ol_flags = 24, .pkt_len = 36,   \
	.data_len = 40, .vlan_tci = 42, .vlan_tci_outer = 52

static const struct nc_mbuf_layout mbuf_iova = {MBUF_COMMON, .next = 64};
static const struct nc_mbuf_layout mbuf_no_iova = {MBUF_COMMON, .next = 8};

/* lib/ethdev/rte_ethdev_core.h: 23.11 moved rxq/txq to the front of each half. */
static const struct nc_fp_ops_layout fp_ops_21_11 = {
    .rx_pkt_burst = 0, .rxq_data = 24, .tx_pkt_burst = 64, .txq_data = 88, .size = 128};
static const struct nc_fp_ops_layout fp_ops_23_11 = {
    .rx_pkt_burst = 16, .rxq_data = 0, .tx_pkt_burst = 80, .txq_data = 64, .size = 128};

static bool abi_known(enum nc_dpdk_abi abi)
{
	return (unsigned int)abi < G_N_ELEMENTS(versions);
}

const char *nc_dpdk_abi_version(enum nc_dpdk_abi abi)
{
	return abi_known(abi) ? versions[abi] : "?";
}

const struct nc_mbuf_layout *nc_dpdk_mbuf_layout(enum nc_dpdk_abi abi, bool iova_in_mbuf)
{
	if (!abi_known(abi))
		return NULL;
	if (iova_in_mbuf)
		return &mbuf_iova;
	return abi == NC_DPDK_21_11 ? NULL : &mbuf_no_iova;
}

const struct nc_fp_ops_layout *nc_dpdk_fp_ops_layout(enum nc_dpdk_abi abi)
{
	switch (abi) {
	case NC_DPDK_21_11:
	case NC_DPDK_22_11: return &fp_ops_21_11;
	case NC_DPDK_23_11:
	case NC_DPDK_24_11: return &fp_ops_23_11;
	}
	return NULL;
}

int nc_dpdk_abi_from_soname(const char *name, enum nc_dpdk_abi *abi, char *err, size_t errlen)
{
	const char *base = strrchr(name, '/'), *num;
	unsigned long n;
	char *end;

	base = base ? base + 1 : name;
	if (strncmp(base, ETHDEV_PREFIX, strlen(ETHDEV_PREFIX)) != 0)
		return nc_err(err, errlen, EINVAL, "%s is not librte_ethdev.so.N", name);
	num = base + strlen(ETHDEV_PREFIX);
	if (!g_ascii_isdigit(*num))
		return nc_err(err, errlen, EINVAL, "%s has no ABI number after .so.", name);
	errno = 0;
	n = strtoul(num, &end, 10);
	if (errno || (*end && *end != '.'))
		return nc_err(err, errlen, EINVAL, "%s has no ABI number after .so.", name);
	switch (n) {
	case 22: *abi = NC_DPDK_21_11; return 0;
	case 23: *abi = NC_DPDK_22_11; return 0;
	case 24: *abi = NC_DPDK_23_11; return 0;
	case 25: *abi = NC_DPDK_24_11; return 0;
	}
	/* since 20.11 the ABI major is the year after the LTS release that starts it: .so.21 is
	 * 20.11 (and 21.02-21.08), .so.26 25.11; before, each library had its own numbering */
	if (n == 21)
		return nc_err(
		    err, errlen, ENOTSUP,
		    "DPDK 20.11 (" ETHDEV_PREFIX "21) is not supported: it has no "
		    "rte_eth_fp_ops, the table netcap finds the burst functions in (netcap "
		    "reads DPDK 21.11 to 24.11)");
	if (n > 25 && n < 100)
		return nc_err(
		    err, errlen, ENOTSUP,
		    "DPDK %lu.11 or later (" ETHDEV_PREFIX "%lu) is newer than netcap: its "
		    "rte_mbuf and rte_eth_fp_ops layouts are not in netcap's tables, which "
		    "end at 24.11 (" ETHDEV_PREFIX "25); not reading it with a guessed layout",
		    n - 1, n);
	return nc_err(err, errlen, ENOTSUP,
		      "DPDK older than 20.11 (" ETHDEV_PREFIX "%lu) is not supported (netcap reads "
		      "DPDK 21.11 to 24.11: " ETHDEV_PREFIX "22 to 25)",
		      n);
}

/* ---- process inspection ---- */

/* Per-inspection cache of opened ELF files by path (NULL value: not ELF or unreadable). */
static struct nc_elf *elf_cached(GHashTable *cache, const char *path)
{
	struct nc_elf *e = NULL;

	if (g_hash_table_lookup_extended(cache, path, NULL, (gpointer *)&e))
		return e;
	if (nc_elf_open(path, &e, NULL, 0) < 0)
		e = NULL;
	g_hash_table_insert(cache, g_strdup(path), e);
	return e;
}

static void elf_close_value(gpointer e)
{
	nc_elf_close(e);
}

static void func_clear(struct nc_dpdk_func *f)
{
	free(f->path);
	free(f->symbol);
}

void nc_dpdk_free(struct nc_dpdk_proc *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_ports; i++) {
		func_clear(&p->ports[i].rx);
		func_clear(&p->ports[i].tx);
	}
	free(p->ports);
	free(p->comm);
	free(p->exe);
	free(p->ethdev_path);
	free(p->fp_ops_path);
	nc_maps_free(p->maps);
	free(p);
}

/* /proc/PID/comm without the newline; -ESRCH when the process does not exist. */
static int read_comm(pid_t pid, char **out, char *err, size_t errlen)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ESRCH))
		return nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
	if (fd < 0)
		return nc_err(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return nc_err(err, errlen, e == ESRCH ? ESRCH : e, "cannot read %s: %s", path,
			      strerror(e));
	}
	close(fd);
	buf[n] = '\0';
	g_strchomp(buf);
	*out = strdup(buf);
	return *out ? 0 : nc_err(err, errlen, ENOMEM, "out of memory");
}

static int read_exe(pid_t pid, char **out, char *err, size_t errlen)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0 && (errno == EACCES || errno == EPERM))
		return nc_err(err, errlen, EACCES,
			      "no permission to read %s; run as root or with CAP_SYS_PTRACE", path);
	if (n < 0)
		return nc_err(err, errlen, errno == ENOENT ? ESRCH : errno, "cannot read %s: %s",
			      path, strerror(errno));
	buf[n] = '\0';
	*out = strdup(buf);
	return *out ? 0 : nc_err(err, errlen, ENOMEM, "out of memory");
}

/*
 * The executable by a path this process opens it by (procmaps.h): a container's /work/app is
 * /proc/PID/root/work/app here, never the host's /work/app.
 */
static int exe_local(struct nc_dpdk_proc *p, char *err, size_t errlen)
{
	const char *local = nc_maps_local_path(p->maps, p->exe);
	char *copy;

	if (!local || !strcmp(local, p->exe))
		return 0;
	copy = strdup(local);
	if (!copy)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	free(p->exe);
	p->exe = copy;
	return 0;
}

/* Reads len bytes at addr of the target through fd (/proc/PID/mem); true when all came. */
static bool read_mem(int fd, uint64_t addr, void *buf, size_t len)
{
	ssize_t r;

	if (addr > (uint64_t)INT64_MAX - len)
		return false;
	do
		r = pread(fd, buf, len, (off_t)addr);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)len;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static bool in_file(const struct nc_maps *m, uint64_t addr, const char *path)
{
	const struct nc_maps_entry *e = nc_maps_find(m, addr);

	return e && strcmp(e->path, path) == 0;
}

/* Fills f for function pointer addr: file and offset when in a file, symbol when one exists. */
static int func_fill(struct nc_dpdk_func *f, const struct nc_maps *m, GHashTable *cache,
		     uint64_t addr)
{
	const char *path;
	struct nc_elf *e;
	uint64_t off;
	char sym[256];

	f->addr = addr;
	if (nc_maps_to_file(m, addr, &path, &off, NULL, 0) < 0)
		return 0; /* NULL or not in a file: nothing to probe, path stays NULL */
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	f->offset = off;
	e = elf_cached(cache, path);
	if (e && nc_elf_symbolize(e, off, sym, sizeof(sym)) == 0 && !(f->symbol = strdup(sym)))
		return -ENOMEM;
	return 0;
}

/*
 * Reads the queue pointer array at data: the leading non-NULL entries, at most
 * NC_DPDK_MAX_QUEUES. rxq.data / txq.data is dev->data->rx_queues / tx_queues, which since 21.11
 * is allocated zeroed with RTE_MAX_QUEUES_PER_PORT entries (1024 in Debian's rte_config.h) on the
 * first configure (eth_dev_rx_queue_config() in lib/ethdev/ethdev_private.c, 22.11 source), and
 * its first nb_rx_queues entries are set by queue setup; so reading 64 stays inside the
 * allocation, and the first NULL ends the configured queues. Seen live: testpmd's default
 * configuration gives 1 rx and 1 tx queue per port. An unreadable array gives 0 queues.
 */
static unsigned int read_queues(int memfd, uint64_t data, uint64_t *q)
{
	unsigned char buf[NC_DPDK_MAX_QUEUES * 8];
	unsigned int n;

	if (!data || !read_mem(memfd, data, buf, sizeof(buf)))
		return 0;
	for (n = 0; n < NC_DPDK_MAX_QUEUES; n++) {
		q[n] = get_u64(buf + 8 * n);
		if (!q[n])
			break;
	}
	return n;
}

/* The executable as it appears in the maps (exe may differ, e.g. in another mount namespace). */
static const char *exe_mapped(const struct nc_maps *m, const char *exe)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].path, exe) == 0)
			return m->v[i].path;
	return NULL;
}

/* Finds rte_eth_fp_ops: executable first (COPY relocation), then librte_ethdev. */
static int find_fp_ops(struct nc_dpdk_proc *p, GHashTable *cache, char *err, size_t errlen)
{
	const char *cands[2] = {exe_mapped(p->maps, p->exe), p->ethdev_path};
	size_t i;
	int r;

	for (i = 0; i < G_N_ELEMENTS(cands); i++) {
		struct nc_elf *e;
		uint64_t vaddr, size, base;

		if (!cands[i] || !(e = elf_cached(cache, cands[i])))
			continue;
		if (nc_elf_object(e, FP_OPS_SYMBOL, &vaddr, &size, NULL, 0) < 0)
			continue;
		r = nc_maps_load_base(p->maps, cands[i], e, &base, err, errlen);
		if (r < 0)
			return r;
		if (size % p->fp_ops_layout.size || !size ||
		    size / p->fp_ops_layout.size > FP_OPS_MAX)
			return nc_err(err, errlen, ENOTSUP,
				      FP_OPS_SYMBOL " in %s has size %" PRIu64
						    ", not a multiple of %u: not DPDK %s?",
				      cands[i], size, p->fp_ops_layout.size, p->version);
		p->fp_ops_path = strdup(cands[i]);
		if (!p->fp_ops_path)
			return nc_err(err, errlen, ENOMEM, "out of memory");
		p->fp_ops_in_exe = i == 0;
		p->fp_ops_addr = base + vaddr;
		p->fp_ops_count = (unsigned int)(size / p->fp_ops_layout.size);
		return 0;
	}
	return nc_err(err, errlen, ENOENT, "no " FP_OPS_SYMBOL " in %s or %s (process %d)", p->exe,
		      p->ethdev_path, (int)p->pid);
}

/* Reads rte_eth_fp_ops[] and records the ports whose burst pointers are not ethdev's dummies. */
static int read_ports(struct nc_dpdk_proc *p, GHashTable *cache, char *err, size_t errlen)
{
	const struct nc_fp_ops_layout *l = &p->fp_ops_layout;
	size_t len = (size_t)p->fp_ops_count * l->size;
	unsigned char *buf = NULL;
	char path[64];
	unsigned int i;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return nc_err(err, errlen, EACCES,
			      "no permission to read %s (process %d, %s); run as root or with "
			      "CAP_SYS_PTRACE",
			      path, (int)p->pid, p->comm);
	if (fd < 0)
		return nc_err(err, errlen, errno == ENOENT ? ESRCH : errno, "cannot open %s: %s",
			      path, strerror(errno));
	buf = malloc(len);
	p->ports = calloc(p->fp_ops_count, sizeof(*p->ports));
	if (!buf || !p->ports) {
		r = nc_err(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	if (!read_mem(fd, p->fp_ops_addr, buf, len)) {
		r = nc_err(err, errlen, EIO,
			   "cannot read " FP_OPS_SYMBOL " at 0x%" PRIx64 " in process %d (%s)",
			   p->fp_ops_addr, (int)p->pid, p->comm);
		goto out;
	}
	for (i = 0; i < p->fp_ops_count; i++) {
		const unsigned char *ent = buf + (size_t)i * l->size;
		uint64_t rx = get_u64(ent + l->rx_pkt_burst), tx = get_u64(ent + l->tx_pkt_burst);
		bool rx_dummy = !rx || in_file(p->maps, rx, p->ethdev_path);
		bool tx_dummy = !tx || in_file(p->maps, tx, p->ethdev_path);
		struct nc_dpdk_port *port;

		if (rx_dummy && tx_dummy)
			continue;
		port = &p->ports[p->n_ports++];
		port->id = (uint16_t)i;
		port->started = !rx_dummy && !tx_dummy;
		if (func_fill(&port->rx, p->maps, cache, rx) < 0 ||
		    func_fill(&port->tx, p->maps, cache, tx) < 0) {
			r = nc_err(err, errlen, ENOMEM, "out of memory");
			goto out;
		}
		port->n_rxq = read_queues(fd, get_u64(ent + l->rxq_data), port->rxq);
		port->n_txq = read_queues(fd, get_u64(ent + l->txq_data), port->txq);
	}
out:
	free(buf);
	close(fd);
	return r;
}

/*
 * The DPDK applications that are pid `pid` in a pid namespace of their own (a container): the last
 * number of their NSpid line; up to 4, as " nc_fwd (host pid 20916)" into buf (empty: none).
 */
static void nspid_matches(pid_t pid, char *buf, size_t len)
{
	GDir *d = g_dir_open("/proc", 0, NULL);
	const char *name;
	size_t used = 0;
	int found = 0;

	buf[0] = '\0';
	while (d && found < 4 && (name = g_dir_read_name(d))) {
		g_autofree char *path = NULL, *status = NULL, *comm = NULL, *nspid = NULL;
		g_auto(GStrv) f = NULL;
		guint64 host;
		const char *line, *last;
		int nf;

		if (!g_ascii_string_to_unsigned(name, 10, 1, INT32_MAX, &host, NULL) ||
		    (pid_t)host == pid)
			continue;
		path = g_strdup_printf("/proc/%s/status", name);
		if (!g_file_get_contents(path, &status, NULL, NULL) ||
		    !(line = strstr(status, "\nNSpid:")))
			continue;
		line += strlen("\nNSpid:");
		nspid = g_strndup(line, strcspn(line, "\n"));
		f = g_strsplit_set(g_strstrip(nspid), " \t", -1);
		nf = (int)g_strv_length(f);
		last = nf ? f[nf - 1] : "";
		/* only in a nested namespace (two numbers or more), only the innermost pid */
		if (nf >= 2 && strtol(last, NULL, 10) == pid &&
		    nc_maps_pid_has_name((pid_t)host, ETHDEV_PREFIX) &&
		    !read_comm((pid_t)host, &comm, NULL, 0)) {
			int w = snprintf(buf + used, len - used, "%s%s (host pid %s)",
					 found ? ", " : " ", comm, name);

			if (w > 0 && (size_t)w < len - used) {
				used += (size_t)w;
				found++;
			}
		}
	}
	if (d)
		g_dir_close(d);
}

/* err += "; pid N in a container's pid namespace is ...: give the host pid" when there is one */
static void add_nspid_hint(pid_t pid, char *err, size_t errlen)
{
	char who[256];
	size_t n;

	if (!err || !errlen)
		return;
	nspid_matches(pid, who, sizeof(who));
	n = strlen(err);
	if (who[0] && n < errlen)
		snprintf(err + n, errlen - n,
			 "; pid %d in a container's pid namespace is the DPDK application%s: give "
			 "netcap the host pid",
			 (int)pid, who);
}

/* No librte_ethdev mapped: a static DPDK app (rte_eth_fp_ops in the executable) or no DPDK. */
static int no_ethdev(const struct nc_dpdk_proc *p, GHashTable *cache, char *err, size_t errlen)
{
	const char *exe = exe_mapped(p->maps, p->exe);
	struct nc_elf *e = exe ? elf_cached(cache, exe) : NULL;
	uint64_t vaddr;

	if (e && nc_elf_object(e, FP_OPS_SYMBOL, &vaddr, NULL, NULL, 0) == 0)
		return nc_err(err, errlen, ENOTSUP,
			      "process %d (%s) has DPDK linked statically (" FP_OPS_SYMBOL
			      " in %s, no librte_ethdev mapped); static DPDK applications are not "
			      "supported yet",
			      (int)p->pid, p->comm, p->exe);
	return nc_err(err, errlen, ENOENT,
		      "process %d (%s) is not a DPDK application (no librte_ethdev mapped)",
		      (int)p->pid, p->comm);
}

int nc_dpdk_inspect(pid_t pid, struct nc_dpdk_proc **out, char *err, size_t errlen)
{
	GHashTable *cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, elf_close_value);
	struct nc_dpdk_proc *p = calloc(1, sizeof(*p));
	size_t i;
	int r;

	if (!p) {
		r = nc_err(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	p->pid = pid;
	if (pid <= 0) {
		r = nc_err(err, errlen, ESRCH, "no process with pid %d", (int)pid);
		goto fail;
	}
	r = read_comm(pid, &p->comm, err, errlen);
	if (r < 0)
		goto fail;
	/* with capabilities its caller lacks (docs/privileges.md), netcap reads only the
	 * caller's own processes, whatever the kernel would let it read */
	if (!nc_privs_is_root() && (r = nc_privs_may_trace(pid, err, errlen)) && r != -ESRCH)
		goto fail;
	r = nc_maps_read(pid, &p->maps, err, errlen);
	if (r < 0)
		goto fail;
	r = read_exe(pid, &p->exe, err, errlen);
	if (r < 0)
		goto fail;
	r = exe_local(p, err, errlen);
	if (r < 0)
		goto fail;
	for (i = 0; i < p->maps->n && !p->ethdev_path; i++) {
		const char *path = p->maps->v[i].path, *base = strrchr(path, '/');

		if (base && strncmp(base + 1, ETHDEV_PREFIX, strlen(ETHDEV_PREFIX)) == 0 &&
		    !(p->ethdev_path = strdup(path))) {
			r = nc_err(err, errlen, ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (!p->ethdev_path) {
		r = no_ethdev(p, cache, err, errlen);
		goto fail;
	}
	r = nc_dpdk_abi_from_soname(p->ethdev_path, &p->abi, err, errlen);
	if (r < 0) {
		if (err && errlen) {
			g_autofree char *why = g_strdup(err);

			snprintf(err, errlen, "process %d (%s): %s", (int)pid, p->comm, why);
		}
		goto fail;
	}
	p->version = nc_dpdk_abi_version(p->abi);
	p->mbuf = *nc_dpdk_mbuf_layout(p->abi, true);
	p->fp_ops_layout = *nc_dpdk_fp_ops_layout(p->abi);
	r = find_fp_ops(p, cache, err, errlen);
	if (r < 0)
		goto fail;
	r = read_ports(p, cache, err, errlen);
	if (r < 0)
		goto fail;
	g_hash_table_destroy(cache);
	*out = p;
	return 0;
fail:
	/* not this pid's DPDK: perhaps a pid as a container shows it */
	if (pid > 0 && (!p || !p->ethdev_path) && r != -ENOMEM)
		add_nspid_hint(pid, err, errlen);
	g_hash_table_destroy(cache);
	nc_dpdk_free(p);
	return r;
}

int nc_dpdk_resolve_func(const struct nc_dpdk_proc *p, const char *name, const char **path,
			 uint64_t *offset, char *err, size_t errlen)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	const char *exe = exe_mapped(p->maps, p->exe);
	size_t i;
	int r = -ENOENT;

	/* i == 0 is the executable; then every mapping's file, first appearance only */
	for (i = 0; i <= p->maps->n && r < 0; i++) {
		const char *cand = i == 0 ? exe : p->maps->v[i - 1].path;
		struct nc_elf *e;

		if (!cand || cand[0] != '/' || !g_hash_table_add(seen, (gpointer)cand))
			continue;
		if (nc_elf_open(cand, &e, NULL, 0) < 0)
			continue;
		if (nc_elf_func(e, name, offset, NULL, NULL, 0) == 0) {
			*path = cand;
			r = 0;
		}
		nc_elf_close(e);
	}
	g_hash_table_destroy(seen);
	if (r < 0)
		return nc_err(
		    err, errlen, ENOENT,
		    "no function \"%s\" in /proc/%d/exe or its libraries (stripped?); try: "
		    "netcap list --pid %d",
		    name, (int)p->pid, (int)p->pid);
	return 0;
}
