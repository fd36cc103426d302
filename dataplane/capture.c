/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture with dpdk-dumpcap: the pdump server, where it can work (capture.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include "capture.h"

static bool started;

/* Is EAL option opt (alone, or as --opt=...) among the EAL arguments? */
static bool
has_opt(int argc, char **argv, const char *opt)
{
	size_t n = strlen(opt);

	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], opt, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

static int
probe_action(const struct rte_mp_msg *msg, const void *peer)
{
	(void)msg;
	(void)peer;
	return 0;
}

/* Has the EAL a multi-process channel? Not with --no-shconf or --in-memory (however they
 * were spelt): it refuses any action then. */
static bool
mp_channel(void)
{
	static const char name[] = "npr_capture_probe";

	if (rte_mp_action_register(name, probe_action) == 0) {
		rte_mp_action_unregister(name);
		return true;
	}
	return rte_errno != ENOTSUP;
}

bool
capture_start(int eal_argc, char **eal_argv, char *why, size_t len)
{
	if (!mp_channel()) {
		const char *opt = has_opt(eal_argc, eal_argv, "--in-memory") ? "--in-memory"
				  : has_opt(eal_argc, eal_argv, "--no-shconf")
					  ? "--no-shconf"
					  : "--no-shconf or --in-memory";
		snprintf(why, len,
			 "%s: no secondary process can attach (run without it, with hugepages)",
			 opt);
		return false;
	}
	if (!rte_eal_has_hugepages()) {
		snprintf(why, len,
			 "--no-huge: DPDK 22.11 cannot share that memory with a secondary process "
			 "(run with hugepages)");
		return false;
	}
	if (rte_pdump_init() != 0) {
		snprintf(why, len, "rte_pdump_init: %s", rte_strerror(rte_errno));
		return false;
	}
	started = true;
	/* the runtime directory is .../PREFIX */
	const char *dir = rte_eal_get_runtime_dir(), *prefix = strrchr(dir, '/');
	snprintf(why, len, "dpdk-dumpcap --file-prefix %s -i PORT -w FILE.pcapng",
		 prefix != NULL ? prefix + 1 : dir);
	return true;
}

void
capture_stop(void)
{
	if (started)
		rte_pdump_uninit();
	started = false;
}
