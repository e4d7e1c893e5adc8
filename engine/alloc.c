#include "engine/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

int gc_alloc(void **out, size_t bytes, const char *what)
{
    size_t size = gc_round_up(bytes ? bytes : 1, GC_ALIGN);
    void *p = aligned_alloc(GC_ALIGN, size);
    if (!p) {
        *out = NULL;
        return gc_fail(GC_ERUNTIME, "out of memory allocating %s (%zu bytes)", what, size);
    }
    memset(p, 0, size);
    *out = p;
    return GC_OK;
}

void gc_free(void *p) { free(p); }
