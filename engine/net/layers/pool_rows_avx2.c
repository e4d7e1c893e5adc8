/* The fused max-pool row kernels for AVX2 (this file alone is compiled with -mavx2 -mfma). */
#define POOL_ROWS_ISA avx2
#define POOL_ROWS_LANES 8
#include "engine/net/layers/pool_rows_body.h"
