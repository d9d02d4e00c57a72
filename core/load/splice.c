/* SPDX-License-Identifier: BSD-2-Clause */
#include "splice.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../filter/insn.h"
#include "../util/err.h"
#include "verifier_log.h"

/* What one program keeps until libbpf has loaded it (load_attr points into it). */
struct splice {
	struct splice *next;
	struct bpf_program *prog;
	const struct nc_filter *filter;
	struct bpf_insn *insns;
	size_t insn_cnt;
	uint8_t *func_info; /* records of func_info_rec_size bytes, struct bpf_func_info first */
	uint32_t func_info_cnt;
	uint8_t *line_info; /* records of line_info_rec_size bytes, struct bpf_line_info first */
	uint32_t line_info_cnt;
	char
	    error[256]; /* why the splice failed: prepare_load's only way out to nc_splice_load() */
};

/* libbpf's handler API is process-global and not thread-safe; so is this list. */
static struct splice *splices;

static struct splice *find(const struct bpf_program *prog, bool create)
{
	struct splice *s;

	for (s = splices; s; s = s->next)
		if (s->prog == prog)
			return s;
	if (!create || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->prog = (struct bpf_program *)prog;
	s->next = splices;
	splices = s;
	return s;
}

static void clear(struct splice *s)
{
	free(s->insns);
	free(s->func_info);
	free(s->line_info);
	s->insns = NULL;
	s->func_info = s->line_info = NULL;
}

int nc_splice_bind(struct bpf_program *prog, const struct nc_filter *f)
{
	struct splice *s = find(prog, true);

	if (!s)
		return -ENOMEM;
	s->filter = f;
	return 0;
}

void nc_splice_release(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, obj) {
		for (struct splice **pp = &splices; *pp; pp = &(*pp)->next) {
			struct splice *s = *pp;

			if (s->prog == prog) {
				*pp = s->next;
				clear(s);
				free(s);
				break;
			}
		}
	}
}

#define REC(base, i, size) ((void *)((base) + (size_t)(i) * (size)))

static bool is_magic(const struct bpf_insn *in, size_t left, uint64_t magic)
{
	return left >= 2 && in[0].code == (BPF_LD | BPF_IMM | BPF_DW) && in[0].src_reg == 0 &&
	       ((uint32_t)in[0].imm | ((uint64_t)(uint32_t)in[1].imm << 32)) == magic;
}

/* Relative-offset instructions that can cross function boundaries: calls and callback refs */
static bool is_pseudo_ref(const struct bpf_insn *in)
{
	return (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
	       (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC);
}

/*
 * Replaces the function that holds the placeholder `magic` with body. The function's extent is
 * taken from func_info (sorted by insn_off). Returns 0 (also when the program does not call this
 * placeholder), or a negative errno with s->error set.
 */
static int splice_one(struct splice *s, uint32_t fi_size, uint32_t li_size, uint64_t magic,
		      const struct bpf_insn *body, size_t body_cnt)
{
	size_t pos, start, end, cnt = s->insn_cnt, new_cnt;
	struct bpf_insn *out;
	uint32_t fn;
	long delta;

	for (pos = 0; pos < cnt && !is_magic(&s->insns[pos], cnt - pos, magic); pos++)
		;
	if (pos == cnt)
		return 0;
	for (fn = 0; fn + 1 < s->func_info_cnt; fn++)
		if (((struct bpf_func_info *)REC(s->func_info, fn + 1, fi_size))->insn_off > pos)
			break;
	start = ((struct bpf_func_info *)REC(s->func_info, fn, fi_size))->insn_off;
	end = fn + 1 < s->func_info_cnt
		  ? ((struct bpf_func_info *)REC(s->func_info, fn + 1, fi_size))->insn_off
		  : cnt;
	if (fn == 0 || start > pos) {
		nc_err(s->error, sizeof(s->error), EINVAL,
		       "filter placeholder of %s is not a function of its own (bad BPF object)",
		       bpf_program__name(s->prog));
		return -EINVAL;
	}

	delta = (long)body_cnt - (long)(end - start);
	new_cnt = (size_t)((long)cnt + delta);
	if (!(out = calloc(new_cnt, sizeof(*out))))
		return -ENOMEM;
	memcpy(out, s->insns, start * sizeof(*out));
	memcpy(out + start, body, body_cnt * sizeof(*out));
	memcpy(out + start + body_cnt, s->insns + end, (cnt - end) * sizeof(*out));

	/* calls that cross the replaced function: map old targets to new positions */
	for (size_t o = 0; o < cnt; o++) {
		size_t n, target, new_target;

		if (o >= start && o < end)
			continue;
		if (!is_pseudo_ref(&s->insns[o]))
			continue;
		n = o < start ? o : (size_t)((long)o + delta);
		target = (size_t)((long)o + 1 + s->insns[o].imm);
		if (target > start && target < end) {
			free(out);
			nc_err(s->error, sizeof(s->error), EINVAL,
			       "a call into the middle of the filter placeholder of %s",
			       bpf_program__name(s->prog));
			return -EINVAL;
		}
		new_target = target < end ? target : (size_t)((long)target + delta);
		out[n].imm = (int32_t)((long)new_target - (long)n - 1);
	}
	free(s->insns);
	s->insns = out;
	s->insn_cnt = new_cnt;

	/* func_info: functions after the placeholder move by delta */
	for (uint32_t i = fn + 1; i < s->func_info_cnt; i++)
		((struct bpf_func_info *)REC(s->func_info, i, fi_size))->insn_off +=
		    (uint32_t)delta;

	/* line_info: keep the function's first line, drop the rest of its body, shift the tail */
	uint32_t kept = 0;
	bool first = true;

	for (uint32_t i = 0; i < s->line_info_cnt; i++) {
		struct bpf_line_info *li = REC(s->line_info, i, li_size);

		if (li->insn_off > start && li->insn_off < end)
			continue;
		if (li->insn_off == start && !first)
			continue;
		if (li->insn_off == start)
			first = false;
		if (li->insn_off >= end)
			li->insn_off += (uint32_t)delta;
		memmove(REC(s->line_info, kept, li_size), li, li_size);
		kept++;
	}
	s->line_info_cnt = kept;
	return 0;
}

static int dup_records(uint8_t **dst, const void *src, uint32_t cnt, uint32_t size)
{
	if (!cnt) {
		*dst = NULL;
		return 0;
	}
	*dst = malloc((size_t)cnt * size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, (size_t)cnt * size);
	return 0;
}

static int prepare_load(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	/* w0 = 0x40000 (tcpdump's default snap length); exit */
	static const struct bpf_insn accept_all[] = {NC_MOV32_IMM(BPF_REG_0, 262144), NC_EXIT()};
	static const uint64_t magic[NC_LINK_COUNT] = {NC_FILTER_MAGIC_L2, NC_FILTER_MAGIC_L3};
	struct splice *s = find(prog, true);
	int err;

	(void)cookie;
	if (!s)
		return -ENOMEM;
	s->error[0] = '\0';
	clear(s);
	if (!opts->func_info || !opts->func_info_cnt) {
		nc_err(s->error, sizeof(s->error), EINVAL,
		       "program %s has no BTF func_info to place the filter by",
		       bpf_program__name(prog));
		return -EINVAL;
	}
	s->insn_cnt = bpf_program__insn_cnt(prog);
	s->func_info_cnt = opts->func_info_cnt;
	s->line_info_cnt = opts->line_info ? opts->line_info_cnt : 0;
	err = -ENOMEM;
	if (!(s->insns = malloc(s->insn_cnt * sizeof(*s->insns))) ||
	    dup_records(&s->func_info, opts->func_info, s->func_info_cnt,
			opts->func_info_rec_size) ||
	    dup_records(&s->line_info, opts->line_info, s->line_info_cnt, opts->line_info_rec_size))
		goto fail;
	memcpy(s->insns, bpf_program__insns(prog), s->insn_cnt * sizeof(*s->insns));

	for (int l = 0; l < NC_LINK_COUNT; l++) {
		const struct bpf_insn *body = s->filter ? s->filter->ebpf[l] : accept_all;
		size_t body_cnt = s->filter ? s->filter->ebpf_len[l] : 2;

		err = splice_one(s, opts->func_info_rec_size, opts->line_info_rec_size, magic[l],
				 body, body_cnt);
		if (err)
			goto fail;
	}
	err = bpf_program__set_insns(prog, s->insns, s->insn_cnt);
	if (err)
		goto fail;
	opts->func_info = s->func_info;
	opts->line_info = s->line_info;
	opts->line_info_cnt = s->line_info_cnt;
	return 0;
fail:
	if (!s->error[0])
		nc_err(s->error, sizeof(s->error), -err, "placing the filter into %s: %s",
		       bpf_program__name(prog), strerror(-err));
	clear(s);
	return err;
}

/* netcap's SEC() names: libbpf's own types, our prepare-load step */
static const struct {
	const char *sec;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
} sections[] = {
    {"netcap.tc", BPF_PROG_TYPE_SCHED_CLS, 0},
    {"netcap.uprobe", BPF_PROG_TYPE_KPROBE, 0},
    {"netcap.uretprobe", BPF_PROG_TYPE_KPROBE, 0},
    {"netcap.raw_tp", BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
    {"netcap.kprobe", BPF_PROG_TYPE_KPROBE, 0},
    {"netcap.fentry", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY},
};

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; /* warnings too: failures reach the user through the error buffers */
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void nc_load_set_verbose(bool on)
{
	verbose = on;
}

int nc_splice_register(char *err, size_t errlen)
{
	static bool done;
	LIBBPF_OPTS(libbpf_prog_handler_opts, opts, .prog_prepare_load_fn = prepare_load);

	if (done)
		return 0;
	libbpf_set_print(print_libbpf);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		int ret = libbpf_register_prog_handler(sections[i].sec, sections[i].type,
						       sections[i].attach, &opts);

		if (ret < 0)
			return nc_err(err, errlen, -ret,
				      "registering BPF section %s with libbpf: %s", sections[i].sec,
				      strerror(-ret));
	}
	done = true;
	return 0;
}

int nc_bpf_refused(char *err, size_t errlen, int ret, const char *what)
{
	if (ret == -EPERM)
		return nc_err(err, errlen, -ret,
			      "%s: %s; netcap needs root, or CAP_BPF and CAP_PERFMON (uprobes: "
			      "CAP_SYS_ADMIN); see docs/privileges.md",
			      what, strerror(-ret));
	return nc_err(err, errlen, -ret, "%s: %s", what, strerror(-ret));
}

/* NC_VERIFIER_LOG=FILE keeps the whole verifier log of a refused program (for developers) */
static void dump_log(const char *log)
{
	const char *path = getenv("NC_VERIFIER_LOG");
	FILE *f = path ? fopen(path, "w") : NULL;

	if (f) {
		fputs(log, f);
		fclose(f);
	}
}

/*
 * Loads the skeleton; when verbose, each program gets its own buffer with the verifier's
 * statistics (instructions processed, states, time), printed after a successful load; after a
 * failed one, the refused program's log goes to `log` for the reason.
 */
static int load_with_stats(struct bpf_object_skeleton *skel, char *log)
{
	struct bpf_object *obj = *skel->obj;
	struct bpf_program *prog;
	enum { STATS = 4, STATS_SIZE = 16384 }; /* BPF_LOG_STATS */
	char(*stats)[STATS_SIZE] = NULL;
	size_t n = 0, i = 0;
	int ret;

	if (verbose) {
		bpf_object__for_each_program (prog, obj)
			n++;
		stats = calloc(n ? n : 1, STATS_SIZE);
	}
	if (stats) {
		bpf_object__for_each_program (prog, obj) {
			bpf_program__set_log_buf(prog, stats[i++], STATS_SIZE);
			bpf_program__set_log_level(prog, STATS);
		}
	}
	ret = bpf_object__load_skeleton(skel);
	if (stats) {
		i = 0;
		bpf_object__for_each_program (prog, obj) {
			const char *line = stats[i++];
			size_t len;

			/* a failed load stops at the refused program: the last with a log */
			if (ret && *line)
				snprintf(log, NC_VERIFIER_LOG_SIZE, "%s", line);
			for (; !ret && *line; line += len + (line[len] == '\n')) {
				len = strcspn(line, "\n");
				fprintf(stderr, "netcap: verifier: %s: %.*s\n",
					bpf_program__name(prog), (int)len, line);
			}
			bpf_program__set_log_buf(prog, log, NC_VERIFIER_LOG_SIZE);
		}
		free(stats);
	}
	return ret;
}

int nc_splice_load(struct bpf_object_skeleton *skel, const struct nc_filter *f, const char *what,
		   char *err, size_t errlen)
{
	struct bpf_object *obj = *skel->obj;
	struct bpf_program *prog;
	char *log = calloc(1, NC_VERIFIER_LOG_SIZE);
	const char *spliced = NULL;
	int ret = 0;

	if (!log)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	/* one buffer for all: libbpf loads the programs one after the other */
	bpf_object__for_each_program (prog, obj) {
		bpf_program__set_log_buf(prog, log, NC_VERIFIER_LOG_SIZE);
		if (!ret)
			ret = nc_splice_bind(prog, f);
	}
	if (!ret)
		ret = load_with_stats(skel, log);
	if (ret)
		bpf_object__for_each_program (prog, obj) {
			const struct splice *s = find(prog, false);

			if (s && s->error[0]) {
				spliced = s->error;
				break;
			}
		}
	if (ret) {
		if (spliced) {
			nc_err(err, errlen, -ret, "%s", spliced);
		} else if (ret != -EPERM && log[0]) {
			dump_log(log);
			nc_err(err, errlen, -ret, "the kernel verifier refused %s: %s", what,
			       nc_verifier_reason(log));
		} else {
			char doing[128];

			snprintf(doing, sizeof(doing), "loading %s", what);
			nc_bpf_refused(err, errlen, ret, doing);
		}
	}
	nc_splice_release(obj);
	free(log);
	return ret;
}
