/* fuzz-import-jsonl.c — fuzz target: JSONL files (nested and wide keys) through the whole importer. */
#include "fuzz-import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, RBE_IMPORT_JSONL);
	return 0;
}
