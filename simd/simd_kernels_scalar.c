/* Scalar reference kernels: the definition every vectorized kernel is tested against. */
#include <math.h>

#include "simd/simd.h"

static void row_means_scalar(const float *g, size_t rows, size_t cols, float *means)
{
    for (size_t r = 0; r < rows; r++) {
        const float *row = g + r * cols;
        double sum = 0.0;
        for (size_t c = 0; c < cols; c++) sum += row[c];
        means[r] = (float)(sum / (double)cols);
    }
}

static void center_rows_scalar(float *g, size_t rows, size_t cols, const float *means)
{
    for (size_t r = 0; r < rows; r++) {
        float *row = g + r * cols;
        for (size_t c = 0; c < cols; c++) row[c] -= means[r];
    }
}

/* One element of the update, in the order Keras computes it. */
static inline void rmsprop_one(float *w, float *v, float g, const rmsprop_hparams *hp)
{
    float vn = hp->rho * *v + (1.0f - hp->rho) * (g * g);
    *v = vn;
    *w -= (hp->lr * g) / sqrtf(vn + hp->eps);
}

static void rmsprop_scalar(float *w, float *v, const float *g, size_t n, const rmsprop_hparams *hp)
{
    for (size_t i = 0; i < n; i++) rmsprop_one(&w[i], &v[i], g[i], hp);
}

static void gc_rmsprop_scalar(float *w, float *v, const float *g, size_t rows, size_t cols,
                              const rmsprop_hparams *hp)
{
    for (size_t r = 0; r < rows; r++) {
        float mean;
        row_means_scalar(g + r * cols, 1, cols, &mean);
        for (size_t c = 0; c < cols; c++) {
            size_t i = r * cols + c;
            rmsprop_one(&w[i], &v[i], g[i] - mean, hp);
        }
    }
}

int update_rule_slots(update_rule rule) { return rule == RULE_SGD ? 0 : rule == RULE_ADAM ? 2 : 1; }

/* fused_update's rules (simd.h), one element at a time, in Keras's order of operations. */
static float rule_grad(const update_hparams *hp, float g, float w)
{
    return hp->wd != 0.0f && hp->wd_coupled ? g + hp->wd * w : g;
}

static void rule_state(const update_hparams *hp, float g, float *s0, float *s1)
{
    switch (hp->rule) {
    case RULE_MOMENTUM:
    case RULE_NESTEROV: *s0 = *s0 * hp->decay - g * hp->lr; break;
    case RULE_RMSPROP: *s0 = hp->decay * *s0 + hp->one_minus_decay * (g * g); break;
    case RULE_ADAM:
        *s0 = *s0 + (g - *s0) * hp->one_minus_decay;
        *s1 = *s1 + (g * g - *s1) * hp->one_minus_decay2;
        break;
    case RULE_ADAGRAD: *s0 = *s0 + g * g; break;
    default: break;
    }
}

static float rule_step(const update_hparams *hp, float g, float s0, float s1)
{
    switch (hp->rule) {
    case RULE_MOMENTUM: return s0;
    case RULE_NESTEROV: return s0 * hp->decay - g * hp->lr;
    case RULE_RMSPROP:
    case RULE_ADAGRAD: return (hp->lr * g) / sqrtf(s0 + hp->eps);
    case RULE_ADAM: return (s0 * hp->alpha) / (sqrtf(s1) + hp->eps);
    default: return g * hp->lr;
    }
}

static float rule_apply(const update_hparams *hp, float w, float step)
{
    if (hp->wd != 0.0f && !hp->wd_coupled) w = w - w * hp->wd * hp->lr;
    return hp->rule == RULE_MOMENTUM || hp->rule == RULE_NESTEROV ? w + step : w - step;
}

static void fused_update_scalar(float *w, float *s0, float *s1, const float *g, size_t rows, size_t cols,
                                gc_mode gc, const update_hparams *hp)
{
    if (gc == GC_OFF) cols *= rows, rows = 1;
    int slots = update_rule_slots(hp->rule);
    for (size_t r = 0; r < rows; r++) {
        size_t row = r * cols;
        float mean = 0.0f;
        double sum = 0.0;
        if (gc == GC_ON_GRADIENT) {
            for (size_t c = 0; c < cols; c++) sum += rule_grad(hp, g[row + c], w[row + c]);
            mean = (float)(sum / (double)cols);
        }
        for (size_t i = row; i < row + cols; i++) {
            float a = slots > 0 ? s0[i] : 0.0f, b = slots > 1 ? s1[i] : 0.0f;
            float gi = rule_grad(hp, g[i], w[i]) - mean;
            rule_state(hp, gi, &a, &b);
            if (slots > 0) s0[i] = a;
            if (slots > 1) s1[i] = b;
            float step = rule_step(hp, gi, a, b);
            if (gc == GC_ON_UPDATE)
                sum += step; /* applied below, once the row's mean is known */
            else
                w[i] = rule_apply(hp, w[i], step);
        }
        if (gc != GC_ON_UPDATE) continue;
        mean = (float)(sum / (double)cols);
        for (size_t i = row; i < row + cols; i++) {
            float gi = rule_grad(hp, g[i], w[i]);
            float step = rule_step(hp, gi, slots > 0 ? s0[i] : 0.0f, slots > 1 ? s1[i] : 0.0f);
            w[i] = rule_apply(hp, w[i], step - mean);
        }
    }
}

static void f32_to_bf16_scalar(bf16 *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = bf16_from_f32(src[i]);
}

static void bf16_to_f32_scalar(float *dst, const bf16 *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = f32_from_bf16(src[i]);
}

static const simd_kernels scalar_kernels = {
    .isa = "scalar",
    .f32_to_bf16 = f32_to_bf16_scalar,
    .bf16_to_f32 = bf16_to_f32_scalar,
    .row_means = row_means_scalar,
    .center_rows = center_rows_scalar,
    .rmsprop = rmsprop_scalar,
    .gc_rmsprop = gc_rmsprop_scalar,
    .fused_update = fused_update_scalar,
};

const simd_kernels *simd_kernels_scalar(void) { return &scalar_kernels; }
