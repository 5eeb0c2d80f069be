/* cmd_info.c — rbctl info: describe a .rbds dataset as text or JSON, or (no FILE) ask rbd about itself. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/client.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "data/rbds_format.h"
#include "data/split.h"
#include "lib/util.h"

static const rbctl_usage info_usage = {
	"info",
	"usage: rbctl info FILE.rbds [--json]\n"
	"       rbctl info [--json] [--socket PATH]\n"
	"\n"
	"Validate a compiled dataset (checksum included) and describe it: name, content sha256,\n"
	"samples, models with their mean quality and cost, evals and task groups with counts,\n"
	"optional sections and file size.\n"
	"Without a FILE, ask rbd instead: its version, router ABI and protocol, who you are to it\n"
	"(uid, team, administrator), its workers and queue.\n",
	"exit status: 0 success, 1 bad file or rbd refused, 2 usage error, 3 cannot reach rbd\n",
};

/* Everything info reports, computed once for both output forms. */
struct summary {
	rbe_rbds_info file;
	double *mean_quality, *mean_cost; /* [n_models] */
	size_t *eval_count;               /* [n_evals] */
	uint32_t n_groups;
	const char **group_names; /* borrowed from ds or the grouping */
	size_t *group_count;
};

static void summarize(const rbe_dataset *ds, const rbe_grouping *g, struct summary *s)
{
	size_t n = ds->n, m = ds->n_models;
	s->mean_quality = rbe_xcalloc(m, sizeof(double));
	s->mean_cost = rbe_xcalloc(m, sizeof(double));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++) {
			s->mean_quality[j] += ds->quality[i * m + j];
			s->mean_cost[j] += ds->cost[i * m + j];
		}
	for (size_t j = 0; j < m; j++) {
		s->mean_quality[j] /= (double)n;
		s->mean_cost[j] /= (double)n;
	}
	s->eval_count = rbe_xcalloc(ds->n_evals, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		s->eval_count[ds->eval[i]]++;
	/* Evals are in order of first appearance, so groups come out in that order too. */
	s->group_names = rbe_xcalloc(ds->n_evals, sizeof(char *));
	s->group_count = rbe_xcalloc(ds->n_evals, sizeof(size_t));
	s->n_groups = 0;
	for (uint32_t k = 0; k < ds->n_evals; k++) {
		const char *grp = rbe_grouping_group_of(g, ds->eval_names[k]);
		uint32_t x = 0;
		while (x < s->n_groups && strcmp(s->group_names[x], grp) != 0)
			x++;
		if (x == s->n_groups)
			s->group_names[s->n_groups++] = grp;
		s->group_count[x] += s->eval_count[k];
	}
}

static void summary_free(struct summary *s)
{
	free(s->mean_quality);
	free(s->mean_cost);
	free(s->eval_count);
	free(s->group_names);
	free(s->group_count);
}

static void human_size(uint64_t bytes, char *out, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, len, "%.1f %s", v, units[u]);
}

static int has_tokens(const rbe_dataset *ds) { return ds->prompt_tokens || ds->completion_tokens; }

static void print_text(const rbe_dataset *ds, const char *path, const struct summary *s)
{
	char hex[65], size[32];
	rbe_hex(ds->sha256, 32, hex);
	human_size(s->file.file_size, size, sizeof(size));
	printf("name:      %s\n", ds->name);
	if (*s->file.stored_name && strcmp(s->file.stored_name, ds->name) != 0)
		printf("built as:  %s\n", s->file.stored_name);
	printf("path:      %s\n", path);
	printf("format:    %u\n", s->file.format_version);
	printf("sha256:    %s\n", hex);
	printf("file size: %llu bytes (%s)\n", (unsigned long long)s->file.file_size, size);
	printf("samples:   %zu\n", ds->n);

	int w = 5;
	for (uint32_t j = 0; j < ds->n_models; j++)
		if ((int)strlen(ds->model_names[j]) > w)
			w = (int)strlen(ds->model_names[j]);
	printf("\nmodels (%u), in dataset order:\n", ds->n_models);
	printf("  %-*s  %12s  %14s\n", w, "model", "mean quality", "mean cost USD");
	for (uint32_t j = 0; j < ds->n_models; j++)
		printf("  %-*s  %12.4f  %14.8f\n", w, ds->model_names[j], s->mean_quality[j], s->mean_cost[j]);

	w = 4;
	for (uint32_t k = 0; k < ds->n_evals; k++)
		if ((int)strlen(ds->eval_names[k]) > w)
			w = (int)strlen(ds->eval_names[k]);
	printf("\nevals (%u):\n", ds->n_evals);
	for (uint32_t k = 0; k < ds->n_evals; k++)
		printf("  %-*s  %zu\n", w, ds->eval_names[k], s->eval_count[k]);
	printf("\ntask groups (%u):\n", s->n_groups);
	for (uint32_t x = 0; x < s->n_groups; x++)
		printf("  %-*s  %zu\n", w, s->group_names[x], s->group_count[x]);

	printf("\nresponses: %s\n", ds->responses ? "yes" : "no");
	printf("tokens:    %s\n", has_tokens(ds) ? "yes" : "no");
	if (ds->feature_dim)
		printf("features:  %s (dim %u)\n", ds->feature_name, ds->feature_dim);
	else
		printf("features:  none\n");
}

static int print_json(const rbe_dataset *ds, const char *path, const struct summary *s)
{
	char hex[65];
	rbe_hex(ds->sha256, 32, hex);
	json_t *models = json_array(), *evals = json_array(), *groups = json_array();
	for (uint32_t j = 0; j < ds->n_models; j++)
		json_array_append_new(models, json_pack("{s:s, s:f, s:f}", "name", ds->model_names[j],
							"mean_quality", s->mean_quality[j], "mean_cost",
							s->mean_cost[j]));
	for (uint32_t k = 0; k < ds->n_evals; k++)
		json_array_append_new(evals, json_pack("{s:s, s:I}", "name", ds->eval_names[k], "count",
						       (json_int_t)s->eval_count[k]));
	for (uint32_t x = 0; x < s->n_groups; x++)
		json_array_append_new(groups, json_pack("{s:s, s:I}", "name", s->group_names[x], "count",
							(json_int_t)s->group_count[x]));
	json_t *features = ds->feature_dim ? json_pack("{s:s, s:I}", "name", ds->feature_name, "dim",
						       (json_int_t)ds->feature_dim)
					   : json_null();
	json_t *root = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:o, s:o, s:b, s:b, s:o}",
				 "name", ds->name, "stored_name", s->file.stored_name, "path", path,
				 "format_version", (json_int_t)s->file.format_version, "sha256", hex,
				 "file_size", (json_int_t)s->file.file_size, "samples", (json_int_t)ds->n,
				 "models", models, "evals", evals, "task_groups", groups, "responses",
				 ds->responses != NULL, "tokens", has_tokens(ds), "features", features);
	if (!root)
		return -1;
	int r = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
	return r;
}

int rbctl_info_main(int argc, char **argv)
{
	const char *path = NULL, *socket = NULL;
	int json = 0, first;
	rbe_opt opts[] = {
		RBE_OPT_FLAG("json", 0, &json, "print one JSON object instead of text"),
		RBCTL_SOCKET_OPT(&socket),
		RBE_OPT_HELP,
		RBE_OPT_END,
	};
	int status = rbctl_parse(&info_usage, opts, argc, argv, &first);
	if (status >= 0)
		return status;
	if (first + 1 < argc)
		return rbctl_usage_error("info", "one dataset at a time ('%s' and '%s')", argv[first], argv[first + 1]);
	if (first < argc)
		path = argv[first];
	if (path && socket) {
		fprintf(stderr, "rbctl info: --socket is for asking rbd, not for a FILE\n");
		return RBCTL_EXIT_USAGE;
	}
	if (!path) {
		/* No FILE: ask rbd. A bare `rbctl info` where no rbd was ever set up most likely
		 * wanted a FILE, so that is a usage error; a named socket that fails is exit 3. */
		const char *env = getenv(RBW_SOCKET_ENV);
		int quiet = !socket && !(env && *env);
		status = rbctl_server_info(socket, json, quiet);
		if (status >= 0)
			return status;
		fprintf(stderr, "rbctl info: no FILE.rbds given, and no rbd at %s to ask\n", RBW_DEFAULT_SOCKET);
		rbctl_print_usage(stderr, &info_usage, opts);
		return RBCTL_EXIT_USAGE;
	}

	rbe_error e = {0};
	rbe_dataset *ds = NULL;
	if (rbe_rbds_open(path, &ds, &e) < 0) {
		fprintf(stderr, "rbctl info: %s\n", e.msg);
		return RBCTL_EXIT_FAIL;
	}
	rbe_grouping g;
	rbe_grouping_default(&g);
	struct summary s = {0};
	rbe_require(rbe_rbds_info_of(ds, &s.file) == 0);
	summarize(ds, &g, &s);
	int r = 0;
	if (json)
		r = print_json(ds, path, &s);
	else
		print_text(ds, path, &s);
	summary_free(&s);
	rbe_grouping_clear(&g);
	rbe_dataset_free(ds);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "rbctl info: cannot write the output\n");
		return RBCTL_EXIT_FAIL;
	}
	return RBCTL_EXIT_OK;
}
