/* The sequential network: layers in order, their buffers, and their primitives.
 *
 * Building: net_create, then net_add_* in order (shapes are inferred), then net_plan with
 * every batch size the run will use (a full batch and the last, partial one): planning creates
 * each layer's oneDNN primitives once per batch size and allocates every buffer, sized for the
 * largest batch. A training step then only executes: net_forward, the loss on net_logits,
 * net_backward into the parameter store's gradients.
 *
 * Activations between convolution layers use one blocked layout (net->act_tag) so no reorder
 * runs between layers; the input is planar (NCHW) next to a blocked layout, since that is what
 * oneDNN's first-layer convolutions run on, and Flatten reorders to NHWC so the dense kernel
 * sees Keras's (h, w, c) feature order. Gradients flow backwards through two ping-pong buffers. */
#ifndef GCBENCH_ENGINE_NET_H
#define GCBENCH_ENGINE_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/dnnl/dnnl_ctx.h"
#include "engine/net/loss.h"
#include "engine/net/params.h"
#include "engine/net/profile.h"

#define NET_MAX_LAYERS 32
#define NET_MAX_VARIANTS 4
#define LAYER_NAME_MAX 32
#define LAYER_MAX_OPS 4
#define LAYER_IMPL_MAX 48 /* a oneDNN implementation's name (CONV_IMPL_NAME_MAX) */

typedef enum {
    LAYER_CONV,
    LAYER_POOL,
    LAYER_DROPOUT,
    LAYER_FLATTEN,
    LAYER_DENSE,
    LAYER_RELU,
    LAYER_CONV_POOL, /* Conv2D + ReLU [+ Dropout] + MaxPooling2D, fused and run in chunks of images */
} layer_kind;

/* An activation's per-image shape: rank 3 (c, h, w) before Flatten, rank 1 (c) after. */
typedef struct {
    int rank;
    long c, h, w;
} act_shape;

static inline long act_shape_elems(act_shape s) { return s.c * s.h * s.w; }

/* What one pass needs to know. */
typedef struct {
    int variant;        /* index of the batch size's plan */
    int batch;          /* images in this batch */
    bool training;      /* dropout on */
    uint64_t noise_key; /* dropout masks: rng_key(seed, DROPOUT, epoch, step); each dropout mixes in
                           its ordinal (layer->dropout_ordinal) */
    long first_image;   /* position of this pass's first image in the whole batch: a rank's share
                           of a data-parallel batch draws the masks a single process would */
} pass_ctx;

/* A layer's primitives for one batch size: ops run in order; memories for its own kernels. */
typedef struct {
    int batch;
    dnnl_op fwd[LAYER_MAX_OPS];
    dnnl_op bwd[LAYER_MAX_OPS];
    int nfwd, nbwd;
} layer_plan;

typedef struct net net;
typedef struct layer layer;

/* One of the Keras layers a layer computes (a fused layer computes several). */
typedef struct {
    layer_kind kind; /* LAYER_CONV, LAYER_DROPOUT, LAYER_POOL, ... */
    const char *name, *type; /* Keras's name ("max_pooling2d_1") and type ("MaxPooling2D") */
    act_shape out;
    bool params;     /* the layer's parameters are this part's */
} layer_part;

#define LAYER_MAX_PARTS 4

/* One kind of layer: its Keras type name, and its forward/backward pair. */
typedef struct {
    const char *type;
    bool in_place; /* its output is its input's buffer (dropout, ReLU) */
    bool own_kernels; /* it runs gcbench's own kernels only, no oneDNN primitive (profiles) */
    /* Optional: the Keras layers it computes, in order, into parts (at most LAYER_MAX_PARTS);
     * returns their count. Without it, a layer is one part: itself. */
    int (*parts)(const layer *l, layer_part *parts);
    /* Creates the layer's primitives for plan index v (batch net->batch[v]). */
    int (*plan)(net *n, layer *l, int v);
    int (*forward)(net *n, layer *l, const pass_ctx *p);
    /* Writes the gradient of the loss w.r.t. the layer's parameters into the store and, unless
     * the layer is first, w.r.t. its input into l->d_in. Reads (and may overwrite) l->d_out. */
    int (*backward)(net *n, layer *l, const pass_ctx *p);
} layer_ops;

struct layer {
    layer_kind kind;
    const layer_ops *ops;
    int index;
    char name[LAYER_NAME_MAX];      /* Keras's name ("conv2d_1"); a fused layer's first part */
    char pool_name[LAYER_NAME_MAX]; /* conv_pool: its pooling's and dropout's names */
    char dropout_name[LAYER_NAME_MAX];
    int dropout_ordinal;            /* dropout (or conv_pool with dropout): which dropout of the
                                       model it is, counting from 0; keys its masks */
    act_shape in, out;

    /* Hyperparameters. */
    int filters, kernel; /* conv */
    int units;           /* dense */
    bool relu;           /* conv and dense: ReLU fused into the forward primitive */
    float rate;          /* dropout */
    int pool;            /* pool: window and stride */
    int chunk, chunk_bwd; /* conv_pool: images per chunk forward and backward (0: automatic) */
    char conv_impl[3][LAYER_IMPL_MAX]; /* conv_pool: the implementation per direction (forward,
                                          backward-data, backward-weights); "": oneDNN's first */
    void *impl;          /* kind-specific state owned by the network's context */

    int param_w, param_b; /* indices in the store, -1 when none */

    /* Buffers (sized for the largest batch). */
    float *in_buf, *out_buf; /* out_buf == in_buf for in-place layers (dropout, relu) */
    float *d_in, *d_out;     /* gradient buffers: d_out arrives, d_in leaves */
    void *workspace;         /* pooling: the argmax positions */
    uint64_t *mask;          /* dropout: one bit per element, 1 = kept */

    layer_plan plan[NET_MAX_VARIANTS];
};

struct net {
    dnnl_ctx ctx;
    dnnl_format_tag_t act_tag;   /* layout of rank-3 activations (after the input) */
    dnnl_format_tag_t input_tag; /* layout of the input batch: nchw or nhwc */
    bool layout_native;          /* act_tag is net_native_layout's for the activations' type */
    /* The precision: data types of the input batch, of the activations and their gradients,
     * and of the compute copies of the weights that forward and backward-data read. Master
     * weights, weight gradients and the optimizer stay f32 in the parameter store. */
    dnnl_data_type_t input_dt, act_dt, weight_dt;
    act_shape input;             /* per image */
    int max_batch;

    layer layers[NET_MAX_LAYERS];
    int nlayers;
    const loss_desc *loss;       /* the model's (model_build); training's loss on net_output */
    param_store params;

    int batch[NET_MAX_VARIANTS]; /* planned batch sizes */
    int nvariants;

    void *input_buf;         /* max_batch images in input_tag's layout and input_dt (net-owned, or bound) */
    int chunk_images;        /* conv_pool layers run this many images at a time (0: automatic) */
    float *chunk_buf;        /* conv_pool scratch: one chunk's conv output, then its gradient */
    size_t chunk_bytes;
    void *own_input;         /* the buffer net_plan allocated */
    dnnl_memory_t *input_mems; /* every memory object over (part of) the input batch, and its */
    size_t *input_offsets;     /* offset in bytes, for net_bind_input */
    size_t ninput_mems;
    size_t input_bytes;
    bool input_grad;         /* the first layer also computes d(loss)/d(input) (gradient checks) */
    epoch_profile *profile;  /* when set, each layer's forward and backward time accumulates here */
    float *diff[2];          /* ping-pong gradient buffers */
    size_t diff_bytes;       /* the two together */
    bool planned;
};

/* The activation layout oneDNN's fastest convolutions in type dt use on this CPU. */
dnnl_format_tag_t net_native_layout(dnnl_data_type_t dt);

/* Creates an empty network for images of shape (c, h, w). act_tag: the layout of hidden
 * activations, or dnnl_format_tag_any for the one this CPU's convolutions prefer in the
 * network's precision (net_native_layout; net_set_precision chooses again). */
int net_create(net **out, act_shape input, dnnl_format_tag_t act_tag);
void net_destroy(net *n);

int net_add_conv(net *n, int filters, int kernel, bool relu);
int net_add_pool(net *n, int window);
int net_add_dropout(net *n, float rate);
int net_add_flatten(net *n);
int net_add_dense(net *n, int units, bool relu);
int net_add_relu(net *n);

/* Conv2D(filters, kernel, ReLU) [+ Dropout(rate) when rate > 0] + MaxPooling2D(2), as one layer
 * that never holds the full-size convolution output (engine/net/layers/conv_pool.c). */
int net_add_conv_pool(net *n, int filters, int kernel, float rate);

/* Images per chunk for conv_pool layers (before net_plan; 0: automatic). */
void net_set_chunk_images(net *n, int images);

/* Sets the activations' and the weights' compute data types (before net_plan): both f32 or
 * both bf16; another pair is refused with GC_EUSAGE naming it, bf16 on a CPU that cannot run
 * it natively with the message of precision_check_cpu. A network created with the native
 * layout takes the one for the new type (and its input the matching nchw or nhwc). */
int net_set_precision(net *n, dnnl_data_type_t act, dnnl_data_type_t weights);

/* Sets the layout of the input batch (before net_plan): benchmarks that time one inner layer
 * feed it the blocked layout the layer before it would produce. */
void net_set_input_tag(net *n, dnnl_format_tag_t tag);

/* Asks for the gradient w.r.t. the input batch (net_input_grad) as well; before net_plan.
 * Training never needs it; gradient checks do. */
void net_want_input_grad(net *n);
/* Whether layer l computes d(loss)/d(its input): every layer but the first, which does only
 * when net_want_input_grad asked. */
static inline bool net_layer_input_grad(const net *n, const layer *l) { return l->index > 0 || n->input_grad; }
static inline const float *net_input_grad(const net *n) { return n->layers[0].d_in; }
/* Whether layer l's backward-weights reads f32 copies of its input and output gradient
 * (precision_wgrad_in_f32 for the network's type, layout and l). */
bool net_layer_wgrad_f32(const net *n, const layer *l);

/* Allocates parameters and buffers and builds every primitive for each batch size
 * (at most NET_MAX_VARIANTS distinct sizes). */
int net_plan(net *n, const int *batch_sizes, int count);

/* The plan index of batch size b, or -1 when it was not planned. */
int net_variant(const net *n, int b);

/* The input batch (n->input_dt values in n->input_tag's layout: f32, or bf16 in a bf16
 * network) the loader fills, and the network's output (one logit per image for the seed model)
 * with the buffer where the loss writes its gradient. */
static inline void *net_input(net *n) { return n->input_buf; }
static inline const float *net_output(const net *n) { return n->layers[n->nlayers - 1].out_buf; }
static inline float *net_output_grad(net *n) { return n->layers[n->nlayers - 1].d_out; }
static inline act_shape net_output_shape(const net *n) { return n->layers[n->nlayers - 1].out; }

/* Makes `input` (max_batch images, or NULL for the network's own buffer) the input batch of the
 * following passes: a loader can fill one buffer while the network reads another. Nothing is
 * copied or allocated. */
int net_bind_input(net *n, void *input);

int net_forward(net *n, const pass_ctx *p);
int net_backward(net *n, const pass_ctx *p);

/* The Keras layers l computes (layer_ops.parts, or l itself); returns their count. */
int layer_parts(const layer *l, layer_part *parts);

/* Its parts' names joined by '+' ("conv2d_1+dropout+max_pooling2d_1"), for profiles. */
void layer_label(const layer *l, char *buf, size_t size);

/* Prints a Keras-like summary: layer (type), output shape, parameter count, totals. */
void net_summary(const net *n, FILE *f);

/* Bytes held by activations, gradient buffers and workspaces (parameters excluded). */
size_t net_activation_bytes(const net *n);

/* Name of a layout, for logs ("nChw16c"). */
const char *net_layout_name(dnnl_format_tag_t tag);

/* Shared by layer implementations: the memory descriptor of the layer's input or output at
 * batch b, in the layout the network uses there. */
int layer_in_md(const net *n, const layer *l, long b, dnnl_memory_desc_t *md);
int layer_out_md(const net *n, const layer *l, long b, dnnl_memory_desc_t *md);

/* Runs a list of bound ops. */
int layer_run_ops(net *n, const dnnl_op *ops, int count);

/* Elements (padding included) of a layer's output at batch b. */
size_t layer_out_elems(const net *n, const layer *l, long b);

extern const layer_ops conv_layer_ops, pool_layer_ops, dropout_layer_ops, flatten_layer_ops,
    dense_layer_ops, relu_layer_ops, conv_pool_layer_ops;

#endif
