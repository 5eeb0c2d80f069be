/* jsonschema.c: being written */
