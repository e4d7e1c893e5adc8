/* Helpers of the tests that run the gcbench program itself. */
#ifndef GCBENCH_TESTS_CLI_SUPPORT_H
#define GCBENCH_TESTS_CLI_SUPPORT_H

#include <sys/types.h>

/* Deletes the values of every "...seconds" and "images_per_second" field of a log: timings
 * differ between runs, nothing else may. */
void cli_strip_timings(char *s);

/* Starts `bin args` (shell words) in the background, its output discarded; the child's pid. */
pid_t cli_start(const char *bin, const char *args);

#endif
