/* test_schema.c — the JSON Schema validator keyword by keyword, docs/result.schema.json itself
 * (and the copy compiled into rbctl), the result documents rbctl run writes checked against it,
 * and mutated ones refused: by the validator, and by rbctl plot and report. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "helpers.h"
#include "report/jsonschema.h"
#include "report/result_schema.h"

extern char **environ;

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	cr_assert_not_null(v, "test JSON does not parse (%s): %s", jerr.text, text);
	return v;
}

static void expect_ok(const char *schema, const char *doc)
{
	json_t *s = parse(schema), *d = parse(doc);
	rbe_error e = {0};
	int rc = rbr_jsonschema_validate(s, d, &e);
	cr_assert_eq(rc, 0, "%s against %s: %s", doc, schema, e.msg);
	json_decref(s);
	json_decref(d);
}

/* The validation fails with a message starting with want (the pointer and the rule). */
static void expect_fail(const char *schema, const char *doc, const char *want)
{
	json_t *s = parse(schema), *d = parse(doc);
	rbe_error e = {0};
	int rc = rbr_jsonschema_validate(s, d, &e);
	cr_assert_eq(rc, -EINVAL, "%s against %s should fail with: %s", doc, schema, want);
	cr_assert_eq(e.code, -EINVAL);
	cr_assert(strncmp(e.msg, want, strlen(want)) == 0, "message '%s', wanted '%s'", e.msg, want);
	json_decref(s);
	json_decref(d);
}

/* The schema itself is refused by the check, with a message starting with want. */
static void expect_bad_schema(const char *schema, const char *want)
{
	json_t *s = parse(schema), *d = parse("{}");
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_check(s, &e), -EINVAL, "schema %s should be refused", schema);
	cr_assert(strncmp(e.msg, want, strlen(want)) == 0, "message '%s', wanted '%s'", e.msg, want);
	rbe_error e2 = {0};
	cr_assert_eq(rbr_jsonschema_validate(s, d, &e2), -EINVAL, "validate checks the schema first");
	cr_assert_str_eq(e2.msg, e.msg);
	json_decref(s);
	json_decref(d);
}

/* ---- keywords ---- */

Test(schema, type)
{
	expect_ok("{\"type\": \"integer\"}", "3");
	expect_ok("{\"type\": \"integer\"}", "3.0");
	expect_fail("{\"type\": \"integer\"}", "3.5", "(root): expected integer, got number");
	expect_ok("{\"type\": \"number\"}", "3");
	expect_ok("{\"type\": \"number\"}", "-0.25");
	expect_fail("{\"type\": \"number\"}", "\"3\"", "(root): expected number, got string");
	expect_ok("{\"type\": \"boolean\"}", "false");
	expect_fail("{\"type\": \"boolean\"}", "null", "(root): expected boolean, got null");
	expect_ok("{\"type\": [\"string\", \"null\"]}", "null");
	expect_ok("{\"type\": [\"string\", \"null\"]}", "\"x\"");
	expect_fail("{\"type\": [\"string\", \"null\"]}", "[]", "(root): expected string or null, got array");
	expect_fail("{\"properties\": {\"a\": {\"type\": \"object\"}}}", "{\"a\": 1}", "/a: expected object, got integer");
}

Test(schema, const_and_enum)
{
	expect_ok("{\"const\": \"routerbench.result/1\"}", "\"routerbench.result/1\"");
	expect_fail("{\"properties\": {\"schema\": {\"const\": \"routerbench.result/1\"}}}",
		    "{\"schema\": \"routerbench.result/2\"}",
		    "/schema: \"routerbench.result/2\" is not the constant \"routerbench.result/1\"");
	/* Numbers compare by value, containers member by member. */
	expect_ok("{\"const\": 1}", "1.0");
	expect_ok("{\"const\": {\"a\": [1, true, null]}}", "{\"a\": [1.0, true, null]}");
	expect_fail("{\"const\": {\"a\": [1, true]}}", "{\"a\": [1, false]}", "(root): an object is not the constant an object");
	expect_fail("{\"const\": 1}", "true", "(root): true is not the constant 1");
	expect_ok("{\"enum\": [\"paper\", \"ood\"]}", "\"ood\"");
	expect_fail("{\"properties\": {\"mode\": {\"enum\": [\"paper\", \"ood\"]}}}", "{\"mode\": \"random\"}",
		    "/mode: \"random\" is not one of \"paper\", \"ood\"");
	expect_ok("{\"enum\": [0.5, 2]}", "2.0");
	expect_fail("{\"enum\": [0.5, 2]}", "0.25", "(root): 0.25 is not one of 0.5, 2");
}

Test(schema, required_names_the_missing_member)
{
	const char *s = "{\"properties\": {\"dataset\": {\"required\": [\"name\", \"sha256\"]}}}";
	expect_ok(s, "{\"dataset\": {\"name\": \"d\", \"sha256\": \"x\", \"more\": 1}}");
	expect_fail(s, "{\"dataset\": {\"name\": \"d\"}}", "/dataset/sha256: required property is missing");
	expect_fail("{\"required\": [\"schema\"]}", "{}", "/schema: required property is missing");
	/* Not an object: required does not apply. */
	expect_ok("{\"required\": [\"schema\"]}", "[]");
}

Test(schema, properties_and_additional_properties)
{
	const char *closed = "{\"properties\": {\"a\": {\"type\": \"integer\"}}, \"additionalProperties\": false}";
	expect_ok(closed, "{\"a\": 1}");
	expect_ok(closed, "{}");
	expect_fail(closed, "{\"a\": 1, \"b\": 2}", "/b: property not allowed (additionalProperties is false)");
	expect_fail(closed, "{\"a\": \"1\"}", "/a: expected integer, got string");
	/* Open by default; a schema for additional members applies to the unlisted ones only. */
	expect_ok("{\"properties\": {\"a\": {\"type\": \"integer\"}}}", "{\"a\": 1, \"b\": \"x\"}");
	const char *typed = "{\"properties\": {\"n\": {\"type\": \"string\"}}, \"additionalProperties\": {\"type\": \"number\"}}";
	expect_ok(typed, "{\"n\": \"x\", \"A\": 0.5, \"B\": 1}");
	expect_fail(typed, "{\"n\": \"x\", \"A\": 0.5, \"B\": \"1\"}", "/B: expected number, got string");
}

Test(schema, pattern_properties)
{
	const char *s = "{\"patternProperties\": {\"^x-\": {\"type\": \"string\"}, \"[0-9]$\": {\"type\": \"string\", \"minLength\": 2}},"
			" \"additionalProperties\": false}";
	expect_ok(s, "{\"x-a\": \"s\", \"b1\": \"ss\"}");
	expect_fail(s, "{\"x-a\": 1}", "/x-a: expected string, got integer");
	/* Every matching pattern applies. */
	expect_fail(s, "{\"x-1\": \"s\"}", "/x-1: \"s\" has 1 characters, fewer than minLength 2");
	expect_fail(s, "{\"y\": \"s\"}", "/y: property not allowed");
}

Test(schema, items_and_prefix_items)
{
	const char *pair = "{\"type\": \"array\", \"prefixItems\": [{\"type\": \"number\", \"minimum\": 0}, {\"type\": \"number\", \"maximum\": 1}],"
			   " \"minItems\": 2, \"maxItems\": 2}";
	expect_ok(pair, "[0.5, 0.25]");
	expect_fail(pair, "[-1, 0.25]", "/0: -1 is below minimum 0");
	expect_fail(pair, "[1, 2]", "/1: 2 is above maximum 1");
	expect_fail(pair, "[1]", "(root): 1 items, fewer than minItems 2");
	expect_fail(pair, "[1, 1, 1]", "(root): 3 items, more than maxItems 2");
	expect_ok("{\"items\": {\"type\": \"integer\"}}", "[1, 2, 3]");
	expect_fail("{\"items\": {\"type\": \"integer\"}}", "[1, 2, 3.5]", "/2: expected integer, got number");
	/* items applies after prefixItems only. */
	const char *tail = "{\"prefixItems\": [{\"type\": \"string\"}], \"items\": {\"type\": \"integer\"}}";
	expect_ok(tail, "[\"a\", 1, 2]");
	expect_fail(tail, "[\"a\", \"b\"]", "/1: expected integer, got string");
	expect_fail("{\"prefixItems\": [true], \"items\": false}", "[1, 2]",
		    "/1: item not allowed ('items' is false after 1 prefixItems)");
	expect_ok("{\"prefixItems\": [{\"type\": \"string\"}]}", "[\"a\", 2, null]");
	expect_fail("{\"items\": {\"items\": {\"type\": \"number\"}}}", "[[1, 2], [3, \"x\"]]",
		    "/1/1: expected number, got string");
}

Test(schema, numeric_bounds)
{
	const char *q = "{\"minimum\": 0, \"maximum\": 1}";
	expect_ok(q, "0");
	expect_ok(q, "1");
	expect_ok(q, "1.0");
	expect_fail(q, "1.5", "(root): 1.5 is above maximum 1");
	expect_fail(q, "-0.001", "(root): -0.001 is below minimum 0");
	/* The shortest exact decimal: a rounding overshoot is visible. */
	expect_fail(q, "1.0000000000000002", "(root): 1.0000000000000002 is above maximum 1");
	const char *open = "{\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1}";
	expect_ok(open, "0.7");
	expect_fail(open, "0", "(root): 0 is not above exclusiveMinimum 0");
	expect_fail(open, "1.0", "(root): 1 is not below exclusiveMaximum 1");
	/* Integers compare exactly, beyond a double's 53 bits. */
	expect_ok("{\"maximum\": 9007199254740993}", "9007199254740993");
	expect_fail("{\"maximum\": 9007199254740992}", "9007199254740993",
		    "(root): 9007199254740993 is above maximum 9007199254740992");
	/* Bounds apply to numbers only. */
	expect_ok(q, "\"2\"");
}

Test(schema, strings)
{
	const char *hex = "{\"type\": \"string\", \"pattern\": \"^[0-9a-f]{64}$\"}";
	expect_ok(hex, "\"984e4a823b8d17d6793ffe082845517e0799c3f1dab60af73d505f85861ed7c7\"");
	expect_fail(hex, "\"984E4A823B8D17D6793FFE082845517E0799C3F1DAB60AF73D505F85861ED7C7\"",
		    "(root): \"984E4A823B8D17D6793FFE082845517E0799C3F1DAB60AF73D505F85861ED7C7\" does not match pattern ^[0-9a-f]{64}$");
	expect_fail(hex, "\"abc\"", "(root): \"abc\" does not match pattern");
	/* Unanchored search, as JSON Schema patterns are. */
	expect_ok("{\"pattern\": \"b+\"}", "\"abbc\"");
	/* An embedded NUL is part of the string, not its end. */
	expect_fail("{\"pattern\": \"^[a-z]*$\"}", "\"ab\\u0000cd\"", "(root): \"ab\\u0000cd\" does not match");
	/* minLength counts characters: "é" is one, in two bytes. */
	expect_ok("{\"minLength\": 1}", "\"\\u00e9\"");
	expect_fail("{\"minLength\": 2}", "\"\\u00e9\"", "(root): \"é\" has 1 characters, fewer than minLength 2");
	expect_fail("{\"minLength\": 1}", "\"\"", "(root): \"\" has 0 characters, fewer than minLength 1");
	/* A long value is cut in the message. */
	char doc[256];
	snprintf(doc, sizeof(doc), "\"%0200d\"", 0);
	json_t *s = parse("{\"const\": \"x\"}"), *d = parse(doc);
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_validate(s, d, &e), -EINVAL);
	cr_assert(strstr(e.msg, "...") && strlen(e.msg) < 160, "%s", e.msg);
	json_decref(s);
	json_decref(d);
}

Test(schema, refs_and_defs)
{
	const char *s = "{\"$defs\": {\"Q\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1},"
			"            \"P\": {\"type\": \"object\", \"required\": [\"quality\"], \"properties\": {\"quality\": {\"$ref\": \"#/$defs/Q\"}}}},"
			" \"type\": \"object\", \"additionalProperties\": {\"$ref\": \"#/$defs/P\"}}";
	expect_ok(s, "{\"A\": {\"quality\": 0.5}}");
	expect_fail(s, "{\"A\": {\"quality\": 0.5}, \"B\": {\"quality\": 1.5}}", "/B/quality: 1.5 is above maximum 1");
	expect_fail(s, "{\"A\": {}}", "/A/quality: required property is missing");
	/* 2020-12: the siblings of "$ref" apply as well. */
	const char *ext = "{\"$defs\": {\"P\": {\"required\": [\"quality\"]}},"
			  " \"$ref\": \"#/$defs/P\", \"required\": [\"param\"]}";
	expect_ok(ext, "{\"quality\": 1, \"param\": 0.5}");
	expect_fail(ext, "{\"param\": 0.5}", "/quality: required property is missing");
	expect_fail(ext, "{\"quality\": 1}", "/param: required property is missing");
	/* A cycle ends in an error, not a crash. */
	expect_fail("{\"$defs\": {\"A\": {\"$ref\": \"#/$defs/B\"}, \"B\": {\"$ref\": \"#/$defs/A\"}}, \"$ref\": \"#/$defs/A\"}",
		    "1", "(root): schemas nested deeper than");
}

Test(schema, boolean_schemas)
{
	expect_ok("true", "{\"anything\": [1, 2]}");
	expect_fail("false", "1", "(root): no value is allowed here (schema false)");
	expect_fail("{\"properties\": {\"gone\": false}}", "{\"gone\": 1}", "/gone: no value is allowed here");
	expect_ok("{\"properties\": {\"gone\": false}}", "{\"kept\": 1}");
}

Test(schema, pointer_escapes_and_document_order)
{
	const char *s = "{\"additionalProperties\": {\"additionalProperties\": {\"maximum\": 1}}}";
	/* RFC 6901: "~" is written "~0" and "/" "~1" (model names carry slashes). */
	expect_fail(s, "{\"llms\": {\"mistralai/mistral-7b\": 2}}", "/llms/mistralai~1mistral-7b: 2 is above maximum 1");
	expect_fail(s, "{\"a~b\": {\"c\": 3}}", "/a~0b/c: 3 is above maximum 1");
	expect_fail(s, "{\"\": {\"\": 3}}", "//: 3 is above maximum 1");
	/* The first failing place in document order is the one named. */
	expect_fail(s, "{\"x\": {\"a\": 0, \"b\": 5, \"c\": 7}, \"y\": {\"d\": 9}}", "/x/b: 5 is above maximum 1");
	expect_fail(s, "{\"y\": {\"d\": 9}, \"x\": {\"b\": 5}}", "/y/d: 9 is above maximum 1");
}

Test(schema, unsupported_or_malformed_schemas_are_refused)
{
	expect_bad_schema("{\"properties\": {\"a\": {\"maximun\": 1}}}",
			  "schema #/properties/a: unsupported keyword 'maximun'");
	expect_bad_schema("{\"anyOf\": [true]}", "schema #: unsupported keyword 'anyOf'");
	expect_bad_schema("{\"items\": {\"multipleOf\": 2}}", "schema #/items: unsupported keyword 'multipleOf'");
	expect_bad_schema("{\"$defs\": {\"P\": {\"format\": \"uri\"}}}", "schema #/$defs/P: unsupported keyword 'format'");
	expect_bad_schema("{\"prefixItems\": [true, {\"oneOf\": []}]}", "schema #/prefixItems/1: unsupported keyword 'oneOf'");
	expect_bad_schema("{\"patternProperties\": {\"^a/b\": {\"not\": {}}}}",
			  "schema #/patternProperties/^a~1b: unsupported keyword 'not'");
	/* Unreached parts are checked too: the subset cannot grow unseen. */
	expect_bad_schema("{\"properties\": {\"never\": {\"if\": true}}}", "schema #/properties/never: unsupported keyword 'if'");
	expect_bad_schema("{\"$ref\": \"#/$defs/NOPE\", \"$defs\": {}}",
			  "schema #: '$ref' \"#/$defs/NOPE\": no 'NOPE' in the root's $defs");
	expect_bad_schema("{\"$ref\": \"other.json#/x\"}", "schema #: '$ref' must be a string \"#/$defs/NAME\"");
	expect_bad_schema("{\"$ref\": \"#/$defs/a/b\", \"$defs\": {\"a\": {\"$defs\": {\"b\": true}}}}",
			  "schema #: '$ref' must be a string");
	expect_bad_schema("{\"$defs\": {\"a\": {\"$defs\": {\"b\": true}}}}", "schema #/$defs/a: '$defs' is supported at the root only");
	expect_bad_schema("{\"type\": \"float\"}", "schema #: unknown type \"float\"");
	expect_bad_schema("{\"type\": []}", "schema #: 'type' must be a type name or a non-empty array");
	expect_bad_schema("{\"type\": [\"string\", \"string\"]}", "schema #: 'type' names \"string\" twice");
	expect_bad_schema("{\"enum\": []}", "schema #: 'enum' must be a non-empty array");
	expect_bad_schema("{\"required\": [\"a\", 1]}", "schema #: 'required' item 1 is not a string");
	expect_bad_schema("{\"minItems\": -1}", "schema #: 'minItems' must be an integer >= 0");
	expect_bad_schema("{\"minLength\": 1.5}", "schema #: 'minLength' must be an integer >= 0");
	expect_bad_schema("{\"maximum\": \"1\"}", "schema #: 'maximum' must be a number");
	expect_bad_schema("{\"exclusiveMinimum\": true}", "schema #: 'exclusiveMinimum' must be a number");
	expect_bad_schema("{\"pattern\": \"([a-z\"}", "schema #: pattern \"([a-z\" is not a POSIX extended regex");
	expect_bad_schema("{\"patternProperties\": {\"(\": true}}", "schema #/patternProperties: pattern \"(\" is not a POSIX extended regex");
	expect_bad_schema("{\"properties\": []}", "schema #: 'properties' must be an object of schemas");
	expect_bad_schema("{\"properties\": {\"a\": 3}}", "schema #/properties/a: a schema must be an object or a boolean");
	expect_bad_schema("{\"prefixItems\": []}", "schema #: 'prefixItems' must be a non-empty array of schemas");
	expect_bad_schema("{\"description\": 3}", "schema #: 'description' must be a string");
	expect_bad_schema("{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}",
			  "schema #: '$schema' must be \"https://json-schema.org/draft/2020-12/schema\"");
	expect_bad_schema("{\"items\": {\"$schema\": \"https://json-schema.org/draft/2020-12/schema\"}}",
			  "schema #/items: '$schema' is supported at the root only");
	expect_bad_schema("[]", "schema #: a schema must be an object or a boolean, not array");
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_check(NULL, &e), -EINVAL);
	cr_assert_eq(rbr_jsonschema_validate(json_true(), NULL, &e), -EINVAL);
	cr_assert_eq(rbr_jsonschema_validate(json_true(), NULL, NULL), -EINVAL, "a NULL error report is allowed");
	/* Annotations are accepted. */
	expect_ok("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"t\", \"description\": \"d\","
		  " \"$comment\": \"c\", \"properties\": {\"a\": {\"description\": \"x\"}}}",
		  "{\"a\": 1}");
}

/* ---- docs/result.schema.json ---- */

static json_t *load_result_schema(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/docs/result.schema.json", env_or("RB_SOURCE_ROOT", "."));
	json_error_t jerr;
	json_t *s = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(s, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	return s;
}

Test(result_schema, file_loads_and_uses_the_subset)
{
	json_t *s = load_result_schema();
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_check(s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(json_string_value(json_object_get(s, "$schema")), "https://json-schema.org/draft/2020-12/schema");
	const char *defs[] = {"POINT", "INTERVAL", "HULL", "BLOCK"};
	for (size_t k = 0; k < sizeof(defs) / sizeof(defs[0]); k++)
		cr_assert_not_null(json_object_get(json_object_get(s, "$defs"), defs[k]), "$defs/%s", defs[k]);
	json_decref(s);
}

/* A small complete result, by hand, with every optional key the engine may add. */
static const char *full_result =
	"{\"schema\": \"routerbench.result/1\", \"tool\": {\"name\": \"routerbench\", \"version\": \"0.1.0\"},"
	" \"dataset\": {\"name\": \"d\", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\","
	"              \"prompts\": 10, \"models\": [\"A\", \"B/x\"]},"
	" \"router\": {\"name\": \"knn\", \"version\": \"1.0\", \"kind\": \"predictive\","
	"             \"sha256\": \"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\", \"params\": {\"k\": 10}},"
	" \"split\": {\"mode\": \"paper\", \"seed\": 42, \"train_fraction\": 0.7},"
	" \"sweep\": {\"lambdas\": [0.1, 10]},"
	" \"bootstrap\": {\"resamples\": 1000, \"seed\": 42, \"level\": 0.95, \"method\": \"percentile\"},"
	" \"calibration\": {\"target_budget\": 0.01}, \"overhead_cost_per_query\": 0.0001,"
	" \"repeated\": {\"seeds\": [42, 43], \"tasks\": {\"t\": SPREAD}, \"overall\": SPREAD},"
	" \"tasks\": {\"t\": BLOCK}, \"overall\": BLOCK,"
	" \"timing\": {\"fit_seconds\": 0.1, \"route_seconds\": 0.2, \"total_seconds\": 0.3, \"decisions\": 6,"
	"             \"route_seconds_per_prompt\": 0.066}}";

static const char *full_block =
	"{\"n_train\": 7, \"n_test\": 3,"
	" \"llms\": {\"A\": {\"quality\": 0.5, \"cost_total\": 0.3, \"cost_mean\": 0.1,"
	"                   \"ci95\": {\"quality\": [0.2, 0.8], \"cost_total\": [0.3, 0.3], \"cost_mean\": [0.1, 0.1]}},"
	"           \"B/x\": {\"quality\": 1, \"cost_total\": 3, \"cost_mean\": 1}},"
	" \"oracle\": {\"quality\": 1, \"cost_total\": 1.2, \"cost_mean\": 0.4},"
	" \"aiq_domain\": [0.3, 3],"
	" \"zero\": {\"ndch\": [[0.3, 0.5], [3, 1]], \"aiq\": 0.8, \"aiq_code\": 0.7, \"aiq_ci95\": [0.7, 0.9],"
	"           \"aiq_code_ci95\": [0.6, 0.8]},"
	" \"router\": {\"points\": [{\"quality\": 0.5, \"cost_total\": 0.3, \"cost_mean\": 0.1, \"param\": 0.1,"
	"                           \"share\": {\"A\": 1, \"B/x\": 0}, \"ci95\": {\"quality\": [0.2, 0.8]}},"
	"                          {\"quality\": 1, \"cost_total\": 3, \"cost_mean\": 1, \"param\": {\"curve\": 0.1},"
	"                           \"share\": {\"A\": 0, \"B/x\": 1}, \"expected\": {\"quality\": 1, \"cost_total\": 3, \"cost_mean\": 1}}],"
	"             \"ndch\": [[0.3, 0.5], [3, 1]], \"aiq\": 0.8, \"aiq_code\": 0.7, \"aiq_ci95\": [0.7, 0.9],"
	"             \"aiq_code_ci95\": [0.6, 0.8],"
	"             \"max_quality\": {\"quality\": 1, \"cost_total\": 3, \"cost_mean\": 1, \"param\": 10},"
	"             \"share\": {\"A\": 0, \"B/x\": 1},"
	"             \"curves\": [{\"curve\": 0.1, \"points\": [0, 1], \"ndch\": [[0.3, 0.5]], \"aiq\": 0.5,"
	"                          \"aiq_code\": 0.4, \"aiq_ci95\": [0.4, 0.6]}]},"
	" \"families\": {\"regret\": {}},"
	" \"decisions\": {\"sample_ids\": [\"t.1\", \"t.2\", \"t.3\"], \"llm_quality\": [[0, 1], [1, 1], [0.5, 1]],"
	"               \"llm_cost\": [[0.1, 1], [0.1, 1], [0.1, 1]], \"model\": [[0, 0, 0], [1, 1, 1]],"
	"               \"cost\": [[0.1, 0.1, 0.1], [1, 1, 1]]},"
	" \"calibration\": {\"target\": {\"budget_per_query\": 0.5}, \"point\": 0, \"param\": 0.1, \"met_on_validation\": true,"
	"                  \"validation\": {\"quality\": 0.5, \"cost_total\": 0.2, \"cost_mean\": 0.1, \"n\": 2, \"share\": {\"A\": 1}},"
	"                  \"test\": {\"quality\": 0.5, \"cost_total\": 0.3, \"cost_mean\": 0.1, \"n\": 3, \"share\": {\"A\": 1}}}}";

static const char *full_spread =
	"{\"aiq\": STAT, \"aiq_code\": STAT, \"max_quality\": STAT, \"zero_aiq\": STAT}";

static const char *full_stat = "{\"mean\": 0.5, \"sd\": 0.1, \"min\": 0.4, \"max\": 0.6, \"values\": [0.4, 0.6]}";

/* text with every occurrence of name replaced by value (owned: free). */
static char *substitute(const char *text, const char *name, const char *value)
{
	size_t count = 0, len = strlen(name);
	for (const char *p = strstr(text, name); p; p = strstr(p + len, name))
		count++;
	char *res = malloc(strlen(text) + count * strlen(value) + 1), *out = res;
	for (const char *p = text; *p;) {
		if (strncmp(p, name, len) == 0) {
			out += sprintf(out, "%s", value);
			p += len;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
	return res;
}

/* full_result with its placeholders filled in (owned: json_decref). */
static json_t *full_result_doc(void)
{
	char *spread = substitute(full_spread, "STAT", full_stat);
	char *with_blocks = substitute(full_result, "BLOCK", full_block);
	char *text = substitute(with_blocks, "SPREAD", spread);
	json_t *doc = parse(text);
	free(spread);
	free(with_blocks);
	free(text);
	return doc;
}

static json_t *at(json_t *root, const char *path)
{
	json_t *cur = root;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		/* Unescape "~1" and "~0" (JSON pointer), in place. */
		char *w = tok;
		for (const char *r = tok; *r; r++) {
			if (r[0] == '~' && (r[1] == '0' || r[1] == '1')) {
				*w++ = r[1] == '1' ? '/' : '~';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
	}
	cr_assert_not_null(cur, "no %s in the document", path);
	return cur;
}

/* Apply one change to a fresh copy of the full result and expect the validation message want. */
static void expect_mutation_fails(json_t *schema, const char *parent, const char *key, json_t *value, const char *want)
{
	json_t *doc = full_result_doc();
	json_t *obj = at(doc, parent);
	if (json_is_array(obj))
		json_array_set_new(obj, (size_t)atoi(key), value);
	else if (value)
		json_object_set_new(obj, key, value);
	else
		json_object_del(obj, key);
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_validate(schema, doc, &e), -EINVAL, "%s/%s changed should fail", parent, key);
	cr_assert(strncmp(e.msg, want, strlen(want)) == 0, "message '%s', wanted '%s'", e.msg, want);
	json_decref(doc);
}

Test(result_schema, optional_keys_validate_and_are_typed)
{
	json_t *s = load_result_schema(), *doc = full_result_doc();
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_validate(s, doc, &e), 0, "%s", e.msg);
	/* Open to additions at every level. */
	json_object_set_new(doc, "future", json_true());
	json_object_set_new(at(doc, "overall/router/points/0"), "future", json_true());
	json_object_set_new(at(doc, "overall/zero"), "future", json_true());
	cr_assert_eq(rbr_jsonschema_validate(s, doc, &e), 0, "%s", e.msg);
	json_decref(doc);

	expect_mutation_fails(s, "tasks/t/llms/A/ci95", "quality", json_pack("[fff]", 0.1, 0.2, 0.3),
			      "/tasks/t/llms/A/ci95/quality: 3 items, more than maxItems 2");
	expect_mutation_fails(s, "tasks/t/llms/A/ci95", "cost_mean", json_pack("[fs]", 0.1, "x"),
			      "/tasks/t/llms/A/ci95/cost_mean/1: expected number, got string");
	expect_mutation_fails(s, "overall/zero", "aiq_ci95", json_pack("[f]", 0.1),
			      "/overall/zero/aiq_ci95: 1 items, fewer than minItems 2");
	expect_mutation_fails(s, "overall/router/curves/0", "aiq_ci95", json_string("0.5"),
			      "/overall/router/curves/0/aiq_ci95: expected array, got string");
	expect_mutation_fails(s, "bootstrap", "method", json_string("bca"),
			      "/bootstrap/method: \"bca\" is not the constant \"percentile\"");
	expect_mutation_fails(s, "bootstrap", "level", json_real(1.0), "/bootstrap/level: 1 is not below exclusiveMaximum 1");
	expect_mutation_fails(s, "bootstrap", "resamples", json_integer(-1), "/bootstrap/resamples: -1 is below minimum 0");
	expect_mutation_fails(s, "bootstrap", "seed", NULL, "/bootstrap/seed: required property is missing");
	expect_mutation_fails(s, "", "overhead_cost_per_query", json_real(-0.5),
			      "/overhead_cost_per_query: -0.5 is below minimum 0");
	expect_mutation_fails(s, "", "repeated", json_array(), "/repeated: expected object, got array");
	expect_mutation_fails(s, "repeated", "seeds", json_pack("[i]", -1), "/repeated/seeds/0: -1 is below minimum 0");
	expect_mutation_fails(s, "repeated/tasks/t", "zero_aiq", NULL, "/repeated/tasks/t/zero_aiq: required property is missing");
	expect_mutation_fails(s, "repeated/overall/aiq", "sd", json_real(-0.1), "/repeated/overall/aiq/sd: -0.1 is below minimum 0");
	expect_mutation_fails(s, "repeated/overall/aiq", "values", json_array(),
			      "/repeated/overall/aiq/values: 0 items, fewer than minItems 1");
	expect_mutation_fails(s, "tasks/t/decisions/model", "1", json_pack("[iif]", 1, 1, 0.5),
			      "/tasks/t/decisions/model/1/2: expected integer, got number");
	expect_mutation_fails(s, "tasks/t/decisions/llm_quality", "2", json_pack("[ff]", 0.5, 2.0),
			      "/tasks/t/decisions/llm_quality/2/1: 2 is above maximum 1");
	expect_mutation_fails(s, "tasks/t/decisions", "cost", NULL, "/tasks/t/decisions/cost: required property is missing");
	expect_mutation_fails(s, "tasks/t/calibration", "met_on_validation", json_string("yes"),
			      "/tasks/t/calibration/met_on_validation: expected boolean, got string");
	expect_mutation_fails(s, "tasks/t/calibration/test", "n", NULL, "/tasks/t/calibration/test/n: required property is missing");
	expect_mutation_fails(s, "tasks/t/calibration/validation", "quality", json_real(-1),
			      "/tasks/t/calibration/validation/quality: -1 is below minimum 0");
	expect_mutation_fails(s, "tasks/t/calibration/target", "budget_per_query", json_real(-1),
			      "/tasks/t/calibration/target/budget_per_query: -1 is below minimum 0");
	expect_mutation_fails(s, "", "calibration", json_real(1), "/calibration: expected object, got number");
	expect_mutation_fails(s, "overall", "families", json_string("x"), "/overall/families: expected object, got string");
	expect_mutation_fails(s, "tasks/t", "decisions", json_null(), "/tasks/t/decisions: expected object, got null");
	expect_mutation_fails(s, "overall/router", "curves", json_object(), "/overall/router/curves: expected array, got object");
	expect_mutation_fails(s, "overall/router/curves/0", "points", json_pack("[i]", -1),
			      "/overall/router/curves/0/points/0: -1 is below minimum 0");
	json_decref(s);
}

Test(result_schema, core_rules)
{
	json_t *s = load_result_schema();
	expect_mutation_fails(s, "tasks/t/llms/B~1x", "quality", json_real(1.5), "/tasks/t/llms/B~1x/quality: 1.5 is above maximum 1");
	expect_mutation_fails(s, "overall/oracle", "cost_total", json_real(-1), "/overall/oracle/cost_total: -1 is below minimum 0");
	expect_mutation_fails(s, "dataset", "sha256", NULL, "/dataset/sha256: required property is missing");
	expect_mutation_fails(s, "dataset", "sha256", json_string("ABC"), "/dataset/sha256: \"ABC\" does not match pattern");
	expect_mutation_fails(s, "router", "sha256", json_string("0123"), "/router/sha256: \"0123\" does not match pattern");
	expect_mutation_fails(s, "", "schema", json_string("routerbench.result/2"),
			      "/schema: \"routerbench.result/2\" is not the constant \"routerbench.result/1\"");
	expect_mutation_fails(s, "split", "mode", json_string("random"), "/split/mode: \"random\" is not one of \"paper\", \"ood\"");
	expect_mutation_fails(s, "split", "train_fraction", json_real(1), "/split/train_fraction: 1 is not below exclusiveMaximum 1");
	expect_mutation_fails(s, "split", "seed", json_integer(4294967296), "/split/seed: 4294967296 is above maximum 4294967295");
	expect_mutation_fails(s, "router", "kind", json_string("oracle"), "/router/kind: \"oracle\" is not one of");
	expect_mutation_fails(s, "overall/zero/ndch", "1", json_pack("[ff]", 3.0, 1.25), "/overall/zero/ndch/1/1: 1.25 is above maximum 1");
	expect_mutation_fails(s, "overall/zero/ndch", "0", json_pack("[fff]", 0.3, 0.5, 0.0),
			      "/overall/zero/ndch/0: 3 items, more than maxItems 2");
	expect_mutation_fails(s, "overall/router/points/1/share", "A", json_real(1.5),
			      "/overall/router/points/1/share/A: 1.5 is above maximum 1");
	expect_mutation_fails(s, "overall/router/points/0", "param", NULL, "/overall/router/points/0/param: required property is missing");
	expect_mutation_fails(s, "overall/router/points/1/expected", "cost_mean", NULL,
			      "/overall/router/points/1/expected/cost_mean: required property is missing");
	expect_mutation_fails(s, "overall/router/max_quality", "param", NULL,
			      "/overall/router/max_quality/param: required property is missing");
	expect_mutation_fails(s, "overall/router", "points", json_array(), "/overall/router/points: 0 items, fewer than minItems 1");
	expect_mutation_fails(s, "overall", "aiq_domain", json_pack("[f]", 0.3), "/overall/aiq_domain: 1 items, fewer than minItems 2");
	expect_mutation_fails(s, "tasks/t", "n_test", json_real(2.5), "/tasks/t/n_test: expected integer, got number");
	expect_mutation_fails(s, "timing", "decisions", json_integer(-6), "/timing/decisions: -6 is below minimum 0");
	expect_mutation_fails(s, "", "tasks", json_pack("{s[]}", "t"), "/tasks/t: expected object, got array");
	expect_mutation_fails(s, "", "overall", NULL, "/overall: required property is missing");
	expect_mutation_fails(s, "dataset", "models", json_pack("[s]", ""), "/dataset/models/0: \"\" has 0 characters");
	json_decref(s);
}

/* ---- results written by rbctl run ---- */

/* What a run of rbctl printed. */
typedef struct cmd_output {
	char out[32768], err[4096];
} cmd_output;

/* Run rbctl with args (NULL-terminated), capturing its output; returns the exit status. */
static int rbctl(const char *const *args, cmd_output *o)
{
	cmd_result r = rbctl_cmd(args);
	snprintf(o->out, sizeof(o->out), "%s", r.out);
	snprintf(o->err, sizeof(o->err), "%s", r.err);
	cmd_free(&r);
	return r.status;
}

typedef struct workdir {
	char dir[256], dataset[512];
} workdir;

static void make_dataset(workdir *w)
{
	snprintf(w->dir, sizeof(w->dir), "%s", make_temp_dir());
	snprintf(w->dataset, sizeof(w->dataset), "%s/d.rbds", w->dir);
	cmd_output *o = malloc(sizeof(*o));
	int st = rbctl((const char *[]){"gen", "--prompts", "3000", "--models", "5", "--tasks", "2", "--features", "tfidf:32",
					"-o", w->dataset, NULL},
		       o);
	cr_assert_eq(st, 0, "rbctl gen: %s", o->err);
	free(o);
}

static void remove_workdir(workdir *w)
{
	unlink(w->dataset);
	rmdir(w->dir);
}

/* rbctl run --json with the router and extra arguments (NULL-terminated); returns the document. */
static json_t *run_json(workdir *w, const char *router, const char *const *extra)
{
	char out[512];
	snprintf(out, sizeof(out), "%s/%s.json", w->dir, router);
	const char *args[48] = {"run", "--dataset", w->dataset, "--router", router, "--json", "-o", out};
	size_t n = 8;
	for (size_t k = 0; extra && extra[k] && n < 47; k++)
		args[n++] = extra[k];
	args[n] = NULL;
	cmd_output *o = malloc(sizeof(*o));
	int st = rbctl(args, o);
	cr_assert_eq(st, 0, "rbctl run --router %s: %s", router, o->err);
	free(o);
	json_error_t jerr;
	json_t *doc = json_load_file(out, 0, &jerr);
	cr_assert_not_null(doc, "%s: %s", out, jerr.text);
	unlink(out);
	return doc;
}

static void assert_valid(const json_t *schema, const json_t *doc, const char *what)
{
	rbe_error e = {0};
	cr_assert_eq(rbr_jsonschema_validate(schema, doc, &e), 0, "%s: %s", what, e.msg);
}

static const char *first_model(const json_t *doc)
{
	return json_string_value(json_array_get(json_object_get(json_object_get(doc, "dataset"), "models"), 0));
}

Test(result_schema, rbctl_results_validate, .timeout = 240)
{
	json_t *s = load_result_schema();
	workdir w;
	make_dataset(&w);
	json_t *random = run_json(&w, "random", NULL);
	assert_valid(s, random, "random");
	/* random states its distribution: the points carry "expected". */
	cr_assert_not_null(json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(random, "overall"),
												"router"), "points"), 0),
					   "expected"));
	char set_model[512];
	snprintf(set_model, sizeof(set_model), "model=%s", first_model(random));
	json_t *single = run_json(&w, "single", (const char *[]){"--set", set_model, NULL});
	assert_valid(s, single, "single");
	json_t *knn = run_json(&w, "knn", (const char *[]){"--set", "k=5", NULL});
	assert_valid(s, knn, "knn");
	cr_assert_not_null(json_object_get(knn, "sweep"), "a predictive router has a sweep");
	json_t *cascade = run_json(&w, "cascade", NULL);
	assert_valid(s, cascade, "cascade");
	cr_assert(json_array_size(json_object_get(json_object_get(json_object_get(cascade, "overall"), "router"), "curves")) > 0,
		  "the cascade has curves");
	/* Other splits: out of distribution, another seed and fraction, one task. */
	json_t *ood = run_json(&w, "knn", (const char *[]){"--split", "ood", "--lambdas", "0,0.5,1000", NULL});
	assert_valid(s, ood, "knn --split ood");
	json_t *part = run_json(&w, "random", (const char *[]){"--seed", "4294967295", "--train-fraction", "0.5",
								  "--tasks", "task-1", NULL});
	assert_valid(s, part, "random --seed 4294967295 --tasks task-1");
	json_decref(random);
	json_decref(single);
	json_decref(knn);
	json_decref(cascade);
	json_decref(ood);
	json_decref(part);
	json_decref(s);
	remove_workdir(&w);
}

/* The options that add optional keys, each used when this rbctl offers it. */
Test(result_schema, rbctl_results_with_optional_keys_validate, .timeout = 240)
{
	json_t *s = load_result_schema();
	workdir w;
	make_dataset(&w);
	cmd_output *help = malloc(sizeof(*help));
	int st = rbctl((const char *[]){"run", "--help", NULL}, help);
	cr_assert_eq(st, 0, "%s", help->err);
	/* Each option, and a key it adds: the validation then covers that key for sure. */
	static const struct {
		const char *option, *value, *adds;
	} optional[] = {
		{"--bootstrap", "200", "overall/router/aiq_ci95"},
		{"--splits", "2", "repeated/overall/aiq"},
		{"--keep-decisions", NULL, "overall/decisions/model"},
		{"--overhead-cost-per-query", "0.0001", "overhead_cost_per_query"},
		{"--target-budget", "0.001", "overall/calibration/test"},
	};
	const char *extra[24];
	size_t n = 0;
	for (size_t k = 0; k < sizeof(optional) / sizeof(optional[0]); k++) {
		char probe[128];
		snprintf(probe, sizeof(probe), "%s ", optional[k].option);
		if (!strstr(help->out, probe))
			continue;
		extra[n++] = optional[k].option;
		if (optional[k].value)
			extra[n++] = optional[k].value;
	}
	extra[n] = NULL;
	free(help);
	if (n == 0)
		cr_skip_test("this rbctl run offers none of the options that add optional keys");
	json_t *knn = run_json(&w, "knn", extra);
	assert_valid(s, knn, "knn with the optional keys");
	json_t *cascade = run_json(&w, "cascade", extra);
	assert_valid(s, cascade, "cascade with the optional keys");
	for (size_t k = 0; k < sizeof(optional) / sizeof(optional[0]); k++) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(extra[i], optional[k].option) == 0) {
				at(knn, optional[k].adds);
				at(cascade, optional[k].adds);
			}
	}
	at(cascade, "overall/router/curves/0");
	json_decref(knn);
	json_decref(cascade);
	json_decref(s);
	remove_workdir(&w);
}

Test(result_schema, mutated_rbctl_result_names_the_place, .timeout = 120)
{
	json_t *s = load_result_schema();
	workdir w;
	make_dataset(&w);
	json_t *doc = run_json(&w, "knn", (const char *[]){"--lambdas", "0,1", NULL});
	assert_valid(s, doc, "knn");
	const char *task = json_object_iter_key(json_object_iter(json_object_get(doc, "tasks")));
	const char *model = first_model(doc);
	cr_assert_not_null(strchr(model, '/'), "the generated model names carry a '/' (%s)", model);
	/* The pointer of the model's quality, "/" escaped as "~1". */
	char escaped[256], want[512];
	size_t len = 0;
	for (const char *p = model; *p && len + 3 < sizeof(escaped); p++) {
		if (*p == '/') {
			escaped[len++] = '~';
			escaped[len++] = '1';
		} else {
			escaped[len++] = *p;
		}
	}
	escaped[len] = '\0';
	snprintf(want, sizeof(want), "/tasks/%s/llms/%s/quality: 1.5 is above maximum 1", task, escaped);

	rbe_error e = {0};
	json_t *bad = json_deep_copy(doc);
	json_object_set_new(json_object_get(json_object_get(json_object_get(json_object_get(bad, "tasks"), task), "llms"),
					    model),
			    "quality", json_real(1.5));
	cr_assert_eq(rbr_jsonschema_validate(s, bad, &e), -EINVAL);
	cr_assert_str_eq(e.msg, want);
	json_decref(bad);

	bad = json_deep_copy(doc);
	json_object_del(json_object_get(bad, "dataset"), "sha256");
	cr_assert_eq(rbr_jsonschema_validate(s, bad, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "/dataset/sha256: required property is missing");
	json_decref(bad);

	bad = json_deep_copy(doc);
	json_object_set_new(bad, "schema", json_string("routerbench.result/2"));
	cr_assert_eq(rbr_jsonschema_validate(s, bad, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "/schema: \"routerbench.result/2\" is not the constant \"routerbench.result/1\"");
	json_decref(bad);

	bad = json_deep_copy(doc);
	json_object_set_new(json_object_get(json_object_get(bad, "overall"), "router"), "aiq", json_string("high"));
	cr_assert_eq(rbr_jsonschema_validate(s, bad, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "/overall/router/aiq: expected number, got string");
	json_decref(bad);

	json_decref(doc);
	json_decref(s);
	remove_workdir(&w);
}

/* ---- the schema compiled into the program ---- */

Test(result_schema, compiled_in_copy_is_the_docs_file)
{
	char path[4096], *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/docs/result.schema.json", env_or("RB_SOURCE_ROOT", "."));
	rbe_error e = {0};
	cr_assert_eq(rbe_read_file(path, &data, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(rbr_result_schema_text_len, len, "the embedded copy has %zu bytes, the file %zu",
		     rbr_result_schema_text_len, len);
	cr_assert(memcmp(rbr_result_schema_text, data, len) == 0, "the embedded copy differs from %s", path);
	cr_assert_eq(rbr_result_schema_text[len], '\0');
	free(data);
	json_t *s = load_result_schema();
	cr_assert(json_equal(s, (json_t *)rbr_result_schema()));
	json_decref(s);
}

Test(result_schema, result_check_says_what_is_wrong)
{
	rbe_error e = {0};
	json_t *doc = full_result_doc();
	cr_assert_eq(rbr_result_check(doc, "r.json", &e), 0, "%s", e.msg);
	json_object_set_new(at(doc, "overall/oracle"), "quality", json_real(1.25));
	cr_assert_eq(rbr_result_check(doc, "r.json", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "r.json: /overall/oracle/quality: 1.25 is above maximum 1 (docs/result.schema.json)");
	json_object_set_new(doc, "schema", json_string("routerbench.compare/1"));
	cr_assert_eq(rbr_result_check(doc, "r.json", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "r.json: not a routerbench result (schema 'routerbench.compare/1'; expected "
				"routerbench.result/1)");
	json_object_del(doc, "schema");
	cr_assert_eq(rbr_result_check(doc, "r.json", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "r.json: not a routerbench result (schema missing; expected routerbench.result/1)");
	json_decref(doc);
	json_t *arr = json_array();
	cr_assert_eq(rbr_result_check(arr, "a.json", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "a.json: not a routerbench result (not a JSON object)");
	json_decref(arr);
}

/* rbctl plot and report read only results that validate: the message names the file and the
 * JSON pointer of the problem. */
Test(result_schema, rbctl_refuses_results_that_break_it, .timeout = 240)
{
	workdir w;
	make_dataset(&w);
	json_t *doc = run_json(&w, "random", NULL);
	char good[600], bad[600], out[600];
	snprintf(good, sizeof(good), "%s/good.json", w.dir);
	snprintf(bad, sizeof(bad), "%s/bad.json", w.dir);
	snprintf(out, sizeof(out), "%s/out.svg", w.dir);
	cr_assert_eq(json_dump_file(doc, good, JSON_REAL_PRECISION(17)), 0);

	/* A model's name has a '/', written "~1" in the pointer. */
	const char *model = first_model(doc);
	cr_assert(strchr(model, '/'), "the generated models have organisation prefixes: %s", model);
	json_object_set_new(json_object_get(json_object_get(json_object_get(doc, "overall"), "llms"), model), "cost_mean",
			    json_real(-0.5));
	json_object_del(json_object_get(doc, "dataset"), "prompts");
	cr_assert_eq(json_dump_file(doc, bad, JSON_REAL_PRECISION(17)), 0);
	char want[1024];
	size_t slash = (size_t)(strchr(model, '/') - model);
	snprintf(want, sizeof(want), ": /dataset/prompts: required property is missing (docs/result.schema.json)");

	cmd_output *o = malloc(sizeof(*o));
	cr_assert_eq(rbctl((const char *[]){"plot", good, "-o", out, NULL}, o), 0, "%s", o->err);
	cr_assert_eq(rbctl((const char *[]){"plot", good, bad, "-o", out, NULL}, o), 1);
	cr_assert(strstr(o->err, bad) && strstr(o->err, want), "plot: %s", o->err);
	/* the first problem in document order */
	json_object_set_new(json_object_get(doc, "dataset"), "prompts", json_integer(3000));
	cr_assert_eq(json_dump_file(doc, bad, JSON_REAL_PRECISION(17)), 0);
	snprintf(want, sizeof(want), "%s: /overall/llms/%.*s~1%s/cost_mean: -0.5 is below minimum 0", bad, (int)slash, model,
		 model + slash + 1);
	cr_assert_eq(rbctl((const char *[]){"report", bad, good, "--format", "md", NULL}, o), 1, "%s", o->err);
	cr_assert(strstr(o->err, want), "report: wanted '%s' in: %s", want, o->err);
	free(o);
	json_decref(doc);
	unlink(good);
	unlink(bad);
	unlink(out);
	remove_workdir(&w);
}
