/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control metrics`: the data plane's counters for Prometheus. Three rooms:
 *
 *   metrics.c         the exposition: one scrape's npr_stats, npr_info and ports into the
 *                     Prometheus text format 0.0.4 (HELP and TYPE lines, counters named
 *                     nprouter_..._total); no I/O, so the unit tests feed it by hand
 *   metrics_scrape.c  one scrape: the session to the data plane (opened on demand, dropped
 *                     when the data plane goes away) and the dumps, each with a timeout
 *   metrics_http.c    options, the HTTP server (libmicrohttpd) and the poll loop
 *
 * Names: nprouter_port_*{port}, nprouter_port_queue_*{port,queue}, nprouter_worker_*{worker}
 * (with {family}, {reason} or {class}), nprouter_slowpath_*, nprouter_routes{family,origin},
 * nprouter_config_*{origin}; nprouter_up is 0 (and nothing else is there) while the data plane
 * cannot be read. Label values are lower case: reason="no_route", family="ipv4".
 */
#ifndef NPR_CTL_METRICS_H
#define NPR_CTL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

/* A growable text buffer. A failed allocation sets oom and drops what did not fit. */
struct mtext {
	char *s; /* NUL-terminated (NULL while empty) */
	size_t len, cap;
	bool oom;
};

void mtext_printf(struct mtext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mtext_free(struct mtext *t);

/* What one scrape read. With up false only nprouter_up (0) is written and the rest is not
 * read (may be NULL). */
struct metrics_input {
	bool up;
	const struct npr_stats *st;
	const struct npr_info *info;
	const struct npr_dump_port *ports; /* device names for nprouter_port_info */
	size_t n_ports;
	double scrape_seconds; /* how long reading the data plane took */
};

/* The exposition of one scrape appended to t. 0, or -ENOMEM (t->oom). */
int metrics_format(struct mtext *t, const struct metrics_input *in);

/* The scrape's reader (metrics_scrape.c). One per exporter; one thread. */
struct metrics_scrape;
struct metrics_scrape *metrics_scrape_new(const char *shm, int timeout_ms);
void metrics_scrape_free(struct metrics_scrape *s);
/* Read the data plane and write the exposition into t (nprouter_up 0 if it cannot be read:
 * why goes to the log once per outage). 0, or -ENOMEM. */
int metrics_scrape(struct metrics_scrape *s, struct mtext *t);

/* `metrics` (metrics_http.c): shm and timeout_ms are the global options (timeout_ms -2: not
 * given, the exporter's own default of 2 s; -1 (forever) or more than 60 s: 60 s), argv the
 * words after `metrics`. Runs until SIGTERM / SIGINT (exit 0); 2 on a usage error, 1 if it
 * cannot listen. */
int metrics_main(const char *shm, int timeout_ms, int argc, char **argv);

#endif
