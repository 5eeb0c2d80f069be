/* plot.h — result documents on the cost–quality plane: loading a set of them and drawing SVG. */
#ifndef RBR_PLOT_H
#define RBR_PLOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/util.h"

/* Result documents (docs/result-schema.md) that are drawn or reported together: all on one
 * dataset, each checked up front for every field the views read, so drawing never meets a
 * missing or mistyped field. */
typedef struct rbr_resultset {
	size_t n;
	char **paths;   /* [n] owned */
	json_t **docs;  /* [n] owned references */
	char **labels;  /* [n] legend text: router name and a params summary, unique within the set */
	size_t n_tasks;
	char **tasks;   /* [n_tasks] task groups in order of first appearance over the documents */
} rbr_resultset;

/* Load and check paths[0..n) (borrowed). On failure rs is left empty and e names the file and
 * the field ("knn.json: tasks.mmlu.router.points[3].quality: expected a number"), or both files
 * when their datasets differ. */
int rbr_resultset_load(rbr_resultset *rs, const char *const *paths, size_t n, rbe_error *e);
void rbr_resultset_clear(rbr_resultset *rs); /* accepts an empty or cleared set */

/* Everywhere below, task NULL means "overall", the pooled block. */

/* Block of document i for a task group; NULL when that document did not evaluate the group.
 * Borrowed from the document. */
const json_t *rbr_resultset_block(const rbr_resultset *rs, size_t i, const char *task);
/* The document whose LLM points, Oracle and Zero router are drawn and reported for task: the
 * first that evaluated it with bootstrap intervals, else the first that evaluated it (every
 * document has "overall"). The references are identical across documents sharing a split. */
size_t rbr_resultset_ref(const rbr_resultset *rs, const char *task);
/* Nonzero when every document has the same split (mode, seed, train fraction). */
int rbr_resultset_same_split(const rbr_resultset *rs);

/* A point's bootstrap interval for field ("quality", "cost_mean", "cost_total"): 1 and *lo, *hi
 * set when the point carries it (ci95 as an object of intervals, or a bare [lo, hi] for quality). */
int rbr_point_ci(const json_t *point, const char *field, double *lo, double *hi);

/* Router parameters as short text: "k=40, feature=any"; long lists become
 * "[0.001 … 100] (11 values)". Owned: free. max_len 0 = no limit, else cut with "…". */
char *rbr_params_summary(const json_t *params, size_t max_len);
/* A model name without its organisation prefix ("mistralai/mixtral-8x7b-chat" → "mixtral-8x7b-chat"). */
const char *rbr_short_model(const char *name);

/* Write s escaped for XML/HTML text and attribute values (& < > " '). */
void rbr_xml_escape(FILE *out, const char *s);

typedef struct rbr_plot_opts {
	int log_cost;      /* log10 cost axis with decade ticks */
	int inline_svg;    /* for embedding in HTML: no XML declaration, scales to its container */
	int panel_width;   /* pixels; 0: the default (500 × 380) */
	int panel_height;
} rbr_plot_opts;

/* One SVG: a heading, a legend, then one panel per entry of tasks[0..n_tasks) (names from
 * rs->tasks, NULL for overall) in a grid. Deterministic: the same inputs give the same bytes.
 * Returns 0, or -ENOENT (e filled) for a task no document has. */
int rbr_plot_svg(FILE *out, const rbr_resultset *rs, const char *const *tasks, size_t n_tasks,
		 const rbr_plot_opts *opts, rbe_error *e);

#endif
