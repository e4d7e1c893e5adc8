/* Every layer's backward pass against central finite differences, on small shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/layers/dropout.h"
#include "engine/base/rng.h"
#include "gradcheck.h"

/* Linear layers are exact up to float rounding: tight bounds. */
#define EPS 1e-2f
#define ATOL 2e-3
#define RTOL 1e-2
/* Layers with kinks: a smaller step, so few elements straddle a kink (measured: at 1e-3 the
 * worst element sits at 0.07 of its bound; rounding grows as 1/step and reaches the bound near
 * 5e-5). */
#define KINK_EPS 1e-3f

static net *new_net(long c, long h, long w)
{
    net *n;
    int rc = net_create(&n, (act_shape){3, c, h, w}, dnnl_nchw);
    cr_assert_eq(rc, GC_OK, "%s", gc_error_message());
    return n;
}

static float *copy_of(const float *src, size_t count)
{
    float *dst = malloc(count * sizeof *dst);
    cr_assert(dst);
    memcpy(dst, src, count * sizeof *dst);
    return dst;
}

/* Checks the gradients of the input and of every parameter tensor element by element. */
static void check_all(gradcheck *g)
{
    gradcheck_backward(g);
    float *dx = copy_of(net_input_grad(g->n), g->in_elems);
    param_store *ps = &g->n->params;
    float *dp = copy_of(ps->g, ps->total);
    cr_expect_leq(gradcheck_compare(g, g->x, dx, g->in_elems, EPS, ATOL, RTOL), 1.0, "input gradient");
    for (int t = 0; t < ps->n; t++) {
        const param_tensor *pt = &ps->t[t];
        cr_expect_leq(gradcheck_compare(g, param_w(ps, t), dp + pt->offset, pt->count, EPS, ATOL, RTOL), 1.0,
                      "gradient of %s", pt->name);
    }
    free(dx);
    free(dp);
}

/* The same for layers with a ReLU kink: an element whose +-EPS straddles a kink is held to
 * the one-sided difference on its smooth side (gradcheck_compare_kinked). */
static void check_all_kinked(gradcheck *g)
{
    gradcheck_backward(g);
    float *dx = copy_of(net_input_grad(g->n), g->in_elems);
    param_store *ps = &g->n->params;
    float *dp = copy_of(ps->g, ps->total);
    double err = gradcheck_compare_kinked(g, g->x, dx, g->in_elems, KINK_EPS, ATOL, RTOL);
    cr_expect_leq(err, 1.0, "input gradient: worst element at %.3g of its bound", err);
    for (int t = 0; t < ps->n; t++) {
        const param_tensor *pt = &ps->t[t];
        err = gradcheck_compare_kinked(g, param_w(ps, t), dp + pt->offset, pt->count, KINK_EPS, ATOL, RTOL);
        cr_expect_leq(err, 1.0, "gradient of %s: worst element at %.3g of its bound", pt->name, err);
    }
    free(dx);
    free(dp);
}

Test(conv, backward_matches_finite_differences)
{
    net *n = new_net(3, 7, 6);
    cr_assert_eq(net_add_conv(n, 4, 3, false), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 1);
    check_all(&g);
    gradcheck_free(&g);
}

Test(conv, with_relu_backward_matches_finite_differences)
{
    net *n = new_net(3, 6, 6);
    cr_assert_eq(net_add_conv(n, 5, 3, true), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 2);
    check_all_kinked(&g);
    gradcheck_free(&g);
}

Test(pool, backward_matches_finite_differences)
{
    net *n = new_net(3, 6, 7); /* odd width: the last column is dropped (floor) */
    cr_assert_eq(net_add_pool(n, 2), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 3);
    /* Distinct values 0.05 apart, so +-EPS never changes a window's maximum. */
    for (size_t i = 0; i < g.in_elems; i++) g.x[i] = 0.05f * (float)((i * 37) % g.in_elems);
    check_all(&g);
    gradcheck_free(&g);
}

Test(pool, forward_takes_window_maxima)
{
    net *n = new_net(1, 4, 5);
    cr_assert_eq(net_add_pool(n, 2), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 1, 4);
    for (size_t i = 0; i < 20; i++) g.x[i] = (float)i;
    gradcheck_loss(&g);
    const float *y = net_output(n);
    /* rows 0-1: maxima at columns 1, 3 of row 1 -> 6, 8; rows 2-3 -> 16, 18 */
    cr_expect_eq(y[0], 6.0f);
    cr_expect_eq(y[1], 8.0f);
    cr_expect_eq(y[2], 16.0f);
    cr_expect_eq(y[3], 18.0f);
    gradcheck_free(&g);
}

Test(dense, backward_matches_finite_differences)
{
    net *n = new_net(3, 2, 2);
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 5, false), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 3, 5);
    check_all(&g);
    gradcheck_free(&g);
}

Test(dense, with_relu_backward_matches_finite_differences)
{
    net *n = new_net(2, 3, 3);
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 7, true), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 6);
    check_all_kinked(&g);
    gradcheck_free(&g);
}

Test(dropout, backward_with_a_fixed_mask_matches_finite_differences)
{
    net *n = new_net(3, 5, 5);
    cr_assert_eq(net_add_dropout(n, 0.5f), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 7);
    check_all(&g);
    gradcheck_free(&g);
}

Test(dropout, keeps_each_element_with_probability_one_minus_rate_and_scales_it)
{
    size_t count = 1 << 20;
    uint64_t *mask = calloc(dropout_mask_words(count), sizeof *mask);
    float *x = malloc(count * sizeof *x);
    cr_assert(mask && x);
    float rates[] = {0.5f, 0.25f, 0.9f};
    for (int r = 0; r < 3; r++) {
        dropout_shape shape = {1, (long)count, 1, 1, dnnl_nc, 0};
        dropout_make_mask(mask, &shape, rates[r], 1234);
        for (size_t i = 0; i < count; i++) x[i] = 3.0f;
        float scale = 1.0f / (1.0f - rates[r]);
        dropout_apply(x, mask, count, scale);
        size_t kept = 0;
        for (size_t i = 0; i < count; i++) {
            cr_assert(x[i] == 0.0f || x[i] == 3.0f * scale, "element %zu is %g", i, (double)x[i]);
            kept += x[i] != 0.0f;
        }
        double frac = (double)kept / (double)count;
        /* 5 standard deviations of a binomial over 2^20 draws */
        double sd = sqrt(rates[r] * (1.0 - rates[r]) / (double)count);
        cr_expect(fabs(frac - (1.0 - rates[r])) < 5.0 * sd, "rate %g: kept %.5f", (double)rates[r], frac);
    }
    free(mask);
    free(x);
}

Test(dropout, masks_depend_only_on_the_key)
{
    size_t count = 1000; /* not a multiple of 64: the tail bits must be clear */
    uint64_t a[16], b[16], c[16];
    dropout_shape shape = {1, (long)count, 1, 1, dnnl_nc, 0};
    dropout_make_mask(a, &shape, 0.5f, 77);
    dropout_make_mask(b, &shape, 0.5f, 77);
    dropout_make_mask(c, &shape, 0.5f, 78);
    cr_expect(memcmp(a, b, sizeof a) == 0);
    cr_expect(memcmp(a, c, sizeof a) != 0);
    cr_expect_eq(a[15] >> (count % 64), 0u);
}

/* Whether logical element (n, c, h, w) is kept by a mask drawn for layout tag. */
static int kept_at(const uint64_t *mask, const dropout_shape *s, long n, long c, long h, long w)
{
    size_t p;
    if (s->tag == dnnl_nchw)
        p = (size_t)(((n * s->c + c) * s->h + h) * s->w + w);
    else if (s->tag == dnnl_nhwc)
        p = (size_t)(((n * s->h + h) * s->w + w) * s->c + c);
    else {
        long blk = s->tag == dnnl_nChw16c ? 16 : 8, cb = (s->c + blk - 1) / blk;
        p = (size_t)((((n * cb + c / blk) * s->h + h) * s->w + w) * blk + c % blk);
    }
    return (int)((mask[p / 64] >> (p % 64)) & 1);
}

/* Every layout's mask bit is dropout_keeps of the element's NHWC index in the whole batch,
 * counted from the chunk's first image: channels-last draws a run of consecutive counters, and
 * a first image whose index is not a multiple of 4 starts mid-draw. */
Test(dropout, masks_follow_the_definition_from_the_first_image)
{
    dnnl_format_tag_t tags[] = {dnnl_nhwc, dnnl_nc, dnnl_nchw, dnnl_nChw16c};
    for (int t = 0; t < 4; t++) {
        bool flat = tags[t] == dnnl_nc;
        dropout_shape s = flat ? (dropout_shape){3, 67, 1, 1, dnnl_nc, 5} : (dropout_shape){2, 7, 3, 5, tags[t], 1};
        size_t words = dropout_mask_words(dropout_physical_elems(&s));
        uint64_t *mask = calloc(words, sizeof *mask);
        cr_assert(mask);
        dropout_make_mask(mask, &s, 0.3f, 99);
        for (long n = 0; n < s.n; n++)
            for (long c = 0; c < s.c; c++)
                for (long h = 0; h < s.h; h++)
                    for (long w = 0; w < s.w; w++) {
                        uint64_t i = (uint64_t)((((s.first + n) * s.h + h) * s.w + w) * s.c + c);
                        dropout_shape as = s;
                        if (flat) as.tag = dnnl_nhwc; /* nc is nhwc with h = w = 1 */
                        cr_expect_eq(kept_at(mask, &as, n, c, h, w), dropout_keeps(99, dropout_threshold(0.3f), i),
                                     "layout %d at (%ld,%ld,%ld,%ld)", t, n, c, h, w);
                    }
        free(mask);
    }
}

Test(dropout, masks_are_the_same_in_every_layout)
{
    dnnl_format_tag_t tags[] = {dnnl_nchw, dnnl_nhwc, dnnl_nChw8c, dnnl_nChw16c};
    uint64_t *masks[4];
    dropout_shape shapes[4];
    for (int t = 0; t < 4; t++) {
        shapes[t] = (dropout_shape){2, 20, 3, 5, tags[t], 0}; /* 20 channels: partial blocks */
        masks[t] = calloc(dropout_mask_words(dropout_physical_elems(&shapes[t])), sizeof(uint64_t));
        cr_assert(masks[t]);
        dropout_make_mask(masks[t], &shapes[t], 0.5f, 4242);
    }
    for (long n = 0; n < 2; n++)
        for (long c = 0; c < 20; c++)
            for (long h = 0; h < 3; h++)
                for (long w = 0; w < 5; w++)
                    for (int t = 1; t < 4; t++)
                        cr_expect_eq(kept_at(masks[t], &shapes[t], n, c, h, w), kept_at(masks[0], &shapes[0], n, c, h, w),
                                     "layout %d at (%ld,%ld,%ld,%ld)", t, n, c, h, w);
    /* Padding channels of a blocked layout are never kept. */
    for (long w = 0; w < 5; w++) cr_expect_eq(kept_at(masks[3], &shapes[3], 0, 31, 0, w), 0);
    for (int t = 0; t < 4; t++) free(masks[t]);
}

Test(dropout, evaluation_passes_through)
{
    net *n = new_net(2, 3, 3);
    cr_assert_eq(net_add_dropout(n, 0.5f), GC_OK);
    int b = 2;
    cr_assert_eq(net_plan(n, &b, 1), GC_OK);
    float *x = net_input(n);
    for (int i = 0; i < 36; i++) x[i] = (float)i + 1.0f;
    pass_ctx p = {.variant = 0, .batch = 2, .training = false, .noise_key = 5};
    cr_assert_eq(net_forward(n, &p), GC_OK);
    for (int i = 0; i < 36; i++) cr_expect_eq(net_output(n)[i], (float)i + 1.0f);
    net_destroy(n);
}

Test(relu, standalone_layer_matches_finite_differences)
{
    net *n = new_net(2, 4, 4);
    cr_assert_eq(net_add_relu(n), GC_OK);
    gradcheck g;
    gradcheck_init(&g, n, 2, 8);
    /* Keep inputs away from the kink so the finite difference is exact. */
    for (size_t i = 0; i < g.in_elems; i++) g.x[i] += g.x[i] >= 0 ? 0.1f : -0.1f;
    check_all(&g);
    gradcheck_free(&g);
}

Test(flatten, orders_features_as_keras_does)
{
    /* In the network's blocked layout, Flatten must still produce (h, w, c) order. */
    long c = 3, h = 4, w = 5;
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, c, h, w}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(net_add_conv(n, 20, 1, false), GC_OK); /* 20 channels: a partial 16-block */
    cr_assert_eq(net_add_flatten(n), GC_OK);
    int b = 2;
    cr_assert_eq(net_plan(n, &b, 1), GC_OK);
    /* A 1x1 convolution with kernel = identity on channel k % 3 scaled by (k + 1). */
    param_store *ps = &n->params;
    float *kw = param_w(ps, 0), *kb = param_w(ps, 1);
    memset(kw, 0, 20 * 3 * sizeof *kw);
    memset(kb, 0, 20 * sizeof *kb);
    for (int k = 0; k < 20; k++) kw[k * 3 + k % 3] = (float)(k + 1);
    /* The input is planar (NCHW) next to blocked activations. */
    cr_assert_eq(n->input_tag, dnnl_nchw);
    float *x = net_input(n);
    for (long i = 0; i < b * c * h * w; i++) x[i] = (float)i;
    pass_ctx p = {.variant = 0, .batch = b, .training = false};
    cr_assert_eq(net_forward(n, &p), GC_OK);
    const float *y = net_output(n);
    for (long img = 0; img < b; img++)
        for (long yy = 0; yy < h; yy++)
            for (long xx = 0; xx < w; xx++)
                for (long k = 0; k < 20; k++) {
                    float expect = (float)(k + 1) * x[((img * c + k % 3) * h + yy) * w + xx];
                    float got = y[img * h * w * 20 + (yy * w + xx) * 20 + k];
                    cr_assert_eq(got, expect, "image %ld (%ld,%ld) channel %ld", img, yy, xx, k);
                }
    net_destroy(n);
}

/* A small version of the seed model: every layer kind chained, dropout included. */
static net *small_model(dnnl_format_tag_t tag)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 12, 12}, tag), GC_OK);
    cr_assert_eq(net_add_conv(n, 4, 3, true), GC_OK);  /* 10x10 */
    cr_assert_eq(net_add_pool(n, 2), GC_OK);           /* 5x5 */
    cr_assert_eq(net_add_conv(n, 6, 3, true), GC_OK);  /* 3x3 */
    cr_assert_eq(net_add_dropout(n, 0.5f), GC_OK);
    cr_assert_eq(net_add_pool(n, 2), GC_OK);           /* 1x1 */
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dropout(n, 0.5f), GC_OK);
    cr_assert_eq(net_add_dense(n, 8, true), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    return n;
}

Test(network, whole_chain_matches_finite_differences)
{
    gradcheck g;
    gradcheck_init(&g, small_model(dnnl_nchw), 3, 9);
    check_all_kinked(&g);
    gradcheck_free(&g);
}

Test(network, blocked_layout_gives_the_plain_layout_results)
{
    gradcheck a, b;
    gradcheck_init(&a, small_model(dnnl_nchw), 3, 10);
    gradcheck_init(&b, small_model(dnnl_nChw16c), 3, 10);
    cr_assert_eq(b.n->input_tag, dnnl_nchw);
    gradcheck_backward(&a);
    gradcheck_backward(&b);
    for (size_t i = 0; i < a.out_elems; i++)
        cr_expect_float_eq(net_output(a.n)[i], net_output(b.n)[i], 1e-5f, "output %zu", i);
    const param_store *pa = &a.n->params, *pb = &b.n->params;
    for (size_t i = 0; i < pa->total; i++)
        cr_expect(fabsf(pa->g[i] - pb->g[i]) <= 1e-5f + 1e-4f * fabsf(pa->g[i]), "gradient %zu: %g vs %g", i,
                  (double)pa->g[i], (double)pb->g[i]);
    gradcheck_free(&a);
    gradcheck_free(&b);
}

/* The same model with the Conv2D (+ Dropout) + MaxPooling2D stages fused. */
static net *small_model_fused(dnnl_format_tag_t tag, int chunk)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 12, 12}, tag), GC_OK);
    net_set_chunk_images(n, chunk);
    cr_assert_eq(net_add_conv_pool(n, 4, 3, 0.0f), GC_OK);  /* 10x10 -> 5x5 */
    cr_assert_eq(net_add_conv_pool(n, 6, 3, 0.5f), GC_OK);  /* 3x3 -> 1x1 */
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dropout(n, 0.5f), GC_OK);
    cr_assert_eq(net_add_dense(n, 8, true), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    return n;
}

static void expect_same_pass(gradcheck *a, gradcheck *b)
{
    gradcheck_backward(a);
    gradcheck_backward(b);
    for (size_t i = 0; i < a->out_elems; i++)
        cr_expect_float_eq(net_output(a->n)[i], net_output(b->n)[i], 1e-5f, "output %zu", i);
    const param_store *pa = &a->n->params, *pb = &b->n->params;
    cr_assert_eq(pa->total, pb->total);
    for (size_t i = 0; i < pa->total; i++)
        cr_expect(fabsf(pa->g[i] - pb->g[i]) <= 1e-5f + 1e-4f * fabsf(pa->g[i]), "gradient %zu: %g vs %g", i,
                  (double)pa->g[i], (double)pb->g[i]);
    for (size_t i = 0; i < a->in_elems; i++)
        cr_expect(fabsf(net_input_grad(a->n)[i] - net_input_grad(b->n)[i]) <= 1e-5f, "input gradient %zu", i);
}

Test(conv_pool, fused_stages_give_the_unfused_results)
{
    /* Every layout, chunks of 1, 2 (a partial last chunk) and the whole batch. */
    dnnl_format_tag_t tags[] = {dnnl_nchw, dnnl_nhwc, dnnl_nChw8c, dnnl_nChw16c};
    int chunks[] = {1, 2, 5};
    for (int t = 0; t < 4; t++)
        for (int c = 0; c < 3; c++) {
            gradcheck plain, fused;
            gradcheck_init(&plain, small_model(tags[t]), 5, 12);
            gradcheck_init(&fused, small_model_fused(tags[t], chunks[c]), 5, 12);
            expect_same_pass(&plain, &fused);
            gradcheck_free(&plain);
            gradcheck_free(&fused);
        }
}

Test(conv_pool, evaluation_matches_the_unfused_layers)
{
    gradcheck plain, fused;
    gradcheck_init(&plain, small_model(dnnl_nChw16c), 4, 13);
    gradcheck_init(&fused, small_model_fused(dnnl_nChw16c, 3), 4, 13);
    pass_ctx p = {.variant = 0, .batch = 4, .training = false};
    memcpy(net_input(plain.n), plain.x, plain.in_elems * sizeof(float));
    memcpy(net_input(fused.n), fused.x, fused.in_elems * sizeof(float));
    cr_assert_eq(net_forward(plain.n, &p), GC_OK);
    cr_assert_eq(net_forward(fused.n, &p), GC_OK);
    for (int i = 0; i < 4; i++) cr_expect_float_eq(net_output(plain.n)[i], net_output(fused.n)[i], 1e-5f);
    gradcheck_free(&plain);
    gradcheck_free(&fused);
}

Test(conv_pool, backward_matches_finite_differences)
{
    gradcheck g;
    gradcheck_init(&g, small_model_fused(dnnl_nchw, 2), 3, 14);
    check_all_kinked(&g);
    gradcheck_free(&g);
}

Test(conv_pool, summary_lists_the_keras_layers)
{
    net *n = small_model_fused(dnnl_nchw, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f);
    net_summary(n, f);
    fclose(f);
    const char *rows[] = {"conv2d (Conv2D)", "max_pooling2d (MaxPooling2D)", "conv2d_1 (Conv2D)", "dropout (Dropout)",
                          "max_pooling2d_1 (MaxPooling2D)", "flatten (Flatten)", "dropout_1 (Dropout)", "dense (Dense)",
                          "dense_1 (Dense)"};
    const char *at = buf;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const char *hit = strstr(at, rows[i]);
        cr_expect(hit != NULL, "row %s in order in:\n%s", rows[i], buf);
        if (hit) at = hit;
    }
    free(buf);
    net_destroy(n);
}

/* The precision seam: f32 by default; a type gcbench does not train in is refused by name
 * before anything is planned (bf16: tests/test_precision.c, tests/test_bf16_net.c). */
Test(net, precision_other_than_f32_or_bf16_is_refused_by_name)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 8, 8}, dnnl_format_tag_any), GC_OK);
    cr_expect_eq(n->act_dt, dnnl_f32);
    cr_expect_eq(n->weight_dt, dnnl_f32);
    cr_expect_eq(net_set_precision(n, dnnl_f32, dnnl_f32), GC_OK);
    cr_expect_eq(net_set_precision(n, dnnl_f16, dnnl_f16), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "f16") != NULL, "%s", gc_error_message());
    gc_error_clear();
    cr_expect_eq(n->act_dt, dnnl_f32, "a refused precision leaves the network as it was");
    net_destroy(n);
}
