/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `route load FILE`: bulk route loading. The file is parsed whole into memory first (nothing
 * is sent if any line is bad), then pushed as pipelined ROUTE4/ROUTE6 messages of
 * NPR_ROUTE4_MAX / NPR_ROUTE6_MAX entries, optionally inside one batch.
 *
 * File: one route a line, "PREFIX" or "PREFIX FIELD" (spaces or tabs), '#' starts a comment,
 * blank lines are skipped; plain text or gzip. Target of each route:
 *   without a next hop list: FIELD is the target next hop id (required);
 *   with a list of n next hops: list[FIELD % n] when FIELD is there (e.g. the origin AS of a
 *   BGP table), else list[npr_load_hash(prefix) % n].
 */
#ifndef NPR_CTL_LOAD_H
#define NPR_CTL_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npr/proto.h"
#include "client.h"

#define LOAD_MAX_NEXTHOPS 4096u
#define LOAD_MAX_REPORTED 20u /* bad lines printed before only counting */

struct load_opts {
	const char *path; /* "-": standard input */
	uint32_t nh[LOAD_MAX_NEXTHOPS];
	size_t n_nh; /* 0: FIELD is the target */
	int batch;
	int replace;
};

struct load_table {
	struct npr_route4 *r4;
	uint32_t *line4; /* file line of each route, for error reports */
	size_t n4, cap4;
	struct npr_route6 *r6;
	uint32_t *line6;
	size_t n6, cap6;
	size_t n_lines; /* lines read */
	size_t n_bad;	/* lines rejected */
};

struct load_result {
	size_t n4, n6;
	double parse_s, push_s;
};

/* Parse "route load" arguments (argv[0] is FILE or an option). 0, or -EINVAL with the reason
 * in why. */
int load_parse_args(int argc, char **argv, struct load_opts *o, char *why, size_t whylen);

/* Parse one line (NUL-terminated; a trailing newline is ignored, the line is modified).
 * Returns 4 or 6 with the route in *r4 or *r6, 0 for a blank or comment line, or -EINVAL with
 * the reason in why. */
int load_parse_line(char *line, const struct load_opts *o, struct npr_route4 *r4,
		    struct npr_route6 *r6, char *why, size_t whylen);

/* Parse the whole file. Bad lines are reported on err as "FILE:LINE: reason" (the first
 * LOAD_MAX_REPORTED, then a count). 0 if every line is good, -EINVAL if some are bad, another
 * -errno (reported on err) if the file cannot be read. */
int load_parse_file(const struct load_opts *o, struct load_table *t, FILE *err);
void load_table_free(struct load_table *t);

/* FNV-1a over the prefix bytes and the length: the target choice for lines without FIELD. */
uint32_t load_hash(int family, const uint8_t *prefix, uint8_t plen);

/* Push the table. Prints the progress (stderr if a tty) and errors on err; fills *res.
 * Returns a process exit code: 0 ok, 1 a route was rejected, 3 the data plane went away. */
int load_push(struct npr_client *c, const struct load_opts *o, const struct load_table *t,
	      int timeout_ms, struct load_result *res, FILE *err);

/* "loaded 901899 routes (IPv4 901899, IPv6 0) in 0.84 s: 1.07 M routes/s (parse 0.95 s)" */
void load_print_summary(FILE *f, const struct load_result *r);

#endif
