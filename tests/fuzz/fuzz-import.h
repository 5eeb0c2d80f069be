/* fuzz-import.h — the body of the two importer targets: bytes → one to four files → rbe_import_files. */
#ifndef RB_FUZZ_IMPORT_H
#define RB_FUZZ_IMPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "data/import.h"

/* Files are never allowed to hold NUL bytes, so a pair of them can split the input into several
 * files without hiding anything the importer accepts: that reaches the merging, ordering and
 * same-models checks of "Several files" in docs/formats.md. */
#define FUZZ_IMPORT_MAX_FILES 4
#define FUZZ_IMPORT_SEP "\0\0"

/* Each part goes into a memfd read through /proc/self/fd: the importer sees an ordinary path,
 * nothing is written to disk. The name has no extension, so the format is forced. */
static inline void fuzz_import(const uint8_t *data, size_t size, rbe_import_format format)
{
	int fds[FUZZ_IMPORT_MAX_FILES];
	char paths[FUZZ_IMPORT_MAX_FILES][32];
	const char *argv[FUZZ_IMPORT_MAX_FILES];
	size_t n = 0;
	const uint8_t *p = data, *end = data + size;
	for (;;) {
		const uint8_t *sep = n + 1 < FUZZ_IMPORT_MAX_FILES
					     ? memmem(p, (size_t)(end - p), FUZZ_IMPORT_SEP, 2)
					     : NULL;
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
		int fd = fuzz_memfd("fuzz-import", p, len);
		rbe_require(fd >= 0);
		fds[n] = fd;
		snprintf(paths[n], sizeof(paths[n]), "/proc/self/fd/%d", fd);
		argv[n] = paths[n];
		n++;
		if (!sep)
			break;
		p = sep + 2;
	}

	rbe_import_opts o = {.name = "fuzz", .format = format};
	rbe_dataset *ds = NULL;
	rbe_import_stats st;
	memset(&st, 0xA5, sizeof(st)); /* "left untouched on failure" must hold: make it visible */
	rbe_error e = {0};
	int r = rbe_import_files(argv, n, &o, &ds, &st, &e);
	if (r < 0) {
		rbe_require(ds == NULL && st.files == (size_t)0xA5A5A5A5A5A5A5A5ull);
		rbe_require(e.msg[0] != '\0' && memchr(e.msg, '\0', sizeof(e.msg)));
	} else {
		rbe_require(r == 0);
		fuzz_check_dataset(ds);
		rbe_require(st.files == n);
		rbe_require(st.samples == ds->n && st.models == ds->n_models && st.evals == ds->n_evals);
		rbe_require(st.merged <= st.samples && st.samples + st.skipped <= st.rows);
		rbe_require((st.responses != 0) == (ds->responses != NULL));
		rbe_require(st.feature_dim == ds->feature_dim);
		/* Dropping responses reads less (CSV cells are not decoded), so it can only accept more:
		 * what was accepted with them must be accepted, and come out the same, without. */
		o.no_responses = 1;
		rbe_dataset *bare = NULL;
		rbe_require(rbe_import_files(argv, n, &o, &bare, NULL, NULL) == 0);
		rbe_require(bare->responses == NULL && bare->n == ds->n && bare->n_models == ds->n_models);
		rbe_require(memcmp(bare->quality, ds->quality, ds->n * ds->n_models * sizeof(float)) == 0);
		rbe_dataset_free(bare);
		rbe_dataset_free(ds);
	}
	for (size_t k = 0; k < n; k++)
		close(fds[k]);
}

#endif
