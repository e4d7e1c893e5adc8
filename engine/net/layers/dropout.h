/* Inverted dropout with counter-based masks.
 *
 * Element (n, c, h, w) of a pass is kept with probability 1 - rate, decided by 16 random bits:
 * with i = ((n*H + h)*W + w)*C + c its index in NHWC order, the bits are bits 16*(i%4).. of
 * rng_u64(key, i/4). The mask is thus the same whatever layout the activations are stored in
 * (and so is training on machines with different vector widths); it is stored as one bit per
 * physical element for the backward pass. Kept elements are scaled by 1 / (1 - rate). */
#ifndef GCBENCH_ENGINE_LAYERS_DROPOUT_H
#define GCBENCH_ENGINE_LAYERS_DROPOUT_H

#include <math.h>
#include <oneapi/dnnl/dnnl_types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/base/rng.h"

/* The 16-bit draws below which an element is dropped (rate 0.5 is exact). */
static inline uint32_t dropout_threshold(float rate) { return (uint32_t)lrintf(rate * 65536.0f); }

/* dropout_keeps for an element whose draw, rng_u64(key, i / 4), is already made (the masks
 * reuse one draw for four elements). */
static inline bool dropout_keeps_of_draw(uint64_t draw, uint32_t threshold, uint64_t i)
{
    return ((uint32_t)(draw >> (16 * (i % 4))) & 0xFFFFu) >= threshold;
}

/* Whether the element of NHWC index i is kept: the definition every mask and fused kernel
 * follows (the vectorized one is in pool_rows_body.h). */
static inline bool dropout_keeps(uint64_t key, uint32_t threshold, uint64_t i)
{
    return dropout_keeps_of_draw(rng_u64(key, i / 4), threshold, i);
}

/* The activation a mask covers: logical dims and the physical layout
 * (dnnl_nchw, dnnl_nhwc, dnnl_nChw8c, dnnl_nChw16c, or dnnl_nc with h = w = 1). */
typedef struct {
    long n, c, h, w;
    dnnl_format_tag_t tag;
    long first; /* the first image's position in the whole batch (the masks' n is first + n) */
} dropout_shape;

/* Physical elements (blocked layouts pad channels to whole blocks). */
size_t dropout_physical_elems(const dropout_shape *s);

/* Words of mask for n physical elements. */
static inline size_t dropout_mask_words(size_t n) { return (n + 63) / 64; }

/* Draws the mask (bit p%64 of word p/64 set = physical element p kept; padding never kept). */
void dropout_make_mask(uint64_t *mask, const dropout_shape *s, float rate, uint64_t key);

/* x[i] = kept ? x[i] * scale : 0, in place, over n physical elements. */
void dropout_apply(float *x, const uint64_t *mask, size_t n, float scale);

/* dx[i] = kept ? dy[i] * scale : 0. */
void dropout_backward(float *dx, const float *dy, const uint64_t *mask, size_t n, float scale);

#endif
