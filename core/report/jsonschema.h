/* jsonschema.h — validate a JSON value against the subset of JSON Schema (draft 2020-12) that
 * docs/result.schema.json uses, so results can be checked by the tool that writes them. */
#ifndef RBR_JSONSCHEMA_H
#define RBR_JSONSCHEMA_H

#include <jansson.h>

#include "lib/util.h"

/* The subset: boolean schemas and these keywords:
 *   type (a name or an array of names; "integer" accepts reals with no fraction), const, enum
 *   (numbers compare by value, so 1 equals 1.0), required, properties, patternProperties,
 *   additionalProperties (boolean or schema), prefixItems, items, minItems, maxItems, minimum,
 *   maximum, exclusiveMinimum, exclusiveMaximum (numbers, as in 2020-12), pattern, minLength
 *   (counted in code points), $ref (only "#/$defs/NAME", resolved in the root's $defs; siblings
 *   apply too, as in 2020-12), $defs; annotations title, description and $comment anywhere,
 *   $schema (the 2020-12 meta-schema URI) at the root only.
 * Patterns are POSIX extended regular expressions, searched unanchored as in JSON Schema; keep to
 * the syntax ECMA-262 and POSIX share (no \d, no lookaround).
 * Any other keyword, or a keyword with a value of the wrong form, is an error: the subset cannot
 * grow silently. */

/* Check that schema (borrowed) uses only the subset, in well-formed values, and that every $ref
 * resolves. Returns 0 or -EINVAL; the message names the place in the schema as a URI fragment
 * ("schema #/$defs/POINT/properties/quality: unsupported keyword 'maximun'"). */
int rbr_jsonschema_check(const json_t *schema, rbe_error *e);

/* Validate doc against schema (both borrowed), after rbr_jsonschema_check. Returns 0 or -EINVAL;
 * the message names the JSON pointer (RFC 6901: "~" is written "~0" and "/" "~1") of the first
 * failing place, members in document order, and the rule it breaks:
 * "/tasks/mbpp/llms/A/quality: 1.5 is above maximum 1", "/dataset/sha256: required property is
 * missing". The document root is named "(root)". */
int rbr_jsonschema_validate(const json_t *schema, const json_t *doc, rbe_error *e);

#endif
