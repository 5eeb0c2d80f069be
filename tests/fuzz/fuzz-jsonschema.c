/* fuzz-jsonschema.c — fuzz target: any JSON value validated against docs/result.schema.json (as
 * compiled into the library), and checked as a schema itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "report/jsonschema.h"
#include "report/result_schema.h"

/* The schema compiled into the library (report/result_schema.h), the one rbctl checks with. */
static const json_t *result_schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	result_schema = rbr_result_schema();
	return 0;
}

/* 1 when any object in v has a key starting with "pattern" (however the JSON spelled it). */
static int has_pattern(const json_t *v)
{
	const char *key;
	const json_t *sub;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, sub)
			if (strncmp(key, "pattern", 7) == 0 || has_pattern(sub))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, sub)
			if (has_pattern(sub))
				return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (!doc)
		return 0;
	rbe_error e = {0};
	int r = rbr_jsonschema_validate(result_schema, doc, &e);
	rbe_require(r == 0 || (r == -EINVAL && e.msg[0] != '\0'));
	/* As rbctl plot and report read it: the same verdict, with the file named. */
	rbe_error e3 = {0};
	int r3 = rbr_result_check(doc, "in.json", &e3);
	rbe_require(r3 == 0 || (r3 == -EINVAL && strncmp(e3.msg, "in.json: ", 9) == 0));
	rbe_require(r == 0 ? r3 == 0 : r3 == -EINVAL);

	/* The same bytes as a schema: the checker must refuse or accept cleanly, and an accepted one
	 * must validate a document (itself) without crashing. Patterns are left out: POSIX regcomp
	 * of a hostile pattern can take exponential time in libc, which is not this code's bug, and
	 * real schemas are trusted files. */
	if (!has_pattern(doc)) {
		rbe_error e2 = {0};
		if (rbr_jsonschema_check(doc, &e2) == 0) {
			r = rbr_jsonschema_validate(doc, doc, &e2);
			rbe_require(r == 0 || (r == -EINVAL && e2.msg[0] != '\0'));
		} else {
			rbe_require(e2.msg[0] != '\0');
		}
	}
	json_decref(doc);
	return 0;
}
