/* The kernels for AVX2 + FMA (this file alone is compiled with -mavx2 -mfma). */
#define SIMD_ISA avx2
#include "simd/vec_avx2.h"
#include "simd/bf16_body.h"
#include "simd/simd_kernels_body.h"
