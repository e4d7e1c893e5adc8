#include "engine/layers/maxpool_fused.h"

#include <math.h>
#include <stdbool.h>

#include "engine/layers/dropout.h"

static long blocks(const pool_geometry *g) { return (g->c + g->block - 1) / g->block; }

size_t pool_in_elems(const pool_geometry *g)
{
    return (size_t)g->n * (size_t)blocks(g) * (size_t)g->h * (size_t)g->w * (size_t)g->block;
}

size_t pool_out_elems(const pool_geometry *g)
{
    return (size_t)g->n * (size_t)blocks(g) * (size_t)pool_out_side(g->h) * (size_t)pool_out_side(g->w) *
           (size_t)g->block;
}

/* The chunk's dropout mask spans global NHWC indices [first*hwc, (first+n)*hwc). */
size_t maxpool_fused_mask_words(const pool_geometry *g, const pool_dropout *d)
{
    if (d->rate <= 0.0f) return 0;
    uint64_t hwc = (uint64_t)(g->h * g->w * g->c), lo = (uint64_t)g->first * hwc, hi = lo + (uint64_t)g->n * hwc;
    return (size_t)(((hi + 63) >> 6) - (lo >> 6));
}

void maxpool_fused_forward(const float *x, float *y, uint8_t *argmax, const pool_geometry *g,
                           const pool_dropout *d, uint64_t *mask)
{
    const long cb_count = blocks(g), H = g->h, W = g->w, X = g->block, C = g->c;
    const long OH = pool_out_side(H), OW = pool_out_side(W);
    const uint64_t hwc = (uint64_t)(H * W * C), first_word = ((uint64_t)g->first * hwc) >> 6;
    const bool drop = d->rate > 0.0f;
    const float scale = drop ? 1.0f / (1.0f - d->rate) : 1.0f;

    if (drop) {
        size_t words = maxpool_fused_mask_words(g, d);
        size_t per_thread_chunk = 256; /* words per task: 16K elements, enough to amortize */
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < words; k += per_thread_chunk)
            dropout_logical_mask(mask + k, first_word + k, words - k < per_thread_chunk ? words - k : per_thread_chunk,
                                 d->rate, d->key);
    }

#pragma omp parallel for collapse(3) schedule(static)
    for (long n = 0; n < g->n; n++)
        for (long cb = 0; cb < cb_count; cb++)
            for (long oh = 0; oh < OH; oh++) {
                const float *row = x + (((n * cb_count + cb) * H + 2 * oh) * W) * X;
                size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                uint64_t image = (uint64_t)(g->first + n) * hwc;
                for (long ow = 0; ow < OW; ow++)
                    for (long ci = 0; ci < X; ci++) {
                        long c = cb * X + ci;
                        float best = -INFINITY;
                        uint8_t arg = 0;
                        for (int k = 0; k < 4; k++) {
                            long dy = k >> 1, dx = k & 1;
                            float v = row[(dy * W + 2 * ow + dx) * X + ci];
                            if (drop) {
                                uint64_t i = image + (uint64_t)(((2 * oh + dy) * W + 2 * ow + dx) * C + c);
                                bool keep = c < C && ((mask[(i >> 6) - first_word] >> (i & 63)) & 1);
                                v = keep ? v * scale : 0.0f;
                            }
                            if (v > best) best = v, arg = (uint8_t)k;
                        }
                        y[o + (size_t)(ow * X + ci)] = best;
                        argmax[o + (size_t)(ow * X + ci)] = arg;
                    }
            }
}

void maxpool_fused_backward(const float *dy, const float *y, const uint8_t *argmax, float *dx,
                            const pool_geometry *g, const pool_dropout *d)
{
    const long cb_count = blocks(g), H = g->h, W = g->w, X = g->block;
    const long OH = pool_out_side(H), OW = pool_out_side(W);
    const float scale = d->rate > 0.0f ? 1.0f / (1.0f - d->rate) : 1.0f;

#pragma omp parallel for collapse(2) schedule(static)
    for (long n = 0; n < g->n; n++)
        for (long cb = 0; cb < cb_count; cb++) {
            float *plane = dx + (size_t)((n * cb_count + cb) * H * W * X);
            for (long oh = 0; oh < OH; oh++) {
                float *r0 = plane + (2 * oh * W) * X, *r1 = r0 + W * X;
                size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                for (long ow = 0; ow < OW; ow++)
                    for (long ci = 0; ci < X; ci++) {
                        size_t e = o + (size_t)(ow * X + ci);
                        float gval = y[e] > 0.0f ? dy[e] * scale : 0.0f;
                        int a = argmax[e];
                        r0[(2 * ow) * X + ci] = a == 0 ? gval : 0.0f;
                        r0[(2 * ow + 1) * X + ci] = a == 1 ? gval : 0.0f;
                        r1[(2 * ow) * X + ci] = a == 2 ? gval : 0.0f;
                        r1[(2 * ow + 1) * X + ci] = a == 3 ? gval : 0.0f;
                    }
                /* an odd width leaves a column no window covers */
                for (long wcol = 2 * OW; wcol < W; wcol++)
                    for (long ci = 0; ci < X; ci++) r0[wcol * X + ci] = r1[wcol * X + ci] = 0.0f;
            }
            /* an odd height leaves a row no window covers */
            for (long hrow = 2 * OH; hrow < H; hrow++)
                for (long k = 0; k < W * X; k++) plane[hrow * W * X + k] = 0.0f;
        }
}
