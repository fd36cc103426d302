/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A listening TCP socket from an operator's ADDR:PORT or [ADDR6]:PORT (numeric), for the
 * long-running modes that serve connections (fpm, metrics).
 */
#ifndef NPR_CTL_LISTEN_H
#define NPR_CTL_LISTEN_H

/* The non-blocking listening socket, or -1 with the reason printed on stderr as
 * "nprouter-control: WHO: ..." (a bad spec, or one the kernel refused). */
int ctl_listen_tcp(const char *who, const char *spec, int backlog);

#endif
