/* log.h — rbd's log: one line per event on standard error (journald adds the time under
 * systemd; a timestamp is added otherwise), and a limiter for lines that would repeat. */
#ifndef RBD_DLOG_H
#define RBD_DLOG_H

enum { RBD_LOG_ERR = 0, RBD_LOG_WARN = 1, RBD_LOG_INFO = 2, RBD_LOG_DEBUG = 3 };

void rbd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Messages above this level are dropped (default RBD_LOG_INFO; RBD_LOG_DEBUG with rbd -v). */
void rbd_log_set_level(int level);

#endif
