#include "engine/net/layers/maxpool_fused.h"

#include <stdbool.h>
#include <string.h>

#include "engine/net/layers/dropout.h"
#include "engine/net/layers/pool_rows.h"
#include "simd/bf16.h"
#include "simd/simd.h"

long pool_block_of(dnnl_format_tag_t tag, long channels)
{
    switch (tag) {
    case dnnl_nChw16c: return 16;
    case dnnl_nChw8c: return 8;
    case dnnl_nhwc: return channels;
    default: return 1;
    }
}

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

/* Element i of a row buffer of either type, as f32; and the store back (bf16 rounded). */
static float load_elem(bool bf16_elem, const void *p, long i)
{
    return bf16_elem ? f32_from_bf16(((const bf16 *)p)[i]) : ((const float *)p)[i];
}

static void store_elem(bool bf16_elem, void *p, long i, float v)
{
    if (bf16_elem)
        ((bf16 *)p)[i] = bf16_from_f32(v);
    else
        ((float *)p)[i] = v;
}

/* The portable row kernels: any block width, channel count and element type. */
static void forward_row_any(const pool_row *r)
{
    for (long ow = 0; ow < r->OW; ow++)
        for (long ci = 0; ci < r->X; ci++) {
            float best = 0.0f;
            uint8_t arg = 0;
            for (int k = 0; k < 4; k++) {
                long dy = k >> 1, dx = k & 1;
                float v = load_elem(r->bf16, r->in0, (dy * r->W + 2 * ow + dx) * r->X + ci);
                if (r->drop) {
                    uint64_t i = r->row_index + (uint64_t)((dy * r->W + 2 * ow + dx) * r->C + ci);
                    v = ci < r->lanes && dropout_keeps(r->key, r->threshold, i) ? v * r->scale : 0.0f;
                }
                if (k == 0 || v > best) best = v, arg = (uint8_t)k; /* a NaN first stays */
            }
            store_elem(r->bf16, r->out, ow * r->X + ci, best);
            r->arg[ow * r->X + ci] = best > 0.0f ? arg : POOL_ARG_NONE;
        }
}

static void backward_row_any(const pool_row *r)
{
    const bool dx_bf16 = r->bf16 && !r->dx_f32; /* the type dx is stored in */
    char *r1 = (char *)r->out + (size_t)(r->W * r->X) * (dx_bf16 ? sizeof(bf16) : sizeof(float));
    for (long ow = 0; ow < r->OW; ow++)
        for (long ci = 0; ci < r->X; ci++) {
            long e = ow * r->X + ci;
            float g = load_elem(r->bf16, r->dy, e) * r->scale;
            int a = r->arg_in[e];
            store_elem(dx_bf16, r->out, (2 * ow) * r->X + ci, a == 0 ? g : 0.0f);
            store_elem(dx_bf16, r->out, (2 * ow + 1) * r->X + ci, a == 1 ? g : 0.0f);
            store_elem(dx_bf16, r1, (2 * ow) * r->X + ci, a == 2 ? g : 0.0f);
            store_elem(dx_bf16, r1, (2 * ow + 1) * r->X + ci, a == 3 ? g : 0.0f);
        }
}

/* Blocks of 8 to 64 channels run the vector kernels of this CPU's ISA (pool_rows.h). */
const pool_row_kernels *pool_rows_best(void)
{
#if defined(GCBENCH_POOL_ROWS_X86)
    if (simd_cpu_supports("avx512")) return pool_rows_avx512();
    if (simd_cpu_supports("avx2")) return pool_rows_avx2();
#endif
    return pool_rows_base();
}

static size_t elem_bytes(pool_elem e) { return e == POOL_BF16 ? sizeof(bf16) : sizeof(float); }

/* The vector kernels need whole draws per block (pool_rows.h), and the bf16 ones compare the
 * draws' fields in 16 bits: a threshold of 65536 (a rate within 2^-17 of 1) takes the portable
 * kernel. */
static pool_row_fn forward_row(const pool_row_kernels *k, long X, long C, pool_elem e, uint32_t threshold)
{
    int w = pool_row_width_index(X);
    return C % 4 != 0 || w < 0 || threshold > UINT16_MAX ? forward_row_any : k->forward[w][e];
}

static pool_row_fn backward_row(const pool_row_kernels *k, long X, pool_elem e, pool_elem dx)
{
    int w = pool_row_width_index(X);
    if (w < 0) return backward_row_any;
    return e == dx ? k->backward[w][e] : k->backward_widening[w];
}

void maxpool_fused_forward(const void *x, void *y, uint8_t *argmax, const pool_geometry *g, const pool_dropout *d)
{
    const long cb_count = blocks(g), H = g->h, W = g->w, X = g->block, C = g->c;
    const long OH = pool_out_side(H), OW = pool_out_side(W);
    const uint64_t hwc = (uint64_t)(H * W * C);
    const bool drop = d->rate > 0.0f;
    const uint32_t threshold = drop ? dropout_threshold(d->rate) : 0;
    const float scale = drop ? 1.0f / (1.0f - d->rate) : 1.0f;
    const size_t es = elem_bytes(g->elem);
    const pool_row_fn kernel = forward_row(pool_rows_best(), X, C, g->elem, threshold);

#pragma omp parallel for collapse(3) schedule(static)
    for (long n = 0; n < g->n; n++)
        for (long cb = 0; cb < cb_count; cb++)
            for (long oh = 0; oh < OH; oh++) {
                size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                long lanes = C - cb * X < X ? C - cb * X : X;
                pool_row r = {
                    .in0 = (const char *)x + (size_t)((((n * cb_count + cb) * H + 2 * oh) * W) * X) * es,
                    .out = (char *)y + o * es,
                    .arg = argmax + o,
                    .W = W, .OW = OW, .X = X,
                    .key = d->key, .threshold = threshold,
                    .row_index = (uint64_t)(g->first + n) * hwc + (uint64_t)(2 * oh * W * C + cb * X),
                    .C = C, .lanes = lanes,
                    .scale = scale,
                    .drop = drop,
                    .bf16 = g->elem == POOL_BF16,
                };
                kernel(&r);
            }
}

void maxpool_fused_backward(const void *dy, const uint8_t *argmax, void *dx, const pool_geometry *g,
                            const pool_dropout *d)
{
    const long cb_count = blocks(g), H = g->h, W = g->w, X = g->block;
    const long OH = pool_out_side(H), OW = pool_out_side(W);
    const float scale = d->rate > 0.0f ? 1.0f / (1.0f - d->rate) : 1.0f;
    const pool_elem dx_elem = g->dx_f32 ? POOL_F32 : g->elem;
    const size_t es = elem_bytes(g->elem), es_dx = elem_bytes(dx_elem);
    const pool_row_fn kernel = backward_row(pool_rows_best(), X, g->elem, dx_elem);

    /* rows of windows in parallel, as the forward: parallel over images and blocks only left
     * one thread working on a chunk of one image in one block (nhwc, or 16 channels) */
#pragma omp parallel
    {
#pragma omp for collapse(3) schedule(static) nowait
        for (long n = 0; n < g->n; n++)
            for (long cb = 0; cb < cb_count; cb++)
                for (long oh = 0; oh < OH; oh++) {
                    char *plane = (char *)dx + (size_t)((n * cb_count + cb) * H * W * X) * es_dx;
                    size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                    char *rows = plane + (size_t)(2 * oh * W * X) * es_dx;
                    pool_row r = {.out = rows, .dy = (const char *)dy + o * es, .arg_in = argmax + o,
                                  .W = W, .OW = OW, .X = X, .scale = scale, .bf16 = g->elem == POOL_BF16,
                                  .dx_f32 = g->dx_f32};
                    kernel(&r);
                    /* an odd width leaves a column no window covers (all-zero bits: +0 in both types) */
                    for (long col = 2 * OW; col < W; col++) {
                        memset(rows + (size_t)(col * X) * es_dx, 0, (size_t)X * es_dx);
                        memset(rows + (size_t)((W + col) * X) * es_dx, 0, (size_t)X * es_dx);
                    }
                }
        /* an odd height leaves a row no window covers */
        if (H > 2 * OH) {
#pragma omp for collapse(2) schedule(static)
            for (long n = 0; n < g->n; n++)
                for (long cb = 0; cb < cb_count; cb++) {
                    char *plane = (char *)dx + (size_t)((n * cb_count + cb) * H * W * X) * es_dx;
                    for (long row = 2 * OH; row < H; row++)
                        memset(plane + (size_t)(row * W * X) * es_dx, 0, (size_t)(W * X) * es_dx);
                }
        }
    }
}
