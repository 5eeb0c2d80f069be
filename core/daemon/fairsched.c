/* fairsched.c — the fair queue: per-team FIFOs, a ring of teams able to run, an id → team index. */
#include "daemon/fairsched.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NONE ((size_t)-1)

/* One team: its queue is a ring buffer of job ids, oldest at head. */
typedef struct team {
	char *name; /* owned; its address is what rbd_sched_next hands out, so it never moves */
	uint32_t cap;
	size_t running;
	int64_t *q;
	size_t q_head, q_len, q_cap;
	/* Place in the ring of teams that can run now (something queued, below the cap). */
	int in_ring;
	size_t prev, next;
} team;

/* Open addressing with linear probing and backward-shift deletion: remove finds a job's team in
 * O(1) without a scan over every team. */
typedef struct id_slot {
	int64_t id;
	size_t team_plus1; /* 0: empty */
} id_slot;

struct rbd_sched {
	team *teams;
	size_t n_teams, cap_teams;
	rbe_strmap *by_name;
	/* The team due next; a team that becomes able to run joins just before it, i.e. at the
	 * end of the current round, so nobody is served twice while another waits. */
	size_t cursor;
	size_t last_served; /* the team rbd_sched_next handed a job to last, or NONE */
	id_slot *ids;
	size_t ids_cap, ids_used; /* ids_cap a power of two */
	size_t queued, running;
};

rbd_sched *rbd_sched_new(void)
{
	rbd_sched *s = rbe_xcalloc(1, sizeof(*s));
	s->by_name = rbe_strmap_new();
	s->cursor = NONE;
	s->last_served = NONE;
	return s;
}

void rbd_sched_free(rbd_sched *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n_teams; k++) {
		free(s->teams[k].name);
		free(s->teams[k].q);
	}
	free(s->teams);
	rbe_strmap_free(s->by_name);
	free(s->ids);
	free(s);
}

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser: consecutive ids land far apart. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static size_t ids_find(const rbd_sched *s, int64_t id)
{
	if (!s->ids_cap)
		return NONE;
	size_t mask = s->ids_cap - 1;
	for (size_t i = (size_t)mix64((uint64_t)id) & mask;; i = (i + 1) & mask) {
		if (!s->ids[i].team_plus1)
			return NONE;
		if (s->ids[i].id == id)
			return i;
	}
}

static void ids_put_raw(id_slot *tab, size_t cap, int64_t id, size_t team_plus1)
{
	size_t mask = cap - 1;
	size_t i = (size_t)mix64((uint64_t)id) & mask;
	while (tab[i].team_plus1)
		i = (i + 1) & mask;
	tab[i] = (id_slot){id, team_plus1};
}

static void ids_put(rbd_sched *s, int64_t id, size_t t)
{
	if ((s->ids_used + 1) * 2 > s->ids_cap) {
		size_t cap = s->ids_cap ? s->ids_cap * 2 : 64;
		id_slot *tab = rbe_xcalloc(cap, sizeof(*tab));
		for (size_t k = 0; k < s->ids_cap; k++)
			if (s->ids[k].team_plus1)
				ids_put_raw(tab, cap, s->ids[k].id, s->ids[k].team_plus1);
		free(s->ids);
		s->ids = tab;
		s->ids_cap = cap;
	}
	ids_put_raw(s->ids, s->ids_cap, id, t + 1);
	s->ids_used++;
}

/* Backward shift: later members of the probe run move up, so lookups need no tombstones. */
static void ids_del_at(rbd_sched *s, size_t i)
{
	size_t mask = s->ids_cap - 1;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->ids[j].team_plus1)
			break;
		size_t home = (size_t)mix64((uint64_t)s->ids[j].id) & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		int home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!home_between) {
			s->ids[i] = s->ids[j];
			i = j;
		}
	}
	s->ids[i].team_plus1 = 0;
	s->ids_used--;
}

static size_t team_get(rbd_sched *s, const char *name)
{
	long k = rbe_strmap_get(s->by_name, name);
	if (k >= 0)
		return (size_t)k;
	if (s->n_teams == s->cap_teams) {
		s->cap_teams = s->cap_teams ? s->cap_teams * 2 : 8;
		s->teams = rbe_xrealloc(s->teams, s->cap_teams * sizeof(*s->teams));
	}
	size_t t = s->n_teams++;
	s->teams[t] = (team){.name = rbe_xstrdup(name), .prev = NONE, .next = NONE};
	rbe_strmap_put(s->by_name, name, (long)t);
	return t;
}

static size_t team_find(const rbd_sched *s, const char *name)
{
	long k = rbe_strmap_get(s->by_name, name);
	return k >= 0 ? (size_t)k : NONE;
}

static int can_run(const team *t) { return t->q_len > 0 && (t->cap == 0 || t->running < t->cap); }

static void ring_join(rbd_sched *s, size_t t)
{
	team *tm = &s->teams[t];
	if (s->cursor == NONE) {
		tm->prev = tm->next = t;
		s->cursor = t;
	} else {
		size_t before = s->teams[s->cursor].prev;
		tm->prev = before;
		tm->next = s->cursor;
		s->teams[before].next = t;
		s->teams[s->cursor].prev = t;
		/* The team due next is the one just served (it is alone, or came back after its
		 * queue ran dry): the newcomer has waited longer, so it goes first. */
		if (s->cursor == s->last_served)
			s->cursor = t;
	}
	tm->in_ring = 1;
}

static void ring_leave(rbd_sched *s, size_t t)
{
	team *tm = &s->teams[t];
	if (tm->next == t) {
		s->cursor = NONE;
	} else {
		s->teams[tm->prev].next = tm->next;
		s->teams[tm->next].prev = tm->prev;
		if (s->cursor == t)
			s->cursor = tm->next;
	}
	tm->in_ring = 0;
	tm->prev = tm->next = NONE;
}

/* Bring ring membership in line with the team's queue and cap after any change to them. */
static void ring_update(rbd_sched *s, size_t t)
{
	int want = can_run(&s->teams[t]);
	if (want && !s->teams[t].in_ring)
		ring_join(s, t);
	else if (!want && s->teams[t].in_ring)
		ring_leave(s, t);
}

void rbd_sched_set_running_cap(rbd_sched *s, const char *team_name, uint32_t max_running)
{
	size_t t = team_get(s, team_name);
	s->teams[t].cap = max_running;
	ring_update(s, t);
}

void rbd_sched_push(rbd_sched *s, const char *team_name, int64_t id)
{
	/* The same job queued twice would run twice: the caller's bookkeeping is broken. */
	rbe_require(ids_find(s, id) == NONE);
	size_t t = team_get(s, team_name);
	team *tm = &s->teams[t];
	if (tm->q_len == tm->q_cap) {
		size_t cap = tm->q_cap ? tm->q_cap * 2 : 8;
		int64_t *q = rbe_xmalloc(cap * sizeof(*q));
		for (size_t k = 0; k < tm->q_len; k++)
			q[k] = tm->q[(tm->q_head + k) % tm->q_cap];
		free(tm->q);
		tm->q = q;
		tm->q_cap = cap;
		tm->q_head = 0;
	}
	tm->q[(tm->q_head + tm->q_len) % tm->q_cap] = id;
	tm->q_len++;
	s->queued++;
	ids_put(s, id, t);
	ring_update(s, t);
}

int rbd_sched_remove(rbd_sched *s, int64_t id)
{
	size_t slot = ids_find(s, id);
	if (slot == NONE)
		return -ENOENT;
	size_t t = s->ids[slot].team_plus1 - 1;
	ids_del_at(s, slot);
	team *tm = &s->teams[t];
	size_t k = 0;
	while (k < tm->q_len && tm->q[(tm->q_head + k) % tm->q_cap] != id)
		k++;
	rbe_require(k < tm->q_len); /* the index said it is queued here */
	for (; k + 1 < tm->q_len; k++)
		tm->q[(tm->q_head + k) % tm->q_cap] = tm->q[(tm->q_head + k + 1) % tm->q_cap];
	tm->q_len--;
	s->queued--;
	ring_update(s, t);
	return 0;
}

int rbd_sched_next(rbd_sched *s, int64_t *id, const char **team_name)
{
	if (s->cursor == NONE)
		return 0;
	size_t t = s->cursor;
	team *tm = &s->teams[t];
	int64_t job = tm->q[tm->q_head];
	tm->q_head = (tm->q_head + 1) % tm->q_cap;
	tm->q_len--;
	tm->running++;
	s->queued--;
	s->running++;
	ids_del_at(s, ids_find(s, job));
	/* The turn passes on whether or not this team stays in the ring. */
	s->cursor = tm->next;
	s->last_served = t;
	ring_update(s, t);
	*id = job;
	*team_name = tm->name;
	return 1;
}

void rbd_sched_finished(rbd_sched *s, const char *team_name)
{
	size_t t = team_find(s, team_name);
	/* Only a job rbd_sched_next handed out can finish. */
	rbe_require(t != NONE && s->teams[t].running > 0);
	s->teams[t].running--;
	s->running--;
	ring_update(s, t);
}

size_t rbd_sched_queued(const rbd_sched *s, const char *team_name)
{
	if (!team_name)
		return s->queued;
	size_t t = team_find(s, team_name);
	return t == NONE ? 0 : s->teams[t].q_len;
}

size_t rbd_sched_running(const rbd_sched *s, const char *team_name)
{
	if (!team_name)
		return s->running;
	size_t t = team_find(s, team_name);
	return t == NONE ? 0 : s->teams[t].running;
}
