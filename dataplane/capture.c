/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet capture with dpdk-dumpcap: the pdump server, where it can work (capture.h). */
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

bool
capture_start(int eal_argc, char **eal_argv, char *why, size_t len)
{
	if (has_opt(eal_argc, eal_argv, "--in-memory") ||
	    has_opt(eal_argc, eal_argv, "--no-shconf")) {
		snprintf(why, len,
			 "%s: no secondary process can attach (run without it, with hugepages)",
			 has_opt(eal_argc, eal_argv, "--in-memory") ? "--in-memory"
								    : "--no-shconf");
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
