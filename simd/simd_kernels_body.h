/* The vectorized kernels, written once against a vector layer and compiled once per ISA.
 *
 * A translation unit defines SIMD_ISA (the table's name suffix: avx2, avx512, neon),
 * includes its vec_<isa>.h and then this file, which defines simd_kernels_<isa>(). The
 * vector layer provides:
 *   vf, VF_LANES                  a vector of floats and its lane count
 *   vf_loadu, vf_storeu           unaligned access to a whole vector
 *   vf_load_part, vf_store_part   the first n lanes, 0 < n <= VF_LANES (the others load as
 *                                 0 and are not stored): the tails, masked or buffered
 *   vf_set1, vf_add, vf_sub, vf_mul, vf_fma, vf_div, vf_sqrt   (IEEE div and sqrt)
 *   vd, vd_zero, vd_add, vd_add_lo, vd_add_hi, vd_reduce       double lanes for sums
 *   vf_prefetch                   a hint to bring a line into L1
 *
 * Results match the scalar reference: elementwise kernels use its operations in its order
 * (this directory is compiled with -ffp-contract=off so no mul+add becomes an FMA), so they
 * are bit-identical; sums run in double lanes, like the reference's double sum. */
#include <stdbool.h>
#include <stddef.h>

#include "simd/simd.h"
#include "simd/simd_isa.h"

#define SIMD_CAT2_(a, b) a##_##b
#define SIMD_CAT_(a, b) SIMD_CAT2_(a, b)
#define SIMD_STR2_(x) #x
#define SIMD_STR_(x) SIMD_STR2_(x)
#define K(name) SIMD_CAT_(name, SIMD_ISA)

/* The sum of n floats in double: four accumulators hide the add latency. */
static double row_sum(const float *p, size_t n)
{
    vd a0 = vd_zero(), a1 = vd_zero(), a2 = vd_zero(), a3 = vd_zero();
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
        vf x = vf_loadu(p + i), y = vf_loadu(p + i + VF_LANES);
        a0 = vd_add_lo(a0, x);
        a1 = vd_add_hi(a1, x);
        a2 = vd_add_lo(a2, y);
        a3 = vd_add_hi(a3, y);
    }
    for (; i < n; i += VF_LANES) {
        vf x = n - i >= VF_LANES ? vf_loadu(p + i) : vf_load_part(p + i, n - i);
        a0 = vd_add_lo(a0, x);
        a1 = vd_add_hi(a1, x);
    }
    return vd_reduce(vd_add(vd_add(a0, a1), vd_add(a2, a3)));
}

/* Rounded to float once, from the double mean, as the reference does. */
static inline float row_mean(const float *row, size_t cols)
{
    return (float)(row_sum(row, cols) / (double)cols);
}

static void K(row_means)(const float *g, size_t rows, size_t cols, float *means)
{
    for (size_t r = 0; r < rows; r++) means[r] = row_mean(g + r * cols, cols);
}

static void K(center_rows)(float *g, size_t rows, size_t cols, const float *means)
{
    for (size_t r = 0; r < rows; r++) {
        float *row = g + r * cols;
        vf m = vf_set1(means[r]);
        size_t c = 0;
        for (; c + VF_LANES <= cols; c += VF_LANES) vf_storeu(row + c, vf_sub(vf_loadu(row + c), m));
        if (c < cols) vf_store_part(row + c, vf_sub(vf_load_part(row + c, cols - c), m), cols - c);
    }
}

/* The hyperparameters, broadcast once per call. */
typedef struct {
    vf rho, one_minus_rho, lr, eps;
} rms_consts;

static inline rms_consts rms_consts_of(const rmsprop_hparams *hp)
{
    return (rms_consts){vf_set1(hp->rho), vf_set1(1.0f - hp->rho), vf_set1(hp->lr), vf_set1(hp->eps)};
}

/* v = rho*v + (1-rho)*(g*g); w -= (lr*g)/sqrt(v+eps), exactly the reference's operations. */
static inline void rms_vec(vf *w, vf *v, vf g, const rms_consts *k)
{
    vf vn = vf_add(vf_mul(k->rho, *v), vf_mul(k->one_minus_rho, vf_mul(g, g)));
    *v = vn;
    *w = vf_sub(*w, vf_div(vf_mul(k->lr, g), vf_sqrt(vf_add(vn, k->eps))));
}

/* RMSprop over n elements on g - mean when centered (the flag is constant at every call
 * site, so each caller gets a loop without the dead subtraction). */
static inline void rms_span(float *w, float *v, const float *g, size_t n, bool centered, vf mean,
                            const rms_consts *k)
{
    size_t i = 0;
    for (; i + VF_LANES <= n; i += VF_LANES) {
        vf gi = vf_loadu(g + i), vi = vf_loadu(v + i), wi = vf_loadu(w + i);
        if (centered) gi = vf_sub(gi, mean);
        rms_vec(&wi, &vi, gi, k);
        vf_storeu(v + i, vi);
        vf_storeu(w + i, wi);
    }
    if (i < n) {
        size_t m = n - i;
        vf gi = vf_load_part(g + i, m), vi = vf_load_part(v + i, m), wi = vf_load_part(w + i, m);
        if (centered) gi = vf_sub(gi, mean);
        rms_vec(&wi, &vi, gi, k);
        vf_store_part(v + i, vi, m);
        vf_store_part(w + i, wi, m);
    }
}

static void K(rmsprop)(float *w, float *v, const float *g, size_t n, const rmsprop_hparams *hp)
{
    rms_consts k = rms_consts_of(hp);
    rms_span(w, v, g, n, false, vf_set1(0.0f), &k);
}

/* Row by row: the mean pass brings the row of g into cache, the update pass then reads it
 * from there together with v and w from memory. */
static void K(gc_rmsprop)(float *w, float *v, const float *g, size_t rows, size_t cols,
                          const rmsprop_hparams *hp)
{
    rms_consts k = rms_consts_of(hp);
    for (size_t r = 0; r < rows; r++) {
        size_t off = r * cols;
        vf mean = vf_set1(row_mean(g + off, cols));
        rms_span(w + off, v + off, g + off, cols, true, mean, &k);
    }
}

static const simd_kernels K(kernels) = {
    .isa = SIMD_STR_(SIMD_ISA),
    .row_means = K(row_means),
    .center_rows = K(center_rows),
    .rmsprop = K(rmsprop),
    .gc_rmsprop = K(gc_rmsprop),
};

const simd_kernels *K(simd_kernels)(void) { return &K(kernels); }
