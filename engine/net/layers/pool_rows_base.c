/* The fused max-pool row kernels for the architecture's baseline (SSE2 on x86-64, NEON on
 * AArch64): no ISA flags. */
#define POOL_ROWS_ISA base
#define POOL_ROWS_LANES 4
#include "engine/net/layers/pool_rows_body.h"
