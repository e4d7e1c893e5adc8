/* Adagrad as Keras 3 defines it (lr 0.001, initial_accumulator_value 0.1, epsilon 1e-7):
 *   acc += g*g;  w -= (lr*g) / sqrt(acc + epsilon)
 * One slot, the accumulator, starting at initial_accumulator_value. */
#include <stdint.h>
#include <stdio.h>

#include "engine/optim/optimizer.h"

static void update(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, gc_mode gc)
{
    (void)step;
    update_hparams kh = {.rule = RULE_ADAGRAD, .lr = (float)hp->lr, .eps = (float)hp->eps};
    optimizer_kernel_decay(hp, &kh);
    k->fused_update(w, slots[0], NULL, g, rows, cols, gc, &kh);
}

static void init_state(const opt_hparams *hp, float *const *slots, size_t n)
{
    float a = (float)hp->initial_accumulator;
    for (size_t i = 0; i < n; i++) slots[0][i] = a;
}

static void describe(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    snprintf(buf, size, "lr %.*g initial_accumulator %.*g eps %.*g", digits, hp->lr, digits, hp->initial_accumulator,
             digits, hp->eps);
    optimizer_describe_decay(hp, digits, buf, size);
}

const optimizer_desc optimizer_adagrad = {
    .name = "adagrad",
    .label = "Adagrad",
    .defaults = {.lr = 1e-3, .initial_accumulator = 0.1, .eps = 1e-7},
    .reads = OPT_READS_LR | OPT_READS_INITIAL_ACCUMULATOR | OPT_READS_EPS | OPT_READS_WEIGHT_DECAY,
    .nslots = 1,
    .slots = {"accumulator"},
    .init_state = init_state,
    .update = update,
    .describe = describe,
};
