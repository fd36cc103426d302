/* SPDX-License-Identifier: BSD-3-Clause */
/* Listening sockets for the serving modes (listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define PROG "nprouter-control"

/* Split spec into host and port; 0, or -1 if it is not ADDR:PORT / [ADDR6]:PORT with a
 * port of 1..65535. */
static int
split(const char *spec, char *host, size_t hlen, const char **port)
{
	*port = NULL;
	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		if (end != NULL && end[1] == ':' && (size_t)(end - spec - 1) < hlen) {
			snprintf(host, hlen, "%.*s", (int)(end - spec - 1), spec + 1);
			*port = end + 2;
		}
	} else {
		const char *colon = strchr(spec, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL &&
		    (size_t)(colon - spec) < hlen) {
			snprintf(host, hlen, "%.*s", (int)(colon - spec), spec);
			*port = colon + 1;
		}
	}
	const char *p = *port;
	if (p == NULL || *p == '\0' || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 ||
	    atoi(p) < 1 || atoi(p) > 65535)
		return -1;
	return 0;
}

int
ctl_listen_tcp(const char *who, const char *spec, int backlog)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	if (split(spec, host, sizeof(host), &port) != 0) {
		fprintf(stderr, PROG ": %s: bad --listen '%s' (want ADDR:PORT or [ADDR6]:PORT)\n",
			who, spec);
		return -1;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s: bad --listen '%s': %s\n", who, spec, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
		fprintf(stderr, PROG ": %s: cannot listen on %s: %s\n", who, spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}
