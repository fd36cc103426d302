/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dumps: one request for a kind of object (DUMP_REQ, or STATS_REQ for NPR_DUMP_STATS) and the
 * DUMP_CHUNK records that answer it, decoded in one place for `show` (cli) and `apply`
 * (running.c) alike.
 *
 * Every chunk must be of the kind asked for and hold the entries its count says, back to back:
 * fixed-size entries (npr_dump_entry_size), or for NPR_DUMP_GROUPS a struct npr_dump_group
 * followed by its n_members (at most NPR_GROUP_MAX_MEMBERS) members. A chunk that does not
 * add up counts as bad; the entries before the bad one have been handed on already. Entries
 * are packed, so most are not aligned: each is copied out before it is handed on.
 *
 * dump_each hands each entry to a callback as it arrives (a printer can stream); dump_collect
 * gathers them into a growable array. Both return the client's 0 or -errno (-ETIMEDOUT,
 * -EPIPE: see npr_client_call); a dump that got its reply reports the rest in struct
 * dump_status, for the caller to word. One thread at a time, like the client.
 */
#ifndef NPR_CTL_DUMP_H
#define NPR_CTL_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npr/proto.h"
#include "client.h"

struct dump_status {
	struct npr_reply rep; /* the reply that ended the dump: rep.status 0 or -errno */
	size_t n_bad;	      /* chunks of another kind, or whose entries did not add up */
	bool oom;	      /* dump_collect: out of memory (the array holds what fit) */
};

/* Called for each entry, an aligned copy valid during the call: the kind's struct (groups:
 * struct npr_dump_group with its members). */
typedef void (*dump_entry_fn)(void *ctx, const void *entry);

/* flags: NPR_DUMP_F_* (0: the session's own origin; NPR_DUMP_F_ALL_ORIGINS: everyone's). */
int dump_each(struct npr_client *c, uint32_t kind, uint32_t flags, dump_entry_fn fn, void *ctx,
	      int timeout_ms, struct dump_status *st);

/* The entries of a dump: n of them, each the kind's struct (npr_dump_entry_size bytes). For
 * NPR_DUMP_GROUPS each entry is the struct npr_dump_group alone and the members of every group
 * follow one another in member[], in the order of the groups. Free with dump_vec_free. */
struct dump_vec {
	void *v;
	size_t n, cap;
	struct npr_group_member *member;
	size_t n_member, cap_member;
};

int dump_collect(struct npr_client *c, uint32_t kind, uint32_t flags, struct dump_vec *vec,
		 int timeout_ms, struct dump_status *st);
void dump_vec_free(struct dump_vec *vec);

#endif
