/* util.c — errors, allocation, SHA-256, atomic files, clocks and a string map. */
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int rbe_fail(rbe_error *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->code = code;
	}
	return code;
}

int rbe_error_prefix(rbe_error *e, const char *fmt, ...)
{
	if (!e)
		return -EINVAL;
	char prefix[512], old[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* Truncating a long message is fine: the start names the place. */
	size_t n = strnlen(prefix, sizeof(prefix) - 1);
	memcpy(e->msg, prefix, n);
	e->msg[n] = '\0';
	strncat(e->msg, ": ", sizeof(e->msg) - strlen(e->msg) - 1);
	strncat(e->msg, old, sizeof(e->msg) - strlen(e->msg) - 1);
	return e->code;
}

_Noreturn void rbe_require_failed(const char *what, const char *file, int line)
{
	fprintf(stderr, "routerbench: internal error: %s (%s:%d)\n", what, file, line);
	abort();
}

static void *oom_check(void *p, size_t n)
{
	if (!p && n) {
		fprintf(stderr, "routerbench: out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

void *rbe_xmalloc(size_t n) { return oom_check(malloc(n ? n : 1), n); }
void *rbe_xcalloc(size_t n, size_t size) { return oom_check(calloc(n ? n : 1, size ? size : 1), n * size); }
void *rbe_xrealloc(void *p, size_t n) { return oom_check(realloc(p, n ? n : 1), n); }
char *rbe_xstrdup(const char *s) { return oom_check(strdup(s), strlen(s) + 1); }

struct rbe_sha256 {
	EVP_MD_CTX *ctx;
};

rbe_sha256 *rbe_sha256_new(void)
{
	rbe_sha256 *h = rbe_xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	rbe_require(h->ctx && EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1);
	return h;
}

void rbe_sha256_update(rbe_sha256 *h, const void *data, size_t len)
{
	rbe_require(EVP_DigestUpdate(h->ctx, data, len) == 1);
}

void rbe_sha256_final(rbe_sha256 *h, uint8_t out[32])
{
	unsigned int n = 32;
	rbe_require(EVP_DigestFinal_ex(h->ctx, out, &n) == 1 && n == 32);
}

void rbe_sha256_free(rbe_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void rbe_sha256_buf(const void *data, size_t len, uint8_t out[32])
{
	rbe_sha256 *h = rbe_sha256_new();
	rbe_sha256_update(h, data, len);
	rbe_sha256_final(h, out);
	rbe_sha256_free(h);
}

void rbe_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

/* What lstat/stat found at an output path, for messages. */
static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * An existing character device or FIFO is written in place, never replaced: renaming a temporary
 * file over /dev/null (as root) would turn it into a regular file. Nothing is created or
 * truncated. Returns 1 when af is open on it, 0 when the target turned out to be a regular file
 * after all, or a negative errno.
 */
static int open_in_place(rbe_atomic_file *af, const char *path, rbe_error *e)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(fd);
		return rbe_fail(e, -EINVAL, "%s: is %s; give a regular file, a character device or a FIFO", path,
				file_kind(st.st_mode));
	}
	af->fp = fdopen(fd, "wb");
	if (!af->fp) {
		int err = -errno;
		close(fd);
		return rbe_fail(e, err, "%s: %s", path, strerror(-err));
	}
	af->final_path = rbe_xstrdup(path);
	return 1;
}

/* Where the temporary file goes and what it is renamed to: path, or the regular file a symlink
 * at path leads to (the link stays). Refuses what must not be replaced. Owned: free. */
static int rename_target(const char *path, char **target, rbe_error *e)
{
	struct stat st;
	*target = NULL;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT) {
			*target = rbe_xstrdup(path);
			return 0;
		}
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	}
	if (S_ISREG(st.st_mode)) {
		*target = rbe_xstrdup(path);
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		if (stat(path, &st) != 0)
			return rbe_fail(e, -errno, "%s: a symbolic link to nothing usable (%s); remove it or give another path",
					path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return rbe_fail(e, -EINVAL, "%s: a symbolic link to %s, which is not a regular file", path,
					file_kind(st.st_mode));
		*target = realpath(path, NULL);
		if (!*target)
			return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
		return 0;
	}
	return rbe_fail(e, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "%s: is %s; give a file name", path,
			file_kind(st.st_mode));
}

int rbe_atomic_open(rbe_atomic_file *af, const char *path, rbe_error *e)
{
	memset(af, 0, sizeof(*af));
	struct stat st;
	if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		int r = open_in_place(af, path, e);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	char *target;
	int r = rename_target(path, &target, e);
	if (r < 0)
		return r;
	size_t len = strlen(target) + 16;
	char *tmp = rbe_xmalloc(len);
	snprintf(tmp, len, "%s.tmp.XXXXXX", target);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int err = -errno;
		free(tmp);
		free(target);
		return rbe_fail(e, err, "%s: cannot create temporary file: %s", path, strerror(-err));
	}
	/* mkstemp makes 0600; a dataset or result is an ordinary file. */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	af->fp = fdopen(fd, "wb");
	if (!af->fp) {
		int err = -errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		free(target);
		return rbe_fail(e, err, "%s: %s", path, strerror(-err));
	}
	af->tmp_path = tmp;
	af->final_path = target;
	return 0;
}

static void fsync_parent_dir(const char *path)
{
	char *copy = rbe_xstrdup(path);
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(copy);
}

int rbe_atomic_commit(rbe_atomic_file *af, rbe_error *e)
{
	int err = 0;
	/* A device or FIFO written in place has nothing to sync or rename. */
	int in_place = af->tmp_path == NULL;
	if (fflush(af->fp) != 0 || (!in_place && fsync(fileno(af->fp)) != 0))
		err = -errno;
	if (fclose(af->fp) != 0 && !err)
		err = -errno;
	af->fp = NULL;
	if (!err && !in_place && rename(af->tmp_path, af->final_path) != 0)
		err = -errno;
	if (err) {
		rbe_fail(e, err, "%s: cannot write: %s", af->final_path, strerror(-err));
		rbe_atomic_abort(af);
		return err;
	}
	if (!in_place)
		fsync_parent_dir(af->final_path);
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = af->final_path = NULL;
	return 0;
}

void rbe_atomic_abort(rbe_atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->tmp_path);
	free(af->final_path);
	memset(af, 0, sizeof(*af));
}

int rbe_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int rbe_read_file(const char *path, char **data, size_t *len, rbe_error *e)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return rbe_fail(e, -errno, "%s: %s", path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	char *buf = rbe_xmalloc(cap + 1);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			buf = rbe_xrealloc(buf, cap + 1);
		}
	}
	if (ferror(fp)) {
		int err = -errno;
		fclose(fp);
		free(buf);
		return rbe_fail(e, err ? err : -EIO, "%s: read error", path);
	}
	fclose(fp);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int rbe_parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

double rbe_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct rbe_strmap {
	size_t cap, size; /* cap is a power of two */
	char **keys;
	long *values;
};

uint64_t rbe_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	/* FNV's low bits mix poorly and the table masks them: finish with a murmur3 mixer. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

rbe_strmap *rbe_strmap_new(void)
{
	rbe_strmap *m = rbe_xcalloc(1, sizeof(*m));
	m->cap = 64;
	m->keys = rbe_xcalloc(m->cap, sizeof(char *));
	m->values = rbe_xcalloc(m->cap, sizeof(long));
	return m;
}

void rbe_strmap_free(rbe_strmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->values);
	free(m);
}

static size_t slot_of(const rbe_strmap *m, const char *key)
{
	size_t i = rbe_hash_str(key) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

long rbe_strmap_get(const rbe_strmap *m, const char *key)
{
	size_t i = slot_of(m, key);
	return m->keys[i] ? m->values[i] : -1;
}

static void grow(rbe_strmap *m)
{
	rbe_strmap bigger = {.cap = m->cap * 2, .size = m->size};
	bigger.keys = rbe_xcalloc(bigger.cap, sizeof(char *));
	bigger.values = rbe_xcalloc(bigger.cap, sizeof(long));
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = slot_of(&bigger, m->keys[i]);
		bigger.keys[j] = m->keys[i];
		bigger.values[j] = m->values[i];
	}
	free(m->keys);
	free(m->values);
	*m = bigger;
}

long rbe_strmap_put(rbe_strmap *m, const char *key, long value)
{
	if ((m->size + 1) * 4 > m->cap * 3)
		grow(m);
	size_t i = slot_of(m, key);
	if (m->keys[i]) {
		long old = m->values[i];
		m->values[i] = value;
		return old;
	}
	m->keys[i] = rbe_xstrdup(key);
	m->values[i] = value;
	m->size++;
	return -1;
}

size_t rbe_strmap_size(const rbe_strmap *m) { return m->size; }

const char *rbe_signal_name(int sig, char buf[32])
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, 32, "SIG%s", abbrev);
	else
		snprintf(buf, 32, "signal %d", sig);
	return buf;
}
