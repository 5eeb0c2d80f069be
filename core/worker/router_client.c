/* router_client.c — the evaluator's side of a job's router process: spawn it, give it the views
 * the plugin ABI promises and nothing else, call it through eval's router interface, and end
 * it, its process group and its output however the job ends. */
#include "worker/router_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "eval/eval.h"
#include "eval/params.h"
#include "worker/router_chan.h"

/* What a job's router may write to standard error before the rest is dropped. */
#define ROUTER_OUTPUT_MAX ((size_t)1 << 20)
/* The shared data area holds at least this (uploads go in chunks of it). */
#define DATA_MIN ((size_t)4 << 20)

struct worker_router {
	pid_t pid;
	int pidfd, err_fd, stop_fd;
	rch_header *h;
	size_t map_len;
	uint32_t seen; /* to_eval as last seen */
	pthread_t monitor;
	int monitor_started;
	_Atomic int exited; /* set by the monitor once the router process has ended (not reaped) */
	siginfo_t how;      /* how it ended, valid once exited */
	int quit_sent;
	int lost;           /* a request found the router gone */
	int broken;         /* the router broke the protocol: nothing more is asked of it */
	int invalid_output; /* the evaluation refused what it returned */
	char protocol[256]; /* what it broke */
	uint64_t limit_as, limit_cpu;
	uint32_t n_models;
	const rb_host_api *host; /* the evaluation's, from create: its call() charges */
	uint64_t n_queries;      /* of the query view the router holds */
	struct decide_run {
		int active, finished;  /* a run is out; the router has answered its end */
		int64_t handle;
		uint32_t point;
		uint64_t first, count; /* its prompts */
		uint64_t have;         /* decisions copied into buf */
		int64_t waiting;       /* the prompt whose call waits for its caller, or -1 */
		uint32_t waiting_model;
		int with_distribution;
		char *buf;             /* [count] decisions, private copies */
		size_t buf_cap;
	} run;
	size_t forwarded;
	rb_router desc;
	rbe_plugin shadow;
	char *name, *version, *summary;
};

/* ---- the monitor thread: router's standard error, and its end ---- */

static void forward(worker_router *r, const char *buf, size_t n)
{
	if (r->forwarded >= ROUTER_OUTPUT_MAX)
		return;
	size_t room = ROUTER_OUTPUT_MAX - r->forwarded;
	rbe_write_all(STDERR_FILENO, buf, n < room ? n : room);
	r->forwarded += n < room ? n : room;
	if (n >= room) {
		static const char note[] = "\n[router output truncated after 1 MiB]\n";
		rbe_write_all(STDERR_FILENO, note, sizeof(note) - 1);
	}
}

static void *monitor_main(void *arg)
{
	worker_router *r = arg;
	char buf[16384];
	struct pollfd p[3] = {{.fd = r->err_fd, .events = POLLIN},
			      {.fd = r->pidfd, .events = POLLIN},
			      {.fd = r->stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(r->err_fd, buf, sizeof(buf));
			if (n > 0)
				forward(r, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				p[0].fd = -1;
		}
		if (p[1].revents) {
			/* Look, but leave the zombie: its pid (and group) stays ours until reaped. */
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == r->pid) {
				r->how = si;
				atomic_store(&r->exited, 1);
				syscall(SYS_futex, &r->h->to_eval, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
				p[1].fd = -1;
			}
		}
		if (p[2].revents)
			break;
	}
	/* What is already in the pipe, and no more: an orphan may hold its write end. */
	fcntl(r->err_fd, F_SETFL, fcntl(r->err_fd, F_GETFL) | O_NONBLOCK);
	for (size_t drained = 0; drained < ROUTER_OUTPUT_MAX;) {
		ssize_t n = read(r->err_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		forward(r, buf, (size_t)n);
		drained += (size_t)n;
	}
	return NULL;
}

/* ---- requests ---- */

static int gone(void *ctx)
{
	return atomic_load(&((worker_router *)ctx)->exited) ? -EPIPE : 0;
}

/* Send the message in the header and wait for the router's next one; its op, or -errno. */
static int exchange(worker_router *r, uint32_t op)
{
	if (r->broken)
		return -EPROTO;
	if (r->lost || atomic_load(&r->exited)) {
		r->lost = 1;
		return -EPIPE;
	}
	r->h->op = op;
	rch_post(&r->h->to_router, &r->h->router_sleeps);
	if (rch_wait(&r->h->to_eval, &r->h->eval_sleeps, r->seen, gone, r) < 0) {
		r->lost = 1;
		return -EPIPE;
	}
	r->seen++;
	uint32_t now = atomic_load(&r->h->to_eval);
	if (now != r->seen) {
		snprintf(r->protocol, sizeof(r->protocol), "message counter %u where %u was due", now, r->seen);
		r->broken = 1;
		return -EPROTO;
	}
	return (int)r->h->op;
}

static int broke(worker_router *r, const char *what)
{
	if (!r->broken)
		snprintf(r->protocol, sizeof(r->protocol), "%s", what);
	r->broken = 1;
	return -EPROTO;
}

/* A reply's return code: a negative errno, or 0. */
static int reply_rc(worker_router *r, int op)
{
	if (op < 0)
		return op;
	if (op != RCH_REPLY)
		return broke(r, "unexpected message instead of a reply");
	int64_t rc = r->h->a[0];
	return rc > 0 ? -EIO : rc < -4095 ? -EIO : (int)rc;
}

static int request(worker_router *r, uint32_t op)
{
	return reply_rc(r, exchange(r, op));
}

static int end_run(worker_router *r);

/* b's bytes into the router's upload buffer, in chunks of the data area. */
static int upload(worker_router *r, const rch_buf *b)
{
	int rc = end_run(r);
	if (rc < 0)
		return rc;
	size_t off = 0;
	do {
		size_t n = b->len - off < r->h->data_cap ? b->len - off : r->h->data_cap;
		memcpy(rch_data(r->h), b->p + off, n);
		r->h->len = n;
		r->h->a[0] = off == 0;
		rc = request(r, RCH_UPLOAD);
		if (rc < 0)
			return rc;
		off += n;
	} while (off < b->len);
	return 0;
}

static void put_strs(rch_buf *b, const char *const *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		rch_put_str(b, s[k]);
}

/* Only what v holds: a query view carries no quality or cost, and never did. */
static void encode_view(rch_buf *b, const rb_view *v)
{
	size_t n = v->n, M = v->n_models, D = v->features ? v->feature_dim : 0;
	uint64_t flags = (v->quality ? 1 : 0) | (v->cost ? 2 : 0) | (v->prompt_tokens ? 4 : 0) | (D ? 8 : 0);
	rch_put_u64(b, n);
	rch_put_u64(b, M);
	rch_put_u64(b, D);
	rch_put_u64(b, flags);
	put_strs(b, v->model_names, M);
	put_strs(b, v->sample_ids, n);
	put_strs(b, v->prompts, n);
	put_strs(b, v->tasks, n);
	rch_align(b);
	if (v->quality)
		rch_put(b, v->quality, n * M * sizeof(float));
	rch_align(b);
	if (v->cost)
		rch_put(b, v->cost, n * M * sizeof(double));
	if (v->prompt_tokens)
		rch_put(b, v->prompt_tokens, n * sizeof(uint32_t));
	rch_align(b);
	if (D)
		rch_put(b, v->features, n * D * sizeof(float));
	rch_put_str(b, D ? v->feature_name : NULL);
}

static void encode_params(rch_buf *b, const rbe_params *p)
{
	rch_put_u64(b, p->n);
	for (uint32_t k = 0; k < p->n; k++) {
		const rb_param_value *v = &p->values[k];
		uint64_t bits;
		memcpy(&bits, &v->r, sizeof(bits));
		rch_put_u64(b, v->type);
		rch_put_u64(b, (uint64_t)v->i);
		rch_put_u64(b, bits);
		rch_put_u64(b, v->model);
		rch_put_str(b, v->s);
		rch_put_u64(b, v->list ? v->list_len : 0);
		if (v->list && v->list_len)
			rch_put(b, v->list, v->list_len * sizeof(double));
	}
}

static int64_t handle_of(void *state)
{
	return (int64_t)(uintptr_t)state - 1;
}

static int remote_create(void *ctx, const rb_create_args *args, const rbe_params *params, void **state, char *err,
			 size_t errlen)
{
	worker_router *r = ctx;
	r->host = args->host;
	rch_buf b = {0};
	encode_view(&b, args->train);
	rch_put_u64(&b, args->seed);
	rch_put_u64(&b, args->host->threads);
	rch_put_str(&b, args->task);
	encode_params(&b, params);
	int rc = upload(r, &b);
	free(b.p);
	if (rc == 0)
		rc = request(r, RCH_CREATE);
	if (rc < 0 && r->h && !r->lost && !r->broken && errlen) {
		size_t n = r->h->len < r->h->data_cap ? r->h->len : 0;
		n = n < errlen ? n : errlen - 1;
		memcpy(err, rch_data(r->h), n);
		err[n] = '\0';
	}
	if (rc == 0) {
		int64_t handle = r->h->a[1];
		if (handle < 0 || handle >= 1 << 20)
			return broke(r, "create answered a bad handle");
		*state = (void *)(uintptr_t)(handle + 1);
	}
	return rc;
}

static int remote_queries(void *ctx, void *state, const rb_view *queries)
{
	worker_router *r = ctx;
	rch_buf b = {0};
	encode_view(&b, queries);
	int rc = upload(r, &b);
	free(b.p);
	r->h->a[0] = handle_of(state);
	r->n_queries = queries->n;
	return rc < 0 ? rc : request(r, RCH_QUERIES);
}

static int remote_predict(void *ctx, void *state, const rb_view *queries, size_t off, size_t n, float *q_hat,
			  double *c_hat, int *has_cost)
{
	worker_router *r = ctx;
	int ended = end_run(r);
	if (ended < 0)
		return ended;
	size_t M = queries->n_models, at = (n * M * sizeof(float) + 7) / 8 * 8;
	if (at + n * M * sizeof(double) > r->h->data_cap)
		return -E2BIG;
	r->h->a[0] = handle_of(state);
	r->h->a[1] = (int64_t)off;
	r->h->a[2] = (int64_t)n;
	int rc = request(r, RCH_PREDICT);
	if (rc < 0)
		return rc;
	*has_cost = (int)r->h->a[1];
	memcpy(q_hat, rch_data(r->h), n * M * sizeof(float));
	memcpy(c_hat, rch_data(r->h) + at, n * M * sizeof(double));
	return 0;
}

static int remote_n_points(void *ctx, void *state, uint32_t *n)
{
	worker_router *r = ctx;
	int ended = end_run(r);
	if (ended < 0)
		return ended;
	r->h->a[0] = handle_of(state);
	int rc = request(r, RCH_N_POINTS);
	int64_t v = r->h->a[1];
	*n = rc == 0 && v >= 0 && v <= UINT32_MAX ? (uint32_t)v : 0; /* 0: refused by the evaluation */
	return rc;
}

static int remote_describe_point(void *ctx, void *state, uint32_t point, char *buf, size_t len)
{
	worker_router *r = ctx;
	int ended = end_run(r);
	if (ended < 0)
		return ended;
	if (len > r->h->data_cap)
		len = r->h->data_cap;
	r->h->a[0] = handle_of(state);
	r->h->a[1] = point;
	r->h->a[2] = (int64_t)len;
	int rc = request(r, RCH_DESCRIBE);
	if (rc == 0)
		memcpy(buf, rch_data(r->h), len);
	return rc;
}

/* Decisions [run.have, upto) of the data area into the private buffer. */
static int take_decisions(worker_router *r, int64_t upto)
{
	struct decide_run *d = &r->run;
	if (upto < (int64_t)d->have || upto > (int64_t)d->count)
		return broke(r, "a decision count out of order");
	size_t size = rch_decision_size(r->n_models);
	memcpy(d->buf + d->have * size, rch_data(r->h) + d->have * size, ((size_t)upto - d->have) * size);
	d->have = (uint64_t)upto;
	return 0;
}

/* Charge the calls a decision lists (those already charged are no-ops for host->call), in its
 * order: the costs add up as they would have in one process. */
static int replay_calls(worker_router *r, const void *decision, rb_caller *caller)
{
	int64_t n = ((const rch_decision *)decision)->n_calls;
	if (n < 0 || n > (int64_t)r->n_models)
		return broke(r, "a decision lists too many calls");
	const uint32_t *calls = rch_decision_calls((void *)decision, r->n_models);
	for (int64_t k = 0; k < n; k++)
		r->host->call(caller, calls[k]);
	return 0;
}

/* The decision being made for prompt (in the data area, the router waiting in a call). */
static const void *live_decision(worker_router *r, int64_t prompt)
{
	return rch_data(r->h) + (size_t)(prompt - (int64_t)r->run.first) * rch_decision_size(r->n_models);
}

/* Follow the run from message op until the decision for prompt i is here (or the run ends): a
 * call for prompt i is answered with caller; one for a later prompt waits for its caller. */
static int follow_run(worker_router *r, int op, uint64_t i, rb_caller *caller)
{
	struct decide_run *d = &r->run;
	for (;;) {
		if (op < 0)
			return op;
		if (op == RCH_REPLY) {
			int rc = reply_rc(r, op);
			d->finished = 1;
			return rc < 0 ? rc : take_decisions(r, r->h->a[1]);
		}
		if (op != RCH_CALL)
			return broke(r, "unexpected message in a run of decisions");
		int64_t model = r->h->a[0], prompt = r->h->a[1], done = r->h->a[2];
		if (prompt < (int64_t)d->first || prompt >= (int64_t)(d->first + d->count) ||
		    done != prompt - (int64_t)d->first || prompt < (int64_t)i)
			return broke(r, "a call for a prompt out of order");
		int rc = take_decisions(r, done);
		if (rc < 0)
			return rc;
		if ((uint64_t)prompt > i) {
			d->waiting = prompt;
			d->waiting_model = model >= 0 && model <= UINT32_MAX ? (uint32_t)model : UINT32_MAX;
			return 0;
		}
		if ((rc = replay_calls(r, live_decision(r, prompt), caller)) < 0)
			return rc;
		r->h->d = r->host->call(caller, model >= 0 && model <= UINT32_MAX ? (uint32_t)model : UINT32_MAX);
		r->h->a[1] = 0;
		op = exchange(r, RCH_ANSWER);
	}
}

/* End the run out, if any: a waiting call is answered -1 and told to stop there. Every other
 * request comes after this. */
static int end_run(worker_router *r)
{
	struct decide_run *d = &r->run;
	int rc = 0;
	while (d->active && !d->finished && rc == 0) {
		r->h->d = -1.0;
		r->h->a[1] = 1;
		int op = exchange(r, RCH_ANSWER);
		while (op == RCH_CALL) { /* further calls of the same decide */
			r->h->d = -1.0;
			r->h->a[1] = 1;
			op = exchange(r, RCH_ANSWER);
		}
		rc = op < 0 ? op : op == RCH_REPLY ? 0 : broke(r, "unexpected message ending a run");
		d->finished = 1;
	}
	d->active = 0;
	return rc;
}

static int start_run(worker_router *r, void *state, uint64_t i, uint32_t point, int with_distribution)
{
	int rc = end_run(r);
	if (rc < 0)
		return rc;
	struct decide_run *d = &r->run;
	size_t size = rch_decision_size(r->n_models);
	uint64_t count = r->n_queries - i, fit = r->h->data_cap / size;
	count = count < fit ? count : fit;
	if (count > 65536)
		count = 65536;
	if (count * size > d->buf_cap) {
		d->buf = rbe_xrealloc(d->buf, count * size);
		d->buf_cap = count * size;
	}
	*d = (struct decide_run){.active = 1, .handle = handle_of(state), .point = point, .first = i, .count = count,
				 .waiting = -1, .with_distribution = with_distribution, .buf = d->buf, .buf_cap = d->buf_cap};
	r->h->a[0] = d->handle;
	r->h->a[1] = (int64_t)i;
	r->h->a[2] = point;
	r->h->a[3] = (int64_t)count;
	r->h->a[4] = with_distribution;
	return 0;
}

/* Decisions run ahead in the router (one request for many prompts); only a call waits for the
 * evaluation to reach its prompt, so calls are answered in the order eval makes decisions. */
static int remote_decide(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t point, rb_caller *caller,
			 uint32_t *model)
{
	worker_router *r = ctx;
	struct decide_run *d = &r->run;
	if (queries->n != r->n_queries || queries->n_models != r->n_models)
		return -EINVAL;
	int in_run = d->active && d->handle == handle_of(state) && d->point == point && i >= d->first &&
		     i < d->first + d->count;
	int rc = 0;
	if (!in_run || (i >= d->first + d->have && d->finished)) {
		/* eval asks for distributions exactly when the router has them (eval.c). */
		if ((rc = start_run(r, state, i, point, r->desc.distribution != NULL)) < 0)
			return rc;
		rc = follow_run(r, exchange(r, RCH_DECIDE), i, caller);
	} else if (d->waiting == (int64_t)i) {
		d->waiting = -1;
		if ((rc = replay_calls(r, live_decision(r, (int64_t)i), caller)) < 0)
			return rc;
		r->h->d = r->host->call(caller, d->waiting_model);
		r->h->a[1] = 0;
		rc = follow_run(r, exchange(r, RCH_ANSWER), i, caller);
	} else if (i >= d->first + d->have) {
		return broke(r, "the run of decisions skipped a prompt");
	}
	if (rc < 0)
		return rc;
	if (i >= d->first + d->have)
		return broke(r, "the run of decisions ended before its prompt");
	const rch_decision *dec = (const rch_decision *)(d->buf + (i - d->first) * rch_decision_size(r->n_models));
	if ((rc = replay_calls(r, dec, caller)) < 0)
		return rc;
	int64_t m = dec->model;
	*model = m >= 0 && m <= UINT32_MAX ? (uint32_t)m : UINT32_MAX;
	return dec->rc > 0 || dec->rc < -4095 ? -EIO : (int)dec->rc;
}

/* The distribution the run took right after the decision. */
static int remote_distribution(void *ctx, void *state, const rb_view *queries, size_t i, uint32_t point,
			       double *probs)
{
	worker_router *r = ctx;
	struct decide_run *d = &r->run;
	if (!d->with_distribution || d->handle != handle_of(state) || d->point != point || i < d->first ||
	    i >= d->first + d->have)
		return broke(r, "a distribution outside the run of decisions");
	const rch_decision *dec = (const rch_decision *)(d->buf + (i - d->first) * rch_decision_size(r->n_models));
	memcpy(probs, dec + 1, queries->n_models * sizeof(double));
	return dec->dist_rc > 0 || dec->dist_rc < -4095 ? -EIO : (int)dec->dist_rc;
}

static void remote_destroy(void *ctx, void *state)
{
	worker_router *r = ctx;
	if (end_run(r) < 0)
		return;
	r->h->a[0] = handle_of(state);
	request(r, RCH_DESTROY);
}

static void remote_fault(void *ctx)
{
	((worker_router *)ctx)->invalid_output = 1;
}

static const rbe_router_ops remote_ops = {
	.create = remote_create,
	.queries = remote_queries,
	.predict = remote_predict,
	.n_points = remote_n_points,
	.describe_point = remote_describe_point,
	.decide = remote_decide,
	.distribution = remote_distribution,
	.destroy = remote_destroy,
	.fault = remote_fault,
};

/* ---- start ---- */

/* Presence marks for the descriptor: eval reads which functions exist, calls go to remote_ops. */
static int absent_describe(void *s, uint32_t p, char *b, size_t l)
{
	(void)s, (void)p, (void)b, (void)l;
	return -ENOSYS;
}

static int absent_distribution(void *s, const rb_view *q, size_t i, uint32_t p, double *probs)
{
	(void)s, (void)q, (void)i, (void)p, (void)probs;
	return -ENOSYS;
}

/* The descriptor the router process sent, checked, as the rbe_plugin eval reads. */
static int take_description(worker_router *r, const char *path, const char *text, rbe_error *e)
{
	json_t *d = json_loads(text, 0, NULL);
	const char *name = json_string_value(json_object_get(d, "name"));
	json_int_t kind = json_integer_value(json_object_get(d, "kind"));
	json_int_t ignores = json_integer_value(json_object_get(d, "ignores"));
	int rc = 0;
	if (!name || (kind != RB_ROUTER_PREDICTIVE && kind != RB_ROUTER_POLICY) || ignores < 0 || ignores > UINT32_MAX ||
	    !json_is_string(json_object_get(d, "version")) ||
	    !json_is_true(json_object_get(d, kind == RB_ROUTER_PREDICTIVE ? "predict" : "decide")))
		rc = broke(r, "the router's description is malformed");
	if (rc == 0)
		rc = rbe_param_schema_from_json(name, json_object_get(d, "params"), &r->shadow.schema, e);
	if (rc == 0) {
		r->name = rbe_xstrdup(name);
		r->version = rbe_xstrdup(json_string_value(json_object_get(d, "version")));
		r->summary = rbe_xstrdup(json_string_value(json_object_get(d, "summary")) ?: "");
		r->desc = (rb_router){
			.stamp = RB_ABI_STAMP,
			.name = r->name,
			.version = r->version,
			.summary = r->summary,
			.kind = (uint32_t)kind,
			.describe_point = json_is_true(json_object_get(d, "describe_point")) ? absent_describe : NULL,
			.distribution = json_is_true(json_object_get(d, "distribution")) ? absent_distribution : NULL,
			.ignores = (uint32_t)ignores,
			.param_value_size = sizeof(rb_param_value),
		};
		r->shadow.router = &r->desc;
		r->shadow.path = rbe_xstrdup(path);
		r->shadow.ops = &remote_ops;
		r->shadow.ops_ctx = r;
	}
	json_decref(d);
	return rc;
}

static char *init_message(const worker_router_conf *c)
{
	const worker_limits *l = &c->limits;
	json_t *m = json_pack("{ss s{sIsIsI} s{sbsIsIsb}}", "plugin", c->plugin, "limits", "address_space",
			      (json_int_t)l->address_space, "cpu_seconds", (json_int_t)l->cpu_seconds, "open_files",
			      (json_int_t)l->open_files, "sandbox", "enabled", c->sandbox.enabled, "uid",
			      (json_int_t)c->sandbox.uid, "gid", (json_int_t)c->sandbox.gid, "need_landlock",
			      c->sandbox.need_landlock);
	char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	return text;
}

/* fork + exec of this program as "--router": nothing but the channel and the pipe survive. */
static int spawn(worker_router *r, int chan_fd, int err_w, rbe_error *e)
{
	char parent[32];
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	char *argv[] = {"rbd-worker", "--router", parent, NULL};
	pid_t pid = fork();
	if (pid < 0)
		return rbe_fail(e, -errno, "starting the router process: fork: %s", strerror(errno));
	if (pid == 0) {
		/* Only async-signal-safe calls until exec. */
		setpgid(0, 0);
		if (dup2(err_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0)
			_exit(126);
		if (chan_fd == RCH_FD ? fcntl(RCH_FD, F_SETFD, 0) < 0 : dup2(chan_fd, RCH_FD) < 0)
			_exit(126);
		syscall(SYS_close_range, RCH_FD + 1, ~0U, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: a kill of the group must not race the child's own call */
	r->pid = pid;
	worker_router_pgid = pid;
	return 0;
}

int worker_router_start(const worker_router_conf *c, worker_router **out, rbe_plugin **plugin, rbe_error *e)
{
	worker_router *r = rbe_xcalloc(1, sizeof(*r));
	r->pidfd = r->err_fd = r->stop_fd = -1;
	r->limit_as = c->limits.address_space;
	r->limit_cpu = c->limits.cpu_seconds;
	r->n_models = c->n_models;
	*out = r;
	size_t cap = (size_t)RBE_PREDICT_BATCH * c->n_models * (sizeof(float) + sizeof(double)) + 4096;
	cap = (cap < DATA_MIN ? DATA_MIN : cap + 4095) / 4096 * 4096;
	char *init = init_message(c);
	int chan = memfd_create("rbd-router-channel", MFD_CLOEXEC), err_pipe[2] = {-1, -1};
	if (!init || chan < 0 || ftruncate(chan, (off_t)(RCH_HEADER_SIZE + cap)) < 0 ||
	    pipe2(err_pipe, O_CLOEXEC) < 0) {
		int err = errno ? errno : ENOMEM;
		free(init);
		if (chan >= 0)
			close(chan);
		return rbe_fail(e, -err, "setting up the router channel: %s", strerror(err));
	}
	r->map_len = RCH_HEADER_SIZE + cap;
	void *map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, chan, 0);
	if (map == MAP_FAILED) {
		int err = errno;
		free(init);
		close(chan);
		close(err_pipe[0]);
		close(err_pipe[1]);
		return rbe_fail(e, -err, "mapping the router channel: %s", strerror(err));
	}
	r->h = map;
	r->h->data_cap = cap;
	size_t n = strlen(init) + 1;
	memcpy(rch_data(r->h), init, n < cap ? n : cap);
	r->h->len = n;
	free(init);
	r->err_fd = err_pipe[0];
	int rc = spawn(r, chan, err_pipe[1], e);
	close(chan);
	close(err_pipe[1]);
	if (rc < 0)
		return rc;
	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->pidfd < 0 || r->stop_fd < 0 || pthread_create(&r->monitor, NULL, monitor_main, r) != 0)
		return rbe_fail(e, -EAGAIN, "starting the router process monitor: %s", strerror(errno));
	r->monitor_started = 1;

	/* The first message is the router's: loaded, or why not. */
	if (rch_wait(&r->h->to_eval, &r->h->eval_sleeps, 0, gone, r) < 0) {
		r->lost = 1;
		return rbe_fail(e, -EPIPE, "the router process ended while loading the plugin");
	}
	r->seen = 1;
	if (atomic_load(&r->h->to_eval) != 1 || r->h->op != RCH_HELLO)
		return rbe_fail(e, broke(r, "no hello from the router process"), "the router process broke the protocol");
	int64_t hello_rc = r->h->a[0];
	size_t len = r->h->len <= cap && r->h->len ? r->h->len : 1;
	char *text = rbe_xmalloc(len);
	memcpy(text, rch_data(r->h), len);
	text[len - 1] = '\0';
	if (hello_rc < 0) {
		r->quit_sent = 1; /* it ends by itself after saying why */
		rc = rbe_fail(e, hello_rc < -4095 ? -EIO : (int)hello_rc, "%s", text);
	} else {
		uint8_t sha[32];
		char *data;
		size_t flen;
		rc = take_description(r, c->plugin, text, e);
		/* The file's hash, read here: the result names what was evaluated, not what it says. */
		if (rc == 0 && (rc = rbe_read_file(c->plugin, &data, &flen, e)) == 0) {
			rbe_sha256_buf(data, flen, sha);
			free(data);
			memcpy(r->shadow.sha256, sha, 32);
			*plugin = &r->shadow;
		}
		if (rc < 0 && r->broken)
			rbe_fail(e, rc, "the router process broke the protocol: %s", r->protocol);
	}
	free(text);
	return rc;
}

/* ---- end ---- */

int worker_router_lost(const worker_router *r)
{
	return r && (r->lost || r->broken);
}

int worker_router_blame(worker_router *r, const char *at, char *msg, size_t len)
{
	if (!r)
		return 0;
	*msg = '\0';
	if (r->broken) {
		snprintf(msg, len, "router broke the worker protocol %s: %s", at, r->protocol);
		return 1;
	}
	int died = atomic_load(&r->exited) && (r->lost || !r->quit_sent);
	if (!died)
		return r->invalid_output;
	char sig[32];
	int code = r->how.si_code, status = r->how.si_status;
	if (code == CLD_EXITED) {
		snprintf(msg, len, "router exited with status %d %s", status, at);
		return 1;
	}
	uint64_t vm = atomic_load(&r->h->crash_vm), limit = r->limit_as;
	int out_of_memory = limit && (vm >= limit / 4 * 3 || limit - vm < (128u << 20));
	if (out_of_memory)
		snprintf(msg, len, "router exceeded the memory limit (%llu MiB) %s: %s", (unsigned long long)(limit >> 20),
			 at, rbe_signal_name(status, sig));
	else if (status == SIGXCPU)
		snprintf(msg, len, "router exceeded the CPU time limit (%llu s) %s", (unsigned long long)r->limit_cpu, at);
	else
		snprintf(msg, len, "router crashed: %s %s", rbe_signal_name(status, sig), at);
	return 1;
}

void worker_router_stop(worker_router *r)
{
	if (!r)
		return;
	if (r->pid > 0) {
		if (!atomic_load(&r->exited) && !r->broken && !r->lost && r->h) {
			r->quit_sent = 1;
			r->h->op = RCH_QUIT;
			rch_post(&r->h->to_router, &r->h->router_sleeps);
			struct pollfd p = {.fd = r->pidfd, .events = POLLIN};
			if (r->pidfd >= 0)
				poll(&p, 1, 2000);
		}
		/* The leader is not reaped yet, so the group is still this job's: nothing it forked
		 * outlives the job. */
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
		int st;
		while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
			;
		worker_router_pgid = 0;
	}
	if (r->monitor_started) {
		uint64_t one = 1;
		if (write(r->stop_fd, &one, sizeof(one)) < 0)
			pthread_cancel(r->monitor);
		pthread_join(r->monitor, NULL);
	}
	if (r->pidfd >= 0)
		close(r->pidfd);
	if (r->err_fd >= 0)
		close(r->err_fd);
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	if (r->h)
		munmap(r->h, r->map_len);
	rbe_param_schema_free(r->shadow.schema);
	free(r->shadow.path);
	free(r->name);
	free(r->version);
	free(r->summary);
	free(r->run.buf);
	free(r);
}
