/* The dropout mask generator of the fused layers, vectorized: the keep bits of
 * dropout_logical_mask (engine/net/layers/dropout.h, its scalar reference), bit for bit,
 * MASK_LANES splitmix64 draws at a time. Included by pool_rows_body.h, so it is compiled once
 * per ISA with that file's flags, and its vectors are GCC's generic ones, of the ISA's width.
 *
 * Each 64-bit word of mask holds 64 elements: 16 draws of 4 x 16 bits; element 4*q + j of the
 * word is kept when field j of draw q is at or above rate * 65536. A vector of L draws gives
 * 4*L bits at once (four compares), shifted to their places and OR-ed into the word. Integer
 * arithmetic only, so every ISA gives the reference's bits exactly. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/rng.h"

#define MASK_LANES (POOL_ROWS_LANES / 2) /* 64-bit lanes per native vector */

typedef uint64_t vmask_u64 __attribute__((vector_size(8 * MASK_LANES)));

/* splitmix64 of every lane: rng_u64(key, counter) per lane */
static inline vmask_u64 mask_draws(uint64_t key, vmask_u64 counter)
{
    vmask_u64 z = key + (counter + 1) * RNG_GOLDEN;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void dropout_mask_vec(uint64_t *words, uint64_t first_word, size_t nwords, float rate, uint64_t key)
{
    enum { L = MASK_LANES, PER_WORD = 16 / L };
    const uint64_t threshold = (uint64_t)(uint32_t)lrintf(rate * 65536.0f);
    vmask_u64 lane, shift;
    for (int q = 0; q < L; q++) lane[q] = (uint64_t)q, shift[q] = (uint64_t)(4 * q);
    for (size_t k = 0; k < nwords; k++) {
        uint64_t draw0 = (first_word + k) * 16;
        vmask_u64 acc = {0};
        for (int v = 0; v < PER_WORD; v++) {
            vmask_u64 r = mask_draws(key, lane + (draw0 + (uint64_t)(v * L)));
            vmask_u64 bits = ((vmask_u64)((r & 0xFFFF) >= threshold) & 1) |
                             ((vmask_u64)(((r >> 16) & 0xFFFF) >= threshold) & 2) |
                             ((vmask_u64)(((r >> 32) & 0xFFFF) >= threshold) & 4) |
                             ((vmask_u64)((r >> 48) >= threshold) & 8);
            acc |= bits << (shift + (uint64_t)(4 * L * v));
        }
        uint64_t w = 0;
        for (int q = 0; q < L; q++) w |= acc[q];
        words[k] = w;
    }
}
