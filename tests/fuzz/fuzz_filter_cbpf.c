/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: arbitrary classic BPF through netcap's translator. The input is
 *   byte 0: extra wire length of the packet;
 *   byte 1: number of instructions n (1 to 64);
 *   n × 8 bytes: the instructions (code le16, jt, jf, k le32);
 *   then the bytes of one packet.
 * A program libpcap's bpf_validate() accepts (and that reads no scratch cell before writing it)
 * must translate or be refused with a reason, the
 * translation must load into the kernel, and its verdicts must equal libpcap's bpf_filter() on
 * the fixed packets and the packet of the input (the same program serves both link types).
 */
#include "fuzz_filter.h"

/*
 * Whether the program may read a scratch cell M[k] that no path to the read has written:
 * libpcap's bpf_filter() then reads an uninitialised local array (its verdict is undefined),
 * while netcap's translation reads zero (docs/filters.md). Such programs have no oracle. The
 * walk is in program order, which is enough since bpf_validate() allows forward jumps only.
 */
static bool reads_unwritten_memory(const struct nc_cbpf_insn *prog, unsigned n)
{
	uint16_t written[64]; /* cells written on every path to instruction i */
	bool reached[64] = {[0] = true};

	memset(written, 0xff, sizeof(written));
	written[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t code = prog[i].code, w = written[i];
		unsigned cls = code & 0x07, k = prog[i].k;

		if (!reached[i])
			continue;
		if ((cls == 0x00 || cls == 0x01) && (code & 0xe0) == 0x60 && !(w >> (k & 15) & 1))
			return true;		/* ld/ldx M[k] */
		if (cls == 0x02 || cls == 0x03) /* st/stx M[k] */
			w |= (uint16_t)(1u << (k & 15));
		if (cls == 0x06) /* ret */
			continue;
		if (cls == 0x05) { /* jumps: bpf_validate() checked the targets */
			unsigned t[2] = {i + 1 + prog[i].jt, i + 1 + prog[i].jf};

			if ((code & 0xf0) == 0x00) /* ja */
				t[0] = t[1] = i + 1 + k;
			for (int j = 0; j < 2; j++)
				if (t[j] < n) {
					written[t[j]] &= w;
					reached[t[j]] = true;
				}
			continue;
		}
		if (i + 1 < n) {
			written[i + 1] &= w;
			reached[i + 1] = true;
		}
	}
	return false;
}

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
	uint32_t extra = fuzz_u8(&in);
	unsigned n = fuzz_u8(&in) % 64 + 1;
	struct nc_cbpf_insn prog[64];
	struct nc_filter f = {.expr = "(fuzzed classic BPF)"};
	const uint8_t *pkt;
	char err[512];
	size_t len;
	int ret = 0;

	if (in.left < n * 8)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		prog[i].code = fuzz_u16(&in);
		prog[i].jt = fuzz_u8(&in);
		prog[i].jf = fuzz_u8(&in);
		prog[i].k = fuzz_u32(&in);
	}
	if (!nc_cbpf_validate(prog, n) || reads_unwritten_memory(prog, n))
		return 0;
	pkt = fuzz_bytes(&in, 1500, &len);
	for (int l = 0; l < NC_LINK_COUNT && !ret; l++) {
		f.cbpf[l] = prog;
		f.cbpf_len[l] = n;
		ret = nc_filter_translate(prog, n, &f.ebpf[l], &f.ebpf_len[l], err, sizeof(err));
	}
	if (!ret)
		fuzz_filter_check(&f, prog, n * sizeof(prog[0]), pkt, len, extra);
	for (int l = 0; l < NC_LINK_COUNT; l++)
		free(f.ebpf[l]);
	return 0;
}
