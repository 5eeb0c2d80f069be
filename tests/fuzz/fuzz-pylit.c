/* fuzz-pylit.c — fuzz target: the Python list-literal decoder, into a second buffer and in place. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "data/pylit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Cells reach the decoder NUL-terminated (the CSV reader and jansson both end them so). */
	char *s = rbe_xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	int list = rbe_pylit_is_list(s, size);
	rbe_require(list == 0 || list == 1);

	/* out has exactly the room the header promises is enough: len + 1 bytes. */
	char *out = rbe_xmalloc(size + 1);
	size_t out_len = (size_t)-1;
	rbe_error e = {0};
	int r = rbe_pylit_decode(s, size, out, &out_len, &e);
	if (r == 0) {
		rbe_require(out_len <= size && out[out_len] == '\0');
		if (!list)
			rbe_require(out_len == size && memcmp(out, data, size) == 0);
		else if (!memchr(data, 0, size))
			rbe_require(strlen(out) == out_len); /* no escape may produce a NUL */
	} else {
		rbe_require(r == -EINVAL && list && e.msg[0] != '\0');
	}

	/* In place (how the importer calls it) must give the same result. */
	size_t in_len = (size_t)-1;
	rbe_error e2 = {0};
	int r2 = rbe_pylit_decode(s, size, s, &in_len, &e2);
	rbe_require(r2 == r);
	if (r == 0)
		rbe_require(in_len == out_len && memcmp(s, out, out_len + 1) == 0);
	else
		rbe_require(strcmp(e.msg, e2.msg) == 0);
	free(out);
	free(s);
	return 0;
}
