/* hostile_peek.c — test fixture: a router that looks for the dataset (and so the test outcomes)
 * everywhere it can: every readable mapping of its process, descriptor 3, the dataset file named
 * by its "path" parameter. What it looks for is the dataset's header (magic, sizes, content
 * hash), given in hex as "needle". It logs what it found; then it routes honestly. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static const rb_param_spec params[] = {
	{.name = "act", .type = RB_PARAM_BOOL, .default_value = "true", .help = "false: the honest twin"},
	{.name = "path", .type = RB_PARAM_STRING, .default_value = "", .help = "the dataset file to open"},
	{.name = "needle", .type = RB_PARAM_STRING, .default_value = "", .help = "the bytes to find, in hex"},
};

#define NEEDLE_MAX 128
static unsigned char needle[NEEDLE_MAX]; /* decoded here, and only here (not counted) */
static size_t needle_len;
static sigjmp_buf fault;

static void on_fault(int sig UNUSED)
{
	siglongjmp(fault, 1);
}

/* By hand, not memcmp: a sanitizer's memcmp would check the bytes it may not read. */
static int same(const unsigned char *p)
{
	for (size_t k = 0; k < needle_len; k++)
		if (p[k] != needle[k])
			return 0;
	return 1;
}

static size_t count_in(const unsigned char *p, size_t n)
{
	size_t hits = 0;
	for (size_t k = 0; needle_len && k + needle_len <= n; k++)
		if (p[k] == needle[0] && p + k != needle && same(p + k))
			hits++;
	return hits;
}

/* Matches in [p, p + n), or 0 when a page of it cannot be read. */
static long scan_guarded(const unsigned char *p, size_t n)
{
	if (sigsetjmp(fault, 1))
		return 0;
	return (long)count_in(p, n);
}

/* Every readable mapping listed in /proc/self/maps; -1 when the list cannot be read. */
static long scan_memory(size_t *regions)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	struct sigaction sa = {.sa_handler = on_fault}, old_segv, old_bus;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	long hits = 0;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8] = "";
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || strstr(line, "[v"))
			continue;
		/* Terabytes of a sanitizer's shadow, reserved but never written: not worth the days. */
		if (hi - lo > (1ul << 34))
			continue;
		(*regions)++;
		for (unsigned long page = lo; page < hi; page += 4096) {
			/* A match may cross into the next page of the mapping. */
			size_t span = hi - page < 4096 + needle_len - 1 ? hi - page : 4096 + needle_len - 1;
			hits += scan_guarded((const unsigned char *)page, span);
		}
	}
	fclose(f);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return hits;
}

/* The magic in what fd holds (at most 64 MiB); -errno when it cannot be read. */
static long scan_fd(int fd)
{
	static unsigned char buf[1 << 16];
	long hits = 0;
	for (off_t off = 0; off < (64 << 20);) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		hits += (long)count_in(buf, (size_t)n);
		off += n > (ssize_t)needle_len ? n - (ssize_t)needle_len + 1 : n;
	}
	return hits;
}

static int create(const rb_create_args *a, void **out, char *err UNUSED, size_t errlen UNUSED)
{
	*out = NULL;
	if (!a->params[0].i)
		return 0;
	const char *hex = a->params[2].s;
	needle_len = 0;
	for (size_t k = 0; hex[2 * k] && hex[2 * k + 1] && k < NEEDLE_MAX; k++) {
		unsigned v;
		if (sscanf(hex + 2 * k, "%2x", &v) != 1)
			break;
		needle[needle_len++] = (unsigned char)v;
	}
	size_t regions = 0;
	long mem = scan_memory(&regions), fd3 = scan_fd(3);
	const char *path = a->params[1].s;
	int file = open(path, O_RDONLY);
	long in_file = file >= 0 ? scan_fd(file) : -errno;
	if (file >= 0)
		close(file);
	a->host->log(RB_LOG_INFO, "hostile_peek: memory %s (%zu regions, %ld hits); fd 3 %ld; dataset file %s (%ld)",
		     mem < 0 ? "unlisted" : "scanned", regions, mem < 0 ? 0 : mem, fd3,
		     file >= 0 ? "opened" : "denied", in_file);
	return 0;
}

PREDICTIVE_FIXTURE("hostile_peek", .summary = "fixture: searches its process for the dataset",
		   RB_ROUTER_PARAMS(params), .create = create, .destroy = stateless_destroy, .predict = half_predict)
