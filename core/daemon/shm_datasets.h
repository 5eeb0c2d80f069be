/* shm_datasets.h — one dataset generation held in shared memory: a sealed memfd with the .rbds image
 * that rbd maps read-only and hands to every worker (fd 3), never copied per job. */
#ifndef RBD_SHMDS_H
#define RBD_SHMDS_H

#include <stdint.h>

#include "daemon/config.h"
#include "data/dataset.h"

typedef struct rbd_shmds {
	char *name;          /* [dataset.NAME] */
	uint64_t generation; /* rbd's reload counter when loaded */
	int fd;              /* sealed memfd (F_SEAL_WRITE|SHRINK|GROW|SEAL), read-only content */
	rbe_dataset *ds;     /* rbd's own read-only mapping of fd (listing, parameter checks) */
	char sha256[65];     /* content hash, hex */
	uint64_t bytes;      /* size of the image */
	char *source;        /* the .rbds file, or the CSV files joined with ", " */
	unsigned refs;       /* rbd's table + each running job */
} rbd_shmds;

/* Load one configured dataset: a .rbds file is opened with every check (hash included) and
 * copied into a new memfd; CSV/JSONL sources are imported as `rbctl import` does (TF-IDF
 * features attached) and written as an image first. The memfd is then sealed. Errors name the
 * dataset and the file. Owned result (refs = 1): rbd_shmds_unref. */
int rbd_shmds_load(const rbd_dataset_conf *conf, uint64_t generation, const char *scratch_dir, rbd_shmds **out,
		   rbe_error *e);
rbd_shmds *rbd_shmds_ref(rbd_shmds *d);
void rbd_shmds_unref(rbd_shmds *d); /* accepts NULL; frees at zero (unmaps, closes fd) */

#endif
