/* The OpenMP threads that oneDNN and gcbench's own kernels share, and their pinning.
 *
 * Pinning follows hwloc's and GROMACS's practice: one thread per physical core, bound from
 * inside an `omp parallel` region with the same thread count the work uses (libgomp keeps
 * that pool for every later region, oneDNN's included), each bound to a single PU, verified
 * afterwards with hwloc_get_last_cpu_location. When the user set OMP_PROC_BIND or OMP_PLACES,
 * the OpenMP runtime places the threads and gcbench stays out of the way. */
#ifndef GCBENCH_ENGINE_THREADS_H
#define GCBENCH_ENGINE_THREADS_H

#include <stdbool.h>

#define THREADS_MAX 1024

typedef enum {
    PIN_COMPACT, /* thread i on core i: neighbours share caches */
    PIN_SCATTER, /* threads spread evenly over packages, NUMA nodes and caches */
    PIN_NONE,    /* the OS places threads */
} pin_policy;

/* "compact", "scatter", "none" */
const char *pin_policy_name(pin_policy p);

/* What pinning did. */
typedef struct {
    pin_policy policy;
    bool pinned;            /* threads were bound (false for none, or when stepping aside) */
    char note[160];         /* why not, or a warning ("8 threads on 2 cores"); "" when none */
    int threads;
    int cpu[THREADS_MAX];   /* OS index of the PU each thread ran on after binding (-1: unknown) */
} pin_report;

/* Physical cores this process may run on (hwloc): the machine's, or those of the CPU set it
 * was started with (taskset, an MPI launcher's binding); at least 1. */
int threads_physical_cores(void);

/* Sets the thread count every later parallel region uses (oneDNN's included). */
int threads_set(int count);

/* Threads the next parallel region will use. */
int threads_current(void);

/* Sets `count` threads and pins them by `policy`; fills *report. Stepping aside (OMP_PROC_BIND or
 * OMP_PLACES set) is not an error: report->note says so. */
int threads_setup(int count, pin_policy policy, pin_report *report);

#endif
