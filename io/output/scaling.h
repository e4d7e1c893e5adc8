/* One measured point of a scaling study (gcbench --scaling). */
#ifndef GCBENCH_IO_SCALING_H
#define GCBENCH_IO_SCALING_H

typedef struct {
    int threads;
    double images_per_second; /* mean over the study's runs of their median epoch throughput */
    double speedup;           /* images_per_second / that of the study's first thread count */
    double efficiency;        /* speedup / (threads / first thread count) */
    const int *cpus;          /* PU of each thread when pinned, else NULL */
} scaling_point;

#endif
