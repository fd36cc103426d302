/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane's side of the shared-memory segment (include/npr/shm.h): creates it, serves
 * the request ring into cfg_handle, writes replies, removes it at exit.
 *
 * Thread: the control thread only.
 */
#ifndef NPR_SHM_SERVER_H
#define NPR_SHM_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfg;
struct shm_server;

/* Create /dev/shm/<name> exclusively, in state INIT (clients are told to wait). A segment left by a
 * data plane that no longer runs is replaced; one that belongs to a live data plane is an error
 * (-EADDRINUSE). gid: (gid_t)-1 to keep root's group. On error returns NULL, errno set, one-line
 * reason in err. */
struct shm_server *shm_server_create(const char *name, mode_t mode, gid_t gid, uint64_t ring_size,
				     uint64_t instance_id, char *err, size_t errlen);
/* Let control processes in (state READY): call when the control loop starts. */
void shm_server_ready(struct shm_server *s);
/* Handle up to budget requests, the sessions' slots in turn (only the batch owner's while a
 * batch is open). Returns how many were handled. */
unsigned shm_server_poll(struct shm_server *s, struct cfg *c, unsigned budget);
/* Mark the segment gone and unlink it. */
void shm_server_destroy(struct shm_server *s);
/* Counters: corrupt-ring recoveries, replies dropped because no control session listened,
 * batches aborted because their session died or stayed silent, segment layouts rewritten
 * after another process overwrote them. */
void shm_server_counters(const struct shm_server *s, uint64_t *ring_resets,
			 uint64_t *replies_dropped, uint64_t *batches_aborted,
			 uint64_t *layout_repairs);

#endif
