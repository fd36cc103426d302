/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring client: the control side of the shared-memory protocol (include/npr/proto.h).
 * Needs no EAL and no hugepages, only read/write access to /dev/shm/<name>.
 *
 * A client holds one of the segment's session slots for its whole session (shm.h: a lock on
 * the slot's byte; each slot's rings are single-producer/single-consumer, and several
 * sessions run at once, one per slot). Requests may be pipelined:
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

/* Open the segment named name (NULL: NPR_SHM_DEFAULT_NAME), take a free session slot and
 * say HELLO as origin (enum npr_origin: whose routes this session's are), waiting up to
 * timeout_ms (<0: forever) for a slot to free up or a starting data plane to become ready.
 * On failure returns NULL, errno set, and a one-line explanation in err ("no data plane
 * running: /dev/shm/nprouter not found", ...). errno: ENOENT no segment, EACCES permission,
 * EPROTO bad magic or layout, EPROTONOSUPPORT other ABI version, EAGAIN still starting,
 * ESRCH data plane gone or dead, EBUSY every slot taken.
 * A client is used by one thread at a time; handlers must not call back into the client. */
struct npr_client *npr_client_open(const char *name, unsigned origin, int timeout_ms, char *err,
				   size_t errlen);
void npr_client_close(struct npr_client *c);
uint64_t npr_client_instance(const struct npr_client *c);
/* The instance id of the data plane running on segment name (NULL: the default), from the
 * segment's header, without a session (so without waiting for the session lock); 0 if there
 * is none or it is not ready. Tells a long-lived client that the data plane was restarted. */
uint64_t npr_client_dp_instance(const char *name);

/* Synchronous call: sends req (hdr.type and hdr.len set by the caller; version and seq are
 * filled in), waits for its reply (copied to *rep). Dump chunks for this request go to
 * chunk_cb (may be NULL). Returns 0 when a reply arrived (its status is in rep->status),
 * -ETIMEDOUT if the data plane did not answer in timeout_ms (<0: forever), -EPIPE if the data
 * plane went away. Pending pipelined replies are drained to the handler first. */
int npr_client_call(struct npr_client *c, void *req, struct npr_reply *rep,
		    void (*chunk_cb)(void *ctx, const struct npr_msg_dump_chunk *chunk), void *ctx,
		    int timeout_ms);

/* Pipelined: send without waiting for the reply; replies go to handler. */
void npr_client_set_handler(struct npr_client *c, npr_client_handler handler, void *ctx);
int npr_client_send(struct npr_client *c, void *req, uint32_t *seq_out);
/* Wait until every pipelined request has been answered (or timeout / data plane gone). */
int npr_client_flush(struct npr_client *c, int timeout_ms);

/* Send n requests pipelined, msg(ctx, i) the i-th, and wait for every reply (as
 * npr_client_flush). Nothing more is sent once a rejection has arrived. Each rejection goes to
 * rejected(ctx, i, rep, nth), nth counting them from 0, except the -ECANCELED with which a
 * batch that already failed answers the rest. Returns 0 or -errno as npr_client_send and
 * npr_client_flush; *n_rejected: how many were rejected. Uses the session's reply handler. */
typedef void *(*npr_client_msg_fn)(void *ctx, size_t i);
typedef void (*npr_client_rejected_fn)(void *ctx, size_t i, const struct npr_reply *rep,
				       size_t nth);
int npr_client_pipeline(struct npr_client *c, size_t n, npr_client_msg_fn msg,
			npr_client_rejected_fn rejected, void *ctx, int timeout_ms,
			size_t *n_rejected);

/* BATCH_BEGIN as a call. A batch our slot still has open is left over from a session that
 * died (we hold the slot): it is aborted and the begin retried. Another session's open batch
 * makes the data plane hold our requests until it ends. Returns as npr_client_call. */
int npr_client_batch_begin(struct npr_client *c, struct npr_reply *rep, int timeout_ms);

/* "ENOENT: no such object": errno name and what it means in this protocol (0: "OK"); the
 * buffer is per thread, valid until the next call. */
const char *npr_strstatus(int status);

#endif
