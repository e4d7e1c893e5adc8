/* Gradient Centralization invariants and RMSprop against its closed form. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
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

/* ---- The split paths: tensors of 65536 elements or more are divided among the threads. ---- */

/* The seed model's large tensors at 300x300 (dense 512 x 3136: 94% of the parameters), its
 * conv kernels, biases, and two tensors that divide evenly into nothing: 37 rows of 2003 (the
 * rows fall unevenly on 2, 3 and 7 threads; the elements are not a whole number of chunks)
 * and a 70001-element vector (plain RMSprop in chunks, whatever the scope). */
static void make_real_store(param_store *ps)
{
    memset(ps, 0, sizeof *ps);
    static const struct {
        const char *name;
        param_kind kind;
        int rank;
        long dims[4];
    } shapes[] = {
        {"conv2d_4/kernel", PARAM_CONV_KERNEL, 4, {64, 64, 3, 3}}, {"conv2d_4/bias", PARAM_BIAS, 1, {64}},
        {"dense/kernel", PARAM_DENSE_KERNEL, 2, {512, 3136}},      {"dense/bias", PARAM_BIAS, 1, {512}},
        {"odd/kernel", PARAM_CONV_KERNEL, 4, {37, 2003, 1, 1}},     {"odd/dense", PARAM_DENSE_KERNEL, 2, {37, 2003}},
        {"long/bias", PARAM_BIAS, 1, {70001}},                      {"dense_1/kernel", PARAM_DENSE_KERNEL, 2, {1, 512}},
    };
    int idx;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        cr_assert_eq(params_add(ps, shapes[s].name, shapes[s].kind, shapes[s].rank, shapes[s].dims, &idx), GC_OK);
    cr_assert_eq(params_alloc(ps), GC_OK);
    cr_assert_eq(params_alloc_state(ps, 1), GC_OK);
    params_init(ps, 5);
}

/* Gradients of step `step`: uniform, plus an offset per row so GC has means to remove. */
static void fill_gradients(param_store *ps, int step)
{
    for (int t = 0; t < ps->n; t++) {
        float *g = param_g(ps, t);
        uint64_t key = rng_key(21, (uint64_t)step, (uint64_t)t, 0);
        for (size_t k = 0; k < ps->t[t].count; k++)
            g[k] = rng_range(key, k, -1.0f, 1.0f) * 1e-2f + 3e-3f * (float)((k / ps->t[t].cols) % 5) - 5e-3f;
    }
}

/* The reference step: the scalar kernels over each tensor whole, on one thread. */
static void reference_step(gc_scope scope, param_store *ps)
{
    const simd_kernels *k = simd_kernels_scalar();
    const rmsprop_hparams hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f};
    for (int t = 0; t < ps->n; t++) {
        const param_tensor *pt = &ps->t[t];
        if (gc_applies(scope, pt))
            k->gc_rmsprop(param_w(ps, t), param_state(ps, 0, t), param_g(ps, t), pt->rows, pt->cols, &hp);
        else
            k->rmsprop(param_w(ps, t), param_state(ps, 0, t), param_g(ps, t), pt->count, &hp);
    }
}

static void expect_same_floats(const param_store *a, const param_store *b, const float *wa, const float *wb,
                               const char *what, int threads, gc_scope scope, const char *isa)
{
    for (int t = 0; t < a->n; t++) {
        const param_tensor *pt = &a->t[t];
        size_t bad = 0, first = 0;
        for (size_t k = 0; k < pt->count; k++)
            if (memcmp(&wa[pt->offset + k], &wb[pt->offset + k], sizeof(float)) != 0 && bad++ == 0) first = k;
        cr_expect_eq(bad, 0, "%s, %s kernels, %d threads, scope %s: %s differs at %zu elements (first %zu: %g vs %g)",
                     what, isa, threads, gc_scope_name(scope), pt->name, bad, first,
                     (double)wa[pt->offset + first], (double)wb[pt->offset + first]);
    }
}

/* The split is only a division of the work: every element of w and v is the reference's, bit
 * for bit (the vector kernels are bit-identical to the scalar ones by construction). */
Test(optimizer_split, every_thread_count_gives_the_single_threaded_reference, .timeout = 120)
{
    const int thread_counts[] = {1, 2, 3, 7};
    const gc_scope scopes[] = {GC_SCOPE_NONE, GC_SCOPE_ALL, GC_SCOPE_CONV};
    const simd_kernels *kernel_sets[] = {simd_kernels_scalar(), simd_best()};
    param_store got, ref;
    make_real_store(&got);
    make_real_store(&ref);
    cr_assert_geq(got.t[2].count, 65536, "the dense kernel takes the split path");
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 3; s++)
            for (int tc = 0; tc < 4; tc++) {
                params_init(&got, 5);
                params_init(&ref, 5);
                optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f}, .scope = scopes[s],
                                 .kernels = kernel_sets[k]};
                omp_set_num_threads(thread_counts[tc]);
                for (int step = 0; step < 2; step++) { /* the second starts from v != 0 */
                    fill_gradients(&got, step);
                    fill_gradients(&ref, step);
                    optimizer_step(&opt, &got);
                    reference_step(scopes[s], &ref);
                }
                expect_same_floats(&got, &ref, got.w, ref.w, "weights", thread_counts[tc], scopes[s], kernel_sets[k]->isa);
                expect_same_floats(&got, &ref, got.state[0], ref.state[0], "RMSprop state", thread_counts[tc], scopes[s],
                                   kernel_sets[k]->isa);
                cr_expect(memcmp(got.g, ref.g, got.total * sizeof(float)) == 0, "the gradients are left unchanged");
            }
    params_free(&got);
    params_free(&ref);
}

/* ---- GC against known answers, from gradients laid out as Keras holds them. ---- */

/* The seed model's kernels at 94x94 in Keras's shapes: Conv2D (kh, kw, cin, cout), Dense
 * (in, out). */
static const struct {
    int rank;
    long shape[4];
} keras_kernels[] = {
    {4, {3, 3, 3, 16}}, {4, {3, 3, 16, 32}}, {4, {3, 3, 32, 64}}, {4, {3, 3, 64, 64}},
    {4, {3, 3, 64, 64}}, {2, {64, 512}},     {2, {512, 1}},
};
#define NKERAS (int)(sizeof keras_kernels / sizeof *keras_kernels)

/* Output unit o's mean: a non-zero multiple of 1/8, different for neighbouring units. */
static double chosen_mean(long o) { return (double)(o % 7 + 1) / 8.0 * (o % 2 ? 1.0 : -1.0); }

/* A gradient in Keras layout (fan-in index f = (kh*KW + kw)*CIN + cin, output o last) with
 * output unit o's mean chosen_mean(o) and its centralized version. The deviations are
 * multiples of 1/16 summing to zero over each unit's fan-in, so every value, sum and mean is
 * exact in float and double: GC must give `centered` bit for bit. */
static void keras_gradient(long fan_in, long outs, float *g, float *centered)
{
    for (long o = 0; o < outs; o++) {
        double sum = 0.0;
        for (long f = 0; f < fan_in; f++) {
            double dev = f + 1 < fan_in ? (double)((f * 7 + o * 3) % 5 - 2) / 16.0 : -sum;
            if (f + 1 < fan_in) sum += dev;
            centered[f * outs + o] = (float)dev;
            g[f * outs + o] = (float)(dev + chosen_mean(o));
        }
    }
}

/* Keras (kh, kw, cin, cout) or (in, out) -> the store's output-major (cout, cin, kh, kw) or
 * (out, in). */
static void keras_to_store(int k, const float *keras, float *store_view)
{
    const long *s = keras_kernels[k].shape;
    if (keras_kernels[k].rank == 2) {
        for (long i = 0; i < s[0]; i++)
            for (long o = 0; o < s[1]; o++) store_view[o * s[0] + i] = keras[i * s[1] + o];
        return;
    }
    long KH = s[0], KW = s[1], CI = s[2], CO = s[3];
    for (long kh = 0; kh < KH; kh++)
        for (long kw = 0; kw < KW; kw++)
            for (long ci = 0; ci < CI; ci++)
                for (long co = 0; co < CO; co++)
                    store_view[((co * CI + ci) * KH + kh) * KW + kw] = keras[((kh * KW + kw) * CI + ci) * CO + co];
}

typedef struct {
    net *n;
    int tensor[NKERAS];       /* store index of each Keras kernel */
    float *expect[NKERAS];    /* its centralized gradient, in the store's layout */
} keras_case;

/* The seed model's store with every kernel gradient built in Keras layout and carried over;
 * bias gradients 0.5. */
static keras_case keras_case_make(void)
{
    keras_case c = {0};
    cr_assert_eq(net_create(&c.n, (act_shape){3, 3, 94, 94}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(model_build(model_find("seed"), c.n, true), GC_OK);
    int b = 1;
    cr_assert_eq(net_plan(c.n, &b, 1), GC_OK, "%s", gc_error_message());
    param_store *ps = &c.n->params;
    int k = 0;
    for (int t = 0; t < ps->n; t++) {
        if (ps->t[t].kind == PARAM_BIAS) {
            for (size_t i = 0; i < ps->t[t].count; i++) param_g(ps, t)[i] = 0.5f;
            continue;
        }
        cr_assert_lt(k, NKERAS);
        const long *s = keras_kernels[k].shape;
        int r = keras_kernels[k].rank;
        long outs = s[r - 1], count = 1;
        for (int d = 0; d < r; d++) count *= s[d];
        cr_assert_eq(ps->t[t].count, (size_t)count, "%s has Keras's size", ps->t[t].name);
        float *g = malloc((size_t)count * sizeof *g), *centered = malloc((size_t)count * sizeof *centered);
        c.expect[k] = malloc((size_t)count * sizeof *c.expect[k]);
        cr_assert(g && centered && c.expect[k]);
        keras_gradient(count / outs, outs, g, centered);
        keras_to_store(k, g, param_g(ps, t));
        keras_to_store(k, centered, c.expect[k]);
        c.tensor[k++] = t;
        free(g);
        free(centered);
    }
    cr_assert_eq(k, NKERAS);
    return c;
}

static void keras_case_free(keras_case *c)
{
    for (int k = 0; k < NKERAS; k++) free(c->expect[k]);
    net_destroy(c->n);
}

Test(gc_known, centralize_gives_the_known_answer_in_every_kernel)
{
    const simd_kernels *kernel_sets[] = {simd_kernels_scalar(), simd_best()};
    for (int ks = 0; ks < 2; ks++) {
        keras_case c = keras_case_make();
        param_store *ps = &c.n->params;
        optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f}, .scope = GC_SCOPE_ALL, .kernels = kernel_sets[ks]};
        optimizer_centralize(&opt, ps);
        for (int k = 0; k < NKERAS; k++) {
            const param_tensor *pt = &ps->t[c.tensor[k]];
            size_t bad = 0;
            for (size_t i = 0; i < pt->count; i++) bad += param_g(ps, c.tensor[k])[i] != c.expect[k][i];
            cr_expect_eq(bad, 0, "%s kernels: %s: %zu of %zu elements differ", kernel_sets[ks]->isa, pt->name, bad,
                         pt->count);
        }
        for (int t = 0; t < ps->n; t++)
            if (ps->t[t].kind == PARAM_BIAS)
                for (size_t i = 0; i < ps->t[t].count; i++) cr_expect_eq(param_g(ps, t)[i], 0.5f, "%s", ps->t[t].name);
        keras_case_free(&c);
    }
}

/* The fused step on the same gradients: from w = 0, v = 0 each weight moves by
 * -lr*gc / sqrt((1-rho)*gc^2 + eps) of its known centralized gradient gc (0 stays 0); biases,
 * and under scope conv the dense kernels, by that of their raw gradient. */
Test(gc_known, fused_step_moves_each_weight_by_rmsprop_of_the_known_centralized_gradient)
{
    const double lr = 1e-3, rho = 0.9, eps = 1e-7;
    const gc_scope scopes[] = {GC_SCOPE_ALL, GC_SCOPE_CONV};
    const simd_kernels *kernel_sets[] = {simd_kernels_scalar(), simd_best()};
    for (int s = 0; s < 2; s++)
        for (int ks = 0; ks < 2; ks++) {
            keras_case c = keras_case_make();
            param_store *ps = &c.n->params;
            memset(ps->w, 0, ps->total * sizeof(float));
            float *raw = snapshot(ps->g, ps->total);
            optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f}, .scope = scopes[s], .kernels = kernel_sets[ks]};
            cr_assert_eq(optimizer_prepare(&opt, ps), GC_OK);
            optimizer_step(&opt, ps);
            int k = 0;
            for (int t = 0; t < ps->n; t++) {
                const param_tensor *pt = &ps->t[t];
                bool centered = pt->kind == PARAM_CONV_KERNEL || (pt->kind == PARAM_DENSE_KERNEL && scopes[s] == GC_SCOPE_ALL);
                const float *gc = pt->kind == PARAM_BIAS ? NULL : c.expect[k++];
                size_t bad = 0, first = 0;
                double got_first = 0, want_first = 0;
                for (size_t i = 0; i < pt->count; i++) {
                    double g = centered ? gc[i] : raw[pt->offset + i];
                    double want = -lr * g / sqrt((1.0 - rho) * g * g + eps), got = param_w(ps, t)[i];
                    /* float arithmetic: five roundings of at most 2^-24 each */
                    if (fabs(got - want) > 5 * 0x1p-24 * fabs(want) && bad++ == 0) first = i, got_first = got, want_first = want;
                }
                cr_expect_eq(bad, 0, "scope %s, %s kernels: %s: %zu elements off (first %zu: %g, expected %g)",
                             gc_scope_name(scopes[s]), kernel_sets[ks]->isa, pt->name, bad, first, got_first, want_first);
            }
            free(raw);
            keras_case_free(&c);
        }
}
