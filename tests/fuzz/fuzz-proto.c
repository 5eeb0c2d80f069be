/* fuzz-proto.c placeholder */
#include <stddef.h>
#include <stdint.h>
#include "fuzz.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
