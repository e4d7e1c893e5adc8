/* The chunk plan: per fused Conv2D + MaxPooling2D layer, how many images each oneDNN call
 * takes forward and backward (they may differ), and which of oneDNN's implementations runs
 * each direction. The best sizes depend on the processor and the layer (at 4 images some
 * layers run far slower than at their best size), so gcbench measures them at start-up
 * (chunk_plan_calibrate, a few seconds; the program caches the result per machine), prints
 * the plan, logs it, and replays one from a file (--plan FILE) so that runs can be repeated
 * exactly. The chunk sizes change only the order of float additions (weight gradients are
 * summed chunk by chunk). */
#ifndef GCBENCH_ENGINE_LAYERS_CHUNK_PLAN_H
#define GCBENCH_ENGINE_LAYERS_CHUNK_PLAN_H

#include <stdio.h>

#include "engine/net/layers/conv_search.h"
#include "engine/net/net.h"

typedef struct {
    char layer[LAYER_NAME_MAX];                   /* the convolution's Keras name: "conv2d_1" */
    int forward_chunk, backward_chunk;            /* images per oneDNN call */
    char impl[CONV_DIRECTIONS][CONV_IMPL_NAME_MAX]; /* "" or "-": oneDNN's first choice */
} chunk_plan_layer;

typedef struct {
    int nlayers;
    chunk_plan_layer layers[NET_MAX_LAYERS];
} chunk_plan;

/* Chunk buffer bytes a calibrated plan may use (one chunk's convolution output): it keeps the
 * default run's peak memory where it was. */
#define CHUNK_PLAN_MAX_BYTES ((size_t)64 << 20)

/* The plan every conv_pool layer of n gets without one: max(threads, 4) images both ways. */
void chunk_plan_default(const net *n, chunk_plan *p);

/* How chunk_plan_calibrate measures, and the pooling kernels it measures with; part of the
 * plan cache's key, so that plans measured another way, or against slower kernels, are
 * measured again. */
#define CHUNK_PLAN_METHOD "conv+pool 6"

/* Measures, for every conv_pool layer of n (built, not yet planned), each implementation at
 * chunk sizes 1, 2, 4, ... 64 (at most the batch, and CHUNK_PLAN_MAX_BYTES of chunk buffer),
 * and keeps per layer the fastest forward (convolution plus the fused pooling forward), and
 * the fastest backward (the pooling backward, backward-weights and backward-data at one chunk
 * size). budget: seconds timed per configuration. */
int chunk_plan_calibrate(net *n, int batch, double budget, chunk_plan *p);

/* The text form: a header line, then one line per layer:
 *   conv2d_1 forward 16 backward 8 jit:avx512_core - jit:avx512_core
 * (forward, backward-data, backward-weights implementations; "-" for oneDNN's first). */
int chunk_plan_write(FILE *f, const chunk_plan *p);

/* Reads the text form from path; a missing or malformed file is GC_EUSAGE naming it and
 * the line. */
int chunk_plan_read(const char *path, chunk_plan *p);

/* The plan as a JSON array (no newline), for the log. */
void chunk_plan_json(FILE *f, const chunk_plan *p);

/* Gives n's conv_pool layers their chunks and implementations (before net_plan). Every such
 * layer must have a row and every row a layer; a mismatch is GC_EUSAGE naming the layer. */
int net_set_chunk_plan(net *n, const chunk_plan *p);

#endif
