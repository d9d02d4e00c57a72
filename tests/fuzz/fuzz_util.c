/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	int fd = memfd_create("netcap-fuzz", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		perror("fuzz: memfd_create");
		return -1;
	}
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0) {
			perror("fuzz: writing the memfd");
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}
