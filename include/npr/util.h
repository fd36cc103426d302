/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers both processes (and the tests and tools) use: one clock, one hash, one
 * pseudo-random sequence. Header only; any thread.
 */
#ifndef NPR_UTIL_H
#define NPR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: every uptime, deadline and interval in nprouter. */
static inline uint64_t
npr_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The same clock in milliseconds and in seconds (durations printed for people). */
static inline uint64_t
npr_now_ms(void)
{
	return npr_now_ns() / 1000000u;
}

static inline double
npr_now_s(void)
{
	return (double)npr_now_ns() * 1e-9;
}

/* xorshift64* (Vigna): a deterministic pseudo-random sequence from *state (nonzero), for
 * tests, benchmarks and generated data that must replay. Not for anything secret. */
static inline uint64_t
npr_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A 64-bit hash of len bytes for the hash tables of the control paths (not the packet flow
 * hash: that is fwd_flow_hash). Multiply-xorshift rounds over 8-byte words, then a
 * finaliser (after MurmurHash3's fmix64 constants); seed separates independent tables.
 * With seed 0 it is the data plane's historical table hash: cfg's tables are walked in slot
 * order by dumps and host-route allocation, so the function is part of their behaviour. */
static inline uint64_t
npr_hash(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *k = p;
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull ^ len, w;

	while (len >= 8) {
		memcpy(&w, k, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
		k += 8;
		len -= 8;
	}
	w = 0;
	memcpy(&w, k, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return h;
}

#endif
