/* fuzz-main.c — replay a fuzz target over corpus files and directories as an ordinary test. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Without libFuzzer nobody else defines it; a target that needs setup defines it strongly. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* In a sanitizer build a UBSan report must fail the test, not scroll past; UBSAN_OPTIONS from the
 * environment still wins. Unused (and harmless) without -fsanitize=undefined. */
const char *__ubsan_default_options(void);
__attribute__((used)) const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static size_t n_run;

/* Exactly size bytes on the heap (as libFuzzer hands them over), so ASan sees any over-read. */
static int run_file(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	rbe_error e = {0};
	int r = rbe_read_file(path, &data, &len, &e);
	if (r < 0) {
		fprintf(stderr, "fuzz-main: %s\n", e.msg);
		return r;
	}
	uint8_t *copy = rbe_xmalloc(len ? len : 1);
	memcpy(copy, data, len);
	free(data);
	printf("%s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	n_run++;
	return 0;
}

static int run_path(const char *path);

/* Entries in name order, so a run is reproducible; dot files (editor leftovers) are skipped. */
static int run_dir(const char *path)
{
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "fuzz-main: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	int r = 0;
	for (int i = 0; i < n; i++) {
		if (!r && ents[i]->d_name[0] != '.') {
			size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
			char *sub = rbe_xmalloc(len);
			snprintf(sub, len, "%s/%s", path, ents[i]->d_name);
			r = run_path(sub);
			free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "fuzz-main: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(stderr,
			"usage: %s FILE|DIR...\n"
			"Runs this fuzz target once on every file given and every file under every directory\n"
			"given (in name order, dot files skipped). Exit status 0 when all ran; a bad input\n"
			"crashes or aborts, under a sanitizer build with its report.\n",
			argv[0]);
		return argc < 2 ? 2 : 0;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			return 1;
	if (n_run == 0) {
		fprintf(stderr, "fuzz-main: no input files found: an empty corpus tests nothing\n");
		return 1;
	}
	printf("%zu inputs ran\n", n_run);
	return 0;
}
