/* Flatten: (c, h, w) in the network's blocked layout -> one row of h*w*c features per image in
 * Keras's (h, w, c) order, by a oneDNN reorder to NHWC; backward reorders the gradient back.
 * When the input is already in that order (NHWC, or flat) both directions are plain copies. In
 * bf16 the same reorders convert: the feature maps are bf16, the flat features f32. */
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"

static int flatten_plan(net *n, layer *l, int v)
{
    layer_plan *pl = &l->plan[v];
    long b = pl->batch;
    dnnl_memory_desc_t in_md, out_md, nhwc;
    GC_TRY(layer_in_md(n, l, b, &in_md));
    GC_TRY(layer_out_md(n, l, b, &out_md));
    /* the output's type: flat features are f32 (layer_out_md), so in bf16 the reorder also
     * widens, and its backward narrows the gradient */
    if (l->in.rank == 1)
        nhwc = in_md;
    else
        GC_TRY(md_4d(&nhwc, out_md.data_type, b, l->in.c, l->in.h, l->in.w, dnnl_nhwc));

    GC_TRY(dnnl_ctx_reorder(&n->ctx, &in_md, l->in_buf, &nhwc, l->out_buf, &pl->fwd[0]));
    pl->nfwd = pl->fwd[0].prim != NULL;
    if (l->d_in) {
        GC_TRY(dnnl_ctx_reorder(&n->ctx, &nhwc, l->d_out, &in_md, l->d_in, &pl->bwd[0]));
        pl->nbwd = pl->bwd[0].prim != NULL;
    }
    return GC_OK;
}

static int flatten_forward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    if (pl->nfwd == 0) {
        memcpy(l->out_buf, l->in_buf, layer_out_elems(n, l, p->batch) * sizeof(float));
        return GC_OK;
    }
    return layer_run_ops(n, pl->fwd, pl->nfwd);
}

static int flatten_backward(net *n, layer *l, const pass_ctx *p)
{
    const layer_plan *pl = &l->plan[p->variant];
    if (!l->d_in) return GC_OK;
    if (pl->nbwd == 0) {
        memcpy(l->d_in, l->d_out, layer_out_elems(n, l, p->batch) * sizeof(float));
        return GC_OK;
    }
    return layer_run_ops(n, pl->bwd, pl->nbwd);
}

const layer_ops flatten_layer_ops = {
    .type = "Flatten",
    .plan = flatten_plan,
    .forward = flatten_forward,
    .backward = flatten_backward,
};
