/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Punt policing's policy: the rate and burst of each punt class (enum npr_punt), their
 * defaults, the --punt-rate option, and handing each worker its share (fwd_punt_set). The
 * policing itself is the workers' (fwd.c: a token bucket per class before the exception ring).
 *
 * A class's rate is per receiving port, in packets per second, shared equally by the workers
 * (a flood that RSS puts on one worker gets that worker's share); its burst is each worker's
 * bucket depth. Per port: a flood on one link leaves every other link its whole budget (ARP
 * replies from a new neighbour on wan get through an ARP flood on lan). The bursts of all
 * classes together stay below the exception ring's size, so that one class's flood cannot
 * fill the ring the others need. Rate 0: not policed.
 */
#ifndef NPR_PUNT_H
#define NPR_PUNT_H

#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

struct fwd_worker;

struct punt_conf {
	uint32_t rate[NPR_PUNT_MAX];
	uint32_t burst[NPR_PUNT_MAX];
};

/* The defaults; ICMP_ERR takes the slow path's ICMP error rate and burst: punting more than
 * it answers would only be dropped there. */
void punt_defaults(struct punt_conf *c, uint32_t icmp_rate, uint32_t icmp_burst);
/* One --punt-rate argument, CLASS=RATE[/BURST][,CLASS=RATE[/BURST]...]; 0 or -1 with the
 * reason in err (c unchanged then). */
int punt_parse(struct punt_conf *c, const char *arg, char *err, size_t errlen);
/* Each worker's share: before the workers start. */
void punt_apply(const struct punt_conf *c, struct fwd_worker *const *w, unsigned n_workers,
		uint64_t tsc_hz);
/* "arp 5000/128, nd 5000/128, ..." into buf. */
void punt_format(const struct punt_conf *c, char *buf, size_t len);

#endif
