/* SPDX-License-Identifier: BSD-2-Clause */
#include "spec.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

void nc_spec_clear(struct nc_hook_spec *s)
{
	free(s->text);
	free(s->object);
	free(s->func);
	free(s->provider);
	memset(s, 0, sizeof(*s));
}

static int bad(struct nc_hook_spec *s, char *err, size_t errlen, const char *text, const char *why)
{
	nc_spec_clear(s);
	return nc_err(err, errlen, EINVAL, "hook spec \"%s\": %s; see: netcap mbuf --help", text,
		      why);
}

/* A 1-based register argument number */
static int parse_arg(const char *s, uint8_t *out, char *why, size_t len)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 0, 999, &v, NULL)) {
		snprintf(why, len, "\"%s\" is not an argument number", s);
		return -1;
	}
	if (v < 1 || v > NC_SPEC_MAX_ARG) {
		snprintf(why, len,
			 "argument %u is out of range (netcap reads register arguments 1 to %d)",
			 (unsigned)v, NC_SPEC_MAX_ARG);
		return -1;
	}
	*out = (uint8_t)v;
	return 0;
}

/* rx_burst, rx_burst:PORT, tx_burst, tx_burst:PORT; 1 if text is one of them */
static int parse_named(const char *text, struct nc_hook_spec *s, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum nc_spec_type type;
	} names[] = {{"rx_burst", NC_SPEC_RX_BURST}, {"tx_burst", NC_SPEC_TX_BURST}};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		size_t n = strlen(names[i].name);
		guint64 port;

		if (strncmp(text, names[i].name, n) ||
		    (text[n] && text[n] != ':' && text[n] != '@'))
			continue;
		s->type = names[i].type;
		s->port = -1;
		if (text[n] == '@')
			return bad(s, err, errlen, text,
				   "the PMD burst points take a port, not arguments: rx_burst or "
				   "rx_burst:PORT");
		if (text[n] == ':' &&
		    !g_ascii_string_to_unsigned(text + n + 1, 10, 0, UINT16_MAX - 1, &port, NULL))
			return bad(s, err, errlen, text, "the port must be a number (rx_burst:0)");
		if (text[n] == ':')
			s->port = (int)port;
		return 1;
	}
	return 0;
}

static bool is_name(const char *n)
{
	if (!n || !*n)
		return false;
	for (const char *c = n; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '_' && *c != '.' && *c != '$')
			return false;
	return true;
}

/* usdt:PROVIDER:NAME or usdt:OBJECT:PROVIDER:NAME (point without "usdt:"); arguments parsed */
static int parse_usdt(const char *text, const char *point, struct nc_hook_spec *s, char *err,
		      size_t errlen)
{
	const char *name = strrchr(point, ':'), *prov;

	s->type = NC_SPEC_USDT;
	if (s->kind == NC_HOOK_RET_SAVE)
		return bad(s, err, errlen, text,
			   "a USDT probe is not a call that returns: give the mbuf argument "
			   "(usdt:P:N@1) or the array and the count (usdt:P:N@1@2)");
	if (!name)
		return bad(s, err, errlen, text,
			   "a USDT probe is usdt:PROVIDER:NAME (or usdt:OBJECT:PROVIDER:NAME)");
	prov = name;
	while (prov > point && prov[-1] != ':')
		prov--;
	s->func = strdup(name + 1);
	s->provider = strndup(prov, (size_t)(name - prov));
	if (prov > point)
		s->object = strndup(point, (size_t)(prov - 1 - point));
	if (!is_name(s->func) || !is_name(s->provider) || (s->object && !*s->object))
		return bad(s, err, errlen, text,
			   "a USDT probe is usdt:PROVIDER:NAME (or usdt:OBJECT:PROVIDER:NAME)");
	return 0;
}

int nc_spec_parse(const char *text, struct nc_hook_spec *s, char *err, size_t errlen)
{
	g_auto(GStrv) parts = NULL;
	char why[160];
	const char *point;
	const char *plus;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!text || !*text)
		return nc_err(err, errlen, EINVAL, "empty hook spec; see: netcap mbuf --help");
	if (!(s->text = strdup(text)))
		return nc_err(err, errlen, ENOMEM, "out of memory");
	if ((ret = parse_named(text, s, err, errlen)))
		return ret < 0 ? ret : 0;

	parts = g_strsplit(text, "@", -1);
	point = parts[0];
	if (!parts[1])
		return bad(s, err, errlen, text,
			   "say which argument holds the mbufs: FUNC@1 (struct rte_mbuf *), "
			   "FUNC@1@2 (array and count) or FUNC@2@ret (array filled by the call)");
	if (parts[2] && parts[3])
		return bad(s, err, errlen, text, "too many @ parts");
	if (parse_arg(parts[1], &s->arg_pkt, why, sizeof(why)))
		return bad(s, err, errlen, text, why);
	if (!parts[2]) {
		s->kind = NC_HOOK_SINGLE;
	} else if (!strcmp(parts[2], "ret") || !strcmp(parts[2], "ret16")) {
		s->kind = NC_HOOK_RET_SAVE;
		s->ret_bits = parts[2][3] ? 16 : 32;
	} else {
		s->kind = NC_HOOK_VECTOR;
		if (parse_arg(parts[2], &s->arg_cnt, why, sizeof(why)))
			return bad(s, err, errlen, text, why);
		if (s->arg_cnt == s->arg_pkt)
			return bad(s, err, errlen, text,
				   "one argument cannot be both the array and the count");
	}

	if (g_str_has_prefix(point, "usdt:"))
		return parse_usdt(text, point + 5, s, err, errlen);
	plus = strrchr(point, '+');
	if (plus) {
		guint64 off;

		s->type = NC_SPEC_OFFSET;
		if (plus == point || strncmp(plus + 1, "0x", 2) ||
		    !g_ascii_string_to_unsigned(plus + 3, 16, 0, UINT64_MAX, &off, NULL))
			return bad(
			    s, err, errlen, text,
			    "an offset is OBJECT+0xHEX, e.g. librte_net_pcap.so.23.0+0x6e00");
		s->offset = off;
		s->object = strndup(point, (size_t)(plus - point));
		return 0;
	}
	s->type = NC_SPEC_FUNC;
	if (strchr(point, ':')) {
		const char *colon = strrchr(point, ':');

		s->object = strndup(point, (size_t)(colon - point));
		s->func = strdup(colon + 1);
	} else {
		s->func = strdup(point);
	}
	if (!s->func || !*s->func || (s->object && !*s->object))
		return bad(s, err, errlen, text, "no function name");
	for (const char *c = s->func; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '_' && *c != '.' && *c != '$')
			return bad(s, err, errlen, text, "not a function name");
	return 0;
}
