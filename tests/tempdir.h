/* Temporary folders for tests that write files. */
#ifndef GCBENCH_TESTS_TEMPDIR_H
#define GCBENCH_TESTS_TEMPDIR_H

/* Removes path and everything below it, making folders writable first (tests that check
 * permission errors leave some unreadable). Missing paths are fine. */
void test_remove_tree(const char *path);

#endif
