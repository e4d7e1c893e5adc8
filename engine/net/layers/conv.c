/* Conv2D (valid padding, stride 1) with bias and optional fused ReLU, on oneDNN.
 *
 * Forward:  [reorder user weights -> the primitive's layout]  conv + bias (+ ReLU post-op)
 * Backward: ReLU backward on d_out (own kernel), then
 *           bwd-weights -> [reorder to user layout] into the gradient store (kernel and bias),
 *           [reorder user weights -> bwd-data layout]  bwd-data -> d_in (skipped for layer 0).
 * Weights live in the parameter store as O x I x KH x KW (oihw); oneDNN picks its own blocked
 * layouts and the small reorders around it keep the store in one plain layout.
 * (The seed model fuses its convolutions with their pooling in conv_pool; this is the plain
 * layer.) */
#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"
#include "engine/net/layers/relu.h"

/* A memory object for a weight tensor in the layout md, and the reorder between it and the
 * store (`user`, in user_md) in the direction given: user -> md, or md -> user for gradients.
 * When md is the user layout the store itself is used and *op stays empty. */
static int weights_in_layout(net *n, const dnnl_memory_desc_t *user_md, void *user,
                             const dnnl_memory_desc_t *md, bool user_is_src, dnnl_op *op,
                             dnnl_memory_t *mem)
{
    void *buf = user;
    if (!md_equal(user_md, md)) GC_TRY(dnnl_ctx_alloc(&n->ctx, md_bytes(md), "conv weights", &buf));
    if (user_is_src)
        GC_TRY(dnnl_ctx_reorder(&n->ctx, user_md, user, md, buf, op));
    else
        GC_TRY(dnnl_ctx_reorder(&n->ctx, md, buf, user_md, user, op));
    return dnnl_ctx_memory(&n->ctx, md, buf, mem);
}

static int conv_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    dnnl_ctx *ctx = &n->ctx;
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    long o = l->filters, i = l->in.c, k = l->kernel;
    dnnl_memory_desc_t w_user, w_any, b_md;
    GC_TRY(md_4d(&w_user, dnnl_f32, o, i, k, k, dnnl_oihw));
    /* w_any: the compute copy forward and backward-data read (the network's weight type);
     * dw_any: the weight gradient, f32 like the master weights in the store. */
    dnnl_memory_desc_t dw_any;
    GC_TRY(md_4d(&w_any, n->weight_dt, o, i, k, k, dnnl_format_tag_any));
    GC_TRY(md_4d(&dw_any, dnnl_f32, o, i, k, k, dnnl_format_tag_any));
    GC_TRY(md_1d(&b_md, dnnl_f32, o));
    dnnl_dims_t strides = {1, 1}, pad = {0, 0};
    float *w = param_w(&n->params, l->param_w), *g = param_g(&n->params, l->param_w);
    dnnl_memory_t w_fwd, b, dw, db, w_bwd;
    GC_TRY(layer_param_memory(n, l->param_b, false, &b_md, &b));
    GC_TRY(layer_param_memory(n, l->param_b, true, &b_md, &db));

    /* Forward: fwd[0] reorders the weights, fwd[1] convolves. */
    dnnl_convolution_desc_t fd, bwd, bdd;
    dnnl_primitive_desc_t fwd_pd, bwd_w_pd, bwd_d_pd;
    GC_TRY(dnnl_ctx_pd(ctx,
                       dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &io.in_md,
                                                          &w_any, &b_md, &io.out_md, strides, pad, pad),
                       &fd, layer_attr(n, l->relu), NULL, "convolution forward", &fwd_pd));
    const dnnl_memory_desc_t *w_fwd_md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    GC_TRY(weights_in_layout(n, &w_user, w, w_fwd_md, true, &pl->fwd[0], &w_fwd));
    GC_TRY(dnnl_ctx_op(ctx, fwd_pd, &pl->fwd[1],
                       DNNL_ARGS({DNNL_ARG_SRC, io.in}, {DNNL_ARG_WEIGHTS, w_fwd}, {DNNL_ARG_BIAS, b},
                                 {DNNL_ARG_DST, io.out})));
    pl->nfwd = 2;

    /* Backward: bwd[0] weight gradients, bwd[1] their reorder into the store. */
    GC_TRY(dnnl_ctx_pd(ctx,
                       dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &io.in_md, &dw_any,
                                                                   &b_md, &io.out_md, strides, pad, pad),
                       &bwd, ctx->attr, fwd_pd, "convolution backward-weights", &bwd_w_pd));
    const dnnl_memory_desc_t *dw_md = dnnl_primitive_desc_query_md(bwd_w_pd, dnnl_query_diff_weights_md, 0);
    GC_TRY(weights_in_layout(n, &w_user, g, dw_md, false, &pl->bwd[1], &dw));
    GC_TRY(dnnl_ctx_op(ctx, bwd_w_pd, &pl->bwd[0],
                       DNNL_ARGS({DNNL_ARG_SRC, io.in}, {DNNL_ARG_DIFF_DST, io.d_out}, {DNNL_ARG_DIFF_WEIGHTS, dw},
                                 {DNNL_ARG_DIFF_BIAS, db})));
    pl->nbwd = 2;
    if (!l->d_in) return GC_OK; /* the first layer: nothing upstream learns */

    /* bwd[2] weights into the bwd-data layout (unless the forward's already is), bwd[3] d_in. */
    GC_TRY(dnnl_ctx_pd(ctx,
                       dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &io.in_md, &w_any,
                                                                &io.out_md, strides, pad, pad),
                       &bdd, ctx->attr, fwd_pd, "convolution backward-data", &bwd_d_pd));
    const dnnl_memory_desc_t *w_bwd_md = dnnl_primitive_desc_query_md(bwd_d_pd, dnnl_query_weights_md, 0);
    if (md_equal(w_bwd_md, w_fwd_md))
        w_bwd = w_fwd;
    else
        GC_TRY(weights_in_layout(n, &w_user, w, w_bwd_md, true, &pl->bwd[2], &w_bwd));
    GC_TRY(dnnl_ctx_op(ctx, bwd_d_pd, &pl->bwd[3],
                       DNNL_ARGS({DNNL_ARG_DIFF_DST, io.d_out}, {DNNL_ARG_WEIGHTS, w_bwd}, {DNNL_ARG_DIFF_SRC, io.d_in})));
    pl->nbwd = 4;
    return GC_OK;
}

static int conv_forward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    return layer_run_ops(n, pl->fwd, pl->nfwd);
}

static int conv_backward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    if (l->relu) relu_backward_inplace(l->d_out, l->out_buf, layer_out_elems(n, l, p->batch));
    return layer_run_ops(n, pl->bwd, pl->nbwd);
}

const layer_ops conv_layer_ops = {
    .type = "Conv2D",
    .plan = conv_plan,
    .forward = conv_forward,
    .backward = conv_backward,
};
