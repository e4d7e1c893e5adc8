/* bfloat16 (bf16): the upper half of an IEEE binary32 (1 sign, 8 exponent, 7 mantissa bits),
 * held as its raw 16 bits. These are the scalar definitions of the conversions; every
 * vectorized conversion (simd/bf16_body.h) is tested bit for bit against them.
 *
 * f32 -> bf16 (bf16_from_f32):
 *   - finite values round to nearest, ties to even, on the 16 dropped bits; a value that
 *     rounds past the largest finite bf16 becomes infinity of its sign (what IEEE rounding
 *     to nearest does);
 *   - +-infinity and +-0 are exact;
 *   - denormals are kept, rounded like any other value (not flushed to zero); the largest
 *     ones may round up to the smallest normal bf16, which is exact IEEE behaviour too;
 *   - NaN stays NaN: the sign and the upper 7 payload bits are kept and the quiet bit is
 *     set, so a signalling NaN (or one whose payload lies only in the dropped bits) comes out
 *     a quiet NaN, never an infinity.
 * The integer method: add 0x7fff plus the lowest kept bit, then drop the low 16 bits. The
 * carry rounds up exactly when the dropped bits exceed half, or equal half with an odd kept
 * part; a carry out of the mantissa steps the exponent (which is how rounding into the next
 * binade, or to infinity, comes out right). Only NaN needs its own case.
 *
 * oneDNN 2.6's bf16 reorder agrees on every value but denormals. Where it runs natively on
 * AVX512-BF16 it converts with vcvtneps2bf16, which treats denormal inputs as zero: they come
 * out a zero of their sign (on an AMD Zen 4, 1782 of the 1782 denormals of the test set that
 * round to nonzero). With its ISA capped below that (ONEDNN_MAX_CPU_ISA=AVX512_CORE) its
 * emulated conversion keeps them and equals this one bit for bit. tests/test_bf16_onednn.c
 * checks all three statements on the machine it runs on. gcbench keeps denormals: a flushed
 * gradient is a lost update, and keeping them costs nothing in the integer method.
 *
 * bf16 -> f32 (f32_from_bf16) is exact: the 16 bits become the upper half, the lower half 0. */
#ifndef GCBENCH_SIMD_BF16_H
#define GCBENCH_SIMD_BF16_H

#include <stdint.h>
#include <string.h>

typedef uint16_t bf16; /* raw bits */

#define BF16_QUIET_BIT 0x0040u /* the mantissa's top bit: set in a quiet NaN */

static inline uint32_t bf16_bits_of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline bf16 bf16_from_f32(float f)
{
    uint32_t u = bf16_bits_of_f32(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16)((u >> 16) | BF16_QUIET_BIT); /* NaN */
    return (bf16)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float f32_from_bf16(bf16 b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif
