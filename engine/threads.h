/* The OpenMP threads that oneDNN and gcbench's own kernels share. */
#ifndef GCBENCH_ENGINE_THREADS_H
#define GCBENCH_ENGINE_THREADS_H

/* Physical cores of this machine (hwloc), at least 1. */
int threads_physical_cores(void);

/* Sets the thread count every later parallel region uses (oneDNN's included). */
int threads_set(int count);

/* Threads the next parallel region will use. */
int threads_current(void);

#endif
