/* Wall-clock seconds for timings: a monotonic clock, immune to clock adjustments. */
#ifndef GCBENCH_ENGINE_BASE_CLOCK_H
#define GCBENCH_ENGINE_BASE_CLOCK_H

#include <time.h>

static inline double clock_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
