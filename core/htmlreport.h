/* htmlreport.h — leaderboards of result documents, as self-contained HTML or as Markdown. */
#ifndef RBD_HTMLREPORT_H
#define RBD_HTMLREPORT_H

#include <stdio.h>

#include "plot.h"

typedef enum rbd_report_format {
	RBD_REPORT_HTML,
	RBD_REPORT_MD,
} rbd_report_format;

/* A leaderboard per task group and overall (docs/reports.md); HTML also embeds one SVG panel
 * per table. Deterministic. Writes to out and returns 0 (rs was checked when loaded). */
int rbd_report_write(FILE *out, const rbd_resultset *rs, rbd_report_format format);

#endif
