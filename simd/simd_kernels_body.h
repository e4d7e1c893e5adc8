/* The vectorized kernels, written once against a vector layer and compiled once per ISA.
 *
 * A translation unit defines SIMD_ISA (the table's name suffix: avx2, avx512, neon),
 * includes its vec_<isa>.h and then this file, which defines simd_kernels_<isa>(). The
 * vector layer provides:
 *   vf, VF_LANES                  a vector of floats and its lane count
 *   vf_loadu, vf_storeu           unaligned access to a whole vector
 *   vf_load_part, vf_store_part   the first n lanes, 0 < n <= VF_LANES (the others load as
 *                                 0 and are not stored): the tails, masked or buffered
 *   vf_set1, vf_add, vf_sub, vf_mul, vf_div, vf_sqrt   (IEEE div and sqrt; no FMA: the
 *                                 reference rounds every product)
 *   vd, vd_zero, vd_add, vd_reduce   VF_LANES / 2 doubles, for sums
 *   vd_widen(p)                   VF_LANES / 2 floats from memory, as doubles
 *   vd_add_lo, vd_add_hi          acc + the low / high half of a vf, as doubles
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

/* A running sum of floats in four double accumulators (they hide the add latency). Every
 * sum walks a row the same way, two vectors at a time and then one, so the fused kernel's
 * sums equal row_means' bit for bit. */
typedef struct {
    vd a0, a1, a2, a3;
} vsum;

static inline vsum vsum_zero(void) { return (vsum){vd_zero(), vd_zero(), vd_zero(), vd_zero()}; }

/* Two vectors' worth, p[0 .. 2*VF_LANES), converted straight from memory (no extracts). */
static inline void vsum_add2(vsum *s, const float *p)
{
    s->a0 = vd_add(s->a0, vd_widen(p));
    s->a1 = vd_add(s->a1, vd_widen(p + VF_LANES / 2));
    s->a2 = vd_add(s->a2, vd_widen(p + VF_LANES));
    s->a3 = vd_add(s->a3, vd_widen(p + VF_LANES + VF_LANES / 2));
}

static inline void vsum_add1(vsum *s, vf x)
{
    s->a0 = vd_add_lo(s->a0, x);
    s->a1 = vd_add_hi(s->a1, x);
}

static inline double vsum_total(const vsum *s)
{
    return vd_reduce(vd_add(vd_add(s->a0, s->a1), vd_add(s->a2, s->a3)));
}

/* Floats p[i .. i+m), m <= VF_LANES; the rest of the vector is 0. */
static inline vf load_upto(const float *p, size_t i, size_t m)
{
    return m == VF_LANES ? vf_loadu(p + i) : vf_load_part(p + i, m);
}

static inline size_t lanes_left(size_t i, size_t n) { return n - i < VF_LANES ? n - i : VF_LANES; }

static double row_sum(const float *p, size_t n)
{
    vsum s = vsum_zero();
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) vsum_add2(&s, p + i);
    for (; i < n; i += VF_LANES) vsum_add1(&s, load_upto(p, i, lanes_left(i, n)));
    return vsum_total(&s);
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
        /* two vectors per iteration: one at a time leaves the loop at half the store rate */
        for (; c + 2 * VF_LANES <= cols; c += 2 * VF_LANES) {
            vf x = vf_loadu(row + c), y = vf_loadu(row + c + VF_LANES);
            vf_storeu(row + c, vf_sub(x, m));
            vf_storeu(row + c + VF_LANES, vf_sub(y, m));
        }
        for (; c + VF_LANES <= cols; c += VF_LANES) vf_storeu(row + c, vf_sub(vf_loadu(row + c), m));
        if (c < cols) vf_store_part(row + c, vf_sub(vf_load_part(row + c, cols - c), m), cols - c);
    }
}

#include "simd/update_body.h"

/* The seed's RMSprop entries: fused_update's RULE_RMSPROP, with 1 - rho rounded in float. */
static inline update_hparams rms_rule_of(const rmsprop_hparams *hp)
{
    return (update_hparams){.rule = RULE_RMSPROP, .lr = hp->lr, .decay = hp->rho, .one_minus_decay = 1.0f - hp->rho,
                            .eps = hp->eps};
}

static void K(rmsprop)(float *w, float *v, const float *g, size_t n, const rmsprop_hparams *hp)
{
    update_hparams u = rms_rule_of(hp);
    K(fused_update)(w, v, NULL, g, 1, n, GC_OFF, &u);
}

static void K(gc_rmsprop)(float *w, float *v, const float *g, size_t rows, size_t cols,
                          const rmsprop_hparams *hp)
{
    update_hparams u = rms_rule_of(hp);
    K(fused_update)(w, v, NULL, g, rows, cols, GC_ON_GRADIENT, &u);
}

static const simd_kernels K(kernels) = {
    .isa = SIMD_STR_(SIMD_ISA),
    .f32_to_bf16 = K(f32_to_bf16), /* simd/bf16_body.h, included before this file */
    .bf16_to_f32 = K(bf16_to_f32),
    .row_means = K(row_means),
    .center_rows = K(center_rows),
    .rmsprop = K(rmsprop),
    .gc_rmsprop = K(gc_rmsprop),
    .fused_update = K(fused_update),
};

const simd_kernels *K(simd_kernels)(void) { return &K(kernels); }
