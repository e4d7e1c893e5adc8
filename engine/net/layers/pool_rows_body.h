/* The vector row kernels of the fused max-pool, written once with GCC's vector extensions.
 * A file defines POOL_ROWS_ISA (the table's suffix) and POOL_ROWS_LANES (floats per native
 * vector), is compiled with that ISA's flags and includes this body, which defines
 * pool_rows_<isa>(). A pixel's block of X channels is X / V vectors of V = min(X, lanes)
 * floats: wider generic vectors than the ISA's make gcc 12 fall back to scalar code. Results
 * are bit-identical across ISAs: only compares, selects, one multiply, loads and stores. */
#include <string.h>

#include "engine/net/layers/pool_rows.h"
#include "engine/net/layers/dropout_mask_body.h"

#define POOL_CAT2_(a, b) a##_##b
#define POOL_CAT_(a, b) POOL_CAT2_(a, b)
#define POOL_STR2_(x) #x
#define POOL_STR_(x) POOL_STR2_(x)

/* Vectors of V lanes. Byte <-> int32 conversions go through int16: gcc 12 lowers the
 * one-step conversion to scalar code. */
#define DEFINE_VECTORS(V)                                                                            \
    typedef float vf##V __attribute__((vector_size(4 * V)));                                         \
    typedef int32_t vi##V __attribute__((vector_size(4 * V)));                                       \
    typedef int16_t vh##V __attribute__((vector_size(2 * V)));                                       \
    typedef uint8_t vb##V __attribute__((vector_size(V)));                                           \
                                                                                                     \
    /* *v *= scale where the V channels whose keep bits are bits' low V bits are kept, else 0 */     \
    static inline void apply_keep##V(uint64_t bits, vi##V lane_bit, vi##V scale, vf##V *v)           \
    {                                                                                                \
        vi##V on = (((vi##V){0} + (int32_t)(bits & ((UINT64_C(1) << V) - 1))) & lane_bit) != 0;      \
        *v *= (vf##V)(on & scale);                                                                   \
    }                                                                                                \
                                                                                                     \
    /* best, arg = v, k where v > best (strictly: the first of equal maxima wins) */                 \
    static inline void select##V(vf##V v, int32_t k, vf##V *best, vi##V *arg)                        \
    {                                                                                                \
        vi##V m = v > *best;                                                                         \
        *best = (vf##V)(((vi##V)v & m) | ((vi##V)*best & ~m));                                       \
        *arg = (*arg & ~m) | (m & k);                                                                \
    }

/* The keep bits of the block's channels at logical index i (bit j: channel j), padding
 * channels dropped. */
static inline uint64_t keep_bits(const pool_row *r, uint64_t i)
{
    uint64_t b = i - (r->first_word << 6), s = b & 63;
    const uint64_t *w = r->mask + (b >> 6);
    uint64_t bits = s ? (w[0] >> s) | (w[1] << (64 - s)) : w[0];
    return r->lanes < 64 ? bits & ((UINT64_C(1) << r->lanes) - 1) : bits;
}

/* Blocks of X channels in P = X / V vectors of V lanes. */
#define DEFINE_ROW_KERNELS(X, V)                                                                     \
    static void forward_row_##X(const pool_row *r)                                                   \
    {                                                                                                \
        enum { P = X / V };                                                                          \
        vi##V lane_bit, scale;                                                                       \
        for (int j = 0; j < V; j++) lane_bit[j] = 1 << j;                                            \
        float sc = r->scale;                                                                         \
        int32_t sc_bits;                                                                             \
        memcpy(&sc_bits, &sc, sizeof sc_bits);                                                       \
        scale = (vi##V){0} + sc_bits;                                                                \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            /* the window's four pixels, each X channels: top-left, top-right, bottom-left, ... */   \
            const float *px[4] = {r->in0 + (2 * ow) * X, r->in0 + (2 * ow + 1) * X,                  \
                                  r->in0 + (r->W + 2 * ow) * X, r->in0 + (r->W + 2 * ow + 1) * X};   \
            uint64_t keep[4] = {0, 0, 0, 0};                                                         \
            if (r->drop) {                                                                           \
                uint64_t i0 = r->row_index + (uint64_t)(2 * ow * r->C), i2 = i0 + (uint64_t)(r->W * r->C); \
                keep[0] = keep_bits(r, i0);                                                          \
                keep[1] = keep_bits(r, i0 + (uint64_t)r->C);                                         \
                keep[2] = keep_bits(r, i2);                                                          \
                keep[3] = keep_bits(r, i2 + (uint64_t)r->C);                                         \
            }                                                                                        \
            for (int p = 0; p < P; p++) {                                                            \
                vf##V v[4];                                                                          \
                for (int k = 0; k < 4; k++) {                                                        \
                    memcpy(&v[k], px[k] + p * V, sizeof v[k]);                                       \
                    if (r->drop) apply_keep##V(keep[k] >> (p * V), lane_bit, scale, &v[k]);          \
                }                                                                                    \
                vf##V best = v[0];                                                                   \
                vi##V arg = {0};                                                                     \
                for (int k = 1; k < 4; k++) select##V(v[k], k, &best, &arg);                         \
                vb##V a = __builtin_convertvector(__builtin_convertvector(arg, vh##V), vb##V);       \
                memcpy(r->out + ow * X + p * V, &best, sizeof best);                                 \
                memcpy(r->arg + ow * X + p * V, &a, sizeof a);                                       \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
                                                                                                     \
    static void backward_row_##X(const pool_row *r)                                                  \
    {                                                                                                \
        enum { P = X / V };                                                                          \
        float *r0 = r->out, *r1 = r->out + r->W * X;                                                 \
        for (long ow = 0; ow < r->OW; ow++)                                                          \
            for (int p = 0; p < P; p++) {                                                            \
                long e = ow * X + p * V;                                                             \
                vf##V dy, y;                                                                         \
                vb##V a8;                                                                            \
                memcpy(&dy, r->dy + e, sizeof dy);                                                   \
                memcpy(&y, r->y + e, sizeof y);                                                      \
                memcpy(&a8, r->arg_in + e, sizeof a8);                                               \
                vi##V a = __builtin_convertvector(__builtin_convertvector(a8, vh##V), vi##V);        \
                vi##V g = (vi##V)(dy * r->scale) & (y > 0.0f);                                       \
                vf##V o0 = (vf##V)(g & (a == 0)), o1 = (vf##V)(g & (a == 1));                        \
                vf##V o2 = (vf##V)(g & (a == 2)), o3 = (vf##V)(g & (a == 3));                        \
                memcpy(r0 + (2 * ow) * X + p * V, &o0, sizeof o0);                                   \
                memcpy(r0 + (2 * ow + 1) * X + p * V, &o1, sizeof o1);                               \
                memcpy(r1 + (2 * ow) * X + p * V, &o2, sizeof o2);                                   \
                memcpy(r1 + (2 * ow + 1) * X + p * V, &o3, sizeof o3);                               \
            }                                                                                        \
    }

#if POOL_ROWS_LANES >= 16
DEFINE_VECTORS(16)
DEFINE_VECTORS(8)
DEFINE_ROW_KERNELS(16, 16)
DEFINE_ROW_KERNELS(8, 8)
#elif POOL_ROWS_LANES == 8
DEFINE_VECTORS(8)
DEFINE_ROW_KERNELS(16, 8)
DEFINE_ROW_KERNELS(8, 8)
#else
DEFINE_VECTORS(4)
DEFINE_ROW_KERNELS(16, 4)
DEFINE_ROW_KERNELS(8, 4)
#endif

const pool_row_kernels *POOL_CAT_(pool_rows, POOL_ROWS_ISA)(void)
{
    static const pool_row_kernels table = {POOL_STR_(POOL_ROWS_ISA), forward_row_16, backward_row_16, forward_row_8,
                                           backward_row_8, dropout_mask_vec};
    return &table;
}
