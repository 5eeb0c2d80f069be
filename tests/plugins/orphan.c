/* orphan.c — test fixture: predict forks a child that ignores SIGTERM and sleeps forever while
 * holding the worker's pipes (its standard output and error, inherited), the way a router that
 * starts a helper process and forgets it would. With mode=finish predict then returns (the job
 * can end normally); with mode=hang it sleeps too, so only the wall-clock limit or a cancel ends
 * the job. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "mode", .type = RB_PARAM_STRING, .default_value = "finish", .help = "finish or hang"},
};

static int hang;

static int create(const rb_create_args *a, void **out, char *err, size_t errlen)
{
	const char *mode = a->params[0].s;
	if (strcmp(mode, "finish") && strcmp(mode, "hang")) {
		strncpy(err, "mode must be finish or hang", errlen);
		return -EINVAL;
	}
	hang = !strcmp(mode, "hang");
	*out = NULL;
	return 0;
}

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	static int forked;
	if (!forked++ && fork() == 0) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	if (hang) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	return half_predict(p, q, q_hat, c_hat, has_cost);
}

PREDICTIVE_FIXTURE("orphan", .summary = "fixture: leaves a child holding the worker's pipes", RB_ROUTER_PARAMS(params),
		   .create = create, .destroy = stateless_destroy, .predict = predict)
