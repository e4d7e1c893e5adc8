/* What every layer's plan needs: its input/output descriptors at one batch size and memory
 * objects over the network's buffers for the activations and their gradients. */
#ifndef GCBENCH_ENGINE_LAYERS_LAYER_IO_H
#define GCBENCH_ENGINE_LAYERS_LAYER_IO_H

#include "engine/net/net.h"

typedef struct {
    dnnl_memory_desc_t in_md, out_md;
    dnnl_memory_t in, out;     /* l->in_buf, l->out_buf */
    dnnl_memory_t d_in, d_out; /* l->d_in (NULL for the first layer), l->d_out */
} layer_io;

int layer_io_create(net *n, layer *l, long batch, layer_io *io);

/* The primitive attribute of the network's forward primitives: user scratchpad, and a fused
 * ReLU post-op when relu. */
static inline const_dnnl_primitive_attr_t layer_attr(const net *n, bool relu)
{
    return relu ? n->ctx.attr_relu : n->ctx.attr;
}

/* Memory objects over the layer's weights and bias in the parameter store (user layout), or
 * over their gradients. */
int layer_param_memory(net *n, int tensor, bool gradient, const dnnl_memory_desc_t *md, dnnl_memory_t *out);

#endif
