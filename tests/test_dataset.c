/* test_dataset.c — the in-memory dataset builder: validation and round-trip. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "data/dataset.h"

static const char *const models3[] = {"small", "medium", "large"};

/* One valid sample for a 3-model builder; tests break one field at a time. */
struct sample3 {
	float q[3];
	double c[3];
	const char *resp[3];
	uint32_t ctok[3];
	float feat[4];
	rbe_sample_in in;
};

static void sample3_init(struct sample3 *s, const char *id, const char *eval)
{
	*s = (struct sample3){
		.q = {0.0f, 0.5f, 1.0f},
		.c = {0.0, 1e-6, 2.5e-3},
		.resp = {"a", "bb", "ccc"},
		.ctok = {1, 2, 3},
		.feat = {0.25f, -1.0f, 3.0f, 0.0f},
	};
	s->in = (rbe_sample_in){
		.sample_id = id,
		.eval_name = eval,
		.prompt = "What is 2+2?",
		.quality = s->q,
		.cost = s->c,
		.responses = s->resp,
		.prompt_tokens = 7,
		.completion_tokens = s->ctok,
		.features = s->feat,
	};
}

static rbe_builder *new3(void) { return rbe_builder_new(3, models3); }

static void expect_add_fails(rbe_builder *b, const struct sample3 *s, int code, const char *what)
{
	rbe_error e = {0};
	size_t before = rbe_builder_count(b);
	int r = rbe_builder_add(b, &s->in, &e);
	cr_expect_eq(r, code, "%s: expected %d, got %d (%s)", what, code, r, e.msg);
	cr_expect_eq(e.code, code);
	cr_expect_neq(strlen(e.msg), 0, "%s: no message", what);
	cr_expect_eq(rbe_builder_count(b), before, "%s: a refused sample must not be counted", what);
}

Test(builder, refuses_quality_out_of_range)
{
	rbe_builder *b = new3();
	struct sample3 s;
	float bad[] = {-0.01f, 1.0001f, NAN, INFINITY, -INFINITY};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		sample3_init(&s, "x", "e");
		s.q[1] = bad[k];
		rbe_error e = {0};
		cr_expect_eq(rbe_builder_add(b, &s.in, &e), -EINVAL, "quality %g", (double)bad[k]);
		cr_expect(strstr(e.msg, "quality") && strstr(e.msg, "medium"), "message: %s", e.msg);
	}
	cr_expect_eq(rbe_builder_count(b), 0);
	rbe_builder_free(b);
}

Test(builder, refuses_bad_cost)
{
	rbe_builder *b = new3();
	struct sample3 s;
	double bad[] = {-1e-9, NAN, INFINITY, -INFINITY};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		sample3_init(&s, "x", "e");
		s.c[2] = bad[k];
		rbe_error e = {0};
		cr_expect_eq(rbe_builder_add(b, &s.in, &e), -EINVAL, "cost %g", bad[k]);
		cr_expect(strstr(e.msg, "cost") && strstr(e.msg, "large"), "message: %s", e.msg);
	}
	rbe_builder_free(b);
}

Test(builder, accepts_boundary_values)
{
	rbe_builder *b = new3();
	struct sample3 s;
	sample3_init(&s, "x", "e");
	s.q[0] = 0.0f;
	s.q[1] = 1.0f;
	s.q[2] = -0.0f;
	s.c[0] = 0.0;
	s.c[1] = 1e300;
	rbe_error e = {0};
	cr_expect_eq(rbe_builder_add(b, &s.in, &e), 0, "%s", e.msg);
	rbe_builder_free(b);
}

Test(builder, refuses_duplicate_id)
{
	rbe_builder *b = new3();
	struct sample3 s;
	sample3_init(&s, "dup", "e1");
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_add(b, &s.in, &e), 0, "%s", e.msg);
	sample3_init(&s, "dup", "e2");
	expect_add_fails(b, &s, -EEXIST, "duplicate");
	rbe_builder_add(b, &s.in, &e);
	cr_expect(strstr(e.msg, "dup") && strstr(e.msg, "twice"), "message: %s", e.msg);
	/* The refused sample must not have registered its eval either. */
	sample3_init(&s, "other", "e3");
	cr_assert_eq(rbe_builder_add(b, &s.in, &e), 0, "%s", e.msg);
	rbe_dataset *ds = NULL;
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), 0, "%s", e.msg);
	cr_expect_eq(ds->n_evals, 2);
	cr_expect_str_eq(ds->eval_names[1], "e3");
	rbe_dataset_free(ds);
}

Test(builder, refuses_missing_declared_sections)
{
	struct sample3 s;
	rbe_builder *b = new3();
	rbe_builder_want_responses(b);
	sample3_init(&s, "x", "e");
	s.in.responses = NULL;
	expect_add_fails(b, &s, -EINVAL, "responses");
	rbe_builder_free(b);

	b = new3();
	rbe_builder_want_tokens(b);
	sample3_init(&s, "x", "e");
	s.in.completion_tokens = NULL;
	expect_add_fails(b, &s, -EINVAL, "tokens");
	rbe_builder_free(b);

	b = new3();
	rbe_builder_want_features(b, 4, "emb");
	sample3_init(&s, "x", "e");
	s.in.features = NULL;
	expect_add_fails(b, &s, -EINVAL, "features");
	sample3_init(&s, "x", "e");
	s.feat[3] = NAN;
	expect_add_fails(b, &s, -EINVAL, "non-finite feature");
	rbe_builder_free(b);
}

Test(builder, refuses_missing_required_fields)
{
	struct sample3 s;
	rbe_builder *b = new3();
	sample3_init(&s, "x", "e");
	s.in.sample_id = NULL;
	expect_add_fails(b, &s, -EINVAL, "no id");
	sample3_init(&s, "x", "e");
	s.in.eval_name = NULL;
	expect_add_fails(b, &s, -EINVAL, "no eval");
	sample3_init(&s, "x", "e");
	s.in.prompt = NULL;
	expect_add_fails(b, &s, -EINVAL, "no prompt");
	sample3_init(&s, "x", "e");
	s.in.quality = NULL;
	expect_add_fails(b, &s, -EINVAL, "no quality");
	sample3_init(&s, "x", "e");
	s.in.cost = NULL;
	expect_add_fails(b, &s, -EINVAL, "no cost");
	rbe_builder_free(b);
}

Test(builder, empty_dataset_is_refused)
{
	rbe_dataset *ds = (rbe_dataset *)0x1;
	rbe_error e = {0};
	cr_expect_eq(rbe_builder_finish(new3(), &ds, &e), -EINVAL);
	cr_expect(strstr(e.msg, "no samples"), "message: %s", e.msg);
	cr_expect_eq(ds, (rbe_dataset *)0x1, "out must be untouched on failure");
}

Test(builder, want_after_first_sample_aborts, .signal = SIGABRT)
{
	rbe_builder *b = new3();
	struct sample3 s;
	sample3_init(&s, "x", "e");
	cr_assert_eq(rbe_builder_add(b, &s.in, NULL), 0);
	rbe_builder_want_responses(b);
}

Test(builder, round_trip_minimal)
{
	rbe_builder *b = new3();
	const char *ids[] = {"s1", "s2", "s3", "s4"};
	const char *evals[] = {"mmlu-x", "gsm8k", "mmlu-x", "mbpp"};
	for (int i = 0; i < 4; i++) {
		struct sample3 s;
		sample3_init(&s, ids[i], evals[i]);
		s.q[0] = (float)i / 4;
		s.c[2] = i * 1e-3;
		s.in.responses = NULL;
		s.in.completion_tokens = NULL;
		s.in.features = NULL;
		rbe_error e = {0};
		cr_assert_eq(rbe_builder_add(b, &s.in, &e), 0, "%s", e.msg);
	}
	cr_expect_eq(rbe_builder_count(b), 4);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), 0, "%s", e.msg);
	cr_expect_eq(ds->n, 4);
	cr_expect_eq(ds->n_models, 3);
	cr_expect_str_eq(ds->name, "dataset");
	for (int j = 0; j < 3; j++)
		cr_expect_str_eq(ds->model_names[j], models3[j]);
	cr_assert_eq(ds->n_evals, 3, "evals in order of first appearance");
	cr_expect_str_eq(ds->eval_names[0], "mmlu-x");
	cr_expect_str_eq(ds->eval_names[1], "gsm8k");
	cr_expect_str_eq(ds->eval_names[2], "mbpp");
	uint32_t want_eval[] = {0, 1, 0, 2};
	for (int i = 0; i < 4; i++) {
		cr_expect_str_eq(ds->sample_ids[i], ids[i]);
		cr_expect_str_eq(ds->prompts[i], "What is 2+2?");
		cr_expect_eq(ds->eval[i], want_eval[i]);
		cr_expect_eq(ds->quality[i * 3 + 0], (float)i / 4);
		cr_expect_eq(ds->quality[i * 3 + 1], 0.5f);
		cr_expect_eq(ds->cost[i * 3 + 2], i * 1e-3);
	}
	cr_expect_null(ds->responses);
	cr_expect_null(ds->prompt_tokens);
	cr_expect_null(ds->completion_tokens);
	cr_expect_null(ds->features);
	cr_expect_null(ds->feature_name);
	cr_expect_eq(ds->feature_dim, 0);
	static const uint8_t zero[32];
	cr_expect_eq(memcmp(ds->sha256, zero, 32), 0, "no hash before the dataset is written");
	cr_expect_eq(rbe_dataset_model_index(ds, "large"), 2);
	cr_expect_eq(rbe_dataset_model_index(ds, "huge"), -1);
	rbe_dataset_free(ds);
	rbe_dataset_free(NULL);
	rbe_builder_free(NULL);
}

Test(builder, round_trip_all_sections)
{
	rbe_builder *b = new3();
	rbe_builder_want_responses(b);
	rbe_builder_want_tokens(b);
	rbe_builder_want_features(b, 4, NULL);
	rbe_builder_set_name(b, "first");
	rbe_builder_set_name(b, "demo");
	/* Enough samples and text that the arrays and the string arena grow several times. */
	enum { N = 5000 };
	char id[32], prompt[200];
	for (int i = 0; i < N; i++) {
		struct sample3 s;
		snprintf(id, sizeof(id), "id-%d", i);
		snprintf(prompt, sizeof(prompt), "prompt %d %0100d", i, i);
		sample3_init(&s, id, i % 2 ? "odd" : "even");
		s.in.prompt = prompt;
		s.in.prompt_tokens = (uint32_t)i;
		s.ctok[1] = (uint32_t)(2 * i);
		s.feat[0] = (float)i;
		s.resp[0] = i % 3 ? "r" : NULL; /* a missing response becomes "" */
		rbe_error e = {0};
		cr_assert_eq(rbe_builder_add(b, &s.in, &e), 0, "%s", e.msg);
	}
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_builder_finish(b, &ds, &e), 0, "%s", e.msg);
	cr_expect_str_eq(ds->name, "demo");
	cr_expect_str_eq(ds->feature_name, "features");
	cr_expect_eq(ds->feature_dim, 4);
	cr_assert_not_null(ds->responses);
	cr_assert_not_null(ds->prompt_tokens);
	cr_assert_not_null(ds->completion_tokens);
	cr_assert_not_null(ds->features);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		snprintf(prompt, sizeof(prompt), "prompt %d %0100d", i, i);
		cr_assert_str_eq(ds->sample_ids[i], id);
		cr_assert_str_eq(ds->prompts[i], prompt);
		cr_assert_eq(ds->eval[i], (uint32_t)(i % 2 ? 1 : 0));
		cr_assert_str_eq(ds->responses[i * 3 + 0], i % 3 ? "r" : "");
		cr_assert_str_eq(ds->responses[i * 3 + 2], "ccc");
		cr_assert_eq(ds->prompt_tokens[i], (uint32_t)i);
		cr_assert_eq(ds->completion_tokens[i * 3 + 1], (uint32_t)(2 * i));
		cr_assert_eq(ds->completion_tokens[i * 3 + 2], 3);
		cr_assert_eq(ds->features[i * 4 + 0], (float)i);
		cr_assert_eq(ds->features[i * 4 + 1], -1.0f);
	}
	rbe_dataset_free(ds);
}

Test(builder, named_features)
{
	rbe_builder *b = new3();
	rbe_builder_want_features(b, 4, "embedding");
	struct sample3 s;
	sample3_init(&s, "x", "e");
	cr_assert_eq(rbe_builder_add(b, &s.in, NULL), 0);
	rbe_dataset *ds = NULL;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	cr_expect_str_eq(ds->feature_name, "embedding");
	rbe_dataset_free(ds);
}

Test(builder, inputs_are_copied)
{
	rbe_builder *b = new3();
	struct sample3 s;
	char id[8] = "abc", prompt[8] = "p";
	sample3_init(&s, id, "e");
	s.in.prompt = prompt;
	cr_assert_eq(rbe_builder_add(b, &s.in, NULL), 0);
	strcpy(id, "zzz");
	strcpy(prompt, "q");
	s.q[0] = 0.75f;
	rbe_dataset *ds = NULL;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	cr_expect_str_eq(ds->sample_ids[0], "abc");
	cr_expect_str_eq(ds->prompts[0], "p");
	cr_expect_eq(ds->quality[0], 0.0f);
	rbe_dataset_free(ds);
}
