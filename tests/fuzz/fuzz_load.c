/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for `route load` files (control/load.c: load_parse_file, plain text or
 * gzip through zlib, and load_parse_line).
 *
 * Input: one byte of options (bit 0: --nexthops 1,2,3, so FIELD picks one of them; else
 * FIELD is the next hop id), then the file, read from a memfd as the CLI reads a path.
 *
 * Checked: a file that parsed (0) had no bad line; every route has a prefix without host
 * bits and a target the options allow; every route's line number is in the file, in order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "npr/addr.h"
#include "load.h"
#include "fuzz.h"

static FILE *errf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the bad lines' reports; NPR_FUZZ_VERBOSE: on stderr */
	errf = getenv("NPR_FUZZ_VERBOSE") != NULL ? stderr : fopen("/dev/null", "w");
	if (errf == NULL)
		fuzz_fail("/dev/null: %s", strerror(errno));
	return 0;
}

static void
check_target(const struct load_opts *o, uint32_t t)
{
	if (o->n_nh == 0 ? t == 0 || t > NPR_TARGET_ID_MASK : t < 1 || t > 3)
		fuzz_fail("route target %u", t);
}

static void
check_lines(const uint32_t *line, size_t n, size_t n_lines)
{
	for (size_t i = 0; i < n; i++)
		if (line[i] < 1 || line[i] > n_lines || (i > 0 && line[i] <= line[i - 1]))
			fuzz_fail("route %zu on line %u of %zu", i, line[i], n_lines);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct load_opts o;
	struct load_table t;
	char path[64];

	memset(&o, 0, sizeof(o));
	if (fuzz_u8(&in) & 1) {
		o.n_nh = 3;
		o.nh[0] = 1;
		o.nh[1] = 2;
		o.nh[2] = 3;
	}
	int fd = memfd_create("fuzz_load", MFD_CLOEXEC);
	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	for (size_t off = 0; off < in.n;) {
		ssize_t w = write(fd, in.p + off, in.n - off);
		if (w <= 0)
			fuzz_fail("write: %s", strerror(errno));
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	o.path = path;

	int rc = load_parse_file(&o, &t, errf);
	close(fd);
	if (rc == 0 && t.n_bad != 0)
		fuzz_fail("parsed with %zu bad lines", t.n_bad);
	if (rc == -EINVAL && t.n_bad == 0)
		fuzz_fail("-EINVAL without a bad line");
	if (t.n4 + t.n6 + t.n_bad > t.n_lines)
		fuzz_fail("%zu routes and %zu bad lines in %zu lines", t.n4 + t.n6, t.n_bad,
			  t.n_lines);
	for (size_t i = 0; i < t.n4; i++) {
		uint8_t a[16] = { 0 };
		memcpy(a, &t.r4[i].prefix, 4);
		if (t.r4[i].plen > 32 || npr_prefix_host_bits(NPR_AF_INET, a, t.r4[i].plen))
			fuzz_fail("IPv4 route %zu: bad prefix", i);
		check_target(&o, t.r4[i].target);
	}
	for (size_t i = 0; i < t.n6; i++) {
		if (t.r6[i].plen > 128 ||
		    npr_prefix_host_bits(NPR_AF_INET6, t.r6[i].prefix, t.r6[i].plen))
			fuzz_fail("IPv6 route %zu: bad prefix", i);
		check_target(&o, t.r6[i].target);
	}
	check_lines(t.line4, t.n4, t.n_lines);
	check_lines(t.line6, t.n6, t.n_lines);
	load_table_free(&t);
	return 0;
}
