/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory segment the data plane creates (POSIX shm, /dev/shm/<name>):
 *
 *   0                    4096 = slot_off                  + slot_size
 *   +--------------------+-----------------+--------------+-----------------+-- ...
 *   | struct npr_shm_hdr | slot 0: request | slot 0: reply | slot 1: request |
 *   |                    | ring (ring.h)   | ring          | ring            |
 *   +--------------------+-----------------+--------------+-----------------+-- ...
 *
 * Slot i's request ring is at slot_off + i * slot_size, its reply ring right after it
 * (sizeof(struct npr_ring) + ring_size further); every ring has ring_size data bytes.
 *
 * Life cycle: the data plane creates the segment with O_EXCL (mode 0600 by default), fills
 * the header and the rings, and sets state = NPR_SHM_READY last (release). At exit it sets
 * state = NPR_SHM_GONE and unlinks the name. A control process opens the name, checks magic,
 * abi_version and state (acquire), then takes a slot: an open-file-description write lock
 * (fcntl F_OFD_SETLK) on byte i of the file, held for as long as it talks. The rings are
 * single-producer/single-consumer, so one session per slot; the kernel drops the lock when
 * the process dies, and the data plane sees the slot free (F_OFD_GETLK). magic and
 * abi_version keep their offsets in every version, so any client can refuse another ABI.
 * instance_id is new at every data plane start: a control process that sees it change knows
 * the data plane restarted and must resync.
 */
#ifndef NPR_SHM_H
#define NPR_SHM_H

#include <stdint.h>
#include <string.h>

#include "proto.h"
#include "ring.h"

#define NPR_SHM_DEFAULT_NAME "nprouter"
#define NPR_SHM_NAME_MAX 200u

/* The segment's name in /dev/shm for a --shm NAME: NAME without one leading '/' (shm_open's
 * own spelling), or NULL if it cannot be one (empty, another '/', over NPR_SHM_NAME_MAX
 * bytes). The one rule of the data plane, the client library and `run`'s lock. */
static inline const char *
npr_shm_name(const char *name)
{
	if (name == NULL)
		return NULL;
	name += name[0] == '/';
	return name[0] == '\0' || strchr(name, '/') != NULL || strlen(name) > NPR_SHM_NAME_MAX
		       ? NULL
		       : name;
}
#define NPR_SHM_HDR_SIZE 4096u
#define NPR_SHM_RING_SIZE (4u << 20) /* bytes of data per ring */
#define NPR_SHM_SLOTS 8u	     /* control sessions at once */

enum npr_shm_state { NPR_SHM_INIT = 0, NPR_SHM_READY = 1, NPR_SHM_GONE = 2 };

struct npr_shm_hdr {
	uint64_t magic;	      /* NPR_SHM_MAGIC */
	uint32_t abi_version; /* NPR_ABI_VERSION */
	uint32_t hdr_size;    /* NPR_SHM_HDR_SIZE */
	uint64_t instance_id; /* random, new at every data plane start */
	uint64_t total_size;  /* of the whole segment */
	uint32_t n_slots;     /* NPR_SHM_SLOTS */
	uint32_t reserved0;
	uint64_t slot_off;	/* offset of slot 0's request ring (struct npr_ring) */
	uint64_t slot_size;	/* bytes from one slot to the next: two rings */
	uint64_t ring_size;	/* data bytes of every ring */
	int32_t dp_pid;		/* data plane process id */
	_Atomic uint32_t state; /* enum npr_shm_state */
	uint64_t reserved[6];
};
_Static_assert(sizeof(struct npr_shm_hdr) == 120, "shm hdr layout");

static inline uint64_t
npr_shm_slot_size(uint64_t ring_size)
{
	return 2 * (sizeof(struct npr_ring) + ring_size);
}

static inline uint64_t
npr_shm_size(uint64_t ring_size)
{
	return NPR_SHM_HDR_SIZE + NPR_SHM_SLOTS * npr_shm_slot_size(ring_size);
}

#endif
