/* The fused max-pool row kernels for AVX-512 (this file alone is compiled with -mavx512f, -dq,
 * -vl and -bw: the 64-bit multiplies of the dropout draws are single instructions there). */
#define POOL_ROWS_ISA avx512
#define POOL_ROWS_LANES 16
#include "engine/net/layers/pool_rows_body.h"
