/* Replays files through a harness without libFuzzer: each argument is an input file or a
 * folder of them (sorted; names starting with '.' skipped). The normal builds run it over the
 * seed corpus and the kept crashers, so every entry point must survive them under ASan. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Reads all of path into a buffer of exactly its size (so ASan sees a read past the end). */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
        fclose(f);
        return -1;
    }
    uint8_t *data = malloc(size ? (size_t)size : 1);
    int rc = 0;
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0) LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return rc;
}

/* Under ASan, one allocation over 256 MiB is a failure, as libFuzzer's -malloc_limit_mb=256 makes
 * it while fuzzing: no input of these harnesses needs that much (images are limited to 8 MiB,
 * checkpoints are about 1 MB), so it means a declared size was trusted. Harmless without ASan. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "max_allocation_size_mb=256:allocator_may_return_null=0"; }

static int skip_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Replays path, or every file in it; adds the inputs run to *count. */
static int replay(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (replay_file(path) != 0) return -1;
        ++*count;
        return 0;
    }
    struct dirent **names;
    int n = scandir(path, &names, skip_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list '%s': %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char child[4096];
        if (rc == 0 && (size_t)snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name) >= sizeof child) {
            fprintf(stderr, "replay: path too long in '%s'\n", path);
            rc = -1;
        }
        if (rc == 0) rc = replay(child, count);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    int count = 0;
    for (int i = 1; i < argc; i++)
        if (replay(argv[i], &count) != 0) return 1;
    printf("replayed %d inputs\n", count);
    return 0;
}
