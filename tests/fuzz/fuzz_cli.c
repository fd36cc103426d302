/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the CLI's batch files (control/cli_batch.c: batch_parse, and what it
 * runs: every edit command of cli_edit.c through run_command). Parse only: the local copy of
 * the data plane's objects that the commands read is filled in here (interfaces lan, wan and
 * wan2 on ports net_ring0..2, the CLI's next hops 1 and 2, table sizes), so no command needs
 * a data plane; one that tries to reach it anyway finds none (and the harness says so).
 *
 * Input: the batch file.
 *
 * Checked: the parser never opens a session; its exit code is 0, 1 or 2; every queued message
 * is a request record of a type a batch may hold, framed (length a multiple of 8, at least a
 * header, at most NPR_MSG_MAX), with the line that made it to name it in errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz.h"

static void *
dup_mem(const void *p, size_t n)
{
	void *d = malloc(n);
	if (d == NULL)
		fuzz_fail("out of memory");
	memcpy(d, p, n);
	return d;
}

/* What need_ifaces, need_ports, need_nhs, need_all_nhs and need_info would have dumped. */
static void
local_copy(struct ctl *x)
{
	struct npr_dump_iface ifs[3];
	struct npr_dump_port ports[3];
	struct npr_dump_nh nhs[2];
	static const char *const names[3] = { "lan", "wan", "wan2" };

	memset(ifs, 0, sizeof(ifs));
	memset(ports, 0, sizeof(ports));
	memset(nhs, 0, sizeof(nhs));
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(0x10 + i) };
		ports[i].port_id = (uint16_t)i;
		ports[i].n_rxq = ports[i].n_txq = 1;
		memcpy(ports[i].mac, mac, 6);
		snprintf(ports[i].name, sizeof(ports[i].name), "net_ring%u", i);
		ifs[i].ifid = (uint16_t)i;
		ifs[i].port_id = (uint16_t)i;
		ifs[i].mtu = 1500;
		ifs[i].flags = NPR_IFACE_F_UP;
		memcpy(ifs[i].mac, mac, 6);
		ifs[i].origin = NPR_ORIGIN_CLI;
		snprintf(ifs[i].name, sizeof(ifs[i].name), "%s", names[i]);
	}
	nhs[0].nh_id = 1;
	nhs[0].kind = NPR_NH_FORWARD;
	nhs[0].family = NPR_AF_INET;
	nhs[0].ifid = 0;
	nhs[0].gw[0] = 192;
	nhs[0].gw[2] = 2;
	nhs[0].gw[3] = 2;
	nhs[0].refcnt = 1;
	nhs[0].origin = NPR_ORIGIN_CLI;
	nhs[1].nh_id = 2;
	nhs[1].kind = NPR_NH_BLACKHOLE;
	nhs[1].origin = NPR_ORIGIN_CLI;

	x->ifaces = dup_mem(ifs, sizeof(ifs));
	x->n_ifaces = 3;
	x->have_ifaces = true;
	x->ports = dup_mem(ports, sizeof(ports));
	x->n_ports = 3;
	x->have_ports = true;
	x->nhs = dup_mem(nhs, sizeof(nhs));
	x->n_nhs = 2;
	x->have_nhs = true;
	x->all_nhs = dup_mem(nhs, sizeof(nhs));
	x->n_all_nhs = 2;
	x->have_all_nhs = true;
	x->info.abi_version = NPR_ABI_VERSION;
	x->info.n_ports = 3;
	x->info.nh_max = 16;
	x->info.group_max = 8;
	x->info.route4_max = 1024;
	x->info.route6_max = 1024;
	x->have_info = true;
}

static bool
batch_type(uint16_t t)
{
	return (t >= NPR_MSG_IFACE_SET && t <= NPR_MSG_ROUTE6_DEL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a name no data plane has, and no waiting: a command that tries one fails at once */
	struct ctl x = { .shm = "nprouter-fuzz-none", .timeout_ms = 0 };
	json_init(&x.j, stdout);
	local_copy(&x);

	char *text = malloc(size + 1);
	if (text == NULL)
		fuzz_fail("out of memory");
	memcpy(text, data, size);
	text[size] = '\0';
	FILE *f = fmemopen(text, size != 0 ? size : 1, "r");
	if (f == NULL)
		fuzz_fail("fmemopen: %s", strerror(errno));
	if (size == 0)
		fgetc(f); /* an empty file: the stream is at its end */
	int rc = batch_parse(&x, f, "fuzz");
	fclose(f);

	if (getenv("NPR_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "exit code %d, %zu messages\n", rc, x.nq);
	if (x.c != NULL)
		fuzz_fail("the batch parser opened a session with a data plane");
	if (rc != 0 && rc != EXIT_REJECTED && rc != EXIT_USAGE)
		fuzz_fail("batch_parse: exit code %d", rc);
	for (size_t i = 0; i < x.nq; i++) {
		struct npr_msg_hdr h;
		memcpy(&h, x.q[i].msg, sizeof(h));
		if (!batch_type(h.type) || h.len < sizeof(h) || h.len % 8 != 0 ||
		    h.len > NPR_MSG_MAX)
			fuzz_fail("message %zu: type %u length %u", i, h.type, h.len);
		if (x.q[i].what == NULL || strstr(x.q[i].what, "fuzz:") != x.q[i].what)
			fuzz_fail("message %zu: no line to name it", i);
		free(x.q[i].msg);
		free(x.q[i].what);
	}
	free(x.q);
	free(x.ifaces);
	free(x.ports);
	free(x.nhs);
	free(x.all_nhs);
	free(text);
	return 0;
}
