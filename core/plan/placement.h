/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where to put a function's entry uprobe. A uprobe on an instruction the kernel must single-step
 * costs ~9.5 us per hit here, on one it emulates (push, a relative jmp/jcc/call) ~0.7 us, on a
 * 5-byte nop ~0.5 us (docs/performance.md). Optimised code often starts with a
 * single-stepped instruction (`test %rsi,%rsi`), so the probe moves forward to the first
 * emulated instruction, provided the straight-line instructions before it leave the argument
 * registers alone and nothing in the function jumps into the skipped stretch. Decoded with
 * capstone; in any doubt, the function entry.
 */
#ifndef NC_PLACEMENT_H
#define NC_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

/*
 * For the function at file offset `entry` of `size` bytes (0 if unknown: then the entry) in
 * file path, sets *site to the file offset to probe and writes what was chosen and why into
 * `why` ("+0x3: je, emulated, after test" or "entry: push, emulated"). Returns 0, or a negative
 * errno when the file cannot be read (then *site = entry).
 */
int nc_probe_site(const char *path, uint64_t entry, uint64_t size, uint64_t *site, char *why,
		  size_t len);

/*
 * The size of the function that starts at file offset `entry` of file path, from its call frame
 * information (.eh_frame, kept in stripped files): an FDE must start exactly there. 0 if none.
 */
uint64_t nc_fde_size(const char *path, uint64_t entry);

#endif
