/* log.h — rbd's log: one line per event on standard error (journald adds the time under
 * systemd; a timestamp is added otherwise), and a limiter for lines that would repeat. */
#ifndef RBD_DLOG_H
#define RBD_DLOG_H

enum { RBD_LOG_ERR = 0, RBD_LOG_WARN = 1, RBD_LOG_INFO = 2, RBD_LOG_DEBUG = 3 };

void rbd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Messages above this level are dropped (default RBD_LOG_INFO; RBD_LOG_DEBUG with rbd -v). */
void rbd_log_set_level(int level);

/* rbd_log for lines that may come in floods (a router's output, a client that keeps being
 * refused): lines of one kind (any text naming the source, e.g. "job 12 output") pass at most
 * burst at a time per interval; the rest are counted and, when the next line of that kind
 * passes, summed up as one "N similar lines suppressed (KIND)" line. An interval that needed
 * suppressing doubles the next one (up to 64 times the base); a quiet one resets it. */
void rbd_log_limited(const char *kind, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Summaries of kinds whose interval is over though no line of theirs came since: rbd calls it
 * every second, so a flood that stopped is still summed up. */
void rbd_log_limiter_tick(void);
/* Defaults: 10 lines per 10 s. */
void rbd_log_set_limit(unsigned burst, double interval_seconds);
/* The limiter's clock in seconds (tests; default: monotonic). NULL restores the default. */
void rbd_log_set_clock(double (*now)(void));

#endif
