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

/* Where GC acts in a fused update: not at all (the rows x cols elements are one contiguous
 * run), on the gradient (each row's gradient minus its mean, before the update), or on the
 * update (each row's step minus its mean: the GC code's `*2` variants, Ranger's gc_loc off). */
typedef enum { GC_OFF, GC_ON_GRADIENT, GC_ON_UPDATE } gc_mode;

/* The update rules of fused_update, as Keras 3 writes them, per element, with g the gradient
 * (plus wd*w in the coupled form) and s0, s1 the state slots:
 *   SGD       w -= g*lr
 *   MOMENTUM  s0 = s0*decay - g*lr;  w += s0
 *   NESTEROV  s0 = s0*decay - g*lr;  w += s0*decay - g*lr
 *   RMSPROP   s0 = decay*s0 + one_minus_decay*(g*g);  w -= (lr*g) / sqrt(s0 + eps)
 *   ADAM      s0 += (g - s0)*one_minus_decay;  s1 += (g*g - s1)*one_minus_decay2;
 *             w -= (s0*alpha) / (sqrt(s1) + eps)
 *   ADAGRAD   s0 += g*g;  w -= (lr*g) / sqrt(s0 + eps)
 * The step is what is added to (MOMENTUM, NESTEROV) or subtracted from w; GC_ON_UPDATE removes
 * its row mean first. Weight decay wd > 0, decoupled (Keras): w = w - w*wd*lr before the step;
 * coupled (L2, the GC code's): g + wd*w is the gradient, centralized with GC_ON_GRADIENT. */
typedef enum { RULE_SGD, RULE_MOMENTUM, RULE_NESTEROV, RULE_RMSPROP, RULE_ADAM, RULE_ADAGRAD, RULE_COUNT } update_rule;

typedef struct {
    update_rule rule;
    float lr;
    float decay;            /* momentum; RMSprop's rho */
    float one_minus_decay;  /* RMSprop: 1 - rho; Adam: 1 - beta_1 */
    float one_minus_decay2; /* Adam: 1 - beta_2 */
    float alpha;            /* Adam: lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) of this step t */
    float eps;              /* positive */
    float wd;               /* weight decay; 0: none */
    bool wd_coupled;        /* wd enters the gradient (L2) instead of the weights */
} update_hparams;

/* The state slots a rule reads: 0, 1 or 2. */
int update_rule_slots(update_rule rule);

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

    /* Every optimizer's update, GC fused in per `gc`, in one pass over memory: rows x cols
     * weights w, their gradient g (left unchanged) and the rule's state slots s0, s1 (NULL
     * when the rule has fewer), row-major. rmsprop and gc_rmsprop are this with RULE_RMSPROP. */
    void (*fused_update)(float *w, float *s0, float *s1, const float *g, size_t rows, size_t cols, gc_mode gc,
                         const update_hparams *hp);
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
