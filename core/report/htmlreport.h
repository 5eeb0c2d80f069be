/* htmlreport.h — leaderboards of result documents, as self-contained HTML or as Markdown. */
#ifndef RBR_HTMLREPORT_H
#define RBR_HTMLREPORT_H

#include <stdio.h>

#include "report/plot.h"

typedef enum rbr_report_format {
	RBR_REPORT_HTML,
	RBR_REPORT_MD,
} rbr_report_format;

/* A leaderboard per task group and overall (docs/reports.md); HTML also embeds one SVG panel
 * per table. Deterministic. Writes to out and returns 0 (rs was checked when loaded). */
int rbr_report_write(FILE *out, const rbr_resultset *rs, rbr_report_format format);

#endif
