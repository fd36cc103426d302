/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the harnesses share: reading the input, and failing loudly. A harness that finds a
 * broken promise prints why and aborts, which libFuzzer (and replay.c) reports as a crash.
 */
#ifndef NPR_FUZZ_H
#define NPR_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* The input, read front to back; reads past its end give zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool
fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);
	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

/* Up to n bytes into dst, the rest of dst zeroed; returns how many came from the input. */
static inline size_t
fuzz_bytes(struct fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;
	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
	return k;
}

#endif
