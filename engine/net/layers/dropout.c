/* Dropout (inverted), in place over its input. Training only; evaluation passes through.
 *
 * In place is safe here because the layer before it needs only the sign of its output in its
 * own backward pass (ReLU), or nothing, and kept elements keep their sign. */
#include "engine/net/layers/dropout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"
#include "engine/base/rng.h"

/* Physical order as nested dimensions, outermost first: sizes and what each one indexes. */
enum { DIM_N, DIM_C, DIM_H, DIM_W, DIM_CB, DIM_CI };

typedef struct {
    int ndims;
    long size[5];
    int role[5];
    long block; /* channels per block (1 when not blocked) */
} phys_order;

static phys_order physical_order(const dropout_shape *s)
{
    switch (s->tag) {
    case dnnl_nChw16c:
    case dnnl_nChw8c: {
        long b = s->tag == dnnl_nChw16c ? 16 : 8;
        return (phys_order){5, {s->n, (s->c + b - 1) / b, s->h, s->w, b}, {DIM_N, DIM_CB, DIM_H, DIM_W, DIM_CI}, b};
    }
    case dnnl_nchw: return (phys_order){4, {s->n, s->c, s->h, s->w}, {DIM_N, DIM_C, DIM_H, DIM_W}, 1};
    default: /* nhwc, nc: physical order is the logical NHWC order */
        return (phys_order){4, {s->n, s->h, s->w, s->c}, {DIM_N, DIM_H, DIM_W, DIM_C}, 1};
    }
}

size_t dropout_physical_elems(const dropout_shape *s)
{
    phys_order o = physical_order(s);
    size_t count = 1;
    for (int d = 0; d < o.ndims; d++) count *= (size_t)o.size[d];
    return count;
}

/* Channels-last (nhwc, and nc after a flatten): physical element p is NHWC index i0 + p, so the
 * mask is a run of consecutive draws, without the general case's coordinates per element. */
static void make_mask_channels_last(uint64_t *mask, size_t total, uint64_t i0, uint32_t threshold, uint64_t key)
{
    const size_t words = dropout_mask_words(total);
#pragma omp parallel for schedule(static)
    for (size_t wd = 0; wd < words; wd++) {
        size_t end = total - wd * 64 < 64 ? total - wd * 64 : 64;
        uint64_t bits = 0, i = i0 + wd * 64, r = rng_u64(key, i / 4);
        for (size_t j = 0; j < end; j++, i++) {
            if (j > 0 && i % 4 == 0) r = rng_u64(key, i / 4);
            bits |= (uint64_t)dropout_keeps_of_draw(r, threshold, i) << j;
        }
        mask[wd] = bits;
    }
}

void dropout_make_mask(uint64_t *mask, const dropout_shape *s, float rate, uint64_t key)
{
    const uint32_t threshold = dropout_threshold(rate);
    const phys_order o = physical_order(s);
    const size_t total = dropout_physical_elems(s), words = dropout_mask_words(total);
    if (o.role[o.ndims - 1] == DIM_C) {
        make_mask_channels_last(mask, total, (uint64_t)(s->first * s->h * s->w * s->c), threshold, key);
        return;
    }

#pragma omp parallel for schedule(static)
    for (size_t wd = 0; wd < words; wd++) {
        /* Coordinates of the word's first element, then stepped like an odometer. */
        long coord[5];
        size_t p = wd * 64;
        for (int d = o.ndims - 1; d >= 0; d--) {
            coord[d] = (long)(p % (size_t)o.size[d]);
            p /= (size_t)o.size[d];
        }
        uint64_t bits = 0, cached_draw = UINT64_MAX, r = 0;
        size_t end = total - wd * 64 < 64 ? total - wd * 64 : 64;
        for (size_t j = 0; j < end; j++) {
            long n = 0, c = 0, h = 0, w = 0;
            for (int d = 0; d < o.ndims; d++) {
                switch (o.role[d]) {
                case DIM_N: n = coord[d]; break;
                case DIM_C: c = coord[d]; break;
                case DIM_H: h = coord[d]; break;
                case DIM_W: w = coord[d]; break;
                case DIM_CB: c += coord[d] * o.block; break;
                default: c += coord[d]; break;
                }
            }
            if (c < s->c) {
                uint64_t i = (uint64_t)((((s->first + n) * s->h + h) * s->w + w) * s->c + c);
                if (i / 4 != cached_draw) {
                    cached_draw = i / 4;
                    r = rng_u64(key, cached_draw);
                }
                bits |= (uint64_t)dropout_keeps_of_draw(r, threshold, i) << j;
            }
            for (int d = o.ndims - 1; d >= 0 && ++coord[d] == o.size[d]; d--) coord[d] = 0;
        }
        mask[wd] = bits;
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

/* The mask's view of the layer's activation at batch b. */
static dropout_shape layer_shape(const net *n, const layer *l, long b, long first)
{
    dnnl_format_tag_t tag = l->in.rank == 1 ? dnnl_nc : l->index == 0 ? n->input_tag : n->act_tag;
    return (dropout_shape){b, l->in.c, l->in.h, l->in.w, tag, first};
}

static int dropout_plan(net *n, layer *l, int v)
{
    if (v != 0) return GC_OK;
    dropout_shape s = layer_shape(n, l, l->plan[0].batch, 0);
    size_t elems = dropout_physical_elems(&s);
    if (elems != layer_out_elems(n, l, l->plan[0].batch))
        return gc_fail(GC_ERUNTIME, "%s: unsupported activation layout for dropout", l->name);
    char what[96];
    snprintf(what, sizeof what, "the mask of %s", l->name);
    return gc_alloc((void **)&l->mask, dropout_mask_words(elems) * sizeof(uint64_t), what);
}

static float dropout_scale(const layer *l) { return 1.0f / (1.0f - l->rate); }

static int dropout_forward(net *n, layer *l, const pass_ctx *p)
{
    if (!p->training || l->rate == 0.0f) return GC_OK;
    size_t elems = layer_out_elems(n, l, p->batch);
    dropout_shape s = layer_shape(n, l, p->batch, p->first_image);
    dropout_make_mask(l->mask, &s, l->rate, rng_key(p->noise_key, RNG_STREAM_DROPOUT, (uint64_t)l->dropout_ordinal, 0));
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

const layer_ops dropout_layer_ops = {
    .type = "Dropout",
    .in_place = true,
    .own_kernels = true,
    .plan = dropout_plan,
    .forward = dropout_forward,
    .backward = dropout_backward_layer,
};
