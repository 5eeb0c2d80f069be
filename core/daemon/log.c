/* log.c — rbd's log lines on standard error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

static int max_level = RBD_LOG_INFO;

void rbd_log_set_level(int level)
{
	max_level = level;
}

void rbd_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level > max_level)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
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
