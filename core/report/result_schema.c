/* result_schema.c — result documents checked against the schema compiled into the program. */
#include "report/result_schema.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "report/jsonschema.h"

static json_t *schema;
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static void load_schema(void)
{
	json_error_t je;
	schema = json_loadb(rbr_result_schema_text, rbr_result_schema_text_len, JSON_REJECT_DUPLICATES, &je);
	rbe_require(schema != NULL);
	rbe_error e = {0};
	rbe_require(rbr_jsonschema_check(schema, &e) == 0);
}

const json_t *rbr_result_schema(void)
{
	pthread_once(&schema_once, load_schema);
	return schema;
}

int rbr_result_check(const json_t *doc, const char *file, rbe_error *e)
{
	const json_t *s = rbr_result_schema();
	/* The document kind the schema describes is its own "schema" member's constant. */
	const char *want = json_string_value(json_object_get(json_object_get(json_object_get(s, "properties"), "schema"), "const"));
	rbe_require(want != NULL);
	if (!json_is_object(doc))
		return rbe_fail(e, -EINVAL, "%s: not a routerbench result (not a JSON object)", file);
	/* Another kind of document altogether is said so, not as a schema violation. */
	const char *kind = json_string_value(json_object_get(doc, "schema"));
	if (!kind || strcmp(kind, want) != 0)
		return rbe_fail(e, -EINVAL, "%s: not a routerbench result (schema %s%s%s; expected %s)", file,
				kind ? "'" : "", kind ? kind : "missing", kind ? "'" : "", want);
	rbe_error why = {0};
	if (rbr_jsonschema_validate(s, doc, &why) < 0)
		return rbe_fail(e, -EINVAL, "%s: %s (docs/result.schema.json)", file, why.msg);
	return 0;
}
