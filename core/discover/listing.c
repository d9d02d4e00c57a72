/* SPDX-License-Identifier: BSD-2-Clause */
#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "dwarf.h"
#include "elf.h"
#include "procmaps.h"
#include "usdt.h"

#define ETHDEV_NAME "librte_ethdev.so"

static char *read_comm(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/comm", (int)pid);
	g_autofree char *comm = NULL;

	if (!g_file_get_contents(path, &comm, NULL, NULL))
		return NULL;
	return strdup(g_strchomp(comm));
}

void nc_listing_apps(const char *comm, struct nc_listing_app **out, size_t *n)
{
	GArray *apps = g_array_new(FALSE, FALSE, sizeof(struct nc_listing_app));
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		struct nc_listing_app a = {0};
		guint64 v;

		if (!g_ascii_string_to_unsigned(e->d_name, 10, 1, INT32_MAX, &v, NULL) ||
		    (pid_t)v == getpid())
			continue;
		a.pid = (pid_t)v;
		/* the name first when it is given: a cheaper test than the memory map */
		if (comm && (!(a.comm = read_comm(a.pid)) || strcmp(a.comm, comm))) {
			free(a.comm);
			continue;
		}
		if (!nc_maps_pid_has_name(a.pid, ETHDEV_NAME) ||
		    (!a.comm && !(a.comm = read_comm(a.pid)))) {
			free(a.comm);
			continue;
		}
		g_array_append_val(apps, a);
	}
	if (d)
		closedir(d);
	*n = apps->len;
	*out = (struct nc_listing_app *)(void *)g_array_free(apps, FALSE);
}

void nc_listing_apps_free(struct nc_listing_app *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].comm);
	g_free(v);
}

/* The hook specs of f, the preferred first, as `netcap mbuf -f` takes them */
static int func_specs(struct nc_listing_func *l, const struct nc_mbuf_func *f)
{
	if (!f->array)
		l->specs[l->n_specs++] = g_strdup_printf("%s@%u", f->name, f->arg_pkt);
	if (f->array && f->arg_cnt)
		l->specs[l->n_specs++] =
		    g_strdup_printf("%s@%u@%u", f->name, f->arg_pkt, f->arg_cnt);
	if (f->array && f->ret_count)
		l->specs[l->n_specs++] = g_strdup_printf("%s@%u@ret", f->name, f->arg_pkt);
	return (l->name = strdup(f->name)) && (l->proto = strdup(f->proto)) ? 0 : -ENOMEM;
}

int nc_listing_funcs(const char *exe, bool symbols, struct nc_listing_func **out, size_t *n,
		     char *err, size_t errlen)
{
	struct nc_listing_func *v;
	struct nc_mbuf_func *f;
	struct nc_elf *e = NULL;
	size_t m;
	int ret;

	ret = nc_dwarf_mbuf_funcs(exe, &f, &m, err, errlen);
	if (ret)
		return ret;
	v = calloc(m ? m : 1, sizeof(*v));
	if (!v) {
		nc_mbuf_funcs_free(f, m);
		return nc_err(err, errlen, ENOMEM, "out of memory listing functions");
	}
	if (symbols && m && nc_elf_open(exe, &e, NULL, 0))
		e = NULL;
	for (size_t i = 0; !ret && i < m; i++) {
		ret = func_specs(&v[i], &f[i]);
		v[i].has_symbol =
		    e && !nc_elf_func(e, f[i].name, &v[i].offset, &v[i].size, NULL, 0);
	}
	nc_elf_close(e);
	nc_mbuf_funcs_free(f, m);
	if (ret) {
		nc_listing_funcs_free(v, m);
		return nc_err(err, errlen, ENOMEM, "out of memory listing functions");
	}
	*out = v;
	*n = m;
	return 0;
}

void nc_listing_funcs_free(struct nc_listing_func *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].proto);
		for (size_t k = 0; k < v[i].n_specs; k++)
			g_free(v[i].specs[k]);
	}
	free(v);
}

/* The USDT probes of every mapped ELF file of p, each with the spec that hooks it */
static int list_usdt(const struct nc_dpdk_proc *p, struct nc_listing *l, char *err, size_t errlen)
{
	struct nc_maps_file *files = NULL;
	GArray *all = g_array_new(FALSE, TRUE, sizeof(struct nc_listing_usdt));
	size_t n = 0;
	int ret = nc_maps_elf_files(p->maps, &files, &n, err, errlen);

	for (size_t i = 0; !ret && i < n; i++) {
		const char *base = strrchr(files[i].path, '/') + 1;
		bool exe = !strcmp(files[i].path, p->exe);
		struct nc_usdt_probe *v;
		size_t m;

		if (nc_usdt_list(files[i].path, &v, &m, NULL, 0))
			continue;
		for (size_t k = 0; k < m; k++) {
			struct nc_listing_usdt u = {
			    .path = files[i].path,
			    .spec = g_strdup_printf("usdt:%s%s%s:%s", exe ? "" : base,
						    exe ? "" : ":", v[k].provider, v[k].name),
			    .args = g_strdup(v[k].args),
			    .nargs = nc_usdt_nargs(v[k].args),
			    .semaphore = v[k].sem_offset != 0};

			g_array_append_val(all, u);
		}
		nc_usdt_free(v, m);
	}
	free(files);
	l->n_usdt = all->len;
	l->usdt = (struct nc_listing_usdt *)(void *)g_array_free(all, FALSE);
	return ret;
}

int nc_listing_read(pid_t pid, struct nc_listing **out, char *err, size_t errlen)
{
	struct nc_listing *l = calloc(1, sizeof(*l));
	char why[512];
	int ret;

	if (!l)
		return nc_err(err, errlen, ENOMEM, "out of memory");
	ret = nc_dpdk_inspect(pid, &l->proc, err, errlen);
	if (ret) {
		free(l);
		return ret;
	}
	if (nc_listing_funcs(l->proc->exe, true, &l->funcs, &l->n_funcs, why, sizeof(why)))
		l->funcs_err = g_strdup(why);
	ret = list_usdt(l->proc, l, err, errlen);
	if (ret) {
		nc_listing_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void nc_listing_free(struct nc_listing *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_usdt; i++) {
		g_free(l->usdt[i].spec);
		g_free(l->usdt[i].args);
	}
	g_free(l->usdt);
	nc_listing_funcs_free(l->funcs, l->n_funcs);
	g_free(l->funcs_err);
	nc_dpdk_free(l->proc);
	free(l);
}
