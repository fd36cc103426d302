/* SPDX-License-Identifier: BSD-3-Clause */
/* The telemetry snapshots' double buffer: one writer, the control thread; any number of
 * readers, the telemetry client threads (telemetry.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "telemetry.h"

/* What one publication carries: both structs are arrays of 64-bit words (proto.h). */
struct snap {
	uint64_t at_ns; /* npr_now_ns when published; 0: nothing published yet */
	struct npr_info info;
	struct npr_stats st;
};
_Static_assert(sizeof(struct snap) % 8 == 0, "a snapshot is copied word by word");

/* The double buffer. seq is odd while the control thread writes that slot; cur is the slot
 * readers go to. Contract: telemetry_publish on the control thread only (one writer); any
 * number of reader threads. Static: a client thread may still read while main exits. */
static struct {
	uint64_t seq;
	struct snap s;
} slot[2];
static unsigned cur;
static uint64_t last_publish_ns;

/* Word by word with relaxed atomics: a copy racing the writer reads torn values, never
 * undefined behaviour, and the sequence check throws it away. */
static void
copy_words_out(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static void
copy_words_in(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

int
telemetry_due(uint64_t now_ns)
{
	return now_ns - last_publish_ns >= (uint64_t)TELEMETRY_PERIOD_MS * 1000000u;
}

void
telemetry_publish(const struct npr_info *in, const struct npr_stats *st, uint64_t now_ns)
{
	static struct snap tmp; /* tens of KiB: not on the stack */
	unsigned w = __atomic_load_n(&cur, __ATOMIC_RELAXED) ^ 1u;
	uint64_t seq = __atomic_load_n(&slot[w].seq, __ATOMIC_RELAXED);

	tmp.at_ns = now_ns != 0 ? now_ns : 1;
	tmp.info = *in;
	tmp.st = *st;
	__atomic_store_n(&slot[w].seq, seq + 1, __ATOMIC_RELAXED);
	/* the odd count is visible before any word of the new contents */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	copy_words_in((uint64_t *)&slot[w].s, (const uint64_t *)&tmp, sizeof(tmp) / 8);
	/* the contents are visible before the even count, and the slot before readers go to it */
	__atomic_store_n(&slot[w].seq, seq + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&cur, w, __ATOMIC_RELEASE);
	last_publish_ns = now_ns;
}

/* The current snapshot into out: 0, or -EAGAIN (none yet, or the writer kept overtaking). */
static int
snap_read(struct snap *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		unsigned r = __atomic_load_n(&cur, __ATOMIC_ACQUIRE);
		uint64_t s0 = __atomic_load_n(&slot[r].seq, __ATOMIC_ACQUIRE);
		if (s0 & 1)
			continue;
		copy_words_out((uint64_t *)out, (const uint64_t *)&slot[r].s, sizeof(*out) / 8);
		/* the copy's loads are done before the count is read again */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&slot[r].seq, __ATOMIC_RELAXED) == s0)
			return out->at_ns != 0 ? 0 : -EAGAIN;
	}
	return -EAGAIN;
}

int
telemetry_read(struct npr_info *in, struct npr_stats *st, uint64_t *at_ns)
{
	struct snap *s = malloc(sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	int rc = snap_read(s);
	if (rc == 0) {
		*in = s->info;
		*st = s->st;
		if (at_ns != NULL)
			*at_ns = s->at_ns;
	}
	free(s);
	return rc;
}
