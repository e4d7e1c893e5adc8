/* The batch loader: seeded shuffles, rescaling, layouts, partial batches. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/runtime/dist.h"
#include "engine/base/error.h"
#include "io/input/augment.h"
#include "io/input/loader.h"
#include "io/input/prefetch.h"
#include "io/input/synthetic.h"
#include "simd/bf16.h"

static dataset data;

static void setup(void) { cr_assert_eq(synthetic_dataset(&data, 9, 0, 37, 12), GC_OK); }
static void teardown(void) { dataset_free(&data); }

TestSuite(loader, .init = setup, .fini = teardown);

static int is_permutation(const size_t *order, size_t n)
{
    char *seen = calloc(n, 1);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (order[i] >= n || seen[order[i]]) ok = 0;
        else seen[order[i]] = 1;
    }
    free(seen);
    return ok;
}

Test(loader, shuffles_are_seeded_permutations_that_change_each_epoch)
{
    loader a, b;
    cr_assert_eq(loader_init(&a, &data, 8, true, false, true, 5), GC_OK);
    cr_assert_eq(loader_init(&b, &data, 8, true, false, true, 5), GC_OK);
    loader_start_epoch(&a, 3);
    loader_start_epoch(&b, 3);
    cr_expect(is_permutation(a.order, data.count));
    cr_expect(memcmp(a.order, b.order, data.count * sizeof(size_t)) == 0, "same seed and epoch: same order");
    loader_start_epoch(&b, 4);
    cr_expect(is_permutation(b.order, data.count));
    cr_expect(memcmp(a.order, b.order, data.count * sizeof(size_t)) != 0, "another epoch: another order");
    loader_free(&a);
    loader_free(&b);
}

Test(loader, without_shuffle_keeps_dataset_order)
{
    loader ld;
    cr_assert_eq(loader_init(&ld, &data, 8, false, false, true, 5), GC_OK);
    loader_start_epoch(&ld, 7);
    for (size_t i = 0; i < data.count; i++) cr_expect_eq(ld.order[i], i);
    loader_free(&ld);
}

Test(loader, last_batch_is_partial)
{
    loader ld;
    cr_assert_eq(loader_init(&ld, &data, 8, true, false, true, 5), GC_OK);
    cr_expect_eq(loader_batches(&ld), 5); /* 37 = 4*8 + 5 */
    cr_expect_eq(loader_batch_size(&ld, 0), 8);
    cr_expect_eq(loader_batch_size(&ld, 4), 5);
    loader_free(&ld);
}

Test(loader, fills_rescaled_pixels_in_both_layouts)
{
    loader ld, li;
    cr_assert_eq(loader_init(&ld, &data, 8, true, false, true, 5), GC_OK);
    cr_assert_eq(loader_init(&li, &data, 8, true, false, false, 5), GC_OK);
    loader_start_epoch(&ld, 1);
    loader_start_epoch(&li, 1);
    size_t px = 12 * 12, per = px * 3;
    float *planar = malloc(8 * per * sizeof(float)), *inter = malloc(8 * per * sizeof(float));
    uint8_t la[8], lb[8];
    cr_assert(planar && inter);
    int n = loader_fill(&ld, 4, planar, la);
    cr_assert_eq(loader_fill(&li, 4, inter, lb), n);
    cr_assert_eq(n, 5);
    for (int k = 0; k < n; k++) {
        size_t idx = ld.order[32 + (size_t)k];
        const uint8_t *src = dataset_image(&data, idx);
        cr_expect_eq(la[k], data.labels[idx]);
        cr_expect_eq(lb[k], data.labels[idx]);
        for (size_t p = 0; p < px; p++)
            for (size_t c = 0; c < 3; c++) {
                float expect = (float)src[p * 3 + c] / 255.0f;
                cr_expect_float_eq(planar[k * per + c * px + p], expect, 1e-7f);
                cr_expect_float_eq(inter[k * per + p * 3 + c], expect, 1e-7f);
            }
    }
    free(planar);
    free(inter);
    loader_free(&ld);
    loader_free(&li);
}

Test(loader, rejects_empty_batches)
{
    loader ld;
    gc_error_clear();
    cr_expect_eq(loader_init(&ld, &data, 0, true, false, true, 5), GC_EUSAGE);
    gc_error_clear();
}

static void delivers_in_order(int depth)
{
    loader ld;
    cr_assert_eq(loader_init(&ld, &data, 8, true, false, true, 5), GC_OK);
    prefetcher *p;
    cr_assert_eq(prefetch_start(&p, &ld, depth, 3, 0, 0), GC_OK);
    cr_assert_eq(prefetch_batches(p), 5);
    float *expect = malloc(loader_batch_bytes(&ld));
    uint8_t labels[8];
    cr_assert(expect);
    for (int e = 0; e < 3; e++) {
        loader_start_epoch(&ld, e);
        for (int s = 0; s < 5; s++) {
            void *in;
            uint8_t *lab;
            int size;
            double waited;
            cr_assert_eq(prefetch_next(p, e, s, &in, &lab, &size, &waited), GC_OK);
            int n = loader_fill(&ld, s, expect, labels);
            cr_assert_eq(size, n);
            cr_expect(memcmp(in, expect, (size_t)n * 12 * 12 * 3 * sizeof(float)) == 0, "epoch %d batch %d", e, s);
            cr_expect(memcmp(lab, labels, (size_t)n) == 0);
            cr_expect_geq(waited, 0.0);
        }
    }
    void *in;
    uint8_t *lab;
    int size;
    double waited;
    gc_error_clear();
    cr_expect_eq(prefetch_next(p, 3, 0, &in, &lab, &size, &waited), GC_ERUNTIME, "past the end");
    gc_error_clear();
    free(expect);
    prefetch_stop(p);
    loader_free(&ld);
}

Test(loader, prefetcher_delivers_the_loader_batches_in_order_across_epochs) { delivers_in_order(2); }

/* One buffer (validation's): each batch filled on demand, the same batches in the same order. */
Test(loader, single_buffer_prefetcher_delivers_the_same_batches) { delivers_in_order(1); }

/* Stopped after the first of 1000 batches, with the producer blocked waiting for a free buffer:
 * it must wake and exit (a deadlock fails on the time limit), and the batch handed out was
 * the loader's first. */
Test(loader, prefetcher_stops_cleanly_midway, .timeout = 20)
{
    loader ld;
    cr_assert_eq(loader_init(&ld, &data, 4, true, true, false, 5), GC_OK);
    prefetcher *p;
    cr_assert_eq(prefetch_start(&p, &ld, 2, 100, 0, 0), GC_OK);
    void *in;
    uint8_t *lab;
    int size;
    double waited;
    cr_assert_eq(prefetch_next(p, 0, 0, &in, &lab, &size, &waited), GC_OK);
    float expect[4 * 12 * 12 * 3];
    uint8_t labels[4];
    cr_assert_eq(loader_fill(&ld, 0, expect, labels), 4);
    cr_expect_eq(size, 4);
    cr_expect(memcmp(in, expect, sizeof expect) == 0, "the first batch");
    cr_expect(memcmp(lab, labels, sizeof labels) == 0);
    prefetch_stop(p);
    loader_free(&ld);
}

Test(loader, augmentation_is_keyed_by_seed_epoch_and_image)
{
    /* The same image in two epochs is warped differently; the same epoch twice identically;
     * and a batch equals warping each of its images on its own. */
    loader ld;
    cr_assert_eq(loader_init(&ld, &data, 8, true, true, true, 5), GC_OK);
    size_t per = 12 * 12 * 3;
    float *a = malloc(8 * per * sizeof(float)), *b = malloc(8 * per * sizeof(float)), *one = malloc(per * sizeof(float));
    uint8_t labels[8];
    cr_assert(a && b && one);
    loader_start_epoch(&ld, 2);
    loader_fill(&ld, 1, a, labels);
    loader_start_epoch(&ld, 2);
    loader_fill(&ld, 1, b, labels);
    cr_expect(memcmp(a, b, 8 * per * sizeof(float)) == 0, "same epoch, same batch");
    for (int k = 0; k < 8; k++) {
        size_t idx = ld.order[8 + (size_t)k];
        augment_params p = augment_draw(5, 2, idx);
        augment_warp(dataset_image(&data, idx), 12, 12, 3, &p, one, true);
        cr_expect(memcmp(a + (size_t)k * per, one, per * sizeof(float)) == 0, "image %d", k);
    }
    /* Epoch 3 with epoch 2's order: different warps of the same images. */
    size_t *saved = malloc(data.count * sizeof(size_t));
    cr_assert(saved);
    memcpy(saved, ld.order, data.count * sizeof(size_t));
    loader_start_epoch(&ld, 3);
    memcpy(ld.order, saved, data.count * sizeof(size_t));
    loader_fill(&ld, 1, b, labels);
    cr_expect(memcmp(a, b, 8 * per * sizeof(float)) != 0, "another epoch, other warps");
    free(saved);
    free(a);
    free(b);
    free(one);
    loader_free(&ld);
}

Test(loader, rank_shares_tile_every_batch)
{
    for (int b = 0; b <= 9; b++)
        for (int ranks = 1; ranks <= 4; ranks++) {
            int next = 0, first;
            for (int r = 0; r < ranks; r++) {
                int size = dist_share(b, r, ranks, &first);
                cr_expect_eq(first, next, "b %d, rank %d of %d", b, r, ranks);
                cr_expect(size == b / ranks || size == b / ranks + 1);
                next = first + size;
            }
            cr_expect_eq(next, b);
        }
}

/* Three ranks' shares, side by side, are the single process's batch, augmentation included;
 * a dataset drawn on demand gives the same pixels as one kept in memory. */
Test(loader, shares_of_drawn_images_concatenate_to_the_whole_batch)
{
    dataset drawn;
    cr_assert_eq(synthetic_dataset_on_demand(&drawn, 9, 0, 37, 12), GC_OK);
    loader whole, part;
    cr_assert_eq(loader_init(&whole, &data, 8, true, true, true, 5), GC_OK);
    size_t per_image = dataset_image_bytes(&data);
    float *a = calloc(8 * per_image, sizeof *a), *b = calloc(8 * per_image, sizeof *b);
    uint8_t la[8], lb[8];
    cr_assert(a && b);
    for (int step = 0; step < loader_batches(&whole); step++) {
        int n = loader_fill(&whole, step, a, la);
        for (int r = 0; r < 3; r++) {
            cr_assert_eq(loader_init(&part, &drawn, 8, true, true, true, 5), GC_OK);
            loader_set_share(&part, r, 3);
            int first, size = loader_share_size(&part, step, &first);
            cr_assert_eq(loader_fill(&part, step, b, lb), size);
            cr_expect_arr_eq(b, a + (size_t)first * per_image, (size_t)size * per_image * sizeof *b, "step %d, rank %d", step, r);
            cr_expect_arr_eq(lb, la + first, (size_t)size);
            cr_expect(first + size <= n);
            loader_free(&part);
        }
    }
    free(a);
    free(b);
    loader_free(&whole);
    dataset_free(&drawn);
}

static int draw_fails_at_5(const dataset *d, size_t i, uint8_t *out)
{
    memset(out, (int)i, dataset_image_bytes(d));
    return i == 5 ? gc_fail(GC_EUSAGE, "image %zu: cannot be made", i) : GC_OK;
}

/* An image made on demand that fails stops the batch that needs it, with its message, on the
 * consumer's thread. */
Test(loader, prefetcher_hands_over_a_failed_image)
{
    uint8_t labels[12] = {0};
    dataset d = {.height = 4, .width = 4, .channels = 3, .count = 12, .labels = labels, .num_classes = 2,
                 .draw = draw_fails_at_5};
    loader ld;
    cr_assert_eq(loader_init(&ld, &d, 4, false, false, true, 1), GC_OK);
    prefetcher *p;
    cr_assert_eq(prefetch_start(&p, &ld, 2, 1, 0, 0), GC_OK);
    void *input;
    uint8_t *lab;
    int size;
    double waited;
    cr_assert_eq(prefetch_next(p, 0, 0, &input, &lab, &size, &waited), GC_OK);
    cr_expect_float_eq(((float *)input)[0], 0.0f, 0.0f);
    gc_error_clear();
    cr_assert_eq(prefetch_next(p, 0, 1, &input, &lab, &size, &waited), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "image 5: cannot be made"), "got '%s'", gc_error_message());
    gc_error_clear();
    prefetch_stop(p);
    loader_free(&ld);
}

/* bf16 batches (a network that computes in bf16): every value is the f32 batch's, rounded to
 * nearest even, for plain and augmented images, in both layouts; the prefetcher hands out the
 * same. Catches: a bf16 loader writing f32 (or truncating), images at f32 offsets. */
Test(loader, bf16_batches_are_the_f32_batches_rounded)
{
    for (int planar = 0; planar < 2; planar++)
        for (int augment = 0; augment < 2; augment++) {
            loader a, b;
            cr_assert_eq(loader_init(&a, &data, 8, true, augment, planar, 5), GC_OK);
            cr_assert_eq(loader_init(&b, &data, 8, true, augment, planar, 5), GC_OK);
            cr_assert_eq(loader_set_bf16(&b), GC_OK);
            size_t values = loader_batch_bytes(&a) / sizeof(float);
            cr_assert_eq(loader_batch_bytes(&b), values * sizeof(bf16));
            float *f = malloc(values * sizeof *f);
            bf16 *h = malloc(values * sizeof *h);
            uint8_t la[8], lb[8];
            cr_assert(f && h);
            int n = loader_fill(&a, 2, f, la);
            cr_assert_eq(loader_fill(&b, 2, h, lb), n);
            size_t inexact = 0;
            for (size_t i = 0; i < (size_t)n * values / 8; i++) {
                cr_assert_eq(h[i], bf16_from_f32(f[i]), "planar %d augment %d: value %zu", planar, augment, i);
                inexact += f32_from_bf16(h[i]) != f[i];
            }
            cr_expect(inexact > 0, "the rounding was exercised (x/255 is rarely a bf16 value)");
            cr_expect(memcmp(la, lb, (size_t)n) == 0);

            prefetcher *p;
            cr_assert_eq(prefetch_start(&p, &b, 1, 1, 0, 2), GC_OK);
            void *in;
            uint8_t *lab;
            int size;
            double waited;
            cr_assert_eq(prefetch_next(p, 0, 2, &in, &lab, &size, &waited), GC_OK);
            cr_expect(memcmp(in, h, (size_t)n * values / 8 * sizeof *h) == 0, "the prefetched bf16 batch");
            prefetch_stop(p);
            free(f), free(h);
            loader_free(&a);
            loader_free(&b);
        }
}
