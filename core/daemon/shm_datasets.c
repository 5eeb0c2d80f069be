/* shm_datasets.c — configured datasets copied once into sealed memfds that rbd maps and hands to every
 * worker as fd 3. */
#include "daemon/shm_datasets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/features.h"
#include "data/import.h"
#include "data/rbds_format.h"

/* Everything a worker could use to change the image, and the seals themselves. */
#define RBD_SHMDS_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* One chunk of at most want bytes through user space: read, then write all of it. */
static ssize_t copy_through(int src, int dst, char *buf, size_t want)
{
	ssize_t n = read(src, buf, want);
	if (n > 0 && rbe_write_all(dst, buf, (size_t)n) < 0)
		return -1;
	return n;
}

/* Copy size bytes of src into dst (both at offset 0 on entry). copy_file_range lets the kernel
 * move the pages without a trip through user space; across filesystems (a file into tmpfs) some
 * kernels refuse it, and then a plain read/write loop does. */
static int copy_bytes(int src, int dst, uint64_t size, const char *what, rbe_error *e)
{
	const size_t chunk = (size_t)1 << 20;
	uint64_t done = 0;
	char *buf = NULL;
	int rc = 0;
	while (done < size && rc == 0) {
		size_t want = size - done < chunk ? (size_t)(size - done) : chunk;
		ssize_t n;
		if (!buf) {
			n = copy_file_range(src, NULL, dst, NULL, want, 0);
			if (n < 0 && done == 0 &&
			    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP || errno == EPERM)) {
				buf = rbe_xmalloc(chunk);
				continue;
			}
		} else {
			n = copy_through(src, dst, buf, want);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = rbe_fail(e, -errno, "%s: copying into shared memory: %s", what, strerror(errno));
		else if (n == 0)
			rc = rbe_fail(e, -EIO, "%s: the file shrank while it was copied (%llu of %llu bytes)", what,
				      (unsigned long long)done, (unsigned long long)size);
		else
			done += (uint64_t)n;
	}
	free(buf);
	return rc;
}

/* A sealed memfd holding a copy of the file at path. The source descriptor and every writable
 * handle are gone before sealing: only write() was used, never a writable mapping, so
 * F_SEAL_WRITE cannot fail with EBUSY. */
static int memfd_from_file(const char *memfd_name, const char *path, int *out, uint64_t *bytes, rbe_error *e)
{
	int src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(src, &st) != 0) {
		int err = errno;
		close(src);
		return rbe_fail(e, -err, "%s: %s", path, strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(src);
		return rbe_fail(e, -EINVAL, "%s: not a regular file", path);
	}
	int fd = memfd_create(memfd_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		int err = errno;
		close(src);
		return rbe_fail(e, -err, "memfd_create(%s): %s", memfd_name, strerror(err));
	}
	int rc = copy_bytes(src, fd, (uint64_t)st.st_size, path, e);
	close(src);
	if (rc == 0 && fcntl(fd, F_ADD_SEALS, RBD_SHMDS_SEALS) != 0)
		rc = rbe_fail(e, -errno, "%s: sealing the shared-memory copy: %s", path, strerror(errno));
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

/* CSV/JSONL sources → scratch_dir/NAME.rbds, exactly as `rbctl import FILES -o NAME.rbds` writes
 * it by default (responses kept, hashed TF-IDF unless the files bring embeddings). */
static int import_sources(const rbd_dataset_conf *conf, const char *scratch_dir, char **path_out, rbe_error *e)
{
	if (!scratch_dir || !*scratch_dir)
		return rbe_fail(e, -EINVAL, "no scratch directory to write the imported dataset to");
	char *path = NULL;
	if (asprintf(&path, "%s/%s.rbds", scratch_dir, conf->name) < 0)
		rbe_require(!"out of memory");
	int rc = rbe_import_to_rbds((const char *const *)conf->csv, conf->n_csv, NULL, RBE_TFIDF_DEFAULT_DIM, 0, path,
				    NULL, e);
	if (rc < 0) {
		free(path);
		return rc;
	}
	*path_out = path;
	return 0;
}

static char *join_sources(const rbd_dataset_conf *conf)
{
	size_t len = 1;
	for (size_t k = 0; k < conf->n_csv; k++)
		len += strlen(conf->csv[k]) + 2;
	char *s = rbe_xmalloc(len);
	s[0] = '\0';
	for (size_t k = 0; k < conf->n_csv; k++) {
		if (k)
			strcat(s, ", ");
		strcat(s, conf->csv[k]);
	}
	return s;
}

int rbd_shmds_load(const rbd_dataset_conf *conf, uint64_t generation, const char *scratch_dir, rbd_shmds **out,
		   rbe_error *e)
{
	if (!conf || !conf->name || !*conf->name)
		return rbe_fail(e, -EINVAL, "dataset without a name");
	if (!conf->file == !(conf->csv && conf->n_csv))
		return rbe_fail(e, -EINVAL, "dataset %s: give either file = or csv =, not %s", conf->name,
				conf->file ? "both" : "neither");
	char *image = NULL;
	int rc = 0;
	if (conf->file)
		image = rbe_xstrdup(conf->file);
	else
		rc = import_sources(conf, scratch_dir, &image, e);
	if (rc < 0)
		return rbe_error_prefix(e, "dataset %s", conf->name);

	char memfd_name[64];
	snprintf(memfd_name, sizeof(memfd_name), "rbd-dataset-%s", conf->name);
	int fd = -1;
	uint64_t bytes = 0;
	rbe_dataset *checked = NULL, *ds = NULL;
	char *display = NULL;
	if (asprintf(&display, "%s.rbds", conf->name) < 0)
		rbe_require(!"out of memory");
	rc = memfd_from_file(memfd_name, image, &fd, &bytes, e);
	/* Every check, the content hash included, on the sealed copy itself: what workers get is
	 * exactly what was checked, even if the file changed meanwhile. Messages name the file. */
	if (rc == 0 && (rc = rbe_rbds_open_fd_ex(fd, image, 0, &checked, e)) == 0) {
		rbe_dataset_free(checked);
		/* rbd's own mapping, named as the workers name theirs ("NAME.rbds": the reader takes
		 * the stem, and NAME may hold dots). The hash was just verified. */
		rc = rbe_rbds_open_fd_ex(fd, display, RBE_RBDS_TRUST_HASH, &ds, e);
	}
	free(display);
	if (rc < 0) {
		close_fd(&fd);
		free(image);
		return rbe_error_prefix(e, "dataset %s", conf->name);
	}

	rbd_shmds *d = rbe_xcalloc(1, sizeof(*d));
	d->name = rbe_xstrdup(conf->name);
	d->generation = generation;
	d->fd = fd;
	d->ds = ds;
	rbe_hex(ds->sha256, 32, d->sha256);
	d->bytes = bytes;
	d->source = conf->file ? image : join_sources(conf);
	if (!conf->file)
		free(image);
	d->refs = 1;
	*out = d;
	return 0;
}

rbd_shmds *rbd_shmds_ref(rbd_shmds *d)
{
	if (d)
		d->refs++;
	return d;
}

void rbd_shmds_unref(rbd_shmds *d)
{
	if (!d)
		return;
	rbe_require(d->refs > 0);
	if (--d->refs > 0)
		return;
	rbe_dataset_free(d->ds);
	close_fd(&d->fd);
	free(d->name);
	free(d->source);
	free(d);
}
