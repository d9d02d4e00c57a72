/* SPDX-License-Identifier: BSD-2-Clause */
#include "filter_prog.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/nc_filter_abi.h"
#include "../util/err.h"
#include "filter_test.skel.h"
#include "splice.h"

struct nc_filter_prog {
	struct nc_filter_test_bpf *skel;
	int fd, bench_fd;
};

int nc_filter_prog_load(const struct nc_filter *f, struct nc_filter_prog **out, char *err,
			size_t errlen)
{
	struct nc_filter_prog *p;
	char *what;
	int ret;

	ret = nc_splice_register(err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	p->skel = nc_filter_test_bpf__open();
	if (!p->skel) {
		ret = nc_err(err, errlen, errno, "opening the filter test program: %s",
			     strerror(errno));
		goto fail;
	}
	what = g_strdup_printf("the filter \"%s\"", f->expr);
	ret = nc_splice_load(p->skel->skeleton, f, what, err, errlen);
	g_free(what);
	if (ret)
		goto fail;
	p->fd = bpf_program__fd(p->skel->progs.nc_filter_test);
	p->bench_fd = bpf_program__fd(p->skel->progs.nc_filter_bench);
	*out = p;
	return 0;
fail:
	nc_filter_prog_close(p);
	return ret;
}

static int test_run(struct nc_filter_prog *p, int fd, enum nc_link link, const uint8_t *pkt,
		    uint32_t caplen, uint32_t wirelen, uint32_t repeat, uint32_t *verdict,
		    uint32_t *ns)
{
	/* test runs want a frame; the filter reads the window, not this */
	uint8_t frame[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);
	struct nc_filter_test_bpf__bss *bss = p->skel->bss;

	if (caplen > NC_FILTER_WINDOW)
		return -EINVAL;
	memcpy(bss->window.bytes, pkt, caplen);
	bss->caplen = caplen;
	bss->wirelen = wirelen;
	bss->l3 = link == NC_LINK_L3;
	bss->verdict = 0xdeadbeef;
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*verdict = bss->verdict;
	if (ns)
		*ns = opts.duration;
	return 0;
}

int nc_filter_prog_run(struct nc_filter_prog *p, enum nc_link link, const uint8_t *pkt,
		       uint32_t caplen, uint32_t wirelen, uint32_t repeat, uint32_t *verdict,
		       uint32_t *ns)
{
	return test_run(p, p->fd, link, pkt, caplen, wirelen, repeat, verdict, ns);
}

int nc_filter_prog_bench(struct nc_filter_prog *p, enum nc_link link, const uint8_t *pkt,
			 uint32_t caplen, uint32_t wirelen, uint32_t repeat, uint32_t *verdict,
			 double *ns)
{
	uint32_t run_ns = 0;
	int ret = test_run(p, p->bench_fd, link, pkt, caplen, wirelen, repeat, verdict, &run_ns);

	if (!ret)
		*ns = (double)run_ns / NC_FILTER_BENCH_CALLS;
	return ret;
}

void nc_filter_prog_close(struct nc_filter_prog *p)
{
	if (!p)
		return;
	nc_filter_test_bpf__destroy(p->skel);
	free(p);
}
