/* Sigmoid + binary cross-entropy, computed stably from the logit. */
#ifndef GCBENCH_ENGINE_LOSS_H
#define GCBENCH_ENGINE_LOSS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double loss_sum; /* sum over the batch of the per-image loss */
    size_t correct;  /* images with (sigmoid(z) > 0.5) == label */
} loss_result;

/* For n logits z and labels y in {0, 1}: loss_i = max(z,0) - z*y + log(1 + exp(-|z|)).
 * When dlogits is not NULL it receives d(mean loss)/dz_i = (sigmoid(z_i) - y_i) / mean_over:
 * mean_over is the whole batch's size, n or (with data parallelism) all ranks' images. */
loss_result bce_with_logits(const float *logits, const uint8_t *labels, size_t n, size_t mean_over, float *dlogits);

#endif
