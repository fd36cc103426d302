/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control fpm`: the FPM bridge (fpm_bridge.h). One thread, one poll loop over:
 *
 *   the listening socket   zebra connects to us (we never send it anything); a new
 *                          connection replaces the current one
 *   the zebra connection   non-blocking reads into a buffer, fed to the decoder (fpm.h),
 *                          whose events go to the mirror (fpm_state.h); when the socket has
 *                          nothing more, the mirror's gathered route messages are sent
 *   a signalfd             SIGTERM / SIGINT: exit 0, routes left in place; SIGUSR1: counters
 *   timers                 replay settled (--settle quiet, at most 30 s after connect):
 *                          sweep; hold (--hold after zebra left): withdraw zebra's routes;
 *                          the data plane's liveness (every second) and reconnection
 *
 * The data plane: one session of origin zebra, held for the bridge's life. Messages are
 * pipelined (npr_client_send) and kept until their reply (replies come in order): a refused
 * one goes back to the mirror, which sends what it should be instead. SYNC_BEGIN / SYNC_END
 * and dumps are calls. A data plane restart (a new instance id in the segment header, or
 * the session failing) closes the session; the bridge opens a new one (retrying with a
 * growing delay), dumps what our origin holds there, and sends its whole mirror inside
 * SYNC_BEGIN / SYNC_END. Never a batch: a batch would make every other session wait.
 *
 * Interfaces: zebra names them by Linux ifindex; the netdev of that index (in our network
 * namespace) is the data plane's host port, named like the nprouter interface, whose id
 * comes from a dump of the interfaces (refreshed on a miss, at most once a second).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "npr/proto.h"
#include "npr/shm.h"
#include "npr/util.h"
#include "client.h"
#include "dump.h"
#include "fpm.h"
#include "fpm_bridge.h"
#include "fpm_state.h"
#include "grow.h"
#include "listen.h"

#define PROG "nprouter-control"
#define READ_BUF (1u << 20)	/* one read */
#define READ_BUDGET (16u << 20) /* bytes read in a turn before the timers */
#define SETTLE_CAP_MS 30000u	/* a replay is swept at the latest this long after connect */
#define DP_CHECK_MS 1000u	/* data plane liveness */
#define DP_RETRY_MIN_MS 500u
#define DP_RETRY_MAX_MS 5000u
#define DP_OPEN_TIMEOUT_MS 500
#define IFACE_REFRESH_MS 1000u
#define IFACE_POLL_MS 2000u /* nprouter's interfaces looked at for changes */

struct sent {
	uint32_t seq;
	struct npr_msg_hdr *m;
};

struct refusal {
	struct npr_msg_hdr *m;
	struct npr_reply rep;
};

struct ifcache {
	uint32_t ifindex;
	int ifid; /* -1: none */
	uint64_t at_ms;
	char name[IF_NAMESIZE]; /* the netdev's name when last seen ("": never) */
};

struct bridge {
	/* options */
	const char *shm;
	int timeout_ms;
	const char *listen_str;
	unsigned hold_s, settle_ms, stats_s;
	uint32_t table;

	/* the data plane */
	struct npr_client *c; /* NULL: no session */
	uint64_t instance;
	uint64_t retry_at, next_check;
	unsigned retry_ms;
	bool attached_once;
	bool down_logged;
	struct sent *q; /* sent, not answered: a ring */
	size_t q_head, q_n, q_cap;
	struct refusal *rej;
	size_t n_rej, cap_rej;
	bool sync_end_seen;
	int sync_end_status;
	char sync_end_msg[sizeof(((struct npr_reply *)0)->msg)];

	/* interfaces */
	struct npr_dump_iface *ifaces;
	size_t n_ifaces;
	uint64_t ifaces_at;
	bool ifaces_changed;
	struct ifcache *ifc;
	size_t n_ifc, cap_ifc;

	/* zebra */
	int lfd, cfd;
	char peer[80];
	struct fpm_reader *rd;
	uint8_t *buf;
	uint64_t connected_at, last_rx;
	bool hold_armed;
	uint64_t hold_at;
	uint64_t connects;

	struct fpm_state *st;
	struct fpm_once once;
	uint64_t decode_errors[3]; /* frame, route, next hop */
	uint64_t dp_sessions;
	uint64_t replies_lost;
};

/* ---------------------------------------------------------------------------------------- */
/* Logging */

static void blog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
blog(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_vlog(PROG " fpm", fmt, ap);
	va_end(ap);
}

/* Once per key (then every 10,000th time, with the count). */
static void blog_once(struct bridge *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
blog_once(struct bridge *b, const char *key, const char *fmt, ...)
{
	uint64_t n;
	if (!fpm_once_hit(&b->once, key, &n))
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 1)
		blog("%s (%" PRIu64 " times)", line, n);
	else
		blog("%s", line);
}

/* ---------------------------------------------------------------------------------------- */
/* The data plane session */

static void
queue_clear(struct bridge *b)
{
	for (size_t i = 0; i < b->q_n; i++)
		free(b->q[(b->q_head + i) % b->q_cap].m);
	b->q_head = b->q_n = 0;
	for (size_t i = 0; i < b->n_rej; i++)
		free(b->rej[i].m);
	b->n_rej = 0;
}

/* The session is unusable (the data plane died, restarted or broke the protocol). */
static void
dp_lost(struct bridge *b, const char *why)
{
	if (b->c == NULL)
		return;
	blog("data plane session lost (%s): reconnecting; zebra's routes are resent when it is "
	     "back",
	     why);
	npr_client_close(b->c);
	b->c = NULL;
	queue_clear(b);
	b->retry_ms = DP_RETRY_MIN_MS;
	b->retry_at = npr_now_ms();
	b->down_logged = false;
}

static int
queue_push(struct bridge *b, uint32_t seq, struct npr_msg_hdr *m)
{
	if (b->q_n == b->q_cap) {
		size_t ncap = b->q_cap == 0 ? 256 : b->q_cap * 2;
		struct sent *q = malloc(ncap * sizeof(*q));
		if (q == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < b->q_n; i++)
			q[i] = b->q[(b->q_head + i) % b->q_cap];
		free(b->q);
		b->q = q;
		b->q_cap = ncap;
		b->q_head = 0;
	}
	b->q[(b->q_head + b->q_n) % b->q_cap] = (struct sent){ seq, m };
	b->q_n++;
	return 0;
}

/* A reply to a pipelined message: requests are answered in order, so it is the oldest one
 * we keep (older ones without a reply were lost with a dead session's ring). */
static void
reply_handler(void *ctx, const struct npr_msg_hdr *rec)
{
	struct bridge *b = ctx;
	if (rec->type != NPR_MSG_REPLY)
		return;
	const struct npr_reply *rep = (const struct npr_reply *)rec;
	while (b->q_n > 0) {
		struct sent s = b->q[b->q_head];
		b->q_head = (b->q_head + 1) % b->q_cap;
		b->q_n--;
		if (s.seq != rec->seq) {
			b->replies_lost++;
			free(s.m);
			continue;
		}
		if (rep->status == 0 ||
		    grow_array(&b->rej, &b->cap_rej, b->n_rej + 1, sizeof(*b->rej)) < 0) {
			free(s.m);
			return;
		}
		b->rej[b->n_rej].m = s.m;
		b->rej[b->n_rej].rep = *rep;
		b->n_rej++;
		return;
	}
}

static void
client_failed(struct bridge *b, const char *what, int rc)
{
	char why[160];
	snprintf(why, sizeof(why), "%s: %s", what, npr_strstatus(rc));
	dp_lost(b, why);
}

/* The state's output: pipelined, except SYNC_BEGIN / SYNC_END, which are calls (their
 * answers say what the sweep removed). Dropped while there is no session: the whole mirror
 * is sent again when a data plane is back. */
static void
sink_msg(void *ctx, const struct npr_msg_hdr *m)
{
	struct bridge *b = ctx;
	if (b->c == NULL)
		return;
	if (m->type == NPR_MSG_SYNC_BEGIN || m->type == NPR_MSG_SYNC_END) {
		struct npr_msg_hdr h = *m;
		struct npr_reply rep;
		int rc = npr_client_call(b->c, &h, &rep, NULL, NULL, b->timeout_ms);
		if (rc < 0) {
			client_failed(b, m->type == NPR_MSG_SYNC_END ? "SYNC_END" : "SYNC_BEGIN",
				      rc);
			return;
		}
		if (rep.status != 0)
			blog("the data plane refused %s: %s%s%s",
			     m->type == NPR_MSG_SYNC_END ? "SYNC_END" : "SYNC_BEGIN",
			     npr_strstatus(rep.status), rep.msg[0] != '\0' ? ": " : "", rep.msg);
		if (m->type == NPR_MSG_SYNC_END) {
			b->sync_end_seen = true;
			b->sync_end_status = rep.status;
			snprintf(b->sync_end_msg, sizeof(b->sync_end_msg), "%s", rep.msg);
		}
		return;
	}
	struct npr_msg_hdr *copy = malloc(m->len);
	if (copy == NULL) {
		blog_once(b, "oom send", "out of memory: a message for the data plane is lost");
		return;
	}
	memcpy(copy, m, m->len);
	uint32_t seq;
	int rc = npr_client_send(b->c, copy, &seq);
	if (rc < 0) {
		free(copy);
		client_failed(b, "send", rc);
		return;
	}
	if (queue_push(b, seq, copy) < 0) {
		free(copy);
		blog_once(b, "oom queue", "out of memory: a reply will not be checked");
	}
}

static void
sink_log(void *ctx, const char *line)
{
	(void)ctx;
	blog("%s", line);
}

/* ---- interfaces ---- */

/* nprouter's interfaces, all origins' (changes noted in ifaces_changed). */
static void
iface_refresh(struct bridge *b)
{
	struct dump_vec v;
	struct dump_status ds;
	b->ifaces_at = npr_now_ms();
	if (b->c == NULL)
		return;
	int rc =
		dump_collect(b->c, NPR_DUMP_IFACES, NPR_DUMP_F_ALL_ORIGINS, &v, b->timeout_ms, &ds);
	if (rc < 0) {
		dump_vec_free(&v);
		client_failed(b, "interface dump", rc);
		return;
	}
	/* what matters is name -> id */
	bool same = v.n == b->n_ifaces;
	const struct npr_dump_iface *n = v.v;
	for (size_t i = 0; same && i < v.n; i++)
		same = n[i].ifid == b->ifaces[i].ifid &&
		       strncmp(n[i].name, b->ifaces[i].name, NPR_NAME_LEN) == 0;
	if (!same)
		b->ifaces_changed = true;
	free(b->ifaces);
	b->ifaces = v.v;
	b->n_ifaces = v.n;
	v.v = NULL;
	dump_vec_free(&v);
}

static int
iface_by_name(const struct bridge *b, const char *name)
{
	for (size_t i = 0; i < b->n_ifaces; i++)
		if (strncmp(b->ifaces[i].name, name, NPR_NAME_LEN) == 0)
			return b->ifaces[i].ifid;
	return -1;
}

/* zebra's ifindex → nprouter's interface id: the netdev of that index is the interface's
 * host port, named like it. A netdev that has gone (a data plane restart recreates its TAPs
 * with new indexes) keeps the name it had, until zebra sends its new index. */
static int
sink_ifid(void *ctx, uint32_t ifindex)
{
	struct bridge *b = ctx;
	uint64_t now = npr_now_ms();
	struct ifcache *e = NULL;
	for (size_t i = 0; i < b->n_ifc; i++)
		if (b->ifc[i].ifindex == ifindex) {
			e = &b->ifc[i];
			break;
		}
	if (e != NULL && (e->ifid >= 0 || now - e->at_ms < IFACE_REFRESH_MS))
		return e->ifid;
	if (e == NULL) {
		if (grow_array(&b->ifc, &b->cap_ifc, b->n_ifc + 1, sizeof(*b->ifc)) < 0)
			return -1;
		e = &b->ifc[b->n_ifc++];
		memset(e, 0, sizeof(*e));
		e->ifindex = ifindex;
	}
	char name[IF_NAMESIZE] = "";
	if (if_indextoname(ifindex, name) != NULL)
		memcpy(e->name, name, sizeof(e->name));
	int id = -1;
	if (e->name[0] != '\0') {
		id = iface_by_name(b, e->name);
		if (id < 0 && now - b->ifaces_at >= IFACE_REFRESH_MS) {
			iface_refresh(b);
			id = iface_by_name(b, e->name);
		}
	}
	e->ifid = id;
	e->at_ms = now;
	if (id < 0) {
		char key[FPM_ONCE_KEYLEN];
		snprintf(key, sizeof(key), "ifindex %u", ifindex);
		if (e->name[0] == '\0')
			blog_once(b, key,
				  "ifindex %u: no such netdev in this network namespace: routes "
				  "over it are not installed",
				  ifindex);
		else
			blog_once(b, key,
				  "ifindex %u (%s): nprouter has no interface of that name: routes "
				  "over it are not installed",
				  ifindex, e->name);
	}
	return id;
}

/* Look again at every interface lookup: nprouter's interfaces changed. */
static void
ifcache_forget(struct bridge *b)
{
	for (size_t i = 0; i < b->n_ifc; i++) {
		b->ifc[i].ifid = -1;
		b->ifc[i].at_ms = 0;
	}
}

/* ---- the session's life ---- */

struct ids {
	uint32_t *v;
	size_t n, cap;
};

static void
collect_nh(void *ctx, const void *entry)
{
	struct ids *ids = ctx;
	const struct npr_dump_nh *nh = entry;
	if (grow_array(&ids->v, &ids->cap, ids->n + 1, sizeof(uint32_t)) == 0)
		ids->v[ids->n++] = nh->nh_id;
}

static void
collect_group(void *ctx, const void *entry)
{
	struct ids *ids = ctx;
	const struct npr_dump_group *g = entry;
	if (grow_array(&ids->v, &ids->cap, ids->n + 1, sizeof(uint32_t)) == 0)
		ids->v[ids->n++] = g->group_id;
}

static void
collect_info(void *ctx, const void *entry)
{
	memcpy(ctx, entry, sizeof(struct npr_info));
}

static void handle_refusals(struct bridge *b);

/* After every call into the state that may send: the refusals that came back, the answer
 * to a SYNC_END. */
static void
after_state(struct bridge *b)
{
	handle_refusals(b);
	if (b->sync_end_seen) {
		b->sync_end_seen = false;
		fpm_state_sync_done(b->st, b->sync_end_status);
	}
}

static void
handle_refusals(struct bridge *b)
{
	while (b->n_rej > 0) {
		struct refusal r = b->rej[0];
		memmove(b->rej, b->rej + 1, (b->n_rej - 1) * sizeof(*b->rej));
		b->n_rej--;
		if (b->c != NULL)
			fpm_state_rejected(b->st, r.m, &r.rep);
		free(r.m);
	}
}

/* Take in what replies have arrived, without waiting. */
static void
poll_replies(struct bridge *b)
{
	if (b->c == NULL)
		return;
	int rc = npr_client_flush(b->c, 0);
	if (rc < 0 && rc != -ETIMEDOUT)
		client_failed(b, "replies", rc);
	after_state(b);
}

static void
zebra_routes_count(const struct bridge *b, uint64_t *n)
{
	const struct fpm_state_stats *s = fpm_state_stats(b->st);
	*n = s->routes[0] + s->routes[1];
}

/* Open a session, learn the data plane (sizes, our origin's ids there) and give the mirror
 * to it. */
static void
dp_attach(struct bridge *b)
{
	char err[256];
	uint64_t now = npr_now_ms();
	struct npr_client *c =
		npr_client_open(b->shm, NPR_ORIGIN_ZEBRA, DP_OPEN_TIMEOUT_MS, err, sizeof(err));
	if (c == NULL) {
		if (!b->down_logged)
			blog("cannot reach the data plane: %s (retrying)", err);
		b->down_logged = true;
		b->retry_at = now + b->retry_ms;
		b->retry_ms = b->retry_ms * 2 > DP_RETRY_MAX_MS ? DP_RETRY_MAX_MS : b->retry_ms * 2;
		return;
	}
	b->c = c;
	b->instance = npr_client_instance(c);
	b->next_check = now + DP_CHECK_MS;
	b->dp_sessions++;
	npr_client_set_handler(c, reply_handler, b);

	struct npr_info info;
	struct dump_status ds;
	struct ids nhs = { 0 }, grps = { 0 };
	memset(&info, 0, sizeof(info));
	int rc = dump_each(c, NPR_DUMP_INFO, 0, collect_info, &info, b->timeout_ms, &ds);
	if (rc == 0)
		rc = dump_each(c, NPR_DUMP_NHS, 0, collect_nh, &nhs, b->timeout_ms, &ds);
	if (rc == 0)
		rc = dump_each(c, NPR_DUMP_GROUPS, 0, collect_group, &grps, b->timeout_ms, &ds);
	if (rc < 0) {
		free(nhs.v);
		free(grps.v);
		client_failed(b, "dump", rc);
		return;
	}
	ifcache_forget(b); /* another data plane: interfaces looked up again */
	iface_refresh(b);
	b->ifaces_changed = false;
	if (b->c == NULL) {
		free(nhs.v);
		free(grps.v);
		return;
	}
	uint64_t left = (uint64_t)info.route4_by_origin[NPR_ORIGIN_ZEBRA] +
			info.route6_by_origin[NPR_ORIGIN_ZEBRA];
	blog("data plane instance %016" PRIx64 " (%s): %" PRIu64
	     " routes, %zu next hops, %zu groups of zebra's there; ids up to %u / %u",
	     b->instance, b->shm != NULL ? b->shm : NPR_SHM_DEFAULT_NAME, left, nhs.n, grps.n,
	     info.nh_max, info.group_max);
	if (fpm_state_attach(b->st, info.nh_max, info.group_max, nhs.v, nhs.n, grps.v, grps.n) <
	    0) {
		blog("out of memory");
		exit(1);
	}
	free(nhs.v);
	free(grps.v);

	uint64_t mirror;
	zebra_routes_count(b, &mirror);
	bool first = !b->attached_once;
	b->attached_once = true;
	if (mirror > 0 || b->cfd >= 0) {
		double t0 = npr_now_s();
		uint64_t n = fpm_state_resync(b->st);
		after_state(b);
		if (b->c != NULL)
			blog("resync: %" PRIu64 " of zebra's %" PRIu64 " routes sent in %.3f s%s",
			     n, mirror, npr_now_s() - t0,
			     fpm_state_replay_open(b->st) ? " (zebra's replay still open)" : "");
	} else if (left > 0 || nhs.n > 0 || grps.n > 0) {
		if (!b->hold_armed) {
			b->hold_armed = true;
			b->hold_at = now + (uint64_t)b->hold_s * 1000;
		}
		blog("%s: zebra's objects there stay until zebra connects, or for %u s",
		     first ? "left by an earlier bridge" : "kept", b->hold_s);
	}
}

/* Every second: is the data plane the one we talk to? */
static void
dp_check(struct bridge *b, uint64_t now)
{
	if (b->c != NULL && now - b->ifaces_at >= IFACE_POLL_MS) {
		iface_refresh(b);
		if (b->c != NULL && b->ifaces_changed) {
			b->ifaces_changed = false;
			blog("nprouter's interfaces changed: next hops looked up again");
			ifcache_forget(b);
			fpm_state_ifaces_changed(b->st);
			fpm_state_flush(b->st);
			after_state(b);
		}
	}
	if (b->c != NULL) {
		if (now < b->next_check)
			return;
		b->next_check = now + DP_CHECK_MS;
		uint64_t inst = npr_client_dp_instance(b->shm);
		if (inst != b->instance) {
			char why[80];
			if (inst == 0)
				snprintf(why, sizeof(why), "the data plane is gone");
			else
				snprintf(why, sizeof(why),
					 "the data plane restarted: instance %016" PRIx64, inst);
			dp_lost(b, why);
		}
	}
	if (b->c == NULL && now >= b->retry_at)
		dp_attach(b);
}

/* ---------------------------------------------------------------------------------------- */
/* zebra */

static void
on_route(void *ctx, const struct fpm_route *r)
{
	fpm_state_route(((struct bridge *)ctx)->st, r);
}

static void
on_nexthop(void *ctx, const struct fpm_nexthop *nh)
{
	fpm_state_nexthop(((struct bridge *)ctx)->st, nh);
}

static void
on_frame_end(void *ctx)
{
	fpm_state_frame_end(((struct bridge *)ctx)->st);
}

static void
on_skip(void *ctx, enum fpm_skip why, const char *what)
{
	struct bridge *b = ctx;
	char key[FPM_ONCE_KEYLEN];
	snprintf(key, sizeof(key), "skip %s", fpm_skip_name(why));
	blog_once(b, key, "%s (counted, said once)", what);
}

static void
on_error(void *ctx, const char *what)
{
	struct bridge *b = ctx;
	int kind = strncmp(what, "RTM_NEWROUTE", 12) == 0 || strncmp(what, "RTM_DELROUTE", 12) == 0
			   ? 1
		   : strncmp(what, "RTM_NEWNEXTHOP", 14) == 0 ||
				   strncmp(what, "RTM_DELNEXTHOP", 14) == 0
			   ? 2
			   : 0;
	static const char *const keys[] = { "malformed frame", "malformed route",
					    "malformed next hop" };
	b->decode_errors[kind]++;
	fpm_state_frame_error(b->st);
	/* a bad frame header breaks the stream: the connection is closed (and said so) */
	bool header = strncmp(what, "FPM header", 10) == 0;
	blog_once(b, keys[kind], "%s: %s%s", keys[kind], what,
		  header ? "" : " (the frame is dropped)");
}

static const struct fpm_ops fpm_ops = {
	.route = on_route,
	.nexthop = on_nexthop,
	.frame_end = on_frame_end,
	.skip = on_skip,
	.error = on_error,
};

static void
zebra_close(struct bridge *b, const char *why)
{
	if (b->cfd < 0)
		return;
	bool replaying = fpm_state_replay_open(b->st);
	close(b->cfd);
	b->cfd = -1;
	fpm_reader_reset(b->rd);
	fpm_state_zebra_lost(b->st);
	after_state(b);
	uint64_t n;
	zebra_routes_count(b, &n);
	b->hold_armed = true;
	b->hold_at = npr_now_ms() + (uint64_t)b->hold_s * 1000;
	blog("zebra disconnected (%s)%s: keeping its %" PRIu64 " routes for %u s", why,
	     replaying ? " during its replay" : "", n, b->hold_s);
}

static void
zebra_accept(struct bridge *b)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	int fd = accept4(b->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			blog_once(b, "accept", "accept: %s", strerror(errno));
		return;
	}
	char host[64] = "?", serv[16] = "?", peer[80];
	getnameinfo((struct sockaddr *)&sa, sl, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(peer, sizeof(peer), "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", serv);
	if (b->cfd >= 0) {
		char why[120];
		snprintf(why, sizeof(why), "replaced by a new connection from %s", peer);
		zebra_close(b, why);
	}
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	b->cfd = fd;
	snprintf(b->peer, sizeof(b->peer), "%s", peer);
	b->connects++;
	fpm_reader_reset(b->rd);
	if (b->hold_armed)
		b->hold_armed = false;
	b->connected_at = b->last_rx = npr_now_ms();
	fpm_state_replay_begin(b->st);
	after_state(b);
	blog("zebra connected from %s: replay started", peer);
}

static void
zebra_read(struct bridge *b)
{
	size_t total = 0;
	while (total < READ_BUDGET) {
		ssize_t n = read(b->cfd, b->buf, READ_BUF);
		if (n > 0) {
			total += (size_t)n;
			b->last_rx = npr_now_ms();
			if (fpm_feed(b->rd, b->buf, (size_t)n, &fpm_ops, b) < 0) {
				fpm_state_flush(b->st);
				after_state(b);
				zebra_close(b, "broken stream: closed, zebra reconnects");
				return;
			}
			after_state(b);
			continue;
		}
		if (n == 0) {
			fpm_state_flush(b->st);
			after_state(b);
			zebra_close(b, "closed by zebra");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		char why[80];
		snprintf(why, sizeof(why), "read: %s", strerror(errno));
		fpm_state_flush(b->st);
		after_state(b);
		zebra_close(b, why);
		return;
	}
	/* nothing more ready: send what is gathered */
	fpm_state_flush(b->st);
	after_state(b);
}

static void
replay_settled(struct bridge *b, uint64_t now, bool capped)
{
	struct fpm_sweep sw;
	double secs = (double)(now - b->connected_at) / 1000;
	b->sync_end_msg[0] = '\0';
	fpm_state_replay_end(b->st, &sw);
	after_state(b);
	const struct fpm_state_stats *s = fpm_state_stats(b->st);
	blog("replay complete%s: %" PRIu64 " route and %" PRIu64
	     " next-hop messages in %.1f s; mirror %" PRIu64 " IPv4 + %" PRIu64
	     " IPv6 routes, %" PRIu64 " installed, %" PRIu64 " pending, %" PRIu64
	     " not installable, %" PRIu64 " connected dropped",
	     capped ? " (30 s cap)" : "", sw.routes_seen, sw.objects_seen, secs, s->routes[0],
	     s->routes[1], s->why[FPM_WHY_OK], s->why[FPM_WHY_PENDING],
	     s->why[FPM_WHY_NO_IFACE] + s->why[FPM_WHY_RFC5549] + s->why[FPM_WHY_FAMILY] +
		     s->why[FPM_WHY_GROUP] + s->why[FPM_WHY_NO_ID] + s->why[FPM_WHY_REJECTED],
	     s->why[FPM_WHY_CONNECTED]);
	blog("sweep: %" PRIu64 " routes and %" PRIu64
	     " next-hop objects zebra did not replay removed; data plane: %s",
	     sw.routes_swept, sw.objects_swept,
	     b->c == NULL		  ? "not connected (resent when it is back)"
	     : b->sync_end_msg[0] != '\0' ? b->sync_end_msg
					  : "done");
}

/* ---------------------------------------------------------------------------------------- */
/* Counters */

static void
print_stats(struct bridge *b)
{
	const struct fpm_state_stats *s = fpm_state_stats(b->st);
	const struct fpm_stats *d = &b->rd->stats;
	uint64_t skipped = 0;
	for (int i = 0; i < FPM_SKIP_REASONS; i++)
		skipped += d->skipped[i];
	blog("stats: zebra %s%s, data plane %s; stream %" PRIu64 " bytes, %" PRIu64
	     " frames, %" PRIu64 " routes, %" PRIu64 " next hops, %" PRIu64 " malformed (%" PRIu64
	     " frames dropped), %" PRIu64 " skipped",
	     b->cfd >= 0 ? "connected from " : "disconnected", b->cfd >= 0 ? b->peer : "",
	     b->c != NULL ? "up" : "down", d->bytes, d->frames, d->routes, d->nexthops, d->errors,
	     s->frames_dropped, skipped);
	blog("stats: mirror %" PRIu64 " IPv4 + %" PRIu64
	     " IPv6 routes (%.1f MB): installed %" PRIu64 ", pending %" PRIu64
	     ", no interface %" PRIu64 ", ipv4 over ipv6 %" PRIu64 ", family %" PRIu64
	     ", connected %" PRIu64 ", bad group %" PRIu64 ", no id %" PRIu64 ", refused %" PRIu64
	     "; %" PRIu64 " next-hop objects (%" PRIu64 " zebra's)",
	     s->routes[0], s->routes[1], (double)fpm_state_bytes(b->st) / 1e6, s->why[FPM_WHY_OK],
	     s->why[FPM_WHY_PENDING], s->why[FPM_WHY_NO_IFACE], s->why[FPM_WHY_RFC5549],
	     s->why[FPM_WHY_FAMILY], s->why[FPM_WHY_CONNECTED], s->why[FPM_WHY_GROUP],
	     s->why[FPM_WHY_NO_ID], s->why[FPM_WHY_REJECTED], s->objects, s->zebra_objects);
	uint64_t msgs = 0;
	for (unsigned i = 0; i <= NPR_MSG_REQ_LAST; i++)
		msgs += s->msgs[i];
	blog("stats: sent %" PRIu64 " messages: %" PRIu64 " route adds, %" PRIu64
	     " route deletes, %" PRIu64 " next-hop sets, %" PRIu64 " group sets; %" PRIu64
	     " refused, %" PRIu64 " resent; %" PRIu64 " swept, %" PRIu64 " withdrawn; %" PRIu64
	     " zebra connections, %" PRIu64 " data plane sessions",
	     msgs, s->route_adds, s->route_dels, s->msgs[NPR_MSG_NH_SET],
	     s->msgs[NPR_MSG_GROUP_SET], s->rejected, s->resent, s->swept_routes,
	     s->withdrawn_routes, b->connects, b->dp_sessions);
}

/* ---------------------------------------------------------------------------------------- */
/* Options and the loop */

static void
fpm_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--shm NAME] [--timeout MS] fpm [--listen ADDR:PORT] "
		   "[--hold SECONDS]\n"
		   "       [--settle MS] [--table N] [--stats-interval SECONDS]\n");
}

static int
parse_num(const char *s, uint64_t max, uint64_t *out)
{
	if (*s == '\0' || strlen(s) > 10)
		return -1;
	uint64_t v = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_args(struct bridge *b, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fpm_usage(stdout);
			exit(0);
		}
		if (v == NULL)
			goto bad;
		i++;
		if (strcmp(a, "--listen") == 0) {
			b->listen_str = v;
		} else if (strcmp(a, "--hold") == 0 && parse_num(v, 86400 * 365, &n) == 0) {
			b->hold_s = (unsigned)n;
		} else if (strcmp(a, "--settle") == 0 && parse_num(v, SETTLE_CAP_MS, &n) == 0) {
			b->settle_ms = (unsigned)n;
		} else if (strcmp(a, "--table") == 0 && parse_num(v, UINT32_MAX, &n) == 0 &&
			   n != 0) {
			b->table = (uint32_t)n;
		} else if (strcmp(a, "--stats-interval") == 0 && parse_num(v, 86400, &n) == 0) {
			b->stats_s = (unsigned)n;
		} else if (strcmp(a, "--shm") == 0) {
			b->shm = v;
		} else if (strcmp(a, "--timeout") == 0 && parse_num(v, INT32_MAX, &n) == 0) {
			b->timeout_ms = (int)n;
		} else {
			goto bad;
		}
		continue;
	bad:
		fprintf(stderr, PROG ": fpm: bad option '%s%s%s'\n", a, v != NULL ? " " : "",
			v != NULL ? v : "");
		fpm_usage(stderr);
		return -1;
	}
	return 0;
}

int
fpm_main(const char *shm, int timeout_ms, int argc, char **argv)
{
	struct bridge *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return 1;
	b->shm = shm;
	b->timeout_ms = timeout_ms < 0 || timeout_ms > 60000 ? 60000 : timeout_ms;
	b->listen_str = "127.0.0.1:2620";
	b->hold_s = 90;
	b->settle_ms = 1000;
	b->table = 254;
	b->cfd = -1;
	if (parse_args(b, argc, argv) < 0)
		return 2;
	setvbuf(stderr, NULL, _IOLBF, 0);

	b->lfd = ctl_listen_tcp("fpm", b->listen_str, 4);
	if (b->lfd < 0)
		return 1;
	b->rd = malloc(sizeof(*b->rd));
	b->buf = malloc(READ_BUF);
	struct fpm_sink sink = { .ctx = b, .msg = sink_msg, .ifid = sink_ifid, .log = sink_log };
	b->st = fpm_state_new(&sink, 0, 0);
	if (b->rd == NULL || b->buf == NULL || b->st == NULL) {
		fprintf(stderr, PROG ": fpm: out of memory\n");
		return 1;
	}
	fpm_reader_init(b->rd, b->table);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, PROG ": fpm: signalfd: %s\n", strerror(errno));
		return 1;
	}
	blog("listening on %s for zebra (table %u, hold %u s, settle %u ms), data plane %s",
	     b->listen_str, b->table, b->hold_s, b->settle_ms,
	     shm != NULL ? shm : NPR_SHM_DEFAULT_NAME);

	b->retry_ms = DP_RETRY_MIN_MS;
	dp_attach(b);
	uint64_t next_stats = b->stats_s > 0 ? npr_now_ms() + b->stats_s * 1000ull : 0;
	for (;;) {
		uint64_t now = npr_now_ms();
		dp_check(b, now);
		poll_replies(b);
		now = npr_now_ms();
		if (b->cfd >= 0 && fpm_state_replay_open(b->st)) {
			/* quiet: nothing read for settle_ms, and nothing waiting to be read (a
			 * long wait for the data plane is not zebra's silence) */
			int unread = 0;
			bool capped = now - b->connected_at >= SETTLE_CAP_MS;
			if (capped || (now - b->last_rx >= b->settle_ms &&
				       ioctl(b->cfd, FIONREAD, &unread) == 0 && unread == 0))
				replay_settled(b, now, capped);
		}
		if (b->hold_armed && now >= b->hold_at && b->c != NULL && b->cfd < 0) {
			b->hold_armed = false;
			uint64_t n = fpm_state_withdraw_all(b->st);
			after_state(b);
			blog("hold time over (%u s without zebra): withdrew zebra's routes "
			     "(%" PRIu64 " in the mirror)%s%s",
			     b->hold_s, n, b->sync_end_msg[0] != '\0' ? "; data plane: " : "",
			     b->sync_end_msg);
		}
		if (next_stats != 0 && now >= next_stats) {
			print_stats(b);
			next_stats = now + b->stats_s * 1000ull;
		}

		/* sleep until the next thing to do */
		uint64_t wake = now + DP_CHECK_MS;
		if (b->c == NULL && b->retry_at < wake)
			wake = b->retry_at;
		if (b->cfd >= 0 && fpm_state_replay_open(b->st)) {
			uint64_t t = b->last_rx + b->settle_ms,
				 cap = b->connected_at + SETTLE_CAP_MS;
			wake = t < wake ? t : wake;
			wake = cap < wake ? cap : wake;
		}
		if (b->hold_armed && b->hold_at < wake)
			wake = b->hold_at;
		if (next_stats != 0 && next_stats < wake)
			wake = next_stats;
		if (b->q_n > 0 && now + 5 < wake)
			wake = now + 5; /* replies owed */
		int timeout = wake > now ? (int)(wake - now) : 0;
		struct pollfd pf[3] = { { .fd = sfd, .events = POLLIN },
					{ .fd = b->lfd, .events = POLLIN },
					{ .fd = b->cfd, .events = POLLIN } };
		int n = poll(pf, b->cfd >= 0 ? 3 : 2, timeout);
		if (n < 0 && errno != EINTR) {
			blog("poll: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		/* zebra first: the counters (SIGUSR1) then include what it sent */
		if (b->cfd >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR)))
			zebra_read(b);
		if (pf[1].revents & POLLIN)
			zebra_accept(b);
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			bool stop = false;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					print_stats(b);
				else
					stop = true;
			}
			if (stop) {
				fpm_state_flush(b->st);
				after_state(b);
				if (b->c != NULL && npr_client_flush(b->c, b->timeout_ms) == 0)
					after_state(b);
				blog("signal: exiting; zebra's routes stay in the data plane "
				     "(the next bridge resyncs them when zebra connects to it)");
				break;
			}
		}
	}
	if (b->cfd >= 0)
		close(b->cfd);
	close(b->lfd);
	close(sfd);
	npr_client_close(b->c);
	queue_clear(b);
	free(b->q);
	free(b->rej);
	free(b->ifaces);
	free(b->ifc);
	fpm_state_free(b->st);
	free(b->rd);
	free(b->buf);
	free(b);
	return 0;
}
