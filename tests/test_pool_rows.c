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
    uint64_t *mask = calloc(maxpool_fused_mask_words(g, d) + 1, sizeof *mask);
    cr_assert(x && dy && r.y && r.dx && r.arg && mask);
    for (size_t i = 0; i < nin; i++) {
        long c = (long)(i % (size_t)g->block) + (long)(i / (size_t)(g->block * g->h * g->w) % (size_t)cb) * g->block;
        float v = rng_range(11, i, -0.5f, 1.0f);
        x[i] = c < g->c && v > 0.0f ? v : 0.0f;
    }
    for (size_t i = 0; i < nout; i++) dy[i] = rng_range(12, i, -1.0f, 1.0f);
    for (size_t i = 0; i < nin; i++) r.dx[i] = NAN;
    maxpool_fused_forward(x, r.y, r.arg, g, d, mask);
    maxpool_fused_backward(dy, r.y, r.arg, r.dx, g, d);
    free(x);
    free(dy);
    free(mask);
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

/* The vectorized dropout mask of every ISA equals dropout_logical_mask bit for bit: word
 * offsets that start mid-vector of draws, lengths 1 to 37 (tails of every ISA's loop), an
 * output pointer off by one word, and rates 0.5 (exact threshold), 0.25, 0.1 and 0.999. */
Test(pool_rows, dropout_mask_every_isa_matches_the_reference)
{
    static const char *const isas[] = {"base", "avx2", "avx512"};
    static const float rates[] = {0.5f, 0.25f, 0.1f, 0.999f};
    uint64_t ref[40], got[41];
    for (size_t i = 0; i < 3; i++) {
        if (i == 1) simd_cpu_hide("avx512", true);
        if (i == 0) simd_cpu_hide("avx2", true), simd_cpu_hide("avx512", true);
        if (i > 0) simd_cpu_hide(isas[i], false);
        if (i > 0 && !simd_cpu_supports(isas[i])) continue;
        const pool_row_kernels *k = pool_rows_best();
        cr_assert_str_eq(k->isa, isas[i]);
        for (size_t r = 0; r < 4; r++)
            for (uint64_t first = 0; first < 5; first++)
                for (size_t n = 1; n <= 37; n += 3) {
                    dropout_logical_mask(ref, first * 7, n, rates[r], 0xC0FFEE + first);
                    memset(got, 0xA5, sizeof got);
                    k->dropout_mask(got + 1, first * 7, n, rates[r], 0xC0FFEE + first);
                    cr_assert(memcmp(got + 1, ref, n * sizeof *ref) == 0, "%s: rate %g, first word %llu, %zu words",
                              isas[i], rates[r], (unsigned long long)(first * 7), n);
                    cr_assert_eq(got[0], UINT64_C(0xA5A5A5A5A5A5A5A5), "%s wrote before its words", isas[i]);
                    if (n < 40) cr_assert_eq(got[n + 1], UINT64_C(0xA5A5A5A5A5A5A5A5), "%s wrote past its words", isas[i]);
                }
    }
}
