/* noisy.c — test fixture: predict prints 1 GB to standard error, then predicts like a constant
 * router, so the bound on a job's stored output and rbd's own log are tested. */
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define NOISE_BYTES ((size_t)1 << 30)

static int predict(void *p, const rb_view *q, float *q_hat, double *c_hat, int *has_cost)
{
	static int printed;
	if (!printed++) {
		static char line[1 << 16];
		memset(line, 'n', sizeof(line));
		line[sizeof(line) - 1] = '\n';
		for (size_t sent = 0; sent < NOISE_BYTES; sent += sizeof(line))
			if (write(2, line, sizeof(line)) < 0)
				break;
	}
	return half_predict(p, q, q_hat, c_hat, has_cost);
}

PREDICTIVE_FIXTURE("noisy", .summary = "fixture: prints 1 GB to standard error", .create = stateless_create,
		   .destroy = stateless_destroy, .predict = predict)
