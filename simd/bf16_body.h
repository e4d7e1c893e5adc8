/* The bf16 conversions, written once against the vector layer and compiled once per ISA,
 * bit for bit the scalar definitions of simd/bf16.h (which also states their semantics).
 *
 * A simd_kernels_<isa>.c defines SIMD_ISA and includes its vec_<isa>.h, then this file, then
 * simd_kernels_body.h, whose table names the two functions defined here. Besides the float
 * vector (vf, VF_LANES, vf_loadu, vf_storeu, vf_load_part, vf_store_part), the vector layer
 * provides for them:
 *   vu, vu_of_vf, vf_of_vu        VF_LANES 32-bit integer lanes, bit casts from and to vf
 *   vu_set1, vu_add, vu_and, vu_or, vu_shr16, vu_shl16   (logical shifts by 16)
 *   vmask, vf_isnan, vu_select    the NaN lanes of a vf; per lane, one of two vu
 *   vu_load_u16, vu_store_u16     VF_LANES 16-bit values, zero-extended / narrowed (the lanes
 *                                 hold values below 2^16)
 *   vu_load_u16_part, vu_store_u16_part   the first n of them, 0 < n <= VF_LANES (the rest
 *                                 load as 0 and are not stored)
 *
 * The rounding is integer arithmetic, not AVX512-BF16's vcvtneps2bf16: that instruction
 * flushes denormals (simd/bf16.h), and integer operations give the same bits on every ISA
 * whatever the floating-point environment (DAZ/FTZ) says. */
#include <stddef.h>
#include <stdint.h>

#include "simd/bf16.h"

#define BF16_CAT2_(a, b) a##_##b
#define BF16_CAT_(a, b) BF16_CAT2_(a, b)
#define BF16_K(name) BF16_CAT_(name, SIMD_ISA)

/* bf16_from_f32 on every lane; the results in the lanes' low 16 bits. */
static inline vu bf16_round_vec(vf x)
{
    vu u = vu_of_vf(x);
    vu high = vu_shr16(u);
    vu rounded = vu_shr16(vu_add(u, vu_add(vu_set1(0x7fffu), vu_and(high, vu_set1(1u)))));
    vu quiet = vu_or(high, vu_set1(BF16_QUIET_BIT));
    return vu_select(vf_isnan(x), quiet, rounded);
}

/* dst[i] = bf16_from_f32(src[i]), i < n. */
static void BF16_K(f32_to_bf16)(bf16 *dst, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
        vu a = bf16_round_vec(vf_loadu(src + i)), b = bf16_round_vec(vf_loadu(src + i + VF_LANES));
        vu_store_u16(dst + i, a);
        vu_store_u16(dst + i + VF_LANES, b);
    }
    for (; i + VF_LANES <= n; i += VF_LANES) vu_store_u16(dst + i, bf16_round_vec(vf_loadu(src + i)));
    if (i < n) vu_store_u16_part(dst + i, bf16_round_vec(vf_load_part(src + i, n - i)), n - i);
}

/* dst[i] = f32_from_bf16(src[i]), i < n: exact. */
static void BF16_K(bf16_to_f32)(float *dst, const bf16 *src, size_t n)
{
    size_t i = 0;
    for (; i + 2 * VF_LANES <= n; i += 2 * VF_LANES) {
        vf a = vf_of_vu(vu_shl16(vu_load_u16(src + i))), b = vf_of_vu(vu_shl16(vu_load_u16(src + i + VF_LANES)));
        vf_storeu(dst + i, a);
        vf_storeu(dst + i + VF_LANES, b);
    }
    for (; i + VF_LANES <= n; i += VF_LANES) vf_storeu(dst + i, vf_of_vu(vu_shl16(vu_load_u16(src + i))));
    if (i < n) vf_store_part(dst + i, vf_of_vu(vu_shl16(vu_load_u16_part(src + i, n - i))), n - i);
}
