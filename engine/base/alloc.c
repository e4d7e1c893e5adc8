#include "engine/base/alloc.h"

#include <stdint.h>
#include <stdlib.h>

#include "engine/base/error.h"

/* calloc, not aligned_alloc + memset: for large blocks glibc maps fresh zero pages and skips
 * the memset, so a buffer costs resident memory only where it is written (the network's own
 * input batch, for one, is never touched while a loader supplies batches). The block is
 * aligned by hand and the pointer calloc returned is kept just below it. */
int gc_alloc(void **out, size_t bytes, const char *what)
{
    size_t size = gc_round_up(bytes ? bytes : 1, GC_ALIGN);
    void *raw = calloc(1, size + GC_ALIGN + sizeof(void *));
    if (!raw) {
        *out = NULL;
        return gc_fail(GC_ERUNTIME, "out of memory allocating %s (%zu bytes)", what, size);
    }
    uintptr_t aligned = gc_round_up((uintptr_t)raw + sizeof(void *), GC_ALIGN);
    ((void **)aligned)[-1] = raw;
    *out = (void *)aligned;
    return GC_OK;
}

void gc_free(void *p)
{
    if (p) free(((void **)p)[-1]);
}
