/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the FPM stream decoder (control/fpm.c). Built by meson like every
 * harness here (tests/fuzz/meson.build; run with tools/fuzz.sh fuzz_fpm).
 *
 * Input: two bytes that choose where to split, then the stream. The stream is fed to one
 * reader in one read and to another in two reads split there; both must see the same events,
 * errors and counters, and every event must keep the promises of fpm.h (fpm_check.h).
 * Anything else aborts.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fpm.h"
#include "fpm_check.h"

static bool verbose; /* NPR_FUZZ_VERBOSE set: the events of the whole read on stderr */

struct seen {
	uint64_t hash; /* FNV-1a over every event and text, in order */
	uint64_t events;
	bool whole; /* the reader fed in one read */
};

static void
mix(struct seen *s, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		s->hash = (s->hash ^ b[i]) * 1099511628211ull;
	s->events++;
}

static void
must(const char *why, const char *what)
{
	if (why == NULL)
		return;
	fprintf(stderr, "fuzz_fpm: %s%s%s\n", why, what != NULL ? ": " : "",
		what != NULL ? what : "");
	abort();
}

/* The decoder zeroes an event before it fills it, except a route's next hops past n_nh
 * (fpm.h): hashing its bytes up to there, padding included, is deterministic. */
static void
on_route(void *ctx, const struct fpm_route *r)
{
	must(fpm_check_route(r), NULL);
	mix(ctx, r, offsetof(struct fpm_route, nh) + r->n_nh * sizeof(r->nh[0]));
	if (verbose && ((struct seen *)ctx)->whole)
		fprintf(stderr, "route %s family %u /%u, %u next hops, nhid %u\n",
			r->del ? "del" : "new", r->family, r->plen, r->n_nh, r->nh_id);
}

static void
on_nexthop(void *ctx, const struct fpm_nexthop *n)
{
	must(fpm_check_nexthop(n), NULL);
	mix(ctx, n, sizeof(*n));
	if (verbose && ((struct seen *)ctx)->whole)
		fprintf(stderr, "nexthop %s %u\n", n->del ? "del" : "new", n->id);
}

static void
on_frame_end(void *ctx)
{
	mix(ctx, "end", 3);
}

static void
on_skip(void *ctx, enum fpm_skip why, const char *what)
{
	must(fpm_check_text(what), what);
	must((unsigned)why < FPM_SKIP_REASONS ? NULL : "skip reason out of range", what);
	mix(ctx, &why, sizeof(why));
	mix(ctx, what, strlen(what));
	if (verbose && ((struct seen *)ctx)->whole)
		fprintf(stderr, "skip: %s\n", what);
}

static void
on_error(void *ctx, const char *what)
{
	must(fpm_check_text(what), what);
	mix(ctx, what, strlen(what));
	if (verbose && ((struct seen *)ctx)->whole)
		fprintf(stderr, "error: %s\n", what);
}

static const struct fpm_ops ops = {
	.route = on_route,
	.nexthop = on_nexthop,
	.frame_end = on_frame_end,
	.skip = on_skip,
	.error = on_error,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("NPR_FUZZ_VERBOSE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fpm_reader whole, split;
	struct seen sw = { 1469598103934665603ull, 0, true }, ss = { sw.hash, 0, false };

	if (size < 2)
		return 0;
	size_t k = (size_t)(data[0] | data[1] << 8) % (size - 1);
	data += 2;
	size -= 2;

	fpm_reader_init(&whole, 0);
	int rw = fpm_feed(&whole, data, size, &ops, &sw);
	fpm_reader_init(&split, 0);
	int rs = fpm_feed(&split, data, k, &ops, &ss);
	if (rs == 0)
		rs = fpm_feed(&split, data + k, size - k, &ops, &ss);

	must(rw == rs ? NULL : "return codes differ", NULL);
	must(sw.hash == ss.hash && sw.events == ss.events ? NULL : "events differ", NULL);
	split.stats.bytes = whole.stats.bytes; /* the second read is not made after -EPROTO */
	must(memcmp(&whole.stats, &split.stats, sizeof(whole.stats)) == 0 ? NULL
									  : "counters differ",
	     NULL);
	return 0;
}
