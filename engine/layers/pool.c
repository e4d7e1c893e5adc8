/* MaxPooling2D (valid padding, stride = window) on oneDNN. The forward pass records the
 * argmax of each window in a workspace; the backward pass scatters d_out through it. */
#include "engine/alloc.h"
#include "engine/error.h"
#include "engine/layers/layer_io.h"

static int pool_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    layer_io io;
    GC_TRY(layer_io_create(n, l, pl->batch, &io));

    dnnl_dims_t strides = {l->pool, l->pool}, kernel = {l->pool, l->pool}, dil = {0, 0}, pad = {0, 0};
    dnnl_pooling_v2_desc_t fd, bd;
    DNNL_TRY(dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, dnnl_pooling_max, &io.in_md,
                                               &io.out_md, strides, kernel, dil, pad, pad));
    dnnl_primitive_desc_t fwd_pd, bwd_pd = NULL;
    DNNL_TRY(dnnl_primitive_desc_create(&fwd_pd, &fd, n->ctx.attr, n->ctx.engine, NULL));

    int rc = GC_OK;
    const dnnl_memory_desc_t *ws_md = dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_workspace_md, 0);
    dnnl_memory_t ws;
    if (v == 0) { /* the largest batch: size the workspace */
        char what[96];
        snprintf(what, sizeof what, "the workspace of %s", l->name);
        if ((rc = gc_alloc(&l->workspace, md_bytes(ws_md), what)) != GC_OK) goto done;
    }
    if ((rc = dnnl_ctx_memory(&n->ctx, ws_md, l->workspace, &ws)) != GC_OK) goto done;
    if ((rc = dnnl_ctx_primitive(&n->ctx, fwd_pd, &pl->fwd[0])) != GC_OK) goto done;
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_SRC, io.in);
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_DST, io.out);
    dnnl_op_arg(&pl->fwd[0], DNNL_ARG_WORKSPACE, ws);
    pl->nfwd = 1;

    if (l->d_in) {
        dnnl_status_t st = dnnl_pooling_v2_backward_desc_init(&bd, dnnl_pooling_max, &io.in_md, &io.out_md,
                                                              strides, kernel, dil, pad, pad);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&bwd_pd, &bd, n->ctx.attr, n->ctx.engine, fwd_pd);
        if (st != dnnl_success) {
            rc = gc_fail_dnnl(st, "pooling backward descriptor", __FILE__, __LINE__);
            goto done;
        }
        if ((rc = dnnl_ctx_primitive(&n->ctx, bwd_pd, &pl->bwd[0])) != GC_OK) goto done;
        dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_DST, io.d_out);
        dnnl_op_arg(&pl->bwd[0], DNNL_ARG_DIFF_SRC, io.d_in);
        dnnl_op_arg(&pl->bwd[0], DNNL_ARG_WORKSPACE, ws);
        pl->nbwd = 1;
    }
done:
    if (bwd_pd) dnnl_primitive_desc_destroy(bwd_pd);
    dnnl_primitive_desc_destroy(fwd_pd);
    return rc;
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

const layer_ops pool_layer_ops = {"MaxPooling2D", pool_plan, pool_forward, pool_backward};
