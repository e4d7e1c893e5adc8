/* Dense (fully connected) with bias and optional fused ReLU, on oneDNN inner product.
 *
 * The kernel stays in the parameter store's O x I layout for all three primitives, so the
 * gradient lands there directly with no reorder.
 * Forward:  inner product + bias (+ ReLU post-op)
 * Backward: ReLU backward on d_out, bwd-weights into the store, bwd-data -> d_in. */
#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"
#include "engine/net/layers/relu.h"

static int dense_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    dnnl_ctx *ctx = &n->ctx;
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    dnnl_memory_desc_t w_md, b_md;
    GC_TRY(md_2d(&w_md, dnnl_f32, l->units, l->in.c, dnnl_oi));
    GC_TRY(md_1d(&b_md, dnnl_f32, l->units));
    dnnl_memory_t w, b, dw, db;
    GC_TRY(layer_param_memory(n, l->param_w, false, &w_md, &w));
    GC_TRY(layer_param_memory(n, l->param_b, false, &b_md, &b));
    GC_TRY(layer_param_memory(n, l->param_w, true, &w_md, &dw));
    GC_TRY(layer_param_memory(n, l->param_b, true, &b_md, &db));

    dnnl_inner_product_desc_t fd, bwd, bdd;
    dnnl_primitive_desc_t fwd_pd, bwd_w_pd, bwd_d_pd;
    GC_TRY(dnnl_ctx_pd(ctx, dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &io.in_md, &w_md, &b_md, &io.out_md),
                       &fd, layer_attr(n, l->relu), NULL, "inner product forward", &fwd_pd));
    GC_TRY(dnnl_ctx_op(ctx, fwd_pd, &pl->fwd[0],
                       DNNL_ARGS({DNNL_ARG_SRC, io.in}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, io.out})));
    pl->nfwd = 1;

    GC_TRY(dnnl_ctx_pd(ctx, dnnl_inner_product_backward_weights_desc_init(&bwd, &io.in_md, &w_md, &b_md, &io.out_md),
                       &bwd, ctx->attr, fwd_pd, "inner product backward-weights", &bwd_w_pd));
    GC_TRY(dnnl_ctx_op(ctx, bwd_w_pd, &pl->bwd[0],
                       DNNL_ARGS({DNNL_ARG_SRC, io.in}, {DNNL_ARG_DIFF_DST, io.d_out}, {DNNL_ARG_DIFF_WEIGHTS, dw},
                                 {DNNL_ARG_DIFF_BIAS, db})));
    pl->nbwd = 1;
    if (!l->d_in) return GC_OK;

    GC_TRY(dnnl_ctx_pd(ctx, dnnl_inner_product_backward_data_desc_init(&bdd, &io.in_md, &w_md, &io.out_md), &bdd,
                       ctx->attr, fwd_pd, "inner product backward-data", &bwd_d_pd));
    GC_TRY(dnnl_ctx_op(ctx, bwd_d_pd, &pl->bwd[1],
                       DNNL_ARGS({DNNL_ARG_DIFF_DST, io.d_out}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, io.d_in})));
    pl->nbwd = 2;
    return GC_OK;
}

static int dense_forward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    return layer_run_ops(n, pl->fwd, pl->nfwd);
}

static int dense_backward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    if (l->relu) relu_backward_inplace(l->d_out, l->out_buf, layer_out_elems(n, l, p->batch));
    return layer_run_ops(n, pl->bwd, pl->nbwd);
}

const layer_ops dense_layer_ops = {
    .type = "Dense",
    .plan = dense_plan,
    .forward = dense_forward,
    .backward = dense_backward,
};
