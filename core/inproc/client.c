/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include "client.h"

#include <asm/ptrace.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../agent/nc_agent_abi.h"
#include "../../agent/nc_agent_io.h"
#include "../../bpf/nc_filter_abi.h"
#include "../jit/burst_jit.h"
#include "../util/err.h"
#include "fhook.h"

#define DEFAULT_RING	(4u << 20)
#define DEFAULT_SLOTS	4
#define MIN_RING	65536
#define POLL_BATCH	4096
#define POLL_STEP_MS	5   /* the rings have no wakeup: looked at this often while idle */
#define BUSY_MS		50  /* records came this recently: */
#define BUSY_STEP_US	50  /* looked at this often */
#define TAIL_EVERY	256 /* records delivered between two publications of a ring's tail */
#define HDR_BYTES	sizeof(struct nc_agent_record)
#define MAX_FILTER_PROG 4096 /* BPF_MAXINSNS */

_Static_assert(NC_AGENT_MAX_SNAPLEN == NC_MAX_SNAPLEN, "snap length limits agree");
_Static_assert(NC_AGENT_MAX_SEGS == NC_MAX_SEGS, "segment limits agree");
_Static_assert(NC_AGENT_REC_VLAN_REINSERTED == NC_REC_VLAN_REINSERTED &&
		   NC_AGENT_REC_TRUNCATED == NC_REC_TRUNCATED &&
		   NC_AGENT_REC_SEGS_CUT == NC_REC_SEGS_CUT,
	       "record flags agree");
_Static_assert(NC_AGENT_MAX_HOOKS == NC_MAX_HOOKS, "hook limits agree");
_Static_assert(sizeof(struct nc_cbpf_insn) == 8, "a classic instruction as the agent reads it");

/* One ring being read */
struct cursor {
	struct nc_agent_ring *r;
	uint32_t hook; /* index in the options */
	uint64_t pos;  /* next record: ours, a multiple of 8, moved by checked records only */
	uint64_t head; /* published end, as read at the start of this poll */
	const struct nc_agent_record *next; /* checked, not yet delivered */
	/* pcapng blocks: the comment of this ring's records for the thread, CPU and flags below */
	char *note;
	size_t note_len;
	uint32_t note_cpu, note_tid;
	uint8_t note_flags;
	int32_t note_stack;
	int32_t stack_id; /* -S: the stack of the records that follow (the last stack record) */
};

/* -S: the distinct stacks the agent sent, by id (their index), and a hash of them */
#define STACK_HASH (2 * NC_INPROC_STACKS) /* open addressing, a power of two */

struct stacks {
	uint64_t (*ips)[NC_USTACK_DEPTH]; /* NC_INPROC_STACKS, 0 after the last frame */
	uint8_t *n;
	int32_t *hash; /* STACK_HASH slots: an id + 1, 0 empty */
	uint32_t count;
};

struct nc_inproc {
	pid_t pid;
	int listen_fd, sock, memfd;
	bool netns; /* the socket listens in the application's network namespace, not netcap's */
	char name[NC_AGENT_NAME_MAX + 1];
	struct nc_agent_region *region;
	size_t region_bytes;
	struct nc_agent_config cfg;
	uint32_t n_slots;
	uint64_t ring_bytes;
	size_t n_rings;
	struct cursor *cur;
	struct cursor **live; /* rings with a record pending, during a poll */
	uint8_t *code[3];     /* the compiled filter of RX, TX, function hooks (nc_jit_compile) */
	size_t code_len[3];
	size_t n_func;		  /* function hooks among them */
	struct nc_fh_func *funcs; /* per hook: the function (func 0: a burst hook) */
	struct nc_fh_site *sites; /* per hook: its function's patch */
	int patch_ms;
	size_t filter_bytes; /* the filter's part of the region, a multiple of 4096 */
	uint64_t malformed;
	uint64_t data_ms; /* when a poll last found records (CLOCK_MONOTONIC) */
	uint64_t *frame0; /* -S: per hook, frame 0 of its stacks */
	struct stacks stacks;
	bool ready, gone, stopped;
};

/* ---- messages ---- */

/* A message of `type` whose payload is exactly len bytes */
static int read_msg(int fd, uint16_t type, void *payload, uint32_t len, int timeout_ms)
{
	struct nc_agent_msg h;
	int r = nc_agent_read_full(fd, &h, sizeof(h), timeout_ms);

	if (r)
		return r;
	if (h.magic != NC_AGENT_MAGIC || h.version != NC_AGENT_VERSION || h.type != type ||
	    h.len != len)
		return -EPROTO;
	return len ? nc_agent_read_full(fd, payload, len, timeout_ms) : 0;
}

static int send_msg(int fd, uint16_t type, const void *payload, uint32_t len, int pass_fd)
{
	struct nc_agent_msg h = {
	    .magic = NC_AGENT_MAGIC, .version = NC_AGENT_VERSION, .type = type, .len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	size_t want = sizeof(h) + len;
	ssize_t n;

	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	/* the rest of a short write (the ancillary data went with the first byte) */
	if ((size_t)n < want) {
		uint8_t buf[sizeof(h) + sizeof(struct nc_agent_config)];

		if (want > sizeof(buf))
			return -EIO;
		memcpy(buf, &h, sizeof(h));
		memcpy(buf + sizeof(h), payload, len);
		while ((size_t)n < want) {
			ssize_t k = send(fd, buf + n, want - (size_t)n, MSG_NOSIGNAL);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return k < 0 ? -errno : -EIO;
			n += k;
		}
	}
	return 0;
}

/* ---- setup ---- */

static int check_opts(const struct nc_inproc_opts *o, char *err, size_t errlen)
{
	size_t ring = o->ring_bytes ? o->ring_bytes : DEFAULT_RING;
	uint32_t slots = o->slots ? o->slots : DEFAULT_SLOTS;

	if (!o->n_hooks || o->n_hooks > NC_AGENT_MAX_HOOKS || !o->hooks)
		return nc_err(err, errlen, EINVAL, "%zu hook points: 1 to %d", o->n_hooks,
			      NC_AGENT_MAX_HOOKS);
	if (!o->snaplen || o->snaplen > NC_MAX_SNAPLEN)
		return nc_err(err, errlen, EINVAL, "snap length %u: 1 to %d", o->snaplen,
			      NC_MAX_SNAPLEN);
	if (ring < MIN_RING || ring > (1u << 30) || (ring & (ring - 1)))
		return nc_err(err, errlen, EINVAL,
			      "ring size %zu: a power of two from 64 KiB to 1 GiB", ring);
	if (slots > NC_AGENT_MAX_SLOTS)
		return nc_err(err, errlen, EINVAL, "%u rings per hook: 1 to %d", slots,
			      NC_AGENT_MAX_SLOTS);
	if (!o->fp_ops_addr || !o->fp_ops_count || !o->fp_ops.size)
		return nc_err(err, errlen, EINVAL,
			      "no rte_eth_fp_ops address or layout: inspect the process first");
	if (o->keep_none && o->filter)
		return nc_err(err, errlen, EINVAL, "a filter and keep_none: give one or the other");
	if (o->filter && (!o->filter_len || o->filter_len > MAX_FILTER_PROG))
		return nc_err(err, errlen, EINVAL, "a filter program of %u instructions: 1 to %d",
			      o->filter_len, MAX_FILTER_PROG);
	if (o->name && (!o->name[0] || strlen(o->name) > NC_AGENT_NAME_MAX))
		return nc_err(err, errlen, EINVAL, "socket name \"%s\": 1 to %d bytes", o->name,
			      NC_AGENT_NAME_MAX);
	for (size_t i = 0; i < o->n_hooks; i++) {
		const struct nc_inproc_hook *h = &o->hooks[i];

		if (h->func) {
			if (h->arg < 1 || h->arg > 16 || h->count_arg > 16 || !h->path ||
			    !h->spec ||
			    (h->ret_bits &&
			     (h->count_arg || (h->ret_bits != 16 && h->ret_bits != 32))))
				return nc_err(
				    err, errlen, EINVAL,
				    "function hook at %#llx: arguments %u and %u: 1 to %d",
				    (unsigned long long)h->func, h->arg, h->count_arg, 16);
			for (size_t k = 0; k < i; k++)
				if (o->hooks[k].func + o->hooks[k].site_off ==
				    h->func + h->site_off)
					return nc_err(err, errlen, EINVAL,
						      "hook specs \"%s\" and \"%s\" patch the same "
						      "function: give one",
						      o->hooks[k].spec, h->spec);
			continue;
		}
		if (h->port >= NC_AGENT_MAX_PORTS || h->port >= o->fp_ops_count)
			return nc_err(err, errlen, EINVAL,
				      "port %u: in-process capture serves ports 0 to %u", h->port,
				      (o->fp_ops_count < NC_AGENT_MAX_PORTS ? o->fp_ops_count
									    : NC_AGENT_MAX_PORTS) -
					  1);
		if (h->queue < -1 || h->queue >= NC_AGENT_MAX_QUEUES)
			return nc_err(err, errlen, EINVAL, "queue %d of port %u", h->queue,
				      h->port);
		for (size_t k = 0; k < i; k++)
			if (!o->hooks[k].func && o->hooks[k].tx == h->tx &&
			    o->hooks[k].port == h->port)
				return nc_err(err, errlen, EINVAL,
					      "%s_burst of port %u given twice",
					      h->tx ? "tx" : "rx", h->port);
	}
	return 0;
}

/* A USDT argument's location for the trampoline builder: the register by its x86 number */
static struct nc_fh_loc fh_loc(const struct nc_arg_loc *l)
{
	static const uint16_t regs[16] = {
	    offsetof(struct pt_regs, rax), offsetof(struct pt_regs, rcx),
	    offsetof(struct pt_regs, rdx), offsetof(struct pt_regs, rbx),
	    offsetof(struct pt_regs, rsp), offsetof(struct pt_regs, rbp),
	    offsetof(struct pt_regs, rsi), offsetof(struct pt_regs, rdi),
	    offsetof(struct pt_regs, r8),  offsetof(struct pt_regs, r9),
	    offsetof(struct pt_regs, r10), offsetof(struct pt_regs, r11),
	    offsetof(struct pt_regs, r12), offsetof(struct pt_regs, r13),
	    offsetof(struct pt_regs, r14), offsetof(struct pt_regs, r15)};
	struct nc_fh_loc f = {.off = l->val_off, .type = l->type, .size = l->size, .reg = 0xff};

	for (uint8_t r = 0; r < 16; r++)
		if (regs[r] == l->reg_off)
			f.reg = r;
	if (l->type == NC_ARG_CONST)
		f.reg = 0;
	return f;
}

/* Whether pid is in netcap's namespace of this kind ("net", "pid"); true where it cannot be
 * told (no pid, no such process: the agent's connection then fails as it would) */
static bool same_ns(pid_t pid, const char *kind)
{
	char self[64], other[64];
	struct stat a, b;

	snprintf(self, sizeof(self), "/proc/self/ns/%s", kind);
	snprintf(other, sizeof(other), "/proc/%d/ns/%s", (int)pid, kind);
	if (pid <= 0 || stat(self, &a) || stat(other, &b))
		return true;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void fill_config(struct nc_inproc *c, const struct nc_inproc_opts *o)
{
	struct nc_agent_config *k = &c->cfg;

	k->fp_ops_addr = o->fp_ops_addr;
	k->fp_ops_count = o->fp_ops_count;
	/* the agent watches netcap's pid with a pidfd: only where that number means netcap (an
	 * application in another pid namespace, a container's, would open another process) */
	k->netcap_pid = same_ns(o->pid, "pid") ? (uint32_t)getpid() : 0;
	k->fp_ops = (struct nc_agent_fp_ops_layout){.rx_pkt_burst = o->fp_ops.rx_pkt_burst,
						    .rxq_data = o->fp_ops.rxq_data,
						    .tx_pkt_burst = o->fp_ops.tx_pkt_burst,
						    .txq_data = o->fp_ops.txq_data,
						    .size = o->fp_ops.size};
	k->mbuf = (struct nc_agent_mbuf_layout){.buf_addr = o->mbuf.buf_addr,
						.data_off = o->mbuf.data_off,
						.nb_segs = o->mbuf.nb_segs,
						.port = o->mbuf.port,
						.ol_flags = o->mbuf.ol_flags,
						.pkt_len = o->mbuf.pkt_len,
						.data_len = o->mbuf.data_len,
						.vlan_tci = o->mbuf.vlan_tci,
						.vlan_tci_outer = o->mbuf.vlan_tci_outer,
						.next = o->mbuf.next};
	k->filter = o->keep_none ? NC_AGENT_FILTER_REJECT
		    : o->filter	 ? NC_AGENT_FILTER_COMPILED
				 : NC_AGENT_FILTER_NONE;
	k->snaplen = o->snaplen;
	k->flags = o->stacks ? NC_AGENT_CFG_STACKS : 0;
	k->n_hooks = (uint32_t)o->n_hooks;
	k->region_bytes = c->region_bytes;
	for (size_t i = 0; i < o->n_hooks; i++) {
		const struct nc_inproc_hook *h = &o->hooks[i];

		if (h->func) {
			k->hooks[i] = (struct nc_agent_hook){
			    .id = h->id,
			    .kind = h->ret_bits	   ? NC_AGENT_FUNC_RET
				    : h->count_arg ? NC_AGENT_FUNC_VECTOR
						   : NC_AGENT_FUNC_SINGLE,
			    .ret_bits = h->ret_bits,
			    .direction = NC_DIR_NONE,
			    .port = NC_AGENT_PORT_NONE,
			    .queue = NC_AGENT_QUEUE_ANY,
			    .arg = h->arg,
			    .count_arg = h->count_arg,
			    .func = c->funcs[i].func + c->funcs[i].patch_off,
			    .sema = h->sema,
			    .flags = h->loc[0].type ? NC_AGENT_HOOK_SITE : 0};
			continue;
		}
		k->hooks[i] = (struct nc_agent_hook){.id = h->id,
						     .kind = h->tx ? NC_AGENT_TX : NC_AGENT_RX,
						     .direction = h->tx ? NC_DIR_OUT : NC_DIR_IN,
						     .port = h->port,
						     .queue = h->queue < 0 ? NC_AGENT_QUEUE_ANY
									   : (uint16_t)h->queue};
	}
}

/*
 * Compiles the filter for each direction a hook has (the code differs by the tags it leaves to
 * the slow path) and sizes the filter's part of the region: code RX, code TX, the program.
 */
static int compile_filter(struct nc_inproc *c, const struct nc_inproc_opts *o, char *err,
			  size_t errlen)
{
	struct nc_agent_filter *f = &c->cfg.compiled;
	uint64_t at = 4096;

	if (!o->filter)
		return 0;
	for (int d = 0; d < 3; d++) {
		struct nc_jit_layout lay;
		bool need = false;
		int r;

		for (size_t i = 0; i < o->n_hooks; i++)
			need |= o->hooks[i].func ? d == 2 : o->hooks[i].tx == (d == 1);
		if (!need)
			continue;
		nc_jit_layout_init(&lay, &o->mbuf,
				   d == 2   ? NC_DIR_NONE
				   : d == 1 ? NC_DIR_OUT
					    : NC_DIR_IN,
				   o->snaplen);
		r = nc_jit_compile(o->filter, o->filter_len, &lay, &c->code[d], &c->code_len[d],
				   err, errlen);
		if (r)
			return r;
		f->code_off[d] = (uint32_t)at;
		f->code_len[d] = (uint32_t)c->code_len[d];
		at = (at + c->code_len[d] + 15) & ~(uint64_t)15;
	}
	f->prog_off = (uint32_t)at;
	f->prog_len = o->filter_len;
	f->window = o->snaplen < NC_FILTER_WINDOW ? o->snaplen : NC_FILTER_WINDOW;
	at += (uint64_t)o->filter_len * sizeof(struct nc_cbpf_insn);
	c->filter_bytes = ((at - 4096) + 4095) & ~(uint64_t)4095;
	return 0;
}

static int make_region(struct nc_inproc *c, const struct nc_inproc_opts *o, char *err,
		       size_t errlen)
{
	struct nc_agent_region *r;
	uint64_t stride = sizeof(struct nc_agent_ring) + c->ring_bytes;

	c->n_rings = c->cfg.n_hooks * (size_t)c->n_slots;
	c->region_bytes = 4096 + c->filter_bytes + c->n_rings * stride;
	c->memfd = memfd_create("netcap-inproc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->memfd < 0)
		return nc_err(err, errlen, errno, "memfd_create: %s", strerror(errno));
	if (ftruncate(c->memfd, (off_t)c->region_bytes))
		return nc_err(err, errlen, errno, "sizing the shared memory (%zu bytes): %s",
			      c->region_bytes, strerror(errno));
	/* the agent checks the size once: it must not change under it */
	if (fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		return nc_err(err, errlen, errno, "sealing the shared memory: %s", strerror(errno));
	r = mmap(NULL, c->region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (r == MAP_FAILED)
		return nc_err(err, errlen, errno, "mapping the shared memory: %s", strerror(errno));
	c->region = r;
	r->magic = NC_AGENT_MAGIC;
	r->version = NC_AGENT_VERSION;
	r->n_hooks = c->cfg.n_hooks;
	r->n_slots = c->n_slots;
	r->ring_bytes = c->ring_bytes;
	r->ring_stride = stride;
	r->rings_off = 4096 + c->filter_bytes;
	if (o->filter) {
		const struct nc_agent_filter *f = &c->cfg.compiled;

		for (int d = 0; d < 3; d++)
			if (c->code[d])
				memcpy((uint8_t *)r + f->code_off[d], c->code[d], c->code_len[d]);
		memcpy((uint8_t *)r + f->prog_off, o->filter,
		       o->filter_len * sizeof(struct nc_cbpf_insn));
	}
	c->cur = calloc(c->n_rings, sizeof(*c->cur));
	c->live = calloc(c->n_rings, sizeof(*c->live));
	if (!c->cur || !c->live)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n_rings; i++) {
		c->cur[i].r = (struct nc_agent_ring *)((uint8_t *)r + r->rings_off + i * stride);
		c->cur[i].hook = (uint32_t)(i / c->n_slots);
		c->cur[i].stack_id = NC_USTACK_NONE;
	}
	return 0;
}

/* A listening socket at sa, or -errno */
static int listen_at(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)sa, len) || listen(fd, 4)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* The same made in another network namespace, on a thread of its own that enters it (the
 * socket stays in that namespace, where the agent's abstract name resolves) */
struct in_netns {
	pid_t pid;
	const struct sockaddr_un *sa;
	socklen_t len;
	int ret;	  /* the socket or -errno */
	const char *step; /* what failed */
};

static void *listen_in_netns(void *arg)
{
	struct in_netns *n = arg;
	char path[64];
	int ns;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)n->pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		n->ret = -errno;
		n->step = "opening its /proc/PID/ns/net";
		return NULL;
	}
	if (setns(ns, CLONE_NEWNET)) {
		n->ret = -errno;
		n->step = "entering it (setns)";
		close(ns);
		return NULL;
	}
	close(ns);
	n->ret = listen_at(n->sa, n->len);
	n->step = "listening there";
	return NULL;
}

static int make_socket(struct nc_inproc *c, const char *name, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;

	if (name) {
		snprintf(c->name, sizeof(c->name), "%s", name);
	} else {
		uint64_t rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
		snprintf(c->name, sizeof(c->name), "netcap-inproc.%d.%016llx", (int)c->pid,
			 (unsigned long long)rnd);
	}
	len = strlen(c->name);
	memcpy(sa.sun_path + 1, c->name, len);
	if (!same_ns(c->pid, "net")) {
		/* an abstract name lives in one network namespace: the application's (a
		 * container's) must see it */
		struct in_netns n = {
		    .pid = c->pid,
		    .sa = &sa,
		    .len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)};
		pthread_t t;
		int e = pthread_create(&t, NULL, listen_in_netns, &n);

		if (e)
			return nc_err(err, errlen, e,
				      "a thread for the application's network "
				      "namespace: %s",
				      strerror(e));
		pthread_join(t, NULL);
		if (n.ret < 0)
			return nc_err(err, errlen, -n.ret,
				      "process %d is in another network namespace (a container?): "
				      "%s for @%s failed: %s%s",
				      (int)c->pid, n.step, c->name, strerror(-n.ret),
				      n.ret == -EPERM ? " (entering it takes CAP_SYS_ADMIN: run "
							"netcap as root)"
						      : "");
		c->listen_fd = n.ret;
		c->netns = true;
		return 0;
	}
	c->listen_fd =
	    listen_at(&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len));
	if (c->listen_fd < 0) {
		int e = -c->listen_fd;

		c->listen_fd = -1;
		return nc_err(err, errlen, e, "listening on @%s: %s", c->name, strerror(e));
	}
	return 0;
}

int nc_inproc_open(const struct nc_inproc_opts *o, struct nc_inproc **out, char *err, size_t errlen)
{
	struct nc_inproc *c;
	int r = check_opts(o, err, errlen);

	if (r)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	c->pid = o->pid;
	c->listen_fd = c->sock = c->memfd = -1;
	c->ring_bytes = o->ring_bytes ? o->ring_bytes : DEFAULT_RING;
	c->n_slots = o->slots ? o->slots : DEFAULT_SLOTS;
	c->cfg.n_hooks = (uint32_t)o->n_hooks;
	c->patch_ms = o->patch_timeout_ms;
	c->sites = calloc(o->n_hooks, sizeof(*c->sites));
	c->funcs = calloc(o->n_hooks, sizeof(*c->funcs));
	if (o->stacks) {
		c->frame0 = calloc(o->n_hooks, sizeof(*c->frame0));
		c->stacks.ips = calloc(NC_INPROC_STACKS, sizeof(*c->stacks.ips));
		c->stacks.n = calloc(NC_INPROC_STACKS, 1);
		c->stacks.hash = calloc(STACK_HASH, sizeof(*c->stacks.hash));
		for (size_t i = 0; c->frame0 && i < o->n_hooks; i++)
			c->frame0[i] = o->hooks[i].frame0;
	}
	if (!c->sites || !c->funcs ||
	    (o->stacks && (!c->frame0 || !c->stacks.ips || !c->stacks.n || !c->stacks.hash))) {
		nc_inproc_close(c);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < o->n_hooks; i++) {
		const struct nc_inproc_hook *h = &o->hooks[i];

		c->n_func += h->func != 0;
		c->funcs[i] = (struct nc_fh_func){.func = h->func,
						  .func_size = h->func_size,
						  .file_off = h->file_off,
						  .path = h->path,
						  .spec = h->spec,
						  .arg = h->arg,
						  .count_arg = h->count_arg,
						  .ret_bits = h->ret_bits,
						  .site_off = h->site_off,
						  .loc = {fh_loc(&h->loc[0]), fh_loc(&h->loc[1])},
						  .func_name = h->func_name,
						  .cold = h->cold,
						  .cold_size = h->cold_size,
						  .cold_off = h->cold_off};
	}
	r = 0;
	for (size_t i = 0; !r && i < o->n_hooks; i++) /* where each USDT site's patch starts */
		if (c->funcs[i].func && c->funcs[i].loc[0].type)
			r = nc_fh_site_start(&c->funcs[i], err, errlen);
	if (!r)
		r = compile_filter(c, o, err, errlen);
	if (!r)
		r = make_region(c, o, err, errlen);
	if (!r) {
		fill_config(c, o);
		r = make_socket(c, o->name, err, errlen);
	}
	if (r) {
		nc_inproc_close(c);
		return r;
	}
	*out = c;
	return 0;
}

const char *nc_inproc_name(const struct nc_inproc *c)
{
	return c->name;
}

bool nc_inproc_netns(const struct nc_inproc *c)
{
	return c->netns;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The agent's connection, from the application only */
static int accept_agent(struct nc_inproc *c, int timeout_ms, char *err, size_t errlen)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = c->listen_fd, .events = POLLIN};
		int64_t left = (int64_t)(end - now_ms());
		struct ucred cred;
		socklen_t len = sizeof(cred);
		int fd, r;

		if (left <= 0)
			return nc_err(err, errlen, ETIMEDOUT,
				      "no agent connected to @%s within %d ms", c->name,
				      timeout_ms);
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return nc_err(err, errlen, errno, "waiting for the agent: %s",
				      strerror(errno));
		if (r <= 0)
			continue;
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				continue;
			return nc_err(err, errlen, errno, "accept: %s", strerror(errno));
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
		    (c->pid > 0 && cred.pid != c->pid)) {
			close(fd); /* not the application's: not ours to talk to */
			continue;
		}
		c->sock = fd;
		return 0;
	}
}

/* Function hooks: the functions' bytes back (best effort: the agent's entries are off anyway) */
static int unpatch(struct nc_inproc *c, char *err, size_t errlen)
{
	return c->n_func ? nc_fh_remove(c->pid, c->sites, c->cfg.n_hooks, c->patch_ms, err, errlen)
			 : 0;
}

/*
 * After CONFIG with function hooks: the agent's TRAMPS (or READY with its refusal: returns 1,
 * *st filled), the trampolines written and the functions patched, ARMED sent. 0 or -errno with
 * the reason (nothing patched then; the agent leaves when the socket closes).
 */
static int patch_functions(struct nc_inproc *c, int timeout_ms, struct nc_agent_status *st,
			   char *err, size_t errlen)
{
	static struct nc_agent_tramps t; /* 1.5 KiB; netcap accepts one agent at a time */
	struct nc_agent_msg h;
	int r = nc_agent_read_full(c->sock, &h, sizeof(h), timeout_ms);

	if (!r && (h.magic != NC_AGENT_MAGIC || h.version != NC_AGENT_VERSION))
		r = -EPROTO;
	if (!r && h.type == NC_AGENT_READY && h.len == sizeof(*st)) {
		r = nc_agent_read_full(c->sock, st, sizeof(*st), timeout_ms);
		return r ? r : 1;
	}
	if (!r && (h.type != NC_AGENT_TRAMPS || h.len != sizeof(t)))
		r = -EPROTO;
	if (!r)
		r = nc_agent_read_full(c->sock, &t, sizeof(t), timeout_ms);
	if (!r && t.n != c->cfg.n_hooks)
		r = -EPROTO;
	if (r)
		return nc_err(err, errlen, -r, "the agent's trampolines: %s",
			      r == -EPROTO ? "another protocol or version" : strerror(-r));
	r = nc_fh_install(c->pid, c->funcs, c->cfg.n_hooks, &t, c->patch_ms, c->sites, err, errlen);
	if (r)
		return r;
	r = send_msg(c->sock, NC_AGENT_ARMED, NULL, 0, -1);
	if (r) {
		unpatch(c, NULL, 0);
		return nc_err(err, errlen, -r, "telling the agent the functions are patched: %s",
			      strerror(-r));
	}
	return 0;
}

int nc_inproc_accept(struct nc_inproc *c, int timeout_ms, char *err, size_t errlen)
{
	struct nc_agent_hello hello;
	struct nc_agent_status st;
	int r = accept_agent(c, timeout_ms, err, errlen);

	close(c->listen_fd);
	c->listen_fd = -1;
	if (r)
		return r;
	r = read_msg(c->sock, NC_AGENT_HELLO, &hello, sizeof(hello), timeout_ms);
	if (r)
		return nc_err(err, errlen, -r, "the agent's hello: %s",
			      r == -EPROTO ? "another protocol or version" : strerror(-r));
	/* hello.pid is the application's pid in its own namespace: SO_PEERCRED, translated by
	 * the kernel, is what was checked */
	r = send_msg(c->sock, NC_AGENT_CONFIG, &c->cfg, sizeof(c->cfg), c->memfd);
	if (r)
		return nc_err(err, errlen, -r, "sending the configuration: %s", strerror(-r));
	r = c->n_func ? patch_functions(c, timeout_ms, &st, err, errlen) : 0;
	if (r > 0) /* the agent refused before TRAMPS: st holds its READY */
		r = 0;
	else if (!r)
		r = read_msg(c->sock, NC_AGENT_READY, &st, sizeof(st), timeout_ms);
	else
		return r;
	if (r) {
		unpatch(c, NULL, 0);
		return nc_err(err, errlen, -r, "the agent's answer to the configuration: %s",
			      r == -EPROTO ? "another protocol or version" : strerror(-r));
	}
	if (st.status) {
		unpatch(c, NULL, 0);
		st.text[sizeof(st.text) - 1] = '\0';
		return nc_err(err, errlen, st.status < 0 ? -st.status : EPROTO,
			      "the agent in process %d refused: %s", (int)c->pid, st.text);
	}
	c->ready = true;
	return 0;
}

/* ---- reading ---- */

/* The latest clock pairs (sequence lock); false if the agent is writing them all along */
static bool read_clock(const struct nc_agent_region *r, struct nc_agent_clock *base,
		       struct nc_agent_clock *now)
{
	for (int i = 0; i < 1000; i++) {
		uint64_t s0 = __atomic_load_n(&r->clock_seq, __ATOMIC_ACQUIRE);

		if (s0 & 1)
			continue;
		*base = r->base;
		*now = r->now;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->clock_seq, __ATOMIC_RELAXED) == s0)
			return true;
	}
	return false;
}

struct tsc_conv {
	struct nc_agent_clock now;
	double ns_per_tsc;
};

static uint64_t tsc_to_mono(const struct tsc_conv *t, uint64_t tsc)
{
	double d = (double)(int64_t)(tsc - t->now.tsc) * t->ns_per_tsc;

	return (uint64_t)((int64_t)t->now.mono_ns + (int64_t)d);
}

/* Checks the record at the cursor; its size, or 0 when it is malformed */
static uint32_t record_ok(const struct nc_inproc *c, const struct cursor *k,
			  const struct nc_agent_record *rec)
{
	uint64_t off = k->pos & (c->ring_bytes - 1), left = k->head - k->pos;
	uint32_t size = rec->size;

	if (size < 8 || size % 8 || size > left || size > c->ring_bytes - off)
		return 0;
	if (rec->kind == NC_AGENT_REC_WRAP)
		return off + size == c->ring_bytes ? size : 0;
	if (rec->kind == NC_AGENT_REC_STACK) {
		const struct nc_agent_stack *st = (const void *)rec;

		return c->cfg.flags & NC_AGENT_CFG_STACKS && st->n <= NC_AGENT_STACK_DEPTH &&
			       size == sizeof(*st) + 8u * st->n
			   ? size
			   : 0;
	}
	if (rec->kind != NC_AGENT_REC_PACKET || size < HDR_BYTES || rec->cap_len > c->cfg.snaplen ||
	    rec->cap_len > rec->wire_len || NC_AGENT_ALIGN(HDR_BYTES + rec->cap_len) != size)
		return 0;
	return size;
}

/* FNV-1a of a stack's frames */
static uint64_t stack_hash(const uint64_t *ips, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * -S: the id of the stack of a stack record (frame 0 the hook's, the agent's frames after it),
 * the same frames the same id: NC_USTACK_NONE when the agent could not read it, NC_USTACK_FULL
 * past NC_INPROC_STACKS distinct ones
 */
static int32_t intern_stack(struct nc_inproc *c, uint32_t hook, const struct nc_agent_stack *st)
{
	struct stacks *t = &c->stacks;
	uint64_t ips[NC_USTACK_DEPTH];
	uint32_t n = 1, slot;

	if (!st->n || !t->hash)
		return NC_USTACK_NONE;
	ips[0] = c->frame0[hook];
	memcpy(ips + 1, st->ips, 8u * st->n);
	n += st->n;
	for (slot = (uint32_t)stack_hash(ips, n) & (STACK_HASH - 1); t->hash[slot];
	     slot = (slot + 1) & (STACK_HASH - 1)) {
		int32_t id = t->hash[slot] - 1;

		if (t->n[id] == n && !memcmp(t->ips[id], ips, 8u * n))
			return id;
	}
	if (t->count >= NC_INPROC_STACKS)
		return NC_USTACK_FULL;
	memset(t->ips[t->count], 0, sizeof(t->ips[t->count]));
	memcpy(t->ips[t->count], ips, 8u * n);
	t->n[t->count] = (uint8_t)n;
	t->hash[slot] = (int32_t)t->count + 1;
	return (int32_t)t->count++;
}

int nc_inproc_stack(const struct nc_inproc *c, int32_t id, uint64_t *ips)
{
	if (id == NC_USTACK_FULL)
		return -ENOSPC;
	if (id < 0 || (uint32_t)id >= c->stacks.count)
		return -ENOENT;
	memcpy(ips, c->stacks.ips[id], 8u * c->stacks.n[id]);
	return c->stacks.n[id];
}

/* The next packet record of the ring (WRAP markers passed, stack records taken), or NULL at its
 * head */
static const struct nc_agent_record *peek(struct nc_inproc *c, struct cursor *k)
{
	while (k->pos < k->head) {
		const uint8_t *data = (const uint8_t *)(k->r + 1);
		const struct nc_agent_record *rec =
		    (const void *)(data + (k->pos & (c->ring_bytes - 1)));
		uint32_t size = record_ok(c, k, rec);

		if (!size) {
			c->malformed++;
			k->pos = k->head;
			return NULL;
		}
		if (rec->kind == NC_AGENT_REC_PACKET)
			return rec;
		if (rec->kind == NC_AGENT_REC_STACK)
			k->stack_id = intern_stack(c, k->hook, (const struct nc_agent_stack *)rec);
		k->pos += size;
	}
	return NULL;
}

/* Snapshots each ring's head; true if any has something */
static bool snapshot(struct nc_inproc *c)
{
	bool any = false;

	for (size_t i = 0; i < c->n_rings; i++) {
		struct cursor *k = &c->cur[i];
		uint64_t head = __atomic_load_n(&k->r->head, __ATOMIC_ACQUIRE);

		/* k->pos is ours: the tail in shared memory is only written, never trusted back */
		if (head < k->pos || head - k->pos > c->ring_bytes) {
			c->malformed++;
			head = k->pos; /* nothing of it can be trusted this time */
		}
		k->head = head;
		any |= head != k->pos;
	}
	return any;
}

static void agent_check(struct nc_inproc *c)
{
	struct pollfd p = {.fd = c->sock, .events = POLLIN};

	if (c->sock < 0 || c->gone || c->stopped)
		return;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
		char b;

		if (recv(c->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
			c->gone = true;
	}
}

/*
 * Waits up to timeout_ms for a record in any ring, the heads snapshot; false if none came. The
 * rings have no wakeup: while records kept coming in the last BUSY_MS they are looked at every
 * BUSY_STEP_US (a ring of 4 MiB holds ~1 ms of a saturated port's 64-byte packets), else every
 * POLL_STEP_MS. It never sleeps while a record waits.
 */
static bool wait_records(struct nc_inproc *c, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	while (!snapshot(c)) {
		uint64_t now = now_ms();
		int64_t left = (int64_t)(end - now);
		bool busy = now - c->data_ms < BUSY_MS;
		long step_ns = busy ? BUSY_STEP_US * 1000L : POLL_STEP_MS * 1000000L;
		struct timespec step = {0, step_ns};

		agent_check(c);
		if (left <= 0 || c->gone)
			return false;
		if (left * 1000000L < step_ns)
			step.tv_nsec = left * 1000000L;
		nanosleep(&step, NULL);
	}
	c->data_ms = now_ms();
	return true;
}

/* The conversion of this poll's records' times; false while the agent writes the pairs */
static bool conv_of(const struct nc_inproc *c, struct tsc_conv *conv)
{
	struct nc_agent_clock base;

	if (!read_clock(c->region, &base, &conv->now))
		return false;
	conv->ns_per_tsc = conv->now.tsc > base.tsc ? (double)(conv->now.mono_ns - base.mono_ns) /
							  (double)(conv->now.tsc - base.tsc)
						    : 0;
	return true;
}

/* The rings with something, each with its next record checked once; how many */
static size_t gather_live(struct nc_inproc *c)
{
	size_t n_live = 0;

	for (size_t i = 0; i < c->n_rings; i++) {
		c->cur[i].next = peek(c, &c->cur[i]);
		if (c->cur[i].next)
			c->live[n_live++] = &c->cur[i];
	}
	return n_live;
}

int nc_inproc_poll(struct nc_inproc *c, nc_record_fn fn, void *ctx, int timeout_ms)
{
	struct tsc_conv conv;
	size_t n_live;
	int n = 0, ret = 0;

	if (!c->ready || !wait_records(c, timeout_ms) || !conv_of(c, &conv))
		return 0;
	n_live = gather_live(c);
	while (n < POLL_BATCH && n_live) {
		size_t b = 0;
		struct cursor *bk;
		const struct nc_agent_record *best;
		struct nc_record rec;

		for (size_t i = 1; i < n_live; i++)
			if ((int64_t)(c->live[i]->next->tsc - c->live[b]->next->tsc) < 0)
				b = i;
		bk = c->live[b];
		best = bk->next;
		memset(&rec, 0, sizeof(rec));
		rec.ts_ns = tsc_to_mono(&conv, best->tsc);
		rec.object = best->mbuf;
		rec.hook = c->cfg.hooks[bk->hook].id;
		rec.cpu = best->cpu;
		rec.pid = (uint32_t)c->pid;
		rec.tid = bk->r->tid;
		rec.wire_len = best->wire_len;
		rec.cap_len = best->cap_len;
		rec.port = c->cfg.hooks[bk->hook].port;
		rec.queue = best->queue;
		rec.direction = c->cfg.hooks[bk->hook].direction;
		rec.flags = best->flags;
		rec.stack_id = bk->stack_id;
		ret = fn(ctx, &rec, (const uint8_t *)(best + 1));
		bk->pos += best->size;
		n++;
		/* room for the producer as soon as possible, not only at the end of the poll */
		if (n % TAIL_EVERY == 0)
			__atomic_store_n(&bk->r->tail, bk->pos, __ATOMIC_RELEASE);
		if (ret < 0)
			break;
		bk->next = peek(c, bk);
		if (!bk->next)
			c->live[b] = c->live[--n_live];
	}
	for (size_t i = 0; i < c->n_rings; i++)
		__atomic_store_n(&c->cur[i].r->tail, c->cur[i].pos, __ATOMIC_RELEASE);
	return ret < 0 ? ret : n;
}

/* A classic pcap record header, as libpcap's nanosecond dumper writes it (host byte order) */
struct pcap_rec {
	uint32_t sec, nsec, caplen, len;
};

/* The fixed part of an EPB as core/write/pcapng.c writes it: block header, then body */
struct epb_head {
	uint32_t type, total, iface, ts_high, ts_low, caplen, wirelen;
};
_Static_assert(sizeof(struct epb_head) == 28, "EPB header and body");

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

/* The comment of the ring's records of this thread, CPU and flags (made again when one changes) */
static bool note_of(struct nc_inproc *c, struct cursor *k, const struct nc_agent_record *rec,
		    const struct nc_pcap_batch *b, uint32_t id)
{
	struct nc_record r;
	char buf[6144];
	size_t len;
	char *n;

	if (k->note && k->note_cpu == rec->cpu && k->note_flags == rec->flags &&
	    k->note_tid == k->r->tid && k->note_stack == k->stack_id)
		return true;
	memset(&r, 0, sizeof(r));
	r.hook = id;
	r.cpu = rec->cpu;
	r.pid = (uint32_t)c->pid;
	r.tid = k->r->tid;
	r.port = c->cfg.hooks[k->hook].port;
	r.queue = rec->queue;
	r.direction = c->cfg.hooks[k->hook].direction;
	r.flags = rec->flags;
	r.stack_id = k->stack_id;
	buf[0] = '\0';
	b->comment(b->comment_ctx, &r, b->label[id] ? b->label[id] : "", buf, sizeof(buf));
	len = strlen(buf);
	if (len > 65535)
		return false;
	n = realloc(k->note, len + 1);
	if (!n)
		return false;
	memcpy(n, buf, len + 1);
	k->note = n;
	k->note_len = len;
	k->note_cpu = rec->cpu;
	k->note_flags = rec->flags;
	k->note_tid = k->r->tid;
	k->note_stack = k->stack_id;
	return true;
}

/* An option (code, length, value, padding to 4) at p; its bytes */
static size_t put_opt(uint8_t *p, uint16_t code, const void *val, uint16_t len)
{
	static const uint8_t zeros[4];
	uint16_t oh[2] = {code, len};

	memcpy(p, oh, sizeof(oh));
	memcpy(p + 4, val, len);
	memcpy(p + 4 + len, zeros, pad4(len));
	return 4 + len + pad4(len);
}

/*
 * The record as one EPB at the end of b, with the options nc_pcapng_packet() writes for the
 * session's packet of it, in its order: epb_flags (the direction, if it has one), epb_queue (a
 * port's hook), epb_packetid (the mbuf), the comment, opt_endofopt. False when it does not fit.
 */
static bool put_epb(struct nc_inproc *c, struct cursor *k, const struct nc_agent_record *rec,
		    struct nc_pcap_batch *b, uint32_t id, uint64_t real)
{
	static const uint8_t zeros[4];
	const struct nc_agent_hook *hk = &c->cfg.hooks[k->hook];
	bool dir = hk->direction == NC_DIR_IN || hk->direction == NC_DIR_OUT,
	     queue = hk->port != NC_PORT_UNKNOWN;
	size_t total = sizeof(struct epb_head) + rec->cap_len + pad4(rec->cap_len) + (dir ? 8 : 0) +
		       (queue ? 8 : 0) + 12 +
		       (k->note_len ? 4 + k->note_len + pad4(k->note_len) : 0) + 4 + 4;
	struct epb_head h = {.type = 6,
			     .total = (uint32_t)total,
			     .iface = b->file_id[id],
			     .ts_high = (uint32_t)(real >> 32),
			     .ts_low = (uint32_t)real,
			     .caplen = rec->cap_len,
			     .wirelen = rec->wire_len};
	uint32_t flags = hk->direction, q = rec->queue, t32 = (uint32_t)total;
	uint64_t mbuf = rec->mbuf;
	uint8_t *p = b->buf + b->len;

	if (b->cap - b->len < total)
		return false;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, rec + 1, rec->cap_len);
	p += rec->cap_len;
	memcpy(p, zeros, pad4(rec->cap_len));
	p += pad4(rec->cap_len);
	if (dir)
		p += put_opt(p, 2, &flags, sizeof(flags)); /* epb_flags */
	if (queue)
		p += put_opt(p, 6, &q, sizeof(q)); /* epb_queue */
	p += put_opt(p, 5, &mbuf, sizeof(mbuf));   /* epb_packetid */
	if (k->note_len)
		p += put_opt(p, 1, k->note, (uint16_t)k->note_len); /* opt_comment */
	memset(p, 0, 4);					    /* opt_endofopt */
	memcpy(p + 4, &t32, 4);
	b->len += total;
	return true;
}

int nc_inproc_poll_pcap(struct nc_inproc *c, struct nc_pcap_batch *b, int timeout_ms)
{
	struct tsc_conv conv;
	size_t n_live;
	int n = 0;
	bool full = false;

	if (!c->ready || !wait_records(c, timeout_ms) || !conv_of(c, &conv))
		return 0;
	n_live = gather_live(c);
	/* the ring with the oldest burst, copied up to the next ring's oldest: a run per step */
	while (n_live && !full) {
		size_t bi = 0;
		uint64_t limit = 0, tsc = 0, real = 0;
		bool limited = false, timed = false;
		struct cursor *bk;
		const struct nc_agent_record *rec;
		struct pcap_rec h = {0};
		uint32_t id;

		for (size_t i = 1; i < n_live; i++)
			if ((int64_t)(c->live[i]->next->tsc - c->live[bi]->next->tsc) < 0)
				bi = i;
		for (size_t i = 0; i < n_live; i++)
			if (i != bi && (!limited || (int64_t)(c->live[i]->next->tsc - limit) < 0)) {
				limit = c->live[i]->next->tsc;
				limited = true;
			}
		bk = c->live[bi];
		id = c->cfg.hooks[bk->hook].id;
		if (id >= NC_PCAP_BATCH_HOOKS)
			return -EINVAL;
		if (b->pcapng && b->file_id[id] == NC_PCAP_BATCH_NO_ID) {
			b->need = id; /* its IDB first: the caller writes it and polls again */
			break;
		}
		for (rec = bk->next; rec; rec = peek(c, bk)) {
			size_t need = sizeof(h) + rec->cap_len;

			if (limited && (int64_t)(rec->tsc - limit) > 0)
				break;
			if ((b->max && b->packets >= b->max) ||
			    (!b->pcapng && b->cap - b->len < need)) {
				full = true;
				break;
			}
			/* one time per burst */
			if (!timed || rec->tsc != tsc) {
				real = (uint64_t)((int64_t)tsc_to_mono(&conv, rec->tsc) +
						  b->real_offset_ns);
				tsc = rec->tsc;
				timed = true;
				h.sec = (uint32_t)(real / 1000000000u);
				h.nsec = (uint32_t)(real % 1000000000u);
			}
			if (b->pcapng) {
				if (!note_of(c, bk, rec, b, id))
					return -ENOMEM;
				if (!put_epb(c, bk, rec, b, id, real)) {
					full = true;
					break;
				}
			} else {
				h.caplen = rec->cap_len;
				h.len = rec->wire_len;
				memcpy(b->buf + b->len, &h, sizeof(h));
				memcpy(b->buf + b->len + sizeof(h), rec + 1, rec->cap_len);
				b->len += need;
			}
			b->packets++;
			b->written[id]++;
			bk->pos += rec->size;
			if (++n % TAIL_EVERY == 0)
				__atomic_store_n(&bk->r->tail, bk->pos, __ATOMIC_RELEASE);
		}
		bk->next = rec;
		if (!rec)
			c->live[bi] = c->live[--n_live];
	}
	for (size_t i = 0; i < c->n_rings; i++)
		__atomic_store_n(&c->cur[i].r->tail, c->cur[i].pos, __ATOMIC_RELEASE);
	return n;
}

bool nc_inproc_gone(struct nc_inproc *c)
{
	agent_check(c);
	return c->gone;
}

int nc_inproc_counters(const struct nc_inproc *c, size_t hook, struct nc_counters *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (hook >= c->cfg.n_hooks)
		return -EINVAL;
	for (uint32_t s = 0; s < c->n_slots; s++) {
		const struct nc_agent_ring *r = c->cur[hook * c->n_slots + s].r;

		sum->seen += __atomic_load_n(&r->seen, __ATOMIC_RELAXED);
		sum->matched += __atomic_load_n(&r->matched, __ATOMIC_RELAXED);
		sum->written += __atomic_load_n(&r->written, __ATOMIC_RELAXED);
		sum->ringfull += __atomic_load_n(&r->ringfull, __ATOMIC_RELAXED);
	}
	return 0;
}

uint64_t nc_inproc_noslot(const struct nc_inproc *c, size_t hook)
{
	return hook < c->cfg.n_hooks ? __atomic_load_n(&c->region->noslot[hook], __ATOMIC_RELAXED)
				     : 0;
}

uint64_t nc_inproc_malformed(const struct nc_inproc *c)
{
	return c->malformed;
}

int nc_inproc_stop(struct nc_inproc *c, int timeout_ms, char *err, size_t errlen)
{
	struct nc_agent_status st;
	int r, un;

	if (!c->ready || c->stopped)
		return 0;
	/* the functions' own bytes back first: then no thread enters a trampoline any more (if
	 * that fails, the agent still switches the trampolines' calls off at STOP) */
	un = unpatch(c, err, errlen);
	if (c->gone)
		return un ? un
			  : nc_err(err, errlen, EPIPE, "the agent in process %d had already left",
				   (int)c->pid);
	r = send_msg(c->sock, NC_AGENT_STOP, NULL, 0, -1);
	if (!r)
		r = read_msg(c->sock, NC_AGENT_STOPPED, &st, sizeof(st), timeout_ms);
	if (r) {
		c->gone = true;
		return nc_err(err, errlen, -r,
			      "the agent in process %d did not confirm it left: %s", (int)c->pid,
			      strerror(-r));
	}
	c->stopped = true;
	if (un)
		return un;
	if (st.status) {
		st.text[sizeof(st.text) - 1] = '\0';
		return nc_err(err, errlen, st.status < 0 ? -st.status : EPROTO,
			      "the agent in process %d: %s", (int)c->pid, st.text);
	}
	return 0;
}

void nc_inproc_close(struct nc_inproc *c)
{
	if (!c)
		return;
	if (c->ready && c->sites)
		unpatch(c, NULL, 0); /* not stopped: the agent leaves when the socket closes */
	if (c->region)
		munmap(c->region, c->region_bytes);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->sock >= 0)
		close(c->sock);
	for (size_t i = 0; c->cur && i < c->n_rings; i++)
		free(c->cur[i].note);
	free(c->cur);
	free(c->live);
	free(c->code[0]);
	free(c->code[1]);
	free(c->code[2]);
	free(c->funcs);
	free(c->sites);
	free(c->frame0);
	free(c->stacks.ips);
	free(c->stacks.n);
	free(c->stacks.hash);
	free(c);
}
