/* The seed's CNN (the Keras example's Sequential model):
 *   Conv(16,3x3,relu) Pool | Conv(32) Dropout(0.5) Pool | Conv(64) Dropout(0.5) Pool |
 *   Conv(64) Pool | Conv(64) Pool | Flatten Dropout(0.5) Dense(512,relu) Dense(1)
 * The final sigmoid is folded into the loss (binary cross-entropy on the logit). 1,704,097
 * parameters at 300x300x3. */
#include "engine/net/model.h"

#include "engine/base/error.h"
#include "engine/net/loss.h"

/* The five conv+pool stages: filters, and whether a dropout follows the convolution. */
static const struct {
    int filters;
    bool dropout;
} stages[] = {{16, false}, {32, true}, {64, true}, {64, false}, {64, false}};

#define NSTAGES (int)(sizeof stages / sizeof stages[0])
#define KERNEL 3
#define POOL 2
#define DROPOUT_RATE 0.5f
#define HIDDEN_UNITS 512

static int build(net *n, bool fused)
{
    for (int s = 0; s < NSTAGES; s++) {
        if (fused) {
            GC_TRY(net_add_conv_pool(n, stages[s].filters, KERNEL, stages[s].dropout ? DROPOUT_RATE : 0.0f));
            continue;
        }
        GC_TRY(net_add_conv(n, stages[s].filters, KERNEL, true));
        if (stages[s].dropout) GC_TRY(net_add_dropout(n, DROPOUT_RATE));
        GC_TRY(net_add_pool(n, POOL));
    }
    GC_TRY(net_add_flatten(n));
    GC_TRY(net_add_dropout(n, DROPOUT_RATE));
    GC_TRY(net_add_dense(n, HIDDEN_UNITS, true));
    GC_TRY(net_add_dense(n, 1, false));
    return GC_OK;
}

static int final_side(int size)
{
    int side = size;
    for (int s = 0; s < NSTAGES; s++) {
        if (side < KERNEL) return 0;
        side = side - KERNEL + 1;
        if (side < POOL) return 0;
        side = (side - POOL) / POOL + 1;
    }
    return side;
}

const model_desc model_seed_cnn = {
    .name = "seed",
    .summary = "the Keras example's CNN: five conv+pool stages, dense 512, one sigmoid unit",
    .loss = &loss_binary_crossentropy,
    .build = build,
    .final_side = final_side,
};
