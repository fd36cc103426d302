/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading a YANG configuration (see config.h): the libyang context, the file read, the host
 * bits scan libyang cannot do, parse and validation, then the walk (config_walk.c) and the
 * resolution (config_resolve.c) into struct config; libyang's errors as our messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libyang/libyang.h>

#include "npr/addr.h"
#include "npr/util.h"
#include "config_build.h"

struct config_yang {
	struct ly_ctx *ctx;
};

/* ---- the libyang context ---- */

static const char *const modules[] = {
	"ietf-interfaces",
	"iana-if-type",
	"ietf-ip",
	"ietf-routing",
	"ietf-ipv4-unicast-routing",
	"ietf-ipv6-unicast-routing",
	"nprouter",
};

struct config_yang *
config_yang_open(const char *path, char *err, size_t errlen)
{
	char dirs[4096];
	const char *env = getenv("NPR_YANG_PATH");

	if (path == NULL) {
		snprintf(dirs, sizeof(dirs),
			 "%s%s" NPR_YANG_DIR
#ifdef NPR_YANG_OWN_DIR
			 ":" NPR_YANG_OWN_DIR
#endif
#ifdef NPR_YANG_SRC_DIR
			 ":" NPR_YANG_SRC_DIR
#endif
			 ,
			 env != NULL ? env : "", env != NULL && env[0] != '\0' ? ":" : "");
		path = dirs;
	}
	struct config_yang *y = calloc(1, sizeof(*y));
	if (y == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Keep every message in the context's list (we print them with the file name). */
	ly_log_options(LY_LOSTORE);
	if (ly_ctx_new(NULL, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, &y->ctx) !=
	    LY_SUCCESS) {
		snprintf(err, errlen, "cannot create a libyang context");
		free(y);
		errno = ENOMEM;
		return NULL;
	}
	/* every directory of the path that exists, in order */
	char *list = strdup(path), *save = NULL;
	if (list == NULL) {
		snprintf(err, errlen, "out of memory");
		config_yang_close(y);
		errno = ENOMEM;
		return NULL;
	}
	for (char *dir = strtok_r(list, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save))
		if (access(dir, R_OK | X_OK) == 0)
			ly_ctx_set_searchdir(y->ctx, dir);
	free(list);
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		if (ly_ctx_load_module(y->ctx, modules[i], NULL, NULL) != NULL)
			continue;
		const struct ly_err_item *e = ly_err_first(y->ctx);
		snprintf(err, errlen, "cannot load YANG module %s from %s%s%s", modules[i], path,
			 e != NULL ? ": " : "", e != NULL ? e->msg : "");
		config_yang_close(y);
		errno = ENOENT;
		return NULL;
	}
	ly_err_clean(y->ctx, NULL);
	return y;
}

void
config_yang_close(struct config_yang *y)
{
	if (y == NULL)
		return;
	ly_ctx_destroy(y->ctx);
	free(y);
}

/* ---- libyang errors and the host-bits scan ---- */

/* "Data location "/a/b", line number 7." -> path, line */
static void
yang_error(struct config_msgs *errs, const char *name, const struct ly_err_item *e)
{
	const char *loc = e->path != NULL ? e->path : "";
	char path[1024] = "";
	long line = 0;
	const char *q = strchr(loc, '"');
	if (q != NULL) {
		const char *q2 = strrchr(loc, '"');
		if (q2 > q)
			snprintf(path, sizeof(path), "%.*s", (int)(q2 - q - 1), q + 1);
	}
	const char *ln = strstr(loc, "ine number ");
	if (ln != NULL)
		line = strtol(ln + 11, NULL, 10);
	char where[64] = "";
	if (line > 0)
		snprintf(where, sizeof(where), ":%ld", line);
	config_msgs_add(errs, "%s%s: %s%s%s", name, where, path, path[0] != '\0' ? ": " : "",
			e->msg != NULL ? e->msg : "invalid");
}

/* libyang stores prefixes with their host bits cleared, so "10.1.2.3/8" would silently become
 * 10.0.0.0/8. The data plane never normalises a prefix, and neither do we: look at the text
 * of every destination-prefix before libyang does. Returns the number of bad prefixes. */
static size_t
scan_host_bits(const char *buf, size_t len, bool json, const char *name, struct config_msgs *errs)
{
	static const char key[] = "destination-prefix";
	const size_t klen = sizeof(key) - 1;
	const char *p = buf, *end = buf + len, *lpos = buf;
	size_t line = 1, n_bad = 0;

	while (p < end) {
		const char *k = memmem(p, (size_t)(end - p), key, klen);
		if (k == NULL)
			break;
		p = k + klen;
		const char *v = p;
		if (json) {
			if (v >= end || *v != '"')
				continue;
			v++;
			while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
				v++;
			if (v >= end || *v != ':')
				continue;
			v++;
			while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
				v++;
			if (v >= end || *v != '"')
				continue;
			v++;
		} else {
			if (k > buf && k[-1] == '/')
				continue; /* "</x:destination-prefix>" */
			while (v < end && *v != '>' && *v != '<')
				v++;
			if (v >= end || *v != '>' || v[-1] == '/')
				continue;
			v++;
		}
		const char *ve = v;
		while (ve < end && ve - v < 64 && *ve != (json ? '"' : '<'))
			ve++;
		char s[72];
		size_t sl = (size_t)(ve - v);
		if (sl >= sizeof(s) - 1)
			continue;
		memcpy(s, v, sl);
		s[sl] = '\0';
		/* trim XML whitespace */
		char *sb = s;
		while (*sb == ' ' || *sb == '\t' || *sb == '\n' || *sb == '\r')
			sb++;
		size_t bl = strlen(sb);
		while (bl > 0 && (sb[bl - 1] == ' ' || sb[bl - 1] == '\t' || sb[bl - 1] == '\n' ||
				  sb[bl - 1] == '\r'))
			sb[--bl] = '\0';
		int fam;
		uint8_t a[16], plen;
		if (npr_parse_ifaddr(sb, &fam, a, &plen) < 0 ||
		    npr_parse_prefix(sb, &fam, a, &plen) == 0)
			continue; /* fine, or wrong in a way libyang explains */
		for (; lpos < k; lpos++)
			if (*lpos == '\n')
				line++;
		char why[128];
		config_msgs_add(errs, "%s:%zu: destination-prefix \"%s\": %s", name, line, sb,
				npr_prefix_strerror(sb, why, sizeof(why)));
		n_bad++;
	}
	return n_bad;
}

/* ---- routes without a next hop ---- */

/* The line of the first place text has value as a JSON string or an XML element's content
 * after key (the list's key leaf), 0 if none: enough to point at a list entry. */
static size_t
text_line(const char *text, size_t len, bool json, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *k = memmem(p, (size_t)(end - p), key, kl), *v;
		if (k == NULL)
			return 0;
		p = k + kl;
		if (json) { /* "key" : "value" */
			v = p;
			while (v < end && strchr("\" \t\r\n:", *v) != NULL)
				v++;
			if (v == p || v[-1] != '"')
				continue;
		} else { /* <key ...> value </key> */
			if (k == text || k[-1] == '/')
				continue;
			v = memchr(p, '>', (size_t)(end - p));
			if (v == NULL)
				return 0;
			v++;
			while (v < end && strchr(" \t\r\n", *v) != NULL)
				v++;
		}
		if ((size_t)(end - v) > vl && memcmp(v, value, vl) == 0 &&
		    strchr(json ? "\"" : "< \t\r\n", v[vl]) != NULL) {
			size_t line = 1;
			for (const char *c = text; c < k; c++)
				line += *c == '\n';
			return line;
		}
	}
	return 0;
}

static bool
node_named(const struct lyd_node *n, const char *name)
{
	return n->schema != NULL && strcmp(n->schema->name, name) == 0;
}

/* A static route whose next-hop says nothing (no address, interface, special next hop, or an
 * empty next-hop-list) fails libyang's validation with "Mandatory choice next-hop-options"
 * and a path without the route's key: say it first, with the route and its line. Runs on the
 * parsed tree before validation. Returns how many. */
static size_t
check_route_next_hops(const struct lyd_node *tree, const char *text, size_t len, bool json,
		      const char *name, struct config_msgs *errs)
{
	size_t n = 0;
	const struct lyd_node *top, *it;

	LY_LIST_FOR(tree, top)
	{
		LYD_TREE_DFS_BEGIN(top, it)
		{
			if (node_named(it, "route") && it->parent != NULL &&
			    (node_named(lyd_parent(it), "ipv4") ||
			     node_named(lyd_parent(it), "ipv6"))) {
				const struct lyd_node *pn = NULL, *nh = NULL;
				bool any = false;
				for (const struct lyd_node *c = lyd_child(it); c != NULL;
				     c = c->next)
					if (node_named(c, "destination-prefix"))
						pn = c;
					else if (node_named(c, "next-hop"))
						nh = c;
				for (const struct lyd_node *c = nh != NULL ? lyd_child(nh) : NULL;
				     c != NULL && !any; c = c->next)
					any = !node_named(c, "next-hop-list") ||
					      lyd_child(c) != NULL;
				if (!any && pn != NULL) {
					const char *dst = lyd_get_value(pn);
					size_t line = text_line(text, len, json,
								"destination-prefix", dst);
					char where[32] = "";
					if (line > 0)
						snprintf(where, sizeof(where), ":%zu", line);
					config_msgs_add(errs,
							"%s%s: route %s: no next hop: give "
							"next-hop-address, "
							"outgoing-interface, special-next-hop or a "
							"next-hop-list with at least one next-hop",
							name, where, dst);
					n++;
				}
			}
			LYD_TREE_DFS_END(top, it);
		}
	}
	return n;
}

/* ---- loading ---- */

static void
build_free(struct build *b)
{
	free(b->en4);
	free(b->en6);
	hset_free(&b->ifnames);
	free(b->rr);
	free(b->rm);
	hset_free(&b->routes);
	hset_free(&b->nhs);
	hset_free(&b->groups);
	hset_free(&b->gws);
	free(b->gw);
}

/* ---- a NETCONF <config> wrapper ----
 * Operators save configurations as NETCONF sends them: the data inside
 * <config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">. libyang takes the data without
 * it, so the wrapper's start and end tags are blanked out (spaces, newlines kept: line
 * numbers in messages stay those of the file). Anything else is left to libyang. */

#define NETCONF_NS "urn:ietf:params:xml:ns:netconf:base:1.0"

/* Skip white space, the XML declaration, processing instructions and comments. */
static size_t
xml_skip_misc(const char *t, size_t len, size_t i)
{
	for (;;) {
		while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
			i++;
		const char *end = NULL;
		if (i + 1 < len && t[i] == '<' && t[i + 1] == '?')
			end = strstr(t + i, "?>");
		else if (i + 3 < len && strncmp(t + i, "<!--", 4) == 0)
			end = strstr(t + i, "-->");
		else
			return i;
		if (end == NULL)
			return len;
		i = (size_t)(end - t) + (end[0] == '?' ? 2 : 3);
	}
}

static void
blank(char *t, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++)
		if (t[k] != '\n')
			t[k] = ' ';
}

/* t: NUL-terminated XML of len bytes, changed in place. */
static void
netconf_unwrap(char *t, size_t len)
{
	size_t i = xml_skip_misc(t, len, 0);
	if (i >= len || t[i] != '<')
		return;
	size_t n0 = i + 1, n1 = n0;
	while (n1 < len && !strchr(" \t\r\n/>", t[n1]))
		n1++;
	const char *colon = memchr(t + n0, ':', n1 - n0);
	size_t local = colon != NULL ? (size_t)(colon - t) + 1 : n0;
	if (n1 - local != 6 || strncmp(t + local, "config", 6) != 0)
		return;
	/* the end of the start tag, outside quoted values */
	size_t e = n1;
	char q = 0;
	for (; e < len && (q != 0 || t[e] != '>'); e++)
		if (q == 0 && (t[e] == '"' || t[e] == '\''))
			q = t[e];
		else if (q != 0 && t[e] == q)
			q = 0;
	if (e >= len)
		return;
	/* the namespace declaration that binds the tag's prefix (or the default one) */
	char decl[80];
	if (colon != NULL)
		snprintf(decl, sizeof(decl), "xmlns:%.*s=", (int)(colon - t - (long)n0), t + n0);
	else
		snprintf(decl, sizeof(decl), "xmlns=");
	char save = t[e];
	t[e] = '\0';
	const char *d = strstr(t + n1, decl);
	bool ours = d != NULL && (d[strlen(decl)] == '"' || d[strlen(decl)] == '\'') &&
		    strncmp(d + strlen(decl) + 1, NETCONF_NS, strlen(NETCONF_NS)) == 0 &&
		    d[strlen(decl) + 1 + strlen(NETCONF_NS)] == d[strlen(decl)];
	t[e] = save;
	if (!ours)
		return;
	if (t[e - 1] == '/') { /* <config .../>: nothing configured */
		blank(t, i, e + 1);
		return;
	}
	/* its end tag: the last one in the file, only misc after it */
	char end[80];
	snprintf(end, sizeof(end), "</%.*s", (int)(n1 - n0), t + n0);
	const char *last = NULL;
	for (const char *p = strstr(t + e, end); p != NULL; p = strstr(p + 1, end))
		last = p;
	if (last == NULL)
		return;
	size_t c = (size_t)(last - t) + strlen(end);
	while (c < len && (t[c] == ' ' || t[c] == '\t' || t[c] == '\n' || t[c] == '\r'))
		c++;
	if (c >= len || t[c] != '>' || xml_skip_misc(t, len, c + 1) != len)
		return;
	blank(t, i, e + 1);
	blank(t, (size_t)(last - t), c + 1);
}

int
config_load_mem(struct config_yang *y, const char *buf, size_t len, bool json, const char *name,
		struct config *cfg, struct config_msgs *errs, struct config_msgs *warns)
{
	memset(cfg, 0, sizeof(*cfg));
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	if (i == len) {
		config_msgs_add(errs,
				"%s: empty file: no configuration (an empty JSON object {} "
				"removes everything)",
				name);
		return -EINVAL;
	}
	double t0 = npr_now_s();
	size_t n_bad = scan_host_bits(buf, len, json, name, errs);

	/* libyang wants a NUL-terminated string */
	char *text = malloc(len + 1);
	if (text == NULL) {
		config_msgs_add(errs, "%s: out of memory", name);
		return -ENOMEM;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if (!json)
		netconf_unwrap(text, len);
	struct lyd_node *tree = NULL;
	ly_err_clean(y->ctx, NULL);
	LY_ERR lr = lyd_parse_data_mem(y->ctx, text, json ? LYD_JSON : LYD_XML,
				       LYD_PARSE_STRICT | LYD_PARSE_NO_STATE, LYD_VALIDATE_NO_STATE,
				       &tree);
	/* a route without a next hop: libyang's message names neither the route nor its line;
	 * parse again without validating to say which */
	bool nh_missing = false;
	for (const struct ly_err_item *e = ly_err_first(y->ctx); e != NULL && lr != LY_SUCCESS;
	     e = e->next)
		nh_missing |= e->msg != NULL && strstr(e->msg, "\"next-hop-options\"") != NULL;
	if (nh_missing) {
		struct lyd_node *raw = NULL;
		size_t n = 0;
		if (lyd_parse_data_mem(y->ctx, text, json ? LYD_JSON : LYD_XML,
				       LYD_PARSE_STRICT | LYD_PARSE_NO_STATE | LYD_PARSE_ONLY, 0,
				       &raw) == LY_SUCCESS)
			n = check_route_next_hops(raw, text, len, json, name, errs);
		lyd_free_all(raw);
		if (n > 0) {
			free(text);
			ly_err_clean(y->ctx, NULL);
			lyd_free_all(tree);
			return -EINVAL;
		}
	}
	free(text);
	if (lr != LY_SUCCESS) {
		size_t before = errs->n_total;
		for (const struct ly_err_item *e = ly_err_first(y->ctx); e != NULL; e = e->next)
			if (e->level == LY_LLERR)
				yang_error(errs, name, e);
		if (errs->n_total == before)
			config_msgs_add(errs, "%s: invalid (libyang error %d)", name, (int)lr);
		ly_err_clean(y->ctx, NULL);
		lyd_free_all(tree);
		return -EINVAL;
	}
	ly_err_clean(y->ctx, NULL);
	double t1 = npr_now_s();
	cfg->parse_s = t1 - t0;

	struct build b = { .cfg = cfg, .name = name, .errs = errs, .warns = warns };
	size_t n_routes_hint = len / 64;
	b.en4 = calloc(NPR_MAX_IFACES, sizeof(bool));
	b.en6 = calloc(NPR_MAX_IFACES, sizeof(bool));
	if (b.en4 == NULL || b.en6 == NULL || hset_init(&b.ifnames, 64) < 0 ||
	    hset_init(&b.routes, n_routes_hint) < 0 || hset_init(&b.nhs, 64) < 0 ||
	    hset_init(&b.groups, 64) < 0 || hset_init(&b.gws, 64) < 0)
		b.oom = true;

	build_walk(&b, tree);
	if (!b.oom)
		build_index_routes(&b);
	if (!b.oom)
		build_resolve_routes(&b);
	if (b.oom)
		config_msgs_add(errs, "%s: out of memory", name);
	cfg->build_s = npr_now_s() - t1;
	build_free(&b);
	lyd_free_all(tree);
	if (b.oom || errs->n_total > 0 || n_bad > 0) {
		if (errs->n_total == 0)
			config_msgs_add(errs, "%s: invalid", name);
		return b.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int
config_load(struct config_yang *y, const char *path, const char *name, struct config *cfg,
	    struct config_msgs *errs, struct config_msgs *warns)
{
	memset(cfg, 0, sizeof(*cfg));
	if (name == NULL)
		name = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		config_msgs_add(errs, "%s: %s", name, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		config_msgs_add(errs, "%s: not a regular file", name);
		return -EINVAL;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (buf == NULL) {
		close(fd);
		config_msgs_add(errs, "%s: out of memory", name);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	len = got;
	/* the format: the first byte ('<' XML, '{' JSON), else the extension */
	size_t i = 0, nl = strlen(path);
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	bool json;
	if (i < len && (buf[i] == '<' || buf[i] == '{'))
		json = buf[i] == '{';
	else
		json = !(nl > 4 && strcmp(path + nl - 4, ".xml") == 0);
	int rc = config_load_mem(y, buf, len, json, name, cfg, errs, warns);
	free(buf);
	return rc;
}
