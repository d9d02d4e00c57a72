/* SPDX-License-Identifier: BSD-2-Clause */
#include "cbpf.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

_Static_assert(sizeof(struct nc_cbpf_insn) == sizeof(struct bpf_insn), "cBPF layout");
_Static_assert(offsetof(struct nc_cbpf_insn, k) == offsetof(struct bpf_insn, k), "cBPF layout");

int nc_cbpf_compile(const char *expr, enum nc_link link, uint32_t snaplen, int optimize,
		    struct nc_cbpf_insn **insns, unsigned *len, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(link == NC_LINK_L3 ? DLT_RAW : DLT_EN10MB, (int)snaplen);
	struct bpf_program prog;
	int ret = 0;

	if (!dead)
		return nc_err(err, errlen, ENOMEM, "out of memory opening a libpcap handle");
	if (pcap_compile(dead, &prog, expr, optimize, PCAP_NETMASK_UNKNOWN) < 0) {
		ret = nc_err(err, errlen, EINVAL, "%s", pcap_geterr(dead));
		goto out;
	}
	*insns = malloc(prog.bf_len * sizeof(**insns));
	if (!*insns) {
		ret = nc_err(err, errlen, ENOMEM, "out of memory");
	} else {
		memcpy(*insns, prog.bf_insns, prog.bf_len * sizeof(**insns));
		*len = prog.bf_len;
	}
	pcap_freecode(&prog);
out:
	pcap_close(dead);
	return ret;
}

int nc_cbpf_validate(const struct nc_cbpf_insn *insns, unsigned len)
{
	return bpf_validate((const struct bpf_insn *)insns, (int)len);
}

unsigned nc_cbpf_run(const struct nc_cbpf_insn *insns, const uint8_t *pkt, unsigned wirelen,
		     unsigned buflen)
{
	return bpf_filter((const struct bpf_insn *)insns, pkt, wirelen, buflen);
}

const char *nc_cbpf_image(const struct nc_cbpf_insn *insn, unsigned n)
{
	return bpf_image((const struct bpf_insn *)insn, (int)n);
}
