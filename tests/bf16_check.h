/* Checks a kernel table's bf16 conversions. Plain C on simd/ alone, like simd_check.h:
 * test_simd_bf16.c asserts on it and the NEON program under qemu-aarch64 runs it as is.
 *
 * Every check is exact (bits, not ulps): the conversions are integer arithmetic with one
 * defined result per input (simd/bf16.h).
 *   BF16_CHECK_KNOWN: hand-written answers (ties either way, NaN payloads, infinities,
 *     denormals, overflow to infinity) through k; catches a wrong reference as well as a
 *     wrong vector kernel, since the scalar table is checked against the same answers.
 *   BF16_CHECK_TO_BF16: f32 -> bf16 against the scalar reference on every upper half
 *     (65536: every sign, exponent, upper mantissa, so every NaN, infinity and denormal
 *     class) combined with the lower halves at the rounding boundaries (0, 1, 0x7fff,
 *     0x8000, 0x8001, 0xffff) and a pseudo-random one.
 *   BF16_CHECK_TO_F32: bf16 -> f32 on all 65536 values against the reference.
 *   BF16_CHECK_ROUND_TRIP: bf16 -> f32 -> bf16 gives every value back (NaNs already quiet
 *     come back unchanged; signalling ones come back quiet).
 * Each runs on lengths 1 .. 3 vectors + 1 (every tail of every width) and long arrays, each
 * array starting 0..3 elements past a 64-byte boundary, with guard values around every
 * output (a tail writes only its own elements) and inputs checked unchanged. */
#ifndef GCBENCH_TESTS_BF16_CHECK_H
#define GCBENCH_TESTS_BF16_CHECK_H

#include <stddef.h>

#include "simd/simd.h"

typedef enum {
    BF16_CHECK_KNOWN,
    BF16_CHECK_TO_BF16,
    BF16_CHECK_TO_F32,
    BF16_CHECK_ROUND_TRIP,
    BF16_CHECK_KINDS
} bf16_check_kind;

const char *bf16_check_kind_name(bf16_check_kind kind);

/* Runs one check; returns the number of failures and describes the first in msg. */
size_t bf16_check_all(const simd_kernels *k, bf16_check_kind kind, char *msg, size_t len);

#endif
