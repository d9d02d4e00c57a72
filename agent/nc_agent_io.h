/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What both ends of the agent's socket do alike (agent/agent.c in the application, netcap's
 * core/inproc/client.c): libc only, no state.
 */
#ifndef NC_AGENT_IO_H
#define NC_AGENT_IO_H

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* Exactly len bytes from fd, waiting up to timeout_ms for each piece; 0, or -errno (-EPIPE at
 * end of stream, -ETIMEDOUT) */
static inline int nc_agent_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
