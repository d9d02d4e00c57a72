/* SPDX-License-Identifier: BSD-2-Clause */
/* A statically linked process (no libc.so.6 mapped) that the injector must refuse: it sleeps. */
#include <unistd.h>

int main(void)
{
	for (;;)
		pause();
}
