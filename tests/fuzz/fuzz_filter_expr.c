/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: tcpdump expressions through netcap's filter path. The input is
 *   byte 0: bit 0 = optimize (as tcpdump), bits 1-7 = extra wire length of the packet;
 *   then the expression up to a NUL (at most 256 bytes);
 *   then the bytes of one packet.
 * An expression libpcap compiles must translate (or be refused with a reason), load into the
 * kernel (the verifier must accept it) and return libpcap's bpf_filter() verdicts exactly, for
 * Ethernet and raw IP, on fixed packets and on the packet of the input.
 */
#include "fuzz_filter.h"

#define EXPR_MAX 256

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_filter_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t flags = fuzz_u8(&in);
	char expr[EXPR_MAX + 2], err[512];
	struct nc_filter *f;
	const uint8_t *pkt;
	size_t n = 0, len;

	while (in.left && n < EXPR_MAX) {
		char c = (char)fuzz_u8(&in);

		if (!c)
			break;
		expr[n++] = c;
	}
	expr[n] = '\0';
	pkt = fuzz_bytes(&in, 1500, &len);
	/* the key of the program cache: the flags' optimize bit and the expression */
	expr[n + 1] = (char)(flags & 1);
	if (nc_filter_new(expr, 262144, flags & 1, &f, err, sizeof(err)))
		return 0; /* libpcap's syntax error, or a translator refusal with its reason */
	fuzz_filter_check(f, expr, n + 2, pkt, len, flags >> 1);
	nc_filter_free(f);
	return 0;
}
