/* RMSprop as Keras defines it: v = rho*v + (1-rho)*g^2;  w -= lr*g / sqrt(v + eps);
 * one state slot (v, the mean square), zero at the start. 1 - rho is rounded in float, as
 * the seed's kernels always did (Keras rounds the double 1 - rho: a few ulp apart). */
#include <stdint.h>
#include <stdio.h>

#include "engine/optim/optimizer.h"

static void update(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, gc_mode gc)
{
    (void)step; /* RMSprop has no bias correction */
    update_hparams kh = {.rule = RULE_RMSPROP, .lr = (float)hp->lr, .decay = (float)hp->rho, .eps = (float)hp->eps};
    kh.one_minus_decay = 1.0f - kh.decay;
    optimizer_kernel_decay(hp, &kh);
    k->fused_update(w, slots[0], NULL, g, rows, cols, gc, &kh);
}

static void describe(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    snprintf(buf, size, "lr %.*g rho %.*g eps %.*g", digits, hp->lr, digits, hp->rho, digits, hp->eps);
    optimizer_describe_decay(hp, digits, buf, size);
}

const optimizer_desc optimizer_rmsprop = {
    .name = "rmsprop",
    .label = "RMSprop",
    .defaults = {.lr = 1e-4, .rho = 0.9, .eps = 1e-7},
    .reads = OPT_READS_LR | OPT_READS_RHO | OPT_READS_EPS | OPT_READS_WEIGHT_DECAY,
    .nslots = 1,
    .slots = {"rms"},
    .update = update,
    .describe = describe,
};
