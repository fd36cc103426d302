/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-control: program and inspect the data plane over its shared-memory rings.
 *
 * Every command turns into request messages (proto.h). A command runs them one by one and
 * stops at the first rejection; `batch FILE` first turns every line into messages (nothing is
 * sent if a line is wrong), then sends them pipelined between BATCH_BEGIN and BATCH_COMMIT.
 * Names (interfaces, ports) and free ids come from dumps taken before anything is sent, kept
 * in a local copy that the commands update as they go, so a batch line can use an interface
 * or next hop that an earlier line of the same batch creates.
 *
 * Exit codes: 0 ok, 1 a request was rejected (or names an unknown object), 2 usage error,
 * 3 no data plane (not running, gone, not answering, or the session lock is taken).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npr/shm.h"
#include "cli.h"

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--shm NAME] [--json] [--timeout MS] COMMAND ...\n"
		"\n"
		"Program the nprouter data plane over its shared-memory rings (/dev/shm/NAME,\n"
		"default " NPR_SHM_DEFAULT_NAME
		"). Interfaces are named; ports are DPDK port ids or "
		"device names.\n"
		"\n"
		"  interface set NAME port PORT [mac MAC] [mtu N] [up|down]\n"
		"        create (lowest free id, up unless 'down') or change an interface;\n"
		"        settings not given keep their values\n"
		"  interface del NAME\n"
		"  address add|del ADDR/LEN dev NAME\n"
		"  neighbor set ADDR dev NAME lladdr MAC | neighbor del ADDR dev NAME\n"
		"  nexthop set ID via GW dev NAME [lladdr MAC]\n"
		"  nexthop set ID dev NAME lladdr MAC\n"
		"  nexthop set ID blackhole|unreachable|prohibit\n"
		"  nexthop del ID\n"
		"  group set ID NH[:WEIGHT] [NH[:WEIGHT] ...]     (weight 1..%u, default 1)\n"
		"  group del ID\n"
		"  route add|replace PREFIX TARGET\n"
		"        TARGET: nexthop ID | group ID | via GW dev NAME [lladdr MAC] |\n"
		"                blackhole | unreachable | prohibit\n"
		"        an inline TARGET reuses an equal next hop or creates one (lowest free "
		"id),\n"
		"        which is deleted once no route or group uses it\n"
		"  route del PREFIX\n"
		"  route get ADDR                 the data plane's FIB lookup for ADDR\n"
		"  route load FILE [--nexthops ID[,ID...]] [--batch] [--replace]\n"
		"        FILE (plain or .gz, '-' for stdin): lines 'PREFIX' or 'PREFIX FIELD'.\n"
		"        Without --nexthops FIELD is the next hop id. With --nexthops a list of n\n"
		"        ids: list[FIELD %% n] when FIELD is there (e.g. the origin AS), else\n"
		"        list[FNV-1a hash of the prefix bytes and length %% n]. The whole file is\n"
		"        checked before anything is sent. --batch: all or nothing;\n"
		"        --replace: ROUTE_REPLACE (every route must exist).\n"
		"  show interfaces|ports|addresses|neighbors|nexthops|groups|routes "
		"[4|6]|stats|info\n"
		"  show stats --watch [SECONDS] | top [SECONDS]\n"
		"        the live view: every SECONDS (1) rates per port (packets, bits) and\n"
		"        worker (packets, busy and asleep shares), the top drop and exception\n"
		"        reasons; Ctrl-C quits\n"
		"  stats clear                    every counter to zero: ports, workers (drops,\n"
		"                                 exceptions), slow path, messages\n"
		"  batch FILE                     one command a line ('#' comments, '-' for "
		"stdin),\n"
		"                                 applied all or nothing in one transaction\n"
		"  hello                          check that the data plane answers\n"
		"  apply [--dry-run] [--resync] FILE\n"
		"        make the data plane run the YANG configuration FILE (JSON or XML,\n"
		"        ietf-interfaces/ietf-ip/ietf-routing + nprouter.yang): validate it, diff\n"
		"        it against the data plane and send the difference as one transaction\n"
		"  run FILE                       apply FILE, then again whenever it changes (or\n"
		"                                 on SIGHUP) and after a data plane restart;\n"
		"                                 one such daemon per data plane\n"
		"  fpm [--listen ADDR:PORT] [--hold S] [--settle MS] [--table N]\n"
		"      [--stats-interval S]\n"
		"        the FPM bridge: take FRR zebra's routes (dplane_fpm_nl, which connects\n"
		"        to ADDR:PORT, default 127.0.0.1:2620, or [ADDR6]:PORT) from kernel table\n"
		"        N (254) and keep the data plane programmed with them, as origin zebra.\n"
		"        zebra's replay on connect is complete after MS ms without a frame\n"
		"        (1000; at most 30 s), then what it did not replay is removed; after\n"
		"        zebra disconnects its routes stay S seconds (90), then are withdrawn.\n"
		"        Resyncs after a data plane restart. SIGTERM/SIGINT: exit 0, routes left\n"
		"        in place; SIGUSR1 (or every S seconds): counters on stderr\n"
		"  metrics [--listen ADDR:PORT]\n"
		"        the Prometheus exporter: serve every counter at http://ADDR:PORT/metrics\n"
		"        (default 127.0.0.1:9469), read from the data plane at each scrape\n"
		"        (nprouter_up 0 while it is not there); --timeout defaults to 2000 here\n"
		"\n"
		"  --shm NAME     shared memory name (default " NPR_SHM_DEFAULT_NAME ")\n"
		"  --json         print one JSON document instead of tables\n"
		"  --timeout MS   wait for the data plane, the session lock and each answer\n"
		"                 (default %d; -1 forever)\n"
		"\n"
		"Addresses: IPv4 dotted quad (no leading zeros) or IPv6; a prefix must have no "
		"bits\n"
		"set beyond its length. MAC: aa:bb:cc:dd:ee:ff.\n"
		"Exit: 0 ok, 1 rejected, 2 usage error, 3 no data plane.\n",
		NPR_GROUP_MAX_WEIGHT, DEFAULT_TIMEOUT_MS);
}

int
main(int argc, char **argv)
{
	struct ctl x = { .timeout_ms = DEFAULT_TIMEOUT_MS };
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "-j") == 0 || strcmp(a, "--json") == 0) {
			x.json_out = true;
		} else if (strcmp(a, "--shm") == 0 && i + 1 < argc) {
			x.shm = argv[++i];
		} else if (strncmp(a, "--shm=", 6) == 0) {
			x.shm = a + 6;
		} else if ((strcmp(a, "--timeout") == 0 && i + 1 < argc) ||
			   strncmp(a, "--timeout=", 10) == 0) {
			const char *v = a[9] == '=' ? a + 10 : argv[++i];
			uint64_t t;
			x.timeout_set = true;
			if (strcmp(v, "-1") == 0)
				x.timeout_ms = -1;
			else if (parse_uint(v, INT32_MAX, &t) == 0)
				x.timeout_ms = (int)t;
			else
				return USAGE(NULL, "bad --timeout '%s'", v);
		} else {
			return USAGE(NULL, "unknown option '%s' (try --help)", a);
		}
	}
	if (x.shm != NULL && npr_shm_name(x.shm) == NULL) /* the data plane's rule (shm.h) */
		return USAGE(NULL, "invalid shared-memory name '%s' (1..%u characters, no '/')",
			     x.shm, NPR_SHM_NAME_MAX);
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	json_init(&x.j, stdout);

	/* "what" in error messages: the command as typed, shortened */
	char what[160] = "";
	for (int k = i; k < argc; k++) {
		size_t n = strlen(what);
		snprintf(what + n, sizeof(what) - n, "%s%s", k > i ? " " : "", argv[k]);
	}
	x.what = what;
	x.created_nh = 0;

	int rc = run_command(&x, argc - i, argv + i, false);
	if (rc == 0 && x.json_out && !x.j.need_comma[0]) {
		/* a command with no output of its own still prints one document */
		json_obj_begin(&x.j);
		json_kv_bool(&x.j, "ok", true);
		if (x.created_nh != 0)
			json_kv_u64(&x.j, "created_nexthop", x.created_nh);
		json_obj_end(&x.j);
	} else if (rc == 0 && x.created_nh != 0 && !x.json_out) {
		printf("created nexthop %" PRIu32 "\n", x.created_nh);
	}
	if (x.json_out && rc == 0)
		json_finish(&x.j);
	fflush(stdout);

	npr_client_close(x.c);
	for (size_t k = 0; k < x.nq; k++) {
		free(x.q[k].msg);
		free(x.q[k].what);
	}
	free(x.q);
	free(x.ifaces);
	free(x.ports);
	free(x.nhs);
	free(x.all_nhs);
	return rc;
}
