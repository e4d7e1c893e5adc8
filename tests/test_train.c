/* The training loop on the seed model at its smallest input: it learns, it is deterministic,
 * and the two runs of a comparison differ only by GC. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/train/train.h"
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
