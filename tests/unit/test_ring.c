/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SPSC record ring (include/npr/ring.h): wrap-around, full and invalid cases, corrupt
 * states, and a two-thread stress that checks order and every byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "npr/ring.h"

static struct npr_ring *
ring_new(uint64_t size)
{
	void *mem = NULL;
	assert_int_equal(posix_memalign(&mem, 64, sizeof(struct npr_ring) + size), 0);
	/* garbage everywhere, so that nothing relies on zeroed memory */
	memset(mem, 0xa5, sizeof(struct npr_ring) + size);
	npr_ring_init(mem, size);
	return mem;
}

/* Deterministic payload: byte i of the record with sequence number seq. */
static uint8_t
pattern(uint32_t seq, uint32_t i)
{
	uint32_t x = seq * 2654435761u + i * 40503u;
	x ^= x >> 13;
	x *= 0x5bd1e995u;
	return (uint8_t)(x ^ (x >> 15));
}

static void
make_rec(uint8_t *buf, uint32_t seq, uint32_t len)
{
	struct npr_msg_hdr h = { .type = 1, .version = NPR_ABI_VERSION, .len = len, .seq = seq };
	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i < len; i++)
		buf[i] = pattern(seq, i);
}

static void
check_rec(const uint8_t *buf, uint32_t seq, uint32_t len)
{
	struct npr_msg_hdr h;
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.len, len);
	assert_int_equal(h.seq, seq);
	assert_int_equal(h.type, 1);
	for (uint32_t i = sizeof(h); i < len; i++)
		if (buf[i] != pattern(seq, i))
			fail_msg("record %u byte %u: got %02x want %02x", seq, i, buf[i],
				 pattern(seq, i));
}

/* Record sizes that make records straddle the end of the ring at many offsets. */
static uint32_t
size_for(uint32_t i)
{
	static const uint32_t sizes[] = { 16, 24, 40, 200, 1000, 4096, 8, 65536, 520, 32768 };
	uint32_t s = sizes[i % 10];
	return s < 16 ? 16 : s;
}

static void
test_wraparound(void **state)
{
	(void)state;
	const uint64_t size = 2 * NPR_MSG_MAX;
	struct npr_ring *r = ring_new(size);
	uint8_t *in = malloc(NPR_MSG_MAX), *out = malloc(NPR_MSG_MAX);
	uint32_t next_put = 0, next_get = 0;

	assert_int_equal(npr_ring_peek(r, out), 0);
	assert_true(npr_ring_empty(r));
	/* Keep the ring partly full so that records wrap ~40 times over. */
	while (next_get < 2000) {
		for (;;) {
			uint32_t len = size_for(next_put);
			make_rec(in, next_put, len);
			int rc = npr_ring_put(r, in, len);
			if (rc == -EAGAIN)
				break;
			assert_int_equal(rc, 0);
			next_put++;
		}
		/* consume a few, leaving the rest for the next round */
		for (int k = 0; k < 3 && next_get < next_put; k++) {
			int len = npr_ring_peek(r, out);
			assert_int_equal(len, (int)size_for(next_get));
			check_rec(out, next_get, (uint32_t)len);
			/* peek does not consume */
			assert_int_equal(npr_ring_peek(r, out), len);
			npr_ring_consume(r, (uint32_t)len);
			next_get++;
		}
	}
	while (next_get < next_put) {
		int len = npr_ring_peek(r, out);
		assert_int_equal(len, (int)size_for(next_get));
		check_rec(out, next_get, (uint32_t)len);
		npr_ring_consume(r, (uint32_t)len);
		next_get++;
	}
	assert_true(npr_ring_empty(r));
	assert_int_equal(npr_ring_peek(r, out), 0);
	/* the counters went round the data area many times */
	assert_true(atomic_load(&r->tail) > 20 * size);
	free(in);
	free(out);
	free(r);
}

static void
test_full(void **state)
{
	(void)state;
	const uint64_t size = 2 * NPR_MSG_MAX;
	struct npr_ring *r = ring_new(size);
	uint8_t *in = malloc(NPR_MSG_MAX), *out = malloc(NPR_MSG_MAX);

	/* fill exactly: 1024-byte records fill 128 KiB with no room left */
	uint32_t n = 0;
	for (; n < size / 1024; n++) {
		make_rec(in, n, 1024);
		assert_int_equal(npr_ring_put(r, in, 1024), 0);
	}
	make_rec(in, n, 16);
	assert_int_equal(npr_ring_put(r, in, 16), -EAGAIN);
	/* freeing one record makes room for exactly that much */
	assert_int_equal(npr_ring_peek(r, out), 1024);
	npr_ring_consume(r, 1024);
	make_rec(in, n, 1024);
	assert_int_equal(npr_ring_put(r, in, 1024), 0);
	make_rec(in, n + 1, 8 + 16);
	assert_int_equal(npr_ring_put(r, in, 24), -EAGAIN);
	/* everything comes back in order */
	for (uint32_t i = 1; i <= n; i++) {
		assert_int_equal(npr_ring_peek(r, out), 1024);
		check_rec(out, i, 1024);
		npr_ring_consume(r, 1024);
	}
	assert_true(npr_ring_empty(r));

	/* a record larger than the free space but smaller than the ring waits */
	make_rec(in, 0, NPR_MSG_MAX);
	assert_int_equal(npr_ring_put(r, in, NPR_MSG_MAX), 0);
	make_rec(in, 1, NPR_MSG_MAX);
	assert_int_equal(npr_ring_put(r, in, NPR_MSG_MAX), 0);
	make_rec(in, 2, 16);
	assert_int_equal(npr_ring_put(r, in, 16), -EAGAIN);
	free(in);
	free(out);
	free(r);
}

static void
test_invalid_len(void **state)
{
	(void)state;
	struct npr_ring *r = ring_new(2 * NPR_MSG_MAX);
	uint8_t *in = calloc(1, NPR_MSG_MAX + 64);
	assert_int_equal(npr_ring_put(r, in, 0), -EINVAL);
	assert_int_equal(npr_ring_put(r, in, 8), -EINVAL);  /* shorter than a header */
	assert_int_equal(npr_ring_put(r, in, 20), -EINVAL); /* not a multiple of 8 */
	assert_int_equal(npr_ring_put(r, in, 17), -EINVAL);
	assert_int_equal(npr_ring_put(r, in, NPR_MSG_MAX + 8), -EINVAL);
	assert_int_equal(npr_ring_put(r, in, UINT32_MAX - 7), -EINVAL);
	/* nothing was written */
	assert_true(npr_ring_empty(r));
	assert_int_equal(atomic_load(&r->tail), 0);
	free(in);
	free(r);
}

/* Write raw bytes at the producer's position and publish them, as a broken producer would. */
static void
raw_publish(struct npr_ring *r, const void *bytes, uint32_t n)
{
	uint64_t tail = atomic_load(&r->tail);
	npr_ring__copy_in(r, tail, bytes, n);
	atomic_store(&r->tail, tail + n);
}

static void
test_corrupt(void **state)
{
	(void)state;
	uint8_t *out = malloc(NPR_MSG_MAX);
	uint8_t raw[64] = { 0 };
	struct npr_msg_hdr h = { .type = 1 };

	/* len not a multiple of 8 */
	struct npr_ring *r = ring_new(2 * NPR_MSG_MAX);
	h.len = 20;
	memcpy(raw, &h, sizeof(h));
	raw_publish(r, raw, 24);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	/* reset recovers: the ring is empty and usable again */
	npr_ring_reset(r);
	assert_true(npr_ring_empty(r));
	assert_int_equal(npr_ring_peek(r, out), 0);
	h.len = 16;
	assert_int_equal(npr_ring_put(r, &h, 16), 0);
	assert_int_equal(npr_ring_peek(r, out), 16);
	free(r);

	/* len > NPR_MSG_MAX (and more bytes published than that, so only the cap catches it) */
	r = ring_new(4 * NPR_MSG_MAX);
	h.len = NPR_MSG_MAX + 8;
	uint8_t *big = calloc(1, NPR_MSG_MAX + 8);
	memcpy(big, &h, sizeof(h));
	raw_publish(r, big, NPR_MSG_MAX + 8);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	free(big);
	free(r);

	/* len > available */
	r = ring_new(2 * NPR_MSG_MAX);
	h.len = 64;
	memcpy(raw, &h, sizeof(h));
	raw_publish(r, raw, 32);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	free(r);

	/* len shorter than a header */
	r = ring_new(2 * NPR_MSG_MAX);
	h.len = 8;
	memcpy(raw, &h, sizeof(h));
	raw_publish(r, raw, 16);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	free(r);

	/* fewer bytes available than a header */
	r = ring_new(2 * NPR_MSG_MAX);
	atomic_store(&r->tail, 8);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	free(r);

	/* tail - head > size: the producer claims more than the ring holds */
	r = ring_new(2 * NPR_MSG_MAX);
	h.len = 16;
	assert_int_equal(npr_ring_put(r, &h, 16), 0);
	atomic_store(&r->tail, r->size + 16);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	/* tail behind head (wrapped difference) is the same */
	atomic_store(&r->head, 1000);
	atomic_store(&r->tail, 992);
	assert_int_equal(npr_ring_peek(r, out), -EBADMSG);
	free(r);
	free(out);
}

/* ---- two threads ---- */

#define STRESS_RECORDS 1000000u

struct stress {
	struct npr_ring *r;
	uint32_t n;
	uint64_t bytes;
};

static uint32_t
xorshift(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Random record sizes: mostly small, sometimes up to NPR_MSG_MAX. */
static uint32_t
stress_len(uint32_t seq)
{
	uint32_t s = seq * 747796405u + 2891336453u;
	uint32_t r = xorshift(&s);
	uint32_t len;
	if (r % 1000 == 0)
		len = 24 + xorshift(&s) % (NPR_MSG_MAX - 24);
	else
		len = 24 + xorshift(&s) % 488;
	return len & ~7u;
}

/* Record: header, 32-bit checksum of the payload, payload of random bytes. */
static void
stress_make(uint8_t *buf, uint32_t seq, uint32_t len)
{
	struct npr_msg_hdr h = { .type = 2, .len = len, .seq = seq };
	memcpy(buf, &h, sizeof(h));
	uint32_t s = seq ^ 0x9e3779b9u;
	if (s == 0)
		s = 1;
	uint32_t sum = 2166136261u;
	for (uint32_t i = 24; i < len; i++) {
		buf[i] = (uint8_t)xorshift(&s);
		sum = (sum ^ buf[i]) * 16777619u;
	}
	memcpy(buf + 16, &sum, 4);
	memset(buf + 20, 0, 4);
}

static void *
producer(void *arg)
{
	struct stress *st = arg;
	uint8_t *buf = malloc(NPR_MSG_MAX);
	for (uint32_t seq = 0; seq < st->n; seq++) {
		uint32_t len = stress_len(seq);
		stress_make(buf, seq, len);
		int rc;
		while ((rc = npr_ring_put(st->r, buf, len)) == -EAGAIN)
			sched_yield();
		if (rc != 0)
			abort();
	}
	free(buf);
	return NULL;
}

static void
test_two_threads(void **state)
{
	(void)state;
	struct stress st = { .r = ring_new(256 * 1024), .n = STRESS_RECORDS };
	uint8_t *got = malloc(NPR_MSG_MAX), *want = malloc(NPR_MSG_MAX);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, &st), 0);

	for (uint32_t seq = 0; seq < st.n;) {
		int len = npr_ring_peek(st.r, got);
		if (len == 0) {
			sched_yield();
			continue;
		}
		assert_true(len > 0);
		uint32_t wlen = stress_len(seq);
		assert_int_equal(len, (int)wlen);
		struct npr_msg_hdr h;
		memcpy(&h, got, sizeof(h));
		assert_int_equal(h.seq, seq);
		/* checksum first (what a real consumer can check), then every byte */
		uint32_t sum = 2166136261u, rsum;
		for (uint32_t i = 24; i < wlen; i++)
			sum = (sum ^ got[i]) * 16777619u;
		memcpy(&rsum, got + 16, 4);
		assert_int_equal(sum, rsum);
		stress_make(want, seq, wlen);
		assert_memory_equal(got, want, wlen);
		npr_ring_consume(st.r, (uint32_t)len);
		st.bytes += (uint64_t)len;
		seq++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(npr_ring_empty(st.r));
	assert_int_equal(atomic_load(&st.r->tail), st.bytes);
	free(got);
	free(want);
	free(st.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wraparound),  cmocka_unit_test(test_full),
		cmocka_unit_test(test_invalid_len), cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
