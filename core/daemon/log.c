/* log.c — rbd's log lines on standard error, and the limiter for lines that repeat. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "lib/util.h"

static int max_level = RBD_LOG_INFO;

void rbd_log_set_level(int level)
{
	max_level = level;
}

static void emit(int level, const char *line)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	/* Under systemd journald stamps each line; elsewhere the time helps reading a log file. */
	if (getenv("JOURNAL_STREAM")) {
		fprintf(stderr, "<%d>rbd: %s: %s\n", level == RBD_LOG_ERR ? 3 : level == RBD_LOG_WARN ? 4 : 6,
			names[level], line);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ rbd[%d]: %s: %s\n", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
			(int)getpid(), names[level], line);
	}
	fflush(stderr);
}

static void vemit(int level, const char *fmt, va_list ap)
{
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(level, line);
}

void rbd_log(int level, const char *fmt, ...)
{
	if (level > max_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vemit(level, fmt, ap);
	va_end(ap);
}

/* ---- the limiter ---- */

#define KINDS 64      /* kinds followed at once; the least recently used one makes room */
#define MAX_BACKOFF 64

typedef struct kind_slot {
	char kind[96];
	int level;
	double start, interval, used;
	unsigned n;
	unsigned long suppressed;
} kind_slot;

static kind_slot slots[KINDS];
static unsigned burst = 10;
static double base_interval = 10;
static double (*clock_fn)(void) = rbe_now;

void rbd_log_set_limit(unsigned b, double interval_seconds)
{
	burst = b;
	base_interval = interval_seconds;
	memset(slots, 0, sizeof(slots));
}

void rbd_log_set_clock(double (*now)(void))
{
	clock_fn = now ? now : rbe_now;
}

static void summary(kind_slot *k)
{
	if (!k->suppressed)
		return;
	char line[256];
	snprintf(line, sizeof(line), "%lu similar lines suppressed (%.95s) in the last %lu s", k->suppressed, k->kind,
		 (unsigned long)(k->interval + 0.5));
	emit(k->level, line);
	k->suppressed = 0;
}

static kind_slot *slot_for(const char *kind, double now)
{
	kind_slot *free_slot = NULL, *oldest = &slots[0];
	for (size_t i = 0; i < KINDS; i++) {
		kind_slot *k = &slots[i];
		if (!k->kind[0]) {
			if (!free_slot)
				free_slot = k;
		} else if (!strncmp(k->kind, kind, sizeof(k->kind) - 1)) {
			return k;
		} else if (k->used < oldest->used) {
			oldest = k;
		}
	}
	kind_slot *k = free_slot ? free_slot : oldest;
	summary(k);
	memset(k, 0, sizeof(*k));
	snprintf(k->kind, sizeof(k->kind), "%s", kind);
	k->start = now;
	k->interval = base_interval;
	return k;
}

/* k's interval is over: say what it held back, and start the next (longer after a flood:
 * collectd's complain; a quiet interval forgives). */
static void next_interval(kind_slot *k, double now)
{
	int flooded = k->suppressed > 0;
	summary(k);
	k->interval = flooded ? (k->interval * 2 > base_interval * MAX_BACKOFF ? base_interval * MAX_BACKOFF
									    : k->interval * 2)
			      : base_interval;
	k->start = now;
	k->n = 0;
}

void rbd_log_limiter_tick(void)
{
	double now = clock_fn();
	for (size_t i = 0; i < KINDS; i++)
		if (slots[i].kind[0] && slots[i].suppressed && now - slots[i].start >= slots[i].interval)
			next_interval(&slots[i], now);
}

void rbd_log_limited(const char *kind, int level, const char *fmt, ...)
{
	if (level > max_level)
		return;
	double now = clock_fn();
	kind_slot *k = slot_for(kind, now);
	k->used = now;
	k->level = level;
	if (now - k->start >= k->interval)
		next_interval(k, now);
	if (k->n >= burst) {
		k->suppressed++;
		return;
	}
	k->n++;
	va_list ap;
	va_start(ap, fmt);
	vemit(level, fmt, ap);
	va_end(ap);
}
