#include "engine/net/layers/layer_io.h"

#include "engine/base/error.h"

int layer_io_create(net *n, layer *l, long batch, layer_io *io)
{
    GC_TRY(layer_in_md(n, l, batch, &io->in_md));
    GC_TRY(layer_out_md(n, l, batch, &io->out_md));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &io->in_md, l->in_buf, &io->in));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &io->out_md, l->out_buf, &io->out));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &io->out_md, l->d_out, &io->d_out));
    io->d_in = NULL;
    if (l->d_in) GC_TRY(dnnl_ctx_memory(&n->ctx, &io->in_md, l->d_in, &io->d_in));
    return GC_OK;
}

int layer_param_memory(net *n, int tensor, bool gradient, const dnnl_memory_desc_t *md, dnnl_memory_t *out)
{
    float *p = gradient ? param_g(&n->params, tensor) : param_w(&n->params, tensor);
    return dnnl_ctx_memory(&n->ctx, md, p, out);
}
