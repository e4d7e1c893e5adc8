/* MaxPooling2D (valid padding, stride = window) on oneDNN. The forward pass records the
 * argmax of each window in a workspace; the backward pass scatters d_out through it.
 * (The seed model fuses its pooling into conv_pool; this is the plain layer.) */
#include <stdio.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"

static int pool_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    dnnl_ctx *ctx = &n->ctx;
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    dnnl_dims_t strides = {l->pool, l->pool}, kernel = {l->pool, l->pool}, dil = {0, 0}, pad = {0, 0};
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_primitive_desc_t fwd_pd, bwd_pd;
    GC_TRY(dnnl_ctx_pd(ctx,
                       dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, dnnl_pooling_max, &io.in_md,
                                                         &io.out_md, strides, kernel, dil, pad, pad),
                       &fd, ctx->attr, NULL, "pooling forward", &fwd_pd));
    const dnnl_memory_desc_t *ws_md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_workspace_md, 0);
    if (v == 0) { /* the largest batch: size the workspace */
        char what[96];
        snprintf(what, sizeof what, "the workspace of %s", l->name);
        GC_TRY(gc_alloc(&l->workspace, md_bytes(ws_md), what));
    }
    dnnl_memory_t ws;
    GC_TRY(dnnl_ctx_memory(ctx, ws_md, l->workspace, &ws));
    GC_TRY(dnnl_ctx_op(ctx, fwd_pd, &pl->fwd[0],
                       DNNL_ARGS({DNNL_ARG_SRC, io.in}, {DNNL_ARG_DST, io.out}, {DNNL_ARG_WORKSPACE, ws})));
    pl->nfwd = 1;
    if (!l->d_in) return GC_OK;

    GC_TRY(dnnl_ctx_pd(ctx,
                       dnnl_pooling_v2_backward_desc_init(&bd, dnnl_pooling_max, &io.in_md, &io.out_md, strides, kernel,
                                                          dil, pad, pad),
                       &bd, ctx->attr, fwd_pd, "pooling backward", &bwd_pd));
    GC_TRY(dnnl_ctx_op(ctx, bwd_pd, &pl->bwd[0],
                       DNNL_ARGS({DNNL_ARG_DIFF_DST, io.d_out}, {DNNL_ARG_DIFF_SRC, io.d_in}, {DNNL_ARG_WORKSPACE, ws})));
    pl->nbwd = 1;
    return GC_OK;
}

static int pool_forward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    return layer_run_ops(n, pl->fwd, pl->nfwd);
}

static int pool_backward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    return layer_run_ops(n, pl->bwd, pl->nbwd);
}

const layer_ops pool_layer_ops = {
    .type = "MaxPooling2D",
    .plan = pool_plan,
    .forward = pool_forward,
    .backward = pool_backward,
};
