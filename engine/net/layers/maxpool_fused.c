#include "engine/net/layers/maxpool_fused.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "engine/net/layers/dropout.h"

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

/* One output row (n, block, oh) of the forward or backward pass: what the row kernels need. */
typedef struct {
    const float *in0;     /* forward: input rows 2*oh and 2*oh + 1 (in0 + W*X) */
    float *out;           /* forward: pooled row; backward: gradient rows 2*oh, 2*oh + 1 */
    uint8_t *arg;
    const float *dy, *y;  /* backward: the pooled row's gradient and values */
    const uint8_t *arg_in;
    long W, OW, X;
    /* dropout: keep bit of logical index i is bit (i - 64*first_word) of mask */
    const uint64_t *mask;
    uint64_t first_word;
    uint64_t row_index;   /* logical index of (h = 2*oh, w = 0, c = block's first channel) */
    long C, lanes;        /* channels, and real (non-padding) channels in this block */
    float scale;
    bool drop;
} pool_row;

static bool keep_bit(const pool_row *r, uint64_t i) { return (r->mask[(i >> 6) - r->first_word] >> (i & 63)) & 1; }

/* The portable row kernels: any block width. */
static void forward_row_any(const pool_row *r)
{
    for (long ow = 0; ow < r->OW; ow++)
        for (long ci = 0; ci < r->X; ci++) {
            float best = -INFINITY;
            uint8_t arg = 0;
            for (int k = 0; k < 4; k++) {
                long dy = k >> 1, dx = k & 1;
                float v = r->in0[(dy * r->W + 2 * ow + dx) * r->X + ci];
                if (r->drop) {
                    uint64_t i = r->row_index + (uint64_t)((dy * r->W + 2 * ow + dx) * r->C + ci);
                    v = ci < r->lanes && keep_bit(r, i) ? v * r->scale : 0.0f;
                }
                if (v > best) best = v, arg = (uint8_t)k;
            }
            r->out[ow * r->X + ci] = best;
            r->arg[ow * r->X + ci] = arg;
        }
}

static void backward_row_any(const pool_row *r)
{
    float *r0 = r->out, *r1 = r->out + r->W * r->X;
    for (long ow = 0; ow < r->OW; ow++)
        for (long ci = 0; ci < r->X; ci++) {
            long e = ow * r->X + ci;
            float g = r->y[e] > 0.0f ? r->dy[e] * r->scale : 0.0f;
            int a = r->arg_in[e];
            r0[(2 * ow) * r->X + ci] = a == 0 ? g : 0.0f;
            r0[(2 * ow + 1) * r->X + ci] = a == 1 ? g : 0.0f;
            r1[(2 * ow) * r->X + ci] = a == 2 ? g : 0.0f;
            r1[(2 * ow + 1) * r->X + ci] = a == 3 ? g : 0.0f;
        }
}

/* The vector row kernels for oneDNN's 16- and 8-channel blocks: one vector per pixel, written
 * once with GCC's vector extensions and compiled for AVX-512, AVX2 and the baseline, picked
 * at load time (target_clones). */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define ROW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ROW_CLONES
#endif

#define DEFINE_ROW_KERNELS(L)                                                                        \
    typedef float vf##L __attribute__((vector_size(4 * L)));                                         \
    typedef int32_t vi##L __attribute__((vector_size(4 * L)));                                       \
    typedef uint8_t vb##L __attribute__((vector_size(L)));                                           \
                                                                                                     \
    /* *v *= scale where the pixel's L channels are kept, 0 where dropped (pointers, not vector  \
     * arguments: the function inlines into each target clone) */                                   \
    static inline void apply_keep##L(const pool_row *r, uint64_t i, const vi##L *lane_bit,          \
                                     const vi##L *scale, vf##L *v)                                   \
    {                                                                                                \
        uint64_t b = i - (r->first_word << 6), s = b & 63;                                           \
        const uint64_t *w = r->mask + (b >> 6);                                                      \
        uint64_t bits = s ? (w[0] >> s) | (w[1] << (64 - s)) : w[0];                                 \
        if (r->lanes < L) bits &= (UINT64_C(1) << r->lanes) - 1;                                     \
        vi##L on = (((vi##L){0} + (int32_t)(bits & ((UINT64_C(1) << L) - 1))) & *lane_bit) != 0;     \
        *v *= (vf##L)(on & *scale);                                                                  \
    }                                                                                                \
                                                                                                     \
    ROW_CLONES static void forward_row_##L(const pool_row *r)                                        \
    {                                                                                                \
        vi##L lane_bit, scale;                                                                       \
        for (int j = 0; j < L; j++) lane_bit[j] = 1 << j;                                            \
        float sc = r->scale;                                                                         \
        int32_t sc_bits;                                                                             \
        memcpy(&sc_bits, &sc, sizeof sc_bits);                                                       \
        scale = (vi##L){0} + sc_bits;                                                                \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            vf##L v[4];                                                                              \
            for (int k = 0; k < 4; k++) {                                                            \
                long dy = k >> 1, dx = k & 1;                                                        \
                memcpy(&v[k], r->in0 + (dy * r->W + 2 * ow + dx) * L, sizeof v[k]);                 \
                if (r->drop)                                                                         \
                    apply_keep##L(r, r->row_index + (uint64_t)((dy * r->W + 2 * ow + dx) * r->C),       \
                                  &lane_bit, &scale, &v[k]);                                         \
            }                                                                                        \
            vf##L best = v[0];                                                                       \
            vi##L arg = {0};                                                                         \
            for (int k = 1; k < 4; k++) { /* strictly greater: the first of equal maxima wins */     \
                vi##L m = v[k] > best;                                                               \
                best = (vf##L)(((vi##L)v[k] & m) | ((vi##L)best & ~m));                              \
                arg = (arg & ~m) | (m & k);                                                          \
            }                                                                                        \
            vb##L a = __builtin_convertvector(arg, vb##L);                                           \
            memcpy(r->out + ow * L, &best, sizeof best);                                             \
            memcpy(r->arg + ow * L, &a, sizeof a);                                                   \
        }                                                                                            \
    }                                                                                                \
                                                                                                     \
    ROW_CLONES static void backward_row_##L(const pool_row *r)                                       \
    {                                                                                                \
        float *r0 = r->out, *r1 = r->out + r->W * L;                                                 \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            vf##L dy, y;                                                                             \
            vb##L a8;                                                                                \
            memcpy(&dy, r->dy + ow * L, sizeof dy);                                                  \
            memcpy(&y, r->y + ow * L, sizeof y);                                                     \
            memcpy(&a8, r->arg_in + ow * L, sizeof a8);                                              \
            vi##L a = __builtin_convertvector(a8, vi##L);                                            \
            vi##L g = (vi##L)(dy * r->scale) & (y > 0.0f);                                           \
            vf##L out[4];                                                                            \
            for (int k = 0; k < 4; k++) out[k] = (vf##L)(g & (a == k));                              \
            memcpy(r0 + (2 * ow) * L, &out[0], sizeof out[0]);                                       \
            memcpy(r0 + (2 * ow + 1) * L, &out[1], sizeof out[1]);                                   \
            memcpy(r1 + (2 * ow) * L, &out[2], sizeof out[2]);                                       \
            memcpy(r1 + (2 * ow + 1) * L, &out[3], sizeof out[3]);                                   \
        }                                                                                            \
    }

DEFINE_ROW_KERNELS(16)
DEFINE_ROW_KERNELS(8)

static void forward_row(const pool_row *r)
{
    if (r->X == 16) forward_row_16(r);
    else if (r->X == 8) forward_row_8(r);
    else forward_row_any(r);
}

static void backward_row(const pool_row *r)
{
    if (r->X == 16) backward_row_16(r);
    else if (r->X == 8) backward_row_8(r);
    else backward_row_any(r);
}

void maxpool_fused_forward(const float *x, float *y, uint8_t *argmax, const pool_geometry *g,
                           const pool_dropout *d, uint64_t *mask)
{
    const long cb_count = blocks(g), H = g->h, W = g->w, X = g->block, C = g->c;
    const long OH = pool_out_side(H), OW = pool_out_side(W);
    const uint64_t hwc = (uint64_t)(H * W * C), first_word = ((uint64_t)g->first * hwc) >> 6;
    const bool drop = d->rate > 0.0f;

    if (drop) {
        size_t words = maxpool_fused_mask_words(g, d);
        size_t per_task = 256; /* words per task: 16K elements, enough to amortize */
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < words; k += per_task)
            dropout_logical_mask(mask + k, first_word + k, words - k < per_task ? words - k : per_task, d->rate, d->key);
    }

#pragma omp parallel for collapse(3) schedule(static)
    for (long n = 0; n < g->n; n++)
        for (long cb = 0; cb < cb_count; cb++)
            for (long oh = 0; oh < OH; oh++) {
                size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                long lanes = C - cb * X < X ? C - cb * X : X;
                pool_row r = {
                    .in0 = x + (((n * cb_count + cb) * H + 2 * oh) * W) * X,
                    .out = y + o,
                    .arg = argmax + o,
                    .W = W, .OW = OW, .X = X,
                    .mask = mask, .first_word = first_word,
                    .row_index = (uint64_t)(g->first + n) * hwc + (uint64_t)(2 * oh * W * C + cb * X),
                    .C = C, .lanes = lanes,
                    .scale = drop ? 1.0f / (1.0f - d->rate) : 1.0f,
                    .drop = drop,
                };
                forward_row(&r);
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
                size_t o = (size_t)(((n * cb_count + cb) * OH + oh) * OW) * (size_t)X;
                pool_row r = {.out = plane + (2 * oh * W) * X, .dy = dy + o, .y = y + o, .arg_in = argmax + o,
                              .W = W, .OW = OW, .X = X, .scale = scale};
                backward_row(&r);
                /* an odd width leaves a column no window covers */
                for (long col = 2 * OW; col < W; col++)
                    for (long ci = 0; ci < X; ci++) r.out[col * X + ci] = r.out[(W + col) * X + ci] = 0.0f;
            }
            /* an odd height leaves a row no window covers */
            for (long row = 2 * OH; row < H; row++)
                for (long k = 0; k < W * X; k++) plane[row * W * X + k] = 0.0f;
        }
}
