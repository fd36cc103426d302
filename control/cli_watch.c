/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live view: `show stats --watch [SECONDS]` and `top [SECONDS]` (see cli.h). Every
 * SECONDS (default 1) a STATS snapshot; rates against the one before (rates.c); one screen:
 * ports (packets and bits a second), workers (packets a second, busy and asleep shares) and
 * the top drop and exception reasons by rate. On a terminal each screen replaces the last
 * (cursor home, clear); otherwise screens follow one another, a blank line between.
 *
 * Ends on SIGINT / SIGTERM (exit 0), or when the data plane goes away or stops answering
 * (exit 3, saying so).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rates.h"

#define TOP_REASONS 5
#define WATCH_MIN_S 0.1
#define WATCH_MAX_S 3600.0

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* 1234567 -> "1.23M"; below 1000 a whole number. */
static const char *
human(double v, char *buf, size_t len)
{
	static const char unit[] = " kMGT";
	unsigned u = 0;
	while (v >= 999.5 && u + 1 < sizeof(unit) - 1) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%c", v < 9.995 ? 2 : v < 99.95 ? 1 : 0, v, unit[u]);
	return buf;
}

/* "3d04h", "1h02m03s", "12.5s" */
static const char *
duration(double s, char *buf, size_t len)
{
	uint64_t t = (uint64_t)s;
	if (t >= 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", t / 3600,
			 t % 3600 / 60, t % 60);
	else if (t >= 60)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
	else
		snprintf(buf, len, "%.1fs", s);
	return buf;
}

static void
print_reasons(const char *title, const struct reason_rate *r, unsigned n, bool exc)
{
	char a[16];
	printf("%-22s %9s %14s\n", title, "/S", "TOTAL");
	if (n == 0)
		printf("  (none)\n");
	for (unsigned i = 0; i < n && i < TOP_REASONS; i++)
		printf("  %-20s %9s %14" PRIu64 "  %s\n",
		       exc ? npr_exc_name(r[i].reason) : npr_drop_name(r[i].reason),
		       human(r[i].per_s, a, sizeof(a)), r[i].total,
		       exc ? npr_exc_text(r[i].reason) : npr_drop_text(r[i].reason));
	if (n > TOP_REASONS)
		printf("  (%u more)\n", n - TOP_REASONS);
}

static void
screen(struct ctl *x, const struct npr_stats *st, const struct stats_rates *r, double every,
       bool tty)
{
	char a[16], b[16], c[16], d[16], e[16], f[16], up[24], ts[16];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("nprouter %s, up %s, every %.1f s; %s %.2f s%s\n", ts,
	       duration((double)st->uptime_ns * 1e-9, up, sizeof(up)), every,
	       r->since_start ? "averages since the counters started," : "rates over",
	       r->interval_s, tty ? "  (Ctrl-C quits)" : "");
	printf("\n%-5s %-16s %-4s %9s %9s %9s %9s %9s %9s\n", "PORT", "DEVICE", "LINK", "RX PPS",
	       "RX BPS", "TX PPS", "TX BPS", "MISSED/S", "ERRORS/S");
	for (unsigned i = 0; i < r->n_ports; i++) {
		const struct port_rate *p = &r->port[i];
		const struct npr_dump_port *dp = port_by_id(x, p->port_id);
		printf("%-5u %-16.16s %-4s %9s %9s %9s %9s %9s %9s\n", p->port_id,
		       dp != NULL ? dp->name : "?", p->link_up ? "up" : "down",
		       human(p->rx_pps, a, sizeof(a)), human(p->rx_bps, b, sizeof(b)),
		       human(p->tx_pps, c, sizeof(c)), human(p->tx_bps, d, sizeof(d)),
		       human(p->missed_ps, e, sizeof(e)), human(p->errors_ps, f, sizeof(f)));
	}
	printf("%-27s %9s %9s %9s %9s\n", "total", human(r->rx_pps, a, sizeof(a)),
	       human(r->rx_bps, b, sizeof(b)), human(r->tx_pps, c, sizeof(c)),
	       human(r->tx_bps, d, sizeof(d)));
	/* BUSY%: of the loop's turns, those that received; ASLEEP%: of the time, napping */
	printf("\n%-7s %-6s %9s %9s %6s %8s\n", "WORKER", "LCORE", "RX PPS", "TX PPS", "BUSY%",
	       "ASLEEP%");
	for (unsigned w = 0; w < r->n_workers; w++) {
		const struct worker_rate *k = &r->worker[w];
		printf("%-7u %-6" PRIu32 " %9s %9s %6.1f %8.1f\n", w, k->lcore_id,
		       human(k->rx_pps, a, sizeof(a)), human(k->tx_pps, b, sizeof(b)), k->busy_pct,
		       k->asleep_pct);
	}
	putchar('\n');
	print_reasons("TOP DROPS", r->drop, r->n_drop, false);
	print_reasons("TOP EXCEPTIONS", r->exc, r->n_exc, true);
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

/* SECONDS: a decimal number, WATCH_MIN_S..WATCH_MAX_S. */
static int
parse_interval(struct ctl *x, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < WATCH_MIN_S ||
	    v > WATCH_MAX_S)
		return USAGE(x, "bad interval '%s' (seconds, %.1f to %.0f)", s, WATCH_MIN_S,
			     WATCH_MAX_S);
	*out = v;
	return 0;
}

/* Sleep s seconds, or until a signal asks us to stop. */
static void
nap(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
cmd_watch(struct ctl *x, int argc, char **argv)
{
	double every = 1.0;
	if (argc > 1)
		return USAGE(x, "usage: show stats --watch [SECONDS] | top [SECONDS]");
	if (argc == 1) {
		int rc = parse_interval(x, argv[0], &every);
		if (rc != 0)
			return rc;
	}
	if (x->json_out)
		return USAGE(x, "the live view prints tables: no --json (show stats --json gives "
				"one snapshot)");
	static struct npr_stats snap[2];
	int rc = ctl_stats(x, &snap[0]);
	if (rc == 0)
		rc = need_ports(x);
	if (rc != 0)
		return rc;
	uint64_t instance = npr_client_instance(x->c);

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	bool tty = isatty(STDOUT_FILENO);
	struct stats_rates r;
	stats_rates(NULL, &snap[0], &r);
	screen(x, &snap[0], &r, every, tty);
	for (unsigned cur = 1;; cur ^= 1) {
		nap(every);
		if (stop_signal)
			break;
		rc = ctl_stats(x, &snap[cur]);
		if (rc == EXIT_NODP || (rc == 0 && npr_client_instance(x->c) != instance)) {
			fprintf(stderr, "%s: the data plane went away: stopped watching\n", PROG);
			return EXIT_NODP;
		}
		if (rc != 0)
			return rc;
		stats_rates(&snap[cur ^ 1], &snap[cur], &r);
		screen(x, &snap[cur], &r, every, tty);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return 0;
}
