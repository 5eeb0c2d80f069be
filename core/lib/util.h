/* util.h — small helpers shared by every core module: errors, allocation, hashing, files. */
#ifndef RBE_UTIL_H
#define RBE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An error report filled by a failing function that returns a negative errno. Functions either
 * fill this or log, never both; callers decide what to print. */
typedef struct rbe_error {
	int code;       /* negative errno */
	char msg[1024]; /* human message naming the place and the problem */
} rbe_error;

/* Fill e (may be NULL) and return code (a negative errno). */
int rbe_fail(rbe_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "prefix: old message". Returns e->code. */
int rbe_error_prefix(rbe_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that aborts on out-of-memory: for small bookkeeping where recovery is pointless. */
void *rbe_xmalloc(size_t n);
void *rbe_xcalloc(size_t n, size_t size);
void *rbe_xrealloc(void *p, size_t n);
char *rbe_xstrdup(const char *s);

/* Impossible state: print where and abort, always (not compiled out). */
#define rbe_require(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			rbe_require_failed(#cond, __FILE__, __LINE__);                             \
	} while (0)
_Noreturn void rbe_require_failed(const char *what, const char *file, int line);

/* SHA-256 (OpenSSL libcrypto: uses the CPU's SHA extensions where present). */
typedef struct rbe_sha256 rbe_sha256;
rbe_sha256 *rbe_sha256_new(void); /* owned: rbe_sha256_free; aborts on ENOMEM */
void rbe_sha256_update(rbe_sha256 *h, const void *data, size_t len);
void rbe_sha256_final(rbe_sha256 *h, uint8_t out[32]);
void rbe_sha256_free(rbe_sha256 *h);
void rbe_sha256_buf(const void *data, size_t len, uint8_t out[32]);
void rbe_hex(const uint8_t *bytes, size_t n, char *out /* 2n+1 */);

/*
 * Atomic file creation: write into a temp file beside path, then fsync + rename. A symlink to a
 * regular file is followed (its target is replaced, the link stays). An existing character device
 * or FIFO (/dev/null, a pipe) is written in place, never replaced; a directory, socket, block
 * device or a link to one is refused naming the path and its kind.
 */
typedef struct rbe_atomic_file {
	FILE *fp;
	char *tmp_path;   /* NULL when writing a device or FIFO in place */
	char *final_path;
} rbe_atomic_file;
int rbe_atomic_open(rbe_atomic_file *af, const char *path, rbe_error *e);
int rbe_atomic_commit(rbe_atomic_file *af, rbe_error *e); /* fflush, fsync, rename, fsync dir */
void rbe_atomic_abort(rbe_atomic_file *af);               /* close and unlink; accepts a done file */

/* write() all n bytes, retrying after signals: 0, or -1 with errno (EIO when the fd takes no more).
 * Plain system calls only, so a signal handler may use it. */
int rbe_write_all(int fd, const void *p, size_t n);

/* Read a whole file into memory (owned: free). */
int rbe_read_file(const char *path, char **data, size_t *len, rbe_error *e);

/* A whole decimal number in [0, max]: digits only (no sign, no spaces). 0 or -EINVAL; *out is
 * untouched on failure. */
int rbe_parse_uint(const char *text, uint64_t max, uint64_t *out);

/* "SIGSEGV" (or "signal 77"), written into buf; returns buf. */
const char *rbe_signal_name(int sig, char buf[32]);

/* Monotonic clock in seconds. */
double rbe_now(void);

/* 64-bit hash of a string for hash tables: FNV-1a finished with a murmur3 mixer, so the low bits
 * a table masks are well mixed. */
uint64_t rbe_hash_str(const char *s);

/* Open-addressing set of strings → index, for interning names and finding duplicates. */
typedef struct rbe_strmap rbe_strmap;
rbe_strmap *rbe_strmap_new(void); /* owned: rbe_strmap_free */
void rbe_strmap_free(rbe_strmap *m);
/* Returns the index stored for key, or -1. */
long rbe_strmap_get(const rbe_strmap *m, const char *key);
/* Stores key → value (copying key); returns the previous value or -1 when it was new. */
long rbe_strmap_put(rbe_strmap *m, const char *key, long value);
size_t rbe_strmap_size(const rbe_strmap *m);

/* Cleanup helpers for early returns. */
static inline void rbe_freep(void *p) { extern void free(void *); free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(rbe_freep)))

#endif
