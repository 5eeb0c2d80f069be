/* test_fairsched.c — the fair queue: FIFO per team, teams taking turns, running caps, removal. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fairsched.h"

/* The next job, which must exist, as "team:id". */
static const char *next_str(rbd_sched *s)
{
	static char buf[64];
	int64_t id = -1;
	const char *team = NULL;
	cr_assert_eq(rbd_sched_next(s, &id, &team), 1, "a job should be ready");
	snprintf(buf, sizeof(buf), "%s:%lld", team, (long long)id);
	return buf;
}

/* Queue the jobs of a list like "a:1 b:2" (team:id), in order. */
static void push(rbd_sched *s, const char *jobs)
{
	char team[16];
	long long id;
	int used;
	const char *p = jobs;
	for (; sscanf(p, " %15[^:]:%lld%n", team, &id, &used) == 2; p += used)
		rbd_sched_push(s, team, id);
	cr_assert_eq(strspn(p, " "), strlen(p), "not a job list: \"%s\"", jobs);
}

/* The next jobs, in order, are those of a list like "a:1 b:2". */
static void expect_next(rbd_sched *s, const char *jobs)
{
	char want[32];
	int used;
	for (const char *p = jobs; sscanf(p, " %31s%n", want, &used) == 1; p += used)
		cr_assert_str_eq(next_str(s), want, "in \"%s\"", jobs);
}

static void expect_nothing(rbd_sched *s)
{
	int64_t id = -1;
	const char *team = NULL;
	cr_assert_eq(rbd_sched_next(s, &id, &team), 0);
	cr_assert_eq(id, -1, "untouched when nothing can run");
}

Test(fairsched, empty)
{
	rbd_sched *s = rbd_sched_new();
	expect_nothing(s);
	cr_assert_eq(rbd_sched_queued(s, NULL), 0);
	cr_assert_eq(rbd_sched_running(s, NULL), 0);
	cr_assert_eq(rbd_sched_queued(s, "nobody"), 0);
	cr_assert_eq(rbd_sched_running(s, "nobody"), 0);
	cr_assert_eq(rbd_sched_remove(s, 1), -ENOENT);
	rbd_sched_free(s);
	rbd_sched_free(NULL);
}

Test(fairsched, fifo_within_a_team)
{
	rbd_sched *s = rbd_sched_new();
	for (int64_t id = 10; id < 15; id++)
		rbd_sched_push(s, "a", id);
	for (int64_t id = 10; id < 15; id++) {
		char want[16];
		snprintf(want, sizeof(want), "a:%lld", (long long)id);
		expect_next(s, want);
	}
	expect_nothing(s);
	cr_assert_eq(rbd_sched_running(s, "a"), 5);
	rbd_sched_free(s);
}

Test(fairsched, a_small_team_is_not_stuck_behind_a_big_one)
{
	rbd_sched *s = rbd_sched_new();
	for (int64_t id = 1; id <= 1000; id++)
		rbd_sched_push(s, "A", id);
	rbd_sched_push(s, "B", 1001);
	cr_assert_eq(rbd_sched_queued(s, NULL), 1001);
	int64_t first = 0, second = 0;
	const char *team = NULL;
	cr_assert_eq(rbd_sched_next(s, &first, &team), 1);
	cr_assert_eq(rbd_sched_next(s, &second, &team), 1);
	cr_assert(first == 1001 || second == 1001, "B's job is among the first two (got %lld, %lld)", (long long)first,
		  (long long)second);
	rbd_sched_free(s);
}

Test(fairsched, teams_take_turns)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 b:2 c:3 a:4 b:5 c:6 a:7 b:8 c:9");
	expect_next(s, "a:1 b:2 c:3 a:4 b:5 c:6 a:7 b:8 c:9");
	expect_nothing(s);
	rbd_sched_free(s);
}

/* The turn resumes after the team served last, whatever else happened in between. */
Test(fairsched, rotation_resumes_after_the_last_served)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 b:2 c:3");
	expect_next(s, "a:1 b:2");
	push(s, "a:4 b:5");
	expect_next(s, "c:3 a:4 b:5");
	push(s, "c:6 b:7 a:8");
	expect_next(s, "c:6");
	rbd_sched_finished(s, "a");
	expect_next(s, "b:7 a:8");
	rbd_sched_free(s);
}

/* A team that could not run joins at the end of the round: nobody waits more than one round. */
Test(fairsched, a_returning_team_joins_at_the_end_of_the_round)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 a:2 b:3 b:4");
	expect_next(s, "a:1");
	push(s, "c:5");
	expect_next(s, "b:3 a:2 c:5 b:4");
	expect_nothing(s);
	rbd_sched_free(s);
}

/* rbd's case: one worker, team a's job running and more of a's queued behind it when b's single
 * job arrives; b's job must be next, not after another of a's. */
Test(fairsched, a_newcomer_goes_before_the_team_just_served)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1");
	expect_next(s, "a:1");
	push(s, "a:2 a:3 a:4 a:5 a:6 b:7");
	rbd_sched_finished(s, "a");
	expect_next(s, "b:7 a:2");
	/* The same when a never left the ring: a just served, c arrives, then d. */
	push(s, "c:8");
	expect_next(s, "c:8 a:3");
	push(s, "d:9");
	expect_next(s, "d:9 a:4");
	rbd_sched_free(s);
}

Test(fairsched, running_caps)
{
	rbd_sched *s = rbd_sched_new();
	rbd_sched_set_running_cap(s, "a", 1);
	push(s, "a:1 a:2 a:3 b:11 b:12 b:13");
	expect_next(s, "a:1 b:11 b:12 b:13");
	expect_nothing(s);
	cr_assert_eq(rbd_sched_running(s, "a"), 1);
	cr_assert_eq(rbd_sched_queued(s, "a"), 2);
	cr_assert_eq(rbd_sched_running(s, NULL), 4);
	cr_assert_eq(rbd_sched_queued(s, NULL), 2);

	rbd_sched_finished(s, "b");
	expect_nothing(s);
	rbd_sched_finished(s, "a");
	expect_next(s, "a:2");
	expect_nothing(s);

	rbd_sched_set_running_cap(s, "a", 0);
	expect_next(s, "a:3");
	cr_assert_eq(rbd_sched_running(s, "a"), 2);
	rbd_sched_free(s);
}

Test(fairsched, changing_caps_while_queued)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 a:2 b:3");
	rbd_sched_set_running_cap(s, "a", 1);
	expect_next(s, "a:1 b:3");
	expect_nothing(s);
	rbd_sched_set_running_cap(s, "a", 2);
	expect_next(s, "a:2");

	/* A cap lowered below what runs already stops new starts until enough have finished. */
	push(s, "a:4");
	rbd_sched_set_running_cap(s, "a", 1);
	rbd_sched_finished(s, "a");
	expect_nothing(s);
	rbd_sched_finished(s, "a");
	expect_next(s, "a:4");
	rbd_sched_free(s);
}

Test(fairsched, remove)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 a:2 a:3 a:4 a:5 b:6");
	cr_assert_eq(rbd_sched_remove(s, 3), 0);
	cr_assert_eq(rbd_sched_remove(s, 3), -ENOENT);
	cr_assert_eq(rbd_sched_remove(s, 1), 0, "the head");
	cr_assert_eq(rbd_sched_remove(s, 5), 0, "the tail");
	cr_assert_eq(rbd_sched_queued(s, "a"), 2);
	cr_assert_eq(rbd_sched_queued(s, NULL), 3);
	cr_assert_eq(rbd_sched_remove(s, 6), 0, "b's only job: b leaves the rotation");
	expect_next(s, "a:2");
	cr_assert_eq(rbd_sched_remove(s, 2), -ENOENT, "a running job is not queued");
	expect_next(s, "a:4");
	expect_nothing(s);
	cr_assert_eq(rbd_sched_queued(s, NULL), 0);
	rbd_sched_free(s);
}

Test(fairsched, remove_the_team_due_next)
{
	rbd_sched *s = rbd_sched_new();
	push(s, "a:1 b:2 c:3 a:4");
	expect_next(s, "a:1");
	cr_assert_eq(rbd_sched_remove(s, 2), 0);
	expect_next(s, "c:3 a:4");
	expect_nothing(s);
	rbd_sched_free(s);
}

Test(fairsched, team_names_are_copied)
{
	rbd_sched *s = rbd_sched_new();
	char name[16];
	snprintf(name, sizeof(name), "nlp");
	rbd_sched_push(s, name, 1);
	snprintf(name, sizeof(name), "xxx");
	int64_t id;
	const char *team;
	cr_assert_eq(rbd_sched_next(s, &id, &team), 1);
	cr_assert_str_eq(team, "nlp");
	cr_assert_neq(team, name);
	rbd_sched_finished(s, "nlp");
	cr_assert_eq(rbd_sched_running(s, "nlp"), 0);
	rbd_sched_free(s);
}

Test(fairsched, pushing_a_queued_id_twice_aborts, .signal = SIGABRT)
{
	rbd_sched *s = rbd_sched_new();
	rbd_sched_push(s, "a", 1);
	rbd_sched_push(s, "b", 1);
}

Test(fairsched, finishing_what_never_ran_aborts, .signal = SIGABRT)
{
	rbd_sched *s = rbd_sched_new();
	rbd_sched_push(s, "a", 1);
	rbd_sched_finished(s, "a");
}

/* Random pushes, removals, starts and finishes against the rules: every job runs once, in its
 * team's order, never above a cap, and while a team can run no other team is served twice
 * before it (one round at most). */
Test(fairsched, random_operations_keep_the_rules)
{
	enum { TEAMS = 5, OPS = 200000 };
	static const char *const names[TEAMS] = {"t0", "t1", "t2", "t3", "t4"};
	static const uint32_t caps[TEAMS] = {0, 1, 2, 0, 3};
	rbd_sched *s = rbd_sched_new();
	for (int t = 0; t < TEAMS; t++)
		rbd_sched_set_running_cap(s, names[t], caps[t]);
	int64_t *queue[TEAMS];
	size_t qlen[TEAMS] = {0}, qhead[TEAMS] = {0}, running[TEAMS] = {0};
	for (int t = 0; t < TEAMS; t++)
		queue[t] = malloc(OPS * sizeof(int64_t));
	/* served_since[t][u]: how often u was served since t last was, while t could run. */
	size_t served_since[TEAMS][TEAMS] = {{0}};
	unsigned seed = 7;
	int64_t next_id = 1;
	size_t total_started = 0;
	for (int op = 0; op < OPS; op++) {
		int t = rand_r(&seed) % TEAMS;
		int what = rand_r(&seed) % 10;
		if (what < 4) {
			queue[t][qhead[t] + qlen[t]++] = next_id;
			rbd_sched_push(s, names[t], next_id++);
		} else if (what < 5 && qlen[t] > 0) {
			/* Remove a random queued job of t. */
			size_t k = (size_t)rand_r(&seed) % qlen[t];
			cr_assert_eq(rbd_sched_remove(s, queue[t][qhead[t] + k]), 0);
			memmove(&queue[t][qhead[t] + k], &queue[t][qhead[t] + k + 1], (qlen[t] - k - 1) * sizeof(int64_t));
			qlen[t]--;
			/* Emptied, t left the rotation: when it comes back it waits a round. */
			if (qlen[t] == 0)
				memset(served_since[t], 0, sizeof(served_since[t]));
		} else if (what < 8) {
			int64_t id;
			const char *team;
			int can[TEAMS], any = 0;
			for (int u = 0; u < TEAMS; u++) {
				can[u] = qlen[u] > 0 && (caps[u] == 0 || running[u] < caps[u]);
				any |= can[u];
			}
			int got = rbd_sched_next(s, &id, &team);
			cr_assert_eq(got, any, "op %d: next says %d, a team can run: %d", op, got, any);
			if (!got)
				continue;
			int u = team[1] - '0';
			cr_assert(can[u], "op %d: %s served but cannot run", op, team);
			cr_assert_eq(id, queue[u][qhead[u]], "op %d: %s out of order", op, team);
			qhead[u]++;
			qlen[u]--;
			running[u]++;
			total_started++;
			for (int v = 0; v < TEAMS; v++) {
				if (v == u) {
					memset(served_since[v], 0, sizeof(served_since[v]));
				} else if (can[v]) {
					served_since[v][u]++;
					cr_assert_leq(served_since[v][u], 1, "op %d: %s served twice while %s waited", op,
						      team, names[v]);
				} else {
					memset(served_since[v], 0, sizeof(served_since[v]));
				}
			}
		} else if (running[t] > 0) {
			rbd_sched_finished(s, names[t]);
			running[t]--;
		}
		size_t all_q = 0, all_r = 0;
		for (int u = 0; u < TEAMS; u++) {
			cr_assert_eq(rbd_sched_queued(s, names[u]), qlen[u]);
			cr_assert_eq(rbd_sched_running(s, names[u]), running[u]);
			all_q += qlen[u];
			all_r += running[u];
		}
		cr_assert_eq(rbd_sched_queued(s, NULL), all_q);
		cr_assert_eq(rbd_sched_running(s, NULL), all_r);
	}
	cr_assert_gt(total_started, OPS / 10);
	for (int t = 0; t < TEAMS; t++)
		free(queue[t]);
	rbd_sched_free(s);
}
