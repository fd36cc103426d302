/* SPDX-License-Identifier: BSD-3-Clause */
/* Deferred reclamation after QSBR grace periods (retire.h). */
#include <errno.h>
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "retire.h"

int
retire_init(struct retire *r, struct rte_rcu_qsbr *qsbr, uint64_t cap)
{
	r->qsbr = qsbr;
	r->head = r->tail = r->stamped = 0;
	r->cap = cap < 16 ? 16 : cap;
	r->e = calloc(r->cap, sizeof(*r->e));
	return r->e == NULL ? -ENOMEM : 0;
}

void
retire_fini(struct retire *r)
{
	free(r->e);
	r->e = NULL;
	r->cap = r->head = r->tail = r->stamped = 0;
}

int
retire_reserve(struct retire *r, uint64_t n)
{
	uint64_t need = retire_count(r) + n, cap = r->cap;

	if (need <= cap)
		return 0;
	while (cap < need)
		cap *= 2;
	struct retire_ent *e = malloc(cap * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	/* re-lay the ring from index 0; positions are absolute counts, so rebase them */
	for (uint64_t i = r->head; i != r->tail; i++)
		e[i - r->head] = r->e[i % r->cap];
	free(r->e);
	r->e = e;
	r->cap = cap;
	r->tail -= r->head;
	r->stamped -= r->head;
	r->head = 0;
	return 0;
}

void
retire_push(struct retire *r, uint64_t val)
{
	struct retire_ent *x = &r->e[r->tail % r->cap];
	x->token = 0; /* set by retire_stamp */
	x->val = val;
	r->tail++;
}

void
retire_push_done(struct retire *r, uint64_t val)
{
	retire_push(r, val);
	if (r->stamped == r->tail - 1)
		r->stamped = r->tail;
}

void
retire_stamp(struct retire *r)
{
	if (r->stamped == r->tail)
		return;
	/* Readers that pass a quiescent state after this no longer see what was unlinked. */
	uint64_t t = r->qsbr != NULL ? rte_rcu_qsbr_start(r->qsbr) : 0;
	for (uint64_t i = r->stamped; i != r->tail; i++)
		r->e[i % r->cap].token = t;
	r->stamped = r->tail;
}

int
retire_pop(struct retire *r, uint64_t *val, bool force)
{
	if (r->head == r->tail)
		return -ENOENT;
	const struct retire_ent *x = &r->e[r->head % r->cap];
	if (!force) {
		if (r->head == r->stamped)
			return -EAGAIN; /* not yet unlinked for all readers */
		if (r->qsbr != NULL && x->token != 0 &&
		    rte_rcu_qsbr_check(r->qsbr, x->token, false) != 1)
			return -EAGAIN;
	}
	*val = x->val;
	r->head++;
	if (r->stamped < r->head)
		r->stamped = r->head;
	if (r->head == r->tail)
		r->head = r->tail = r->stamped = 0; /* empty: start again at e[0] (retire.h) */
	return 0;
}
