/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control batch FILE`: every line turned into messages first, then sent pipelined
 * in one transaction (see cli.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- batch ---- */

static void *
batch_msg(void *ctx, size_t i)
{
	struct ctl *x = ctx;
	return x->q[i].msg;
}

static void
batch_rejected(void *ctx, size_t i, const struct npr_reply *rep, size_t nth)
{
	struct ctl *x = ctx;
	if (nth < MAX_REPORTED)
		fprintf(stderr, "%s: %s: %s%s%s\n", PROG, x->q[i].what, npr_strstatus(rep->status),
			rep->msg[0] != '\0' ? ": " : "", rep->msg);
}

/* Split a line into words; '#' starts a comment. Returns the number of words, -1 if too many. */
static int
split_words(char *line, char **argv, int max)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(line, " \t\r\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		argv[n++] = w;
	}
	return n;
}

static int
batch_send(struct ctl *x, const char *path)
{
	struct npr_reply rep;
	static char what[300]; /* x->what still points here when it returns */
	snprintf(what, sizeof(what), "batch %s", path);
	x->what = what;

	int rc = npr_client_batch_begin(x->c, &rep, x->timeout_ms);
	if (rc < 0)
		return client_error(x, rc);
	if (rep.status != 0)
		return reply_error(x, &rep);
	size_t n_errors;
	rc = npr_client_pipeline(x->c, x->nq, batch_msg, batch_rejected, x, x->timeout_ms,
				 &n_errors);
	if (rc < 0)
		return client_error(x, rc);
	if (n_errors > 0) {
		if (n_errors > MAX_REPORTED)
			fprintf(stderr, "%s: %s: ... and %zu more errors\n", PROG, what,
				n_errors - MAX_REPORTED);
		rc = ctl_call_simple(x, NPR_MSG_BATCH_ABORT, &rep);
		if (rc != 0)
			return rc;
		return REJECTED(x, "aborted, nothing applied");
	}
	rc = ctl_call_simple(x, NPR_MSG_BATCH_COMMIT, &rep);
	if (rc != 0)
		return rc;
	if (rep.status != 0)
		return reply_error(x, &rep);
	return 0;
}

int
batch_parse(struct ctl *x, FILE *f, const char *path)
{
	/* Turn every line into messages first: nothing is sent if any line is wrong. */
	x->batch = true;
	char *line = NULL;
	size_t cap = 0, lineno = 0, n_bad = 0;
	int worst = 0;
	char what[400];
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		char *words[MAX_ARGS];
		char copy[300];
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "#\r\n")] = '\0';
		int n = split_words(line, words, MAX_ARGS);
		if (n == 0)
			continue;
		snprintf(what, sizeof(what), "%s:%zu: %s", path, lineno, copy);
		x->what = what;
		int rc = n < 0 ? USAGE(x, "too many words") : run_command(x, n, words, true);
		if (rc != 0) {
			n_bad++;
			if (rc > worst && rc != EXIT_NODP)
				worst = rc;
			if (rc == EXIT_NODP) {
				worst = rc;
				break;
			}
		}
	}
	free(line);
	x->batch = false;
	x->what = NULL;
	/* getline says -1 at the end and on an error alike: a batch read in part is no batch */
	if (worst != EXIT_NODP && ferror(f)) {
		int e = errno;
		fprintf(stderr, "%s: batch %s: read error: %s; nothing sent\n", PROG, path,
			strerror(e != 0 ? e : EIO));
		return EXIT_USAGE;
	}
	if (worst != 0 && worst != EXIT_NODP)
		fprintf(stderr, "%s: batch %s: %zu bad lines, nothing sent\n", PROG, path, n_bad);
	return worst;
}

int
cmd_batch(struct ctl *x, int argc, char **argv)
{
	if (argc != 1)
		return USAGE(x, "usage: batch FILE ('-': standard input)");
	const char *path = argv[0];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		return USAGE(x, "cannot open %s: %s", path, strerror(errno));
	int rc = batch_parse(x, f, path);
	if (f != stdin)
		fclose(f);
	if (rc != 0)
		return rc;
	rc = ctl_open(x);
	if (rc == 0)
		rc = batch_send(x, path);
	if (rc != EXIT_NODP) /* the inline next hops of the routes it replaced or deleted */
		nh_sweep_inline(x);
	if (rc == 0 && x->json_out) {
		json_obj_begin(&x->j);
		json_kv_bool(&x->j, "ok", true);
		json_kv_u64(&x->j, "messages", x->nq);
		json_obj_end(&x->j);
	}
	return rc;
}
