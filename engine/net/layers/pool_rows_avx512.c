/* The fused max-pool row kernels for AVX-512F (this file alone is compiled with -mavx512f). */
#define POOL_ROWS_ISA avx512
#define POOL_ROWS_LANES 16
#include "engine/net/layers/pool_rows_body.h"
