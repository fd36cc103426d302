/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control metrics`: the HTTP side of the exporter (metrics.h). libmicrohttpd parses
 * the requests; it runs in our one thread (external polling through its epoll descriptor),
 * so a scrape reads the data plane in the request's callback with the ring client's plain
 * synchronous calls, and a signalfd sits in the same poll.
 *
 *   GET or HEAD /metrics   the exposition (text format 0.0.4), read afresh from the data
 *                          plane each time; nprouter_up 0 when it cannot be read
 *   other paths            404; other methods 405 (Allow: GET, HEAD); a request with a body
 *                          400
 *
 * Bounds: 64 connections (8 from one address), 16 KiB of request line and headers per
 * connection (libmicrohttpd answers a larger request itself), 10 s idle per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "npr/shm.h"
#include "log.h"
#include "listen.h"
#include "metrics.h"

#define PROG "nprouter-control"
#define DEFAULT_LISTEN "127.0.0.1:9469"
#define DEFAULT_TIMEOUT_MS 2000
#define MAX_TIMEOUT_MS 60000
#define CONN_LIMIT 64u
#define CONN_PER_IP 8u
#define CONN_MEMORY (16u * 1024)
#define CONN_IDLE_S 10u
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct exporter {
	struct metrics_scrape *scrape;
	uint64_t scrapes;
};

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
mlog(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_vlog(PROG " metrics", fmt, ap);
	va_end(ap);
}

/* libmicrohttpd's own complaints, in our log line. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	mlog("http: %s", line);
}

/* ---- requests ---- */

static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned status, const char *text, const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
answer_metrics(struct exporter *e, struct MHD_Connection *conn)
{
	struct mtext t = { 0 };
	e->scrapes++;
	if (metrics_scrape(e->scrape, &t) < 0) {
		mtext_free(&t);
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(t.len, t.s, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		mtext_free(&t);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* Every request is answered on the first call, as soon as its headers are in: nothing here
 * takes a body, so none is ever read (libmicrohttpd closes such a connection after the
 * answer). */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct exporter *e = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, "/metrics") != 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND,
				   "not found: nprouter's metrics are at /metrics\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method not allowed: GET /metrics\n", "GET, HEAD");
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if ((cl != NULL && strcmp(cl, "0") != 0) || te != NULL)
		return answer_text(conn, MHD_HTTP_BAD_REQUEST, "a GET /metrics has no body\n",
				   NULL);
	return answer_metrics(e, conn);
}

/* ---- options ---- */

static void
metrics_usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--shm NAME] [--timeout MS] metrics [--listen ADDR:PORT]\n"
		"  serve the data plane's counters for Prometheus at http://ADDR:PORT/metrics\n"
		"  (default " DEFAULT_LISTEN ", [ADDR6]:PORT for IPv6); each scrape reads the\n"
		"  data plane, waiting --timeout MS for each answer (default %d here)\n",
		DEFAULT_TIMEOUT_MS);
}

/* ---- the loop ---- */

int
metrics_main(const char *shm, int timeout_ms, int argc, char **argv)
{
	const char *listen_str = DEFAULT_LISTEN;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			metrics_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_str = argv[++i];
			continue;
		}
		fprintf(stderr, PROG ": metrics: bad option '%s'\n", argv[i]);
		metrics_usage(stderr);
		return 2;
	}
	if (timeout_ms < 0 || timeout_ms > MAX_TIMEOUT_MS)
		timeout_ms = timeout_ms == -2 ? DEFAULT_TIMEOUT_MS : MAX_TIMEOUT_MS;
	setvbuf(stderr, NULL, _IOLBF, 0);

	int lfd = ctl_listen_tcp("metrics", listen_str, 16);
	if (lfd < 0)
		return 1;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct exporter e = { .scrape = metrics_scrape_new(shm, timeout_ms) };
	if (sfd < 0 || e.scrape == NULL) {
		fprintf(stderr, PROG ": metrics: %s\n",
			sfd < 0 ? strerror(errno) : "out of memory");
		close(lfd);
		return 1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &e,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, lfd,
		MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		CONN_PER_IP, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_CONNECTION_TIMEOUT, CONN_IDLE_S, MHD_OPTION_END);
	const union MHD_DaemonInfo *di =
		d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (di == NULL) {
		fprintf(stderr, PROG ": metrics: cannot start the HTTP server on %s\n", listen_str);
		if (d != NULL)
			MHD_stop_daemon(d);
		close(lfd);
		close(sfd);
		metrics_scrape_free(e.scrape);
		return 1;
	}
	mlog("serving http://%s/metrics for data plane %s (answers within %d ms)", listen_str,
	     shm != NULL ? shm : NPR_SHM_DEFAULT_NAME, timeout_ms);

	for (;;) {
		MHD_UNSIGNED_LONG_LONG to;
		int timeout = -1;
		if (MHD_get_timeout(d, &to) == MHD_YES)
			timeout = to > 1000 ? 1000 : (int)to;
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN },
					{ .fd = di->epoll_fd, .events = POLLIN } };
		int n = poll(pf, 2, timeout);
		if (n < 0 && errno != EINTR) {
			mlog("poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && (pf[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				mlog("signal %u: exiting after %" PRIu64 " scrapes", si.ssi_signo,
				     e.scrapes);
				break;
			}
		}
		MHD_run(d);
	}
	MHD_stop_daemon(d); /* closes the listening socket it was given */
	close(sfd);
	metrics_scrape_free(e.scrape);
	return 0;
}
