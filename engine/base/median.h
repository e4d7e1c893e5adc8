/* The median of a set of samples: how the benchmarks and the convolution search summarize
 * timings, which a shared machine makes noisy in one direction. */
#ifndef GCBENCH_ENGINE_MEDIAN_H
#define GCBENCH_ENGINE_MEDIAN_H

/* The median of v[0..n), n >= 1: the middle value, or the mean of the two middle values when
 * n is even. Sorts v ascending in place, so v[0] and v[n - 1] are then its extremes. */
double median_of(double *v, int n);

#endif
