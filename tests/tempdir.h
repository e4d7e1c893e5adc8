/* Temporary folders and files for tests that write files. */
#ifndef GCBENCH_TESTS_TEMPDIR_H
#define GCBENCH_TESTS_TEMPDIR_H

#include <stddef.h>

/* Removes path and everything below it, making folders writable first (tests that check
 * permission errors leave some unreadable). Missing paths are fine. */
void test_remove_tree(const char *path);

/* Creates a new empty folder /tmp/gcbench_test_<what>_XXXXXX and writes its path to buf. */
void test_temp_dir(char *buf, size_t size, const char *what);

/* Creates a new empty file /tmp/gcbench_test_<what>_XXXXXX and writes its path to buf. */
void test_temp_file(char *buf, size_t size, const char *what);

#endif
