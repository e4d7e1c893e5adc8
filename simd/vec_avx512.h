/* The vector layer for AVX-512F: 16 float lanes, masked tails, sums in 8-lane double
 * accumulators. Included only by simd_kernels_avx512.c, which is compiled with -mavx512f.
 * See simd_kernels_body.h for the contract every vec_*.h fulfils. */
#ifndef GCBENCH_SIMD_VEC_AVX512_H
#define GCBENCH_SIMD_VEC_AVX512_H

#include <immintrin.h>
#include <stddef.h>

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

#endif
