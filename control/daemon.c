/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control run FILE`: keep the data plane programmed from a YANG configuration file.
 *
 *   - applies FILE at start (waiting for the data plane if it is not there yet);
 *   - re-applies it when it changes (inotify on its directory, so that editors that write a
 *     new file and rename it are seen too; events are debounced) or on SIGHUP;
 *   - keeps the last good configuration when an edit is invalid (or rejected by the data
 *     plane), logging why, and keeps running;
 *   - watches the data plane's instance id (in the segment header, read without taking the
 *     session lock, so that `nprouter-control show ...` is never blocked by us): a new id
 *     means the data plane restarted, and the last good configuration is re-sent whole
 *     (resync);
 *   - exits 0 on SIGTERM or SIGINT.
 *
 * The session lock is taken only while applying, so other control commands work meanwhile.
 * Everything runs in one thread: a poll loop over the inotify and signal descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "npr/shm.h"
#include "npr/util.h"
#include "apply.h"
#include "client.h"

#define PROG "nprouter-control"
#define DEBOUNCE_MS 150
#define RETRY_MS 1000

struct daemon {
	const char *shm;
	const char *path;
	int timeout_ms;
	int poll_ms;
	struct config_yang *y;
	struct config good; /* the configuration last applied */
	struct config cand; /* loaded, valid, not applied yet */
	bool have_good, have_cand;
	uint64_t applied_inst;	/* instance good was applied to; 0: never applied */
	uint64_t rejected_inst; /* instance that rejected good: no automatic retry there */
	bool dp_missing_logged;
};

static void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
dlog(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ctl_vlog(PROG " run", fmt, ap);
	va_end(ap);
}

static bool
load(struct daemon *d)
{
	struct config cfg;
	struct config_msgs errs = { 0 }, warns = { 0 };
	int rc = config_load(d->y, d->path, d->path, &cfg, &errs, &warns);
	for (size_t i = 0; i < warns.n; i++)
		dlog("warning: %s", warns.line[i]);
	if (rc < 0) {
		for (size_t i = 0; i < errs.n; i++)
			dlog("%s", errs.line[i]);
		if (errs.n_total > errs.n)
			dlog("... and %zu more errors", errs.n_total - errs.n);
		dlog("%s is invalid: %s", d->path,
		     d->have_good ? "keeping the last good configuration" : "nothing to apply yet");
		config_free(&cfg);
	} else {
		dlog("loaded %s: %zu interfaces, %zu + %zu routes (parse+validate %.3f s)", d->path,
		     cfg.n_iface, cfg.n4, cfg.n6, cfg.parse_s + cfg.build_s);
		if (d->have_cand)
			config_free(&d->cand);
		d->cand = cfg;
		d->have_cand = true;
	}
	config_msgs_free(&errs);
	config_msgs_free(&warns);
	return rc == 0;
}

/* Apply the candidate configuration if there is one, else the last good one. Returns 0 done,
 * -EAGAIN to retry later (no data plane, session busy), -EINVAL rejected (a rejected
 * candidate is dropped: the data plane keeps the last good configuration). */
static int
apply(struct daemon *d, bool resync)
{
	const struct config *cfg = d->have_cand ? &d->cand : &d->good;
	char err[512];
	struct npr_client *c =
		npr_client_open(d->shm, NPR_ORIGIN_CONFIG, d->timeout_ms, err, sizeof(err));
	if (c == NULL) {
		if (!d->dp_missing_logged)
			dlog("cannot reach the data plane: %s (will retry)", err);
		d->dp_missing_logged = true;
		return -EAGAIN;
	}
	d->dp_missing_logged = false;
	uint64_t inst = npr_client_instance(c);
	if (d->applied_inst != 0 && inst != d->applied_inst) {
		dlog("data plane restarted (instance %016" PRIx64 " -> %016" PRIx64 "): resync",
		     d->applied_inst, inst);
		resync = true;
	}
	struct apply_times t = { .parse_s = cfg->parse_s, .build_s = cfg->build_s };
	struct running rs;
	struct plan p;
	struct config_msgs errs = { 0 };
	int ret = 0;
	double t0 = (double)npr_now_ms() / 1000;
	int rc = running_dump(c, &rs, d->timeout_ms, err, sizeof(err));
	if (rc < 0) {
		dlog("%s", err);
		running_free(&rs);
		npr_client_close(c);
		return rc == -EPROTO ? -EINVAL : -EAGAIN;
	}
	double t1 = (double)npr_now_ms() / 1000;
	t.dump_s = t1 - t0;
	memset(&p, 0, sizeof(p));
	if (config_check_dataplane(cfg, d->path, rs.port, rs.n_port, &rs.info, &errs) < 0 ||
	    plan_build(cfg, &rs, &(struct plan_opts){ .resync = resync }, &p, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			dlog("%s", errs.line[i]);
		ret = -EINVAL;
		goto out;
	}
	t.diff_s = (double)npr_now_ms() / 1000 - t1;
	rc = plan_push(c, &p, d->timeout_ms, &t, stderr, d->path);
	if (rc == -ECANCELED) {
		dlog("%s rejected by the data plane", d->path);
		ret = -EINVAL;
		goto out;
	}
	if (rc < 0) {
		dlog("push: %s (will retry)", npr_strstatus(rc));
		ret = -EAGAIN;
		goto out;
	}
	t.total_s = t.dump_s + t.diff_s + t.push_s + t.commit_s;
	d->applied_inst = inst;
	if (d->have_cand) {
		if (d->have_good)
			config_free(&d->good);
		d->good = d->cand;
		d->have_good = true;
		d->have_cand = false;
	}
	if (p.n_changes == 0 && p.n_resent == 0)
		dlog("%s: no change", d->path);
	else
		dlog("%s: %s %zu changes in %zu messages (dump %.3f s, diff %.3f s, push %.3f s, "
		     "commit %.3f s)",
		     d->path, resync ? "resynced," : "applied", p.n_changes, p.n_msgs, t.dump_s,
		     t.diff_s, t.push_s, t.commit_s);
out:
	if (ret == -EINVAL) {
		if (!d->have_cand)
			d->rejected_inst = inst;
		if (d->have_cand) {
			config_free(&d->cand);
			d->have_cand = false;
		}
		dlog("%s not applied: %s", d->path,
		     d->have_good ? "the data plane keeps the last good configuration"
				  : "no configuration applied yet");
	}
	config_msgs_free(&errs);
	plan_free(&p);
	running_free(&rs);
	npr_client_close(c);
	return ret;
}

static void
daemon_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " run [--yang-path DIRS] [--poll MS] FILE\n");
}

/*
 * One run daemon per data plane: two would apply their files over each other's without end.
 * An flock on /dev/shm/NAME.run-lock, next to the data plane's segment, held for the daemon's
 * life (the kernel drops it when the process goes, however it goes); the file holds the
 * holder's pid, for the message. Returns the descriptor (kept open), or -1 having said why.
 */
static int
daemon_lock(const char *shm)
{
	char path[300], pid[32] = "";
	snprintf(path, sizeof(path), "/dev/shm/%s.run-lock", shm);
	/* /dev/shm is everyone's: no symbolic link followed, a regular file only, and its
	 * content (the pid) written only if it is ours; another user's (root's, for a daemon
	 * in the segment's group) is locked read-only */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0664);
	if (fd < 0 && errno == EACCES) /* (O_NONBLOCK: a FIFO planted there must not hang us) */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: run: cannot use %s as a lock: %s\n", PROG, path,
			fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			fprintf(stderr,
				"%s: run: another 'nprouter-control run' (pid %s) already keeps "
				"the "
				"data plane '%s' programmed (lock %s)\n",
				PROG, pid[0] != '\0' ? pid : "?", shm, path);
		else
			fprintf(stderr, "%s: run: cannot lock %s: %s\n", PROG, path, strerror(e));
		close(fd);
		return -1;
	}
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (st.st_uid == geteuid() &&
	    (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len))
		fprintf(stderr, "%s: run: cannot write %s: %s (the lock holds)\n", PROG, path,
			strerror(errno));
	return fd;
}

int
daemon_main(const char *shm, int timeout_ms, int argc, char **argv)
{
	struct daemon d = { .shm = shm, .timeout_ms = timeout_ms, .poll_ms = 500 };
	const char *yang_path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--yang-path") == 0 && i + 1 < argc) {
			yang_path = argv[++i];
		} else if (strcmp(argv[i], "--poll") == 0 && i + 1 < argc) {
			d.poll_ms = atoi(argv[++i]);
			if (d.poll_ms < 10)
				d.poll_ms = 10;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: run: unknown option '%s'\n", PROG, argv[i]);
			daemon_usage(stderr);
			return 2;
		} else if (d.path == NULL) {
			d.path = argv[i];
		} else {
			daemon_usage(stderr);
			return 2;
		}
	}
	if (d.path == NULL) {
		daemon_usage(stderr);
		return 2;
	}
	/* Short waits for the session lock: a busy session is retried at the next tick. */
	if (d.timeout_ms < 0 || d.timeout_ms > 60000)
		d.timeout_ms = 60000;
	setvbuf(stderr, NULL, _IOLBF, 0);

	/* (the name was checked by main, shm.h's rule) */
	if (daemon_lock(npr_shm_name(shm != NULL ? shm : NPR_SHM_DEFAULT_NAME)) < 0)
		return 1;

	char err[512];
	d.y = config_yang_open(yang_path, err, sizeof(err));
	if (d.y == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 2;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (sfd < 0 || ifd < 0) {
		fprintf(stderr, "%s: run: %s\n", PROG, strerror(errno));
		return 2;
	}
	char dir[PATH_MAX], base[NAME_MAX + 1];
	const char *slash = strrchr(d.path, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		snprintf(base, sizeof(base), "%s", d.path);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - d.path), d.path);
		if (dir[0] == '\0')
			snprintf(dir, sizeof(dir), "/");
		snprintf(base, sizeof(base), "%s", slash + 1);
	}
	if (inotify_add_watch(ifd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB) < 0) {
		fprintf(stderr, "%s: run: cannot watch %s: %s\n", PROG, dir, strerror(errno));
		return 2;
	}
	dlog("watching %s (data plane %s)", d.path, shm != NULL ? shm : NPR_SHM_DEFAULT_NAME);

	load(&d);
	bool pending = d.have_cand; /* an apply to do */
	bool want_resync = false;
	uint64_t reload_at = 0; /* debounced reload time, 0: none */
	uint64_t retry_at = 0;
	int code = 0;
	for (;;) {
		uint64_t now = npr_now_ms();
		if (reload_at != 0 && now >= reload_at) {
			reload_at = 0;
			if (load(&d))
				pending = true;
		}
		/* a data plane restart: resync the last good configuration */
		uint64_t inst = npr_client_dp_instance(d.shm);
		if (inst != 0 && d.applied_inst != 0 && inst != d.applied_inst && d.have_good &&
		    inst != d.rejected_inst && !pending) {
			pending = true;
			want_resync = true;
			retry_at = 0;
		}
		if (pending && !d.have_cand && !d.have_good)
			pending = false;
		if (pending && now >= retry_at) {
			if (inst == 0) {
				if (!d.dp_missing_logged)
					dlog("waiting for the data plane");
				d.dp_missing_logged = true;
				retry_at = now + RETRY_MS;
			} else {
				int rc = apply(&d, want_resync);
				if (rc == -EAGAIN) {
					retry_at = npr_now_ms() + RETRY_MS;
				} else {
					pending = false;
					want_resync = false;
				}
			}
		}
		int timeout = d.poll_ms;
		if (reload_at != 0)
			timeout = (int)(reload_at > now ? reload_at - now : 0);
		struct pollfd pf[2] = { { .fd = sfd, .events = POLLIN },
					{ .fd = ifd, .events = POLLIN } };
		int n = poll(pf, 2, timeout);
		if (n < 0 && errno != EINTR) {
			dlog("poll: %s", strerror(errno));
			code = 1;
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			bool stop = false;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					dlog("SIGHUP: reloading %s", d.path);
					reload_at = npr_now_ms();
				} else {
					dlog("signal %u: exiting", si.ssi_signo);
					stop = true;
				}
			}
			if (stop)
				break;
		}
		if (pf[1].revents & POLLIN) {
			char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
			ssize_t len;
			while ((len = read(ifd, buf, sizeof(buf))) > 0) {
				for (char *q = buf; q < buf + len;) {
					struct inotify_event *ev = (struct inotify_event *)q;
					if (ev->len > 0 && strcmp(ev->name, base) == 0)
						reload_at = npr_now_ms() + DEBOUNCE_MS;
					q += sizeof(*ev) + ev->len;
				}
			}
		}
	}
	close(sfd);
	close(ifd);
	if (d.have_good)
		config_free(&d.good);
	if (d.have_cand)
		config_free(&d.cand);
	config_yang_close(d.y);
	return code;
}
