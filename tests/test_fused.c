/* The fused ReLU/dropout/max-pool kernels against the plain composition, in every layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/net/layers/dropout.h"
#include "engine/net/layers/maxpool_fused.h"
#include "engine/base/rng.h"

/* Physical offset of logical (n, c, h, w) in the blocked layout of g. */
static size_t at(const pool_geometry *g, long n, long c, long h, long w, long H, long W)
{
    long cb_count = (g->c + g->block - 1) / g->block;
    return (size_t)((((n * cb_count + c / g->block) * H + h) * W + w) * g->block + c % g->block);
}

/* The plain composition's keep bit: dropout's own definition, by logical NHWC index. */
static int keep_ref(const pool_geometry *g, const pool_dropout *d, long n, long c, long h, long w)
{
    if (d->rate <= 0.0f) return 1;
    uint64_t i = (uint64_t)((((g->first + n) * g->h + h) * g->w + w) * g->c + c);
    uint32_t u = (uint32_t)(rng_u64(d->key, i / 4) >> (16 * (i % 4))) & 0xFFFFu;
    return u >= (uint32_t)lrintf(d->rate * 65536.0f);
}

static void check_layout(long block, long c, long h, long w, long first, float rate)
{
    pool_geometry g = {.n = 3, .first = first, .c = c, .h = h, .w = w, .block = block};
    pool_dropout d = {.rate = rate, .key = 0xC0FFEE};
    size_t nin = pool_in_elems(&g), nout = pool_out_elems(&g);
    float *x = calloc(nin, sizeof *x), *y = calloc(nout, sizeof *y), *dy = calloc(nout, sizeof *dy);
    float *dx = malloc(nin * sizeof *dx);
    uint8_t *arg = calloc(nout, 1);
    cr_assert(x && y && dy && dx && arg);
    long OH = h / 2, OW = w / 2;
    /* ReLU outputs: about a third zero, the rest distinct positives; padding channels zero. */
    for (long n = 0; n < g.n; n++)
        for (long ch = 0; ch < c; ch++)
            for (long i = 0; i < h; i++)
                for (long j = 0; j < w; j++) {
                    float v = rng_range(7, at(&g, n, ch, i, j, h, w), -0.5f, 1.0f);
                    x[at(&g, n, ch, i, j, h, w)] = v > 0.0f ? v : 0.0f;
                }
    for (size_t i = 0; i < nout; i++) dy[i] = rng_range(8, i, -1.0f, 1.0f);
    for (size_t i = 0; i < nin; i++) dx[i] = NAN; /* every element must be written */

    maxpool_fused_forward(x, y, arg, &g, &d);
    maxpool_fused_backward(dy, arg, dx, &g, &d);

    float scale = rate > 0.0f ? 1.0f / (1.0f - rate) : 1.0f;
    for (long n = 0; n < g.n; n++)
        for (long ch = 0; ch < c; ch++)
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++) {
                    /* plain: dropout, then the window maximum (first of equals) */
                    float best = -INFINITY;
                    int best_k = 0;
                    for (int k = 0; k < 4; k++) {
                        long i = 2 * oh + k / 2, j = 2 * ow + k % 2;
                        float v = x[at(&g, n, ch, i, j, h, w)];
                        v = keep_ref(&g, &d, n, ch, i, j) ? v * scale : 0.0f;
                        if (v > best) best = v, best_k = k;
                    }
                    size_t o = at(&g, n, ch, oh, ow, OH, OW);
                    cr_assert_eq(y[o], best, "block %ld: y(%ld,%ld,%ld,%ld)", block, n, ch, oh, ow);
                    cr_assert_eq(arg[o], best > 0.0f ? best_k : POOL_ARG_NONE, "block %ld: argmax(%ld,%ld,%ld,%ld)",
                                 block, n, ch, oh, ow);
                    /* plain backward: pool routes dy to the argmax, dropout scales kept units,
                     * ReLU passes where its output was positive */
                    for (int k = 0; k < 4; k++) {
                        long i = 2 * oh + k / 2, j = 2 * ow + k % 2;
                        size_t p = at(&g, n, ch, i, j, h, w);
                        float expect = 0.0f;
                        if (k == best_k && keep_ref(&g, &d, n, ch, i, j) && x[p] > 0.0f) expect = dy[o] * scale;
                        cr_assert_eq(dx[p], expect, "block %ld: dx(%ld,%ld,%ld,%ld) = %g, expected %g", block, n, ch, i,
                                     j, (double)dx[p], (double)expect);
                    }
                }
    /* rows and columns no window covers, and padding channels, get zero */
    for (size_t i = 0; i < nin; i++) cr_assert(!isnan(dx[i]), "dx[%zu] never written", i);
    for (long n = 0; n < g.n; n++)
        for (long ch = 0; ch < c; ch++) {
            for (long j = 0; j < w; j++)
                if (h % 2) cr_assert_eq(dx[at(&g, n, ch, h - 1, j, h, w)], 0.0f);
            for (long i = 0; i < h; i++)
                if (w % 2) cr_assert_eq(dx[at(&g, n, ch, i, w - 1, h, w)], 0.0f);
        }
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(arg);
}

Test(maxpool_fused, blocked_16_without_dropout) { check_layout(16, 20, 7, 9, 0, 0.0f); }
Test(maxpool_fused, blocked_16_with_dropout) { check_layout(16, 32, 9, 8, 5, 0.5f); }
Test(maxpool_fused, blocked_8_with_dropout) { check_layout(8, 20, 6, 7, 2, 0.25f); }
/* 18 channels: blocks no longer start on a whole draw, so the portable kernel runs */
Test(maxpool_fused, blocked_16_channels_not_a_multiple_of_4) { check_layout(16, 18, 5, 6, 1, 0.5f); }
Test(maxpool_fused, channels_last_with_dropout) { check_layout(5, 5, 7, 7, 3, 0.5f); }
/* channels-last rows of 32 and 64 channels (bf16 with AMX) run the vector kernels */
Test(maxpool_fused, channels_last_32_with_dropout) { check_layout(32, 32, 7, 9, 2, 0.5f); }
Test(maxpool_fused, channels_last_64_with_dropout) { check_layout(64, 64, 6, 7, 1, 0.25f); }
Test(maxpool_fused, planar_with_dropout) { check_layout(1, 3, 8, 5, 1, 0.5f); }

Test(maxpool_fused, keep_decisions_are_those_of_the_plain_dropout_layer)
{
    /* The fused kernels' keep decisions (dropout_keeps, by NHWC index) equal dropout_make_mask's
     * bits for the same key in NHWC, at an offset first image. */
    dropout_shape s = {2, 12, 5, 7, dnnl_nhwc, 3};
    size_t n = dropout_physical_elems(&s), words = dropout_mask_words(n);
    uint64_t *phys = calloc(words, sizeof *phys);
    cr_assert(phys);
    dropout_make_mask(phys, &s, 0.5f, 99);
    uint64_t first = (uint64_t)(s.first * s.h * s.w * s.c);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = dropout_keeps(99, dropout_threshold(0.5f), first + i);
        kept += keep;
        cr_assert_eq((phys[i / 64] >> (i % 64)) & 1, keep, "element %zu", i);
    }
    cr_assert(kept > n / 4 && kept < 3 * n / 4, "%zu of %zu kept at rate 0.5", kept, n);
    free(phys);
}
