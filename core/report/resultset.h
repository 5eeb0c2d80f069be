/* resultset.h — result documents (rbctl run --json) loaded together for plots and reports. */
#ifndef RBR_RESULTSET_H
#define RBR_RESULTSET_H

#include <jansson.h>
#include <stddef.h>

#include "lib/util.h"

/* Result documents (docs/result-schema.md) that are drawn or reported together: all on one
 * dataset, each checked up front against docs/result.schema.json, so drawing never meets a
 * missing or mistyped field. */
typedef struct rbr_resultset {
	size_t n;
	char **paths;   /* [n] owned */
	json_t **docs;  /* [n] owned references */
	char **labels;  /* [n] legend text: router name and a params summary, unique within the set */
	size_t n_tasks;
	char **tasks;   /* [n_tasks] task groups in order of first appearance over the documents */
} rbr_resultset;

/* Load and check paths[0..n) (borrowed): each against the result schema (rbr_result_check), then
 * for what the schema cannot say (a block without models, an interval whose ends are swapped).
 * On failure rs is left empty and e names the file and the JSON pointer of the problem
 * ("knn.json: /tasks/mmlu/router/points/3/quality: expected number, got string
 * (docs/result.schema.json)"), or both files when their datasets differ. */
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

#endif
