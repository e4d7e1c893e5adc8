/* The vector layer for AVX-512F: 16 float lanes, masked tails, sums in 8-lane double
 * accumulators. Included only by simd_kernels_avx512.c, which is compiled with -mavx512f.
 * See simd_kernels_body.h for the contract every vec_*.h fulfils. */
#ifndef GCBENCH_SIMD_VEC_AVX512_H
#define GCBENCH_SIMD_VEC_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_LANES 16

typedef __m512 vf;
typedef __m512d vd;

static inline vf vf_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_storeu(float *p, vf x) { _mm512_storeu_ps(p, x); }
static inline vf vf_set1(float x) { return _mm512_set1_ps(x); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_sqrt(vf a) { return _mm512_sqrt_ps(a); }

/* The first n lanes, 0 < n <= VF_LANES. */
static inline __mmask16 vf_mask_(size_t n) { return (__mmask16)((1u << n) - 1u); }

/* Partial loads read only the first n floats (masked lanes do not fault) and zero the rest;
 * partial stores write only the first n. */
static inline vf vf_load_part(const float *p, size_t n) { return _mm512_maskz_loadu_ps(vf_mask_(n), p); }
static inline void vf_store_part(float *p, vf x, size_t n) { _mm512_mask_storeu_ps(p, vf_mask_(n), x); }

static inline vd vd_zero(void) { return _mm512_setzero_pd(); }
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
/* VF_LANES / 2 floats at p, widened to double (the load folds into the conversion). */
static inline vd vd_widen(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
/* acc + the low / high half of x, widened to double. */
static inline vd vd_add_lo(vd acc, vf x) { return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(x))); }
static inline vd vd_add_hi(vd acc, vf x)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(hi));
}
static inline double vd_reduce(vd a) { return _mm512_reduce_add_pd(a); }

/* 32-bit integer lanes, for the bf16 conversions' integer rounding (simd/bf16_body.h). */
typedef __m512i vu;
typedef __mmask16 vmask; /* the lanes where a comparison holds */

static inline vu vu_of_vf(vf x) { return _mm512_castps_si512(x); }
static inline vf vf_of_vu(vu x) { return _mm512_castsi512_ps(x); }
static inline vu vu_set1(uint32_t x) { return _mm512_set1_epi32((int)x); }
static inline vu vu_add(vu a, vu b) { return _mm512_add_epi32(a, b); }
static inline vu vu_and(vu a, vu b) { return _mm512_and_si512(a, b); }
static inline vu vu_or(vu a, vu b) { return _mm512_or_si512(a, b); }
static inline vu vu_shr16(vu a) { return _mm512_srli_epi32(a, 16); }
static inline vu vu_shl16(vu a) { return _mm512_slli_epi32(a, 16); }
static inline vmask vf_isnan(vf x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
static inline vu vu_select(vmask m, vu if_set, vu if_clear) { return _mm512_mask_blend_epi32(m, if_clear, if_set); }

/* VF_LANES 16-bit values, zero-extended into the lanes / the low 16 bits of each lane (which
 * must be below 2^16) stored (vpmovdw). AVX-512F has masked 16-bit stores through vpmovdw but
 * no masked 16-bit loads: partial loads go through a buffer. */
static inline vu vu_load_u16(const uint16_t *p) { return _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)); }
static inline void vu_store_u16(uint16_t *p, vu x) { _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(x)); }
static inline vu vu_load_u16_part(const uint16_t *p, size_t n)
{
    uint16_t buf[VF_LANES] = {0};
    memcpy(buf, p, n * sizeof *p);
    return vu_load_u16(buf);
}
static inline void vu_store_u16_part(uint16_t *p, vu x, size_t n) { _mm512_mask_cvtepi32_storeu_epi16(p, vf_mask_(n), x); }

#endif
