/* RMSprop as Keras defines it: v = rho*v + (1-rho)*g^2;  w -= lr*g / sqrt(v + eps);
 * one state slot (v, the mean square), zero at the start. */
#include <stdint.h>
#include <stdio.h>

#include "engine/optim/optimizer.h"

static void update(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, bool centered)
{
    (void)step; /* RMSprop has no bias correction */
    rmsprop_hparams kh = {.lr = (float)hp->lr, .rho = (float)hp->rho, .eps = (float)hp->eps};
    if (centered)
        k->gc_rmsprop(w, slots[0], g, rows, cols, &kh);
    else
        k->rmsprop(w, slots[0], g, rows * cols, &kh);
}

static void describe(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    snprintf(buf, size, "lr %.*g rho %.*g eps %.*g", digits, hp->lr, digits, hp->rho, digits, hp->eps);
}

const optimizer_desc optimizer_rmsprop = {
    .name = "rmsprop",
    .label = "RMSprop",
    .defaults = {.lr = 1e-4, .rho = 0.9, .eps = 1e-7},
    .nslots = 1,
    .slots = {"rms"},
    .update = update,
    .describe = describe,
};
