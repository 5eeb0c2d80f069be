/* plot.h — result documents on the cost–quality plane: loading a set of them and drawing SVG. */
#ifndef RBR_PLOT_H
#define RBR_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "lib/util.h"
#include "report/resultset.h"
#include "report/text.h"

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
