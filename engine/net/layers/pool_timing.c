#include "engine/net/layers/pool_timing.h"

#include "engine/base/alloc.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/base/median.h"
#include "engine/base/rng.h"
#include "simd/bf16.h"

/* Element i of a buffer of type e set to v (rounded to bf16 there). */
static void put(void *p, size_t i, float v, pool_elem e)
{
    if (e == POOL_BF16)
        ((bf16 *)p)[i] = bf16_from_f32(v);
    else
        ((float *)p)[i] = v;
}

void pool_timing_free(pool_timing_buffers *b)
{
    gc_free(b->x), gc_free(b->y), gc_free(b->dy), gc_free(b->dx), gc_free(b->arg);
    *b = (pool_timing_buffers){0};
}

int pool_timing_alloc(const pool_geometry *g, pool_timing_buffers *b)
{
    *b = (pool_timing_buffers){0};
    size_t in = pool_in_elems(g), out = pool_out_elems(g), es = g->elem == POOL_BF16 ? sizeof(bf16) : sizeof(float);
    int rc = gc_alloc(&b->x, in * es, "the pooling's timed input");
    if (rc == GC_OK) rc = gc_alloc(&b->dx, in * (g->dx_f32 ? sizeof(float) : es), "the pooling's timed input gradient");
    if (rc == GC_OK) rc = gc_alloc(&b->y, out * es, "the pooling's timed output");
    if (rc == GC_OK) rc = gc_alloc(&b->dy, out * es, "the pooling's timed output gradient");
    if (rc == GC_OK) rc = gc_alloc((void **)&b->arg, out, "the pooling's timed argmax");
    if (rc != GC_OK) {
        pool_timing_free(b);
        return rc;
    }
    for (size_t i = 0; i < in; i++) {
        float u = rng_uniform(7, i) - 0.5f;
        put(b->x, i, u > 0.0f ? u : 0.0f, g->elem);
    }
    for (size_t i = 0; i < out; i++) put(b->dy, i, rng_uniform(8, i) - 0.5f, g->elem);
    return GC_OK;
}

double pool_timing_run(const pool_timing_buffers *b, pool_geometry g, const pool_dropout *d, bool backward,
                       int min_calls, double budget)
{
    double t[POOL_TIMING_MAX_CALLS], start = clock_seconds();
    int calls = 0;
    for (int k = 0; k <= POOL_TIMING_MAX_CALLS && (k <= min_calls || clock_seconds() - start < budget); k++) {
        g.first = (long)((k * g.n) % 128);
        double t0 = clock_seconds();
        if (backward)
            maxpool_fused_backward(b->dy, b->arg, b->dx, &g, d);
        else
            maxpool_fused_forward(b->x, b->y, b->arg, &g, d);
        if (k > 0) t[calls++] = (clock_seconds() - t0) / (double)g.n; /* call 0 warms up */
    }
    return median_of(t, calls);
}
