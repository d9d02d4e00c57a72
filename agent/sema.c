/* SPDX-License-Identifier: BSD-2-Clause */
/* USDT semaphores raised while the agent captures: see sema.h. */
#include "sema.h"

#include <stdint.h>

static uint16_t *raised[NC_AGENT_MAX_HOOKS]; /* one agent, one capture at a time */
static uint32_t n_raised;

void sema_raise(const struct nc_agent_config *c)
{
	for (uint32_t i = 0; i < c->n_hooks && i < NC_AGENT_MAX_HOOKS; i++) {
		uint16_t *s = (uint16_t *)(uintptr_t)c->hooks[i].sema;

		if (c->hooks[i].kind < NC_AGENT_FUNC_SINGLE || !s)
			continue;
		/* the application reads it plainly; an atomic add keeps other tracers' counts */
		__atomic_fetch_add(s, 1, __ATOMIC_RELEASE);
		raised[n_raised++] = s;
	}
}

void sema_lower(void)
{
	while (n_raised)
		__atomic_fetch_sub(raised[--n_raised], 1, __ATOMIC_RELEASE);
}
