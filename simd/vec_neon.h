/* The vector layer for AArch64 Advanced SIMD (NEON): 4 float lanes, sums in 2-lane double
 * accumulators, tails through a small buffer. Included only by simd_kernels_neon.c (built
 * only for aarch64, where NEON is always present). See simd_kernels_body.h for the contract
 * every vec_*.h fulfils. */
#ifndef GCBENCH_SIMD_VEC_NEON_H
#define GCBENCH_SIMD_VEC_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VF_LANES 4

typedef float32x4_t vf;
typedef float64x2_t vd;

static inline vf vf_loadu(const float *p) { return vld1q_f32(p); }
static inline void vf_storeu(float *p, vf x) { vst1q_f32(p, x); }
static inline vf vf_set1(float x) { return vdupq_n_f32(x); }
static inline vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vf_sqrt(vf a) { return vsqrtq_f32(a); }

/* NEON has no masked memory access: a tail of n elements (0 < n <= VF_LANES) goes through a
 * zeroed buffer of a whole vector, so only the first n are read or written. Defines
 * load_part and store_part over the whole-vector load and store; used for the float lanes
 * and for the 16-bit values of the bf16 conversions. */
#define VEC_NEON_TAILS(vec, elem, load, store, load_part, store_part) \
    static inline vec load_part(const elem *p, size_t n)            \
    {                                                               \
        elem buf[VF_LANES] = {0};                                   \
        memcpy(buf, p, n * sizeof *p);                              \
        return load(buf);                                           \
    }                                                               \
    static inline void store_part(elem *p, vec x, size_t n)         \
    {                                                               \
        elem buf[VF_LANES];                                         \
        store(buf, x);                                              \
        memcpy(p, buf, n * sizeof *p);                              \
    }

VEC_NEON_TAILS(vf, float, vld1q_f32, vst1q_f32, vf_load_part, vf_store_part)

static inline vd vd_zero(void) { return vdupq_n_f64(0.0); }
static inline vd vd_add(vd a, vd b) { return vaddq_f64(a, b); }
/* VF_LANES / 2 floats at p, widened to double. */
static inline vd vd_widen(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
/* acc + the low / high half of x, widened to double. */
static inline vd vd_add_lo(vd acc, vf x) { return vaddq_f64(acc, vcvt_f64_f32(vget_low_f32(x))); }
static inline vd vd_add_hi(vd acc, vf x) { return vaddq_f64(acc, vcvt_high_f64_f32(x)); }
static inline double vd_reduce(vd a) { return vaddvq_f64(a); }

/* 32-bit integer lanes, for the bf16 conversions' integer rounding (simd/bf16_body.h). */
typedef uint32x4_t vu;
typedef uint32x4_t vmask; /* all ones in the lanes where a comparison holds */

static inline vu vu_of_vf(vf x) { return vreinterpretq_u32_f32(x); }
static inline vf vf_of_vu(vu x) { return vreinterpretq_f32_u32(x); }
static inline vu vu_set1(uint32_t x) { return vdupq_n_u32(x); }
static inline vu vu_add(vu a, vu b) { return vaddq_u32(a, b); }
static inline vu vu_and(vu a, vu b) { return vandq_u32(a, b); }
static inline vu vu_or(vu a, vu b) { return vorrq_u32(a, b); }
static inline vu vu_shr16(vu a) { return vshrq_n_u32(a, 16); }
static inline vu vu_shl16(vu a) { return vshlq_n_u32(a, 16); }
static inline vmask vf_isnan(vf x) { return vmvnq_u32(vceqq_f32(x, x)); } /* NaN alone is unequal to itself */
static inline vu vu_select(vmask m, vu if_set, vu if_clear) { return vbslq_u32(m, if_set, if_clear); }

/* VF_LANES 16-bit values, zero-extended into the lanes / the low 16 bits of each lane (which
 * must be below 2^16) stored; tails through a buffer, as above. */
static inline vu vu_load_u16(const uint16_t *p) { return vmovl_u16(vld1_u16(p)); }
static inline void vu_store_u16(uint16_t *p, vu x) { vst1_u16(p, vmovn_u32(x)); }
VEC_NEON_TAILS(vu, uint16_t, vu_load_u16, vu_store_u16, vu_load_u16_part, vu_store_u16_part)

#undef VEC_NEON_TAILS

#endif
