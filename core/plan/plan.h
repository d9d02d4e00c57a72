/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The plan of a capture: a value that says, before anything is loaded, what the capture will
 * attach and where. Each hook point is one interface of the output file; each is served by one
 * backend (the uprobe backend for DPDK points, the kernel backend for tracepoints and kernel
 * functions), and for each backend the plan holds where its probes sit:
 *   - DPDK points: the processes, their DPDK release and rte_mbuf layout, the uprobes (file,
 *     offset, process, hook, what the probe reads) and the PMD queues that tell ports apart;
 *   - kernel points: the tracepoint or function of each probe instance, fentry or kprobe, and
 *     the interface (index and namespace) the capture is kept to.
 * mbuf_plan.c and skb_plan.c build it from the specs and what discovery found; core/load's
 * backends open probes from it; nc_plan_print() shows it (netcap mbuf|skb -v).
 */
#ifndef NC_PLAN_H
#define NC_PLAN_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../../bpf/nc_record.h"
#include "../discover/dpdk.h"

#define NC_PLAN_MAX_KPOINTS 16 /* kernel probe instances (tracepoints, functions) */
#define NC_PLAN_AGENT_PORTS 32 /* ports the in-process agent hooks: 0..31 (RTE_MAX_ETHPORTS) */

/* What serves a hook point */
enum nc_plan_backend {
	NC_BACKEND_UPROBE = 0, /* DPDK points: kernel uprobes in the target process */
	NC_BACKEND_AGENT,      /* DPDK points: netcap's agent inside the process (--inject) */
	NC_BACKEND_KERNEL,     /* kernel points: tracepoints, fentry, kprobes */
	NC_BACKEND_COUNT
};

/* One hook point: one interface of the file */
struct nc_plan_point {
	char *name;	   /* "nc_fwd[1234]:rx_burst:port0", "net:netif_receive_skb:raw" */
	char *description; /* if_description */
	char *label;	   /* for packet comments: the function, tracepoint, ... */
	char *what;	   /* -G: the short name ("rx_burst:port0"); NULL = label */
	uint16_t linktype; /* NC_LINKTYPE_ETHERNET or NC_LINKTYPE_RAW */
	uint32_t stage;	   /* the index of the -f spec it comes from */
	enum nc_plan_backend backend;
};

/* A uprobe: code at `offset` of file `path` in process `pid`, for hook point `hook` */
struct nc_plan_uprobe {
	char *path;
	uint64_t offset;
	pid_t pid;
	uint32_t hook;
	struct nc_hook_cfg cfg;
	uint64_t ref_ctr_offset; /* USDT: file offset of the probe's semaphore, or 0 */
	char *why;		 /* where in the function the probe sits and why */
};

/* A PMD queue pointer of process pid whose packets count as id (port, queue, hook) */
struct nc_plan_queue {
	pid_t pid;
	uint64_t ptr;
	struct nc_queue_id id;
};

/* A process of the capture */
struct nc_plan_proc {
	pid_t pid;
	char *comm;
	const char *version; /* the DPDK release: "22.11" (static) */
	/* where its PMD burst pointers are (the agent swaps them) */
	uint64_t fp_ops_addr;  /* &rte_eth_fp_ops[0] */
	uint32_t fp_ops_count; /* its entries */
	struct nc_fp_ops_layout fp_ops;
};

/* A PMD burst pointer the agent hooks: rte_eth_fp_ops[port].rx_pkt_burst or .tx_pkt_burst of
 * process pid, for hook point `hook`; or a function whose entry is patched to jump into a
 * trampoline of the agent (func not 0: func@N, func@N@M) */
struct nc_plan_agent_hook {
	pid_t pid;
	uint32_t hook;
	bool tx;
	uint16_t port;
	int32_t queue;	    /* a queue index, or -1: every queue */
	uint64_t func;	    /* the function's address in process pid */
	uint64_t func_size; /* its ELF st_size */
	char *path;	    /* the ELF file holding it */
	uint64_t file_off;  /* its offset there */
	uint8_t arg;	    /* N */
	uint8_t count_arg;  /* M of func@N@M; 0: func@N */
	uint8_t ret_bits;   /* func@N@ret: 32, @ret16: 16; else 0 */
	char *spec;	    /* the hook spec as given */
	/* usdt:P:N@A[@C]: one per site; func, func_size, path and file_off are the containing
	 * function's (func_name), the patch at func + site_off, the arguments at loc_pkt and
	 * loc_cnt (arg, count_arg the probe's argument numbers), sema the semaphore's address in
	 * the process (0: none) */
	uint64_t site_off;
	struct nc_arg_loc loc_pkt, loc_cnt;
	uint64_t sema;
	char *func_name;
	/* the function's cold part (NAME.cold) in the same file, scanned for jumps back into the
	 * patch: its address in the process, size and file offset; cold_size 0: none known */
	uint64_t cold, cold_size, cold_off;
	/* -S: frame 0 of a call's user stack, where the uprobe path's probe would sit (the entry,
	 * or a few bytes past it: core/plan/placement.h; a USDT site's nop; a burst hook's: in the
	 * PMD's function the port runs at plan time) */
	uint64_t frame0;
};

/* A kernel probe instance */
struct nc_plan_kpoint {
	char *target; /* the raw tracepoint ("netif_receive_skb") or the kernel function */
	enum nc_skb_attach how;
	struct nc_skb_probe_cfg cfg; /* hook_l2, hook_l3: its two points */
};

struct nc_plan {
	struct nc_plan_point points[NC_MAX_HOOKS]; /* the hook id is the index */
	uint32_t n_points;
	char **stages; /* the spec of each stage (-G), in command-line order */
	uint32_t n_stages;

	/* DPDK points */
	struct nc_plan_proc *procs;
	size_t n_procs;
	struct nc_mbuf_layout mbuf; /* of every process */
	struct nc_plan_uprobe *uprobes;
	size_t n_uprobes;
	struct nc_plan_queue *queues;
	size_t n_queues;
	struct nc_plan_agent_hook *agent_hooks; /* --inject */
	size_t n_agent_hooks;

	/* kernel points */
	struct nc_plan_kpoint kpoints[NC_PLAN_MAX_KPOINTS];
	size_t n_kpoints;
	uint32_t ifindex; /* 0: every interface */
	uint64_t netns;	  /* with ifindex: the namespace's inode */
};

/* A new hook point served by backend b; its hook id in *hook. -E2BIG past NC_MAX_HOOKS. */
int nc_plan_add_point(struct nc_plan *p, enum nc_plan_backend b, const char *name,
		      const char *description, const char *label, uint16_t linktype, uint32_t stage,
		      uint32_t *hook, char *err, size_t errlen);

/* The hook ids backend b serves: *first and *n (a plan's points of one backend are
 * consecutive); *n = 0 when it serves none */
void nc_plan_range(const struct nc_plan *p, enum nc_plan_backend b, uint32_t *first, uint32_t *n);

/* Whether any uprobe is return-side (the uretprobe program is needed) */
bool nc_plan_needs_return(const struct nc_plan *p);

/* Prints the plan, one line per process, point, uprobe, queue and kernel probe, each line
 * starting with prefix (-v) */
void nc_plan_print(FILE *out, const char *prefix, const struct nc_plan *p);

/* Frees everything p holds and clears it */
void nc_plan_clear(struct nc_plan *p);

#endif
