/* Inverted dropout with counter-based masks: element i of a pass is kept with probability
 * 1 - rate, decided by 16 random bits drawn from (key, i / 4), and scaled by 1 / (1 - rate).
 * The mask is stored as one bit per element for the backward pass. */
#ifndef GCBENCH_ENGINE_LAYERS_DROPOUT_H
#define GCBENCH_ENGINE_LAYERS_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

/* Words of mask for n elements. */
static inline size_t dropout_mask_words(size_t n) { return (n + 63) / 64; }

/* Draws the mask for n elements into mask (bit i of word i/64 set = kept). */
void dropout_make_mask(uint64_t *mask, size_t n, float rate, uint64_t key);

/* x[i] = kept ? x[i] * scale : 0, in place. */
void dropout_apply(float *x, const uint64_t *mask, size_t n, float scale);

/* dx[i] = kept ? dy[i] * scale : 0. */
void dropout_backward(float *dx, const float *dy, const uint64_t *mask, size_t n, float scale);

#endif
