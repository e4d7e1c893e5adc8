/* Timing the fused layers' own pooling kernels (maxpool_fused.h) on one chunk's buffers: what
 * the chunk plan's calibration adds to each convolution's time, and what bench_pool reports. */
#ifndef GCBENCH_ENGINE_LAYERS_POOL_TIMING_H
#define GCBENCH_ENGINE_LAYERS_POOL_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/net/layers/maxpool_fused.h"

/* x, y, dy, dx in g's element type for g->n images; x a ReLU output (half zeros), dy in
 * [-0.5, 0.5). */
typedef struct {
    void *x, *y, *dy, *dx;
    uint8_t *arg;
} pool_timing_buffers;

#define POOL_TIMING_MAX_CALLS 1000

int pool_timing_alloc(const pool_geometry *g, pool_timing_buffers *b);
void pool_timing_free(pool_timing_buffers *b);

/* Median seconds per image of the forward (backward false) or backward pass at g.n images a
 * chunk: one warm-up call, then at least min_calls and until budget seconds have passed (at
 * most POOL_TIMING_MAX_CALLS), each at the next place in a 128-image batch (the dropout draws
 * depend on it). */
double pool_timing_run(const pool_timing_buffers *b, pool_geometry g, const pool_dropout *d, bool backward,
                       int min_calls, double budget);

#endif
