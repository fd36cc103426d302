/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One scrape (metrics.h): read the data plane over its ring, then format. The session is
 * opened on the first scrape and kept (one of the segment's slots, origin cli, reading only);
 * when a read fails (the data plane went away, restarted, or did not answer in time) it is
 * closed and the scrape says nprouter_up 0; the next scrape opens a new one. The outage is
 * logged once, and its end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/shm.h"
#include "npr/util.h"
#include "client.h"
#include "dump.h"
#include "log.h"
#include "metrics.h"

/* Opening waits at most this long: a scrape must not wait for a data plane that is not there
 * (the global --timeout applies to each answer). */
#define OPEN_TIMEOUT_MS 500

struct metrics_scrape {
	const char *shm;
	int timeout_ms;
	struct npr_client *c;
	bool down_logged; /* the current outage was logged */
	bool ever_up;
	struct npr_stats st;
	struct npr_info info;
	bool got_stats, got_info;
	struct npr_dump_port *ports;
	size_t n_ports, cap_ports;
};

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
slog(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_vlog("nprouter-control metrics", fmt, ap);
	va_end(ap);
}

struct metrics_scrape *
metrics_scrape_new(const char *shm, int timeout_ms)
{
	struct metrics_scrape *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->shm = shm;
	s->timeout_ms = timeout_ms;
	return s;
}

void
metrics_scrape_free(struct metrics_scrape *s)
{
	if (s == NULL)
		return;
	npr_client_close(s->c);
	free(s->ports);
	free(s);
}

static void
got_stats(void *ctx, const void *e)
{
	struct metrics_scrape *s = ctx;
	memcpy(&s->st, e, sizeof(s->st));
	s->got_stats = true;
}

static void
got_info(void *ctx, const void *e)
{
	struct metrics_scrape *s = ctx;
	memcpy(&s->info, e, sizeof(s->info));
	s->got_info = true;
}

static void
got_port(void *ctx, const void *e)
{
	struct metrics_scrape *s = ctx;
	if (s->n_ports == s->cap_ports) {
		size_t cap = s->cap_ports == 0 ? 8 : s->cap_ports * 2;
		struct npr_dump_port *p = realloc(s->ports, cap * sizeof(*p));
		if (p == NULL)
			return; /* a device name less on the page */
		s->ports = p;
		s->cap_ports = cap;
	}
	memcpy(&s->ports[s->n_ports++], e, sizeof(*s->ports));
}

/* One dump: 0, or a reason in why (and the session is unusable or the answer wrong). */
static int
read_dump(struct metrics_scrape *s, uint32_t kind, dump_entry_fn fn, char *why, size_t len)
{
	struct dump_status ds;
	int rc = dump_each(s->c, kind, 0, fn, s, s->timeout_ms, &ds);
	if (rc < 0) {
		snprintf(why, len, "%s", npr_strstatus(rc));
		return rc;
	}
	if (ds.rep.status != 0) {
		snprintf(why, len, "dump %u refused: %s", kind, npr_strstatus(ds.rep.status));
		return ds.rep.status;
	}
	if (ds.n_bad > 0) {
		snprintf(why, len, "dump %u: malformed answer", kind);
		return -EPROTO;
	}
	return 0;
}

/* Read everything a page needs: 0, or -errno with why. */
static int
read_all(struct metrics_scrape *s, char *why, size_t len)
{
	if (s->c == NULL) {
		char err[256];
		s->c = npr_client_open(s->shm, NPR_ORIGIN_CLI, OPEN_TIMEOUT_MS, err, sizeof(err));
		if (s->c == NULL) {
			snprintf(why, len, "%s", err);
			return errno != 0 ? -errno : -EIO;
		}
	}
	s->got_stats = s->got_info = false;
	s->n_ports = 0;
	int rc = read_dump(s, NPR_DUMP_STATS, got_stats, why, len);
	if (rc == 0)
		rc = read_dump(s, NPR_DUMP_INFO, got_info, why, len);
	if (rc == 0)
		rc = read_dump(s, NPR_DUMP_PORTS, got_port, why, len);
	if (rc == 0 && (!s->got_stats || !s->got_info)) {
		snprintf(why, len, "the data plane sent no %s",
			 s->got_stats ? "info" : "statistics");
		rc = -EPROTO;
	}
	if (rc != 0) {
		/* whatever went wrong, the next scrape starts from a fresh session */
		npr_client_close(s->c);
		s->c = NULL;
	}
	return rc;
}

int
metrics_scrape(struct metrics_scrape *s, struct mtext *t)
{
	char why[320] = "";
	double t0 = npr_now_s();
	int rc = read_all(s, why, sizeof(why));
	struct metrics_input in = { .up = rc == 0 };
	if (rc == 0) {
		in.st = &s->st;
		in.info = &s->info;
		in.ports = s->ports;
		in.n_ports = s->n_ports;
		in.scrape_seconds = npr_now_s() - t0;
		if (s->down_logged || !s->ever_up)
			slog("reading data plane %s (instance %016llx)",
			     s->shm != NULL ? s->shm : NPR_SHM_DEFAULT_NAME,
			     (unsigned long long)s->info.instance_id);
		s->down_logged = false;
		s->ever_up = true;
	} else if (!s->down_logged) {
		slog("data plane %s not readable: %s (nprouter_up 0 until it is)",
		     s->shm != NULL ? s->shm : NPR_SHM_DEFAULT_NAME, why);
		s->down_logged = true;
	}
	return metrics_format(t, &in);
}
