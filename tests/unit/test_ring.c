/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SPSC record ring (include/npr/ring.h): wrap-around, full and invalid cases, corrupt
 * states, geometry scribbled over in shared memory, and a two-thread stress that checks order
 * and every byte. Every ring has a guard region after data[] that must stay intact.
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

/* Bytes after data[] that no ring operation may touch: as large as the largest record, so
 * that one overrunning copy lands in it rather than in someone else's memory. */
#define GUARD NPR_MSG_MAX

static uint8_t
guard_byte(size_t i)
{
	return (uint8_t)(0x5a ^ (i * 7) ^ (i >> 8));
}

/* A ring with data[size] followed by the guard, attached with size. */
static void
ring_new(struct npr_ring_ref *ref, uint64_t size)
{
	void *mem = NULL;
	assert_int_equal(posix_memalign(&mem, 64, sizeof(struct npr_ring) + size + GUARD), 0);
	/* garbage everywhere, so that nothing relies on zeroed memory */
	memset(mem, 0xa5, sizeof(struct npr_ring) + size);
	npr_ring_init(mem, size);
	uint8_t *g = (uint8_t *)mem + sizeof(struct npr_ring) + size;
	for (size_t i = 0; i < GUARD; i++)
		g[i] = guard_byte(i);
	npr_ring_attach(ref, mem, size);
}

static void
guard_check(const struct npr_ring_ref *ref)
{
	const uint8_t *g = ref->r->data + ref->size;
	for (size_t i = 0; i < GUARD; i++)
		if (g[i] != guard_byte(i))
			fail_msg("guard byte %zu after data[] overwritten: %02x", i, g[i]);
}

static void
ring_free(struct npr_ring_ref *ref)
{
	guard_check(ref);
	free(ref->r);
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
	struct npr_ring_ref r;
	ring_new(&r, size);
	uint8_t *in = malloc(NPR_MSG_MAX), *out = malloc(NPR_MSG_MAX);
	uint32_t next_put = 0, next_get = 0;

	assert_int_equal(npr_ring_peek(&r, out), 0);
	assert_true(npr_ring_empty(&r));
	/* Keep the ring partly full so that records wrap ~40 times over. */
	while (next_get < 2000) {
		for (;;) {
			uint32_t len = size_for(next_put);
			make_rec(in, next_put, len);
			int rc = npr_ring_put(&r, in, len);
			if (rc == -EAGAIN)
				break;
			assert_int_equal(rc, 0);
			next_put++;
		}
		/* consume a few, leaving the rest for the next round */
		for (int k = 0; k < 3 && next_get < next_put; k++) {
			int len = npr_ring_peek(&r, out);
			assert_int_equal(len, (int)size_for(next_get));
			check_rec(out, next_get, (uint32_t)len);
			/* peek does not consume */
			assert_int_equal(npr_ring_peek(&r, out), len);
			npr_ring_consume(&r, (uint32_t)len);
			next_get++;
		}
	}
	while (next_get < next_put) {
		int len = npr_ring_peek(&r, out);
		assert_int_equal(len, (int)size_for(next_get));
		check_rec(out, next_get, (uint32_t)len);
		npr_ring_consume(&r, (uint32_t)len);
		next_get++;
	}
	assert_true(npr_ring_empty(&r));
	assert_int_equal(npr_ring_peek(&r, out), 0);
	/* the counters went round the data area many times */
	assert_true(atomic_load(&r.r->tail) > 20 * size);
	free(in);
	free(out);
	ring_free(&r);
}

static void
test_full(void **state)
{
	(void)state;
	const uint64_t size = 2 * NPR_MSG_MAX;
	struct npr_ring_ref r;
	ring_new(&r, size);
	uint8_t *in = malloc(NPR_MSG_MAX), *out = malloc(NPR_MSG_MAX);

	/* fill exactly: 1024-byte records fill 128 KiB with no room left */
	uint32_t n = 0;
	for (; n < size / 1024; n++) {
		make_rec(in, n, 1024);
		assert_int_equal(npr_ring_put(&r, in, 1024), 0);
	}
	make_rec(in, n, 16);
	assert_int_equal(npr_ring_put(&r, in, 16), -EAGAIN);
	/* freeing one record makes room for exactly that much */
	assert_int_equal(npr_ring_peek(&r, out), 1024);
	npr_ring_consume(&r, 1024);
	make_rec(in, n, 1024);
	assert_int_equal(npr_ring_put(&r, in, 1024), 0);
	make_rec(in, n + 1, 8 + 16);
	assert_int_equal(npr_ring_put(&r, in, 24), -EAGAIN);
	/* everything comes back in order */
	for (uint32_t i = 1; i <= n; i++) {
		assert_int_equal(npr_ring_peek(&r, out), 1024);
		check_rec(out, i, 1024);
		npr_ring_consume(&r, 1024);
	}
	assert_true(npr_ring_empty(&r));

	/* a record larger than the free space but smaller than the ring waits */
	make_rec(in, 0, NPR_MSG_MAX);
	assert_int_equal(npr_ring_put(&r, in, NPR_MSG_MAX), 0);
	make_rec(in, 1, NPR_MSG_MAX);
	assert_int_equal(npr_ring_put(&r, in, NPR_MSG_MAX), 0);
	make_rec(in, 2, 16);
	assert_int_equal(npr_ring_put(&r, in, 16), -EAGAIN);
	free(in);
	free(out);
	ring_free(&r);
}

static void
test_invalid_len(void **state)
{
	(void)state;
	struct npr_ring_ref r;
	ring_new(&r, 2 * NPR_MSG_MAX);
	uint8_t *in = calloc(1, NPR_MSG_MAX + 64);
	assert_int_equal(npr_ring_put(&r, in, 0), -EINVAL);
	assert_int_equal(npr_ring_put(&r, in, 8), -EINVAL);  /* shorter than a header */
	assert_int_equal(npr_ring_put(&r, in, 20), -EINVAL); /* not a multiple of 8 */
	assert_int_equal(npr_ring_put(&r, in, 17), -EINVAL);
	assert_int_equal(npr_ring_put(&r, in, NPR_MSG_MAX + 8), -EINVAL);
	assert_int_equal(npr_ring_put(&r, in, UINT32_MAX - 7), -EINVAL);
	/* nothing was written */
	assert_true(npr_ring_empty(&r));
	assert_int_equal(atomic_load(&r.r->tail), 0);
	free(in);
	ring_free(&r);
}

/* Write raw bytes at the producer's position and publish them, as a broken producer would. */
static void
raw_publish(const struct npr_ring_ref *ref, const void *bytes, uint32_t n)
{
	uint64_t tail = atomic_load(&ref->r->tail);
	npr_ring__copy_in(ref, tail, bytes, n);
	atomic_store(&ref->r->tail, tail + n);
}

static void
test_corrupt(void **state)
{
	(void)state;
	uint8_t *out = malloc(NPR_MSG_MAX);
	uint8_t raw[64] = { 0 };
	struct npr_msg_hdr h = { .type = 1 };

	/* len not a multiple of 8 */
	struct npr_ring_ref r;
	ring_new(&r, 2 * NPR_MSG_MAX);
	h.len = 20;
	memcpy(raw, &h, sizeof(h));
	raw_publish(&r, raw, 24);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	/* reset recovers: the ring is empty and usable again */
	npr_ring_reset(&r);
	assert_true(npr_ring_empty(&r));
	assert_int_equal(npr_ring_peek(&r, out), 0);
	h.len = 16;
	assert_int_equal(npr_ring_put(&r, &h, 16), 0);
	assert_int_equal(npr_ring_peek(&r, out), 16);
	ring_free(&r);

	/* len > NPR_MSG_MAX (and more bytes published than that, so only the cap catches it) */
	ring_new(&r, 4 * NPR_MSG_MAX);
	h.len = NPR_MSG_MAX + 8;
	uint8_t *big = calloc(1, NPR_MSG_MAX + 8);
	memcpy(big, &h, sizeof(h));
	raw_publish(&r, big, NPR_MSG_MAX + 8);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	free(big);
	ring_free(&r);

	/* len > available */
	ring_new(&r, 2 * NPR_MSG_MAX);
	h.len = 64;
	memcpy(raw, &h, sizeof(h));
	raw_publish(&r, raw, 32);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	ring_free(&r);

	/* len shorter than a header */
	ring_new(&r, 2 * NPR_MSG_MAX);
	h.len = 8;
	memcpy(raw, &h, sizeof(h));
	raw_publish(&r, raw, 16);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	ring_free(&r);

	/* fewer bytes available than a header */
	ring_new(&r, 2 * NPR_MSG_MAX);
	atomic_store(&r.r->tail, 8);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	ring_free(&r);

	/* tail - head > size: the producer claims more than the ring holds */
	ring_new(&r, 2 * NPR_MSG_MAX);
	h.len = 16;
	assert_int_equal(npr_ring_put(&r, &h, 16), 0);
	atomic_store(&r.r->tail, r.size + 16);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	/* tail behind head (wrapped difference) is the same */
	atomic_store(&r.r->head, 1000);
	atomic_store(&r.r->tail, 992);
	assert_int_equal(npr_ring_peek(&r, out), -EBADMSG);
	ring_free(&r);
	free(out);
}

/* ---- geometry and counters scribbled over by another process ---- */

/* Byte i of a record put at counter pos must be at data[(pos + i) % size]: the placement the
 * true geometry gives, computed here without the ring code. */
static void
check_placed(const struct npr_ring_ref *ref, uint64_t size, uint64_t pos, const uint8_t *rec,
	     uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint64_t off = (pos + i) % size;
		if (ref->r->data[off] != rec[i])
			fail_msg("record byte %u (counter %llu) not at data[%llu]", i,
				 (unsigned long long)(pos + i), (unsigned long long)off);
	}
}

/* Write a record at counter pos the way the true geometry places it, without the ring code. */
static void
place(const struct npr_ring_ref *ref, uint64_t size, uint64_t pos, const uint8_t *rec, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		ref->r->data[(pos + i) % size] = rec[i];
}

/* The shared size/mask say bad_size/bad_mask; put and peek must go on using the attached
 * geometry: every byte where it belongs, nothing outside data[]. */
static void
scribbled_case(uint64_t bad_size, uint64_t bad_mask, uint64_t start)
{
	const uint64_t size = 2 * NPR_MSG_MAX;
	struct npr_ring_ref r;
	ring_new(&r, size);
	uint8_t *in = malloc(NPR_MSG_MAX), *out = malloc(NPR_MSG_MAX);

	r.r->size = bad_size;
	r.r->mask = bad_mask;
	atomic_store(&r.r->tail, start);
	atomic_store(&r.r->head, start);

	/* Small and large records, one at a time, until the counters wrapped data[] 3 times.
	 * Even records go in through put (placement checked), odd ones are placed by hand and
	 * published (peek must read them from there). */
	static const uint32_t sizes[] = { 16, 24, 1000, 40, 4096, 200, 65536, 520 };
	uint32_t seq = 0;
	while (atomic_load(&r.r->tail) - start < 3 * size) {
		uint32_t len = sizes[seq % 8];
		uint64_t pos = atomic_load(&r.r->tail);
		make_rec(in, seq, len);
		if (seq % 2 == 0) {
			assert_int_equal(npr_ring_put(&r, in, len), 0);
			guard_check(&r);
			check_placed(&r, size, pos, in, len);
		} else {
			place(&r, size, pos, in, len);
			atomic_store(&r.r->tail, pos + len);
		}
		assert_int_equal(atomic_load(&r.r->tail), pos + len);
		memset(out, 0, NPR_MSG_MAX);
		assert_int_equal(npr_ring_peek(&r, out), (int)len);
		check_rec(out, seq, len);
		npr_ring_consume(&r, len);
		assert_true(npr_ring_empty(&r));
		seq++;
	}
	/* fill it: room is counted with the attached size too */
	uint64_t pos = atomic_load(&r.r->tail);
	uint32_t n = 0;
	for (; n < size / 1024; n++) {
		make_rec(in, n, 1024);
		assert_int_equal(npr_ring_put(&r, in, 1024), 0);
		check_placed(&r, size, pos + (uint64_t)n * 1024, in, 1024);
	}
	assert_int_equal(npr_ring_put(&r, in, 16), -EAGAIN);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(npr_ring_peek(&r, out), 1024);
		check_rec(out, i, 1024);
		npr_ring_consume(&r, 1024);
	}
	/* nothing wrote the shared geometry back: the operations ran with it scribbled */
	assert_int_equal(r.r->size, bad_size);
	assert_int_equal(r.r->mask, bad_mask);
	free(in);
	free(out);
	ring_free(&r);
}

static void
test_scribbled_geometry(void **state)
{
	(void)state;
	/* huge: a ring that trusted these would index far past data[] (into the guard first) */
	scribbled_case(1ull << 40, ~0ull, 0);
	/* the same with counters far past both sizes */
	scribbled_case(1ull << 40, ~0ull, (1ull << 40) - 4096 - 40);
	/* twice the real size: overruns right into the guard */
	scribbled_case(4ull * NPR_MSG_MAX, 4ull * NPR_MSG_MAX - 1, 0);
	/* small and zero: in bounds, but wrong places */
	scribbled_case(16, 15, 0);
	scribbled_case(0, 0, 0);
}

/* A consumer head that claims more than size bytes used (or sits ahead of tail) is corrupt:
 * put says -EBADMSG and writes nothing; a full ring is still only -EAGAIN. */
static void
test_corrupt_head(void **state)
{
	(void)state;
	const uint64_t size = 2 * NPR_MSG_MAX;
	struct npr_ring_ref r;
	ring_new(&r, size);
	uint8_t *before = malloc(size), *out = malloc(NPR_MSG_MAX);
	uint8_t rec[16];
	make_rec(rec, 7, 16);

	assert_int_equal(npr_ring_put(&r, rec, 16), 0);
	memcpy(before, r.r->data, size);

	/* head ahead of tail: tail - head wraps to nearly 2^64 */
	atomic_store(&r.r->head, 24);
	assert_int_equal(npr_ring_put(&r, rec, 16), -EBADMSG);
	assert_int_equal(atomic_load(&r.r->tail), 16);
	assert_memory_equal(r.r->data, before, size);

	/* eight bytes more used than the ring holds */
	atomic_store(&r.r->tail, size + 40);
	atomic_store(&r.r->head, 32);
	assert_int_equal(npr_ring_put(&r, rec, 16), -EBADMSG);
	assert_int_equal(atomic_load(&r.r->tail), size + 40);
	assert_int_equal(atomic_load(&r.r->head), 32); /* put never writes head */
	assert_memory_equal(r.r->data, before, size);

	/* exactly full is not corrupt */
	atomic_store(&r.r->head, 40);
	assert_int_equal(npr_ring_put(&r, rec, 16), -EAGAIN);
	assert_memory_equal(r.r->data, before, size);
	/* room for exactly one record */
	atomic_store(&r.r->head, 56);
	assert_int_equal(npr_ring_put(&r, rec, 16), 0);
	assert_int_equal(atomic_load(&r.r->tail), size + 56);
	check_placed(&r, size, size + 40, rec, 16);

	/* the consumer's reset repairs a corrupt head */
	atomic_store(&r.r->head, size + 1000);
	assert_int_equal(npr_ring_put(&r, rec, 16), -EBADMSG);
	npr_ring_reset(&r);
	assert_true(npr_ring_empty(&r));
	assert_int_equal(npr_ring_put(&r, rec, 16), 0);
	assert_int_equal(npr_ring_peek(&r, out), 16);
	check_rec(out, 7, 16);
	free(before);
	free(out);
	ring_free(&r);
}

/* ---- two threads ---- */

#define STRESS_RECORDS 1000000u

struct stress {
	struct npr_ring_ref r;
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
		while ((rc = npr_ring_put(&st->r, buf, len)) == -EAGAIN)
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
	struct stress st = { .n = STRESS_RECORDS };
	ring_new(&st.r, 256 * 1024);
	uint8_t *got = malloc(NPR_MSG_MAX), *want = malloc(NPR_MSG_MAX);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, &st), 0);

	for (uint32_t seq = 0; seq < st.n;) {
		int len = npr_ring_peek(&st.r, got);
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
		npr_ring_consume(&st.r, (uint32_t)len);
		st.bytes += (uint64_t)len;
		seq++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(npr_ring_empty(&st.r));
	assert_int_equal(atomic_load(&st.r.r->tail), st.bytes);
	free(got);
	free(want);
	ring_free(&st.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wraparound),	   cmocka_unit_test(test_full),
		cmocka_unit_test(test_invalid_len),	   cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_scribbled_geometry), cmocka_unit_test(test_corrupt_head),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
