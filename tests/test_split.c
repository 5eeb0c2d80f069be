/* test_split.c — numpy legacy MT19937 and shuffle against numpy's own output; grouping; split. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "data/split.h"

static json_t *load_fixture(void)
{
	const char *shared = getenv("RB_SHARED_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/fixtures/numpy_legacy_shuffle.json", shared ? shared : "../shared");
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	if (!root)
		cr_skip_test("numpy fixture absent (%s: %s); skipping the numpy comparison", path, err.text);
	return root;
}

Test(split, mt19937_matches_numpy_seed_42)
{
	json_t *root = load_fixture();
	json_t *first = json_object_get(root, "mt19937_legacy_seed42_first10_uint32");
	cr_assert(json_is_array(first) && json_array_size(first) == 10);
	rbe_mt19937 mt;
	rbe_mt19937_seed(&mt, 42);
	for (size_t k = 0; k < 10; k++)
		cr_assert_eq(rbe_mt19937_next32(&mt), (uint32_t)json_integer_value(json_array_get(first, k)),
			     "draw %zu", k);
	json_decref(root);
}

Test(split, shuffle_matches_every_numpy_case)
{
	json_t *root = load_fixture();
	json_t *cases = json_object_get(root, "cases");
	cr_assert(json_array_size(cases) >= 5);
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c) {
		uint32_t seed = (uint32_t)json_integer_value(json_object_get(c, "seed"));
		size_t n = (size_t)json_integer_value(json_object_get(c, "n"));
		json_t *perm = json_object_get(c, "permutation");
		cr_assert_eq(json_array_size(perm), n);
		uint32_t *a = malloc(n * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++)
			a[k] = (uint32_t)k;
		rbe_np_legacy_shuffle(a, n, seed);
		for (size_t k = 0; k < n; k++)
			cr_assert_eq(a[k], (uint32_t)json_integer_value(json_array_get(perm, k)),
				     "seed %u n %zu position %zu", seed, n, k);
		free(a);
	}
	json_decref(root);
}

Test(split, known_small_permutation_without_fixture)
{
	/* np.random.seed(42); l = list(range(10)); np.random.shuffle(l) */
	uint32_t a[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, want[10] = {8, 1, 5, 0, 7, 2, 9, 4, 3, 6};
	rbe_np_legacy_shuffle(a, 10, 42);
	cr_assert_arr_eq(a, want, sizeof(a));
}

Test(split, assign_takes_first_floor_fraction_of_the_shuffle)
{
	uint8_t t[10];
	rbe_split_assign(10, 42, 0.7, t);
	/* shuffled ids 8 1 5 0 7 2 9 | 4 3 6 → train = {8,1,5,0,7,2,9} */
	uint8_t want[10] = {1, 1, 1, 0, 0, 1, 0, 1, 1, 1};
	cr_assert_arr_eq(t, want, 10);
	uint8_t one[1];
	rbe_split_assign(1, 42, 0.7, one);
	cr_assert_eq(one[0], 0, "floor(0.7) = 0 train samples");
}

Test(split, grouping_rules)
{
	rbe_grouping g;
	rbe_grouping_default(&g);
	cr_assert_str_eq(rbe_grouping_group_of(&g, "mmlu-abstract-algebra"), "mmlu");
	cr_assert_str_eq(rbe_grouping_group_of(&g, "mbpp"), "mbpp");
	rbe_error e;
	cr_assert_eq(rbe_grouping_add(&g, "winogrande=wino", &e), 0);
	cr_assert_str_eq(rbe_grouping_group_of(&g, "winogrande"), "wino");
	cr_assert_lt(rbe_grouping_add(&g, "noequals", &e), 0);
	cr_assert(strstr(e.msg, "expected PATTERN=GROUP"));
	cr_assert_lt(rbe_grouping_add(&g, "a*b=c", &e), 0);
	cr_assert(strstr(e.msg, "may only end"));
	rbe_grouping_clear(&g);
}

static rbe_dataset *tiny_dataset(void)
{
	const char *models[2] = {"a", "b"};
	rbe_builder *b = rbe_builder_new(2, models);
	const char *evals[] = {"mmlu-x", "mbpp", "mmlu-y", "mbpp", "mmlu-x", "mbpp", "mmlu-y", "mbpp", "mmlu-x", "mbpp"};
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof(id), "s%d", i);
		float q[2] = {0.5f, 1.0f};
		double c[2] = {0.1, 0.2};
		rbe_sample_in s = {.sample_id = id, .eval_name = evals[i], .prompt = "p", .quality = q, .cost = c};
		cr_assert_eq(rbe_builder_add(b, &s, NULL), 0);
	}
	rbe_dataset *ds;
	cr_assert_eq(rbe_builder_finish(b, &ds, NULL), 0);
	return ds;
}

Test(split, groups_in_first_appearance_order_and_split_per_group)
{
	rbe_dataset *ds = tiny_dataset();
	rbe_grouping g;
	rbe_grouping_default(&g);
	rbe_split *s;
	cr_assert_eq(rbe_split_make(ds, &g, 42, 0.7, &s, NULL), 0);
	cr_assert_eq(s->n_groups, 2);
	cr_assert_str_eq(s->group_names[0], "mmlu");
	cr_assert_str_eq(s->group_names[1], "mbpp");
	/* Each group has 5 samples: floor(3.5) = 3 train, 2 test. */
	cr_assert_eq(s->n_train[0], 3);
	cr_assert_eq(s->n_test[0], 2);
	cr_assert_eq(s->n_train[1], 3);
	/* np.random.seed(42); shuffle(range(5)) = [1, 4, 2, 0, 3] → train {1, 4, 2}. */
	uint8_t want_mmlu[5] = {0, 1, 1, 0, 1};
	size_t k = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (s->group_of[i] == 0)
			cr_assert_eq(s->is_train[i], want_mmlu[k++], "mmlu sample %zu", i);
	rbe_split_free(s);
	rbe_error e;
	cr_assert_lt(rbe_split_make(ds, &g, 42, 1.0, &s, &e), 0);
	cr_assert(strstr(e.msg, "train fraction"));
	rbe_grouping_clear(&g);
	rbe_dataset_free(ds);
}
