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
/* thresholds far from 0.5: the 16-bit draw compares at both ends */
Test(pool_rows, blocked_16_every_isa_agrees_at_low_and_high_rates)
{
    check_isas(16, 32, 5, 6, 0.1f);
    check_isas(16, 16, 4, 8, 0.999f);
}
