/* The libFuzzer entry points every harness here defines. libFuzzer calls them in the fuzz
 * build; replay.c calls them from a plain main in the normal builds. */
#ifndef GCBENCH_TESTS_FUZZ_H
#define GCBENCH_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Once, before any input. Returns 0. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One input; returns 0. A bug shows as a crash or a sanitizer report, never a return value. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
