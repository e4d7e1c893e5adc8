/* The models gcbench trains: a table of entries, each a name, a builder, the smallest input it
 * accepts and its loss (which fixes the head: the number of classes and logits per image).
 * `--model NAME` picks one; nothing outside an entry's own file knows its shape.
 *
 * To add a model: a file in engine/net/models/ defining a model_desc, and its line in the
 * table in model.c. */
#ifndef GCBENCH_ENGINE_NET_MODEL_H
#define GCBENCH_ENGINE_NET_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/net/loss.h"
#include "engine/net/net.h"

typedef struct {
    const char *name;    /* --model NAME */
    const char *summary; /* one line for --help */
    const loss_desc *loss;
    /* Adds the layers to an empty network. fused: the training form (e.g. Conv2D [+ Dropout] +
     * MaxPooling2D as one conv_pool layer: the same results in much less memory and time);
     * otherwise one layer per Keras layer, the plain composition. */
    int (*build)(net *n, bool fused);
    /* Side of the last feature map for square inputs of side `size`; 0 when some layer would
     * get an empty input. */
    int (*final_side)(int size);
} model_desc;

/* The model of that name, or NULL. */
const model_desc *model_find(const char *name);

/* The i-th model of the table, for listings; NULL past the end. model_at(0) is the default. */
const model_desc *model_at(size_t i);

/* "seed, ...": every model's name, for messages. */
const char *model_names(void);

/* Builds m into the empty network n and gives n the model's loss. */
int model_build(const model_desc *m, net *n, bool fused);

/* The smallest square input side m accepts. */
int model_min_size(const model_desc *m);

#endif
