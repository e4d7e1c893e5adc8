/* The kernels for AArch64 NEON (built only when the target is aarch64). */
#define SIMD_ISA neon
#include "simd/vec_neon.h"
#include "simd/bf16_body.h"
#include "simd/simd_kernels_body.h"
