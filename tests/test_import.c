/* test_import.c — the importer on hand-written CSV/JSONL files: layout, merging, order, every error. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "trickle.h"
#include "data/import.h"
#include "data/rbds_format.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *data_dir(void)
{
	static char dir[4096];
	const char *root = getenv("RB_TEST_DATA");
	cr_assert(root, "RB_TEST_DATA is not set (run through meson test)");
	snprintf(dir, sizeof(dir), "%s/import", root);
	return dir;
}

static char *path_of(const char *name)
{
	char *p;
	cr_assert(asprintf(&p, "%s/%s", data_dir(), name) > 0);
	return p;
}

static int import_names(const char *const *names, const rbe_import_opts *o, rbe_dataset **ds, rbe_import_stats *st,
			rbe_error *e)
{
	size_t n = 0;
	while (names[n])
		n++;
	char **paths = calloc(n + 1, sizeof(char *));
	for (size_t k = 0; k < n; k++)
		paths[k] = path_of(names[k]);
	int r = rbe_import_files((const char *const *)paths, n, o, ds, st, e);
	for (size_t k = 0; k < n; k++)
		free(paths[k]);
	free(paths);
	return r;
}

static rbe_dataset *import_ok(const char *const *names, const rbe_import_opts *o, rbe_import_stats *st)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	int r = import_names(names, o, &ds, st, &e);
	cr_assert_eq(r, 0, "import failed: %s", e.msg);
	cr_assert_not_null(ds);
	return ds;
}

/* want may say {D} for the test data directory. */
static char *expand(const char *want)
{
	const char *dir = data_dir();
	size_t cap = strlen(want) * 2 + 16 * strlen(dir) + 1, o = 0;
	char *out = malloc(cap);
	for (const char *p = want; *p;) {
		if (!strncmp(p, "{D}", 3)) {
			o += (size_t)sprintf(out + o, "%s", dir);
			p += 3;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return out;
}

static void expect_error(const char *const *names, const char *want)
{
	rbe_dataset *ds = (rbe_dataset *)0x1;
	rbe_import_stats st;
	memset(&st, 0xAB, sizeof(st));
	rbe_error e = {0};
	int r = import_names(names, NULL, &ds, &st, &e);
	cr_assert_lt(r, 0, "import of %s should fail", names[0]);
	cr_assert_eq(e.code, r);
	char *exp = expand(want);
	cr_assert_str_eq(e.msg, exp);
	cr_assert_eq(ds, (rbe_dataset *)0x1, "*out must be untouched on failure");
	cr_assert_eq(st.samples, (size_t)0xABABABABABABABABull, "stats must be untouched on failure");
	free(exp);
}

static int sample_index(const rbe_dataset *ds, const char *id)
{
	for (size_t i = 0; i < ds->n; i++)
		if (!strcmp(ds->sample_ids[i], id))
			return (int)i;
	cr_assert_fail("sample %s not found", id);
	return -1;
}

static void expect_outcome(const rbe_dataset *ds, const char *id, const char *model, double q, double c,
			   const char *response)
{
	int i = sample_index(ds, id), j = rbe_dataset_model_index(ds, model);
	cr_assert_geq(j, 0, "model %s", model);
	size_t k = (size_t)i * ds->n_models + (size_t)j;
	cr_assert_float_eq(ds->quality[k], (float)q, 1e-7, "%s/%s quality %g", id, model, (double)ds->quality[k]);
	cr_assert_float_eq(ds->cost[k], c, 1e-15, "%s/%s cost %g", id, model, ds->cost[k]);
	if (response) {
		cr_assert_not_null(ds->responses);
		cr_assert_str_eq(ds->responses[k], response, "%s/%s response", id, model);
	}
}

/* ---- good input -------------------------------------------------------------------------------- */

Test(import, wide_csv_with_index_prompts_and_responses)
{
	rbe_import_stats st;
	rbe_import_opts o = {.name = "tiny"};
	rbe_dataset *ds = import_ok(NAMES("good.csv"), &o, &st);
	cr_assert_eq(st.files, 1);
	cr_assert_eq(st.rows, 4);
	cr_assert_eq(st.samples, 4);
	cr_assert_eq(st.merged, 0);
	cr_assert_eq(st.skipped, 0);
	cr_assert_eq(st.models, 3);
	cr_assert_eq(st.evals, 2);
	cr_assert_eq(st.responses, 1);
	cr_assert_str_eq(st.skipped_example, "");
	cr_assert_str_eq(ds->name, "tiny");
	cr_assert_eq(ds->n, 4);
	cr_assert_eq(ds->n_evals, 2);
	cr_assert_str_eq(ds->eval_names[0], "math");
	cr_assert_str_eq(ds->eval_names[1], "qa");
	/* Rows sorted by the index column: 3, 7, 12, 20. */
	const char *ids[] = {"math.1", "math.2", "qa.1", "qa.2"};
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(ds->sample_ids[i], ids[i]);
	cr_assert_str_eq(ds->prompts[0], "What is 2+2?\nAnswer briefly.");
	cr_assert_str_eq(ds->prompts[1], "What is 3*3?");
	cr_assert_str_eq(ds->prompts[2], "Capital of France?\nAnswer:");
	cr_assert_str_eq(ds->prompts[3], "Plain prompt, \"quoted\",\non two lines");
	expect_outcome(ds, "math.1", "gamma", 0.0, 0.0002, "5");
	expect_outcome(ds, "math.1", "org/alpha-1", 1.0, 0.001, "It's 4");
	expect_outcome(ds, "math.1", "beta.v2", 1.0, 0.01, "4");
	expect_outcome(ds, "math.2", "beta.v2", 1.0, 0.01, "9, of course");
	expect_outcome(ds, "qa.1", "beta.v2", 0.5, 0.02, "Lyon \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80");
	expect_outcome(ds, "qa.2", "org/alpha-1", 0.25, 0.0, "y");
	expect_outcome(ds, "qa.2", "gamma", 0.0, 1e-4, "x");
	expect_outcome(ds, "qa.2", "beta.v2", 1.0, 0.5, "z");
	cr_assert_null(ds->features);
	rbe_dataset_free(ds);
}

Test(import, model_order_follows_response_columns)
{
	/* Quality columns are alpha, beta, gamma; response columns gamma, alpha, beta. */
	rbe_dataset *ds = import_ok(NAMES("good.csv"), NULL, NULL);
	cr_assert_eq(ds->n_models, 3);
	cr_assert_str_eq(ds->model_names[0], "gamma");
	cr_assert_str_eq(ds->model_names[1], "org/alpha-1");
	cr_assert_str_eq(ds->model_names[2], "beta.v2");
	cr_assert_str_eq(ds->name, "dataset");
	rbe_dataset_free(ds);

	/* Without response columns the cost columns declare the models; later files may list the
	 * same models in another order, the first file's order wins. */
	ds = import_ok(NAMES("order_a.csv", "order_b.csv"), NULL, NULL);
	cr_assert_str_eq(ds->model_names[0], "a");
	cr_assert_str_eq(ds->model_names[1], "b");
	cr_assert_null(ds->responses);
	expect_outcome(ds, "b1", "a", 0.0, 0.4, NULL);
	expect_outcome(ds, "b1", "b", 0.0, 0.3, NULL);
	rbe_dataset_free(ds);

	ds = import_ok(NAMES("wide.jsonl", "noindex.csv"), NULL, NULL);
	cr_assert_str_eq(ds->model_names[0], "y");
	cr_assert_str_eq(ds->model_names[1], "x");
	rbe_dataset_free(ds);
	ds = import_ok(NAMES("noindex.csv", "wide.jsonl"), NULL, NULL);
	cr_assert_str_eq(ds->model_names[0], "x");
	cr_assert_str_eq(ds->model_names[1], "y");
	rbe_dataset_free(ds);
}

Test(import, index_column_orders_rows_across_files)
{
	/* order_a: a1 (5), a2 (1); order_b: b1 (3), b2 (1). Stable: a2 before b2 on the tie. order_b
	 * also has a byte-order mark, LF line ends, a blank line and no final newline; order_a CRLF. */
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("order_a.csv", "order_b.csv"), NULL, &st);
	const char *ids[] = {"a2", "b2", "b1", "a1"};
	cr_assert_eq(ds->n, 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(ds->sample_ids[i], ids[i]);
	cr_assert_str_eq(ds->prompts[1], "pb2");
	expect_outcome(ds, "b2", "a", 0.5, 0.4, NULL);
	cr_assert_eq(st.files, 2);
	cr_assert_eq(st.rows, 4);
	cr_assert_eq(st.responses, 0);
	rbe_dataset_free(ds);

	/* Reversing the files changes only the tie. */
	ds = import_ok(NAMES("order_b.csv", "order_a.csv"), NULL, NULL);
	const char *rev[] = {"b2", "a2", "b1", "a1"};
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(ds->sample_ids[i], rev[i]);
	rbe_dataset_free(ds);
}

Test(import, without_index_rows_keep_file_order)
{
	rbe_dataset *ds = import_ok(NAMES("wide.jsonl", "noindex.csv"), NULL, NULL);
	cr_assert_eq(ds->n, 2);
	cr_assert_str_eq(ds->sample_ids[0], "w.1");
	cr_assert_str_eq(ds->sample_ids[1], "n.1");
	cr_assert_str_eq(ds->prompts[1], "plain prompt");
	expect_outcome(ds, "n.1", "x", 1.0, 0.5, "X");
	rbe_dataset_free(ds);
}

Test(import, rows_sharing_a_sample_id_are_merged)
{
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("merge.csv"), NULL, &st);
	cr_assert_eq(st.rows, 3);
	cr_assert_eq(st.samples, 2);
	cr_assert_eq(st.merged, 1);
	cr_assert_eq(st.skipped, 0);
	cr_assert_str_eq(ds->sample_ids[0], "s.0");
	cr_assert_str_eq(ds->sample_ids[1], "s.1");
	/* The row with index 1 comes first in the final order, although it is second in the file. */
	cr_assert_str_eq(ds->prompts[1], "first version");
	expect_outcome(ds, "s.1", "a", 0.5, 0.1, "ra1");
	expect_outcome(ds, "s.1", "b", 1.0, 0.02, "rb2");
	expect_outcome(ds, "s.1", "c", 1.0, 0.001, "rc1");
	rbe_dataset_free(ds);
}

Test(import, incomplete_samples_are_skipped_and_counted)
{
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("skip.csv"), NULL, &st);
	cr_assert_eq(st.rows, 4);
	cr_assert_eq(st.samples, 2);
	cr_assert_eq(st.skipped, 1);
	cr_assert_eq(st.merged, 1);
	char *want = expand("sample 's.2' ({D}/skip.csv:3) has no quality for model 'b'");
	cr_assert_str_eq(st.skipped_example, want);
	free(want);
	cr_assert_str_eq(ds->sample_ids[0], "s.1");
	cr_assert_str_eq(ds->sample_ids[1], "s.3");
	cr_assert_str_eq(ds->prompts[1], "p3");
	expect_outcome(ds, "s.3", "a", 0.0, 0.1, "ra");
	expect_outcome(ds, "s.3", "b", 1.0, 0.2, "rb");
	rbe_dataset_free(ds);
}

Test(import, jsonl_models_objects_with_embeddings)
{
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("good.jsonl"), NULL, &st);
	cr_assert_eq(st.rows, 3);
	cr_assert_eq(st.samples, 2);
	cr_assert_eq(st.merged, 1);
	cr_assert_eq(st.feature_dim, 3);
	cr_assert_eq(ds->n_models, 2);
	cr_assert_str_eq(ds->model_names[0], "m2");
	cr_assert_str_eq(ds->model_names[1], "m1");
	cr_assert_str_eq(ds->eval_names[0], "math");
	cr_assert_str_eq(ds->eval_names[1], "code");
	cr_assert_str_eq(ds->prompts[0], "What is 2+2?");
	cr_assert_str_eq(ds->prompts[1], "line one\nline two");
	expect_outcome(ds, "j.1", "m2", 1.0, 0.5, "4");
	expect_outcome(ds, "j.1", "m1", 0.0, 0.25, "");
	expect_outcome(ds, "j.2", "m1", 1.0, 1e-3, "ok");
	expect_outcome(ds, "j.2", "m2", 0.5, 0.2, "");
	cr_assert_eq(ds->feature_dim, 3);
	cr_assert_str_eq(ds->feature_name, "embedding");
	const float want[] = {0.5f, 1.0f, -2.0f, 0.0f, 0.0f, 0.0f};
	for (size_t k = 0; k < 6; k++)
		cr_assert_float_eq(ds->features[k], want[k], 0.0);
	rbe_dataset_free(ds);
}

Test(import, jsonl_wide_keys_like_the_csv_columns)
{
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("wide.jsonl"), NULL, &st);
	cr_assert_eq(st.samples, 1);
	cr_assert_eq(st.skipped, 1);
	cr_assert_str_eq(ds->model_names[0], "y");
	cr_assert_str_eq(ds->model_names[1], "x");
	cr_assert_str_eq(ds->prompts[0], "hi");
	expect_outcome(ds, "w.1", "y", 0.0, 0.2, "Y1");
	expect_outcome(ds, "w.1", "x", 1.0, 0.1, "X1");
	rbe_dataset_free(ds);
}

Test(import, no_responses_option_drops_the_texts)
{
	rbe_import_opts o = {.no_responses = 1};
	rbe_import_stats st;
	rbe_dataset *ds = import_ok(NAMES("good.csv"), &o, &st);
	cr_assert_null(ds->responses);
	cr_assert_eq(st.responses, 0);
	expect_outcome(ds, "qa.1", "beta.v2", 0.5, 0.02, NULL);
	rbe_dataset_free(ds);
}

Test(import, format_detection)
{
	cr_assert_eq(rbe_import_detect("a.csv", "{\"x\": 1}", 8), RBE_IMPORT_CSV);
	cr_assert_eq(rbe_import_detect("a.CSV", NULL, 0), RBE_IMPORT_CSV);
	cr_assert_eq(rbe_import_detect("a.jsonl", "x,y", 3), RBE_IMPORT_JSONL);
	cr_assert_eq(rbe_import_detect("a.ndjson", NULL, 0), RBE_IMPORT_JSONL);
	cr_assert_eq(rbe_import_detect("a.json", NULL, 0), RBE_IMPORT_JSONL);
	cr_assert_eq(rbe_import_detect("a.txt", "\xEF\xBB\xBF \n {\"x\": 1}", 13), RBE_IMPORT_JSONL);
	cr_assert_eq(rbe_import_detect("a.txt", ",sample_id", 10), RBE_IMPORT_CSV);
	cr_assert_eq(rbe_import_detect("dir.jsonl/data", NULL, 0), RBE_IMPORT_CSV);

	/* By content, through the importer, and by a forced format. */
	char dir[] = "/tmp/rb-import-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *src = path_of("wide.jsonl"), *data, *dst;
	size_t len;
	cr_assert_eq(rbe_read_file(src, &data, &len, NULL), 0);
	cr_assert(asprintf(&dst, "%s/wide.data", dir) > 0);
	FILE *fp = fopen(dst, "wb");
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_import_files((const char *const[]){dst}, 1, NULL, &ds, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 1);
	rbe_dataset_free(ds);
	rbe_import_opts o = {.format = RBE_IMPORT_CSV};
	cr_assert_lt(rbe_import_files((const char *const[]){dst}, 1, &o, &ds, NULL, &e), 0);
	unlink(dst);
	rmdir(dir);
	free(dst);
	free(src);
	free(data);
}

Test(import, dataset_name_is_the_output_stem)
{
	const char *cases[][2] = {{"out/mbpp.rbds", "mbpp"}, {"x", "x"}, {"a.b.c", "a.b"}, {"dir.v1/name", "name"},
				  {".hidden", ".hidden"}, {"/abs/path/real.rbds", "real"}};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *s = rbe_import_stem(cases[k][0]);
		cr_assert_str_eq(s, cases[k][1], "stem of %s", cases[k][0]);
		free(s);
	}
}

Test(import, jsonl_dataset_round_trips_through_rbds)
{
	rbe_import_opts o = {.name = "rt"};
	rbe_dataset *ds = import_ok(NAMES("good.jsonl"), &o, NULL);
	rbe_dataset *back = rbds_round_trip(ds);
	expect_same_dataset(ds, back);
	cr_assert_eq(back->feature_dim, 3);
	cr_assert_str_eq(back->feature_name, "embedding");
	rbe_dataset_free(back);
	rbe_dataset_free(ds);
}

/* ---- one test per error class ------------------------------------------------------------------ */

Test(import_errors, csv_unterminated_quote)
{
	expect_error(NAMES("bad_unterminated.csv"),
		     "{D}/bad_unterminated.csv:3:7: unterminated quoted field: no closing '\"' before the end of the file");
}

Test(import_errors, csv_garbage_after_closing_quote)
{
	expect_error(NAMES("bad_after_quote.csv"),
		     "{D}/bad_after_quote.csv:2:15: unexpected character 'x' after the closing quote of a field; expected ',' or the end of the line");
}

Test(import_errors, csv_wrong_number_of_fields)
{
	expect_error(NAMES("bad_fieldcount.csv"), "{D}/bad_fieldcount.csv:3:23: expected 10 fields as in the header, got 9");
}

Test(import_errors, empty_file)
{
	expect_error(NAMES("bad_empty.csv"), "{D}/bad_empty.csv: the file is empty: expected a header row");
}

Test(import_errors, missing_file)
{
	expect_error(NAMES("good.csv", "no_such_file.csv"), "{D}/no_such_file.csv: No such file or directory");
}

Test(import_errors, no_data_rows)
{
	expect_error(NAMES("bad_header_only.csv"), "{D}/bad_header_only.csv: no data rows, only a header");
	expect_error(NAMES("bad_header_only.csv", "bad_header_only.csv"), "none of the 2 files has a data row");
}

Test(import_errors, not_utf8)
{
	expect_error(NAMES("bad_utf8.csv"), "{D}/bad_utf8.csv:2:10: invalid UTF-8 (byte 0xe9); the file must be UTF-8");
	expect_error(NAMES("bad_nul.csv"), "{D}/bad_nul.csv:2:6: a NUL byte; text must be UTF-8 without NUL characters");
}

Test(import_errors, unknown_column)
{
	expect_error(NAMES("bad_unknown_column.csv"),
		     "{D}/bad_unknown_column.csv:1:31: unknown column 'bb': expected sample_id, prompt, eval_name, "
		     "oracle_model_to_route_to or a column of a model declared by a '<model>|model_response' column");
}

Test(import_errors, missing_required_column)
{
	expect_error(NAMES("bad_missing_column.csv"), "{D}/bad_missing_column.csv:1: missing column 'eval_name'");
}

Test(import_errors, model_without_quality_column)
{
	expect_error(NAMES("bad_no_quality_column.csv"),
		     "{D}/bad_no_quality_column.csv:1: model 'b' has no quality column (a column named 'b')");
}

Test(import_errors, model_without_cost_column)
{
	expect_error(NAMES("bad_no_cost_column.csv"),
		     "{D}/bad_no_cost_column.csv:1: model 'b' has no cost column 'b|total_cost'");
}

Test(import_errors, duplicate_column)
{
	expect_error(NAMES("bad_duplicate_column.csv"),
		     "{D}/bad_duplicate_column.csv:1:93: duplicate column 'prompt' (also column 3)");
}

Test(import_errors, empty_column_name)
{
	expect_error(NAMES("bad_empty_column_name.csv"),
		     "{D}/bad_empty_column_name.csv:1:11: column 2 has an empty name; only a leading index column may");
}

Test(import_errors, file_with_another_model)
{
	expect_error(NAMES("ab.csv", "bad_other_models.csv"),
		     "{D}/bad_other_models.csv:1: model 'c' is not among the models of {D}/ab.csv:1; every file must have the same models");
}

Test(import_errors, file_lacking_a_model)
{
	expect_error(NAMES("ab.csv", "bad_fewer_models.csv"),
		     "{D}/bad_fewer_models.csv:1: model 'a' of {D}/ab.csv:1 is missing here; every file must have the same models");
}

Test(import_errors, index_column_in_some_files_only)
{
	expect_error(NAMES("ab.csv", "bad_noindex.csv"),
		     "{D}/bad_noindex.csv:1: {D}/ab.csv has a leading index column but {D}/bad_noindex.csv has none, so the "
		     "row order is ambiguous; give every file an index column or none");
}

Test(import_errors, index_not_a_number)
{
	expect_error(NAMES("bad_index.csv"),
		     "{D}/bad_index.csv:2:1: the leading index column must hold a number, got \"x1\"");
}

Test(import_errors, quality_not_a_number)
{
	expect_error(NAMES("bad_quality_text.csv"),
		     "{D}/bad_quality_text.csv:3:14: quality for model 'b' must be a number in [0, 1], got \"abc\"");
}

Test(import_errors, quality_nan)
{
	expect_error(NAMES("bad_quality_nan.csv"),
		     "{D}/bad_quality_nan.csv:2:12: quality for model 'a' must be a number in [0, 1], got \"nan\"");
}

Test(import_errors, quality_above_one)
{
	expect_error(NAMES("bad_quality_range.csv"),
		     "{D}/bad_quality_range.csv:2:14: quality for model 'b' must be a number in [0, 1], got \"1.5\"");
}

Test(import_errors, quality_negative)
{
	expect_error(NAMES("bad_quality_negative.csv"),
		     "{D}/bad_quality_negative.csv:2:12: quality for model 'a' must be a number in [0, 1], got \"-0.5\"");
}

Test(import_errors, cost_missing_where_quality_present)
{
	expect_error(NAMES("bad_cost_missing.csv"),
		     "{D}/bad_cost_missing.csv:3:20: cost for model 'a' must be a number >= 0 (its quality is present), got an empty cell");
}

Test(import_errors, cost_negative)
{
	expect_error(NAMES("bad_cost_negative.csv"),
		     "{D}/bad_cost_negative.csv:2:24: cost for model 'b' must be a number >= 0 (its quality is present), got \"-0.2\"");
}

Test(import_errors, cost_not_a_number)
{
	expect_error(NAMES("bad_cost_text.csv"),
		     "{D}/bad_cost_text.csv:2:24: cost for model 'b' must be a number >= 0 (its quality is present), got \"cheap\"");
}

Test(import_errors, empty_eval_name)
{
	expect_error(NAMES("bad_eval_empty.csv"), "{D}/bad_eval_empty.csv:3:9: eval_name must not be empty (sample 's.1')");
}

Test(import_errors, empty_sample_id)
{
	expect_error(NAMES("bad_id_empty.csv"), "{D}/bad_id_empty.csv:2:3: sample_id must not be empty");
}

Test(import_errors, prompt_not_a_python_list)
{
	expect_error(NAMES("bad_prompt_literal.csv"),
		     "{D}/bad_prompt_literal.csv:2:7: prompt is not a valid Python list of strings: at offset 12: expected ',' or ']' after a list item");
}

Test(import_errors, response_not_a_python_list)
{
	expect_error(NAMES("bad_response_literal.csv"),
		     "{D}/bad_response_literal.csv:2:18: response of model 'b' is not a valid Python list of strings: at offset 2: truncated \\x escape: expected 2 hex digits");
}

Test(import_errors, quality_in_two_rows)
{
	/* Rows by index: line 3 (0), line 2 (1), line 4 (2); lines 2 and 4 both hold a's quality. */
	expect_error(NAMES("bad_dup_quality.csv"),
		     "{D}/bad_dup_quality.csv:4:13: sample 's.1' has a quality for model 'a' in two rows (also at "
		     "{D}/bad_dup_quality.csv:2:12); each model's quality must come from one row");
}

Test(import_errors, no_complete_sample)
{
	expect_error(NAMES("bad_all_skipped.csv"),
		     "no complete samples: 1 sample skipped, e.g. sample 's.1' ({D}/bad_all_skipped.csv:2) has no quality for model 'b'");
}

Test(import_errors, jsonl_syntax)
{
	expect_error(NAMES("bad_json_syntax.jsonl"), "{D}/bad_json_syntax.jsonl:2:44: invalid JSON: '}' expected near '\"prompt\"'");
}

Test(import_errors, jsonl_line_not_an_object)
{
	expect_error(NAMES("bad_json_not_object.jsonl"), "{D}/bad_json_not_object.jsonl:2: expected a JSON object, got [1,2]");
}

Test(import_errors, jsonl_missing_key)
{
	expect_error(NAMES("bad_json_missing_key.jsonl"), "{D}/bad_json_missing_key.jsonl:2: missing key 'eval_name'");
}

Test(import_errors, jsonl_wrong_type)
{
	expect_error(NAMES("bad_json_type.jsonl"), "{D}/bad_json_type.jsonl:1: key 'sample_id' must be a string, got 7");
}

Test(import_errors, jsonl_unknown_key)
{
	expect_error(NAMES("bad_json_unknown_key.jsonl"),
		     "{D}/bad_json_unknown_key.jsonl:1: unknown key 'modles': expected sample_id, eval_name, prompt, models, "
		     "embedding or oracle_model_to_route_to");
}

Test(import_errors, jsonl_unknown_model)
{
	expect_error(NAMES("bad_json_unknown_model.jsonl"),
		     "{D}/bad_json_unknown_model.jsonl:3: key 'models.n': model 'n' is not among the models of {D}/bad_json_unknown_model.jsonl:1");
}

Test(import_errors, jsonl_bad_quality)
{
	expect_error(NAMES("bad_json_quality.jsonl"),
		     "{D}/bad_json_quality.jsonl:1: key 'models.m.quality': quality for model 'm' must be a number in [0, 1] or null, got \"1\"");
}

Test(import_errors, jsonl_missing_cost)
{
	expect_error(NAMES("bad_json_cost.jsonl"),
		     "{D}/bad_json_cost.jsonl:1: key 'm|total_cost': cost for model 'm' must be a number >= 0 (its quality is present), got null");
}

Test(import_errors, jsonl_embedding_length)
{
	expect_error(NAMES("bad_json_embedding.jsonl"),
		     "{D}/bad_json_embedding.jsonl:2: key 'embedding' has 3 numbers, but {D}/bad_json_embedding.jsonl:1 has 2; "
		     "every embedding must have the same length");
}

Test(import_errors, jsonl_embedding_missing)
{
	expect_error(NAMES("bad_json_no_embedding.jsonl"),
		     "{D}/bad_json_no_embedding.jsonl:1: no 'embedding', but {D}/bad_json_no_embedding.jsonl:2 has one; "
		     "either every row has an embedding or none has");
}

/* ---- rbctl import ------------------------------------------------------------------------------ */

typedef struct run_result {
	int status;
	char out[8192], err[8192];
} run_result;

/* Runs $RBCTL with args, stdout and stderr captured in files of a separate directory. */
static void run_rbctl(run_result *res, const char *const *args)
{
	cmd_result r = rbctl_cmd(args);
	res->status = r.status;
	snprintf(res->out, sizeof(res->out), "%s", r.out);
	snprintf(res->err, sizeof(res->err), "%s", r.err);
	cmd_free(&r);
}

static size_t dir_entries(const char *dir, char *first, size_t cap)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	size_t n = 0;
	struct dirent *de;
	first[0] = '\0';
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!n++)
			snprintf(first, cap, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

Test(import_cli, bad_input_exits_1_and_leaves_no_file)
{
	char dir[] = "/tmp/rb-import-XXXXXX", out[128], name[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out.rbds", dir);
	const char *bad[] = {"bad_quality_text.csv", "bad_dup_quality.csv", "bad_all_skipped.csv"};
	for (size_t k = 0; k < 3; k++) {
		char *in = path_of(bad[k]);
		run_result res;
		run_rbctl(&res, (const char *const[]){"import", in, "-o", out, NULL});
		cr_assert_eq(res.status, 1, "%s: exit %d, stderr %s", bad[k], res.status, res.err);
		cr_assert(!strncmp(res.err, "rbctl import: ", 14), "stderr: %s", res.err);
		cr_assert_eq(dir_entries(dir, name, sizeof(name)), 0, "%s left '%s' behind", bad[k], name);
		free(in);
	}
	char *want = expand("rbctl import: {D}/bad_quality_text.csv:3:14: quality for model 'b' must be a number in [0, 1], got \"abc\"\n");
	char *in = path_of("bad_quality_text.csv");
	run_result res;
	run_rbctl(&res, (const char *const[]){"import", in, "-o", out, NULL});
	cr_assert_str_eq(res.err, want);
	cr_assert_str_eq(res.out, "");
	free(in);
	free(want);
	rmdir(dir);
}

Test(import_cli, good_input_writes_the_dataset_and_a_summary)
{
	char dir[] = "/tmp/rb-import-XXXXXX", out[128], name[256];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/small.rbds", dir);
	char *a = path_of("merge.csv");
	run_result res;
	run_rbctl(&res, (const char *const[]){"import", a, "-o", out, NULL});
	cr_assert_eq(res.status, 0, "stderr: %s", res.err);
	cr_assert_eq(dir_entries(dir, name, sizeof(name)), 1);
	cr_assert_str_eq(name, "small.rbds");
	char prefix[256];
	snprintf(prefix, sizeof(prefix),
		 "rbctl import: wrote %s: 1 file, 3 rows, 2 samples (1 merged, 0 skipped), 3 models, 1 eval, with responses, ", out);
	cr_assert(!strncmp(res.err, prefix, strlen(prefix)), "stderr: %s", res.err);
	cr_assert_str_eq(res.out, "");

	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_rbds_open(out, &ds, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 2);
	cr_assert_str_eq(ds->name, "small");
	rbe_dataset_free(ds);

	/* --quiet prints nothing; skipped samples are reported with an example. */
	char *s = path_of("skip.csv");
	run_rbctl(&res, (const char *const[]){"import", "--quiet", s, "-o", out, NULL});
	cr_assert_eq(res.status, 0);
	cr_assert_str_eq(res.err, "");
	run_rbctl(&res, (const char *const[]){"import", s, "--output", out, NULL});
	cr_assert_eq(res.status, 0);
	char *want = expand("rbctl import: skipped 1 sample lacking a quality, e.g. sample 's.2' ({D}/skip.csv:3) has no quality for model 'b'\n");
	cr_assert(strstr(res.err, want), "stderr: %s", res.err);
	free(want);
	free(s);
	unlink(out);
	rmdir(dir);
	free(a);
}

Test(import_cli, usage_errors_exit_2)
{
	char *in = path_of("merge.csv");
	run_result res;
	run_rbctl(&res, (const char *const[]){"import", NULL});
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "no input files"), "%s", res.err);
	run_rbctl(&res, (const char *const[]){"import", in, NULL});
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "no output file"), "%s", res.err);
	run_rbctl(&res, (const char *const[]){"import", in, "-o", NULL});
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "option -o needs a value"), "%s", res.err);
	run_rbctl(&res, (const char *const[]){"import", in, "--frobnicate", "-o", "/tmp/x.rbds", NULL});
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "unknown option '--frobnicate'"), "%s", res.err);
	run_rbctl(&res, (const char *const[]){"import", in, "-o", in, NULL});
	cr_assert_eq(res.status, 2);
	cr_assert(strstr(res.err, "is one of the input files"), "%s", res.err);
	run_rbctl(&res, (const char *const[]){"import", "--help", NULL});
	cr_assert_eq(res.status, 0);
	cr_assert(!strncmp(res.out, "usage: rbctl import FILE... -o OUT.rbds", 39), "%s", res.out);
	free(in);
}

/* ---- streamed input: what cannot be read, and lines too long to hold -------------------------------- */

/* text written to dir/name; the path (owned). */
static char *write_temp(const char *dir, const char *name, const char *text, size_t len)
{
	char *path;
	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return path;
}

static void expect_path_error(const char *path, const rbe_import_opts *o, const char *want)
{
	rbe_dataset *ds = (rbe_dataset *)0x1;
	rbe_error e = {0};
	int r = rbe_import_files((const char *const[]){path}, 1, o, &ds, NULL, &e);
	cr_assert_lt(r, 0, "import of %s should fail", path);
	cr_assert_eq(e.code, r);
	cr_assert_str_eq(e.msg, want);
	cr_assert_eq(ds, (rbe_dataset *)0x1);
}

Test(import_errors, directory_is_named)
{
	char *want;
	cr_assert(asprintf(&want, "%s: is a directory", data_dir()) > 0);
	expect_path_error(data_dir(), NULL, want);
	free(want);
}

Test(import_errors, unreadable_file_names_the_reason)
{
	char dir[] = "/tmp/rb-import-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = write_temp(dir, "locked.csv", "a\n", 2), *want;
	cr_assert_eq(chmod(path, 0), 0);
	/* root reads anything: then only the reason's wording is checked, on a missing file. */
	if (geteuid() != 0) {
		cr_assert(asprintf(&want, "%s: Permission denied", path) > 0);
		expect_path_error(path, NULL, want);
		free(want);
	}
	unlink(path);
	cr_assert(asprintf(&want, "%s: No such file or directory", path) > 0);
	expect_path_error(path, NULL, want);
	free(want);
	free(path);
	rmdir(dir);
}

Test(import_errors, line_longer_than_the_limit)
{
	char dir[] = "/tmp/rb-import-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	rbe_import_opts o = {.max_line = 64};
	char long_line[200], *want;
	memset(long_line, 'x', sizeof(long_line));

	/* CSV: a long unquoted line, and a quoted field that runs over many lines. */
	char text[512];
	int n = snprintf(text, sizeof(text), "sample_id,prompt,eval_name,a,a|total_cost\n%.*s\n", 150, long_line);
	char *csv = write_temp(dir, "long.csv", text, (size_t)n);
	cr_assert(asprintf(&want, "%s:2: line longer than 64 bytes", csv) > 0);
	expect_path_error(csv, &o, want);
	free(want);
	free(csv);
	n = snprintf(text, sizeof(text), "sample_id,prompt,eval_name,a,a|total_cost\ns1,\"one\ntwo\nthree\n%.*s\n\",e,1,1\n",
		     80, long_line);
	csv = write_temp(dir, "quoted.csv", text, (size_t)n);
	cr_assert(asprintf(&want, "%s:2: line longer than 64 bytes", csv) > 0);
	expect_path_error(csv, &o, want);
	free(want);
	/* The same file is fine under the default limit. */
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_import_files((const char *const[]){csv}, 1, NULL, &ds, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(ds->n, 1);
	rbe_dataset_free(ds);
	unlink(csv);
	free(csv);

	/* JSONL: the line is named, with no newline at all in it. */
	n = snprintf(text, sizeof(text), "{\"sample_id\": \"s1\", \"eval_name\": \"e\", \"prompt\": \"p\", \"a\": 1, \"a|total_cost\": 1}\n"
					 "{\"sample_id\": \"%.*s", 150, long_line);
	char *jsonl = write_temp(dir, "long.jsonl", text, (size_t)n);
	o.max_line = 100;
	cr_assert(asprintf(&want, "%s:2: line longer than 100 bytes", jsonl) > 0);
	expect_path_error(jsonl, &o, want);
	free(want);
	unlink(jsonl);
	free(jsonl);
	char *p;
	cr_assert(asprintf(&p, "%s/long.csv", dir) > 0);
	unlink(p);
	free(p);
	rmdir(dir);
}

Test(import_errors, nul_bytes_stop_at_once)
{
	/* A file of zeros fails at its first byte (not after reading the line limit), in both formats. */
	rbe_import_opts csv = {.format = RBE_IMPORT_CSV}, jsonl = {.format = RBE_IMPORT_JSONL};
	expect_path_error("/dev/zero", &csv, "/dev/zero:1:1: a NUL byte; text must be UTF-8 without NUL characters");
	expect_path_error("/dev/zero", &jsonl, "/dev/zero:1:1: a NUL byte; text must be UTF-8 without NUL characters");
	expect_path_error("/dev/zero", NULL, "/dev/zero:1:1: a NUL byte; text must be UTF-8 without NUL characters");
}

Test(import, streamed_input_cut_anywhere_gives_the_same_dataset)
{
	/* CRLF and lone CR line ends, quoted newlines and "" escapes, blank lines, a byte-order mark. */
	static const char text[] =
		"\xEF\xBB\xBFsample_id,prompt,eval_name,a,a|total_cost,b,b|total_cost\r\n"
		"s1,\"two\r\nlines, \"\"quoted\"\"\",e1,1,0.5,0,0.25\r\n"
		"\r\n"
		"s2,plain,e2,0.5,1,1,2\r"
		"s3,\"\xC3\xA9t\xC3\xA9\",e1,0,0.1,1,0.2\n"
		"s4,last,e2,1,1,1,1";
	char dir[] = "/tmp/rb-import-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *file = write_temp(dir, "cut.csv", text, sizeof(text) - 1);
	rbe_dataset *whole = NULL, *streamed = NULL;
	rbe_error e = {0};
	cr_assert_eq(rbe_import_files((const char *const[]){file}, 1, NULL, &whole, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(whole->n, 4);
	cr_assert_str_eq(whole->prompts[0], "two\r\nlines, \"quoted\"");

	trickle t;
	int fd = trickle_start(&t, text, sizeof(text) - 1);
	char *via;
	cr_assert(asprintf(&via, "/proc/self/fd/%d", fd) > 0);
	rbe_import_opts o = {.format = RBE_IMPORT_CSV};
	int r = rbe_import_files((const char *const[]){via}, 1, &o, &streamed, NULL, &e);
	trickle_join(&t);
	close(fd);
	cr_assert_eq(r, 0, "%s", e.msg);
	expect_same_dataset(whole, streamed);
	rbe_dataset_free(whole);
	rbe_dataset_free(streamed);
	free(via);
	unlink(file);
	free(file);
	rmdir(dir);
}
