/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hook specs of `netcap mbuf -f`, in the original netcap's forms (docs/hook-specs.md):
 *   FUNC@N            argument N is a struct rte_mbuf *
 *   FUNC@N@M          argument N is a struct rte_mbuf **, argument M the count
 *   FUNC@N@ret        argument N is an array the function fills; the count is the return value
 *                     (32 bits; @ret16 for a uint16_t return, as the PMD burst functions have)
 *   OBJECT:FUNC@…     FUNC in the mapped ELF file OBJECT (a path or a file name)
 *   OBJECT+0xOFF@…    the code at file offset OFF of OBJECT (stripped code)
 *   rx_burst[:PORT]   the PMD receive function of every started port (or of PORT), read on return
 *   tx_burst[:PORT]   the PMD transmit function, read on entry
 *   usdt:PROVIDER:NAME@N[@M]       a USDT probe (sys/sdt.h): its argument N is the mbuf, or the
 *   usdt:OBJECT:PROVIDER:NAME@N@M  array with argument M the count
 */
#ifndef NC_SPEC_H
#define NC_SPEC_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/nc_record.h"

#define NC_SPEC_MAX_ARG 6 /* register arguments on x86-64 */

enum nc_spec_type {
	NC_SPEC_FUNC = 1, /* a symbol */
	NC_SPEC_OFFSET,	  /* object + file offset */
	NC_SPEC_RX_BURST,
	NC_SPEC_TX_BURST,
	NC_SPEC_USDT, /* a USDT probe: object (optional), provider, func = the probe's name */
};

struct nc_hook_spec {
	enum nc_spec_type type;
	char *text;	 /* as given */
	char *object;	 /* FUNC: NULL = the executable, then its libraries; OFFSET: required */
	char *func;	 /* FUNC; USDT: the probe's name */
	char *provider;	 /* USDT */
	uint64_t offset; /* OFFSET */
	int port;	 /* RX/TX_BURST: -1 = every started port */
	enum nc_hook_kind kind; /* SINGLE, VECTOR or RET_SAVE (FUNC and OFFSET) */
	uint8_t arg_pkt;
	uint8_t arg_cnt;
	uint8_t ret_bits; /* RET_SAVE: 32 or 16 */
};

/* Parses one spec. Returns 0, or -EINVAL with a one-line reason naming the spec in err; *out is
 * then cleared. Free with nc_spec_clear(). */
int nc_spec_parse(const char *text, struct nc_hook_spec *out, char *err, size_t errlen);
void nc_spec_clear(struct nc_hook_spec *s);

#endif
