/* rbds_format.h — the compiled dataset file (.rbds): write atomically, map read-only and validate. */
#ifndef RBE_RBDS_H
#define RBE_RBDS_H

#include <stdint.h>

#include "data/dataset.h"
#include "lib/util.h"

/* The byte layout is documented in docs/rbds-format.md; this build reads and writes format 1. */
#define RBE_RBDS_FORMAT_VERSION 1u

/*
 * Write ds to path: streamed into a temporary file beside path while hashing, then fsynced and
 * renamed into place. On failure nothing is left at path or as a temporary file. ds is borrowed
 * and not modified (its sha256 field is left alone; the hash is the one rbe_rbds_open reports).
 * Returns 0 or a negative errno with e->msg "<path>: <what is wrong>".
 */
int rbe_rbds_write(const rbe_dataset *ds, const char *path, rbe_error *e);

/*
 * Map path read-only (MAP_SHARED, PROT_READ), validate every offset, size, string and value, and
 * build the const char * pointer arrays; the numeric arrays are used in place from the mapping.
 * ds->sha256 is the stored content hash (checked against the body), ds->name the file stem.
 * *out is owned: rbe_dataset_free (unmaps). Untouched on failure. A file must be replaced by
 * rename, never truncated in place, while it is mapped.
 */
int rbe_rbds_open(const char *path, rbe_dataset **out, rbe_error *e);

/*
 * The same from an open fd (a regular file, memfd or POSIX shm object), borrowed: the mapping
 * stays valid after the caller closes it. display_name (borrowed) names the dataset in messages
 * and gives ds->name its stem.
 */
int rbe_rbds_open_fd(int fd, const char *display_name, rbe_dataset **out, rbe_error *e);

/* Flags for rbe_rbds_open_fd_ex. */
enum {
	/* Skip the SHA-256 of the body (every structural and value check still runs, so a bad
	 * file is still refused, never a crash). Only for content the caller has verified already,
	 * e.g. a sealed memfd the daemon filled from a file it opened with full checks. */
	RBE_RBDS_TRUST_HASH = 1u << 0,
	/* Also skip the per-value scans (qualities, costs, features, duplicate ids), which touch
	 * every page: for rbd-worker, whose sealed memfd rbd has checked in full. Offsets, sizes,
	 * strings and indices are still checked, so nothing is read out of bounds. */
	RBE_RBDS_TRUST_VALUES = 1u << 1,
};
int rbe_rbds_open_fd_ex(int fd, const char *display_name, unsigned flags, rbe_dataset **out,
			rbe_error *e);

/* The stored content hash from the header, after checking magic, version and sizes; the body is
 * not hashed (open the file for that). Cheap: reads one header. */
int rbe_rbds_hash(const char *path, uint8_t sha256[32], rbe_error *e);

/* What the file says about itself beyond rbe_dataset, for rbctl info and ListDatasets. */
typedef struct rbe_rbds_info {
	uint32_t format_version;
	uint64_t file_size;
	const char *stored_name; /* name recorded when the file was written; borrowed from ds */
} rbe_rbds_info;
/* -EINVAL when ds was not opened from a .rbds file. */
int rbe_rbds_info_of(const rbe_dataset *ds, rbe_rbds_info *out);

#endif
