/* FNV-1a, 64 bits: the checksum of checkpoints and of the initial weights (init_checksum). */
#ifndef GCBENCH_ENGINE_BASE_FNV_H
#define GCBENCH_ENGINE_BASE_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT UINT64_C(0xcbf29ce484222325)

/* Continues hash h over size bytes: fnv1a64(FNV1A64_INIT, p, n) hashes p[0 .. n). */
static inline uint64_t fnv1a64(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#endif
