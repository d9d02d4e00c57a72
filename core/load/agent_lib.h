/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which agent library --inject loads and how it reaches the process (core/load/agent_backend.c):
 * by its path where the process sees that very file, else as a copy through a memfd of the
 * process (core/inject's copy mode: a container, a chroot without it).
 */
#ifndef NC_LOAD_AGENT_LIB_H
#define NC_LOAD_AGENT_LIB_H

#include <stdbool.h>
#include <sys/types.h>

/* $NETCAP_AGENT, the build tree's beside this netcap, or the installed one (g_free it) */
char *nc_agent_path(void);

/* Whether process pid sees the file lib at that path (the same device and inode through
 * /proc/PID/root) */
bool nc_agent_visible(pid_t pid, const char *lib);

#endif
