/* Dropout (inverted), in place over its input. Training only; evaluation passes through.
 *
 * In place is safe here because the layer before it needs only the sign of its output in its
 * own backward pass (ReLU), or nothing, and kept elements keep their sign. */
#include "engine/layers/dropout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/alloc.h"
#include "engine/error.h"
#include "engine/layers/layer_io.h"
#include "engine/rng.h"

void dropout_make_mask(uint64_t *mask, size_t n, float rate, uint64_t key)
{
    /* Drop when the 16-bit draw is below rate * 65536 (rate 0.5 is exact). */
    uint32_t threshold = (uint32_t)lrintf(rate * 65536.0f);
    size_t words = dropout_mask_words(n);
#pragma omp parallel for schedule(static)
    for (size_t w = 0; w < words; w++) {
        uint64_t bits = 0;
        for (int q = 0; q < 16; q++) { /* 16 draws of 4 x 16 bits = 64 elements */
            uint64_t r = rng_u64(key, w * 16 + (size_t)q);
            for (int j = 0; j < 4; j++) {
                uint32_t u = (uint32_t)(r >> (16 * j)) & 0xFFFFu;
                bits |= (uint64_t)(u >= threshold) << (q * 4 + j);
            }
        }
        size_t left = n - w * 64;
        if (left < 64) bits &= (UINT64_C(1) << left) - 1;
        mask[w] = bits;
    }
}

void dropout_apply(float *x, const uint64_t *mask, size_t n, float scale)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = (mask[i / 64] >> (i % 64)) & 1 ? x[i] * scale : 0.0f;
}

void dropout_backward(float *dx, const float *dy, const uint64_t *mask, size_t n, float scale)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) dx[i] = (mask[i / 64] >> (i % 64)) & 1 ? dy[i] * scale : 0.0f;
}

static int dropout_plan(net *n, layer *l, int v)
{
    if (v != 0) return GC_OK;
    size_t elems = layer_out_elems(n, l, l->plan[0].batch);
    char what[96];
    snprintf(what, sizeof what, "the mask of %s", l->name);
    return gc_alloc((void **)&l->mask, dropout_mask_words(elems) * sizeof(uint64_t), what);
}

static float dropout_scale(const layer *l) { return 1.0f / (1.0f - l->rate); }

static int dropout_forward(net *n, layer *l, const pass_ctx *p)
{
    if (!p->training || l->rate == 0.0f) return GC_OK;
    size_t elems = layer_out_elems(n, l, p->batch);
    dropout_make_mask(l->mask, elems, l->rate, rng_key(p->noise_key, RNG_STREAM_DROPOUT, (uint64_t)l->index, 0));
    dropout_apply(l->out_buf, l->mask, elems, dropout_scale(l));
    return GC_OK;
}

static int dropout_backward_layer(net *n, layer *l, const pass_ctx *p)
{
    size_t elems = layer_out_elems(n, l, p->batch);
    if (l->rate == 0.0f || !p->training) {
        memcpy(l->d_in, l->d_out, elems * sizeof(float));
        return GC_OK;
    }
    dropout_backward(l->d_in, l->d_out, l->mask, elems, dropout_scale(l));
    return GC_OK;
}

const layer_ops dropout_layer_ops = {"Dropout", dropout_plan, dropout_forward, dropout_backward_layer};
