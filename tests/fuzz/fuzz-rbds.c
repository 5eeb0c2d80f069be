/* fuzz-rbds.c — fuzz target: the .rbds reader on arbitrary bytes in a memfd, with and without the
 * content hash check (without it, mutations get past step 3 and reach the structural checks). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "rbds.h"

static int open_as(int fd, unsigned flags, size_t size)
{
	rbd_dataset *ds = NULL;
	rbd_error e = {0};
	int r = flags ? rbd_rbds_open_fd_ex(fd, "fuzz.rbds", flags, &ds, &e)
		      : rbd_rbds_open_fd(fd, "fuzz.rbds", &ds, &e);
	if (r < 0) {
		rbd_require(ds == NULL && e.msg[0] != '\0');
		return r;
	}
	fuzz_check_dataset(ds);
	rbd_rbds_info info;
	rbd_require(rbd_rbds_info_of(ds, &info) == 0);
	rbd_require(info.format_version == RBD_RBDS_FORMAT_VERSION && info.file_size == size);
	rbd_require(info.stored_name && strcmp(ds->name, "fuzz") == 0);
	rbd_dataset_free(ds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd("fuzz.rbds", data, size);
	rbd_require(fd >= 0);
	int trusted = open_as(fd, RBD_RBDS_TRUST_HASH, size);
	/* The hash is one more check, never a different path through the others. */
	int full = open_as(fd, 0, size);
	rbd_require(full < 0 || trusted == 0);
	close(fd);
	return 0;
}
