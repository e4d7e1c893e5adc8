/* Checked, 64-byte aligned allocation: a failure names what was being allocated. */
#ifndef GCBENCH_ENGINE_ALLOC_H
#define GCBENCH_ENGINE_ALLOC_H

#include <stddef.h>

#define GC_ALIGN 64

/* Allocates bytes (rounded up to GC_ALIGN), zero-filled, into *out. On failure returns
 * GC_ERUNTIME with a message naming `what` and the size. */
int gc_alloc(void **out, size_t bytes, const char *what);

/* Frees what gc_alloc returned; NULL is fine. */
void gc_free(void *p);

/* Rounds n up to a multiple of align (a power of two). */
static inline size_t gc_round_up(size_t n, size_t align) { return (n + align - 1) & ~(align - 1); }

#endif
