/* Gradient Centralization invariants and RMSprop against its closed form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/optim/optimizer.h"
#include "engine/base/rng.h"

/* A store like a small model's: conv kernel + bias, dense kernel + bias. */
static param_store store;
static int conv_k, conv_b, dense_k, dense_b;

static void make_store(void)
{
    memset(&store, 0, sizeof store);
    long ck[4] = {8, 3, 3, 3}, cb[1] = {8}, dk[2] = {5, 40}, db[1] = {5};
    cr_assert_eq(params_add(&store, "conv/kernel", PARAM_CONV_KERNEL, 4, ck, &conv_k), GC_OK);
    cr_assert_eq(params_add(&store, "conv/bias", PARAM_BIAS, 1, cb, &conv_b), GC_OK);
    cr_assert_eq(params_add(&store, "dense/kernel", PARAM_DENSE_KERNEL, 2, dk, &dense_k), GC_OK);
    cr_assert_eq(params_add(&store, "dense/bias", PARAM_BIAS, 1, db, &dense_b), GC_OK);
    cr_assert_eq(params_alloc(&store), GC_OK);
    cr_assert_eq(params_alloc_state(&store, 1), GC_OK);
    params_init(&store, 3);
    /* Gradients with a clearly non-zero mean per row. */
    for (int t = 0; t < store.n; t++) {
        float *g = param_g(&store, t);
        for (size_t k = 0; k < store.t[t].count; k++)
            g[k] = rng_range(rng_key(7, 1, (uint64_t)t, 0), k, -1.0f, 1.0f) + 0.3f * (float)(k / store.t[t].cols % 3);
    }
}

static void free_store(void) { params_free(&store); }

TestSuite(gc, .init = make_store, .fini = free_store);

static optimizer make_opt(gc_scope scope)
{
    return (optimizer){.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f}, .scope = scope, .kernels = simd_kernels_scalar()};
}

static float *snapshot(const float *p, size_t n)
{
    float *c = malloc(n * sizeof *c);
    cr_assert(c);
    memcpy(c, p, n * sizeof *c);
    return c;
}

/* Every row of a centralized tensor has mean 0 to 1e-6 of its mean absolute value. */
static void expect_centralized(int t)
{
    const param_tensor *pt = &store.t[t];
    const float *g = param_g(&store, t);
    for (size_t r = 0; r < pt->rows; r++) {
        double sum = 0.0, abs_sum = 0.0;
        for (size_t c = 0; c < pt->cols; c++) {
            sum += g[r * pt->cols + c];
            abs_sum += fabs(g[r * pt->cols + c]);
        }
        cr_expect(fabs(sum) <= 1e-6 * abs_sum, "%s row %zu: mean %g", pt->name, r, sum / (double)pt->cols);
    }
}

Test(gc, centralized_gradients_have_zero_mean_per_output_unit)
{
    optimizer opt = make_opt(GC_SCOPE_ALL);
    optimizer_centralize(&opt, &store);
    expect_centralized(conv_k);
    expect_centralized(dense_k);
}

Test(gc, subtracts_exactly_the_row_mean)
{
    const param_tensor *pt = &store.t[dense_k];
    float *before = snapshot(param_g(&store, dense_k), pt->count);
    optimizer opt = make_opt(GC_SCOPE_ALL);
    optimizer_centralize(&opt, &store);
    const float *after = param_g(&store, dense_k);
    for (size_t r = 0; r < pt->rows; r++) {
        double mean = 0.0;
        for (size_t c = 0; c < pt->cols; c++) mean += before[r * pt->cols + c];
        mean /= (double)pt->cols;
        for (size_t c = 0; c < pt->cols; c++)
            cr_expect_eq(after[r * pt->cols + c], before[r * pt->cols + c] - (float)mean);
    }
    free(before);
}

Test(gc, leaves_biases_untouched)
{
    float *cb = snapshot(param_g(&store, conv_b), 8), *db = snapshot(param_g(&store, dense_b), 5);
    optimizer opt = make_opt(GC_SCOPE_ALL);
    optimizer_centralize(&opt, &store);
    cr_expect(memcmp(cb, param_g(&store, conv_b), 8 * sizeof(float)) == 0);
    cr_expect(memcmp(db, param_g(&store, dense_b), 5 * sizeof(float)) == 0);
    free(cb);
    free(db);
}

Test(gc, twice_equals_once)
{
    optimizer opt = make_opt(GC_SCOPE_ALL);
    optimizer_centralize(&opt, &store);
    float *once = snapshot(store.g, store.total);
    optimizer_centralize(&opt, &store);
    /* The second pass subtracts only the rounding residue of the first: at most 1e-6 of the
     * row's scale. */
    for (int t = 0; t < store.n; t++) {
        const param_tensor *pt = &store.t[t];
        const float *a = once + pt->offset, *b = param_g(&store, t);
        for (size_t r = 0; r < pt->rows; r++) {
            double scale = 0.0;
            for (size_t c = 0; c < pt->cols; c++) scale += fabs(a[r * pt->cols + c]) / (double)pt->cols;
            for (size_t c = 0; c < pt->cols; c++) {
                size_t i = r * pt->cols + c;
                cr_expect(fabs((double)b[i] - (double)a[i]) <= 1e-6 * scale, "%s[%zu]: %g vs %g", pt->name, i,
                          (double)b[i], (double)a[i]);
            }
        }
    }
    free(once);
}

Test(gc, conv_scope_leaves_dense_kernels_alone)
{
    const param_tensor *dk = &store.t[dense_k];
    float *dense = snapshot(param_g(&store, dense_k), dk->count);
    optimizer opt = make_opt(GC_SCOPE_CONV);
    optimizer_centralize(&opt, &store);
    expect_centralized(conv_k);
    cr_expect(memcmp(dense, param_g(&store, dense_k), dk->count * sizeof(float)) == 0);
    free(dense);
}

Test(gc, scope_none_changes_nothing)
{
    float *all = snapshot(store.g, store.total);
    optimizer opt = make_opt(GC_SCOPE_NONE);
    optimizer_centralize(&opt, &store);
    cr_expect(memcmp(all, store.g, store.total * sizeof(float)) == 0);
    free(all);
}

Test(gc, fused_step_equals_centralize_then_rmsprop)
{
    /* Two copies of the store: one fused step vs. explicit GC then a plain RMSprop step. */
    optimizer fused = make_opt(GC_SCOPE_ALL), plain = make_opt(GC_SCOPE_NONE);
    float *w0 = snapshot(store.w, store.total), *g0 = snapshot(store.g, store.total);
    optimizer_step(&fused, &store);
    float *w_fused = snapshot(store.w, store.total), *v_fused = snapshot(store.state[0], store.total);

    memcpy(store.w, w0, store.total * sizeof(float));
    memcpy(store.g, g0, store.total * sizeof(float));
    memset(store.state[0], 0, store.total * sizeof(float));
    optimizer_centralize(&fused, &store);
    optimizer_step(&plain, &store);
    for (size_t i = 0; i < store.total; i++) {
        cr_expect(fabsf(store.w[i] - w_fused[i]) <= 1e-6f * fabsf(w_fused[i]) + 1e-9f, "w %zu", i);
        cr_expect(fabsf(store.state[0][i] - v_fused[i]) <= 1e-6f * fabsf(v_fused[i]) + 1e-12f, "v %zu", i);
    }
    free(w0);
    free(g0);
    free(w_fused);
    free(v_fused);
}

Test(rmsprop, two_steps_match_the_closed_form)
{
    /* v1 = (1-rho) g1^2, w1 = w0 - lr g1 / sqrt(v1 + eps);
     * v2 = rho v1 + (1-rho) g2^2, w2 = w1 - lr g2 / sqrt(v2 + eps), in double. */
    long dims[1] = {1000};
    param_store ps = {0};
    int t;
    cr_assert_eq(params_add(&ps, "b", PARAM_BIAS, 1, dims, &t), GC_OK);
    cr_assert_eq(params_alloc(&ps), GC_OK);
    cr_assert_eq(params_alloc_state(&ps, 1), GC_OK);
    const double lr = 1e-4, rho = 0.9, eps = 1e-7;
    optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-4f, .rho = 0.9f, .eps = 1e-7f}, .scope = GC_SCOPE_ALL,
                     .kernels = simd_kernels_scalar()};
    double w[1000], v[1000];
    for (int k = 0; k < 1000; k++) {
        ps.w[k] = (float)(k - 500) * 1e-3f;
        w[k] = ps.w[k];
        v[k] = 0.0;
    }
    for (int step = 0; step < 2; step++) {
        for (int k = 0; k < 1000; k++) ps.g[k] = (float)sin(k * 0.37 + step) * (k % 7 == 0 ? 1e-4f : 1.0f);
        optimizer_step(&opt, &ps);
        for (int k = 0; k < 1000; k++) {
            double g = ps.g[k];
            v[k] = rho * v[k] + (1.0 - rho) * g * g;
            w[k] -= lr * g / sqrt(v[k] + eps);
            cr_expect(fabs(ps.state[0][k] - v[k]) <= 1e-6 * v[k] + 1e-30, "step %d v[%d]: %g vs %g", step, k, (double)ps.state[0][k], v[k]);
            cr_expect(fabs(ps.w[k] - w[k]) <= 1e-6 * fabs(w[k]) + 1e-9, "step %d w[%d]: %g vs %g", step, k, (double)ps.w[k], w[k]);
        }
    }
    params_free(&ps);
}

Test(rmsprop, first_step_moves_by_lr_over_sqrt_one_minus_rho)
{
    /* With v0 = 0 and |g| >> sqrt(eps): |w1 - w0| = lr |g| / sqrt((1-rho) g^2 + eps) ~ lr / sqrt(0.1). */
    long dims[1] = {64};
    param_store ps = {0};
    int t;
    cr_assert_eq(params_add(&ps, "b", PARAM_BIAS, 1, dims, &t), GC_OK);
    cr_assert_eq(params_alloc(&ps), GC_OK);
    cr_assert_eq(params_alloc_state(&ps, 1), GC_OK);
    for (int k = 0; k < 64; k++) ps.g[k] = k % 2 ? 0.5f : -2.0f;
    optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f}, .scope = GC_SCOPE_NONE,
                     .kernels = simd_kernels_scalar()};
    optimizer_step(&opt, &ps);
    for (int k = 0; k < 64; k++) {
        double expect = (k % 2 ? -1.0 : 1.0) * 1e-3 / sqrt(0.1 + 1e-7 / (ps.g[k] * ps.g[k]));
        cr_expect(fabs(ps.w[k] - expect) <= 1e-6 * fabs(expect), "w[%d] = %g, expected %g", k, (double)ps.w[k], expect);
    }
    params_free(&ps);
}

Test(params, glorot_uniform_within_limits_and_checksum_reproducible, .init = make_store, .fini = free_store)
{
    /* conv 8x3x3x3: fan_in 27, fan_out 72, limit sqrt(6/99); dense 5x40: limit sqrt(6/45). */
    double limits[4] = {sqrt(6.0 / 99.0), 0.0, sqrt(6.0 / 45.0), 0.0};
    for (int t = 0; t < store.n; t++) {
        const float *w = param_w(&store, t);
        double max_abs = 0.0;
        for (size_t k = 0; k < store.t[t].count; k++) max_abs = fmax(max_abs, fabs(w[k]));
        cr_expect_leq(max_abs, limits[t], "%s", store.t[t].name);
        if (limits[t] > 0) cr_expect_geq(max_abs, 0.8 * limits[t], "%s spans its range", store.t[t].name);
    }
    uint64_t a = params_checksum(&store);
    params_init(&store, 3);
    cr_expect_eq(params_checksum(&store), a);
    params_init(&store, 4);
    uint64_t b = params_checksum(&store);
    cr_expect_neq(b, a, "seeds 3 and 4 give the same checksum");
}

/* Data parallelism centralizes the averaged gradient; GC is linear, so that equals averaging
 * the ranks' centralized gradients (to float rounding). */
Test(gc, centralizing_the_average_equals_averaging_the_centralized)
{
    size_t n = store.total;
    float *g0 = snapshot(store.g, n), *g1 = malloc(n * sizeof *g1);
    cr_assert(g1);
    for (size_t k = 0; k < n; k++) g1[k] = 0.7f * g0[k] - 0.2f + 0.01f * (float)(k % 13);
    optimizer opt = make_opt(GC_SCOPE_ALL);
    /* average, then centralize */
    for (size_t k = 0; k < n; k++) store.g[k] = 0.5f * (g0[k] + g1[k]);
    optimizer_centralize(&opt, &store);
    float *avg_then_gc = snapshot(store.g, n);
    /* centralize each, then average */
    memcpy(store.g, g0, n * sizeof *g0);
    optimizer_centralize(&opt, &store);
    float *c0 = snapshot(store.g, n);
    memcpy(store.g, g1, n * sizeof *g1);
    optimizer_centralize(&opt, &store);
    for (size_t k = 0; k < n; k++) {
        float gc_then_avg = 0.5f * (c0[k] + store.g[k]);
        cr_expect(fabsf(avg_then_gc[k] - gc_then_avg) <= 1e-6f * (1.0f + fabsf(gc_then_avg)), "element %zu: %g vs %g", k,
                  avg_then_gc[k], gc_then_avg);
    }
    free(g0);
    free(g1);
    free(avg_then_gc);
    free(c0);
}
