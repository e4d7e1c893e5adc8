/* The seed's CNN (the Keras example's Sequential model):
 *   Conv(16,3x3,relu) Pool | Conv(32) Dropout(0.5) Pool | Conv(64) Dropout(0.5) Pool |
 *   Conv(64) Pool | Conv(64) Pool | Flatten Dropout(0.5) Dense(512,relu) Dense(1)
 * The final sigmoid is folded into the loss (engine/net/loss.h). 1,704,097 parameters at 300x300x3. */
#ifndef GCBENCH_ENGINE_MODEL_H
#define GCBENCH_ENGINE_MODEL_H

#include "engine/net/net.h"

/* Adds the seed model's layers to an empty network. fused: each Conv2D [+ Dropout] +
 * MaxPooling2D stage as one conv_pool layer (what training uses: the same results in much less
 * memory and time); otherwise one layer per Keras layer, the plain composition. */
int model_build_seed_cnn(net *n, bool fused);

/* Side of the last pooled feature map for square inputs of side `size`, or 0 when some
 * convolution or pooling would get an empty input. */
int model_seed_cnn_final_side(int size);

/* The smallest input side the seed model accepts (94). */
int model_seed_cnn_min_size(void);

#endif
