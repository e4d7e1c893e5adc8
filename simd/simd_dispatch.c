/* Chooses the kernel table at run time from the CPU's features and GCBENCH_SIMD. */
#include <string.h>

#include "engine/error.h"
#include "simd/simd.h"

int simd_select(const char *request, const simd_kernels **out)
{
    const simd_kernels *best = simd_kernels_scalar();
    if (!request || !*request) {
        *out = best;
        return GC_OK;
    }
    if (strcmp(request, "scalar") == 0) {
        *out = simd_kernels_scalar();
        return GC_OK;
    }
    if (strcmp(request, "avx2") == 0 || strcmp(request, "avx512") == 0 ||
        strcmp(request, "neon") == 0)
        return gc_fail(GC_EUSAGE, "GCBENCH_SIMD=%s: this build has no %s kernels", request,
                       request);
    return gc_fail(GC_EUSAGE, "GCBENCH_SIMD=%s: unknown ISA (expected scalar, avx2, avx512 or neon)",
                   request);
}
