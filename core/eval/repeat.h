/* repeat.h — summarising the same evaluation over several split seeds (rbctl run --splits K). */
#ifndef RBE_REPEAT_H
#define RBE_REPEAT_H

#include <jansson.h>
#include <stddef.h>

/* results: k result documents of the same router and dataset, one per split seed. Returns
 * {"seeds": [...], "tasks": {group: SUMMARY}, "overall": SUMMARY} where SUMMARY holds, for the
 * router's aiq, aiq_code and max quality and the Zero router's aiq, {"mean", "sd", "min", "max",
 * "values"} (sd: sample standard deviation, 0 when k = 1). Owned result. */
json_t *rbe_repeated_summary(json_t *const *results, size_t k);

#endif
