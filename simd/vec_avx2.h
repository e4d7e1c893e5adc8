/* The vector layer for AVX2 + FMA: 8 float lanes, sums in 4-lane double accumulators.
 * Included only by simd_kernels_avx2.c, which is compiled with -mavx2 -mfma. See
 * simd_kernels_body.h for the contract every vec_*.h fulfils. */
#ifndef GCBENCH_SIMD_VEC_AVX2_H
#define GCBENCH_SIMD_VEC_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_LANES 8

typedef __m256 vf;
typedef __m256d vd;

static inline vf vf_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_storeu(float *p, vf x) { _mm256_storeu_ps(p, x); }
static inline vf vf_set1(float x) { return _mm256_set1_ps(x); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm256_sqrt_ps(a); }

/* The first n lanes (0 < n <= VF_LANES) set: a window into a row of -1s followed by 0s. */
static inline __m256i vf_mask_(size_t n)
{
    static const int32_t bits[2 * VF_LANES] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256((const __m256i *)(bits + VF_LANES - n));
}

/* Partial loads read only the first n floats (masked lanes do not fault) and zero the rest;
 * partial stores write only the first n. */
static inline vf vf_load_part(const float *p, size_t n) { return _mm256_maskload_ps(p, vf_mask_(n)); }
static inline void vf_store_part(float *p, vf x, size_t n) { _mm256_maskstore_ps(p, vf_mask_(n), x); }

static inline vd vd_zero(void) { return _mm256_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
/* VF_LANES / 2 floats at p, widened to double (the load folds into the conversion). */
static inline vd vd_widen(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
/* acc + the low / high half of x, widened to double. */
static inline vd vd_add_lo(vd acc, vf x) { return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(x))); }
static inline vd vd_add_hi(vd acc, vf x) { return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))); }
static inline double vd_reduce(vd a)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* 32-bit integer lanes, for the bf16 conversions' integer rounding (simd/bf16_body.h). */
typedef __m256i vu;
typedef __m256i vmask; /* all ones in the lanes where a comparison holds */

static inline vu vu_of_vf(vf x) { return _mm256_castps_si256(x); }
static inline vf vf_of_vu(vu x) { return _mm256_castsi256_ps(x); }
static inline vu vu_set1(uint32_t x) { return _mm256_set1_epi32((int)x); }
static inline vu vu_add(vu a, vu b) { return _mm256_add_epi32(a, b); }
static inline vu vu_and(vu a, vu b) { return _mm256_and_si256(a, b); }
static inline vu vu_or(vu a, vu b) { return _mm256_or_si256(a, b); }
static inline vu vu_shr16(vu a) { return _mm256_srli_epi32(a, 16); }
static inline vu vu_shl16(vu a) { return _mm256_slli_epi32(a, 16); }
static inline vmask vf_isnan(vf x) { return _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }
static inline vu vu_select(vmask m, vu if_set, vu if_clear) { return _mm256_blendv_epi8(if_clear, if_set, m); }

/* VF_LANES 16-bit values, zero-extended into the lanes / the low 16 bits of each lane (which
 * must be below 2^16) stored. No 16-bit masked access in AVX2: tails through a buffer. */
static inline vu vu_load_u16(const uint16_t *p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)); }
static inline void vu_store_u16(uint16_t *p, vu x)
{
    /* packus packs within each 128-bit half: x0..3 x0..3 | x4..7 x4..7; keep quadwords 0 and 2 */
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(x, x), 0x08);
    _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
}
static inline vu vu_load_u16_part(const uint16_t *p, size_t n)
{
    uint16_t buf[VF_LANES] = {0};
    memcpy(buf, p, n * sizeof *p);
    return vu_load_u16(buf);
}
static inline void vu_store_u16_part(uint16_t *p, vu x, size_t n)
{
    uint16_t buf[VF_LANES];
    vu_store_u16(buf, x);
    memcpy(p, buf, n * sizeof *p);
}

#endif
