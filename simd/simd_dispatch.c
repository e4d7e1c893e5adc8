/* Chooses the kernel table at run time from the CPU's features and GCBENCH_SIMD. */
#include <stdio.h>
#include <string.h>

#include "engine/base/error.h"
#include "simd/simd.h"

/* "scalar, avx2, avx512": the ISAs for which keep(isa) holds. */
static const char *isa_list(char *buf, size_t len, bool (*keep)(const char *))
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; simd_isa_name(i); i++) {
        const char *name = simd_isa_name(i);
        if (!keep(name)) continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
        if (n < 0 || (size_t)n >= len - used) break;
        used += (size_t)n;
    }
    return buf;
}

static bool is_built(const char *isa) { return simd_kernels_built(isa) != NULL; }

int simd_select(const char *request, const simd_kernels **out)
{
    char list[128];
    if (!request || !*request) {
        *out = simd_best();
        return GC_OK;
    }
    bool known = false;
    for (size_t i = 0; simd_isa_name(i); i++) known = known || strcmp(simd_isa_name(i), request) == 0;
    if (!known)
        return gc_fail(GC_EUSAGE, "GCBENCH_SIMD=%s: unknown ISA (expected scalar, avx2, avx512 or neon)",
                       request);
    if (!is_built(request))
        return gc_fail(GC_EUSAGE, "GCBENCH_SIMD=%s: this build has no %s kernels (built in: %s)", request,
                       request, isa_list(list, sizeof list, is_built));
    if (!simd_cpu_supports(request))
        return gc_fail(GC_EUSAGE, "GCBENCH_SIMD=%s: this CPU does not support %s (it runs: %s)", request,
                       request, isa_list(list, sizeof list, simd_cpu_supports));
    *out = simd_kernels_built(request);
    return GC_OK;
}
