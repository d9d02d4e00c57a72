/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The contract between a probe program and the packet filter spliced into it.
 *
 * A probe copies the first bytes of a packet (at most NC_FILTER_WINDOW) into BPF memory and
 * calls nc_filter_l2() (Ethernet) or nc_filter_l3() (raw IP, no link header) with
 *   r1 = pointer to a struct nc_filter_window (may be NULL: the filter then rejects),
 *   r2 = bytes valid in the window (captured length, clamped to NC_FILTER_WINDOW),
 *   r3 = wire length (what `len`, `greater` and `less` compare against).
 * The filter returns 0 to reject, otherwise the cBPF return value (the snap length).
 *
 * In the object file each function is a placeholder whose body loads a magic constant; at load
 * time core/load/splice.c replaces the body with the translated filter. Included by BPF and
 * user space.
 */
#ifndef NC_FILTER_ABI_H
#define NC_FILTER_ABI_H

#define NC_FILTER_WINDOW 512

/* ld_imm64 immediates that mark the placeholder bodies ("ncfiltL2", "ncfiltL3") */
#define NC_FILTER_MAGIC_L2 0x6e6366696c744c32ULL
#define NC_FILTER_MAGIC_L3 0x6e6366696c744c33ULL

struct nc_filter_window {
	unsigned char bytes[NC_FILTER_WINDOW];
};

#endif
