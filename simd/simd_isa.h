/* Inside simd/: the per-ISA kernel tables, and a test seam over the CPU probe. */
#ifndef GCBENCH_SIMD_SIMD_ISA_H
#define GCBENCH_SIMD_SIMD_ISA_H

#include <stdbool.h>

#include "simd/simd.h"

/* Defined by simd_kernels_<isa>.c, each built only for its architecture. */
const simd_kernels *simd_kernels_avx2(void);
const simd_kernels *simd_kernels_avx512(void);
const simd_kernels *simd_kernels_neon(void);

/* Tests only: makes simd_cpu_supports(isa) (or simd_cpu_has for a feature, such as
 * "avx512_bf16") report false (hide) or the CPU's answer again, so the "CPU lacks it" paths
 * can be exercised on a CPU that has everything. Not thread-safe. */
void simd_cpu_hide(const char *isa, bool hide);

#endif
