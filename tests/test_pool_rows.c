/* The fused pooling's row kernels agree bit for bit in every ISA this CPU runs.
 * test_fused checks the best ISA against the plain layers; this checks that the others (each
 * compiled in its own file, engine/net/layers/pool_rows_*.c) compute the same, and that hiding an
 * ISA from the CPU probe moves the dispatch down. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/net/layers/dropout.h"
#include "engine/net/layers/maxpool_fused.h"
#include "engine/net/layers/pool_rows.h"
#include "engine/base/rng.h"
#include "simd/simd.h"
#include "simd/simd_isa.h"

typedef struct {
    float *y, *dx;
    uint8_t *arg;
} pool_result;

/* Forward and backward of a pseudo-random ReLU output with dropout (padding channels zero). */
static pool_result run(const pool_geometry *g, const pool_dropout *d)
{
    size_t nin = pool_in_elems(g), nout = pool_out_elems(g);
    long cb = (g->c + g->block - 1) / g->block;
    float *x = calloc(nin, sizeof *x), *dy = calloc(nout, sizeof *dy);
    pool_result r = {calloc(nout, sizeof(float)), malloc(nin * sizeof(float)), calloc(nout, 1)};
    cr_assert(x && dy && r.y && r.dx && r.arg);
    for (size_t i = 0; i < nin; i++) {
        long c = (long)(i % (size_t)g->block) + (long)(i / (size_t)(g->block * g->h * g->w) % (size_t)cb) * g->block;
        float v = rng_range(11, i, -0.5f, 1.0f);
        x[i] = c < g->c && v > 0.0f ? v : 0.0f;
    }
    for (size_t i = 0; i < nout; i++) dy[i] = rng_range(12, i, -1.0f, 1.0f);
    for (size_t i = 0; i < nin; i++) r.dx[i] = NAN;
    maxpool_fused_forward(x, r.y, r.arg, g, d);
    maxpool_fused_backward(dy, r.arg, r.dx, g, d);
    free(x);
    free(dy);
    return r;
}

static void release(pool_result *r)
{
    free(r->y);
    free(r->dx);
    free(r->arg);
}

/* Every ISA the CPU runs against the baseline build of the same body. */
static void check_isas(long block, long c, long h, long w, float rate)
{
    pool_geometry g = {.n = 2, .first = 3, .c = c, .h = h, .w = w, .block = block};
    pool_dropout d = {.rate = rate, .key = 0xBEEF};
    static const char *const isas[] = {"avx2", "avx512"};
    for (size_t i = 0; i < 2; i++) simd_cpu_hide(isas[i], true);
    cr_assert_str_eq(pool_rows_best()->isa, "base");
    pool_result ref = run(&g, &d);
    size_t nin = pool_in_elems(&g), nout = pool_out_elems(&g);
    for (size_t i = 0; i < 2; i++) {
        simd_cpu_hide(isas[i], false);
        if (!simd_cpu_supports(isas[i])) continue;
        cr_assert_str_eq(pool_rows_best()->isa, isas[i]);
        pool_result r = run(&g, &d);
        cr_assert(memcmp(r.y, ref.y, nout * sizeof(float)) == 0, "%s: pooled output, block %ld", isas[i], block);
        cr_assert(memcmp(r.arg, ref.arg, nout) == 0, "%s: argmax, block %ld", isas[i], block);
        cr_assert(memcmp(r.dx, ref.dx, nin * sizeof(float)) == 0, "%s: gradient, block %ld", isas[i], block);
        release(&r);
    }
    release(&ref);
}

Test(pool_rows, blocked_16_every_isa_agrees) { check_isas(16, 20, 9, 7, 0.5f); }
Test(pool_rows, blocked_16_every_isa_agrees_without_dropout) { check_isas(16, 32, 6, 10, 0.0f); }
Test(pool_rows, blocked_8_every_isa_agrees) { check_isas(8, 12, 7, 9, 0.25f); }
Test(pool_rows, channels_last_32_and_64_every_isa_agrees)
{
    check_isas(32, 32, 7, 9, 0.5f);
    check_isas(64, 64, 5, 6, 0.3f);
}
/* thresholds far from 0.5: the 16-bit draw compares at both ends */
Test(pool_rows, blocked_16_every_isa_agrees_at_low_and_high_rates)
{
    check_isas(16, 32, 5, 6, 0.1f);
    check_isas(16, 16, 4, 8, 0.999f);
}

/* The vector kernels (and the portable one, for channels not a multiple of 4) compute the
 * definition on any input, written out here element by element: a dropped unit is +0 and a
 * kept one v / (1 - rate); the first of the window's strictly greatest values wins, a NaN in
 * the window's first place stays, and the code is 4 where the maximum is not positive. The
 * inputs hold negatives, zeros of both signs, infinities and NaN, which a ReLU output would
 * not (the other tests' are). */
static void check_definition(long block, long c, long h, long w, float rate)
{
    pool_geometry g = {.n = 2, .first = 5, .c = c, .h = h, .w = w, .block = block};
    pool_dropout d = {.rate = rate, .key = 0xD1CE};
    static const float specials[] = {-0.0f, 0.0f, INFINITY, -INFINITY, NAN, -1.0f};
    size_t nin = pool_in_elems(&g), nout = pool_out_elems(&g);
    long cb = (c + block - 1) / block, OH = h / 2, OW = w / 2;
    float *x = calloc(nin, sizeof *x), *y = calloc(nout, sizeof *y);
    uint8_t *arg = calloc(nout, 1);
    cr_assert(x && y && arg);
    for (size_t i = 0; i < nin; i++) {
        long ci = (long)(i % (size_t)block) + (long)(i / (size_t)(block * h * w) % (size_t)cb) * block;
        x[i] = ci >= c ? 0.0f : i % 5 == 2 ? specials[(i / 5) % 6] : rng_range(31, i, -1.0f, 1.0f);
    }
    maxpool_fused_forward(x, y, arg, &g, &d);
    const uint32_t threshold = dropout_threshold(rate);
    const float scale = 1.0f / (1.0f - rate);
    for (long n = 0; n < g.n; n++)
        for (long ch = 0; ch < c; ch++)
            for (long oh = 0; oh < OH; oh++)
                for (long ow = 0; ow < OW; ow++) {
                    float best = 0.0f;
                    int best_k = 0;
                    for (int k = 0; k < 4; k++) {
                        long hh = 2 * oh + k / 2, ww = 2 * ow + k % 2;
                        float v = x[(((n * cb + ch / block) * h + hh) * w + ww) * block + ch % block];
                        uint64_t nhwc = (uint64_t)(((g.first + n) * h + hh) * w + ww) * (uint64_t)c + (uint64_t)ch;
                        v = dropout_keeps(d.key, threshold, nhwc) ? v * scale : 0.0f;
                        if (k == 0 || v > best) best = v, best_k = k;
                    }
                    size_t o = (size_t)((((n * cb + ch / block) * OH + oh) * OW + ow) * block + ch % block);
                    cr_assert(memcmp(&y[o], &best, sizeof best) == 0, "block %ld c %ld: y[%zu] %g, expected %g", block,
                              c, o, (double)y[o], (double)best);
                    cr_assert_eq(arg[o], best > 0.0f ? best_k : POOL_ARG_NONE, "block %ld c %ld: code %zu", block, c, o);
                }
    free(x), free(y), free(arg);
}

Test(pool_rows, every_kernel_computes_the_definition_on_any_input)
{
    check_definition(16, 32, 6, 8, 0.5f);
    check_definition(16, 32, 5, 7, 0.3f);
    check_definition(32, 32, 4, 6, 0.5f); /* channels last */
    check_definition(8, 16, 4, 4, 0.25f);
    check_definition(6, 6, 4, 6, 0.5f); /* channels not a multiple of 4: the portable kernel */
}

/* bf16 activations: every ISA's bf16 kernels give the f32 kernels' results on the widened
 * inputs, rounded once to bf16 (the kernels compute in f32 and narrow at the store), and the
 * same argmax codes. Inputs are bf16 values (so widening is exact); both the activation and
 * the output gradient hold NaN (quiet and signalling), infinities, bf16 denormals and zeros of
 * both signs among random values, and rate 0.3 makes 1/(1-rate) inexact so that the products
 * need rounding. Without dropout a window's maximum is copied, not computed, so a signalling
 * NaN reaches the store as it came. */
static void fill_bf16(bf16 *h, float *f, size_t n, uint64_t key, bool relu, bool special)
{
    static const uint16_t specials[] = {0x7fc0, 0xffc1, 0x7f81, 0x7f80, 0xff80, 0x0001, 0x807f, 0x0000, 0x8000, 0x7f7f};
    for (size_t i = 0; i < n; i++) {
        float v = rng_range(key, i, -1.0f, 1.0f);
        h[i] = bf16_from_f32(relu && v < 0.0f ? 0.0f : v);
        if (special && i % 7 == 3) h[i] = specials[(i / 7) % (sizeof specials / sizeof *specials)];
        f[i] = f32_from_bf16(h[i]);
    }
}

static void check_bf16(long block, long c, long h, long w, float rate)
{
    pool_geometry g = {.n = 2, .first = 1, .c = c, .h = h, .w = w, .block = block};
    pool_dropout d = {.rate = rate, .key = 0xFACE};
    size_t nin = pool_in_elems(&g), nout = pool_out_elems(&g);
    bf16 *xh = calloc(nin, sizeof *xh), *yh = calloc(nout, sizeof *yh), *dyh = calloc(nout, sizeof *dyh);
    bf16 *dxh = calloc(nin + 1, sizeof *dxh);
    float *xf = calloc(nin, sizeof *xf), *yf = calloc(nout, sizeof *yf), *dyf = calloc(nout, sizeof *dyf);
    float *dxf = calloc(nin, sizeof *dxf), *dxw = calloc(nin + 1, sizeof *dxw);
    uint8_t *argh = calloc(nout, 1), *argf = calloc(nout, 1);
    cr_assert(xh && yh && dyh && dxh && xf && yf && dyf && dxf && dxw && argh && argf);
    fill_bf16(xh, xf, nin, 21, true, true);
    fill_bf16(dyh, dyf, nout, 22, false, true);
    static const char *const isas[] = {"base", "avx2", "avx512"};
    for (size_t i = 0; i < 3; i++) {
        if (i == 0) simd_cpu_hide("avx2", true), simd_cpu_hide("avx512", true);
        if (i == 1) simd_cpu_hide("avx2", false);
        if (i == 2) simd_cpu_hide("avx512", false);
        if (i > 0 && !simd_cpu_supports(isas[i])) continue;
        g.elem = POOL_F32;
        maxpool_fused_forward(xf, yf, argf, &g, &d);
        maxpool_fused_backward(dyf, argf, dxf, &g, &d);
        g.elem = POOL_BF16;
        bf16 *dx_at = dxh + 1; /* an odd address: bf16 rows need no 4-byte alignment */
        maxpool_fused_forward(xh, yh, argh, &g, &d);
        maxpool_fused_backward(dyh, argh, dx_at, &g, &d);
        for (size_t k = 0; k < nout; k++) {
            cr_assert_eq(argh[k], argf[k], "%s block %ld: argmax %zu", isas[i], block, k);
            cr_assert_eq(yh[k], bf16_from_f32(yf[k]), "%s block %ld: y[%zu] %04x, expected %04x", isas[i], block, k,
                         yh[k], bf16_from_f32(yf[k]));
        }
        for (size_t k = 0; k < nin; k++)
            cr_assert_eq(dx_at[k], bf16_from_f32(dxf[k]), "%s block %ld: dx[%zu] %04x, expected %04x", isas[i], block,
                         k, dx_at[k], bf16_from_f32(dxf[k]));
        /* widening: bf16 dy, f32 dx is the f32 kernel's dx itself (dy widens exactly) */
        g.dx_f32 = true;
        memset(dxw, 0xff, (nin + 1) * sizeof *dxw);
        maxpool_fused_backward(dyh, argh, dxw + 1, &g, &d); /* misaligned too */
        g.dx_f32 = false;
        cr_assert(memcmp(dxw + 1, dxf, nin * sizeof *dxf) == 0, "%s block %ld: widened dx differs from f32's", isas[i],
                  block);
    }
    free(xh), free(yh), free(dyh), free(dxh), free(xf), free(yf), free(dyf), free(dxf), free(dxw), free(argh),
        free(argf);
}

Test(pool_rows, bf16_is_the_f32_result_rounded_once_in_every_isa)
{
    check_bf16(16, 32, 7, 9, 0.3f);
    check_bf16(16, 16, 6, 6, 0.0f);
    check_bf16(8, 24, 5, 8, 0.5f);
    check_bf16(16, 18, 5, 7, 0.3f); /* channels not a multiple of 4: the portable kernel */
    check_bf16(5, 5, 6, 5, 0.3f);   /* channels last */
    check_bf16(32, 32, 5, 7, 0.3f); /* channels last, the vector kernels */
    check_bf16(64, 64, 6, 5, 0.5f);
    check_bf16(16, 16, 4, 6, 0.999999f); /* threshold 65536, past the 16-bit compares: nothing kept */
}
