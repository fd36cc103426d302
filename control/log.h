/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The long-running control programs' log line on stderr: "2026-12-07 04:20:01 PROGRAM WHO:
 * text" (WHO: run, fpm). One thread at a time.
 */
#ifndef NPR_CTL_LOG_H
#define NPR_CTL_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static inline void
ctl_vlog(const char *who, const char *fmt, va_list ap)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s %s: ", ts, who);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#endif
