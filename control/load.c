/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `route load FILE`: parse a route file whole, then push it pipelined (see load.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "npr/proto.h"
#include "npr/addr.h"
#include "npr/util.h"
#include "client.h"
#include "load.h"

#define LINE_MAX_LEN 512

/* ---- arguments ---- */

/* Decimal 0..max, digits only. */
static int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	if (*s == '\0' || strlen(s) > 10)
		return -EINVAL;
	uint64_t v = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_nh_list(const char *s, struct load_opts *o, char *why, size_t whylen)
{
	char buf[LOAD_MAX_NEXTHOPS * 12];
	if (strlen(s) >= sizeof(buf)) {
		snprintf(why, whylen, "--nexthops: list too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	o->n_nh = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		uint32_t id;
		if (parse_u32(tok, NPR_TARGET_ID_MASK, &id) < 0 || id == 0) {
			snprintf(why, whylen, "--nexthops: bad next hop id '%.20s'", tok);
			return -EINVAL;
		}
		if (o->n_nh == LOAD_MAX_NEXTHOPS) {
			snprintf(why, whylen, "--nexthops: more than %u ids", LOAD_MAX_NEXTHOPS);
			return -EINVAL;
		}
		o->nh[o->n_nh++] = id;
	}
	if (o->n_nh == 0) {
		snprintf(why, whylen, "--nexthops: empty list");
		return -EINVAL;
	}
	return 0;
}

int
load_parse_args(int argc, char **argv, struct load_opts *o, char *why, size_t whylen)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--batch") == 0) {
			o->batch = 1;
		} else if (strcmp(a, "--replace") == 0) {
			o->replace = 1;
		} else if ((strcmp(a, "--nexthops") == 0 || strncmp(a, "--nexthops=", 11) == 0) &&
			   o->n_nh != 0) {
			snprintf(why, whylen, "--nexthops given twice: one list, ID[,ID...]");
			return -EINVAL;
		} else if (strcmp(a, "--nexthops") == 0) {
			if (i + 1 == argc) {
				snprintf(why, whylen, "--nexthops needs ID[,ID...]");
				return -EINVAL;
			}
			if (parse_nh_list(argv[++i], o, why, whylen) < 0)
				return -EINVAL;
		} else if (strncmp(a, "--nexthops=", 11) == 0) {
			if (parse_nh_list(a + 11, o, why, whylen) < 0)
				return -EINVAL;
		} else if (a[0] == '-' && a[1] != '\0') {
			snprintf(why, whylen, "unknown option '%.40s'", a);
			return -EINVAL;
		} else if (o->path != NULL) {
			snprintf(why, whylen, "unexpected '%.40s': one FILE only", a);
			return -EINVAL;
		} else {
			o->path = a;
		}
	}
	if (o->path == NULL) {
		snprintf(why, whylen, "missing FILE");
		return -EINVAL;
	}
	return 0;
}

/* ---- lines ---- */

uint32_t
load_hash(int family, const uint8_t *prefix, uint8_t plen)
{
	uint32_t h = 2166136261u;
	unsigned n = family == NPR_AF_INET ? 4 : 16;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ prefix[i]) * 16777619u;
	return (h ^ plen) * 16777619u;
}

static char *
next_token(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	char *tok = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return tok;
}

int
load_parse_line(char *line, const struct load_opts *o, struct npr_route4 *r4, struct npr_route6 *r6,
		char *why, size_t whylen)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';

	char *p = line;
	char *pfx = next_token(&p);
	if (pfx == NULL)
		return 0;
	char *field = next_token(&p);
	char *extra = next_token(&p);
	if (extra != NULL) {
		snprintf(why, whylen, "unexpected '%.40s' after the target", extra);
		return -EINVAL;
	}

	int fam;
	uint8_t addr[16], plen;
	if (npr_parse_prefix(pfx, &fam, addr, &plen) < 0) {
		char reason[128];
		snprintf(why, whylen, "'%.60s': %s", pfx,
			 npr_prefix_strerror(pfx, reason, sizeof(reason)));
		return -EINVAL;
	}

	uint32_t target, v = 0;
	if (field != NULL && parse_u32(field, UINT32_MAX, &v) < 0) {
		snprintf(why, whylen, "bad number '%.40s'", field);
		return -EINVAL;
	}
	if (o->n_nh == 0) {
		if (field == NULL) {
			snprintf(why, whylen, "no next hop id (or give --nexthops)");
			return -EINVAL;
		}
		if (v == 0 || v > NPR_TARGET_ID_MASK) {
			snprintf(why, whylen, "next hop id %" PRIu32 " out of range 1..%u", v,
				 NPR_TARGET_ID_MASK);
			return -EINVAL;
		}
		target = v;
	} else if (field != NULL) {
		target = o->nh[v % o->n_nh];
	} else {
		target = o->nh[load_hash(fam, addr, plen) % o->n_nh];
	}

	if (fam == NPR_AF_INET) {
		memset(r4, 0, sizeof(*r4));
		memcpy(&r4->prefix, addr, sizeof(r4->prefix));
		r4->plen = plen;
		r4->target = target;
		return 4;
	}
	memset(r6, 0, sizeof(*r6));
	memcpy(r6->prefix, addr, sizeof(r6->prefix));
	r6->plen = plen;
	r6->target = target;
	return 6;
}

/* ---- whole file ---- */

static int
grow(void **arr, uint32_t **lines, size_t *cap, size_t elem)
{
	size_t ncap = *cap == 0 ? 65536 : *cap * 2;
	void *a = realloc(*arr, ncap * elem);
	if (a == NULL)
		return -ENOMEM;
	*arr = a;
	uint32_t *l = realloc(*lines, ncap * sizeof(**lines));
	if (l == NULL)
		return -ENOMEM;
	*lines = l;
	*cap = ncap;
	return 0;
}

void
load_table_free(struct load_table *t)
{
	free(t->r4);
	free(t->line4);
	free(t->r6);
	free(t->line6);
	memset(t, 0, sizeof(*t));
}

static void
report_bad(const struct load_opts *o, struct load_table *t, FILE *err, size_t lineno,
	   const char *why)
{
	if (t->n_bad++ < LOAD_MAX_REPORTED)
		fprintf(err, "%s:%zu: %s\n", o->path, lineno, why);
}

int
load_parse_file(const struct load_opts *o, struct load_table *t, FILE *err)
{
	memset(t, 0, sizeof(*t));
	errno = 0;
	gzFile gz = strcmp(o->path, "-") == 0 ? gzdopen(dup(STDIN_FILENO), "rb")
					      : gzopen(o->path, "rb");
	if (gz == NULL) {
		int e = errno != 0 ? errno : ENOMEM;
		fprintf(err, "nprouter-control: route load: %s: %s\n", o->path, strerror(e));
		return -e;
	}
	gzbuffer(gz, 256 * 1024);

	char line[LINE_MAX_LEN];
	char why[256];
	int rc = 0;
	bool long_line = false; /* in the middle of a line too long for the buffer */
	while (gzgets(gz, line, sizeof(line)) != NULL) {
		size_t n = strlen(line);
		bool complete = n > 0 && line[n - 1] == '\n';
		if (long_line) {
			long_line = !complete;
			continue;
		}
		t->n_lines++;
		if (!complete && n == sizeof(line) - 1) {
			report_bad(o, t, err, t->n_lines, "line too long");
			long_line = true;
			continue;
		}
		struct npr_route4 r4;
		struct npr_route6 r6;
		int fam = load_parse_line(line, o, &r4, &r6, why, sizeof(why));
		if (fam < 0) {
			report_bad(o, t, err, t->n_lines, why);
		} else if (fam == 4) {
			if (t->n4 == t->cap4 &&
			    grow((void **)&t->r4, &t->line4, &t->cap4, sizeof(r4)) < 0) {
				rc = -ENOMEM;
				break;
			}
			t->line4[t->n4] = (uint32_t)t->n_lines;
			t->r4[t->n4++] = r4;
		} else if (fam == 6) {
			if (t->n6 == t->cap6 &&
			    grow((void **)&t->r6, &t->line6, &t->cap6, sizeof(r6)) < 0) {
				rc = -ENOMEM;
				break;
			}
			t->line6[t->n6] = (uint32_t)t->n_lines;
			t->r6[t->n6++] = r6;
		}
	}
	int zerr;
	const char *zmsg = gzerror(gz, &zerr);
	if (rc == 0 && zerr != Z_OK && zerr != Z_BUF_ERROR) {
		fprintf(err, "nprouter-control: route load: %s: read error: %s\n", o->path,
			zerr == Z_ERRNO ? strerror(errno) : zmsg);
		rc = -EIO;
	} else if (rc == 0 && zerr == Z_BUF_ERROR) {
		fprintf(err, "nprouter-control: route load: %s: truncated gzip file\n", o->path);
		rc = -EIO;
	}
	gzclose(gz);
	if (rc == -ENOMEM)
		fprintf(err, "nprouter-control: route load: %s: out of memory\n", o->path);
	if (rc == 0 && t->n_bad > 0) {
		if (t->n_bad > LOAD_MAX_REPORTED)
			fprintf(err, "%s: ... and %zu more bad lines\n", o->path,
				t->n_bad - LOAD_MAX_REPORTED);
		rc = -EINVAL;
	}
	return rc;
}

/* ---- push ---- */

struct span {
	uint8_t family;
	size_t start; /* index in t->r4 / t->r6 */
	uint32_t count;
};

struct push_state {
	const struct load_opts *o;
	const struct load_table *t;
	FILE *err;
	struct span *spans;
	size_t n_spans;
	uint32_t first_seq;
	size_t n_sent; /* messages sent */
	size_t routes_sent;
	size_t routes_acked;
	size_t n_errors;
	bool failed;
	struct npr_reply first_err;
	size_t first_err_span;
	bool tty;
	double t_start, t_progress;
};

static void
progress(struct push_state *ps, bool force)
{
	if (!ps->tty)
		return;
	double t = npr_now_s();
	if (!force && t - ps->t_progress < 0.5)
		return;
	ps->t_progress = t;
	size_t total = ps->t->n4 + ps->t->n6;
	fprintf(ps->err, "\r\033[Ksent %zu/%zu routes, %zu acknowledged (%.1f s)", ps->routes_sent,
		total, ps->routes_acked, t - ps->t_start);
	fflush(ps->err);
}

static void
push_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct push_state *ps = ctx;
	if (rec->type != NPR_MSG_REPLY)
		return;
	const struct npr_reply *rep = (const struct npr_reply *)rec;
	size_t i = (uint32_t)(rec->seq - ps->first_seq);
	if (i >= ps->n_sent)
		return;
	if (rep->status != 0) {
		if (!ps->failed) {
			ps->failed = true;
			ps->first_err = *rep;
			ps->first_err_span = i;
		}
		/* after a failure in a batch the data plane cancels the rest: not new errors */
		if (rep->status != -ECANCELED || ps->n_errors == 0)
			ps->n_errors++;
	} else {
		ps->routes_acked += ps->spans[i].count;
	}
	progress(ps, false);
}

static void
report_reply_error(struct push_state *ps)
{
	const struct span *s = &ps->spans[ps->first_err_span];
	const struct npr_reply *rep = &ps->first_err;
	size_t k = s->start + (rep->index < s->count ? rep->index : 0);
	char pfx[NPR_PREFIX_STRLEN];
	uint32_t line;
	if (s->family == NPR_AF_INET) {
		line = ps->t->line4[k];
		npr_format_prefix(NPR_AF_INET, (const uint8_t *)&ps->t->r4[k].prefix,
				  ps->t->r4[k].plen, pfx, sizeof(pfx));
	} else {
		line = ps->t->line6[k];
		npr_format_prefix(NPR_AF_INET6, ps->t->r6[k].prefix, ps->t->r6[k].plen, pfx,
				  sizeof(pfx));
	}
	fprintf(ps->err, "nprouter-control: route load: %s:%" PRIu32 ": %s: %s%s%s\n", ps->o->path,
		line, pfx, npr_strstatus(rep->status), rep->msg[0] != '\0' ? ": " : "", rep->msg);
}

static int
call_simple(struct npr_client *c, uint16_t type, int timeout_ms, struct npr_reply *rep)
{
	struct npr_msg_hdr h = { .type = type, .len = sizeof(h) };
	return npr_client_call(c, &h, rep, NULL, NULL, timeout_ms);
}

/* Report a client error (no answer / data plane gone). Returns the exit code. */
static int
client_failure(struct push_state *ps, const char *when, int rc)
{
	progress(ps, true);
	if (ps->tty)
		fputc('\n', ps->err);
	fprintf(ps->err, "nprouter-control: route load: %s: %s\n", when, npr_strstatus(rc));
	return 3;
}

int
load_push(struct npr_client *c, const struct load_opts *o, const struct load_table *t,
	  int timeout_ms, struct load_result *res, FILE *err)
{
	struct push_state ps = { .o = o, .t = t, .err = err };
	ps.tty = isatty(fileno(err));
	ps.t_start = ps.t_progress = npr_now_s();
	res->n4 = res->n6 = 0;

	size_t max_spans = (t->n4 + NPR_ROUTE4_MAX - 1) / NPR_ROUTE4_MAX +
			   (t->n6 + NPR_ROUTE6_MAX - 1) / NPR_ROUTE6_MAX;
	ps.spans = calloc(max_spans + 1, sizeof(*ps.spans));
	void *buf = malloc(NPR_MSG_MAX);
	if (ps.spans == NULL || buf == NULL) {
		free(ps.spans);
		free(buf);
		fprintf(err, "nprouter-control: route load: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < t->n4; i += NPR_ROUTE4_MAX)
		ps.spans[ps.n_spans++] = (struct span){
			NPR_AF_INET, i,
			(uint32_t)(t->n4 - i < NPR_ROUTE4_MAX ? t->n4 - i : NPR_ROUTE4_MAX)
		};
	for (size_t i = 0; i < t->n6; i += NPR_ROUTE6_MAX)
		ps.spans[ps.n_spans++] = (struct span){
			NPR_AF_INET6, i,
			(uint32_t)(t->n6 - i < NPR_ROUTE6_MAX ? t->n6 - i : NPR_ROUTE6_MAX)
		};

	int exit_code = 0, rc;
	struct npr_reply rep;
	npr_client_set_handler(c, push_handler, &ps);

	if (o->batch) {
		rc = npr_client_batch_begin(c, &rep, timeout_ms);
		if (rc < 0) {
			exit_code = client_failure(&ps, "batch begin", rc);
			goto out;
		}
		if (rep.status != 0) {
			fprintf(err, "nprouter-control: route load: batch begin: %s%s%s\n",
				npr_strstatus(rep.status), rep.msg[0] != '\0' ? ": " : "", rep.msg);
			exit_code = 1;
			goto out;
		}
	}

	for (size_t i = 0; i < ps.n_spans && !ps.failed; i++) {
		const struct span *s = &ps.spans[i];
		if (s->family == NPR_AF_INET) {
			struct npr_msg_route4 *m = buf;
			size_t len = sizeof(*m) + s->count * sizeof(m->r[0]);
			memset(m, 0, sizeof(*m));
			m->hdr.type = o->replace ? NPR_MSG_ROUTE4_REPLACE : NPR_MSG_ROUTE4_ADD;
			m->hdr.len = (uint32_t)((len + 7) & ~(size_t)7);
			m->count = s->count;
			memcpy(m->r, &t->r4[s->start], s->count * sizeof(m->r[0]));
			memset((uint8_t *)buf + len, 0, m->hdr.len - len);
		} else {
			struct npr_msg_route6 *m = buf;
			size_t len = sizeof(*m) + s->count * sizeof(m->r[0]);
			memset(m, 0, sizeof(*m));
			m->hdr.type = o->replace ? NPR_MSG_ROUTE6_REPLACE : NPR_MSG_ROUTE6_ADD;
			m->hdr.len = (uint32_t)len;
			m->count = s->count;
			memcpy(m->r, &t->r6[s->start], s->count * sizeof(m->r[0]));
		}
		uint32_t seq;
		rc = npr_client_send(c, buf, &seq);
		if (rc < 0) {
			exit_code = client_failure(&ps, "send", rc);
			goto out;
		}
		if (i == 0)
			ps.first_seq = seq;
		ps.n_sent++;
		ps.routes_sent += s->count;
		progress(&ps, false);
	}
	rc = npr_client_flush(c, timeout_ms);
	if (rc < 0) {
		exit_code = client_failure(&ps, "waiting for replies", rc);
		goto out;
	}
	if (ps.tty) {
		progress(&ps, true);
		fputs("\r\033[K", err);
	}

	if (ps.failed) {
		report_reply_error(&ps);
		if (ps.n_errors > 1)
			fprintf(err, "nprouter-control: route load: %zu messages rejected in all\n",
				ps.n_errors);
		exit_code = 1;
		if (o->batch) {
			rc = call_simple(c, NPR_MSG_BATCH_ABORT, timeout_ms, &rep);
			if (rc < 0)
				exit_code = client_failure(&ps, "batch abort", rc);
			else
				fprintf(err, "nprouter-control: route load: batch aborted, "
					     "nothing applied\n");
		} else {
			fprintf(err,
				"nprouter-control: route load: stopped; %zu routes were "
				"applied before the error\n",
				ps.routes_acked);
		}
		goto out;
	}
	if (o->batch) {
		rc = call_simple(c, NPR_MSG_BATCH_COMMIT, timeout_ms, &rep);
		if (rc < 0) {
			exit_code = client_failure(&ps, "batch commit", rc);
			goto out;
		}
		if (rep.status != 0) {
			fprintf(err, "nprouter-control: route load: batch commit: %s%s%s\n",
				npr_strstatus(rep.status), rep.msg[0] != '\0' ? ": " : "", rep.msg);
			exit_code = 1;
			goto out;
		}
	}
	res->n4 = t->n4;
	res->n6 = t->n6;
out:
	res->push_s = npr_now_s() - ps.t_start;
	npr_client_set_handler(c, NULL, NULL);
	free(ps.spans);
	free(buf);
	return exit_code;
}

void
load_print_summary(FILE *f, const struct load_result *r)
{
	size_t n = r->n4 + r->n6;
	double rate = r->push_s > 0 ? (double)n / r->push_s / 1e6 : 0;
	fprintf(f,
		"loaded %zu routes (IPv4 %zu, IPv6 %zu) in %.2f s: %.2f M routes/s (parse %.2f "
		"s)\n",
		n, r->n4, r->n6, r->push_s, rate, r->parse_s);
}
