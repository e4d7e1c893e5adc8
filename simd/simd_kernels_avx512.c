/* The kernels for AVX-512F (this file alone is compiled with -mavx512f). */
#define SIMD_ISA avx512
#include "simd/vec_avx512.h"
#include "simd/bf16_body.h"
#include "simd/simd_kernels_body.h"
