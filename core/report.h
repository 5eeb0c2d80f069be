/* report.h — human-readable views of a result document. */
#ifndef RBD_REPORT_H
#define RBD_REPORT_H

#include <jansson.h>
#include <stdio.h>

/* The per-task table `rbctl run` prints by default. */
void rbd_report_table(FILE *out, const json_t *result);

#endif
