/* bench_daemon.c — rbd under load: submit→result latency of one client, and sustained jobs/s
 * with several concurrent clients (bench/bench_daemon.sh starts rbd and runs this). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/client.h"

typedef struct bench {
	const char *socket;
	json_t *job;
	size_t jobs;       /* per client */
	double *latencies; /* [clients * jobs] */
	size_t failures;
	pthread_mutex_t lock;
} bench;

typedef struct client_arg {
	bench *b;
	size_t index;
} client_arg;

/* Submit, Wait, Result: what `rbctl submit --wait` does, on one connection. */
static int one_job(rbw_client *c, const json_t *job, double *seconds)
{
	rbw_reply r = {0};
	rbe_error e = {0};
	double t0 = rbe_now();
	if (rbw_client_call(c, "io.routerbench.v1.Submit", job, &r, &e) < 0 || r.error) {
		fprintf(stderr, "bench: submit: %s %s\n", r.error ? r.error : e.msg,
			json_string_value(json_object_get(r.parameters, "message")));
		rbw_reply_clear(&r);
		return -1;
	}
	json_t *id = json_pack("{sO}", "id", json_object_get(r.parameters, "id"));
	rbw_reply_clear(&r);
	int rc = 0;
	if (rbw_client_call(c, "io.routerbench.v1.Wait", id, &r, &e) < 0 || r.error ||
	    strcmp(json_string_value(json_object_get(r.parameters, "state")), "done")) {
		fprintf(stderr, "bench: job not done: %s\n", r.error ? r.error : e.msg);
		rc = -1;
	}
	rbw_reply_clear(&r);
	if (rc == 0 && (rbw_client_call(c, "io.routerbench.v1.Result", id, &r, &e) < 0 || r.error ||
			!json_object_get(r.parameters, "result"))) {
		fprintf(stderr, "bench: result: %s\n", r.error ? r.error : e.msg);
		rc = -1;
	}
	rbw_reply_clear(&r);
	json_decref(id);
	*seconds = rbe_now() - t0;
	return rc;
}

static void *client_main(void *p)
{
	client_arg *a = p;
	bench *b = a->b;
	rbw_client *c = NULL;
	rbe_error e = {0};
	if (rbw_client_open(b->socket, &c, &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		pthread_mutex_lock(&b->lock);
		b->failures += b->jobs;
		pthread_mutex_unlock(&b->lock);
		return NULL;
	}
	for (size_t i = 0; i < b->jobs; i++) {
		double s = 0;
		if (one_job(c, b->job, &s) < 0) {
			pthread_mutex_lock(&b->lock);
			b->failures++;
			pthread_mutex_unlock(&b->lock);
		}
		b->latencies[a->index * b->jobs + i] = s;
	}
	rbw_client_close(c);
	return NULL;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static double percentile(const double *sorted, size_t n, double p)
{
	size_t k = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[k < n ? k : n - 1];
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'}, {"job", required_argument, NULL, 'j'},
		{"jobs", required_argument, NULL, 'n'},   {"clients", required_argument, NULL, 'c'},
		{"warmup", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
		{0},
	};
	bench b = {.jobs = 100};
	size_t clients = 1, warmup = 5;
	const char *job_text = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			b.socket = optarg;
			break;
		case 'j':
			job_text = optarg;
			break;
		case 'n':
			b.jobs = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			clients = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(opt == 'h' ? stdout : stderr,
				"usage: bench-daemon --socket PATH --job JSON [--jobs N per client] [--clients K] [--warmup W]\n"
				"Runs K clients, each submitting N jobs one after another (Submit, Wait, Result), and\n"
				"prints latency percentiles and the sustained rate.\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	json_error_t jerr;
	if (!b.socket || !job_text || !(b.job = json_loads(job_text, 0, &jerr)) || !b.jobs || !clients) {
		fprintf(stderr, "bench: --socket, --job (JSON) and positive --jobs/--clients are required\n");
		return 2;
	}
	pthread_mutex_init(&b.lock, NULL);
	/* Warm the page cache and rbd's first-use paths; not counted. */
	bench w = b;
	w.jobs = warmup;
	w.latencies = calloc(warmup ? warmup : 1, sizeof(double));
	if (warmup)
		client_main(&(client_arg){&w, 0});
	free(w.latencies);

	b.latencies = calloc(clients * b.jobs, sizeof(double));
	pthread_t *threads = calloc(clients, sizeof(pthread_t));
	client_arg *args = calloc(clients, sizeof(client_arg));
	double t0 = rbe_now();
	for (size_t i = 0; i < clients; i++) {
		args[i] = (client_arg){&b, i};
		pthread_create(&threads[i], NULL, client_main, &args[i]);
	}
	for (size_t i = 0; i < clients; i++)
		pthread_join(threads[i], NULL);
	double wall = rbe_now() - t0;
	size_t n = clients * b.jobs;
	qsort(b.latencies, n, sizeof(double), cmp_double);
	printf("clients %zu, jobs %zu, failures %zu, wall %.3f s, %.1f jobs/s\n", clients, n, b.failures, wall,
	       (double)n / wall);
	printf("submit->result latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
	       1000 * percentile(b.latencies, n, 0.50), 1000 * percentile(b.latencies, n, 0.90),
	       1000 * percentile(b.latencies, n, 0.99), 1000 * b.latencies[n - 1]);
	free(b.latencies);
	free(threads);
	free(args);
	json_decref(b.job);
	return b.failures ? 1 : 0;
}
