#include "engine/net/model.h"

#include "engine/base/error.h"

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

int model_build_seed_cnn(net *n, bool fused)
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

int model_seed_cnn_final_side(int size)
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

int model_seed_cnn_min_size(void)
{
    int size = 1;
    while (model_seed_cnn_final_side(size) == 0) size++;
    return size;
}
