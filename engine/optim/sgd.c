/* SGD as Keras 3 defines it (lr 0.01, momentum 0, nesterov off):
 *   momentum 0:  w -= g*lr
 *   momentum:    m = m*momentum - g*lr;  w += m
 *   nesterov:    m = m*momentum - g*lr;  w += m*momentum - g*lr
 * One state slot (m, zero at the start; unused without momentum). Keras's momentum carries
 * lr inside m; PyTorch's (and the GC code's) buf = momentum*buf + g, w -= lr*buf is the same
 * sequence of weights for a constant lr, up to rounding. */
#include <stdint.h>
#include <stdio.h>

#include "engine/optim/optimizer.h"

static void update(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, gc_mode gc)
{
    (void)step;
    update_rule rule = hp->momentum == 0.0 ? RULE_SGD : hp->nesterov ? RULE_NESTEROV : RULE_MOMENTUM;
    update_hparams kh = {.rule = rule, .lr = (float)hp->lr, .decay = (float)hp->momentum, .eps = 1.0f}; /* eps: unread */
    optimizer_kernel_decay(hp, &kh);
    k->fused_update(w, rule == RULE_SGD ? NULL : slots[0], NULL, g, rows, cols, gc, &kh);
}

static void describe(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    snprintf(buf, size, "lr %.*g momentum %.*g%s", digits, hp->lr, digits, hp->momentum,
             hp->nesterov ? " nesterov" : "");
    optimizer_describe_decay(hp, digits, buf, size);
}

const optimizer_desc optimizer_sgd = {
    .name = "sgd",
    .label = "SGD",
    .defaults = {.lr = 0.01, .momentum = 0.0},
    .reads = OPT_READS_LR | OPT_READS_MOMENTUM | OPT_READS_NESTEROV | OPT_READS_WEIGHT_DECAY,
    .nslots = 1,
    .slots = {"momentum"},
    .update = update,
    .describe = describe,
};
