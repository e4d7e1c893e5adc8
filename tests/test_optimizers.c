/* Every optimizer (SGD with and without momentum and Nesterov, RMSprop, Adam, AdamW, Adagrad)
 * through optimizer_step: several steps against its Keras 3 closed form computed here in
 * double (bias correction, Nesterov, weight decay in both forms, GC on the gradient and on
 * the update); the thread split at the model's real tensor sizes against the single-threaded
 * scalar reference, bit for bit; GC's invariant for both --gc-on modes; the state through a
 * checkpoint and back, exactly. (Vectorized against scalar per ISA, with tails and misaligned
 * arrays: test_simd's fused_update_every_rule.) */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/base/rng.h"
#include "engine/optim/optimizer.h"
#include "engine/train/train_checkpoint.h"

/* One configuration under test. */
typedef struct {
    const char *label;
    const char *name; /* optimizer_find */
    opt_hparams hp;
    bool gc_on_update;
} opt_case;

static opt_case make_case(const char *label, const char *name)
{
    const optimizer_desc *d = optimizer_find(name);
    cr_assert(d, "optimizer %s exists", name);
    return (opt_case){.label = label, .name = name, .hp = d->defaults};
}

/* The configurations: every optimizer at its defaults and the variants. */
static size_t all_cases(opt_case *c)
{
    size_t n = 0;
    c[n++] = make_case("sgd", "sgd");
    c[n] = make_case("sgd momentum", "sgd"), c[n++].hp.momentum = 0.9;
    c[n] = make_case("sgd nesterov", "sgd"), c[n].hp.momentum = 0.9, c[n++].hp.nesterov = true;
    c[n] = make_case("sgd momentum coupled wd", "sgd"), c[n].hp.momentum = 0.9, c[n].hp.weight_decay = 1e-2,
    c[n++].hp.wd_coupled = true;
    c[n++] = make_case("rmsprop", "rmsprop");
    c[n] = make_case("rmsprop decoupled wd", "rmsprop"), c[n++].hp.weight_decay = 0.05;
    c[n++] = make_case("adam", "adam");
    c[n++] = make_case("adamw", "adamw");
    c[n] = make_case("adam coupled wd", "adam"), c[n].hp.weight_decay = 1e-2, c[n++].hp.wd_coupled = true;
    c[n++] = make_case("adagrad", "adagrad");
    size_t base = n;
    for (size_t i = 0; i < base; i++) { /* each again with GC on the update */
        c[n] = c[i];
        c[n++].gc_on_update = true;
    }
    return n;
}
#define MAX_CASES 32

/* ---- the closed forms, in double ---- */

/* One tensor's state in double: w and the two slots. */
typedef struct {
    double *w, *s0, *s1;
} dstate;

/* Keras 3's update of one tensor (rows x cols, row-major) in double; centered: GC on its rows
 * (of the gradient, or of the step with gc_on_update). t: the step, from 1. */
static void closed_form(const opt_case *c, dstate *d, const float *gf, size_t rows, size_t cols, bool centered,
                        uint64_t t)
{
    const opt_hparams *h = &c->hp;
    bool coupled = h->weight_decay != 0.0 && h->wd_coupled, decoupled = h->weight_decay != 0.0 && !h->wd_coupled;
    bool on_grad = centered && !c->gc_on_update, on_step = centered && c->gc_on_update;
    double *g = malloc(cols * sizeof *g), *step = malloc(cols * sizeof *step);
    cr_assert(g && step);
    for (size_t r = 0; r < rows; r++) {
        double *w = d->w + r * cols, *s0 = d->s0 + r * cols, *s1 = d->s1 + r * cols, mean = 0.0;
        for (size_t i = 0; i < cols; i++) g[i] = gf[r * cols + i] + (coupled ? h->weight_decay * w[i] : 0.0);
        if (on_grad) {
            for (size_t i = 0; i < cols; i++) mean += g[i] / (double)cols;
            for (size_t i = 0; i < cols; i++) g[i] -= mean;
        }
        for (size_t i = 0; i < cols; i++) {
            if (strcmp(c->name, "sgd") == 0 && h->momentum == 0.0) {
                step[i] = -h->lr * g[i];
            } else if (strcmp(c->name, "sgd") == 0) {
                s0[i] = h->momentum * s0[i] - h->lr * g[i];
                step[i] = h->nesterov ? h->momentum * s0[i] - h->lr * g[i] : s0[i];
            } else if (strcmp(c->name, "rmsprop") == 0) {
                s0[i] = h->rho * s0[i] + (1.0 - h->rho) * g[i] * g[i];
                step[i] = -h->lr * g[i] / sqrt(s0[i] + h->eps);
            } else if (strcmp(c->name, "adagrad") == 0) {
                s0[i] += g[i] * g[i];
                step[i] = -h->lr * g[i] / sqrt(s0[i] + h->eps);
            } else { /* adam, adamw: Keras's alpha and epsilon on sqrt(v) */
                double alpha = h->lr * sqrt(1.0 - pow(h->beta2, (double)t)) / (1.0 - pow(h->beta1, (double)t));
                s0[i] = h->beta1 * s0[i] + (1.0 - h->beta1) * g[i];
                s1[i] = h->beta2 * s1[i] + (1.0 - h->beta2) * g[i] * g[i];
                step[i] = -alpha * s0[i] / (sqrt(s1[i]) + h->eps);
            }
        }
        if (on_step) {
            double smean = 0.0;
            for (size_t i = 0; i < cols; i++) smean += step[i] / (double)cols;
            for (size_t i = 0; i < cols; i++) step[i] -= smean;
        }
        for (size_t i = 0; i < cols; i++) {
            if (decoupled) w[i] -= w[i] * h->weight_decay * h->lr;
            w[i] += step[i];
        }
    }
    free(g);
    free(step);
}

/* A small store: a conv kernel 6 x (3*3*3), its bias, a dense kernel 5 x 37 (odd rows, a
 * tail in every vector width). */
static void make_small_store(param_store *ps, int nslots)
{
    memset(ps, 0, sizeof *ps);
    long ck[4] = {6, 3, 3, 3}, cb[1] = {6}, dk[2] = {5, 37};
    int idx;
    cr_assert_eq(params_add(ps, "conv/kernel", PARAM_CONV_KERNEL, 4, ck, &idx), GC_OK);
    cr_assert_eq(params_add(ps, "conv/bias", PARAM_BIAS, 1, cb, &idx), GC_OK);
    cr_assert_eq(params_add(ps, "dense/kernel", PARAM_DENSE_KERNEL, 2, dk, &idx), GC_OK);
    cr_assert_eq(params_alloc(ps), GC_OK);
    cr_assert_eq(params_alloc_state(ps, nslots), GC_OK);
    params_init(ps, 11);
}

/* Gradients of a step: a per-row offset (GC has a mean to remove), some small values. */
static void fill_gradients(param_store *ps, int step)
{
    for (int t = 0; t < ps->n; t++) {
        float *g = param_g(ps, t);
        uint64_t key = rng_key(33, (uint64_t)step, (uint64_t)t, 0);
        for (size_t k = 0; k < ps->t[t].count; k++)
            g[k] = rng_range(key, k, -1.0f, 1.0f) * (k % 11 == 3 ? 1e-3f : 1e-1f) +
                   2e-2f * (float)((k / ps->t[t].cols) % 4) - 3e-2f;
    }
}

static void expect_close(const char *label, const char *what, int step, size_t i, double got, double want, double tol)
{
    cr_expect(fabs(got - want) <= tol, "%s, step %d: %s[%zu] = %.9g, closed form %.9g (tolerance %.3g)", label, step, what,
              i, got, want, tol);
}

Test(optimizers, several_steps_match_the_keras_closed_form)
{
    opt_case cases[MAX_CASES];
    size_t ncases = all_cases(cases);
    const gc_scope scopes[] = {GC_SCOPE_NONE, GC_SCOPE_ALL};
    for (size_t ci = 0; ci < ncases; ci++)
        for (int sc = 0; sc < 2; sc++) {
            const opt_case *c = &cases[ci];
            optimizer opt = {.desc = optimizer_find(c->name), .hp = c->hp, .scope = scopes[sc],
                             .gc_on_update = c->gc_on_update, .kernels = simd_best()};
            param_store ps;
            make_small_store(&ps, opt.desc->nslots);
            cr_assert_eq(optimizer_prepare(&opt, &ps), GC_OK);
            size_t n = ps.total;
            dstate d = {calloc(n, sizeof(double)), calloc(n, sizeof(double)), calloc(n, sizeof(double))};
            cr_assert(d.w && d.s0 && d.s1);
            for (size_t i = 0; i < n; i++) {
                d.w[i] = ps.w[i];
                d.s0[i] = opt.desc->nslots > 0 ? ps.state[0][i] : 0.0;
            }
            if (strcmp(c->name, "adagrad") == 0) cr_expect_eq(ps.state[0][0], (float)c->hp.initial_accumulator);
            for (int step = 1; step <= 4; step++) {
                fill_gradients(&ps, step);
                optimizer_step(&opt, &ps);
                for (int t = 0; t < ps.n; t++) {
                    const param_tensor *pt = &ps.t[t];
                    dstate dt = {d.w + pt->offset, d.s0 + pt->offset, d.s1 + pt->offset};
                    closed_form(c, &dt, param_g(&ps, t), pt->rows, pt->cols, gc_applies(opt.scope, pt), (uint64_t)step);
                    for (size_t i = 0; i < pt->count; i++) {
                        size_t k = pt->offset + i;
                        /* float rounding of w (a few ulp per step) and of the step (relative) */
                        expect_close(c->label, pt->name, step, i, ps.w[k], d.w[k], 2e-6 * fabs(d.w[k]) + 1e-4 * c->hp.lr);
                        if (opt.desc->nslots > 0 && !(strcmp(c->name, "sgd") == 0 && c->hp.momentum == 0.0))
                            expect_close(c->label, "slot 0", step, i, ps.state[0][k], d.s0[k], 1e-5 * fabs(d.s0[k]) + 1e-8);
                        if (opt.desc->nslots > 1)
                            expect_close(c->label, "slot 1", step, i, ps.state[1][k], d.s1[k], 1e-5 * fabs(d.s1[k]) + 1e-15);
                    }
                }
            }
            cr_expect_eq(ps.updates, 4);
            free(d.w), free(d.s0), free(d.s1);
            params_free(&ps);
        }
}

/* Adam's first step moves every weight by about lr (the bias correction undoes the moments'
 * zero start): a missing correction moves it by lr*sqrt(1-beta_2)/(1-beta_1) ~ 0.32 lr. */
Test(optimizers, adam_first_step_moves_by_lr)
{
    param_store ps;
    make_small_store(&ps, 2);
    optimizer opt = {.desc = optimizer_find("adam"), .hp = optimizer_find("adam")->defaults, .scope = GC_SCOPE_NONE,
                     .kernels = simd_best()};
    cr_assert_eq(optimizer_prepare(&opt, &ps), GC_OK);
    fill_gradients(&ps, 1);
    float *w0 = malloc(ps.total * sizeof *w0);
    cr_assert(w0);
    memcpy(w0, ps.w, ps.total * sizeof *w0);
    optimizer_step(&opt, &ps);
    for (int t = 0; t < ps.n; t++)
        for (size_t i = 0; i < ps.t[t].count; i++) {
            size_t k = ps.t[t].offset + i;
            if (fabsf(ps.g[k]) < 1e-2f) continue; /* epsilon matters there */
            double moved = fabs((double)ps.w[k] - w0[k]);
            cr_expect(fabs(moved - 1e-3) < 2e-5, "%s[%zu] moved %g, expected about lr = 1e-3", ps.t[t].name, i, moved);
        }
    free(w0);
    params_free(&ps);
}

/* ---- GC's invariant, both modes ---- */

/* Row sums of a - b within what float rounding allows: each difference of two floats is
 * exact in double, and each weight was rounded once per step to half an ulp, so
 * |sum| <= sum(|a| + |b|) * 2^-23 (with room for the mean's own float rounding). */
static void expect_rows_sum_to_zero(const char *label, const char *mode, const param_tensor *pt, const float *a,
                                    const float *b)
{
    for (size_t r = 0; r < pt->rows; r++) {
        double sum = 0.0, mag = 0.0;
        for (size_t c = 0; c < pt->cols; c++) {
            size_t i = r * pt->cols + c;
            sum += (double)a[i] - (double)b[i];
            mag += fabs(a[i]) + fabs(b[i]);
        }
        cr_expect(fabs(sum) <= mag * 0x1p-22, "%s, gc on %s: %s row %zu sums to %g (allowed %g)", label, mode, pt->name, r,
                  sum, mag * 0x1p-22);
    }
}

/* GC on the update: every centralized row's weight change has mean 0, whatever the optimizer.
 * GC on the gradient: the state linear in the gradient (momentum, Adam's m) has mean 0 per
 * row, and so does plain SGD's weight change. Biases are left alone either way. */
Test(optimizers, gc_rows_have_zero_mean_in_both_modes)
{
    opt_case cases[MAX_CASES];
    size_t ncases = all_cases(cases);
    for (size_t ci = 0; ci < ncases; ci++) {
        const opt_case *c = &cases[ci];
        if (c->hp.weight_decay != 0.0) continue; /* decay is not centralized (decoupled) or moves the mean (coupled) */
        optimizer opt = {.desc = optimizer_find(c->name), .hp = c->hp, .scope = GC_SCOPE_ALL,
                         .gc_on_update = c->gc_on_update, .kernels = simd_best()};
        param_store ps;
        make_small_store(&ps, opt.desc->nslots);
        cr_assert_eq(optimizer_prepare(&opt, &ps), GC_OK);
        float *w0 = malloc(ps.total * sizeof *w0), *zero = calloc(ps.total, sizeof *zero);
        cr_assert(w0 && zero);
        for (int step = 1; step <= 3; step++) {
            fill_gradients(&ps, step);
            memcpy(w0, ps.w, ps.total * sizeof *w0);
            optimizer_step(&opt, &ps);
            for (int t = 0; t < ps.n; t++) {
                const param_tensor *pt = &ps.t[t];
                const float *w = param_w(&ps, t), *before = w0 + pt->offset;
                if (!gc_applies(opt.scope, pt)) {
                    bool moved_mean = false;
                    double sum = 0.0;
                    for (size_t i = 0; i < pt->count; i++) sum += (double)w[i] - before[i];
                    moved_mean = fabs(sum) > 1e-9;
                    cr_expect(moved_mean, "%s: the bias moved on average (it is not centralized)", c->label);
                    continue;
                }
                bool linear_state = strcmp(c->name, "adam") == 0 || strcmp(c->name, "adamw") == 0 ||
                                    (strcmp(c->name, "sgd") == 0 && c->hp.momentum > 0.0);
                if (c->gc_on_update || (strcmp(c->name, "sgd") == 0))
                    expect_rows_sum_to_zero(c->label, gc_on_name(c->gc_on_update), pt, w, before);
                if (!c->gc_on_update && linear_state)
                    expect_rows_sum_to_zero(c->label, "gradient (state)", pt, param_state(&ps, 0, t), zero);
            }
        }
        free(w0);
        free(zero);
        params_free(&ps);
    }
}

/* ---- the thread split at the model's real sizes ---- */

static void make_real_store(param_store *ps, int nslots)
{
    memset(ps, 0, sizeof *ps);
    static const struct {
        const char *name;
        param_kind kind;
        int rank;
        long dims[4];
    } shapes[] = {
        {"conv2d/kernel", PARAM_CONV_KERNEL, 4, {16, 3, 3, 3}},    {"conv2d/bias", PARAM_BIAS, 1, {16}},
        {"conv2d_3/kernel", PARAM_CONV_KERNEL, 4, {64, 64, 3, 3}}, {"dense/kernel", PARAM_DENSE_KERNEL, 2, {512, 3136}},
        {"dense/bias", PARAM_BIAS, 1, {512}},                      {"odd/kernel", PARAM_DENSE_KERNEL, 2, {37, 2003}},
        {"long/bias", PARAM_BIAS, 1, {70001}},                     {"dense_1/kernel", PARAM_DENSE_KERNEL, 2, {1, 512}},
    };
    int idx;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        cr_assert_eq(params_add(ps, shapes[s].name, shapes[s].kind, shapes[s].rank, shapes[s].dims, &idx), GC_OK);
    cr_assert_eq(params_alloc(ps), GC_OK);
    cr_assert_eq(params_alloc_state(ps, nslots), GC_OK);
    params_init(ps, 5);
}

/* The reference: the scalar kernels over each tensor whole, one thread. */
static void reference_step(const optimizer *opt, param_store *ps)
{
    ps->updates++;
    for (int t = 0; t < ps->n; t++) {
        const param_tensor *pt = &ps->t[t];
        float *slots[OPT_MAX_SLOTS] = {NULL};
        for (int s = 0; s < opt->desc->nslots; s++) slots[s] = param_state(ps, s, t);
        bool centered = gc_applies(opt->scope, pt);
        gc_mode gc = !centered ? GC_OFF : opt->gc_on_update ? GC_ON_UPDATE : GC_ON_GRADIENT;
        opt->desc->update(simd_kernels_scalar(), &opt->hp, ps->updates, param_w(ps, t), slots, param_g(ps, t),
                          centered ? pt->rows : 1, centered ? pt->cols : pt->count, gc);
    }
}

static void expect_same(const char *label, const char *what, int threads, const param_store *a, const float *x,
                        const float *y)
{
    for (int t = 0; t < a->n; t++) {
        const param_tensor *pt = &a->t[t];
        size_t bad = 0, first = 0;
        for (size_t k = 0; k < pt->count; k++)
            if (memcmp(&x[pt->offset + k], &y[pt->offset + k], sizeof(float)) != 0 && bad++ == 0) first = k;
        cr_expect_eq(bad, 0, "%s, %d threads: %s of %s differs at %zu elements (first %zu: %.9g vs %.9g)", label, threads,
                     what, pt->name, bad, first, (double)x[pt->offset + first], (double)y[pt->offset + first]);
    }
}

Test(optimizers, every_thread_count_gives_the_scalar_reference_at_real_sizes, .timeout = 240)
{
    opt_case cases[MAX_CASES];
    size_t ncases = all_cases(cases);
    const int thread_counts[] = {1, 2, 3};
    for (size_t ci = 0; ci < ncases; ci++) {
        const opt_case *c = &cases[ci];
        optimizer opt = {.desc = optimizer_find(c->name), .hp = c->hp, .scope = GC_SCOPE_ALL,
                         .gc_on_update = c->gc_on_update, .kernels = simd_best()};
        param_store got, ref;
        make_real_store(&got, opt.desc->nslots);
        make_real_store(&ref, opt.desc->nslots);
        for (int tc = 0; tc < 3; tc++) {
            params_init(&got, 5);
            params_init(&ref, 5);
            cr_assert_eq(optimizer_prepare(&opt, &got), GC_OK);
            cr_assert_eq(optimizer_prepare(&opt, &ref), GC_OK);
            omp_set_num_threads(thread_counts[tc]);
            for (int step = 0; step < 2; step++) {
                fill_gradients(&got, step);
                fill_gradients(&ref, step);
                optimizer_step(&opt, &got);
                reference_step(&opt, &ref);
            }
            expect_same(c->label, "w", thread_counts[tc], &got, got.w, ref.w);
            for (int s = 0; s < opt.desc->nslots; s++) expect_same(c->label, "state", thread_counts[tc], &got, got.state[s], ref.state[s]);
        }
        params_free(&got);
        params_free(&ref);
    }
    omp_set_num_threads(omp_get_num_procs());
}

/* ---- the state through a checkpoint ---- */

/* Steps 1-2, the store saved and loaded into a fresh one, steps 3-4: bit for bit the four
 * steps uninterrupted, for every optimizer (Adam's bias correction reads the restored step
 * count; Adagrad's accumulator must not be reset to its starting value). */
Test(optimizers, state_through_a_checkpoint_continues_exactly)
{
    opt_case cases[MAX_CASES];
    size_t ncases = all_cases(cases);
    for (size_t ci = 0; ci < ncases; ci++) {
        const opt_case *c = &cases[ci];
        optimizer opt = {.desc = optimizer_find(c->name), .hp = c->hp, .scope = GC_SCOPE_ALL,
                         .gc_on_update = c->gc_on_update, .kernels = simd_best()};
        param_store whole, first, resumed;
        make_small_store(&whole, opt.desc->nslots);
        make_small_store(&first, opt.desc->nslots);
        make_small_store(&resumed, 1);
        params_init(&resumed, 999); /* other weights: all must come from the checkpoint */
        cr_assert_eq(optimizer_prepare(&opt, &whole), GC_OK);
        cr_assert_eq(optimizer_prepare(&opt, &first), GC_OK);
        for (int step = 1; step <= 4; step++) {
            fill_gradients(&whole, step);
            optimizer_step(&opt, &whole);
        }
        for (int step = 1; step <= 2; step++) {
            fill_gradients(&first, step);
            optimizer_step(&opt, &first);
        }
        checkpoint_buffer b = {0};
        train_params_put(&b, &first, opt.desc);
        cr_assert_eq(checkpoint_buffer_check(&b), GC_OK);
        checkpoint_section sec = {.tag = 0, .size = b.size, .data = b.data};
        cr_assert_eq(train_params_get(&sec, "test.ckpt", &resumed, opt.desc), GC_OK, "%s: %s", c->label, gc_error_message());
        cr_assert_eq(optimizer_prepare(&opt, &resumed), GC_OK);
        for (int step = 3; step <= 4; step++) {
            fill_gradients(&resumed, step);
            optimizer_step(&opt, &resumed);
        }
        expect_same(c->label, "w after resuming", 0, &whole, resumed.w, whole.w);
        for (int s = 0; s < opt.desc->nslots; s++)
            expect_same(c->label, "state after resuming", 0, &whole, resumed.state[s], whole.state[s]);
        cr_expect_eq(resumed.updates, 4);
        /* another optimizer's checkpoint is refused, naming both */
        const optimizer_desc *other = optimizer_find(strcmp(c->name, "adagrad") == 0 ? "adam" : "adagrad");
        cr_expect_eq(train_params_get(&sec, "test.ckpt", &resumed, other), GC_EUSAGE);
        cr_expect(strstr(gc_error_message(), c->name) && strstr(gc_error_message(), other->name), "%s",
                  gc_error_message());
        gc_error_clear();
        checkpoint_buffer_free(&b);
        params_free(&whole);
        params_free(&first);
        params_free(&resumed);
    }
}

/* The scalar reference's RMSprop rule is the seed's own rmsprop and gc_rmsprop, bit for bit
 * (two references written apart agreeing). */
Test(optimizers, fused_update_rmsprop_is_the_seed_rmsprop)
{
    const simd_kernels *k = simd_kernels_scalar();
    enum { R = 7, C = 33, N = R * C };
    float g[N], w1[N], v1[N], w2[N], v2[N];
    for (int i = 0; i < N; i++) {
        g[i] = (float)sin(i * 0.7) * 0.1f + 0.02f * (float)(i / C);
        w1[i] = w2[i] = (float)cos(i * 0.3) * 0.1f;
        v1[i] = v2[i] = 0.0f;
    }
    const rmsprop_hparams rh = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f};
    const update_hparams uh = {.rule = RULE_RMSPROP, .lr = 1e-3f, .decay = 0.9f, .one_minus_decay = 1.0f - 0.9f, .eps = 1e-7f};
    for (int step = 0; step < 2; step++) {
        k->gc_rmsprop(w1, v1, g, R, C, &rh);
        k->fused_update(w2, v2, NULL, g, R, C, GC_ON_GRADIENT, &uh);
        k->rmsprop(w1, v1, g, N, &rh);
        k->fused_update(w2, v2, NULL, g, R, C, GC_OFF, &uh);
    }
    cr_expect(memcmp(w1, w2, sizeof w1) == 0 && memcmp(v1, v2, sizeof v1) == 0);
}
