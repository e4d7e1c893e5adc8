/* Dense (fully connected) with bias and optional fused ReLU, on oneDNN inner product.
 *
 * The kernel stays in the parameter store's O x I layout for all three primitives, so the
 * gradient lands there directly with no reorder.
 * Forward:  inner product + bias (+ ReLU post-op)
 * Backward: ReLU backward on d_out, bwd-weights into the store, bwd-data -> d_in. */
#include "engine/error.h"
#include "engine/layers/layer_io.h"
#include "engine/layers/relu.h"

static int dense_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    dnnl_memory_desc_t w_md, b_md;
    GC_TRY(md_2d(&w_md, l->units, l->in.c, dnnl_oi));
    GC_TRY(md_1d(&b_md, l->units));
    dnnl_memory_t w, b, dw, db;
    GC_TRY(layer_param_memory(n, l->param_w, false, &w_md, &w));
    GC_TRY(layer_param_memory(n, l->param_b, false, &b_md, &b));
    GC_TRY(layer_param_memory(n, l->param_w, true, &w_md, &dw));
    GC_TRY(layer_param_memory(n, l->param_b, true, &b_md, &db));

    dnnl_inner_product_desc_t fd, bwd, bdd;
    DNNL_TRY(dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &io.in_md, &w_md, &b_md, &io.out_md));
    dnnl_primitive_attr_t attr;
    GC_TRY(layer_attr(n, l->relu, &attr));
    dnnl_primitive_desc_t fwd_pd, bwd_w_pd = NULL, bwd_d_pd = NULL;
    dnnl_status_t st = dnnl_primitive_desc_create(&fwd_pd, &fd, attr, n->ctx.engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    DNNL_TRY(st);

    int rc;
    if ((rc = dnnl_ctx_primitive(&n->ctx, fwd_pd, &pl->fwd[0])) != GC_OK) goto done;
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_SRC, io.in);
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_WEIGHTS, w);
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_BIAS, b);
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_DST, io.out);
    pl->nfwd = 1;

    st = dnnl_inner_product_backward_weights_desc_init(&bwd, &io.in_md, &w_md, &b_md, &io.out_md);
    if (st == dnnl_success) st = dnnl_primitive_desc_create(&bwd_w_pd, &bwd, n->ctx.attr, n->ctx.engine, fwd_pd);
    if (st != dnnl_success) {
        rc = gc_fail_dnnl(st, "inner product backward-weights descriptor", __FILE__, __LINE__);
        goto done;
    }
    if ((rc = dnnl_ctx_primitive(&n->ctx, bwd_w_pd, &pl->bwd[0])) != GC_OK) goto done;
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_SRC, io.in);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_DST, io.d_out);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_WEIGHTS, dw);
    dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_BIAS, db);
    pl->nbwd = 1;

    if (l->d_in) {
        st = dnnl_inner_product_backward_data_desc_init(&bdd, &io.in_md, &w_md, &io.out_md);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&bwd_d_pd, &bdd, n->ctx.attr, n->ctx.engine, fwd_pd);
        if (st != dnnl_success) {
            rc = gc_fail_dnnl(st, "inner product backward-data descriptor", __FILE__, __LINE__);
            goto done;
        }
        if ((rc = dnnl_ctx_primitive(&n->ctx, bwd_d_pd, &pl->bwd[1])) != GC_OK) goto done;
        dnnl_op_arg(&pl->bwd[1], DNNL_ARG_DIFF_DST, io.d_out);
        dnnl_op_arg(&pl->bwd[1], DNNL_ARG_WEIGHTS, w);
        dnnl_op_arg(&pl->bwd[1], DNNL_ARG_DIFF_SRC, io.d_in);
        pl->nbwd = 2;
    }
done:
    if (bwd_d_pd) dnnl_primitive_desc_destroy(bwd_d_pd);
    if (bwd_w_pd) dnnl_primitive_desc_destroy(bwd_w_pd);
    dnnl_primitive_desc_destroy(fwd_pd);
    return rc;
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

const layer_ops dense_layer_ops = {"Dense", dense_plan, dense_forward, dense_backward};
