/* SPDX-License-Identifier: BSD-3-Clause */
/* Punt policing's policy (the contract is punt.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fwd.h"
#include "punt.h"

/*/* Packets per second per port and per-worker burst. Generous for what each class carries
 * in a healthy network (BGP full-table transfers, a few thousand neighbours), small next to
 * what one control thread handles; the bursts add up to less than the exception ring (4096). */
static const struct {
	uint32_t rate, burst;
} punt_default[NPR_PUNT_MAX] = {
	[NPR_PUNT_ARP] = { 5000, 128 },	    [NPR_PUNT_ND] = { 5000, 128 },
	[NPR_PUNT_MCAST] = { 2000, 64 },    [NPR_PUNT_ECHO] = { 1000, 64 },
	[NPR_PUNT_BGP] = { 20000, 256 },    [NPR_PUNT_LOCAL] = { 10000, 128 },
	[NPR_PUNT_RESOLVE] = { 5000, 128 }, [NPR_PUNT_ICMP_ERR] = { 100, 50 },
	[NPR_PUNT_TOO_BIG] = { 10000, 64 },
};

void
punt_defaults(struct punt_conf *c, uint32_t icmp_rate, uint32_t icmp_burst)
{
	for (unsigned i = 0; i < NPR_PUNT_MAX; i++) {
		c->rate[i] = punt_default[i].rate;
		c->burst[i] = punt_default[i].burst;
	}
	if (icmp_rate != 0)
		c->rate[NPR_PUNT_ICMP_ERR] = icmp_rate;
	if (icmp_burst != 0)
		c->burst[NPR_PUNT_ICMP_ERR] = icmp_burst;
}

/* A class by its name, any case, '-' for '_': "icmp-err" is ICMP_ERR. */
static int
punt_class(const char *s, size_t n)
{
	for (unsigned i = 0; i < NPR_PUNT_MAX; i++) {
		const char *name = npr_punt_name(i);
		size_t k = 0;
		while (k < n && name[k] != '\0' &&
		       (toupper((unsigned char)s[k]) == name[k] || (s[k] == '-' && name[k] == '_')))
			k++;
		if (k == n && name[k] == '\0')
			return (int)i;
	}
	return -1;
}

static int
punt_num(const char *s, const char *what, unsigned long lo, unsigned long hi, uint32_t *out,
	 char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi || s[0] == '-') {
		snprintf(err, errlen, "%s '%s' is not a number in %lu..%lu", what, s, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
punt_parse(struct punt_conf *c, const char *arg, char *err, size_t errlen)
{
	struct punt_conf n = *c;
	char buf[512];

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *sl;
		int cls = eq != NULL ? punt_class(item, (size_t)(eq - item)) : -1;
		if (cls < 0) {
			char names[256] = "";
			for (unsigned i = 0; i < NPR_PUNT_MAX; i++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", i ? ", " : "", npr_punt_name(i));
			snprintf(err, errlen, "'%s': not CLASS=RATE[/BURST]; classes: %s", item,
				 names);
			return -1;
		}
		sl = strchr(eq + 1, '/');
		if (sl != NULL)
			*sl = '\0';
		if (punt_num(eq + 1, "rate", 0, 100000000, &n.rate[cls], err, errlen) < 0 ||
		    (sl != NULL &&
		     punt_num(sl + 1, "burst", 1, 1024, &n.burst[cls], err, errlen) < 0))
			return -1;
	}
	*c = n;
	return 0;
}

void
punt_apply(const struct punt_conf *c, struct fwd_worker *const *w, unsigned n_workers,
	   uint64_t tsc_hz)
{
	for (unsigned k = 0; k < n_workers; k++)
		for (unsigned i = 0; i < NPR_PUNT_MAX; i++) {
			uint32_t r = c->rate[i];
			/* each worker its share, rounded up: never 0, which would be no limit */
			fwd_punt_set(w[k], i, r == 0 ? 0 : (r + n_workers - 1) / n_workers,
				     c->burst[i], tsc_hz);
		}
}

void
punt_format(const struct punt_conf *c, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < NPR_PUNT_MAX && o < len; i++) {
		char name[16];
		size_t k;
		for (k = 0; npr_punt_name(i)[k] != '\0' && k + 1 < sizeof(name); k++)
			name[k] = (char)tolower((unsigned char)npr_punt_name(i)[k]);
		name[k] = '\0';
		if (c->rate[i] == 0)
			o += (size_t)snprintf(buf + o, len - o, "%s%s off", i ? ", " : "", name);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s %u/%u", i ? ", " : "", name,
					      c->rate[i], c->burst[i]);
	}
}
