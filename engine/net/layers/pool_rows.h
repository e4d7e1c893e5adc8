/* The row kernels of the fused max-pool (engine/net/layers/maxpool_fused.c) for oneDNN's 16- and
 * 8-channel blocks, and channels-last rows of 32 or 64 channels (one "block" per pixel, the
 * bf16 layout with AMX): a pixel's channels in whole vectors, one body (pool_rows_body.h) compiled once per ISA in
 * its own file, like simd/. Each file has the ISA flags for the whole translation unit: gcc 12
 * scalarizes 64-byte generic vectors inside target_clones functions (the comparisons and the
 * byte/int conversions run lane by lane), which made the 16-channel kernels many times slower
 * than their memory traffic. */
#ifndef GCBENCH_ENGINE_LAYERS_POOL_ROWS_H
#define GCBENCH_ENGINE_LAYERS_POOL_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/net/layers/maxpool_fused.h"

/* One output row (n, block, oh) of the forward or backward pass: what the row kernels need.
 * Activations and gradients are f32 or bf16 (pool_elem); arithmetic is f32 in both. */
typedef struct {
    const void *in0;      /* forward: input rows 2*oh and 2*oh + 1 (in0 + W*X elements) */
    void *out;            /* forward: pooled row; backward: gradient rows 2*oh, 2*oh + 1 */
    uint8_t *arg;         /* forward: the argmax codes (maxpool_fused.h) */
    const void *dy;       /* backward: the pooled row's gradient */
    const uint8_t *arg_in;
    long W, OW, X;
    /* dropout: the keep decision of NHWC index i is dropout_keeps(key, threshold, i); a kept
     * unit is v * scale, a dropped one +0 (as dropout_apply), whatever v is */
    uint64_t key;
    uint32_t threshold;
    uint64_t row_index;   /* NHWC index of (h = 2*oh, w = 0, c = block's first channel) */
    long C, lanes;        /* channels, and real (non-padding) channels in this block */
    float scale;
    bool drop;
    bool bf16;            /* the portable kernels' element type (the vector ones have one each) */
    bool dx_f32;          /* backward, portable kernel: dx in f32 whatever bf16 says */
} pool_row;

typedef void (*pool_row_fn)(const pool_row *r);

/* Whether x * s is a bf16 value for every bf16 value x: s is a power of two of at least 1 (a
 * product is then exact, or an infinity), so the bf16 kernels can skip rounding. */
static inline bool pool_scale_is_exact(float s)
{
    uint32_t u;
    memcpy(&u, &s, sizeof u);
    uint32_t exponent = u >> 23 & 0xffu;
    return (u & 0x807fffffu) == 0 && exponent >= 127 && exponent < 255;
}

/* The vector kernels draw the keep decisions of a block's channels four at a time, so they
 * need C % 4 == 0 (every block then starts on a draw); other shapes take the portable ones. */
enum { POOL_ROW_WIDTHS = 4 }; /* blocks of 8, 16, 32 and 64 channels */

/* The table index of a block width X, or -1 when no vector kernel has it. */
static inline int pool_row_width_index(long X)
{
    return X == 8 ? 0 : X == 16 ? 1 : X == 32 ? 2 : X == 64 ? 3 : -1;
}

typedef struct {
    const char *isa; /* "base", "avx2", "avx512" */
    /* by pool_row_width_index, then pool_elem */
    pool_row_fn forward[POOL_ROW_WIDTHS][POOL_ELEM_TYPES], backward[POOL_ROW_WIDTHS][POOL_ELEM_TYPES];
    pool_row_fn backward_widening[POOL_ROW_WIDTHS]; /* bf16 dy, f32 dx */
} pool_row_kernels;

/* Defined by pool_rows_<isa>.c; the x86 ones are built only there. */
const pool_row_kernels *pool_rows_base(void);
const pool_row_kernels *pool_rows_avx2(void);
const pool_row_kernels *pool_rows_avx512(void);

/* The best table this CPU runs (simd_cpu_supports decides, so tests can hide an ISA). */
const pool_row_kernels *pool_rows_best(void);

#endif
