/* Max pooling (2x2, stride 2, valid) fused with what precedes it in the seed model: the
 * convolution's ReLU and, optionally, dropout. Hand-written so the full-size pre-pool
 * activation never has to be kept: the forward pass keeps only the pooled output and the
 * argmax of each window, and the backward pass rebuilds the pre-pool gradient from those.
 *
 * Layouts: an activation of c channels is stored as blocks of `block` channels,
 * element (n, c, h, w) at (((n*CB + c/block)*H + h)*W + w)*block + c%block, CB = ceil(c/block):
 * block 16 or 8 is oneDNN's nChw16c / nChw8c, block = c is NHWC, block 1 is NCHW. Padding
 * channels of a partial block are zero on input and stay zero.
 *
 * Backward: the window's gradient goes to its argmax only, and only where the pooled value is
 * positive. That is exactly ReLU's and dropout's backward too: a positive maximum is a kept,
 * active unit (scaled by 1/(1-rate) when dropout ran), while a zero maximum means every unit
 * of the window was inactive or dropped, and all of them get zero. The forward pass records
 * which case holds in the argmax code, so the backward pass reads neither the pooled values
 * nor a dropout mask (dropout's keep decisions are drawn inside the forward kernels). */
#ifndef GCBENCH_ENGINE_LAYERS_MAXPOOL_FUSED_H
#define GCBENCH_ENGINE_LAYERS_MAXPOOL_FUSED_H

#include <oneapi/dnnl/dnnl_types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The element type of the activations and their gradients: f32, or bf16 (simd/bf16.h: read
 * exactly, computed in f32, written rounded to nearest even). */
typedef enum { POOL_F32, POOL_BF16, POOL_ELEM_TYPES } pool_elem;

/* The pre-pool activation of one chunk of images, and where its images sit in the batch. */
typedef struct {
    long n;          /* images in this chunk */
    long first;      /* batch index of the chunk's first image (dropout masks use it) */
    long c, h, w;    /* channels and side of the pre-pool activation */
    long block;      /* channels per block, see above */
    pool_elem elem;  /* of x, y and dy (argmax codes are bytes) */
    /* dx in f32 from bf16 dy (a bf16 network's f32 backward-weights, conv_pool.c); else elem */
    bool dx_f32;
} pool_geometry;

/* Dropout before the pooling: the counter-based masks of engine/net/layers/dropout.h. */
typedef struct {
    float rate;   /* 0: no dropout */
    uint64_t key; /* the pass's dropout key for this layer */
} pool_dropout;

/* Channels per block of an activation layout (dnnl_nChw16c: 16, dnnl_nChw8c: 8, dnnl_nhwc:
 * all of them, else 1). */
long pool_block_of(dnnl_format_tag_t tag, long channels);

/* Pooled output side for an input side. */
static inline long pool_out_side(long side) { return side / 2; }

/* Elements (padding included) of the pre-pool activation and of the pooled output. */
size_t pool_in_elems(const pool_geometry *g);
size_t pool_out_elems(const pool_geometry *g);

/* Argmax code of a window whose maximum is not positive: its gradient is zero. */
#define POOL_ARG_NONE 4

/* y = maxpool(dropout(x)); argmax[i] is the winning position (dy*2 + dx, the first of equal
 * maxima) of output element i when its maximum is positive, else POOL_ARG_NONE. x is read
 * only. x and y hold g->elem elements; in bf16 the f32 maximum is rounded once. */
void maxpool_fused_forward(const void *x, void *y, uint8_t *argmax, const pool_geometry *g, const pool_dropout *d);

/* dx = the gradient of the pre-ReLU activation: dy routed to each window's argmax, times
 * 1/(1-rate); zero everywhere else (including rows and columns no window covers). dy holds
 * g->elem elements, dx the same or, with g->dx_f32, f32 (exact widening). */
void maxpool_fused_backward(const void *dy, const uint8_t *argmax, void *dx, const pool_geometry *g,
                            const pool_dropout *d);

#endif
