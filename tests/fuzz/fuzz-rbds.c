/* fuzz-rbds.c — fuzz target: the .rbds reader on arbitrary bytes in a memfd, with and without the
 * content hash check (without it, mutations get past step 3 and reach the structural checks). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "data/rbds_format.h"

static int open_as(int fd, unsigned flags, size_t size)
{
	rbe_dataset *ds = NULL;
	rbe_error e = {0};
	int r = flags ? rbe_rbds_open_fd_ex(fd, "fuzz.rbds", flags, &ds, &e)
		      : rbe_rbds_open_fd(fd, "fuzz.rbds", &ds, &e);
	if (r < 0) {
		rbe_require(ds == NULL && e.msg[0] != '\0');
		return r;
	}
	fuzz_check_dataset(ds);
	rbe_rbds_info info;
	rbe_require(rbe_rbds_info_of(ds, &info) == 0);
	rbe_require(info.format_version == RBE_RBDS_FORMAT_VERSION && info.file_size == size);
	rbe_require(info.stored_name && strcmp(ds->name, "fuzz") == 0);
	rbe_dataset_free(ds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd("fuzz.rbds", data, size);
	rbe_require(fd >= 0);
	int trusted = open_as(fd, RBE_RBDS_TRUST_HASH, size);
	/* The hash is one more check, never a different path through the others. */
	int full = open_as(fd, 0, size);
	rbe_require(full < 0 || trusted == 0);
	close(fd);
	return 0;
}
