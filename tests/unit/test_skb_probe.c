/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The skb probe's programs pass the kernel verifier in each attach form this kernel can load:
 * the raw tracepoint form (used by every tracepoint capture) and the kprobe form (used for
 * FUNC@N where the kernel has kprobes; it loads even where kprobes cannot be attached). The
 * fentry form needs a kernel that accepts fentry programs.
 */
#include <errno.h>
#include <glib.h>

#include "filter/filter.h"
#include "load/skb_probe.h"

static void load(enum nc_skb_attach how, const char *target)
{
	struct nc_skb_point pt = {.target = target, .how = how};
	struct nc_skb_probe *p = NULL;
	struct nc_filter *f;
	char err[512];
	int ret;

	pt.cfg.snaplen = NC_MAX_SNAPLEN;
	pt.cfg.window = 512;
	pt.cfg.reason_arg = -1;
	pt.cfg.hook_l3 = 1;
	g_assert_cmpint(nc_filter_new("tcp port 80", NC_MAX_SNAPLEN, 1, &f, err, sizeof(err)), ==,
			0);
	ret = nc_skb_probe_open(&pt, 1, f, 1 << 22, true, &p, err, sizeof(err));
	if (ret == -EPERM) {
		g_test_skip("loading BPF programs needs root (CAP_BPF)");
	} else {
		if (ret)
			g_error("%s", err);
		g_assert_cmpint(nc_skb_probe_ring_fd(p), >=, 0);
	}
	nc_skb_probe_close(p);
	nc_filter_free(f);
}

static void test_raw_tracepoint(void)
{
	load(NC_SKB_TRACEPOINT, "netif_receive_skb");
}

static void test_kprobe(void)
{
	load(NC_SKB_KPROBE, "ip_rcv");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/skb-probe/raw-tracepoint-form-passes-the-verifier", test_raw_tracepoint);
	g_test_add_func("/skb-probe/kprobe-form-passes-the-verifier", test_kprobe);
	return g_test_run();
}
