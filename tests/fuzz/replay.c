/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Runs a fuzz target on files without libFuzzer: every file named, and every file in every
 * directory named (not recursive), in name order. The regular build registers one such test
 * per target over tests/fuzz/regressions/<target>/ and tests/fuzz/corpus/<target>/, so inputs
 * that once crashed stay checked by the ASan build. Fails when no input was found: a test that
 * runs nothing cannot fail.
 */
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <sys/stat.h>

#include "fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void run_file(const char *path, unsigned *n)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		fprintf(stderr, "replay: %s\n", error->message);
		exit(1);
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, (size_t)len);
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	(*n)++;
}

int main(int argc, char **argv)
{
	unsigned n = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **names;
		int count;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			run_file(argv[i], &n);
			continue;
		}
		count = scandir(argv[i], &names, NULL, alphasort);
		if (count < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		for (int j = 0; j < count; j++) {
			if (names[j]->d_name[0] != '.') {
				g_autofree char *path =
				    g_build_filename(argv[i], names[j]->d_name, NULL);

				run_file(path, &n);
			}
			free(names[j]);
		}
		free(names);
	}
	if (!n) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	printf("replay: %u inputs ran without a failure\n", n);
	return 0;
}
