/* SPDX-License-Identifier: BSD-2-Clause */
#include "interfaces.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extcap_base.h"
#include "netcap.h"

/* The kernel's interfaces */
static const char *const kernel_points[] = {"net:netif_receive_skb", "net:net_dev_queue",
					    "skb:kfree_skb"};

/* The running DPDK applications: the first process of each name (with comm, only that name) */
static void find_apps(const char *comm, struct nc_listing_app **apps, size_t *n)
{
	size_t kept = 0;

	nc_listing_apps(comm, apps, n);
	for (size_t i = 0; i < *n; i++) {
		bool dup = false;

		for (size_t j = 0; j < kept; j++)
			dup |= !strcmp((*apps)[j].comm, (*apps)[i].comm);
		if (dup)
			free((*apps)[i].comm);
		else
			(*apps)[kept++] = (*apps)[i];
	}
	*n = kept;
}

/* interface {value=netcap:WHO:HOOK}{display=netcap: WHO/HOOK} */
static void print_interface(const char *who, const char *hook)
{
	g_autofree char *value = g_strdup_printf("netcap:%s:%s", who, hook);
	g_autofree char *display = g_strdup_printf("netcap: %s/%s", who, hook);

	nc_extcap_print_interface(value, display);
}

void iface_list(void)
{
	struct nc_listing_app *apps;
	size_t n_apps;

	find_apps(NULL, &apps, &n_apps);
	for (size_t i = 0; i < n_apps; i++) {
		g_autofree char *exe = g_strdup_printf("/proc/%d/exe", (int)apps[i].pid);
		struct nc_listing_func *f = NULL;
		size_t n = 0;

		print_interface(apps[i].comm, "rx_burst");
		print_interface(apps[i].comm, "tx_burst");
		if (nc_listing_funcs(exe, false, &f, &n, NULL, 0))
			n = 0;
		for (size_t k = 0; k < n; k++) /* the app's own, not DPDK's inlined into it */
			if (f[k].n_specs && !g_str_has_prefix(f[k].name, "rte_"))
				print_interface(apps[i].comm, f[k].name);
		nc_extcap_log(NC_EXTCAP_INFO,
			      "%s[%d]: rx_burst, tx_burst, %zu function(s) in DWARF", apps[i].comm,
			      (int)apps[i].pid, n);
		nc_listing_funcs_free(f, n);
	}
	nc_listing_apps_free(apps, n_apps);
	for (size_t i = 0; i < G_N_ELEMENTS(kernel_points); i++)
		print_interface("kernel", strchr(kernel_points[i], ':') + 1);
}

void iface_processes(int arg, const char *iface)
{
	g_auto(GStrv) parts = g_strsplit(iface ? iface : "", ":", 3);
	struct nc_listing_app *apps;
	size_t n;

	if (g_strv_length(parts) != 3 || !strcmp(parts[1], "kernel"))
		return;
	nc_listing_apps(parts[1], &apps, &n);
	for (size_t i = 0; i < n; i++) {
		g_autofree char *value = g_strdup_printf("%d", (int)apps[i].pid);
		g_autofree char *display =
		    g_strdup_printf("%s[%d]", apps[i].comm, (int)apps[i].pid);

		nc_extcap_print_value(arg, value, display, false);
	}
	nc_listing_apps_free(apps, n);
}

/* The hook spec of netcap:APP:HOOK in process pid */
static int mbuf_spec(const char *app, const char *hook, pid_t pid, const char *port, char **spec,
		     char *err, size_t errlen)
{
	g_autofree char *exe = NULL;
	struct nc_listing_func *f = NULL;
	size_t n = 0;

	if (!strcmp(hook, "rx_burst") || !strcmp(hook, "tx_burst")) {
		*spec = port && *port ? g_strdup_printf("%s:%s", hook, port) : g_strdup(hook);
		return 0;
	}
	exe = g_strdup_printf("/proc/%d/exe", (int)pid);
	if (!nc_listing_funcs(exe, false, &f, &n, err, errlen))
		for (size_t k = 0; !*spec && k < n; k++)
			if (!strcmp(f[k].name, hook) && f[k].n_specs)
				*spec = g_strdup(f[k].specs[0]);
	nc_listing_funcs_free(f, n);
	if (!*spec) {
		snprintf(err, errlen, "%s has no function %s taking mbufs", app, hook);
		return -ENOENT;
	}
	return 0;
}

int iface_resolve(const char *iface, pid_t pid, const char *port, const char *hook,
		  struct iface_target *t, char *err, size_t errlen)
{
	g_auto(GStrv) parts = g_strsplit(iface ? iface : "", ":", 3);
	int ret;

	*t = (struct iface_target){.pid = pid};
	if (g_strv_length(parts) != 3 || strcmp(parts[0], "netcap")) {
		snprintf(err, errlen,
			 "unknown interface \"%s\"; see: netcap-extcap --extcap-interfaces",
			 iface ? iface : "");
		return -EINVAL;
	}
	if (!strcmp(parts[1], "kernel")) {
		t->kernel = true;
		for (size_t i = 0; !t->spec && i < G_N_ELEMENTS(kernel_points); i++)
			if (!strcmp(strchr(kernel_points[i], ':') + 1, parts[2]))
				t->spec = g_strdup(kernel_points[i]);
		if (!t->spec)
			t->spec = g_strdup_printf("tracepoint:%s", parts[2]);
		return 0;
	}
	if (!t->pid) {
		struct nc_listing_app *apps;
		size_t n;

		find_apps(parts[1], &apps, &n);
		t->pid = n ? apps[0].pid : 0;
		nc_listing_apps_free(apps, n);
	}
	if (!t->pid) {
		snprintf(err, errlen, "no DPDK application \"%s\" is running", parts[1]);
		return -ESRCH;
	}
	/* before the app's files are read: a caller other than root captures its own only */
	if (!nc_privs_is_root() && (ret = nc_privs_may_trace(t->pid, err, errlen)) && ret != -ESRCH)
		return ret;
	if (hook && *hook) {
		t->spec = g_strdup(hook);
		return 0;
	}
	return mbuf_spec(parts[1], parts[2], t->pid, port, &t->spec, err, errlen);
}
