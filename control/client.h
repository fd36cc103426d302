/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring client: the control side of the shared-memory protocol (include/npr/proto.h).
 * Needs no EAL and no hugepages, only read/write access to /dev/shm/<name>.
 *
 * A client holds flock(LOCK_EX) on the segment for its whole session (one control session
 * at a time: the rings are single-producer/single-consumer). Requests may be pipelined:
 * npr_client_send never drops anything; when the request ring is full it waits, handing the
 * replies that arrive meanwhile to the session's reply handler, so neither side can block
 * the other forever.
 *
 * Errors: 0 or -errno; messages for people go to the err buffer given at open.
 */
#ifndef NPR_CLIENT_H
#define NPR_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"

struct npr_client;

/* Called for every reply and dump chunk of pipelined requests (npr_client_send); rec is the
 * whole record (hdr.type NPR_MSG_REPLY or NPR_MSG_DUMP_CHUNK), valid during the call. */
typedef void (*npr_client_handler)(void *ctx, const struct npr_msg_hdr *rec);

/* Open the segment named name (NULL: NPR_SHM_DEFAULT_NAME) and take the session lock, waiting
 * up to timeout_ms for another session to end. On failure returns NULL, errno set, and a
 * one-line explanation in err ("no data plane is running (no /dev/shm/nprouter)", ...). */
struct npr_client *npr_client_open(const char *name, int timeout_ms, char *err, size_t errlen);
void npr_client_close(struct npr_client *c);
uint64_t npr_client_instance(const struct npr_client *c);

/* Synchronous call: sends req (hdr.type and hdr.len set by the caller; version and seq are
 * filled in), waits for its reply (copied to *rep). Dump chunks for this request go to
 * chunk_cb (may be NULL). Returns 0 when a reply arrived (its status is in rep->status),
 * -ETIMEDOUT if the data plane did not answer in timeout_ms (<0: forever), -EPIPE if the data
 * plane went away. Pending pipelined replies are drained to the handler first. */
int npr_client_call(struct npr_client *c, void *req, struct npr_reply *rep,
		    void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk),
		    void *ctx, int timeout_ms);

/* Pipelined: send without waiting for the reply; replies go to handler. */
void npr_client_set_handler(struct npr_client *c, npr_client_handler handler, void *ctx);
int npr_client_send(struct npr_client *c, void *req, uint32_t *seq_out);
/* Wait until every pipelined request has been answered (or timeout / data plane gone). */
int npr_client_flush(struct npr_client *c, int timeout_ms);

/* Convenience encoders used by the CLI and the YANG daemon. 0 or -EINVAL. */
int npr_parse_prefix(const char *s, int *family, uint8_t addr[16], uint8_t *plen);
int npr_parse_addr(const char *s, int *family, uint8_t addr[16]);
int npr_parse_mac(const char *s, uint8_t mac[6]);
const char *npr_format_addr(int family, const uint8_t *addr, char *buf, size_t len);
const char *npr_strstatus(int status);

#endif
