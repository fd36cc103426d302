/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `apply` command: load, dump, diff, push (see apply.h), and the summary it prints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "json.h"
#include "npr/util.h"

#define PROG "nprouter-control"

/* ---- summary ---- */

static const char *const kind_label[PK_MAX] = { "interfaces", "addresses", "neighbors", "nexthops",
						"groups",     "routes4",   "routes6" };

/* One JSON document: the file name as given (UTF-8 passed through), times to the microsecond. */
static void
print_summary_json(FILE *f, const struct plan *p, const struct apply_times *t, const char *name,
		   bool dry_run)
{
	struct json j;
	json_init_text(&j, f, JSON_UTF8);
	json_obj_begin(&j);
	json_kv_str(&j, "file", name);
	json_kv_bool(&j, "dry_run", dry_run);
	json_kv_bool(&j, "resync", p->resync);
	json_kv_u64(&j, "changes", p->n_changes);
	json_kv_u64(&j, "resent", p->n_resent);
	json_kv_u64(&j, "messages", p->n_msgs);
	json_key(&j, "counts");
	json_obj_begin(&j);
	for (int k = 0; k < PK_MAX; k++) {
		json_key(&j, kind_label[k]);
		json_obj_begin(&j);
		json_kv_u64(&j, "added", p->count[k].added);
		json_kv_u64(&j, "changed", p->count[k].changed);
		json_kv_u64(&j, "removed", p->count[k].removed);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_key(&j, "time");
	json_obj_begin(&j);
	json_kv_fixed(&j, "parse_validate_s", t->parse_s + t->build_s, 6);
	json_kv_fixed(&j, "libyang_s", t->parse_s, 6);
	json_kv_fixed(&j, "checks_s", t->build_s, 6);
	json_kv_fixed(&j, "dump_s", t->dump_s, 6);
	json_kv_fixed(&j, "diff_s", t->diff_s, 6);
	json_kv_fixed(&j, "push_s", t->push_s, 6);
	json_kv_fixed(&j, "commit_s", t->commit_s, 6);
	json_kv_fixed(&j, "total_s", t->total_s, 6);
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

void
plan_print_summary(FILE *f, const struct plan *p, const struct apply_times *t, const char *name,
		   bool dry_run, bool json)
{
	if (json) {
		print_summary_json(f, p, t, name, dry_run);
		return;
	}
	if (p->n_changes == 0 && p->n_resent == 0) {
		fprintf(f, "%s: no change (the data plane already runs this configuration)\n",
			name);
	} else {
		fprintf(f, "%s: %s %zu change%s in %zu message%s%s\n", name,
			dry_run ? "would apply" : "applied", p->n_changes,
			p->n_changes == 1 ? "" : "s", p->n_msgs, p->n_msgs == 1 ? "" : "s",
			p->resync ? " (full resync)" : "");
		fprintf(f, "  %-12s %9s %9s %9s\n", "", "added", "changed", "removed");
		for (int k = 0; k < PK_MAX; k++)
			fprintf(f, "  %-12s %9zu %9zu %9zu\n", kind_label[k], p->count[k].added,
				p->count[k].changed, p->count[k].removed);
	}
	fprintf(f,
		"  time: parse+validate %.3f s (libyang %.3f s, checks %.3f s), dump %.3f s, "
		"diff %.3f s, push %.3f s, commit (in the FIB) %.3f s, total %.3f s\n",
		t->parse_s + t->build_s, t->parse_s, t->build_s, t->dump_s, t->diff_s, t->push_s,
		t->commit_s, t->total_s);
}

/* ---- apply FILE ---- */

static void
apply_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " apply [--dry-run] [--resync] [--yang-path DIRS] FILE\n"
		   "       " PROG " run [--yang-path DIRS] [--poll MS] FILE\n");
}

int
apply_main(const char *shm, int timeout_ms, bool json, int argc, char **argv)
{
	bool dry_run = false, resync = false;
	const char *path = NULL, *yang_path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			dry_run = true;
		} else if (strcmp(argv[i], "--resync") == 0) {
			resync = true;
		} else if (strcmp(argv[i], "--yang-path") == 0 && i + 1 < argc) {
			yang_path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: apply: unknown option '%s'\n", PROG, argv[i]);
			apply_usage(stderr);
			return 2;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			apply_usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		apply_usage(stderr);
		return 2;
	}
	double t0 = npr_now_s();
	struct apply_times t = { 0 };
	char err[512];
	struct config_yang *y = config_yang_open(yang_path, err, sizeof(err));
	if (y == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 2;
	}
	struct config cfg;
	struct config_msgs errs = { 0 }, warns = { 0 };
	int rc = config_load(y, path, path, &cfg, &errs, &warns);
	config_msgs_print(&warns, stderr, PROG ": warning: ");
	config_yang_close(y);
	if (rc < 0) {
		config_msgs_print(&errs, stderr, PROG ": ");
		config_msgs_free(&errs);
		config_msgs_free(&warns);
		config_free(&cfg);
		return 1;
	}
	t.parse_s = cfg.parse_s;
	t.build_s = cfg.build_s;

	int code = 0;
	struct npr_client *c =
		npr_client_open(shm, NPR_ORIGIN_CONFIG, timeout_ms, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		config_free(&cfg);
		return 3;
	}
	struct running rs;
	double t1 = npr_now_s();
	rc = running_dump(c, &rs, timeout_ms, err, sizeof(err));
	double t2 = npr_now_s();
	t.dump_s = t2 - t1;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		code = rc == -EPROTO || rc == -ENOMEM ? 1 : 3;
		goto out;
	}
	if (config_check_dataplane(&cfg, path, rs.port, rs.n_port, &rs.info, &errs) < 0) {
		config_msgs_print(&errs, stderr, PROG ": ");
		code = 1;
		goto out;
	}
	struct plan p;
	struct plan_opts po = { .resync = resync, .changes = dry_run && !json ? stdout : NULL };
	rc = plan_build(&cfg, &rs, &po, &p, &errs);
	t.diff_s = npr_now_s() - t2;
	if (rc < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s: %s: %s\n", PROG, path, errs.line[i]);
		plan_free(&p);
		code = 1;
		goto out;
	}
	if (!dry_run) {
		rc = plan_push(c, &p, timeout_ms, &t, stderr, path);
		if (rc == -ECANCELED)
			code = 1;
		else if (rc < 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, path, npr_strstatus(rc));
			code = 3;
		}
	}
	t.total_s = npr_now_s() - t0;
	if (code == 0)
		plan_print_summary(stdout, &p, &t, path, dry_run, json);
	plan_free(&p);
out:
	running_free(&rs);
	npr_client_close(c);
	config_free(&cfg);
	config_msgs_free(&errs);
	config_msgs_free(&warns);
	return code;
}
