/* The lane-width conversions of the fused max-pool's row kernels (pool_rows_body.h), in the
 * instructions of the ISA the including file is compiled for. gcc 12 lowers
 * __builtin_convertvector's widenings to two half-width conversions and an insert (five
 * instructions where vpmovzxwd is one) and its narrowings to permutes. Each function computes
 * what its generic fallback does, bit for bit (truncation for the narrowings, zero extension
 * for the widenings): test_pool_rows compares every ISA against the baseline build.
 *
 * Included by pool_rows_body.h after DEFINE_VECTOR_TYPES(V) for each V it builds:
 * POOL_ROWS_CONVERSIONS(V) defines, for vectors of V lanes,
 *   u32_from_u16_V  (vwV -> vuV)   zero-extend
 *   u16_from_u32_V  (vuV -> vwV)   truncate
 *   u8_from_i32_V   (viV -> vbV)   truncate
 *   i32_from_u8_V   (vbV -> viV)   zero-extend
 * and, after DEFINE_PAIR_TYPES(L), POOL_PAIR_CONVERSIONS(L) for the bf16 kernels' 2L codes:
 *   pair_codes_widenL (vpbL -> vpwL)   zero-extend */
#ifndef GCBENCH_ENGINE_LAYERS_POOL_ROWS_CONVERT_H
#define GCBENCH_ENGINE_LAYERS_POOL_ROWS_CONVERT_H

#include <stdint.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define POOL_GENERIC_CONVERSIONS(V)                                                                  \
    static inline vu##V u32_from_u16_##V(vw##V h) { return __builtin_convertvector(h, vu##V); }      \
    static inline vw##V u16_from_u32_##V(vu##V u) { return __builtin_convertvector(u, vw##V); }      \
    /* through int16: gcc 12 lowers the one-step conversions to scalar code */                       \
    static inline vb##V u8_from_i32_##V(vi##V a)                                                     \
    {                                                                                                \
        return __builtin_convertvector(__builtin_convertvector(a, vh##V), vb##V);                    \
    }                                                                                                \
    static inline vi##V i32_from_u8_##V(vb##V a)                                                     \
    {                                                                                                \
        return __builtin_convertvector(__builtin_convertvector(a, vh##V), vi##V);                    \
    }

/* 8 bytes in and out of the low half of an SSE register */
#if defined(__AVX2__)
static inline __m128i pool_lo64_in(const void *b8)
{
    int64_t v;
    memcpy(&v, b8, sizeof v);
    return _mm_cvtsi64_si128(v);
}

static inline void pool_lo64_out(void *b8, __m128i x)
{
    int64_t v = _mm_cvtsi128_si64(x);
    memcpy(b8, &v, sizeof v);
}
#endif

/* 16 lanes: one vpmov[zx] each (AVX-512F and BW) */
#if defined(__AVX512F__) && defined(__AVX512BW__)
#define POOL_CONVERSIONS_16                                                                          \
    static inline vu16 u32_from_u16_16(vw16 h) { return (vu16)_mm512_cvtepu16_epi32((__m256i)h); }  \
    static inline vw16 u16_from_u32_16(vu16 u) { return (vw16)_mm512_cvtepi32_epi16((__m512i)u); }  \
    static inline vb16 u8_from_i32_16(vi16 a) { return (vb16)_mm512_cvtepi32_epi8((__m512i)a); }    \
    static inline vi16 i32_from_u8_16(vb16 a) { return (vi16)_mm512_cvtepu8_epi32((__m128i)a); }
#else
#define POOL_CONVERSIONS_16 POOL_GENERIC_CONVERSIONS(16)
#endif

/* 8 lanes: AVX2 widens in one instruction; it narrows by a mask and packs (AVX-512VL in one) */
#if defined(__AVX512VL__) && defined(__AVX512BW__)
#define POOL_NARROWINGS_8                                                                            \
    static inline vw8 u16_from_u32_8(vu8 u) { return (vw8)_mm256_cvtepi32_epi16((__m256i)u); }      \
    static inline vb8 u8_from_i32_8(vi8 a)                                                           \
    {                                                                                                \
        vb8 b;                                                                                       \
        pool_lo64_out(&b, _mm256_cvtepi32_epi8((__m256i)a));                                         \
        return b;                                                                                    \
    }
#elif defined(__AVX2__)
#define POOL_NARROWINGS_8                                                                            \
    static inline vw8 u16_from_u32_8(vu8 u)                                                          \
    {                                                                                                \
        __m256i m = _mm256_and_si256((__m256i)u, _mm256_set1_epi32(0xffff));                         \
        __m256i p = _mm256_packus_epi32(m, m); /* lanes 0-3 and 4-7 in each 128-bit half */          \
        return (vw8)_mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0x08));                       \
    }                                                                                                \
    static inline vb8 u8_from_i32_8(vi8 a)                                                           \
    {                                                                                                \
        /* byte 0 of each lane to the bottom of its 128-bit half, then the halves side by side */    \
        const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,   \
                                              -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1,   \
                                              -1, -1, -1, -1);                                       \
        __m256i s = _mm256_shuffle_epi8((__m256i)a, pick);                                           \
        vb8 b;                                                                                       \
        pool_lo64_out(&b, _mm_unpacklo_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1))); \
        return b;                                                                                    \
    }
#endif

#if defined(__AVX2__)
#define POOL_CONVERSIONS_8                                                                           \
    static inline vu8 u32_from_u16_8(vw8 h) { return (vu8)_mm256_cvtepu16_epi32((__m128i)h); }      \
    static inline vi8 i32_from_u8_8(vb8 a) { return (vi8)_mm256_cvtepu8_epi32(pool_lo64_in(&a)); }   \
    POOL_NARROWINGS_8
#else
#define POOL_CONVERSIONS_8 POOL_GENERIC_CONVERSIONS(8)
#endif

#define POOL_CONVERSIONS_4 POOL_GENERIC_CONVERSIONS(4)

#define POOL_ROWS_CONVERSIONS(V) POOL_CONVERSIONS_##V

/* 2L codes to 16-bit lanes: one vpmovzxbw (AVX-512BW for 32 lanes, AVX2 for 16 and 8) */
#define POOL_GENERIC_PAIR_CONVERSIONS(L)                                                             \
    static inline vpw##L pair_codes_widen##L(vpb##L a) { return __builtin_convertvector(a, vpw##L); }
#if defined(__AVX512BW__)
#define POOL_PAIR_CONVERSIONS_16                                                                     \
    static inline vpw16 pair_codes_widen16(vpb16 a) { return (vpw16)_mm512_cvtepu8_epi16((__m256i)a); }
#else
#define POOL_PAIR_CONVERSIONS_16 POOL_GENERIC_PAIR_CONVERSIONS(16)
#endif
#if defined(__AVX2__)
#define POOL_PAIR_CONVERSIONS_8                                                                      \
    static inline vpw8 pair_codes_widen8(vpb8 a) { return (vpw8)_mm256_cvtepu8_epi16((__m128i)a); }
#define POOL_PAIR_CONVERSIONS_4                                                                      \
    static inline vpw4 pair_codes_widen4(vpb4 a) { return (vpw4)_mm_cvtepu8_epi16(pool_lo64_in(&a)); }
#else
#define POOL_PAIR_CONVERSIONS_8 POOL_GENERIC_PAIR_CONVERSIONS(8)
#define POOL_PAIR_CONVERSIONS_4 POOL_GENERIC_PAIR_CONVERSIONS(4)
#endif
#define POOL_PAIR_CONVERSIONS(L) POOL_PAIR_CONVERSIONS_##L

#endif
