/* repeat.h — summarising the same evaluation over several split seeds (rbctl run --splits K). */
#ifndef RBD_REPEAT_H
#define RBD_REPEAT_H

#include <jansson.h>
#include <stddef.h>

/* results: k result documents of the same router and dataset, one per split seed. Returns
 * {"seeds": [...], "tasks": {group: SUMMARY}, "overall": SUMMARY} where SUMMARY holds, for the
 * router's aiq, aiq_code and max quality and the Zero router's aiq, {"mean", "sd", "min", "max",
 * "values"} (sd: sample standard deviation, 0 when k = 1). Owned result. */
json_t *rbd_repeated_summary(json_t *const *results, size_t k);

#endif
