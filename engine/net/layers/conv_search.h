/* The implementations oneDNN offers for one convolution, and their speed at a chunk size.
 *
 * oneDNN lists every implementation that accepts a problem (its primitive descriptor
 * iterator), best guess first; which one is fastest, and at how many images per call, depends
 * on the processor and the layer. This module enumerates them by name ("jit:avx512_core",
 * "brgconv:avx512_core", "gemm:jit", ...) and times one as gcbench runs it inside a fused
 * Conv2D + MaxPooling2D layer: a batch of inputs walked chunk by chunk, the convolution output
 * (or its gradient) in one chunk-sized buffer reused by every chunk. conv_bound --best and
 * the start-up calibration of the chunk plan (engine/net/layers/chunk_plan.h) both use it. */
#ifndef GCBENCH_ENGINE_LAYERS_CONV_SEARCH_H
#define GCBENCH_ENGINE_LAYERS_CONV_SEARCH_H

#include <stdbool.h>

#include "engine/dnnl/dnnl_ctx.h"

typedef enum { CONV_FORWARD, CONV_BACKWARD_DATA, CONV_BACKWARD_WEIGHTS, CONV_DIRECTIONS } conv_direction;

/* "forward", "backward-data", "backward-weights" */
const char *conv_direction_name(conv_direction d);

/* A valid convolution (stride 1, square kernel), and the layouts of its activations: the
 * input (ic x h x w) in src_tag, the output in dst_tag. */
typedef struct {
    long ic, h, w, oc, kernel;
    dnnl_format_tag_t src_tag, dst_tag;
    dnnl_data_type_t act_dt, weight_dt; /* activations; the weights' compute copy (gradients f32) */
} conv_geometry;

/* The geometry of the backward-weights of a layer of geometry g: g itself, or with f32 its f32
 * version (the layer's route, net_layer_wgrad_f32). */
conv_geometry conv_wgrad_geometry(const conv_geometry *g, bool f32);

/* The longest implementation name kept (oneDNN's are short: "brgconv_1x1:avx512_core"). */
#define CONV_IMPL_NAME_MAX 48
#define CONV_MAX_IMPLS 16

/* The weights layout a direction's primitive must use, or NULL for whichever it prefers. */
typedef const dnnl_memory_desc_t *conv_weights_md;

/* The primitive descriptor of direction d for chunks of `images`: the implementation named
 * `impl` when oneDNN offers it, else its first (impl NULL or "" asks for the first). Backward
 * directions need the forward descriptor as hint; the forward one has the ReLU post-op. The
 * caller owns *out (dnnl_primitive_desc_destroy, or dnnl_ctx_adopt_pd). */
int conv_search_pd(dnnl_ctx *ctx, const conv_geometry *g, conv_direction d, long images, conv_weights_md w,
                   const_dnnl_primitive_desc_t hint, const char *impl, dnnl_primitive_desc_t *out);

/* Names of the implementations oneDNN offers for the problem, in its order, without the
 * reference ones ("ref:any", far slower than any other) and duplicates; at most
 * CONV_MAX_IMPLS. */
int conv_search_impls(dnnl_ctx *ctx, const conv_geometry *g, conv_direction d, long images,
                      const_dnnl_primitive_desc_t hint, char names[][CONV_IMPL_NAME_MAX], int *count);

/* The same two with the weights' gradient (backward-weights) in wgrad_dt, f32 or bf16: oneDNN's
 * bf16 backward-weights writes either, and which is faster depends on the layer. */
int conv_search_pd_wgrad(dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad_dt, conv_direction d,
                         long images, conv_weights_md w, const_dnnl_primitive_desc_t hint, const char *impl,
                         dnnl_primitive_desc_t *out);
int conv_search_impls_wgrad(dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad_dt, conv_direction d,
                            long images, const_dnnl_primitive_desc_t hint, char names[][CONV_IMPL_NAME_MAX], int *count);

/* Buffers to time the convolution over a batch: the input batch and its gradient, and one
 * chunk's output (its gradient in the backward directions), filled once (no page faults
 * inside a timing). Weights, bias and scratchpad are made per timing, in the pd's layouts. */
typedef struct conv_bench conv_bench;

/* Buffers for batches of `batch` images and chunks of at most max_images. */
int conv_bench_create(dnnl_ctx *ctx, const conv_geometry *g, long batch, long max_images, conv_bench **out);
void conv_bench_destroy(conv_bench *b);

/* How long pd's primitive (direction d, minibatch `images`) takes per image: one warm-up
 * chunk, then chunks walking the batch (wrapping around) until `budget` seconds have passed
 * and at least `min_chunks` chunks ran; *per_image is the median chunk's seconds over its
 * images (robust to a call stretched by another process). Each chunk is waited for, as
 * gcbench's fused layers do. */
int conv_bench_time(conv_bench *b, conv_direction d, const_dnnl_primitive_desc_t pd, long images, double budget,
                    int min_chunks, double *per_image);

#endif
