/* SPDX-License-Identifier: BSD-2-Clause */
#include "privs.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"

#define DOC "docs/privileges.md"

/* The effective capability set (two 32-bit words, version 3) */
static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {{0}};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
}

static bool has(uint64_t caps, int cap)
{
	return caps & (1ull << cap);
}

bool nc_privs_have(int cap)
{
	return has(effective_caps(), cap);
}

/*
 * Whether creating a uprobe needs CAP_SYS_ADMIN here: Linux took it back from CAP_PERFMON in 2025
 * (commit ba677dbe77af, "uprobes can be used destructively ... in the middle of an instruction").
 * The kernel checks the capability before it looks at the path, so a uprobe on "/" fails with
 * EACCES when the capability is missing and with EINVAL (not a regular file) otherwise: nothing is
 * created. Without CAP_PERFMON an EACCES may mean either; then CAP_SYS_ADMIN is named.
 */
static bool uprobes_need_admin(void)
{
	struct perf_event_attr a = {
	    .size = sizeof(a), .disabled = 1, .exclude_kernel = 1, .exclude_hv = 1};
	g_autofree char *type = NULL;
	guint64 t;
	long fd;

	if (!g_file_get_contents("/sys/bus/event_source/devices/uprobe/type", &type, NULL, NULL) ||
	    !g_ascii_string_to_unsigned(g_strstrip(type), 10, 0, UINT32_MAX, &t, NULL))
		return true;
	a.type = (uint32_t)t;
	a.config1 = (uint64_t)(uintptr_t) "/";
	fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close((int)fd);
		return false;
	}
	return errno == EACCES || errno == EPERM;
}

int nc_privs_yama_scope(void)
{
	g_autofree char *s = NULL;
	guint64 v;

	if (!g_file_get_contents("/proc/sys/kernel/yama/ptrace_scope", &s, NULL, NULL) ||
	    !g_ascii_string_to_unsigned(g_strstrip(s), 10, 0, 3, &v, NULL))
		return 0;
	return (int)v;
}

/* "Uid:" or "Gid:" of /proc/PID/status: real, effective, saved, filesystem */
struct ids {
	unsigned long uid[4], gid[4];
	uint64_t cap_prm;
	char comm[64];
};

static int read_ids(pid_t pid, struct ids *ids)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	int seen = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -ESRCH;
	memset(ids, 0, sizeof(*ids));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (sscanf(*l, "Uid: %lu %lu %lu %lu", &ids->uid[0], &ids->uid[1], &ids->uid[2],
			   &ids->uid[3]) == 4)
			seen |= 1;
		else if (sscanf(*l, "Gid: %lu %lu %lu %lu", &ids->gid[0], &ids->gid[1],
				&ids->gid[2], &ids->gid[3]) == 4)
			seen |= 2;
		else if (sscanf(*l, "CapPrm: %" SCNx64, &ids->cap_prm) == 1)
			seen |= 4;
		else if (g_str_has_prefix(*l, "Name:")) /* the whole name: it may hold spaces */
			seen |=
			    8 * (g_strlcpy(ids->comm, g_strstrip(*l + 5), sizeof(ids->comm)) > 0);
	}
	return seen == 15 ? 0 : -ESRCH;
}

/* "uid 0 (root)" */
static char *user_name(unsigned long uid)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	return pw ? g_strdup_printf("uid %lu (%s)", uid, pw->pw_name)
		  : g_strdup_printf("uid %lu", uid);
}

/* Whether a process with these ids passes the kernel's ptrace check for our filesystem ids
 * without CAP_SYS_PTRACE (ptrace_may_access(), PTRACE_MODE_ATTACH_FSCREDS as /proc/PID/mem) */
static bool same_owner(const struct ids *t, uid_t uid, gid_t gid)
{
	for (int i = 0; i < 3; i++)
		if (t->uid[i] != uid || t->gid[i] != gid)
			return false;
	return true;
}

int nc_privs_check(const struct nc_privs_need *need, char *err, size_t errlen)
{
	uint64_t caps = effective_caps();
	bool admin = has(caps, CAP_SYS_ADMIN);
	g_autoptr(GPtrArray) miss = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *list = NULL;

	if (!has(caps, CAP_BPF) && !admin)
		g_ptr_array_add(miss, g_strdup("CAP_BPF (to load BPF programs)"));
	if (!has(caps, CAP_PERFMON) && !admin)
		g_ptr_array_add(miss, g_strdup("CAP_PERFMON (to attach them and read memory)"));
	if (!admin && need->uprobes && uprobes_need_admin())
		g_ptr_array_add(miss, g_strdup("CAP_SYS_ADMIN (this kernel creates uprobes only "
					       "for it)"));
	else if (!admin && need->netns)
		g_ptr_array_add(miss,
				g_strdup("CAP_SYS_ADMIN (to enter the namespace of --netns)"));
	if (!has(caps, CAP_SYS_PTRACE)) {
		int scope = nc_privs_yama_scope();

		for (size_t i = 0; i < need->n_pids; i++) {
			struct ids t;

			if (read_ids(need->pids[i], &t))
				continue; /* gone: the capture says so */
			if (scope >= 1) {
				g_ptr_array_add(miss, g_strdup_printf("CAP_SYS_PTRACE (to read "
								      "process %d under Yama "
								      "ptrace_scope %d)",
								      (int)need->pids[i], scope));
				break;
			}
			/* a caller other than root gets the ownership rule's own message,
			 * unless it lacks more than this */
			if (!same_owner(&t, geteuid(), getegid()) &&
			    (nc_privs_is_root() || miss->len)) {
				g_autofree char *owner = user_name(t.uid[1]);

				g_ptr_array_add(miss, g_strdup_printf("CAP_SYS_PTRACE (to read "
								      "process %d of %s)",
								      (int)need->pids[i], owner));
				break;
			}
		}
	}
	if (!miss->len)
		return 0;
	g_ptr_array_add(miss, NULL);
	list = g_strjoinv(", ", (char **)miss->pdata);
	return nc_err(err, errlen, EPERM,
		      "missing %s %s; run as root, or let a group capture without root: see " DOC,
		      miss->len > 2 ? "capabilities" : "capability", list);
}

bool nc_privs_is_root(void)
{
	return getuid() == 0;
}

int nc_privs_may_trace(pid_t pid, char *err, size_t errlen)
{
	g_autofree char *proc = g_strdup_printf("/proc/%d", (int)pid);
	g_autofree char *me = user_name(getuid());
	g_autofree char *owner = NULL;
	struct ids t;
	struct stat st;

	if (read_ids(pid, &t) || stat(proc, &st))
		return -ESRCH;
	owner = user_name(t.uid[0] != getuid()	 ? t.uid[0]
			  : t.uid[1] != getuid() ? t.uid[1]
						 : t.uid[2]);
	if (!same_owner(&t, getuid(), getgid()))
		return nc_err(err, errlen, EPERM,
			      "process %d (%s) runs as %s, gid %lu; netcap run by %s, gid %u "
			      "captures only processes with its caller's uid and gid: run the "
			      "app as that user, or netcap as root",
			      (int)pid, t.comm, owner, t.gid[0] != getgid() ? t.gid[0] : t.gid[1],
			      me, (unsigned)getgid());
	/* /proc/PID belongs to root while a process is not dumpable */
	if (st.st_uid != getuid())
		return nc_err(err, errlen, EPERM,
			      "process %d (%s) is not dumpable (it changed its credentials or runs "
			      "a set-id program); netcap run by %s does not read it: run netcap "
			      "as root",
			      (int)pid, t.comm, me);
	if (t.cap_prm)
		return nc_err(err, errlen, EPERM,
			      "process %d (%s) holds capabilities (CapPrm %#llx); netcap run by %s "
			      "does not read it: run netcap as root",
			      (int)pid, t.comm, (unsigned long long)t.cap_prm, me);
	return 0;
}
