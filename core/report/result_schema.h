/* result_schema.h — docs/result.schema.json as compiled into the program, and result documents
 * checked against it before anything reads them. */
#ifndef RBR_RESULT_SCHEMA_H
#define RBR_RESULT_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "lib/util.h"

/* The schema file's bytes (NUL-terminated) and length, embedded at build time
 * (core/report/embed_text.py), so an installed rbctl needs no docs folder. */
extern const char rbr_result_schema_text[];
extern const size_t rbr_result_schema_text_len;

/* The embedded schema, parsed and checked (rbr_jsonschema_check) once. Borrowed; lives as long
 * as the process. Aborts if the embedded file is not a usable schema (a build defect, which
 * tests/test_schema.c would have caught). */
const json_t *rbr_result_schema(void);

/* Whether doc (borrowed) is a routerbench result: a JSON object whose "schema" is the one the
 * schema file names, valid against that file. On failure -EINVAL and e says, after "file: ",
 * "not a routerbench result (...)" or the JSON pointer of the first problem and the rule it
 * breaks ("r.json: /tasks/mbpp/llms/A/quality: 1.5 is above maximum 1 (docs/result.schema.json)"). */
int rbr_result_check(const json_t *doc, const char *file, rbe_error *e);

#endif
