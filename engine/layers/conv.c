/* Conv2D (valid padding, stride 1) with bias and optional fused ReLU, on oneDNN.
 *
 * Forward:  [reorder user weights -> the primitive's layout]  conv + bias (+ ReLU post-op)
 * Backward: ReLU backward on d_out (own kernel), then
 *           bwd-weights -> [reorder to user layout] into the gradient store (kernel and bias),
 *           [reorder user weights -> bwd-data layout]  bwd-data -> d_in (skipped for layer 0).
 * Weights live in the parameter store as O x I x KH x KW (oihw); oneDNN picks its own blocked
 * layouts and the small reorders around it keep the store in one plain layout. */
#include "engine/error.h"
#include "engine/layers/layer_io.h"
#include "engine/layers/relu.h"

/* A buffer for a weight tensor in the layout md describes; reuses `user` when md is the
 * user layout (then *op stays empty). */
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
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    long o = l->filters, i = l->in.c, k = l->kernel;
    dnnl_memory_desc_t w_user, w_any, b_md;
    GC_TRY(md_4d(&w_user, o, i, k, k, dnnl_oihw));
    GC_TRY(md_4d(&w_any, o, i, k, k, dnnl_format_tag_any));
    GC_TRY(md_1d(&b_md, o));
    dnnl_dims_t strides = {1, 1}, pad = {0, 0};

    /* Forward. */
    dnnl_convolution_desc_t cd;
    DNNL_TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct,
                                                &io.in_md, &w_any, &b_md, &io.out_md, strides, pad, pad));
    dnnl_primitive_attr_t attr;
    GC_TRY(layer_attr(n, l->relu, &attr));
    dnnl_primitive_desc_t fwd_pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&fwd_pd, &cd, attr, n->ctx.engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    DNNL_TRY(st);

    int rc = GC_OK;
    dnnl_primitive_desc_t bwd_w_pd = NULL, bwd_d_pd = NULL;
    dnnl_memory_t w_fwd_mem, b_mem, db_mem, dw_mem, w_bwd_mem;
    const dnnl_memory_desc_t *w_fwd_md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    dnnl_op *conv_op = &pl->fwd[1];
    float *w = param_w(&n->params, l->param_w), *g = param_g(&n->params, l->param_w);

    if ((rc = weights_in_layout(n, &w_user, w, w_fwd_md, true, &pl->fwd[0], &w_fwd_mem)) != GC_OK) goto done;
    if ((rc = layer_param_memory(n, l->param_b, false, &b_md, &b_mem)) != GC_OK) goto done;
    if ((rc = dnnl_ctx_primitive(&n->ctx, fwd_pd, conv_op)) != GC_OK) goto done;
    dnnl_op_arg(conv_op, DNNL_ARG_SRC, io.in);
    dnnl_op_arg(conv_op, DNNL_ARG_WEIGHTS, w_fwd_mem);
    dnnl_op_arg(conv_op, DNNL_ARG_BIAS, b_mem);
    dnnl_op_arg(conv_op, DNNL_ARG_DST, io.out);
    pl->nfwd = 2;

    /* Backward, weights: diff_weights in the primitive's layout, reordered into the store. */
    dnnl_convolution_desc_t bwd_w;
    st = dnnl_convolution_backward_weights_desc_init(&bwd_w, dnnl_convolution_direct, &io.in_md, &w_any,
                                                     &b_md, &io.out_md, strides, pad, pad);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(&bwd_w_pd, &bwd_w, n->ctx.attr, n->ctx.engine, fwd_pd);
    if (st != dnnl_success) {
        rc = gc_fail_dnnl(st, "convolution backward-weights descriptor", __FILE__, __LINE__);
        goto done;
    }
    const dnnl_memory_desc_t *dw_md = dnnl_primitive_desc_query_md(bwd_w_pd, dnnl_query_diff_weights_md, 0);
    if ((rc = weights_in_layout(n, &w_user, g, dw_md, false, &pl->bwd[1], &dw_mem)) != GC_OK) goto done;
    if ((rc = layer_param_memory(n, l->param_b, true, &b_md, &db_mem)) != GC_OK) goto done;
    if ((rc = dnnl_ctx_primitive(&n->ctx, bwd_w_pd, &pl->bwd[0])) != GC_OK) goto done;
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_SRC, io.in);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_DST, io.d_out);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_WEIGHTS, dw_mem);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_BIAS, db_mem);
    pl->nbwd = 2;

    /* Backward, data: not needed for the first layer (nothing upstream learns). */
    if (l->d_in) {
        dnnl_convolution_desc_t bwd_d;
        st = dnnl_convolution_backward_data_desc_init(&bwd_d, dnnl_convolution_direct, &io.in_md, &w_any,
                                                      &io.out_md, strides, pad, pad);
        if (st == dnnl_success)
            st = dnnl_primitive_desc_create(&bwd_d_pd, &bwd_d, n->ctx.attr, n->ctx.engine, fwd_pd);
        if (st != dnnl_success) {
            rc = gc_fail_dnnl(st, "convolution backward-data descriptor", __FILE__, __LINE__);
            goto done;
        }
        const dnnl_memory_desc_t *w_bwd_md = dnnl_primitive_desc_query_md(bwd_d_pd, dnnl_query_weights_md, 0);
        if (md_equal(w_bwd_md, w_fwd_md)) {
            w_bwd_mem = w_fwd_mem; /* the forward reorder already produced this layout */
            pl->bwd[2] = (dnnl_op){0};
        } else if ((rc = weights_in_layout(n, &w_user, w, w_bwd_md, true, &pl->bwd[2], &w_bwd_mem)) != GC_OK) {
            goto done;
        }
        if ((rc = dnnl_ctx_primitive(&n->ctx, bwd_d_pd, &pl->bwd[3])) != GC_OK) goto done;
        dnnl_op_arg(&pl->bwd[3], DNNL_ARG_DIFF_DST, io.d_out);
        dnnl_op_arg(&pl->bwd[3], DNNL_ARG_WEIGHTS, w_bwd_mem);
        dnnl_op_arg(&pl->bwd[3], DNNL_ARG_DIFF_SRC, io.d_in);
        pl->nbwd = 4;
    }

done:
    if (bwd_d_pd) dnnl_primitive_desc_destroy(bwd_d_pd);
    if (bwd_w_pd) dnnl_primitive_desc_destroy(bwd_w_pd);
    dnnl_primitive_desc_destroy(fwd_pd);
    return rc;
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

const layer_ops conv_layer_ops = {"Conv2D", conv_plan, conv_forward, conv_backward};
