/* table.h — human-readable views of a result document. */
#ifndef RBR_REPORT_H
#define RBR_REPORT_H

#include <jansson.h>
#include <stdio.h>

/* The per-task table `rbctl run` prints by default. */
void rbr_report_table(FILE *out, const json_t *result);

#endif
