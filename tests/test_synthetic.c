/* The embedded synthetic dataset: deterministic, balanced, in bounds, and not separable by
 * simple per-image pixel statistics (so a model must learn the shapes). */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "io/input/dataset.h"
#include "io/input/synthetic.h"

static uint8_t *image_buffer(int size)
{
    uint8_t *p = malloc((size_t)size * (size_t)size * 3);
    cr_assert_not_null(p);
    return p;
}

static size_t image_bytes(int size) { return (size_t)size * (size_t)size * 3; }

Test(synthetic, same_arguments_give_identical_images)
{
    const int size = 50;
    uint8_t *a = image_buffer(size), *b = image_buffer(size);
    for (uint64_t index = 0; index < 20; index++) {
        memset(a, 0x11, image_bytes(size));
        memset(b, 0xEE, image_bytes(size));
        int la = synthetic_image(7, index, size, a);
        int lb = synthetic_image(7, index, size, b);
        cr_assert_eq(la, lb, "label of index %llu differs", (unsigned long long)index);
        cr_assert(la == 0 || la == 1);
        cr_assert_eq(memcmp(a, b, image_bytes(size)), 0, "image %llu differs between calls",
                     (unsigned long long)index);
    }
    free(a);
    free(b);
}

Test(synthetic, dataset_matches_single_images)
{
    const int size = 40;
    dataset d;
    cr_assert_eq(synthetic_dataset(&d, 3, 5, 3, size), GC_OK, "%s", gc_error_message());
    cr_assert_eq(d.count, 3);
    cr_assert_eq(d.height, size);
    cr_assert_eq(d.width, size);
    cr_assert_eq(d.channels, 3);
    cr_assert_eq(d.num_classes, 2);
    cr_assert_str_eq(d.class_names[0], synthetic_class_names[0]);
    cr_assert_str_eq(d.class_names[1], synthetic_class_names[1]);
    cr_assert_eq(dataset_image_bytes(&d), image_bytes(size));

    uint8_t *img = image_buffer(size);
    for (size_t i = 0; i < 3; i++) {
        int label = synthetic_image(3, 5 + i, size, img);
        cr_assert_eq(d.labels[i], label, "label %zu", i);
        cr_assert_eq(memcmp(dataset_image(&d, i), img, image_bytes(size)), 0, "image %zu", i);
    }
    free(img);
    dataset_free(&d);
    cr_assert_null(d.pixels);
    cr_assert_null(d.labels);
    cr_assert_eq(d.count, 0);
}

Test(synthetic, thread_count_does_not_change_results)
{
    dataset one, two;
    omp_set_num_threads(1);
    cr_assert_eq(synthetic_dataset(&one, 11, 100, 24, 48), GC_OK, "%s", gc_error_message());
    omp_set_num_threads(2);
    cr_assert_eq(synthetic_dataset(&two, 11, 100, 24, 48), GC_OK, "%s", gc_error_message());
    cr_assert_eq(memcmp(one.labels, two.labels, one.count), 0);
    cr_assert_eq(memcmp(one.pixels, two.pixels, one.count * dataset_image_bytes(&one)), 0);
    dataset_free(&one);
    dataset_free(&two);
}

Test(synthetic, different_seed_or_index_gives_different_image)
{
    const int size = 32;
    uint8_t *base = image_buffer(size), *other = image_buffer(size);
    synthetic_image(1, 0, size, base);
    synthetic_image(2, 0, size, other);
    cr_assert_neq(memcmp(base, other, image_bytes(size)), 0, "seed ignored");
    synthetic_image(1, 1, size, other);
    cr_assert_neq(memcmp(base, other, image_bytes(size)), 0, "index ignored");
    synthetic_image(1, SYNTHETIC_VAL_BASE, size, other);
    cr_assert_neq(memcmp(base, other, image_bytes(size)), 0, "validation image equals train image");
    free(base);
    free(other);
}

Test(synthetic, labels_are_roughly_balanced)
{
    dataset d;
    cr_assert_eq(synthetic_dataset(&d, 42, 0, 1000, 8), GC_OK, "%s", gc_error_message());
    size_t zeros = dataset_class_count(&d, 0), ones = dataset_class_count(&d, 1);
    cr_assert_eq(zeros + ones, 1000, "labels outside {0, 1}");
    cr_assert(ones >= 400 && ones <= 600, "%zu of 1000 labels are 1", ones);
    dataset_free(&d);
}

/* Writes must stay inside the image for every size, down to the minimum. */
Test(synthetic, small_sizes_stay_in_bounds)
{
    enum { GUARD = 64 };
    for (int size = SYNTHETIC_MIN_SIZE; size <= 24; size++) {
        size_t bytes = image_bytes(size);
        uint8_t *buf = malloc(bytes + 2 * GUARD);
        cr_assert_not_null(buf);
        for (uint64_t index = 0; index < 64; index++) {
            memset(buf, 0xA5, bytes + 2 * GUARD);
            int label = synthetic_image(9, index, size, buf + GUARD);
            cr_assert(label == 0 || label == 1);
            for (size_t g = 0; g < GUARD; g++) {
                cr_assert_eq(buf[g], 0xA5, "write before image, size %d index %llu", size,
                             (unsigned long long)index);
                cr_assert_eq(buf[GUARD + bytes + g], 0xA5, "write after image, size %d index %llu",
                             size, (unsigned long long)index);
            }
        }
        free(buf);
    }
}

/* ---- Not separable by per-image statistics ---------------------------------------------- */

enum {
    FEAT_MEAN_R, FEAT_MEAN_G, FEAT_MEAN_B, FEAT_BRIGHT, FEAT_STD, FEAT_HIGH, FEAT_LOW, FEAT_EDGE,
    FEAT_FOREGROUND, FEATURES
};

static const char *const feature_names[FEATURES] = {
    "mean red", "mean green", "mean blue", "mean brightness", "brightness std",
    "fraction brightness > 200", "fraction brightness < 55", "fraction of edge pixels",
    "fraction far from the median colour"};

static double brightness(const uint8_t *px) { return (px[0] + px[1] + px[2]) / 3.0; }

/* Pixels whose brightness differs from the right and lower neighbours by > 30 in total: the
 * amount of outline. Fine structure has more of it than coarse structure of the same area:
 * it is the class signal, not a pixel-value statistic. */
static double edge_fraction(const uint8_t *img, int size)
{
    size_t edges = 0;
    for (int y = 0; y + 1 < size; y++)
        for (int x = 0; x + 1 < size; x++) {
            const uint8_t *p = img + 3 * ((size_t)y * (size_t)size + (size_t)x);
            double b = brightness(p);
            edges += fabs(brightness(p + 3) - b) + fabs(brightness(p + 3 * (size_t)size) - b) > 30.0;
        }
    return (double)edges / ((double)size * (double)size);
}

/* Pixels far (sum over channels > 120) from the per-channel median colour, which is the
 * background's: about the painted area, which the generator matches between classes. */
static double foreground_fraction(const uint8_t *img, size_t pixels)
{
    int median[3];
    for (int c = 0; c < 3; c++) {
        size_t hist[256] = {0}, seen = 0;
        for (size_t p = 0; p < pixels; p++) hist[img[3 * p + c]]++;
        int v = 0;
        while ((seen += hist[v]) < pixels / 2) v++;
        median[c] = v;
    }
    size_t far = 0;
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *px = img + 3 * p;
        far += abs(px[0] - median[0]) + abs(px[1] - median[1]) + abs(px[2] - median[2]) > 120;
    }
    return (double)far / (double)pixels;
}

static void image_features(const uint8_t *img, int size, double out[FEATURES])
{
    size_t pixels = (size_t)size * (size_t)size;
    double sum[3] = {0, 0, 0}, b_sum = 0, b_sq = 0;
    size_t high = 0, low = 0;
    for (size_t p = 0; p < pixels; p++) {
        const uint8_t *px = img + 3 * p;
        double b = brightness(px);
        for (int c = 0; c < 3; c++) sum[c] += px[c];
        b_sum += b;
        b_sq += b * b;
        high += b > 200.0;
        low += b < 55.0;
    }
    double n = (double)pixels, mean = b_sum / n, var = b_sq / n - mean * mean;
    for (int c = 0; c < 3; c++) out[c] = sum[c] / n;
    out[FEAT_BRIGHT] = mean;
    out[FEAT_STD] = var > 0 ? sqrt(var) : 0;
    out[FEAT_HIGH] = (double)high / n;
    out[FEAT_LOW] = (double)low / n;
    out[FEAT_EDGE] = edge_fraction(img, size);
    out[FEAT_FOREGROUND] = foreground_fraction(img, pixels);
}

typedef struct {
    double value;
    int label;
} sample;

static int by_value(const void *a, const void *b)
{
    double x = ((const sample *)a)->value, y = ((const sample *)b)->value;
    return (x > y) - (x < y);
}

/* Accuracy of the best rule "label = (value > t)" or "label = (value <= t)" over all t. */
static double best_threshold_accuracy(sample *s, size_t n)
{
    qsort(s, n, sizeof *s, by_value);
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) ones += (size_t)s[i].label;
    /* Split after position i: predict 0 below, 1 above (and the reverse). */
    size_t zeros_below = 0, ones_below = 0;
    double best = (double)(ones > n - ones ? ones : n - ones) / (double)n;
    for (size_t i = 0; i < n; i++) {
        if (s[i].label) ones_below++;
        else zeros_below++;
        if (i + 1 < n && s[i + 1].value == s[i].value) continue; /* no threshold inside ties */
        double correct = (double)(zeros_below + (ones - ones_below)) / (double)n;
        if (correct > best) best = correct;
        if (1.0 - correct > best) best = 1.0 - correct;
    }
    return best;
}

Test(synthetic, not_separable_by_pixel_statistics_but_by_structure, .timeout = 60)
{
    enum { COUNT = 600, SIZE = 64 };
    dataset d;
    cr_assert_eq(synthetic_dataset(&d, 2024, 0, COUNT, SIZE), GC_OK, "%s", gc_error_message());
    static double feats[COUNT][FEATURES];
    for (size_t i = 0; i < COUNT; i++) image_features(dataset_image(&d, i), SIZE, feats[i]);

    static sample s[COUNT];
    for (int f = 0; f < FEATURES; f++) {
        for (size_t i = 0; i < COUNT; i++) s[i] = (sample){feats[i][f], d.labels[i]};
        double acc = best_threshold_accuracy(s, COUNT);
        cr_log_info("best threshold on %s: %.3f", feature_names[f], acc);
        if (f == FEAT_EDGE) /* the class signal must be there */
            cr_expect(acc >= 0.75, "the scale of structure no longer separates the classes: %.3f", acc);
        else
            cr_expect(acc <= 0.62, "%s separates the classes: %.3f accuracy", feature_names[f], acc);
    }
    dataset_free(&d);
}

/* The threshold search itself must find a real signal, or the test above proves nothing. */
Test(synthetic, threshold_search_finds_a_planted_signal)
{
    sample s[100];
    for (int i = 0; i < 100; i++) s[i] = (sample){(double)((i * 37) % 100), i % 2};
    double random_acc = best_threshold_accuracy(s, 100);
    for (int i = 0; i < 100; i++) s[i] = (sample){(double)i + (i % 2 ? 1000.0 : 0.0), i % 2};
    cr_assert_float_eq(best_threshold_accuracy(s, 100), 1.0, 1e-12);
    for (int i = 0; i < 100; i++) s[i] = (sample){(double)i + (i % 2 ? 0.0 : 1000.0), i % 2};
    cr_assert_float_eq(best_threshold_accuracy(s, 100), 1.0, 1e-12, "reversed direction");
    cr_assert(random_acc < 1.0);
}

Test(synthetic, bad_arguments_are_usage_errors)
{
    dataset d;
    gc_error_clear();
    cr_assert_eq(synthetic_dataset(&d, 1, 0, 10, 4), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), "size") != NULL, "message: %s", gc_error_message());
    cr_assert_null(d.pixels);

    gc_error_clear();
    cr_assert_eq(synthetic_dataset(&d, 1, 0, 0, 32), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), "count") != NULL, "message: %s", gc_error_message());
    cr_assert_null(d.pixels);
    gc_error_clear();
}
