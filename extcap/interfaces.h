/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netcap's extcap interfaces: netcap:APP:rx_burst, netcap:APP:tx_burst and netcap:APP:FUNC for
 * each running DPDK application APP (the process name, so a value outlives a restart of the app)
 * and each of its functions that take mbufs; netcap:kernel:TRACEPOINT for the kernel. What they
 * list comes from core/discover/listing.h; what they capture is a hook spec for the core.
 */
#ifndef NC_EXTCAP_INTERFACES_H
#define NC_EXTCAP_INTERFACES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Prints the `interface` sentences: the running applications' then the kernel's. */
void iface_list(void);

/* Prints the processes of the application iface names as `value {arg=ARG}` sentences (the
 * process selector); nothing for a kernel interface or another name. */
void iface_processes(int arg, const char *iface);

/* What an interface captures */
struct iface_target {
	bool kernel; /* a kernel point; else an mbuf hook spec in process pid */
	pid_t pid;
	char *spec; /* the hook spec; free with g_free() */
};

/*
 * Resolves iface with the dialog's options: pid (0: the application's first process), port (""
 * or NULL: every port of rx_burst/tx_burst), hook (a hook spec instead of the interface's; "" or
 * NULL: none). -EINVAL for a name that is no interface of netcap's, -ESRCH when the application
 * is not running, -ENOENT for a function that takes no mbufs, or the privilege check's error
 * (a caller other than root captures its own processes only); err says which.
 */
int iface_resolve(const char *iface, pid_t pid, const char *port, const char *hook,
		  struct iface_target *t, char *err, size_t errlen);

#endif
