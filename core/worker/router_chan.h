/* router_chan.h — the channel between rbd-worker's evaluator and its router process: one shared
 * mapping (a header, then a data area), two message counters passed back and forth like a ball,
 * each side spinning briefly and then sleeping on a futex. Internal to core/worker. */
#ifndef WORKER_ROUTER_CHAN_H
#define WORKER_ROUTER_CHAN_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The router process finds the mapping on this descriptor. */
#define RCH_FD 3
#define RCH_HEADER_SIZE 4096
#define RCH_ARGS 6
/* Polls before a futex sleep: a decide with a few calls answers well within it. */
#define RCH_SPINS 4000
/* A sleeping side looks at the world (is the router still alive?) at least this often. */
#define RCH_SLEEP_NS (20 * 1000 * 1000L)

/* Messages. Evaluator → router unless said otherwise; the router answers each with RCH_REPLY
 * (a[0] = 0 or -errno), except RCH_DECIDE, which it may first answer with any number of
 * RCH_CALL. */
enum rch_op {
	RCH_HELLO = 1,    /* router → evaluator once loaded: a[0] rc; data the descriptor JSON or the error */
	RCH_UPLOAD,       /* append data[0, len) to the router's upload buffer */
	RCH_CREATE,       /* the upload holds the create payload → a[1] handle; data: error text */
	RCH_QUERIES,      /* a[0] handle; the upload holds a query view */
	RCH_PREDICT,      /* a[0] handle, a[1] off, a[2] n → a[1] has_cost; data q_hat, then c_hat at a[2] */
	RCH_N_POINTS,     /* a[0] handle → a[1] points */
	RCH_DESCRIBE,     /* a[0] handle, a[1] point → data text */
	/* A run of decisions at one point: a[0] handle, a[1] first prompt, a[2] point, a[3] count,
	 * a[4] 1: distribution after each decide (the order eval calls them in). The router decides
	 * prompt after prompt, writing an rch_decision per prompt into the data area, until the count
	 * or a failed decide; then a[1] = decisions written. A call inside any decide is an RCH_CALL
	 * (the evaluator answers it once it has reached that prompt). */
	RCH_DECIDE,
	RCH_CALL,   /* router → evaluator: a[0] model, a[1] prompt, a[2] decisions written so far; the
		     * decision being made lists its calls until now (replayed first) */
	RCH_ANSWER, /* evaluator → router: d what host->call returns; a[1] 1: stop the run after this decide */
	RCH_DISTRIBUTION, /* a[0] handle, a[1] i, a[2] point → data n_models doubles */
	RCH_DESTROY,      /* a[0] handle */
	RCH_QUIT,         /* no answer: the router exits 0 */
	RCH_REPLY,
};

typedef struct rch_header {
	_Atomic uint32_t to_router, to_eval; /* message counters, the futex words */
	_Atomic uint32_t router_sleeps, eval_sleeps;
	uint32_t op;
	uint32_t pad;
	int64_t a[RCH_ARGS];
	double d;
	uint64_t len;      /* bytes of the message in the data area */
	uint64_t data_cap; /* size of the data area (set by the evaluator) */
	/* Set by the router's fatal-signal handler: what its crash looked like from inside. */
	_Atomic int32_t crash_signal;
	_Atomic uint64_t crash_vm;
} rch_header;

/* One decision of a run, then n_models doubles (its distribution), then the distinct models it
 * called, in the order of their first call (n_calls uint32). A call whose answer the router
 * already had (an earlier decision on the prompt called it) costs no round trip: the evaluator
 * replays the list through host->call, which charges it, in the order the router made them. */
typedef struct rch_decision {
	int64_t rc, model, dist_rc, n_calls;
} rch_decision;

static inline size_t rch_decision_size(size_t n_models)
{
	return sizeof(rch_decision) + n_models * sizeof(double) + (n_models * sizeof(uint32_t) + 7) / 8 * 8;
}

static inline uint32_t *rch_decision_calls(void *decision, size_t n_models)
{
	return (uint32_t *)((char *)decision + sizeof(rch_decision) + n_models * sizeof(double));
}

static inline char *rch_data(rch_header *h)
{
	return (char *)h + RCH_HEADER_SIZE;
}

static inline void rch_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Pass the ball: bump word, and wake the other side when it sleeps. */
static inline void rch_post(_Atomic uint32_t *word, _Atomic uint32_t *sleeps)
{
	atomic_fetch_add(word, 1);
	if (atomic_load(sleeps))
		syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Wait until word moves past seen. stop (may be NULL) is asked between sleeps; a non-zero
 * answer gives up with it. */
static inline int rch_wait(_Atomic uint32_t *word, _Atomic uint32_t *sleeps, uint32_t seen, int (*stop)(void *),
			   void *ctx)
{
	for (int k = 0; k < RCH_SPINS; k++) {
		if (atomic_load_explicit(word, memory_order_acquire) != seen)
			return 0;
		rch_cpu_relax();
	}
	for (;;) {
		atomic_store(sleeps, 1);
		if (atomic_load(word) == seen) {
			struct timespec ts = {0, RCH_SLEEP_NS};
			syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, NULL, 0);
		}
		atomic_store(sleeps, 0);
		if (atomic_load(word) != seen)
			return 0;
		int rc = stop ? stop(ctx) : 0;
		if (rc)
			return rc;
	}
}

/* ---- flat encoding of views and arguments (evaluator writes, router reads) ---- */

typedef struct rch_buf {
	char *p;
	size_t len, cap;
} rch_buf;

typedef struct rch_reader {
	const char *p;
	size_t len, off;
	int bad;
} rch_reader;

void rch_put(rch_buf *b, const void *data, size_t n);
void rch_put_u64(rch_buf *b, uint64_t v);
void rch_put_str(rch_buf *b, const char *s); /* NULL is written as absent */
void rch_align(rch_buf *b);                  /* to 8 bytes */

const void *rch_get(rch_reader *r, size_t n); /* NULL (and r->bad) past the end */
uint64_t rch_get_u64(rch_reader *r);
const char *rch_get_str(rch_reader *r); /* NULL when absent or bad */
void rch_skip_align(rch_reader *r);

#endif
