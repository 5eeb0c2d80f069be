/* fuzz.h — what the fuzz targets share: the libFuzzer entry points, memfd input, dataset oracle. */
#ifndef RB_FUZZ_H
#define RB_FUZZ_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data/dataset.h"
#include "lib/util.h"

/* One input; returns 0 (libFuzzer reserves other values). data is borrowed for the call. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time setup, called before the first input by libFuzzer and by fuzz-main.c. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An anonymous in-memory file holding data[0..size), positioned at 0, or -errno. Nothing touches
 * the disk, so a target needs no temporary directory and leaves nothing behind when it dies. */
static inline int fuzz_memfd(const char *name, const uint8_t *data, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int r = w < 0 ? -errno : -EIO;
			close(fd);
			return r;
		}
		done += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Everything an accepted dataset promises (data/dataset.h, docs/rbds-format.md step 7), checked by
 * touching every byte it points to: a reader that accepts bad data, or hands out a pointer it
 * did not check, aborts here rather than in some later consumer. */
static inline void fuzz_check_dataset(const rbe_dataset *ds)
{
	rbe_require(ds);
	rbe_require(ds->n >= 1 && ds->n_models >= 1);
	size_t n = ds->n, m = ds->n_models;
	size_t bytes = 0;
	rbe_strmap *names = rbe_strmap_new();
	for (size_t j = 0; j < m; j++)
		rbe_require(rbe_strmap_put(names, ds->model_names[j], (long)j) == -1);
	rbe_strmap_free(names);
	names = rbe_strmap_new();
	for (uint32_t k = 0; k < ds->n_evals; k++)
		rbe_require(rbe_strmap_put(names, ds->eval_names[k], (long)k) == -1);
	rbe_strmap_free(names);
	rbe_strmap *ids = rbe_strmap_new();
	for (size_t i = 0; i < n; i++) {
		rbe_require(ds->eval[i] < ds->n_evals);
		rbe_require(rbe_strmap_put(ids, ds->sample_ids[i], (long)i) == -1);
		bytes += strlen(ds->prompts[i]);
		if (ds->prompt_tokens)
			bytes += ds->prompt_tokens[i] & 1u;
	}
	rbe_strmap_free(ids);
	for (size_t k = 0; k < n * m; k++) {
		rbe_require(ds->quality[k] >= 0.0f && ds->quality[k] <= 1.0f);
		rbe_require(ds->cost[k] >= 0.0 && isfinite(ds->cost[k]));
		if (ds->responses)
			bytes += strlen(ds->responses[k]);
		if (ds->completion_tokens)
			bytes += ds->completion_tokens[k] & 1u;
	}
	if (ds->feature_dim) {
		rbe_require(ds->features && ds->feature_name);
		bytes += strlen(ds->feature_name);
		for (size_t k = 0; k < n * ds->feature_dim; k++)
			rbe_require(isfinite(ds->features[k]));
	} else {
		rbe_require(!ds->features);
	}
	/* Keep the reads from being optimised away. */
	__asm__ volatile("" : : "r"(bytes));
}

#endif
