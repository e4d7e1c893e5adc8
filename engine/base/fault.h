/* Fault injection for tests: GCBENCH_FAULT=NAME:N makes the N-th occurrence (1-based) of
 * fault point NAME fire. Points: "checkpoint-write" (the process kills itself halfway through
 * writing the N-th checkpoint), "nan-gradient" (the N-th training step's gradient of the last
 * parameter tensor gets a NaN), "rank-dies" (the last MPI rank kills itself with SIGKILL at its
 * N-th training step). Unset in normal use; reading it costs one getenv per process. */
#ifndef GCBENCH_ENGINE_FAULT_H
#define GCBENCH_ENGINE_FAULT_H

#include <stdbool.h>

/* Counts one occurrence of point `name`; true when it is the one GCBENCH_FAULT names. */
bool fault_fires(const char *name);

#endif
