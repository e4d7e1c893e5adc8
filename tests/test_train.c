/* The training loop on the seed model at its smallest input: it learns, it is deterministic,
 * and the two runs of a comparison differ only by GC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/loss.h"
#include "engine/net/model.h"
#include "engine/base/rng.h"
#include "engine/train/train.h"
#include "io/input/loader.h"
#include "io/input/synthetic.h"

#define SIZE 94

typedef struct {
    epoch_result epochs[8];
    int count;
    uint64_t checksum;
} recorded;

static void record_start(void *ctx, const char *run, gc_scope scope, uint64_t checksum)
{
    recorded *r = ctx;
    r->count = 0;
    r->checksum = checksum;
}

static void record_epoch(void *ctx, const epoch_result *e)
{
    recorded *r = ctx;
    cr_assert_lt(r->count, 8);
    r->epochs[r->count++] = *e;
}

static net *seed_model(int batch, size_t train, size_t val)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, SIZE, SIZE}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(model_build(model_find("seed"), n, true), GC_OK);
    int sizes[4], count = train_batch_sizes(batch, train, val, sizes);
    cr_assert_eq(net_plan(n, sizes, count), GC_OK, "%s", gc_error_message());
    return n;
}

/* Augmentation on, as gcbench trains by default. */
static train_config config(int epochs, int batch, float lr)
{
    return (train_config){.epochs = epochs, .batch = batch, .seed = 11, .augment = true,
                          .optimizer = optimizer_find("rmsprop"), .hp = {.lr = lr, .rho = 0.9f, .eps = 1e-7f}, .kernels = simd_kernels_scalar()};
}

Test(train, a_short_run_lowers_the_loss)
{
    dataset d = {0};
    cr_assert_eq(synthetic_dataset(&d, 1, 0, 32, SIZE), GC_OK);
    net *n = seed_model(32, d.count, d.count);
    train_config tc = config(30, 32, 1e-3f);
    tc.augment = false; /* fitting the 32 images themselves: the loss measured is on them */
    double before, after, acc;
    params_init(&n->params, tc.seed);
    cr_assert_eq(train_evaluate(n, &d, 32, &before, &acc), GC_OK);
    run_summary s;
    cr_assert_eq(train_run(n, &d, NULL, &tc, "baseline", GC_SCOPE_NONE, NULL, NULL, &s), GC_OK, "%s", gc_error_message());
    cr_assert_eq(train_evaluate(n, &d, 32, &after, &acc), GC_OK);
    /* What a correct engine does here, measured over data seeds 1-10 (weight seeds 11-20), 2
     * threads, scalar kernels: the loss starts at 0.688-0.694 and falls by 0.021 to 0.156
     * (median 0.056); 60 epochs would only move the worst case to 0.036. The same runs at
     * lr 1e-4 fall by 0.002-0.047: a single short run cannot tell a weaker learner, it can
     * tell one that does not learn. The bar is half the smallest drop measured. */
    cr_expect_lt(after, before - 0.01, "loss %.4f -> %.4f", before, after);
    net_destroy(n);
    dataset_free(&d);
}

/* Runs one training run and returns its epoch records. */
static recorded run_once(net *n, const dataset *train, const dataset *val, const train_config *tc, gc_scope scope)
{
    recorded r = {0};
    train_observer obs = {.ctx = &r, .run_start = record_start, .epoch_end = record_epoch};
    run_summary s;
    int rc = train_run(n, train, val, tc, scope == GC_SCOPE_NONE ? "baseline" : "gc", scope, &obs, NULL, &s);
    cr_assert_eq(rc, GC_OK, "%s", gc_error_message());
    return r;
}

static void expect_same_metrics(const recorded *a, const recorded *b)
{
    cr_assert_eq(a->count, b->count);
    for (int e = 0; e < a->count; e++) {
        cr_expect_eq(a->epochs[e].loss, b->epochs[e].loss, "epoch %d loss", e + 1);
        cr_expect_eq(a->epochs[e].accuracy, b->epochs[e].accuracy, "epoch %d accuracy", e + 1);
        cr_expect_eq(a->epochs[e].val_loss, b->epochs[e].val_loss, "epoch %d val_loss", e + 1);
        cr_expect_eq(a->epochs[e].val_accuracy, b->epochs[e].val_accuracy, "epoch %d val_accuracy", e + 1);
    }
}

Test(train, same_seed_same_threads_same_results)
{
    dataset train = {0}, val = {0};
    cr_assert_eq(synthetic_dataset(&train, 2, 0, 40, SIZE), GC_OK); /* 16 + 16 + 8: a partial batch */
    cr_assert_eq(synthetic_dataset(&val, 2, SYNTHETIC_VAL_BASE, 20, SIZE), GC_OK);
    net *n = seed_model(16, train.count, val.count);
    train_config tc = config(2, 16, 1e-3f);
    for (int s = 0; s < 2; s++) {
        gc_scope scope = s ? GC_SCOPE_ALL : GC_SCOPE_NONE;
        recorded a = run_once(n, &train, &val, &tc, scope);
        recorded b = run_once(n, &train, &val, &tc, scope);
        cr_expect_eq(a.checksum, b.checksum);
        expect_same_metrics(&a, &b);
    }
    net_destroy(n);
    dataset_free(&train);
    dataset_free(&val);
}

Test(train, baseline_and_gc_runs_differ_only_by_gc)
{
    /* One batch per epoch: the first epoch's training loss is measured before any update, so
     * identical weights, data and dropout masks give identical values in both runs. */
    dataset train = {0}, val = {0};
    cr_assert_eq(synthetic_dataset(&train, 3, 0, 16, SIZE), GC_OK);
    cr_assert_eq(synthetic_dataset(&val, 3, SYNTHETIC_VAL_BASE, 16, SIZE), GC_OK);
    net *n = seed_model(16, train.count, val.count);
    train_config tc = config(3, 16, 1e-3f);
    recorded base = run_once(n, &train, &val, &tc, GC_SCOPE_NONE);
    float *w_base = malloc(n->params.total * sizeof(float));
    cr_assert(w_base);
    memcpy(w_base, n->params.w, n->params.total * sizeof(float));
    recorded gc = run_once(n, &train, &val, &tc, GC_SCOPE_ALL);

    cr_expect_eq(base.checksum, gc.checksum, "identical initial weights");
    cr_expect_eq(base.epochs[0].loss, gc.epochs[0].loss, "identical first forward pass");
    cr_expect_eq(base.epochs[0].accuracy, gc.epochs[0].accuracy);
    cr_expect_neq(base.epochs[2].loss, gc.epochs[2].loss, "GC changes training");
    cr_expect(memcmp(w_base, n->params.w, n->params.total * sizeof(float)) != 0, "GC changes the weights");
    free(w_base);
    net_destroy(n);
    dataset_free(&train);
    dataset_free(&val);
}

Test(train, batch_sizes_cover_full_and_partial_batches)
{
    int s[4];
    cr_assert_eq(train_batch_sizes(128, 1027, 256, s), 2); /* 1027 = 8*128 + 3; 256 = 2*128 */
    cr_expect_eq(s[0], 128);
    cr_expect_eq(s[1], 3);
    cr_assert_eq(train_batch_sizes(128, 100, 300, s), 3); /* 100 < batch; 300 = 2*128 + 44 */
    cr_expect_eq(s[0], 100);
    cr_expect_eq(s[1], 128);
    cr_expect_eq(s[2], 44);
    cr_assert_eq(train_batch_sizes(16, 16, 0, s), 1);
    cr_expect_eq(s[0], 16);
}

Test(train, unplanned_batch_size_is_an_error)
{
    dataset train = {0};
    cr_assert_eq(synthetic_dataset(&train, 4, 0, 10, SIZE), GC_OK);
    net *n = seed_model(8, 16, 0); /* planned for 8 only; 10 images need 8 and 2 */
    train_config tc = config(1, 8, 1e-3f);
    run_summary s;
    gc_error_clear();
    cr_expect_eq(train_run(n, &train, NULL, &tc, "baseline", GC_SCOPE_NONE, NULL, NULL, &s), GC_ERUNTIME);
    cr_expect(strstr(gc_error_message(), "batch size 2") != NULL, "%s", gc_error_message());
    gc_error_clear();
    net_destroy(n);
    dataset_free(&train);
}

Test(model, seed_cnn_has_the_keras_parameter_count_at_300)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 300, 300}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(model_build(model_find("seed"), n, true), GC_OK);
    cr_expect_eq(n->params.count, 1704097);
    size_t expect[] = {448, 4640, 18496, 36928, 36928, 1606144, 513};
    int k = 0;
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        if (l->param_w < 0) continue;
        cr_expect_eq(n->params.t[l->param_w].count + n->params.t[l->param_b].count, expect[k], "%s", l->name);
        k++;
    }
    cr_expect_eq(k, 7);
    act_shape out = n->layers[n->nlayers - 3].in; /* the dense layer's input */
    cr_expect_eq(out.c, 7 * 7 * 64);
    net_destroy(n);
}

Test(model, smallest_input_is_94)
{
    cr_expect_eq(model_min_size(model_find("seed")), 94);
    cr_expect_eq(model_find("seed")->final_side(93), 0);
    cr_expect_eq(model_find("seed")->final_side(94), 1);
    cr_expect_eq(model_find("seed")->final_side(300), 7);
}

/* ---- Epoch metrics weight every image once. ---- */

/* A network without dropout, so a training pass with lr 0 sees what evaluation sees: conv,
 * pool, dense to one logit, on 12x12 images. */
static net *plain_model(const int *sizes, int count)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 12, 12}, dnnl_nchw), GC_OK);
    cr_assert_eq(net_add_conv(n, 4, 3, true), GC_OK);
    cr_assert_eq(net_add_pool(n, 2), GC_OK);
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    n->loss = &loss_binary_crossentropy; /* what model_build gives a model's network */
    cr_assert_eq(net_plan(n, sizes, count), GC_OK, "%s", gc_error_message());
    return n;
}

/* -log(sigmoid(z)) or -log(1 - sigmoid(z)): softplus of minus the signed margin. */
static double image_loss(double z, int y)
{
    double m = y ? z : -z;
    return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
}

/* 11 images in batches of 4: 4 + 4 + 3. Training with lr 0 (the weights never move) and
 * validation on the same images must both report the mean over the 11 images of each
 * image's loss, computed here one image at a time, with its own conversion of the pixels:
 * the last batch weighs 3/11, not 1/3 (a mean of batch means) or 3/4 (a full batch). */
Test(train, epoch_metrics_weight_every_image_once)
{
    dataset d = {0};
    cr_assert_eq(synthetic_dataset(&d, 6, 0, 11, 12), GC_OK);
    int sizes[4] = {4, 3, 1}, count = 3; /* 1: for the images one at a time */
    net *n = plain_model(sizes, count);
    params_init(&n->params, 3);
    /* A bias that puts the logits near +2: images of class 0 cost ~2, of class 1 ~0.1, so
     * batches of different make-up have clearly different means. */
    param_w(&n->params, n->params.n - 1)[0] = 2.0f;

    double loss[11], sum = 0.0;
    size_t correct = 0, pixels = 12 * 12;
    for (size_t i = 0; i < d.count; i++) {
        const uint8_t *img = dataset_image(&d, i);
        float *x = net_input(n);
        for (size_t c = 0; c < 3; c++)
            for (size_t p = 0; p < pixels; p++) x[c * pixels + p] = (float)img[p * 3 + c] / 255.0f;
        pass_ctx p = {.variant = net_variant(n, 1), .batch = 1, .training = false};
        cr_assert_eq(net_forward(n, &p), GC_OK);
        double z = net_output(n)[0];
        cr_assert_gt(fabs(z), 1e-3, "image %zu sits at the threshold: its accuracy would be fragile", i);
        loss[i] = image_loss(z, d.labels[i]);
        sum += loss[i];
        correct += (z > 0) == (d.labels[i] != 0);
    }
    double mean = sum / 11.0, accuracy = (double)correct / 11.0;

    /* The wrong weightings, from the order the loader shuffles the images into. */
    loader ld;
    cr_assert_eq(loader_init(&ld, &d, 4, true, false, true, 17), GC_OK);
    double batch_means = 0.0, as_full = 0.0;
    for (int b = 0; b < 3; b++) {
        double s = 0.0;
        int size = b < 2 ? 4 : 3;
        for (int k = 0; k < size; k++) s += loss[ld.order[4 * b + k]];
        batch_means += s / size / 3.0;
        as_full += s / 12.0;
    }
    loader_free(&ld);
    /* Batch of 4 against batch of 1: float rounding of the logits, ~1e-6 of them, times the
     * loss's slope (at most 1) */
    const double tol = 1e-5;
    cr_assert_gt(fabs(batch_means - mean), 100 * tol, "this set cannot tell a mean of batch means");
    cr_assert_gt(fabs(as_full - mean), 100 * tol);

    train_config tc = config(1, 4, 0.0f);
    tc.seed = 17;
    tc.augment = false;
    double ips[1] = {0};
    train_state start = {.ips = ips, .init_checksum = params_checksum(&n->params)};
    recorded r = {0};
    train_observer obs = {.ctx = &r, .run_start = record_start, .epoch_end = record_epoch};
    run_summary s;
    cr_assert_eq(train_run(n, &d, &d, &tc, "baseline", GC_SCOPE_NONE, &obs, &start, &s), GC_OK, "%s",
                 gc_error_message());
    cr_assert_eq(r.count, 1);
    cr_expect(fabs(r.epochs[0].loss - mean) <= tol, "training loss %.9f, per-image mean %.9f (mean of batch means %.9f)",
              r.epochs[0].loss, mean, batch_means);
    cr_expect(fabs(r.epochs[0].val_loss - mean) <= tol, "validation loss %.9f, per-image mean %.9f", r.epochs[0].val_loss,
              mean);
    cr_expect_eq(r.epochs[0].accuracy, accuracy, "training accuracy");
    cr_expect_eq(r.epochs[0].val_accuracy, accuracy, "validation accuracy");
    net_destroy(n);
    dataset_free(&d);
}

/* ---- One step of the real training path equals GC, then the closed-form RMSprop. ---- */

/* One epoch of one batch: the batch the loader makes (shuffled, augmented), its gradient
 * computed here through the same network with the step's dropout key, then centralized and
 * RMSprop-stepped in double by this test. */
Test(train, one_step_is_centralize_then_the_closed_form_rmsprop)
{
    const double lr = 1e-3, rho = 0.9, eps = 1e-7;
    const gc_scope scopes[] = {GC_SCOPE_NONE, GC_SCOPE_ALL, GC_SCOPE_CONV};
    dataset d = {0};
    cr_assert_eq(synthetic_dataset(&d, 8, 0, 8, SIZE), GC_OK);
    net *n = seed_model(8, d.count, 0);
    param_store *ps = &n->params;
    train_config tc = config(1, 8, (float)lr);
    tc.kernels = simd_best();
    float *w0 = malloc(ps->total * sizeof(float)), *g = malloc(ps->total * sizeof(float));
    uint8_t labels[8];
    cr_assert(w0 && g);

    /* The step's gradient, computed outside the training loop. */
    params_init(ps, tc.seed);
    memcpy(w0, ps->w, ps->total * sizeof(float));
    loader ld;
    cr_assert_eq(loader_init(&ld, &d, 8, true, true, n->input_tag == dnnl_nchw, tc.seed), GC_OK);
    cr_assert_eq(loader_fill(&ld, 0, net_input(n), labels), 8);
    loader_free(&ld);
    pass_ctx p = {.variant = net_variant(n, 8), .batch = 8, .training = true,
                  .noise_key = rng_key(tc.seed, RNG_STREAM_DROPOUT, 0, 0)};
    cr_assert_eq(net_forward(n, &p), GC_OK);
    bce_with_logits(net_output(n), labels, 8, 8, net_output_grad(n));
    cr_assert_eq(net_backward(n, &p), GC_OK);
    memcpy(g, ps->g, ps->total * sizeof(float));

    for (int s = 0; s < 3; s++) {
        run_summary sum;
        cr_assert_eq(train_run(n, &d, NULL, &tc, "gc", scopes[s], NULL, NULL, &sum), GC_OK, "%s", gc_error_message());
        cr_assert(memcmp(ps->g, g, ps->total * sizeof(float)) == 0, "the step's gradient is the one computed here");
        for (int t = 0; t < ps->n; t++) {
            const param_tensor *pt = &ps->t[t];
            bool centered = pt->rank > 1 && (scopes[s] == GC_SCOPE_ALL || (scopes[s] == GC_SCOPE_CONV && pt->rank == 4));
            size_t bad = 0, first = 0;
            double want_first = 0;
            for (size_t r = 0; r < pt->rows; r++) {
                const float *gr = g + pt->offset + r * pt->cols;
                double mean = 0.0;
                if (centered) {
                    for (size_t c = 0; c < pt->cols; c++) mean += gr[c];
                    mean /= (double)pt->cols;
                }
                for (size_t c = 0; c < pt->cols; c++) {
                    size_t i = pt->offset + r * pt->cols + c;
                    double gc = gr[c] - mean, delta = lr * gc / sqrt((1.0 - rho) * gc * gc + eps);
                    double want = w0[i] - delta;
                    /* float: the centered gradient to 2 roundings of |g| + |mean|, which moves the
                     * step by at most lr/sqrt(eps) times that; the step itself to 5 roundings;
                     * the weight to half an ulp */
                    double tol = lr / sqrt(eps) * 2 * 0x1p-24 * (fabs(gr[c]) + fabs(mean)) + 5 * 0x1p-24 * fabs(delta) +
                                 0x1p-24 * fabs(want);
                    if (fabs(ps->w[i] - want) > tol && bad++ == 0) first = i, want_first = want;
                }
            }
            cr_expect_eq(bad, 0, "scope %s: %s: %zu of %zu weights off (first %zu: %.9g, expected %.9g)",
                         gc_scope_name(scopes[s]), pt->name, bad, pt->count, first, (double)ps->w[first], want_first);
        }
    }
    free(w0);
    free(g);
    net_destroy(n);
    dataset_free(&d);
}

/* Two steps of one epoch replayed outside the loop: the loader's batches in order, each with
 * its own dropout masks (keyed by epoch and step), the update between them. The last step's
 * gradient and the final weights must be the loop's bit for bit: same kernels, same threads. */
Test(train, two_steps_replayed_give_the_loops_gradient_and_weights)
{
    dataset d = {0};
    cr_assert_eq(synthetic_dataset(&d, 9, 0, 8, SIZE), GC_OK);
    net *n = seed_model(4, d.count, 0);
    param_store *ps = &n->params;
    train_config tc = config(1, 4, 1e-3f);
    optimizer opt = {.desc = tc.optimizer, .hp = tc.hp, .scope = GC_SCOPE_ALL, .kernels = tc.kernels};
    cr_assert_eq(optimizer_prepare(&opt, ps), GC_OK);
    float *w = malloc(ps->total * sizeof(float)), *g = malloc(ps->total * sizeof(float));
    uint8_t labels[4];
    cr_assert(w && g);

    params_init(ps, tc.seed);
    loader ld;
    cr_assert_eq(loader_init(&ld, &d, 4, true, true, n->input_tag == dnnl_nchw, tc.seed), GC_OK);
    for (int step = 0; step < 2; step++) {
        cr_assert_eq(loader_fill(&ld, step, net_input(n), labels), 4);
        pass_ctx p = {.variant = net_variant(n, 4), .batch = 4, .training = true,
                      .noise_key = rng_key(tc.seed, RNG_STREAM_DROPOUT, 0, (uint64_t)step)};
        cr_assert_eq(net_forward(n, &p), GC_OK);
        bce_with_logits(net_output(n), labels, 4, 4, net_output_grad(n));
        cr_assert_eq(net_backward(n, &p), GC_OK);
        optimizer_step(&opt, ps);
    }
    loader_free(&ld);
    memcpy(w, ps->w, ps->total * sizeof(float));
    memcpy(g, ps->g, ps->total * sizeof(float));

    run_summary s;
    cr_assert_eq(train_run(n, &d, NULL, &tc, "gc", GC_SCOPE_ALL, NULL, NULL, &s), GC_OK, "%s", gc_error_message());
    cr_expect(memcmp(ps->g, g, ps->total * sizeof(float)) == 0, "the second step's gradient");
    cr_expect(memcmp(ps->w, w, ps->total * sizeof(float)) == 0, "the weights after two steps");
    free(w);
    free(g);
    net_destroy(n);
    dataset_free(&d);
}

static void record_profile(void *ctx, const epoch_result *e)
{
    cr_assert_not_null(e->profile);
    *(epoch_profile *)ctx = *e->profile;
}

/* --profile: every layer's time and the part of it in gcbench's own kernels, each where it
 * belongs. The own part is timed inside the layer's own window, so it can never exceed it; a
 * fused conv+pool layer has both parts; a layer made only of gcbench's kernels (dropout) is
 * own as a whole, one made only of oneDNN primitives (dense, flatten) not at all. */
Test(train, the_profile_splits_each_layer_into_own_kernels_and_onednn)
{
    dataset d = {0};
    cr_assert_eq(synthetic_dataset(&d, 1, 0, 16, SIZE), GC_OK);
    net *n = seed_model(8, d.count, 0);
    train_config tc = config(1, 8, 1e-3f);
    tc.profile = true;
    params_init(&n->params, tc.seed);
    epoch_profile p = {0};
    train_observer obs = {.ctx = &p, .epoch_end = record_profile};
    run_summary s;
    cr_assert_eq(train_run(n, &d, NULL, &tc, "baseline", GC_SCOPE_NONE, &obs, NULL, &s), GC_OK, "%s",
                 gc_error_message());
    cr_assert_eq(p.steps, 2);
    double phases = p.data_wait + p.loss + p.optimizer;
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        phases += p.forward[i] + p.backward[i];
        cr_expect_leq(p.own_forward[i], p.forward[i], "%s forward", l->name);
        cr_expect_leq(p.own_backward[i], p.backward[i], "%s backward", l->name);
        if (l->kind == LAYER_CONV_POOL) {
            cr_expect_gt(p.own_forward[i], 0.0, "%s: its pooling forward", l->name);
            cr_expect_gt(p.own_backward[i], 0.0, "%s: its pooling backward", l->name);
        } else if (l->ops->own_kernels) {
            cr_expect_eq(p.own_forward[i], p.forward[i], "%s forward", l->name);
            cr_expect_eq(p.own_backward[i], p.backward[i], "%s backward", l->name);
        } else {
            cr_expect_eq(p.own_forward[i], 0.0, "%s forward", l->name);
            cr_expect_eq(p.own_backward[i], 0.0, "%s backward", l->name);
        }
    }
    cr_expect_leq(phases, p.step_total, "the phases are parts of the steps");
    net_destroy(n);
    dataset_free(&d);
}
