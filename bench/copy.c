/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/copy: nanoseconds per copy of a packet's first bytes, as the agent's capture path copies
 * them into a ring record, three ways: `rep movsb` (what agent/agent.c's copy_bytes() does: the
 * code function hooks' trampolines call must leave vector registers alone), a loop of 8-byte
 * loads and stores compiled with general registers only (the other choice there), and libc's
 * memcpy (vectorised; what the agent used before). Sources at varying misalignment, destinations
 * advancing through 1 MiB as a ring does. The least disturbed of several rounds; prints a
 * Markdown table.
 * Usage: bench_copy [COPIES_PER_ROUND (200000)] [ROUNDS (31)]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING (1u << 20)

static uint8_t src[4096] __attribute__((aligned(64)));
static uint8_t dst[RING + 4096] __attribute__((aligned(64)));

__attribute__((noinline, target("general-regs-only"))) static void
copy_movsb(void *d, const void *s, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* 8-byte words, the last one overlapping; shorter than 8: bytes */
__attribute__((noinline, target("general-regs-only"))) static void
copy_words(void *dst_, const void *src_, size_t n)
{
	uint8_t *d = dst_;
	const uint8_t *s = src_;
	uint64_t v;

	if (n < 8) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
		return;
	}
	for (size_t i = 0; i + 8 <= n; i += 8) {
		__builtin_memcpy(&v, s + i, 8);
		__builtin_memcpy(d + i, &v, 8);
	}
	__builtin_memcpy(&v, s + n - 8, 8);
	__builtin_memcpy(d + n - 8, &v, 8);
}

__attribute__((noinline)) static void copy_libc(void *d, const void *s, size_t n)
{
	memcpy(d, s, n);
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	long per_round = argc > 1 ? atol(argv[1]) : 200000;
	int rounds = argc > 2 ? atoi(argv[2]) : 31;
	static const size_t sizes[] = {64, 100, 128, 1500};
	static const struct {
		const char *name;
		void (*fn)(void *, const void *, size_t);
	} ways[] = {{"`rep movsb` (the agent)", copy_movsb},
		    {"8-byte loads/stores", copy_words},
		    {"libc `memcpy`", copy_libc}};
	double best[3][4];

	if (per_round <= 0 || rounds <= 0) {
		fprintf(stderr, "usage: bench_copy [COPIES_PER_ROUND] [ROUNDS]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	for (int w = 0; w < 3; w++)
		for (int z = 0; z < 4; z++)
			best[w][z] = 1e30;
	/* rounds interleaved over the ways and sizes: a disturbance hits them alike */
	for (int r = 0; r < rounds; r++)
		for (int z = 0; z < 4; z++)
			for (int w = 0; w < 3; w++) {
				size_t n = sizes[z], step = (n + 16 + 7) & ~(size_t)7, off = 0;
				double t0 = now_ns(), t;

				for (long i = 0; i < per_round; i++) {
					ways[w].fn(dst + off, src + 2 + (i & 7), n);
					off = (off + step) & (RING - 1);
				}
				t = (now_ns() - t0) / (double)per_round;
				if (t < best[w][z])
					best[w][z] = t;
			}
	printf("| copy | 64 B | 100 B | 128 B | 1500 B |\n|---|---:|---:|---:|---:|\n");
	for (int w = 0; w < 3; w++)
		printf("| %s | %.1f ns | %.1f ns | %.1f ns | %.1f ns |\n", ways[w].name, best[w][0],
		       best[w][1], best[w][2], best[w][3]);
	printf("\nThe least disturbed of %d rounds of %ld copies each.\n", rounds, per_round);
	return 0;
}
