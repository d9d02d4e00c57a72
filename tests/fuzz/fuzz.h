/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the fuzz targets (docs/fuzzing.md): each target defines LLVMFuzzerTestOneInput()
 * and, if it needs set-up, LLVMFuzzerInitialize(). Built with libFuzzer under NETCAP_FUZZ, and
 * always with replay.c, which runs the committed regression inputs and seeds through the same
 * function in the regular (ASan) build.
 *
 * A target reports a wrong result with FUZZ_FAIL(): a message on stderr, then abort(), which
 * libFuzzer records as a crash with its input.
 */
#ifndef NC_FUZZ_H
#define NC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "fuzz: " __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

/* Takes bytes from the front of the input; past its end every read gives zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in); /* two statements: the order of the reads is fixed */

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

/* Up to max bytes (fewer at the end of the input); *len receives how many. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *len)
{
	const uint8_t *p = in->p;

	*len = max < in->left ? max : in->left;
	in->p += *len;
	in->left -= *len;
	return p;
}

/*
 * A file descriptor holding data (a memfd) and its path (/proc/self/fd/N) for readers that take
 * a path. Returns the fd (close it) or -1 after printing why.
 */
int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t pathlen);

#endif
