/* test_util.c — errors, SHA-256, atomic files, the string map. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

Test(util, sha256_known_vectors)
{
	uint8_t d[32];
	char hex[65];
	rbe_sha256_buf("abc", 3, d);
	rbe_hex(d, 32, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rbe_sha256 *h = rbe_sha256_new();
	rbe_sha256_update(h, "a", 1);
	rbe_sha256_update(h, "bc", 2);
	uint8_t d2[32];
	rbe_sha256_final(h, d2);
	rbe_sha256_free(h);
	cr_assert_arr_eq(d, d2, 32, "streaming equals one-shot");
	rbe_sha256_buf("", 0, d);
	rbe_hex(d, 32, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(util, fail_and_prefix)
{
	rbe_error e;
	cr_assert_eq(rbe_fail(&e, -EINVAL, "line %d: bad", 7), -EINVAL);
	cr_assert_str_eq(e.msg, "line 7: bad");
	cr_assert_eq(rbe_error_prefix(&e, "file.csv"), -EINVAL);
	cr_assert_str_eq(e.msg, "file.csv: line 7: bad");
	cr_assert_eq(rbe_fail(NULL, -ENOENT, "ignored"), -ENOENT);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(util, atomic_file_commits_or_leaves_nothing)
{
	char dir[] = "/tmp/rbutil.XXXXXX", path[128];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	rbe_atomic_file af;
	cr_assert_eq(rbe_atomic_open(&af, path, NULL), 0);
	fputs("half", af.fp);
	cr_assert_eq(access(path, F_OK), -1, "nothing at the final path before commit");
	rbe_atomic_abort(&af);
	cr_assert_eq(count_entries(dir), 0, "abort removes the temporary file");

	cr_assert_eq(rbe_atomic_open(&af, path, NULL), 0);
	fputs("whole", af.fp);
	cr_assert_eq(rbe_atomic_commit(&af, NULL), 0);
	char *data;
	size_t len;
	cr_assert_eq(rbe_read_file(path, &data, &len, NULL), 0);
	cr_assert_str_eq(data, "whole");
	free(data);
	cr_assert_eq(count_entries(dir), 1);
	unlink(path);
	rmdir(dir);

	rbe_error e;
	cr_assert_lt(rbe_atomic_open(&af, "/nonexistent-dir/x", &e), 0);
	cr_assert(strstr(e.msg, "/nonexistent-dir/x"));
}

Test(util, strmap_grows_and_replaces)
{
	rbe_strmap *m = rbe_strmap_new();
	char key[32];
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", i);
		cr_assert_eq(rbe_strmap_put(m, key, i), -1);
	}
	cr_assert_eq(rbe_strmap_size(m), 5000);
	cr_assert_eq(rbe_strmap_get(m, "k4321"), 4321);
	cr_assert_eq(rbe_strmap_get(m, "nope"), -1);
	cr_assert_eq(rbe_strmap_put(m, "k7", 70), 7);
	cr_assert_eq(rbe_strmap_get(m, "k7"), 70);
	cr_assert_eq(rbe_strmap_size(m), 5000);
	rbe_strmap_free(m);
}

Test(util, parse_uint_takes_digits_only_within_the_limit)
{
	uint64_t v = 7;
	cr_assert_eq(rbe_parse_uint("42", 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(rbe_parse_uint("18446744073709551615", UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	v = 7;
	const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.5", "0x10", "101", "18446744073709551616"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		cr_assert_eq(rbe_parse_uint(bad[k], 100, &v), -EINVAL, "'%s' accepted", bad[k]);
	cr_assert_eq(v, 7, "untouched on failure");
	cr_assert_eq(rbe_parse_uint(NULL, 100, &v), -EINVAL);
}

Test(util, write_all_writes_everything_or_says_why)
{
	/* More than a pipe holds at once, read back by a child: every byte arrives, in order. */
	size_t n = 1u << 20;
	unsigned char *buf = rbe_xmalloc(n), *back = rbe_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7);
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		_exit(rbe_write_all(fds[1], buf, n) == 0 ? 0 : 1);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t r;
	while (got < n && (r = read(fds[0], back + got, n - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_assert_eq(got, n);
	cr_assert_arr_eq(back, buf, n);
	/* A descriptor that takes nothing: -1 and errno, never a loop. */
	errno = 0;
	cr_assert_eq(rbe_write_all(-1, buf, 1), -1);
	cr_assert_eq(errno, EBADF);
	free(buf);
	free(back);
}
