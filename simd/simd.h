/* The optimizer's kernels: Gradient Centralization and RMSprop over float arrays.
 *
 * A gradient tensor of rank > 1 is seen as a row-major matrix with one row per output unit
 * (rows) and its fan-in along the row (cols); GC subtracts each row's mean. Every kernel has
 * a scalar reference (simd_kernels_scalar.c); vectorized versions fill the same table and are
 * tested against it. Kernels are single-threaded: callers split rows or elements across
 * OpenMP threads. */
#ifndef GCBENCH_SIMD_SIMD_H
#define GCBENCH_SIMD_SIMD_H

#include <stdbool.h>
#include <stddef.h>

#include "simd/bf16.h"

/* Keras RMSprop: v = rho*v + (1-rho)*g^2;  w -= lr*g / sqrt(v + eps). */
typedef struct {
    float lr, rho, eps;
} rmsprop_hparams;

typedef struct {
    const char *isa; /* "scalar", "avx2", "avx512", "neon" */

    /* The bf16 conversions of n elements (simd/bf16.h: round to nearest even, NaN kept quiet,
     * denormals kept; bf16 -> f32 exact). */
    void (*f32_to_bf16)(bf16 *dst, const float *src, size_t n);
    void (*bf16_to_f32)(float *dst, const bf16 *src, size_t n);

    /* means[r] = mean of g[r*cols .. r*cols+cols-1], for r < rows. */
    void (*row_means)(const float *g, size_t rows, size_t cols, float *means);

    /* g[r][c] -= means[r]: the centralization. */
    void (*center_rows)(float *g, size_t rows, size_t cols, const float *means);

    /* The RMSprop update of n elements. */
    void (*rmsprop)(float *w, float *v, const float *g, size_t n, const rmsprop_hparams *hp);

    /* RMSprop on the centralized gradient g - mean(row), row by row so each row is read
     * from memory once; g itself is left unchanged. */
    void (*gc_rmsprop)(float *w, float *v, const float *g, size_t rows, size_t cols,
                       const rmsprop_hparams *hp);
} simd_kernels;

/* The scalar reference: plain C, sums in double. */
const simd_kernels *simd_kernels_scalar(void);

/* The ISAs gcbench knows, worst first ("scalar", "neon", "avx2", "avx512"), for i = 0, 1, ...;
 * NULL past the end. */
const char *simd_isa_name(size_t i);

/* The kernels of `isa` when this build has them, whether or not this CPU runs them; else
 * NULL (unknown, or another architecture's). */
const simd_kernels *simd_kernels_built(const char *isa);

/* Whether `isa` is built in and this CPU runs it (AVX2 also needs FMA). */
bool simd_cpu_supports(const char *isa);

/* Whether this CPU (and its OS) runs a feature beyond the kernel tables' ISAs:
 * "avx512_bf16" (AVX512-BF16: what oneDNN's bf16 convolutions need to run natively) or
 * "amx_bf16" (AMX-BF16 tile multiplies). false for an unknown name or another architecture. */
bool simd_cpu_has(const char *feature);

/* The best kernels this build has and this CPU runs: what simd_select(NULL) picks. */
const simd_kernels *simd_best(void);

/* Picks the kernels: `request` names an ISA ("scalar", "avx2", "avx512", "neon") or is NULL
 * or "" for the best this CPU runs. Returns GC_EUSAGE naming the ISA when it is unknown, not
 * built in, or not supported by this CPU. */
int simd_select(const char *request, const simd_kernels **out);

#endif
