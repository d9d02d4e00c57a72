/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What netcap needs to know about a running DPDK process before it attaches probes: the DPDK
 * release (from the mapped librte_ethdev soname), the rte_mbuf and rte_eth_fp_ops layouts of that
 * release, and, read from rte_eth_fp_ops through /proc/PID/mem, the PMD burst functions of every
 * started port as (file, file offset) with their queue pointers (DPDK's lib/ethdev/rte_ethdev.h:
 * rte_eth_rx_burst() calls through rte_eth_fp_ops[port]; lib/ethdev/ethdev_private.c fills it).
 *
 * The layout tables are pure data (values from lib/mbuf/rte_mbuf_core.h and
 * lib/ethdev/rte_ethdev_core.h at each release tag; 22.11 checked with offsetof against Debian's
 * headers).
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL). Nothing here prints or exits.
 */
#ifndef NC_DPDK_H
#define NC_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* DPDK releases netcap knows, by ethdev ABI: librte_ethdev.so.22 ... .so.25. */
enum nc_dpdk_abi {
	NC_DPDK_21_11, /* librte_ethdev.so.22 */
	NC_DPDK_22_11, /* librte_ethdev.so.23, Debian 12 */
	NC_DPDK_23_11, /* librte_ethdev.so.24: rte_eth_fp_ops reordered */
	NC_DPDK_24_11, /* librte_ethdev.so.25 */
};

/* Byte offsets in struct rte_mbuf of the fields a capture reads (x86-64, 64-byte cache lines). */
struct nc_mbuf_layout {
	uint16_t buf_addr;
	uint16_t data_off;
	uint16_t nb_segs;
	uint16_t port;
	uint16_t ol_flags;
	uint16_t pkt_len;
	uint16_t data_len;
	uint16_t vlan_tci;
	uint16_t vlan_tci_outer;
	uint16_t next; /* 64 with IOVA in the mbuf, 8 without */
};

/* Byte offsets in struct rte_eth_fp_ops, one entry per port of the array rte_eth_fp_ops[]. */
struct nc_fp_ops_layout {
	uint16_t rx_pkt_burst;
	uint16_t rxq_data; /* rxq.data: void ** to the port's rx queues */
	uint16_t tx_pkt_burst;
	uint16_t txq_data;
	uint16_t size; /* sizeof(struct rte_eth_fp_ops): 128 in every release */
};

/* ol_flags bits (RTE_MBUF_F_*) a capture needs to put VLAN tags back (lib/mbuf/rte_mbuf_core.h). */
#define NC_MBUF_F_RX_VLAN	   (UINT64_C(1) << 0)
#define NC_MBUF_F_RX_VLAN_STRIPPED (UINT64_C(1) << 6)
#define NC_MBUF_F_RX_QINQ_STRIPPED (UINT64_C(1) << 15)
#define NC_MBUF_F_RX_QINQ	   (UINT64_C(1) << 20)
#define NC_MBUF_F_TX_QINQ	   (UINT64_C(1) << 49)
#define NC_MBUF_F_TX_VLAN	   (UINT64_C(1) << 57)

/* The most queue pointers kept per port and direction (RTE_MAX_QUEUES_PER_PORT is 1024). */
#define NC_DPDK_MAX_QUEUES 64

/* "21.11", "22.11", "23.11", "24.11"; "?" for a value outside the enum. */
const char *nc_dpdk_abi_version(enum nc_dpdk_abi abi);

/*
 * The release of a librte_ethdev file name or path ("librte_ethdev.so.23",
 * "/usr/lib/.../librte_ethdev.so.23.0"): the number after ".so." is the ABI. -EINVAL when name is
 * not librte_ethdev.so.N, -ENOTSUP naming the soname for an ABI not in the table.
 */
int nc_dpdk_abi_from_soname(const char *name, enum nc_dpdk_abi *abi, char *err, size_t errlen);

/*
 * The rte_mbuf layout of a release; iova_in_mbuf selects the default build (buf_iova at 8, next at
 * 64; Debian) or the enable_iova_as_pa=false build of 22.11+ (next at 8). NULL for an unknown abi
 * or for 21.11 without IOVA (that build option does not exist there). Static data.
 */
const struct nc_mbuf_layout *nc_dpdk_mbuf_layout(enum nc_dpdk_abi abi, bool iova_in_mbuf);

/* The rte_eth_fp_ops layout of a release (lib/ethdev/rte_ethdev_core.h), or NULL for an unknown
 * abi. Static data. */
const struct nc_fp_ops_layout *nc_dpdk_fp_ops_layout(enum nc_dpdk_abi abi);

/* A burst function pointer of a port and where it lives. */
struct nc_dpdk_func {
	uint64_t addr;	 /* runtime address in the target */
	char *path;	 /* the mapped file holding it (as /proc/PID/maps shows it), or NULL */
	uint64_t offset; /* file offset: what a uprobe on path takes */
	char *symbol;	 /* "eth_pcap_rx" or "name+0x10" from .symtab/.dynsym, or NULL */
};

struct nc_dpdk_port {
	uint16_t id;
	bool started; /* both burst pointers are outside librte_ethdev (not its dummies) */
	struct nc_dpdk_func rx, tx;
	unsigned int n_rxq, n_txq;	  /* leading non-NULL entries of rxq.data / txq.data */
	uint64_t rxq[NC_DPDK_MAX_QUEUES]; /* queue pointers: a burst function's first argument */
	uint64_t txq[NC_DPDK_MAX_QUEUES];
};

struct nc_maps;

/* What nc_dpdk_inspect() found; read-only for the caller, freed with nc_dpdk_free(). */
struct nc_dpdk_proc {
	pid_t pid;
	char *comm; /* /proc/PID/comm */
	char *exe;  /* readlink /proc/PID/exe */
	char *ethdev_path;
	enum nc_dpdk_abi abi;
	const char *version;	    /* "22.11" */
	struct nc_mbuf_layout mbuf; /* IOVA in the mbuf (the default build); for the other build
				       use nc_dpdk_mbuf_layout(abi, false) */
	struct nc_fp_ops_layout fp_ops_layout;
	char *fp_ops_path;	   /* the file defining the live rte_eth_fp_ops */
	bool fp_ops_in_exe;	   /* copy-relocated into the executable (dynamically linked app) */
	uint64_t fp_ops_addr;	   /* runtime address of rte_eth_fp_ops[0] */
	unsigned int fp_ops_count; /* entries: st_size / 128 (RTE_MAX_ETHPORTS) */
	size_t n_ports;
	struct nc_dpdk_port *ports; /* ports with at least one burst pointer outside ethdev */
	struct nc_maps *maps;	    /* the memory map read, for nc_dpdk_resolve_func() */
};

/*
 * Inspects process pid: reads /proc/PID/comm, exe and maps, finds librte_ethdev and the release,
 * locates the live rte_eth_fp_ops (executable first, for the R_X86_64_COPY relocation of a
 * dynamically linked app, then librte_ethdev), reads it through /proc/PID/mem and records every
 * port whose rx or tx burst pointer is outside librte_ethdev. A port configured but not started
 * (or stopped) still holds ethdev's dummy functions and is left out.
 *
 * Errors: -ESRCH "no process with pid 1234"; -ENOENT "process 1234 (sleep) is not a DPDK
 * application (no librte_ethdev mapped)"; -ENOTSUP for an unknown ethdev ABI or a statically
 * linked DPDK app; -EACCES naming root/CAP_SYS_PTRACE when the maps or memory are not readable;
 * -EIO when rte_eth_fp_ops cannot be read. *out is untouched on failure.
 */
int nc_dpdk_inspect(pid_t pid, struct nc_dpdk_proc **out, char *err, size_t errlen);

/* Frees p and everything it holds; NULL is a no-op. */
void nc_dpdk_free(struct nc_dpdk_proc *p);

/*
 * Looks function name up (nc_elf_func(): .symtab, then .dynsym) in the executable, then in every
 * mapped ELF file in the order of /proc/PID/maps, and returns the first hit as *path (borrowed
 * from p) and *offset (file offset for a uprobe). -ENOENT with `no function "foo" in
 * /proc/1234/exe or its libraries (stripped?); try: netcap list --pid 1234`.
 */
int nc_dpdk_resolve_func(const struct nc_dpdk_proc *p, const char *name, const char **path,
			 uint64_t *offset, char *err, size_t errlen);

#endif
