/* Inverted dropout with counter-based masks.
 *
 * Element (n, c, h, w) of a pass is kept with probability 1 - rate, decided by 16 random bits:
 * with i = ((n*H + h)*W + w)*C + c its index in NHWC order, the bits are bits 16*(i%4).. of
 * rng_u64(key, i/4). The mask is thus the same whatever layout the activations are stored in
 * (and so is training on machines with different vector widths); it is stored as one bit per
 * physical element for the backward pass. Kept elements are scaled by 1 / (1 - rate). */
#ifndef GCBENCH_ENGINE_LAYERS_DROPOUT_H
#define GCBENCH_ENGINE_LAYERS_DROPOUT_H

#include <oneapi/dnnl/dnnl_types.h>
#include <stddef.h>
#include <stdint.h>

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

/* The same masks as bits in logical order: bit j of words[k] is the keep bit of the element
 * with NHWC index 64 * (first_word + k) + j, for k < nwords. Fused kernels that read
 * activations in a blocked layout look bits up by logical index. */
void dropout_logical_mask(uint64_t *words, uint64_t first_word, size_t nwords, float rate, uint64_t key);

/* x[i] = kept ? x[i] * scale : 0, in place, over n physical elements. */
void dropout_apply(float *x, const uint64_t *mask, size_t n, float scale);

/* dx[i] = kept ? dy[i] * scale : 0. */
void dropout_backward(float *dx, const float *dy, const uint64_t *mask, size_t n, float scale);

#endif
