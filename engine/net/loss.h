/* Losses: what a model's head is trained against. A loss fixes the head: the number of classes
 * of the labels and the logits per image. */
#ifndef GCBENCH_ENGINE_LOSS_H
#define GCBENCH_ENGINE_LOSS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double loss_sum; /* sum over the batch of the per-image loss */
    size_t correct;  /* images whose prediction equals the label */
} loss_result;

typedef struct {
    const char *name; /* "binary_crossentropy" (Keras's name) */
    int classes;      /* labels in [0, classes) */
    int logits;       /* outputs per image */
    /* For n images: the loss summed over them and the correct predictions; when dlogits is
     * not NULL it receives d(mean loss)/d(logit), the mean taken over mean_over images: the
     * whole batch's size, n or (with data parallelism) all ranks' images. */
    loss_result (*eval)(const float *logits, const uint8_t *labels, size_t n, size_t mean_over, float *dlogits);
} loss_desc;

/* Sigmoid + binary cross-entropy, computed stably from the logit: two classes, one logit. */
extern const loss_desc loss_binary_crossentropy;

/* For n logits z and labels y in {0, 1}: loss_i = max(z,0) - z*y + log(1 + exp(-|z|));
 * correct when (sigmoid(z) > 0.5) == y; dlogits_i = (sigmoid(z_i) - y_i) / mean_over. */
loss_result bce_with_logits(const float *logits, const uint8_t *labels, size_t n, size_t mean_over, float *dlogits);

#endif
