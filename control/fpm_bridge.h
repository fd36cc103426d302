/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `nprouter-control fpm`: the FPM bridge. Listens where FRR zebra's dplane_fpm_nl connects,
 * decodes its stream (fpm.h), keeps a mirror of zebra's routes and next-hop objects
 * (fpm_state.h) and programs them into the data plane as origin NPR_ORIGIN_ZEBRA.
 */
#ifndef NPR_CTL_FPM_BRIDGE_H
#define NPR_CTL_FPM_BRIDGE_H

/* Runs until SIGTERM / SIGINT (exit 0, zebra's routes left in the data plane). shm and
 * timeout_ms are the global options; argv: the words after `fpm`. Exit codes as the CLI's:
 * 2 usage, 1 cannot listen or out of memory. */
int fpm_main(const char *shm, int timeout_ms, int argc, char **argv);

#endif
