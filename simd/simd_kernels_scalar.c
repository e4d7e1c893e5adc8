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
};

const simd_kernels *simd_kernels_scalar(void) { return &scalar_kernels; }
