/* The vector row kernels of the fused max-pool, written once with GCC's vector extensions.
 * A file defines POOL_ROWS_ISA (the table's suffix) and POOL_ROWS_LANES (floats per native
 * vector), is compiled with that ISA's flags and includes this body, which defines
 * pool_rows_<isa>(). A pixel's block of X channels is X / V vectors of V = min(X, lanes)
 * floats: wider generic vectors than the ISA's make gcc 12 fall back to scalar code. Results
 * are bit-identical across ISAs: integer hashing, compares, selects, one multiply, loads and
 * stores.
 *
 * Dropout's keep decisions are drawn inside the forward kernel, V channels at a time (V/4
 * splitmix64 draws of four 16-bit fields each, as dropout.h defines them), so no mask is ever
 * written or read: the draws' arithmetic overlaps the loads of the rows being pooled. */
#include <string.h>

#include "engine/base/rng.h"
#include "engine/net/layers/pool_rows.h"

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
    typedef uint16_t vw##V __attribute__((vector_size(2 * V)));                                      \
    typedef uint64_t vq##V __attribute__((vector_size(2 * V))); /* V / 4 draws */                    \
    typedef uint8_t vb##V __attribute__((vector_size(V)));                                           \
                                                                                                     \
    /* All ones in the lanes of the V channels at NHWC indices i .. i + V - 1 (i % 4 == 0) that      \
     * dropout keeps. Channel j is field j % 4 of draw i / 4 + j / 4, so the draws' 16-bit           \
     * fields in memory order are the channels in order. splitmix64's state of draw i / 4 + q        \
     * is key + (i / 4 + 1 + q) * golden: one scalar multiply, then lane_step[q] = q * golden. */    \
    static inline vi##V keep##V(uint64_t key, vi##V threshold, vq##V lane_step, uint64_t i)          \
    {                                                                                                \
        vq##V z = lane_step + (key + (i / 4 + 1) * RNG_GOLDEN);                                      \
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);                                          \
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);                                          \
        z ^= z >> 31;                                                                                \
        return __builtin_convertvector((vw##V)z, vi##V) >= threshold;                                \
    }                                                                                                \
                                                                                                     \
    /* best, arg = v, k where v > best (strictly: the first of equal maxima wins) */                 \
    static inline void select##V(vf##V v, int32_t k, vf##V *best, vi##V *arg)                        \
    {                                                                                                \
        vi##V m = v > *best;                                                                         \
        *best = (vf##V)(((vi##V)v & m) | ((vi##V)*best & ~m));                                       \
        *arg = (*arg & ~m) | (m & k);                                                                \
    }

/* Blocks of X channels in P = X / V vectors of V lanes. */
#define DEFINE_ROW_KERNELS(X, V)                                                                     \
    static void forward_row_##X(const pool_row *r)                                                   \
    {                                                                                                \
        enum { P = X / V };                                                                          \
        vq##V lane_step;                                                                             \
        for (int q = 0; q < V / 4; q++) lane_step[q] = (uint64_t)q * RNG_GOLDEN;                     \
        const vi##V threshold = (vi##V){0} + (int32_t)r->threshold;                                  \
        float sc = r->scale;                                                                         \
        int32_t sc_bits;                                                                             \
        memcpy(&sc_bits, &sc, sizeof sc_bits);                                                       \
        const vi##V scale = (vi##V){0} + sc_bits;                                                    \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            /* the window's four pixels: top-left, top-right, bottom-left, bottom-right */           \
            const long at[4] = {2 * ow, 2 * ow + 1, r->W + 2 * ow, r->W + 2 * ow + 1};               \
            for (int p = 0; p < P; p++) {                                                            \
                vf##V v[4];                                                                          \
                for (int k = 0; k < 4; k++) {                                                        \
                    memcpy(&v[k], r->in0 + at[k] * X + p * V, sizeof v[k]);                          \
                    if (r->drop) { /* v * scale where kept, v * 0 where dropped */                   \
                        uint64_t i = r->row_index + (uint64_t)(at[k] * r->C + p * V);                \
                        v[k] *= (vf##V)(keep##V(r->key, threshold, lane_step, i) & scale);               \
                    }                                                                                \
                }                                                                                    \
                vf##V best = v[0];                                                                   \
                vi##V arg = {0};                                                                     \
                for (int k = 1; k < 4; k++) select##V(v[k], k, &best, &arg);                         \
                vi##V positive = best > 0.0f; /* else code 4: no gradient flows back */              \
                arg = (arg & positive) | (4 & ~positive);                                            \
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
                vf##V dy;                                                                            \
                vb##V a8;                                                                            \
                memcpy(&dy, r->dy + e, sizeof dy);                                                   \
                memcpy(&a8, r->arg_in + e, sizeof a8);                                               \
                vi##V a = __builtin_convertvector(__builtin_convertvector(a8, vh##V), vi##V);        \
                vi##V g = (vi##V)(dy * r->scale);                                                    \
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
                                           backward_row_8};
    return &table;
}
