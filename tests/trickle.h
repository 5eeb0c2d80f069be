/* trickle.h — feed a pipe one byte per write from a thread, so a reader meets every possible
 * cut between reads. */
#ifndef RB_TEST_TRICKLE_H
#define RB_TEST_TRICKLE_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>

typedef struct trickle {
	int fd;
	const char *text;
	size_t len;
	pthread_t thread;
} trickle;

static inline void *trickle_out(void *arg)
{
	trickle *t = arg;
	for (size_t i = 0; i < t->len; i++)
		if (write(t->fd, t->text + i, 1) != 1)
			break;
	close(t->fd);
	return NULL;
}

/* Start writing text (borrowed until trickle_join) into a new pipe; returns its read end. */
static inline int trickle_start(trickle *t, const char *text, size_t len)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	*t = (trickle){.fd = fds[1], .text = text, .len = len};
	cr_assert_eq(pthread_create(&t->thread, NULL, trickle_out, t), 0);
	return fds[0];
}

static inline void trickle_join(trickle *t)
{
	pthread_join(t->thread, NULL);
}

#endif
