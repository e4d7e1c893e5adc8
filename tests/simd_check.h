/* Checks a kernel table against the scalar reference. Plain C on simd/ alone (no Criterion,
 * no engine, no oneDNN): test_simd.c asserts on it, and the NEON program built for aarch64
 * and run under qemu-aarch64 (simd_neon_main.c) uses it as is.
 *
 * Tolerances, per kernel:
 *   center_rows, rmsprop, gc_rmsprop, fused_update (and fused vs unfused): every element of the result
 *     within 2 ulp of the reference (they are expected bit-identical: same operations in
 *     the same order, IEEE sqrt and division, no contraction into FMA).
 *   row_means: |mean - reference| <= 1e-6 * (sum over the row of |g|) / cols, i.e. relative
 *     to the row's mean magnitude, since a mean near zero after cancellation has no
 *     meaningful relative error of its own.
 * Every output array is surrounded by guard values that must survive (tails write only
 * their own elements), and const inputs must come back unchanged. */
#ifndef GCBENCH_TESTS_SIMD_CHECK_H
#define GCBENCH_TESTS_SIMD_CHECK_H

#include <stddef.h>

#include "simd/simd.h"

#define SIMD_CHECK_MAX_ULP 2
#define SIMD_CHECK_MEAN_REL 1e-6

typedef enum {
    SIMD_CHECK_ROW_MEANS,   /* row_means vs the reference */
    SIMD_CHECK_CENTER_ROWS, /* center_rows vs the reference, on the reference's means */
    SIMD_CHECK_RMSPROP,     /* two rmsprop steps vs the reference */
    SIMD_CHECK_GC_RMSPROP,  /* two gc_rmsprop steps vs the reference */
    SIMD_CHECK_FUSED,       /* gc_rmsprop vs row_means + center_rows + rmsprop, same table */
    SIMD_CHECK_UPDATE,      /* fused_update vs the reference: every rule, GC mode and weight decay form */
    SIMD_CHECK_KINDS
} simd_check_kind;

const char *simd_check_kind_name(simd_check_kind kind);

/* Runs one check on every test shape (the tails: 1, 7, 15, 16, 17, 31, 33, 4099 columns;
 * the model's tensors: 16x27, 32x144, 64x288, 64x576, 512x3136, 1x512) with every array
 * starting 0..3 floats past a 64-byte boundary. SIMD_CHECK_UPDATE, with 54 combinations per
 * shape, runs on its own smaller shapes: every row length 1..37, odd rows x cols, and the
 * model's smaller kernels (optimizer_step's tests cover the large ones). Returns the number of failures and describes
 * the first in msg. */
size_t simd_check_all(const simd_kernels *k, simd_check_kind kind, char *msg, size_t len);

#endif
