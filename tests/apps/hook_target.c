/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hook_target: the process netcap's function-hook tests patch (tests/unit/test_hook.c, issue 16).
 *
 * THREADS threads call the static function step() in a loop: chunk c folds step() over 4096
 * values from seed c; each result is compared with the one main() computed before any thread
 * started (and before any patch), and a difference counted as an error. Built -O2 without
 * sanitizers: the loop calling step() is compiled knowing step()'s body, so under -fipa-ra it may
 * keep values in call-clobbered registers across the call; a stub that saved only the ABI's
 * caller-saved set would then break the checksum. hook_entry() is what a trampoline calls: it
 * counts calls, checks its cookie and the arguments, and overwrites every call-clobbered general
 * register and the flags on purpose.
 *
 * One more thread creates threads that each compute one chunk and end, one after the other, so
 * threads come and go while the patcher stops them all (the count is printed as threads=N).
 *
 * With --spin, one more thread runs spin_site(), whose loop sits at spin_site+2: a patch of its
 * first 5 bytes must never be written while it runs. And one more runs park_site(), the same
 * loop at park_site+2, until a SIGUSR1 sent to it alone: its handler never returns (it sleeps
 * until the end), so the thread's registers are in the handler and the interrupted context, on its
 * stack, says park_site+2: a patch of park_site's first 5 bytes must not be written either.
 *
 * It maps, near step(), one page for a trampoline (read+execute; the test writes it through
 * /proc/PID/mem) and one read-write page for its data, and prints one line:
 *   step=0x… tramp=0x… data=0x… entry=0x… spin=0x… park=0x…
 * It runs until its stdin ends, then prints
 *   chunks=N errors=E calls=C badargs=B threads=T signals=S
 * (S: the SIGRTMIN signals it handled, each counted).
 * and exits 0 when E and B are 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS 4
#define SEEDS	64
#define SPAN	4096
#define COOKIE	0x5eedULL

static const uint64_t table[16] = {
    0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89,
    0x452821e638d01377, 0xbe5466cf34e90c6c, 0xc0ac29b7c97c50dd, 0x3f84d5b5b5470917,
    0x9216d5d98979fb1b, 0xd1310ba698dfb5ac, 0x2ffd72dbd01adfb7, 0xb8e1afed6a267e96,
    0xba7c9045f12c7f99, 0x24a19947b3916cf7, 0x0801f2e2858efc16, 0x636920d871574e69,
};

/* out of line, not cloned, not folded with an identical function (GCC's attributes; clang does
 * neither at -O2 without being asked) */
#ifdef __clang__
#define STEP_ATTRS __attribute__((noinline))
#else
#define STEP_ATTRS __attribute__((noinline, noclone, no_icf))
#endif

STEP_ATTRS static uint64_t step(uint64_t acc, uint64_t i)
{
	return (acc ^ table[i & 15]) * 0x9e3779b97f4a7c15ULL + (i >> 3);
}

/* a function whose loop sits inside its first 5 bytes: nop; nop; 1: jmp 1b */
#define LOOP_SITE(name)                                                                            \
	__asm__(".text\n"                                                                          \
		".p2align 4\n"                                                                     \
		".globl " #name "\n"                                                               \
		".type " #name ",@function\n" #name ":\n"                                          \
		"\tnop\n"                                                                          \
		"\tnop\n"                                                                          \
		"1:\tjmp 1b\n"                                                                     \
		"\tret\n"                                                                          \
		"\tnop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop\n"                        \
		".size " #name ", .-" #name "\n");                                                 \
	void name(void)
LOOP_SITE(spin_site);
LOOP_SITE(park_site);

static uint64_t expected[SEEDS];
static atomic_bool quit;
static atomic_ulong chunks, errors, calls, badargs, spawned, signals;

static uint64_t chunk(uint64_t seed)
{
	uint64_t acc = seed;

	for (uint64_t i = 0; i < SPAN; i++)
		acc = step(acc, seed + i);
	return acc;
}

/* The trampoline's entry: entry(cookie, argument 1 of step, argument 2 of step). */
__attribute__((noinline, target("general-regs-only"))) void hook_entry(uint64_t cookie,
								       uint64_t acc, uint64_t i)
{
	(void)acc;
	if (cookie != COOKIE || i >= SEEDS + SPAN)
		atomic_fetch_add_explicit(&badargs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
	__asm__ volatile("mov $-1, %%rax\n\tmov $-1, %%rcx\n\tmov $-1, %%rdx\n\t"
			 "mov $-1, %%rsi\n\tmov $-1, %%rdi\n\tmov $-1, %%r8\n\t"
			 "mov $-1, %%r9\n\tmov $-1, %%r10\n\tmov $-1, %%r11\n\t"
			 "cmp %%rcx, %%rdx\n\t"
			 :
			 :
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc",
			   "memory");
}

static void *worker(void *arg)
{
	uint64_t n = (uint64_t)(uintptr_t)arg;

	while (!atomic_load_explicit(&quit, memory_order_relaxed)) {
		uint64_t c = (n * 7) % SEEDS;

		if (chunk(c) != expected[c])
			atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&chunks, 1, memory_order_relaxed);
		n++;
	}
	return NULL;
}

/* one chunk on a thread of its own: threads come and go while the patcher stops them all */
static void *once(void *arg)
{
	uint64_t c = (uint64_t)(uintptr_t)arg % SEEDS;

	if (chunk(c) != expected[c])
		atomic_fetch_add_explicit(&errors, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&chunks, 1, memory_order_relaxed);
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	for (uintptr_t n = 0; !atomic_load_explicit(&quit, memory_order_relaxed); n++) {
		pthread_t t;

		if (pthread_create(&t, NULL, once, (void *)n) == 0) {
			pthread_join(t, NULL);
			atomic_fetch_add_explicit(&spawned, 1, memory_order_relaxed);
		}
	}
	return NULL;
}

static atomic_bool spinning;

/* SIGRTMIN (queued, never merged): counted, so that the test sees none lost by the patcher */
static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&signals, 1, memory_order_relaxed);
}

static void *spinner(void *arg)
{
	(void)arg;
	atomic_store(&spinning, true);
	spin_site();
	return NULL;
}

static atomic_bool parked;

/* SIGUSR1, on the parker only: stays in the handler, the interrupted context at park_site+2 */
static void on_park(int sig)
{
	(void)sig;
	atomic_store(&parked, true);
	for (;;)
		usleep(100000);
}

static void *parker(void *arg)
{
	sigset_t usr1;

	(void)arg;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	atomic_store(&spinning, true);
	park_site();
	return NULL;
}

/* Two pages within +-2 GB of `near`: the first read+execute, the second read-write. */
static void *map_near(uintptr_t near)
{
	uintptr_t base = near & ~(uintptr_t)0xfffff;

	for (uintptr_t k = 1; k < 1024; k++) {
		uintptr_t hint = base - k * 0x100000;
		void *p = mmap((void *)hint, 8192, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == MAP_FAILED)
			continue;
		if ((uintptr_t)p != hint) { /* a kernel that ignores the flag */
			munmap(p, 8192);
			continue;
		}
		memset(p, 0xcc, 4096);
		mprotect(p, 4096, PROT_READ | PROT_EXEC);
		return p;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[THREADS + 1];
	int n = THREADS;
	uint8_t *region;
	char buf[64];

	struct sigaction sa = {.sa_handler = on_rt, .sa_flags = SA_RESTART};

	sigset_t rt;

	/*
	 * The handler runs on the main thread only (asleep in read): the threads calling step()
	 * block the signal, so that a handler that interrupted one of them inside step's first
	 * bytes never makes the patcher wait for it to return (what park_site is for).
	 */
	struct sigaction park = {.sa_handler = on_park};
	sigset_t usr1;

	sigaction(SIGRTMIN, &sa, NULL);
	sigaction(SIGUSR1, &park, NULL);
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &rt, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* the parker alone unblocks it */
	for (uint64_t c = 0; c < SEEDS; c++)
		expected[c] = chunk(c);
	region = map_near((uintptr_t)&step);
	if (!region) {
		fprintf(stderr, "hook_target: no free pages near step()\n");
		return 2;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i * 1000));
	pthread_create(&th[n++], NULL, churner, NULL);
	if (argc > 1 && !strcmp(argv[1], "--spin")) {
		pthread_t sp;

		pthread_create(&sp, NULL, spinner, NULL);
		pthread_detach(sp);
		while (!atomic_load(&spinning))
			usleep(100);
		atomic_store(&spinning, false);
		pthread_create(&sp, NULL, parker, NULL);
		pthread_detach(sp);
		while (!atomic_load(&spinning))
			usleep(100);
		usleep(1000); /* into its loop */
		pthread_kill(sp, SIGUSR1);
		while (!atomic_load(&parked))
			usleep(100);
	}
	pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
	printf("step=%p tramp=%p data=%p entry=%p spin=%p park=%p\n", (void *)&step, (void *)region,
	       (void *)(region + 4096), (void *)&hook_entry, (void *)&spin_site,
	       (void *)&park_site);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	atomic_store(&quit, true);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("chunks=%lu errors=%lu calls=%lu badargs=%lu threads=%lu signals=%lu\n",
	       atomic_load(&chunks), atomic_load(&errors), atomic_load(&calls),
	       atomic_load(&badargs), atomic_load(&spawned), atomic_load(&signals));
	return atomic_load(&errors) || atomic_load(&badargs);
}
