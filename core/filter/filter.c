/* SPDX-License-Identifier: BSD-2-Clause */
#include "filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

void nc_filter_free(struct nc_filter *f)
{
	if (!f)
		return;
	for (int l = 0; l < NC_LINK_COUNT; l++) {
		free(f->cbpf[l]);
		free(f->ebpf[l]);
	}
	free(f->l3_reject_reason);
	free(f->expr);
	free(f);
}

int nc_filter_new(const char *expr, uint32_t snaplen, int optimize, struct nc_filter **out,
		  char *err, size_t errlen)
{
	char why[256];
	struct nc_filter *f;
	int ret;

	f = calloc(1, sizeof(*f));
	if (!f || !(f->expr = strdup(expr))) {
		free(f);
		return nc_err(err, errlen, ENOMEM, "out of memory");
	}
	f->snaplen = snaplen;

	ret = nc_cbpf_compile(expr, NC_LINK_L2, snaplen, optimize, &f->cbpf[NC_LINK_L2],
			      &f->cbpf_len[NC_LINK_L2], why, sizeof(why));
	if (ret) {
		nc_err(err, errlen, -ret, "bad filter \"%s\": %s", expr, why);
		goto fail;
	}
	ret = nc_cbpf_compile(expr, NC_LINK_L3, snaplen, optimize, &f->cbpf[NC_LINK_L3],
			      &f->cbpf_len[NC_LINK_L3], why, sizeof(why));
	if (ret == -EINVAL) {
		/* e.g. "arp", "ether host": meaningless without a link header */
		static const struct nc_cbpf_insn reject_all = {.code = 0x06 /* ret #0 */};

		f->l3_reject_reason = strdup(why);
		f->cbpf[NC_LINK_L3] = malloc(sizeof(reject_all));
		if (!f->l3_reject_reason || !f->cbpf[NC_LINK_L3]) {
			ret = nc_err(err, errlen, ENOMEM, "out of memory");
			goto fail;
		}
		*f->cbpf[NC_LINK_L3] = reject_all;
		f->cbpf_len[NC_LINK_L3] = 1;
	} else if (ret) {
		nc_err(err, errlen, -ret, "bad filter \"%s\": %s", expr, why);
		goto fail;
	}

	for (int l = 0; l < NC_LINK_COUNT; l++) {
		ret = nc_filter_translate(f->cbpf[l], f->cbpf_len[l], &f->ebpf[l], &f->ebpf_len[l],
					  why, sizeof(why));
		if (ret) {
			nc_err(err, errlen, -ret, "filter \"%s\": %s", expr, why);
			goto fail;
		}
	}
	*out = f;
	return 0;
fail:
	nc_filter_free(f);
	return ret;
}

static const char *const link_names[NC_LINK_COUNT] = {
    [NC_LINK_L2] = "Ethernet (DLT_EN10MB)",
    [NC_LINK_L3] = "raw IP (DLT_RAW)",
};

void nc_filter_dump(FILE *out, const struct nc_filter *f)
{
	char line[128];

	for (int l = 0; l < NC_LINK_COUNT; l++) {
		fprintf(out, "# filter \"%s\" for %s\n", f->expr, link_names[l]);
		if (l == NC_LINK_L3 && f->l3_reject_reason)
			fprintf(out, "# not applicable without a link header (%s): rejects all\n",
				f->l3_reject_reason);
		fprintf(out, "# cBPF, %u instructions (libpcap)\n", f->cbpf_len[l]);
		for (unsigned i = 0; i < f->cbpf_len[l]; i++)
			fprintf(out, "%s\n", nc_cbpf_image(&f->cbpf[l][i], i));
		fprintf(out, "# eBPF, %zu instructions (netcap)\n", f->ebpf_len[l]);
		for (size_t i = 0; i < f->ebpf_len[l];) {
			int slots = nc_ebpf_format(line, sizeof(line), &f->ebpf[l][i]);

			fprintf(out, "(%03zu) %s\n", i, line);
			i += (size_t)slots;
		}
		if (l + 1 < NC_LINK_COUNT)
			fputc('\n', out);
	}
}
