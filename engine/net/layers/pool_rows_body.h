/* The vector row kernels of the fused max-pool, written once with GCC's vector extensions.
 * A file defines POOL_ROWS_ISA (the table's suffix) and POOL_ROWS_LANES (floats per native
 * vector), is compiled with that ISA's flags and includes this body, which defines
 * pool_rows_<isa>(). A pixel's block of X channels is X / V vectors of V = min(X, lanes)
 * floats: wider generic vectors than the ISA's make gcc 12 fall back to scalar code. Results
 * are bit-identical across ISAs: integer hashing, compares, selects, one multiply, loads and
 * stores.
 *
 * bf16 rows are read as pairs of channels: a 32-bit word of a row holds channel 2j in its low
 * half and 2j + 1 in its high half, so L words widen to the even and the odd channels' f32
 * vectors by a shift and a mask, and narrow back by a shift and an or, with no lane-width
 * conversions (which made the bf16 kernels slower than f32's at half the bytes). Lane j of
 * both vectors is word j's pair; the arithmetic is the f32 kernels', lane for lane.
 *
 * Dropout's keep decisions are drawn inside the forward kernel, V channels at a time (V/4
 * splitmix64 draws of four 16-bit fields each, as dropout.h defines them), so no mask is ever
 * written or read: the draws' arithmetic overlaps the loads of the rows being pooled. */
#include <string.h>

#include "engine/base/rng.h"
#include "engine/net/layers/pool_rows.h"
#include "engine/net/layers/pool_rows_convert.h"
#include "simd/bf16.h"

#define POOL_CAT2_(a, b) a##_##b
#define POOL_CAT_(a, b) POOL_CAT2_(a, b)
#define POOL_STR2_(x) #x
#define POOL_STR_(x) POOL_STR2_(x)

/* Vectors of V lanes; the conversions between their widths are pool_rows_convert.h's. */
#define DEFINE_VECTOR_TYPES(V)                                                                       \
    typedef float vf##V __attribute__((vector_size(4 * V)));                                         \
    typedef int32_t vi##V __attribute__((vector_size(4 * V)));                                       \
    typedef uint32_t vu##V __attribute__((vector_size(4 * V)));                                      \
    typedef int16_t vh##V __attribute__((vector_size(2 * V)));                                       \
    typedef uint16_t vw##V __attribute__((vector_size(2 * V)));                                      \
    typedef uint64_t vq##V __attribute__((vector_size(2 * V))); /* V / 4 draws */                    \
    typedef uint8_t vb##V __attribute__((vector_size(V)));

#define DEFINE_VECTORS(V) DEFINE_VECTOR_TYPES(V) POOL_ROWS_CONVERSIONS(V) DEFINE_VECTOR_OPS(V)

#define DEFINE_VECTOR_OPS(V)                                                                         \
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
        return (vi##V)u32_from_u16_##V((vw##V)z) >= threshold;                                       \
    }                                                                                                \
                                                                                                     \
    /* V elements from and to memory, as f32 vectors (bf16 widens exactly; the pair kernels read    \
     * their 32-bit words through load_f32 and a cast). */                                           \
    static inline vf##V load_f32_##V(const void *p)                                                  \
    {                                                                                                \
        vf##V v;                                                                                     \
        memcpy(&v, p, sizeof v);                                                                     \
        return v;                                                                                    \
    }                                                                                                \
    static inline void store_f32_##V(void *p, vf##V v) { memcpy(p, &v, sizeof v); }                  \
    static inline vf##V load_bf16_##V(const void *p)                                                 \
    {                                                                                                \
        vw##V h;                                                                                     \
        memcpy(&h, p, sizeof h);                                                                     \
        return (vf##V)(u32_from_u16_##V(h) << 16);                                                   \
    }                                                                                                \
    /* The backward pass's four outputs of a window: g where the argmax code is k, else 0. */        \
    static inline void route_f32_##V(void *const out[4], vf##V g, vb##V a8)                          \
    {                                                                                                \
        vi##V a = i32_from_u8_##V(a8);                                                               \
        for (int k = 0; k < 4; k++) {                                                                \
            vf##V o = (vf##V)((vi##V)g & (a == k));                                                  \
            memcpy(out[k], &o, sizeof o);                                                            \
        }                                                                                            \
    }                                                                                                \
    /* best, arg = v, k where v > best (strictly: the first of equal maxima wins) */                 \
    static inline void select##V(vf##V v, int32_t k, vf##V *best, vi##V *arg)                        \
    {                                                                                                \
        vi##V m = v > *best;                                                                         \
        *best = (vf##V)(((vi##V)v & m) | ((vi##V)*best & ~m));                                       \
        *arg = (*arg & ~m) | (m & k);                                                                \
    }

/* bf16 rows as pairs of channels (see the top): vectors of L 32-bit words, 2L channels. */
#define DEFINE_PAIR_TYPES(L)                                                                         \
    typedef uint16_t vpw##L __attribute__((vector_size(4 * L))); /* 2L bf16 or codes */              \
    typedef uint8_t vpb##L __attribute__((vector_size(2 * L)));  /* 2L codes */                      \
    typedef uint64_t vpq##L __attribute__((vector_size(4 * L))); /* their L / 2 draws */

#define DEFINE_PAIRS(L) DEFINE_PAIR_TYPES(L) POOL_PAIR_CONVERSIONS(L) DEFINE_PAIR_OPS(L)

#define DEFINE_PAIR_OPS(L)                                                                           \
    static inline void widen_pair##L(vu##L w, vf##L *even, vf##L *odd)                               \
    {                                                                                                \
        *even = (vf##L)(w << 16);                                                                    \
        *odd = (vf##L)(w & 0xffff0000u);                                                             \
    }                                                                                                \
    /* v's bf16 in the high half (the low half is left over): simd/bf16.h's narrowing, nearest      \
     * even with a NaN made quiet; when v is known to be a bf16 value (exact), only the NaN part. */ \
    static inline vu##L bf16_high##L(vf##L v, bool exact)                                            \
    {                                                                                                \
        vu##L u = (vu##L)v;                                                                          \
        vu##L nan = (vu##L)((u & 0x7fffffffu) > 0x7f800000u);                                        \
        vu##L kept = exact ? u : u + 0x7fffu + ((u >> 16) & 1u);                                     \
        return (nan & (u | BF16_QUIET_BIT << 16)) | (~nan & kept);                                   \
    }                                                                                                \
    static inline vu##L narrow_pair##L(vf##L even, vf##L odd, bool exact)                           \
    {                                                                                                \
        return (bf16_high##L(odd, exact) & 0xffff0000u) | (bf16_high##L(even, exact) >> 16);         \
    }                                                                                                \
    /* keep##V's decisions for the 2L channels at NHWC index i, as a mask of their 16-bit lanes: the \
     * draws' fields are the channels in order, as the row's bf16 are (threshold < 65536). */        \
    static inline vpw##L keep_pair##L(uint64_t key, vpw##L threshold, vpq##L lane_step, uint64_t i)  \
    {                                                                                                \
        vpq##L z = lane_step + (key + (i / 4 + 1) * RNG_GOLDEN);                                     \
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);                                          \
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);                                          \
        z ^= z >> 31;                                                                                \
        return (vpw##L)((vpw##L)z >= threshold);                                                     \
    }

/* The bf16 kernels of blocks of X channels, Q = X / 2L pair vectors a pixel. Each is specialised
 * for whether its products need rounding: without dropout the pooled values are loaded ones,
 * and a power-of-two scale (rate 0.5) multiplies bf16 values exactly. */
#define DEFINE_BF16_ROW_KERNELS(X, L)                                                                \
    static inline __attribute__((always_inline)) void forward_pairs_##X(const pool_row *r, bool drop, \
                                                                        bool exact)                  \
    {                                                                                                \
        enum { Q = X / (2 * L) };                                                                    \
        vpq##L lane_step;                                                                            \
        for (int q = 0; q < L / 2; q++) lane_step[q] = (uint64_t)q * RNG_GOLDEN;                     \
        const vpw##L threshold = (vpw##L){0} + (uint16_t)r->threshold;                               \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            const long at[4] = {2 * ow, 2 * ow + 1, r->W + 2 * ow, r->W + 2 * ow + 1};               \
            for (int q = 0; q < Q; q++) {                                                            \
                vf##L e[4], o[4];                                                                    \
                for (int k = 0; k < 4; k++) {                                                        \
                    vu##L w = (vu##L)load_f32_##L((const bf16 *)r->in0 + at[k] * X + q * 2 * L);  \
                    if (drop) { /* +0 where dropped, before widening; v * scale where kept */        \
                        uint64_t i = r->row_index + (uint64_t)(at[k] * r->C + q * 2 * L);            \
                        w &= (vu##L)keep_pair##L(r->key, threshold, lane_step, i);                   \
                    }                                                                                \
                    widen_pair##L(w, &e[k], &o[k]);                                                  \
                    if (drop) e[k] *= r->scale, o[k] *= r->scale;                                    \
                }                                                                                    \
                vf##L be = e[0], bo = o[0];                                                          \
                vi##L ae = {0}, ao = {0};                                                            \
                for (int k = 1; k < 4; k++) select##L(e[k], k, &be, &ae), select##L(o[k], k, &bo, &ao); \
                vi##L pe = be > 0.0f, po = bo > 0.0f; /* else code 4: no gradient flows back */      \
                ae = (ae & pe) | (4 & ~pe);                                                          \
                ao = (ao & po) | (4 & ~po);                                                          \
                vu##L y = narrow_pair##L(be, bo, exact);                                             \
                vw##L codes = u16_from_u32_##L((vu##L)(ae | ao << 8));                               \
                memcpy((bf16 *)r->out + ow * X + q * 2 * L, &y, sizeof y);                           \
                memcpy(r->arg + ow * X + q * 2 * L, &codes, sizeof codes);                           \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
    static void forward_row_##X##_bf16(const pool_row *r)                                            \
    {                                                                                                \
        if (!r->drop) forward_pairs_##X(r, false, true);                                             \
        else if (pool_scale_is_exact(r->scale)) forward_pairs_##X(r, true, true);                    \
        else forward_pairs_##X(r, true, false);                                                      \
    }                                                                                                \
                                                                                                     \
    /* g = dy * scale narrowed once, then routed as 16-bit lanes (narrowing 0 gives 0) */            \
    static inline __attribute__((always_inline)) void backward_pairs_##X(const pool_row *r, bool exact) \
    {                                                                                                \
        enum { Q = X / (2 * L) };                                                                    \
        bf16 *r0 = r->out, *r1 = (bf16 *)r->out + r->W * X;                                          \
        for (long ow = 0; ow < r->OW; ow++)                                                          \
            for (int q = 0; q < Q; q++) {                                                            \
                long e = ow * X + q * 2 * L;                                                         \
                vf##L ge, go;                                                                        \
                widen_pair##L((vu##L)load_f32_##L((const bf16 *)r->dy + e), &ge, &go);            \
                vpw##L g = (vpw##L)narrow_pair##L(ge * r->scale, go * r->scale, exact);              \
                vpb##L a8;                                                                           \
                memcpy(&a8, r->arg_in + e, sizeof a8);                                               \
                vpw##L a = pair_codes_widen##L(a8);                                                  \
                bf16 *const out[4] = {r0 + 2 * ow * X + q * 2 * L, r0 + (2 * ow + 1) * X + q * 2 * L, \
                                      r1 + 2 * ow * X + q * 2 * L, r1 + (2 * ow + 1) * X + q * 2 * L}; \
                for (int k = 0; k < 4; k++) {                                                        \
                    vpw##L o = g & (vpw##L)(a == (uint16_t)k);                                       \
                    memcpy(out[k], &o, sizeof o);                                                    \
                }                                                                                    \
            }                                                                                        \
    }                                                                                                \
    static void backward_row_##X##_bf16(const pool_row *r)                                           \
    {                                                                                                \
        if (pool_scale_is_exact(r->scale)) backward_pairs_##X(r, true);                              \
        else backward_pairs_##X(r, false);                                                           \
    }

/* The f32 kernels of blocks of X channels, in P = X / V vectors of V lanes. */
#define DEFINE_F32_ROW_KERNELS(X, V)                                                                 \
    static void forward_row_##X##_f32(const pool_row *r)                                             \
    {                                                                                                \
        enum { P = X / V };                                                                          \
        vq##V lane_step;                                                                             \
        for (int q = 0; q < V / 4; q++) lane_step[q] = (uint64_t)q * RNG_GOLDEN;                     \
        const vi##V threshold = (vi##V){0} + (int32_t)r->threshold;                                  \
        for (long ow = 0; ow < r->OW; ow++) {                                                        \
            /* the window's four pixels: top-left, top-right, bottom-left, bottom-right */           \
            const long at[4] = {2 * ow, 2 * ow + 1, r->W + 2 * ow, r->W + 2 * ow + 1};               \
            for (int p = 0; p < P; p++) {                                                            \
                vf##V v[4];                                                                          \
                for (int k = 0; k < 4; k++) {                                                        \
                    v[k] = load_f32_##V((const float *)r->in0 + at[k] * X + p * V);                 \
                    if (r->drop) { /* v * scale where kept, +0 where dropped */                      \
                        uint64_t i = r->row_index + (uint64_t)(at[k] * r->C + p * V);                \
                        v[k] = (vf##V)((vi##V)(v[k] * r->scale) & keep##V(r->key, threshold, lane_step, i)); \
                    }                                                                                \
                }                                                                                    \
                vf##V best = v[0];                                                                   \
                vi##V arg = {0};                                                                     \
                for (int k = 1; k < 4; k++) select##V(v[k], k, &best, &arg);                         \
                vi##V positive = best > 0.0f; /* else code 4: no gradient flows back */              \
                arg = (arg & positive) | (4 & ~positive);                                            \
                vb##V a = u8_from_i32_##V(arg);                                                      \
                store_f32_##V((float *)r->out + ow * X + p * V, best);                                \
                memcpy(r->arg + ow * X + p * V, &a, sizeof a);                                       \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
                                                                                                     \
    DEFINE_BACKWARD_ROW(X, V, f32, f32, 4, f32, 4)

/* The backward row kernel NAME: dy of type TD (ED bytes), dx of type TX (EX bytes). */
#define DEFINE_BACKWARD_ROW(X, V, NAME, TD, ED, TX, EX)                                              \
    static void backward_row_##X##_##NAME(const pool_row *r)                                         \
    {                                                                                                \
        enum { P = X / V };                                                                          \
        char *r0 = r->out, *r1 = (char *)r->out + (size_t)(r->W * X) * EX;                           \
        for (long ow = 0; ow < r->OW; ow++)                                                          \
            for (int p = 0; p < P; p++) {                                                            \
                long e = ow * X + p * V;                                                             \
                vf##V dy = load_##TD##_##V((const char *)r->dy + (size_t)e * ED);                    \
                vb##V a8;                                                                            \
                memcpy(&a8, r->arg_in + e, sizeof a8);                                               \
                void *const out[4] = {r0 + (size_t)((2 * ow) * X + p * V) * EX,                      \
                                      r0 + (size_t)((2 * ow + 1) * X + p * V) * EX,                  \
                                      r1 + (size_t)((2 * ow) * X + p * V) * EX,                      \
                                      r1 + (size_t)((2 * ow + 1) * X + p * V) * EX};                 \
                route_##TX##_##V(out, dy * r->scale, a8);                                            \
            }                                                                                        \
    }

/* Every kernel of a block width: f32 in vectors of V lanes, bf16 in pairs of L words. */
#define DEFINE_BLOCK_KERNELS(X, V, L)                                                                \
    DEFINE_F32_ROW_KERNELS(X, V) DEFINE_BACKWARD_ROW(X, V, widening, bf16, 2, f32, 4) DEFINE_BF16_ROW_KERNELS(X, L)

/* The vectors and pairs of one lane count. */
#define DEFINE_LANES(V) DEFINE_VECTORS(V) DEFINE_PAIRS(V)

#if POOL_ROWS_LANES >= 16
DEFINE_LANES(16)
DEFINE_LANES(8)
DEFINE_LANES(4)
DEFINE_BLOCK_KERNELS(64, 16, 16)
DEFINE_BLOCK_KERNELS(32, 16, 16)
DEFINE_BLOCK_KERNELS(16, 16, 8)
DEFINE_BLOCK_KERNELS(8, 8, 4)
#elif POOL_ROWS_LANES == 8
DEFINE_LANES(8)
DEFINE_LANES(4)
DEFINE_BLOCK_KERNELS(64, 8, 8)
DEFINE_BLOCK_KERNELS(32, 8, 8)
DEFINE_BLOCK_KERNELS(16, 8, 8)
DEFINE_BLOCK_KERNELS(8, 8, 4)
#else
DEFINE_LANES(4)
DEFINE_BLOCK_KERNELS(64, 4, 4)
DEFINE_BLOCK_KERNELS(32, 4, 4)
DEFINE_BLOCK_KERNELS(16, 4, 4)
DEFINE_BLOCK_KERNELS(8, 4, 4)
#endif

#define POOL_ROW_ENTRY(dir, X) {[POOL_F32] = dir##_row_##X##_f32, [POOL_BF16] = dir##_row_##X##_bf16}

const pool_row_kernels *POOL_CAT_(pool_rows, POOL_ROWS_ISA)(void)
{
    static const pool_row_kernels table = {
        .isa = POOL_STR_(POOL_ROWS_ISA),
        .forward = {POOL_ROW_ENTRY(forward, 8), POOL_ROW_ENTRY(forward, 16), POOL_ROW_ENTRY(forward, 32),
                    POOL_ROW_ENTRY(forward, 64)},
        .backward = {POOL_ROW_ENTRY(backward, 8), POOL_ROW_ENTRY(backward, 16), POOL_ROW_ENTRY(backward, 32),
                     POOL_ROW_ENTRY(backward, 64)},
        .backward_widening = {backward_row_8_widening, backward_row_16_widening, backward_row_32_widening,
                              backward_row_64_widening},
    };
    return &table;
}
