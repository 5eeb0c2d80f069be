/* router_proc.c — rbd-worker --router: the untrusted half of a job. It holds only what the plugin
 * ABI promises (views without test outcomes), enters the sandbox, loads the team's router and
 * answers the evaluator's requests over the shared channel (router_chan.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "eval/params.h"
#include "eval/plugin.h"
#include "proto/proto.h"
#include "worker/router_chan.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#define MAX_STATES 64

/* A view decoded from the evaluator's bytes: the pointer arrays are owned, the rest points into
 * the buffer it came from. */
typedef struct rview {
	rb_view v;
	char *buf; /* owned */
	const char **names, **ids, **prompts, **tasks;
} rview;

typedef struct rstate {
	int used;
	void *state;
	rview train, queries;
	double *answers; /* [queries.n * n_models]: what calls on a prompt returned */
	uint8_t *known;  /* [queries.n * n_models] */
	void *values; /* the parameters with the plugin's stride */
	rb_param_value *host_values;
	double **lists;
} rstate;

static rch_header *H;
static uint32_t seen; /* to_router as last seen */
static const rbe_plugin *plugin;
static rstate states[MAX_STATES];
static rb_host_api host;
static char upload_token; /* the rb_caller handed to decide: only its address matters */
static int in_decide;
static pthread_t decide_thread;
static uint64_t deciding, decided; /* the prompt in decide, and decisions of the run written */
static int stop_run;
static rstate *run_state;        /* the state of the run of decisions */
static rch_decision *run_entry;  /* the decision being made */
static rch_buf upload;

static void view_free(rview *w)
{
	free(w->buf);
	free(w->names);
	free(w->ids);
	free(w->prompts);
	free(w->tasks);
	memset(w, 0, sizeof(*w));
}

static const char **get_strs(rch_reader *r, size_t n)
{
	const char **v = rbe_xcalloc(n ? n : 1, sizeof(char *));
	for (size_t k = 0; k < n && !r->bad; k++)
		v[k] = rch_get_str(r);
	return v;
}

/* The view at r (its buffer owned by w from here). 0, or -EPROTO on malformed bytes. */
static int view_decode(rch_reader *r, rview *w)
{
	uint64_t n = rch_get_u64(r), M = rch_get_u64(r), D = rch_get_u64(r), flags = rch_get_u64(r);
	if (r->bad || n > ((uint64_t)1 << 32) || M == 0 || M > 65536 || D > 65536)
		return -EPROTO;
	w->names = get_strs(r, M);
	w->ids = get_strs(r, n);
	w->prompts = get_strs(r, n);
	w->tasks = get_strs(r, n);
	const float *quality = NULL, *features = NULL;
	const double *cost = NULL;
	const uint32_t *tokens = NULL;
	rch_skip_align(r);
	if (flags & 1)
		quality = rch_get(r, n * M * sizeof(float));
	rch_skip_align(r);
	if (flags & 2)
		cost = rch_get(r, n * M * sizeof(double));
	if (flags & 4)
		tokens = rch_get(r, n * sizeof(uint32_t));
	rch_skip_align(r);
	if (flags & 8)
		features = rch_get(r, n * D * sizeof(float));
	const char *feature_name = rch_get_str(r);
	if (r->bad)
		return -EPROTO;
	w->v = (rb_view){
		.n = n,
		.n_models = (uint32_t)M,
		.model_names = w->names,
		.sample_ids = w->ids,
		.prompts = w->prompts,
		.tasks = w->tasks,
		.quality = quality,
		.cost = cost,
		.prompt_tokens = tokens,
		.feature_dim = features ? (uint32_t)D : 0,
		.features = features,
		.feature_name = features ? feature_name : NULL,
	};
	return 0;
}

/* ---- the host API as the router sees it ---- */

static void router_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level > RB_LOG_INFO && !getenv("RB_DEBUG"))
		return;
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "router %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

static void wait_request(void)
{
	rch_wait(&H->to_router, &H->router_sleeps, seen, NULL, NULL);
	seen = atomic_load(&H->to_router);
}

static void post(uint32_t op)
{
	H->op = op;
	rch_post(&H->to_eval, &H->eval_sleeps);
}

/* host->call: a round trip to the evaluator, which charges the call. */
static double router_call(rb_caller *caller, uint32_t model)
{
	if (caller != (rb_caller *)&upload_token || !in_decide || !pthread_equal(pthread_self(), decide_thread))
		return -1.0;
	uint32_t M = run_state->queries.v.n_models;
	if (model >= M)
		return -1.0; /* as the host answers it: no charge */
	uint32_t *calls = rch_decision_calls(run_entry, M);
	int64_t k = 0;
	while (k < run_entry->n_calls && calls[k] != model)
		k++;
	size_t at = deciding * M + model;
	if (run_state->known[at]) {
		if (k == run_entry->n_calls)
			calls[run_entry->n_calls++] = model;
		return run_state->answers[at];
	}
	H->a[0] = model;
	H->a[1] = (int64_t)deciding;
	H->a[2] = (int64_t)decided;
	post(RCH_CALL);
	wait_request();
	if (H->op != RCH_ANSWER)
		_exit(70); /* the evaluator does not break the protocol: it is gone or confused */
	if (H->a[1]) {
		stop_run = 1;
		return H->d;
	}
	run_state->answers[at] = H->d;
	run_state->known[at] = 1;
	calls[run_entry->n_calls++] = model;
	return H->d;
}

/* ---- requests ---- */

static void reply(int64_t rc)
{
	H->a[0] = rc;
	post(RCH_REPLY);
}

static rstate *state_of(int64_t handle)
{
	return handle >= 0 && handle < MAX_STATES && states[handle].used ? &states[handle] : NULL;
}

/* The parameters as the create payload holds them, laid out with the plugin's stride (as
 * eval/params.c does for a plugin loaded in-process). */
static int decode_params(rch_reader *r, rstate *s)
{
	uint64_t n = rch_get_u64(r);
	if (r->bad || n != plugin->schema->n)
		return -EPROTO;
	s->host_values = rbe_xcalloc(n ? n : 1, sizeof(rb_param_value));
	s->lists = rbe_xcalloc(n ? n : 1, sizeof(double *));
	for (uint64_t k = 0; k < n && !r->bad; k++) {
		rb_param_value *v = &s->host_values[k];
		v->type = (uint32_t)rch_get_u64(r);
		v->i = (int64_t)rch_get_u64(r);
		uint64_t bits = rch_get_u64(r);
		memcpy(&v->r, &bits, sizeof(bits));
		v->model = (uint32_t)rch_get_u64(r);
		v->s = rch_get_str(r);
		v->list_len = rch_get_u64(r);
		if (v->list_len && !r->bad) {
			const void *p = v->list_len < ((uint64_t)1 << 28) ? rch_get(r, v->list_len * sizeof(double)) : NULL;
			if (!p)
				return -EPROTO;
			s->lists[k] = rbe_xmalloc(v->list_len * sizeof(double));
			memcpy(s->lists[k], p, v->list_len * sizeof(double));
			v->list = s->lists[k];
		}
	}
	if (r->bad)
		return -EPROTO;
	uint32_t stride = plugin->schema->value_stride;
	size_t common = stride < sizeof(rb_param_value) ? stride : sizeof(rb_param_value);
	char *buf = rbe_xcalloc(n ? n : 1, stride);
	for (uint64_t k = 0; k < n; k++)
		memcpy(buf + k * stride, &s->host_values[k], common);
	s->values = buf;
	return 0;
}

static void state_clear(rstate *s)
{
	view_free(&s->train);
	view_free(&s->queries);
	free(s->answers);
	free(s->known);
	for (uint32_t k = 0; s->lists && k < plugin->schema->n; k++)
		free(s->lists[k]);
	free(s->lists);
	free(s->host_values);
	free(s->values);
	memset(s, 0, sizeof(*s));
}

static void do_create(void)
{
	int64_t handle = 0;
	while (handle < MAX_STATES && states[handle].used)
		handle++;
	if (handle == MAX_STATES) {
		reply(-EMFILE);
		return;
	}
	rstate *s = &states[handle];
	memset(s, 0, sizeof(*s));
	s->used = 1;
	rch_reader r = {.p = upload.p, .len = upload.len};
	int rc = view_decode(&r, &s->train);
	uint64_t seed = rch_get_u64(&r), threads = rch_get_u64(&r);
	const char *task = rch_get_str(&r);
	if (rc == 0)
		rc = decode_params(&r, s);
	if (rc < 0 || r.bad) {
		state_clear(s);
		reply(-EPROTO);
		return;
	}
	/* The upload buffer now belongs to the train view (its strings and arrays point into it). */
	s->train.buf = upload.p;
	upload = (rch_buf){0};
	host.threads = (uint32_t)threads;
	rb_create_args args = {
		.size = sizeof(rb_create_args),
		.host = &host,
		.params = s->values,
		.train = &s->train.v,
		.seed = seed,
		.task = task,
	};
	char err[512] = "";
	rc = plugin->router->create(&args, &s->state, err, sizeof(err));
	err[sizeof(err) - 1] = '\0';
	if (rc < 0) {
		size_t n = strlen(err);
		memcpy(rch_data(H), err, n + 1);
		H->len = n + 1;
		state_clear(s);
		reply(rc);
		return;
	}
	H->a[1] = handle;
	reply(0);
}

static void do_queries(rstate *s)
{
	view_free(&s->queries);
	rch_reader r = {.p = upload.p, .len = upload.len};
	if (view_decode(&r, &s->queries) < 0) {
		reply(-EPROTO);
		return;
	}
	s->queries.buf = upload.p;
	upload = (rch_buf){0};
	free(s->answers);
	free(s->known);
	size_t cells = s->queries.v.n * s->queries.v.n_models;
	s->answers = rbe_xmalloc((cells ? cells : 1) * sizeof(double));
	s->known = rbe_xcalloc(cells ? cells : 1, 1);
	reply(0);
}

static void do_predict(rstate *s, uint64_t off, uint64_t n)
{
	const rb_view *q = &s->queries.v;
	size_t M = q->n_models, at = (n * M * sizeof(float) + 7) / 8 * 8;
	if (off > q->n || n > q->n - off || n > ((uint64_t)1 << 28) || at + n * M * sizeof(double) > H->data_cap) {
		reply(-EPROTO);
		return;
	}
	rb_view batch = *q;
	batch.n = n;
	batch.sample_ids += off;
	batch.prompts += off;
	batch.tasks += off;
	if (batch.prompt_tokens)
		batch.prompt_tokens += off;
	if (batch.features)
		batch.features += off * batch.feature_dim;
	float *q_hat = (float *)rch_data(H);
	double *c_hat = (double *)(rch_data(H) + at);
	/* As the evaluator's own zeroed arrays: a router leaving entries unset sees the same. */
	memset(q_hat, 0, at + n * M * sizeof(double));
	int has_cost = 0;
	int rc = plugin->router->predict(s->state, &batch, q_hat, c_hat, &has_cost);
	H->a[1] = has_cost;
	reply(rc);
}

/* Decisions for prompts first.. at point, each followed by its distribution when asked: one
 * request for many decisions, where only calls need the evaluator. */
static void do_decide(rstate *s, uint64_t first, uint32_t point, uint64_t count, int with_distribution)
{
	const rb_view *q = &s->queries.v;
	size_t size = rch_decision_size(q->n_models);
	if (first > q->n || count > q->n - first || count == 0 || count > H->data_cap / size ||
	    (with_distribution && !plugin->router->distribution)) {
		reply(-EPROTO);
		return;
	}
	stop_run = 0;
	decided = 0;
	run_state = s;
	in_decide = 1;
	decide_thread = pthread_self();
	while (decided < count && !stop_run) {
		rch_decision *d = (rch_decision *)(rch_data(H) + decided * size);
		uint32_t model = UINT32_MAX;
		deciding = first + decided;
		d->n_calls = 0;
		run_entry = d;
		int rc = plugin->router->decide(s->state, q, deciding, point, (rb_caller *)&upload_token, &model);
		d->rc = rc;
		d->model = model;
		d->dist_rc = 0;
		if (rc == 0 && with_distribution)
			d->dist_rc = plugin->router->distribution(s->state, q, deciding, point, (double *)(d + 1));
		decided++;
		if (rc < 0)
			break;
	}
	in_decide = 0;
	H->a[1] = (int64_t)decided;
	reply(0);
}

static void do_distribution(rstate *s, uint64_t i, uint32_t point)
{
	size_t M = s->queries.v.n_models;
	if (i >= s->queries.v.n || !plugin->router->distribution || M * sizeof(double) > H->data_cap) {
		reply(-EPROTO);
		return;
	}
	reply(plugin->router->distribution(s->state, &s->queries.v, i, point, (double *)rch_data(H)));
}

static void do_describe(rstate *s, uint32_t point, uint64_t len)
{
	if (!plugin->router->describe_point || len == 0 || len > H->data_cap) {
		reply(-EPROTO);
		return;
	}
	memset(rch_data(H), 0, len);
	reply(plugin->router->describe_point(s->state, point, rch_data(H), len));
}

/* Answer requests until RCH_QUIT. */
static void serve(void)
{
	for (;;) {
		wait_request();
		uint32_t op = H->op;
		int64_t a0 = H->a[0], a1 = H->a[1], a2 = H->a[2];
		rstate *s = state_of(a0);
		switch (op) {
		case RCH_UPLOAD:
			if (a0)
				upload.len = 0;
			if (H->len > H->data_cap) {
				reply(-EPROTO);
				break;
			}
			rch_put(&upload, rch_data(H), H->len);
			reply(0);
			break;
		case RCH_CREATE:
			do_create();
			break;
		case RCH_QUIT:
			_exit(0);
		default:
			if (!s) {
				reply(-EPROTO);
			} else if (op == RCH_QUERIES) {
				do_queries(s);
			} else if (op == RCH_PREDICT && plugin->router->predict) {
				do_predict(s, (uint64_t)a1, (uint64_t)a2);
			} else if (op == RCH_N_POINTS && plugin->router->n_points) {
				H->a[1] = plugin->router->n_points(s->state);
				reply(0);
			} else if (op == RCH_DESCRIBE) {
				do_describe(s, (uint32_t)a1, (uint64_t)a2);
			} else if (op == RCH_DECIDE && plugin->router->decide) {
				do_decide(s, (uint64_t)a1, (uint32_t)a2, (uint64_t)H->a[3], H->a[4] != 0);
			} else if (op == RCH_DISTRIBUTION) {
				do_distribution(s, (uint64_t)a1, (uint32_t)a2);
			} else if (op == RCH_DESTROY) {
				plugin->router->destroy(s->state);
				state_clear(s);
				reply(0);
			} else {
				reply(-EPROTO);
			}
		}
	}
}

/* ---- start ---- */

/* exit() from a plugin ends here, with its status: no exit handler registered before this one
 * (a sanitizer's leak check, which needs the ptrace the sandbox denies) can change it. */
static void exit_with_status(int status, void *arg)
{
	(void)arg;
	fflush(NULL);
	_exit(status);
}

/* The router as the evaluator needs to know it: what eval reads of the descriptor. */
static json_t *describe(const rbe_plugin *p)
{
	const rb_router *r = p->router;
	return json_pack("{ss ss ss si so sI sb sb sb sb sb}", "name", r->name, "version", r->version ? r->version : "",
			 "summary", r->summary ? r->summary : "", "kind", (int)r->kind, "params",
			 rbe_param_schema_json(p->schema), "ignores", (json_int_t)rbe_plugin_ignores(p), "predict",
			 r->predict != NULL, "decide", r->decide != NULL, "n_points", r->n_points != NULL,
			 "describe_point", r->describe_point != NULL, "distribution", r->distribution != NULL);
}

static void hello(int rc, const char *text)
{
	size_t n = strlen(text);
	if (n + 1 > H->data_cap)
		n = H->data_cap - 1;
	memcpy(rch_data(H), text, n);
	rch_data(H)[n] = '\0';
	H->len = n + 1;
	H->a[0] = rc;
	post(RCH_HELLO);
}

/* The sandbox object of the init message, as the job message gave it. When it switches to a
 * job user, who may not reach rbd's plugin store, the plugin is opened first and *load_path
 * becomes that descriptor's /proc/self/fd name (Landlock still allows only the plugin file). */
static int sandbox_in(const json_t *init, const char *plugin_path, char *load_path, size_t size, rbe_error *e)
{
	snprintf(load_path, size, "%s", plugin_path);
	const json_t *sb = json_object_get(init, "sandbox");
	if (!json_is_true(json_object_get(sb, "enabled")))
		return 0;
	uid_t uid = (uid_t)json_integer_value(json_object_get(sb, "uid"));
	int plugin_fd = -1;
	if (uid != 0 && geteuid() == 0) {
		plugin_fd = open(plugin_path, O_RDONLY | O_CLOEXEC);
		if (plugin_fd < 0)
			return rbe_fail(e, -errno, "%s: %s", plugin_path, strerror(errno));
		snprintf(load_path, size, "/proc/self/fd/%d", plugin_fd);
	}
	int keep[2] = {worker_statm_fd(), plugin_fd}; /* the channel is a mapping only, its descriptor closed */
	worker_sandbox_opts o = {
		.read_paths = (const char *const[]){plugin_path},
		.n_read_paths = 1,
		.keep_fds = keep,
		.n_keep_fds = 2,
		.uid = uid,
		.gid = (gid_t)json_integer_value(json_object_get(sb, "gid")),
		.need_landlock = json_is_true(json_object_get(sb, "need_landlock")),
	};
	return worker_sandbox_enter(&o, e);
}

/* Loader messages name the file as it was opened: say the store path, not /proc/self/fd/N. */
static void name_plugin_in_error(rbe_error *e, const char *load_path, const char *plugin_path)
{
	char *at = strstr(e->msg, load_path);
	if (!at || !strcmp(load_path, plugin_path))
		return;
	char rest[sizeof(e->msg)];
	snprintf(rest, sizeof(rest), "%s", at + strlen(load_path));
	snprintf(at, sizeof(e->msg) - (size_t)(at - e->msg), "%s%s", plugin_path, rest);
}

int worker_router_main(const char *parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != (pid_t)atol(parent))
		_exit(1);
	struct stat st;
	if (fstat(RCH_FD, &st) != 0 || (size_t)st.st_size <= RCH_HEADER_SIZE)
		_exit(1);
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, RCH_FD, 0);
	if (map == MAP_FAILED)
		_exit(1);
	/* The mapping is all it needs: a write(2) to the descriptor cannot scribble on the channel. */
	close(RCH_FD);
	H = map;
	if (H->data_cap + RCH_HEADER_SIZE > (uint64_t)st.st_size || H->len > H->data_cap)
		_exit(1);
	worker_crash_sink(H);
	worker_install_fatal_handlers();
	host = (rb_host_api){.size = sizeof(rb_host_api), .abi_minor = RB_ABI_MINOR, .log = router_log, .call = router_call};

	rbe_error e = {0};
	json_t *init = json_loadb(rch_data(H), H->len ? H->len - 1 : 0, 0, NULL);
	const char *path = json_string_value(json_object_get(init, "plugin"));
	worker_limits limits;
	rbe_plugin *p = NULL;
	int rc = path ? 0 : rbe_fail(&e, -EPROTO, "worker protocol: bad router init message");
	/* Its own process group was made before exec; limits, then the sandbox, then the plugin:
	 * even its constructors run confined. */
	if (rc == 0)
		rc = worker_parse_limits(json_object_get(init, "limits"), &limits, &e);
	if (rc == 0)
		rc = worker_apply_limits(&limits, &e);
	char load_path[4096];
	if (rc == 0)
		rc = sandbox_in(init, path, load_path, sizeof(load_path), &e);
	on_exit(exit_with_status, NULL);
	if (rc == 0 && (rc = rbe_plugin_load(load_path, &p, &e)) < 0)
		name_plugin_in_error(&e, load_path, path);
	json_decref(init);
	if (rc < 0) {
		hello(rc, e.msg);
		_exit(0);
	}
	plugin = p;
	json_t *d = describe(p);
	char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	if (!text) {
		hello(-ENOMEM, "cannot describe the router");
		_exit(0);
	}
	hello(0, text);
	free(text);
	serve();
	return 0;
}

/* ---- probe ---- */

int worker_probe_load_main(const char *path)
{
	int keep[2] = {3, worker_statm_fd()};
	worker_sandbox_opts o = {
		.read_paths = (const char *const[]){path},
		.n_read_paths = 1,
		.keep_fds = keep,
		.n_keep_fds = keep[1] >= 0 ? 2 : 1,
	};
	rbe_error e = {0};
	rbe_plugin *p = NULL;
	json_t *answer;
	/* A file that cannot be opened is refused by the loader, not by the sandbox's rule for it. */
	int rc = access(path, R_OK) == 0 ? worker_sandbox_enter(&o, &e) : 0;
	on_exit(exit_with_status, NULL);
	if (rc == 0 && rbe_plugin_load(path, &p, &e) == 0) {
		const rb_router *r = p->router;
		json_t *router = json_pack("{soso ss so so}", "name", rbw_json_text(r->name), "version",
					   rbw_json_text(r->version), "kind", rbe_router_kind_name(r->kind), "summary",
					   rbw_json_text(r->summary ? r->summary : ""), "params",
					   rbe_param_schema_json(p->schema));
		answer = json_pack("{sbso}", "ok", 1, "router", router ? router : json_null());
	} else {
		answer = json_pack("{sbso}", "ok", 0, "reason", rbw_json_text(e.msg));
	}
	char *text = answer ? json_dumps(answer, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(answer);
	if (!text)
		_exit(1);
	int w = rbe_write_all(3, text, strlen(text));
	free(text);
	_exit(w < 0 ? 1 : 0);
}
