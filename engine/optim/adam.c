/* Adam and AdamW as Keras 3 defines them (lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7;
 * AdamW: weight_decay 0.004, decoupled), at step t from 1:
 *   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)        (in float, as Keras)
 *   m += (g - m) * (1 - beta_1);  v += (g*g - v) * (1 - beta_2)   (1 - beta rounded from double)
 *   w -= (m * alpha) / (sqrt(v) + epsilon)
 * Epsilon is added to sqrt(v), not to the bias-corrected sqrt(v_hat) as in PyTorch: the same
 * value scaled by sqrt(1 - beta_2^t). Two slots, m and v, zero at the start. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/optim/optimizer.h"

static void update(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, gc_mode gc)
{
    float t = (float)step, lr = (float)hp->lr;
    float b1t = powf((float)hp->beta1, t), b2t = powf((float)hp->beta2, t);
    update_hparams kh = {.rule = RULE_ADAM, .lr = lr, .one_minus_decay = (float)(1.0 - hp->beta1),
                         .one_minus_decay2 = (float)(1.0 - hp->beta2), .alpha = lr * sqrtf(1.0f - b2t) / (1.0f - b1t),
                         .eps = (float)hp->eps};
    optimizer_kernel_decay(hp, &kh);
    k->fused_update(w, slots[0], slots[1], g, rows, cols, gc, &kh);
}

static void describe(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    snprintf(buf, size, "lr %.*g beta_1 %.*g beta_2 %.*g eps %.*g", digits, hp->lr, digits, hp->beta1, digits, hp->beta2,
             digits, hp->eps);
    optimizer_describe_decay(hp, digits, buf, size);
}

#define ADAM_READS (OPT_READS_LR | OPT_READS_BETAS | OPT_READS_EPS | OPT_READS_WEIGHT_DECAY)

const optimizer_desc optimizer_adam = {
    .name = "adam",
    .label = "Adam",
    .defaults = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7},
    .reads = ADAM_READS,
    .nslots = 2,
    .slots = {"m", "v"},
    .update = update,
    .describe = describe,
};

const optimizer_desc optimizer_adamw = {
    .name = "adamw",
    .label = "AdamW",
    .defaults = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7, .weight_decay = 0.004},
    .reads = ADAM_READS,
    .nslots = 2,
    .slots = {"m", "v"},
    .update = update,
    .describe = describe,
};
