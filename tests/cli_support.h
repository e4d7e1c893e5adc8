/* Helpers of the tests that run the gcbench program (or study_log) itself. */
#ifndef GCBENCH_TESTS_CLI_SUPPORT_H
#define GCBENCH_TESTS_CLI_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* What a run of a program left: its exit status and its stdout and stderr, each cut to its
 * buffer and NUL-terminated. */
typedef struct {
    int status;
    char out[1 << 16], err[1 << 14];
} cli_result;

/* Runs `env bin args` through the shell: env is NAME=VALUE words set for the program alone
 * ("" or NULL for none), args are shell words. Asserts that the program exited rather than
 * died of a signal. The result is overwritten by the next call. */
const cli_result *cli_run(const char *env, const char *bin, const char *args);

/* The text of path in buf: at most size - 1 bytes, NUL-terminated; empty when it cannot be
 * read. */
void cli_slurp(const char *path, char *buf, size_t size);

/* cli_slurp, then deletes path: for a temporary file read once (a run's log under /tmp). */
void cli_slurp_remove(const char *path, char *buf, size_t size);

/* Deletes the values of every "...seconds" and "images_per_second" field of a log: timings
 * differ between runs, nothing else may. */
void cli_strip_timings(char *s);

/* Starts `bin args` (shell words) in the background, its output discarded; the child's pid. */
pid_t cli_start(const char *bin, const char *args);

#endif
