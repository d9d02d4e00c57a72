/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap's side of the in-process agent (agent/nc_agent_abi.h, docs/inproc.md): the shared memory
 * and the listening socket, the configuration sent to the agent once it connects, the rings read
 * back as struct nc_record + packet bytes (what core/capture's session writes), the counters, and
 * the stop handshake.
 *
 *   nc_inproc_open()    memfd (sealed to its size) + abstract socket nc_inproc_name()
 *   ... the agent is started in the application with nc_inproc_name() as its argument ...
 *   nc_inproc_accept()  the agent's connection (its pid checked), CONFIG + memfd, (function
 *                       hooks: TRAMPS, trampolines written, functions patched, ARMED,) READY
 *   nc_inproc_poll()    records, oldest burst first across the rings
 *   nc_inproc_stop()    (functions unpatched,) STOP, then STOPPED: every pointer restored, the
 *                       agent unmapped
 *   nc_inproc_poll()    what the rings still hold
 *   nc_inproc_close()
 *
 * Errors: 0 or a negative errno with one line in err (errlen bytes, may be NULL); nothing prints.
 */
#ifndef NC_INPROC_CLIENT_H
#define NC_INPROC_CLIENT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../consume/ring.h"
#include "../discover/dpdk.h"
#include "../filter/cbpf.h"
#include "../write/pcap.h"

/* One hook point: a burst pointer of one port, or a function (func not 0) */
struct nc_inproc_hook {
	uint32_t id;   /* the session's hook id, given back in each record's hook */
	bool tx;       /* tx_pkt_burst (before the PMD, accepted packets only), else rx_pkt_burst */
	uint16_t port; /* < 32 */
	int32_t queue; /* a queue index, or -1 for every queue of the port */
	/* a function hook (func@N, func@N@M): its entry patched to jump into a trampoline; tx,
	 * port and queue unused, the records' port NC_PORT_UNKNOWN, queue 0, no direction */
	uint64_t func;	    /* its address in the application */
	uint64_t func_size; /* its ELF st_size */
	const char *path;   /* the ELF file holding it, whose bytes the process must have */
	uint64_t file_off;  /* the function's offset in that file */
	uint8_t arg;	    /* N: the mbuf (func@N) or the array (func@N@M), 1..16 */
	uint8_t count_arg;  /* M: the count, 1..16; 0 for func@N */
	uint8_t ret_bits;   /* func@N@ret: 32, func@N@ret16: 16 (count_arg 0); else 0 */
	const char *spec;   /* the hook spec, for messages */
	/*
	 * A USDT site (usdt:P:N@A[@C]): func, func_size and file_off are the containing function's
	 * (func_name), the patch goes at func + site_off, the mbuf or array is at loc[0] and the
	 * count at loc[1] (count_arg set, its value unused); sema the probe's semaphore (0: none),
	 * raised by the agent while it captures and lowered when it leaves.
	 */
	uint64_t site_off;
	struct nc_arg_loc loc[2];
	uint64_t sema;
	const char *func_name;
	/* the function's cold part (GCC's NAME.cold) in path: its address in the application,
	 * size and file offset, scanned for branches back into the patched bytes; size 0: none */
	uint64_t cold, cold_size, cold_off;
	/* -S (opts.stacks): frame 0 of each call's stack, where the uprobe path's probe would sit
	 * (its first frame); the agent's frames follow it */
	uint64_t frame0;
};

struct nc_inproc_opts {
	pid_t pid;	       /* the application: the agent's connection must come from it */
	const char *name;      /* the abstract socket's name; NULL: "netcap-inproc.PID.RANDOM" */
	uint64_t fp_ops_addr;  /* &rte_eth_fp_ops[0] in the application (nc_dpdk_inspect) */
	uint32_t fp_ops_count; /* its entries */
	struct nc_fp_ops_layout fp_ops;
	struct nc_mbuf_layout mbuf;
	uint32_t snaplen; /* 1..NC_MAX_SNAPLEN */
	bool keep_none;	  /* the filter seam keeps nothing (measures the hooks' cost) */
	/* the filter: libpcap's program for the capture (nc_cbpf_compile(expr, NC_LINK_L2,
	 * snaplen, ...)), compiled here for the agent by core/jit; NULL keeps everything */
	const struct nc_cbpf_insn *filter;
	unsigned filter_len;
	const struct nc_inproc_hook *hooks;
	size_t n_hooks;	      /* 1..64, one per (port, direction) */
	size_t ring_bytes;    /* per ring: a power of two >= 64 KiB; 0 = 4 MiB */
	uint32_t slots;	      /* rings per hook (application threads on it); 0 = 4 */
	int patch_timeout_ms; /* function hooks: the bound of each stop; 0 = NC_PATCH_TIMEOUT_MS */
	/* -S: the user stack of each hook call that keeps a packet (nc_inproc_stack) */
	bool stacks;
};

struct nc_inproc;

/*
 * Creates the shared memory and listens on the abstract socket. Nothing is sent to the
 * application yet. -EINVAL naming the option for a bad one; -EADDRINUSE for a name in use.
 * An application in another network namespace (a container) gets the socket in its namespace
 * (a thread of netcap enters it: CAP_SYS_ADMIN), -EPERM where netcap may not enter it; one in
 * another pid namespace is told no pid of netcap's to watch (the socket's end still tells it).
 */
int nc_inproc_open(const struct nc_inproc_opts *o, struct nc_inproc **out, char *err,
		   size_t errlen);

/* The name the agent connects to (its argument string), without the leading NUL */
const char *nc_inproc_name(const struct nc_inproc *c);

/* Whether the socket listens in the application's network namespace (not netcap's) */
bool nc_inproc_netns(const struct nc_inproc *c);

/*
 * Waits up to timeout_ms for the agent, checks it runs in the application (SO_PEERCRED), sends
 * the configuration with the memfd and waits for READY. -ETIMEDOUT "no agent connected within
 * ..."; the agent's own reason (its errno) when it refused; -EPROTO for a peer speaking something
 * else. The listening socket is closed either way.
 */
int nc_inproc_accept(struct nc_inproc *c, int timeout_ms, char *err, size_t errlen);

/*
 * Hands fn each record the rings hold (at most about 4096 per call), oldest burst first, waiting
 * up to timeout_ms for the first. rec->ts_ns is CLOCK_MONOTONIC, rec->pid the application,
 * rec->tid its thread, rec->cpu the CPU, rec->stack_id the hook call's stack with -S
 * (nc_inproc_stack), else NC_USTACK_NONE. Returns the number delivered, or fn's negative value. A
 * malformed record is counted (nc_inproc_malformed) and its ring skipped to its head.
 */
int nc_inproc_poll(struct nc_inproc *c, nc_record_fn fn, void *ctx, int timeout_ms);

/*
 * The same records, oldest burst first, written into b in the file's format (struct
 * nc_pcap_batch, core/write/pcap.h: classic pcap records, or pcapng EPBs with their options and
 * comment) with no call per packet: a run of a ring's records at a time, one time conversion per
 * burst. Stops when b is full, holds b->max records, the rings are read, or (pcapng) at a record
 * of a hook whose interface has no file id yet (b->need). Returns the records added to b, or
 * -ENOMEM (a comment), -EINVAL (a hook id past NC_PCAP_BATCH_HOOKS).
 */
int nc_inproc_poll_pcap(struct nc_inproc *c, struct nc_pcap_batch *b, int timeout_ms);

/* True once the agent closed the connection without being asked (it left, or the application
 * exited): what the rings hold can still be read */
bool nc_inproc_gone(struct nc_inproc *c);

/* The counters of the hook at index `hook` of the options, summed over its rings */
int nc_inproc_counters(const struct nc_inproc *c, size_t hook, struct nc_counters *sum);

/* Bursts a hook missed because more application threads called it than it has rings */
uint64_t nc_inproc_noslot(const struct nc_inproc *c, size_t hook);

uint64_t nc_inproc_malformed(const struct nc_inproc *c);

/*
 * -S: the user stack a record's stack_id names, innermost first (frame 0 the hook's frame0),
 * up to NC_USTACK_DEPTH addresses into ips: how many (0: the agent could not read it), -ENOSPC
 * when more than NC_INPROC_STACKS distinct stacks came (NC_USTACK_FULL), -ENOENT for
 * NC_USTACK_NONE or an unknown id.
 */
#define NC_INPROC_STACKS 4096
int nc_inproc_stack(const struct nc_inproc *c, int32_t id, uint64_t *ips);

/*
 * Asks the agent to leave and waits up to timeout_ms for its answer: every burst pointer put
 * back, no application thread inside a wrapper, the shared memory unmapped on its side. 0, or
 * -EPIPE when the agent was already gone, -ETIMEDOUT, or the agent's error with its reason.
 */
int nc_inproc_stop(struct nc_inproc *c, int timeout_ms, char *err, size_t errlen);

/* Closes everything (the agent, if still connected, leaves on its own); NULL is a no-op */
void nc_inproc_close(struct nc_inproc *c);

#endif
