/* fuzz-import-csv.c — fuzz target: RouterBench wide CSV files through the whole importer. */
#include "fuzz-import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, RBE_IMPORT_CSV);
	return 0;
}
