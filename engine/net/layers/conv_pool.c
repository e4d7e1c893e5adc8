/* Conv2D + ReLU [+ Dropout] + MaxPooling2D as one layer, run a chunk of images at a time.
 *
 * The seed model spends most of its memory and memory traffic on the full-size outputs of its
 * convolutions (727 MB for the first at batch 128), which exist only to be pooled and, in the
 * backward pass, to recover ReLU's and dropout's masks. This layer never keeps them:
 *   forward, per chunk:  oneDNN conv (+ bias + ReLU post-op) -> chunk buffer (stays near the
 *                        cache) -> maxpool_fused_forward: dropout, pool -> output and argmax
 *   backward, per chunk: maxpool_fused_backward rebuilds the chunk's pre-ReLU gradient from
 *                        d_out and the argmax codes (engine/net/layers/maxpool_fused.h)
 *                        -> oneDNN bwd-weights (summed over chunks) and bwd-data -> d_in
 * The chunk buffer is shared by every such layer (net->chunk_buf). Weight gradients of the
 * chunks are summed in oneDNN's layout, then reordered once into the parameter store. Results
 * equal the unfused Conv2D, Dropout and MaxPooling2D layers' up to float summation order. */
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/net/layers/layer_io.h"
#include "engine/net/layers/maxpool_fused.h"
#include "engine/base/rng.h"
#include "engine/net/layers/conv_search.h"
#include "simd/simd.h"

#define MAX_CHUNK_SIZES (4 * NET_MAX_VARIANTS) /* forward and backward: full and last chunks */

/* The three convolution primitives for one chunk size, with their scratchpad bound. */
typedef struct {
    int images;
    dnnl_op fwd, bwd_weights, bwd_data;
} chunk_primitives;

/* One chunk's ops, arguments bound. */
typedef struct {
    int images, first;
    dnnl_op fwd, bwd_weights, bwd_data;
    dnnl_op widen_src; /* f32 backward-weights: the chunk's input, widened to f32 */
} chunk_ops;

typedef struct {
    dnnl_memory_desc_t w_user_md, w_fwd_md, w_bwd_md, dw_md, b_md;
    dnnl_memory_t w_fwd, w_bwd, b, dw_chunk, db_chunk;
    float *dw_chunk_buf, *dw_acc, *db_chunk_buf;
    size_t dw_elems;
    bool wgrad_f32; /* backward-weights from f32 copies (net_layer_wgrad_f32) */
    void *src_f32;  /* then: a backward chunk's input in f32 */
    void (*to_bf16)(bf16 *dst, const float *src, size_t n); /* remakes a stale bf16 weight copy */
    dnnl_op w_to_fwd, w_to_bwd, dw_to_user;
    chunk_primitives prims[MAX_CHUNK_SIZES];
    int nprims;
    chunk_ops *chunks[2][NET_MAX_VARIANTS]; /* [0]: forward chunks, [1]: backward chunks */
    int nchunks[2][NET_MAX_VARIANTS];
} conv_pool_state;

static long conv_h(const layer *l) { return l->in.h - l->kernel + 1; }
static long conv_w(const layer *l) { return l->in.w - l->kernel + 1; }

static dnnl_format_tag_t in_tag(const net *n, const layer *l) { return l->index ? n->act_tag : n->input_tag; }

/* Descriptors of a chunk of `images`: the input slice and the convolution output. */
static int chunk_mds(const net *n, const layer *l, long images, dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst)
{
    GC_TRY(md_4d(src, n->act_dt, images, l->in.c, l->in.h, l->in.w, in_tag(n, l)));
    return md_4d(dst, n->act_dt, images, l->filters, conv_h(l), conv_w(l), n->act_tag);
}

static conv_geometry geometry(const net *n, const layer *l, conv_direction d)
{
    conv_geometry g = {l->in.c, l->in.h, l->in.w, l->filters, l->kernel, in_tag(n, l), n->act_tag, n->act_dt,
                       n->weight_dt};
    return d == CONV_BACKWARD_WEIGHTS ? conv_wgrad_geometry(&g, net_layer_wgrad_f32(n, l)) : g;
}

/* Direction d's descriptor at `images`: the layer's implementation for it (a named one must
 * exist: a plan naming another is refused), weights in w (NULL: oneDNN's choice). */
static int direction_pd(net *n, const layer *l, conv_direction d, int images, conv_weights_md w,
                        const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *out)
{
    conv_geometry g = geometry(n, l, d);
    const char *want = l->conv_impl[d];
    GC_TRY(conv_search_pd(&n->ctx, &g, d, images, w, hint, want, out));
    GC_TRY(dnnl_ctx_adopt_pd(&n->ctx, *out));
    if (want[0] && strcmp(pd_impl_name(*out), want) != 0)
        return gc_fail(GC_EUSAGE, "%s: oneDNN offers no convolution %s '%s' on this machine at %d images (it has '%s')",
                       l->name, conv_direction_name(d), want, images, pd_impl_name(*out));
    return GC_OK;
}

/* Creates the three primitives for chunks of `images`. Weights use the layouts in st (or,
 * while st->nprims is 0, whatever the implementations prefer, which then become st's). */
static int make_primitives(net *n, layer *l, conv_pool_state *st, int images, chunk_primitives *cp)
{
    dnnl_ctx *ctx = &n->ctx;
    bool first = st->nprims == 0;
    cp->images = images;

    dnnl_primitive_desc_t fwd_pd, bw_pd, bd_pd;
    GC_TRY(direction_pd(n, l, CONV_FORWARD, images, first ? NULL : &st->w_fwd_md, NULL, &fwd_pd));
    if (first) st->w_fwd_md = *dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0);
    GC_TRY(dnnl_ctx_primitive(ctx, fwd_pd, &cp->fwd));

    const_dnnl_primitive_desc_t bw_hint = fwd_pd;
    dnnl_primitive_desc_t fwd_f32_pd = NULL; /* an f32 backward-weights takes the f32 forward as hint */
    if (st->wgrad_f32) {
        conv_geometry gw = geometry(n, l, CONV_BACKWARD_WEIGHTS);
        GC_TRY(conv_search_pd(ctx, &gw, CONV_FORWARD, images, NULL, NULL, NULL, &fwd_f32_pd));
        GC_TRY(dnnl_ctx_adopt_pd(ctx, fwd_f32_pd));
        bw_hint = fwd_f32_pd;
    }
    GC_TRY(direction_pd(n, l, CONV_BACKWARD_WEIGHTS, images, first ? NULL : &st->dw_md, bw_hint, &bw_pd));
    if (first) st->dw_md = *dnnl_primitive_desc_query_md(bw_pd, dnnl_query_diff_weights_md, 0);
    GC_TRY(dnnl_ctx_primitive(ctx, bw_pd, &cp->bwd_weights));
    if (!l->d_in) return GC_OK;

    GC_TRY(direction_pd(n, l, CONV_BACKWARD_DATA, images, first ? NULL : &st->w_bwd_md, fwd_pd, &bd_pd));
    if (first) st->w_bwd_md = *dnnl_primitive_desc_query_md(bd_pd, dnnl_query_weights_md, 0);
    return dnnl_ctx_primitive(ctx, bd_pd, &cp->bwd_data);
}

static int primitives_for(net *n, layer *l, conv_pool_state *st, int images, const chunk_primitives **out)
{
    for (int i = 0; i < st->nprims; i++)
        if (st->prims[i].images == images) {
            *out = &st->prims[i];
            return GC_OK;
        }
    if (st->nprims == MAX_CHUNK_SIZES) return gc_fail(GC_ERUNTIME, "%s: too many chunk sizes", l->name);
    GC_TRY(make_primitives(n, l, st, images, &st->prims[st->nprims]));
    *out = &st->prims[st->nprims++];
    return GC_OK;
}

/* A buffer for weights in layout md: the store's own when md is its layout. */
static int weights_buffer(net *n, const dnnl_memory_desc_t *user_md, void *user, const dnnl_memory_desc_t *md,
                          void **out)
{
    if (md_equal(user_md, md)) {
        *out = user;
        return GC_OK;
    }
    return dnnl_ctx_alloc(&n->ctx, md_bytes(md), "conv weights", out);
}

/* The state shared by every batch size: weight layouts, buffers and reorders. */
static int init_state(net *n, layer *l, conv_pool_state **out)
{
    conv_pool_state *st;
    GC_TRY(dnnl_ctx_alloc(&n->ctx, sizeof *st, "conv_pool state", (void **)&st));
    GC_TRY(md_4d(&st->w_user_md, dnnl_f32, l->filters, l->in.c, l->kernel, l->kernel, dnnl_oihw));
    GC_TRY(md_1d(&st->b_md, dnnl_f32, l->filters));
    st->wgrad_f32 = net_layer_wgrad_f32(n, l);
    st->to_bf16 = simd_best()->f32_to_bf16;
    if (st->wgrad_f32) {
        dnnl_memory_desc_t in32;
        GC_TRY(md_4d(&in32, dnnl_f32, l->chunk_bwd, l->in.c, l->in.h, l->in.w, in_tag(n, l)));
        GC_TRY(dnnl_ctx_alloc(&n->ctx, md_bytes(&in32), "f32 copy of a conv chunk's input", &st->src_f32));
    }
    const chunk_primitives *cp = NULL;
    GC_TRY(primitives_for(n, l, st, l->chunk, &cp)); /* fixes the weight layouts */

    float *g = param_g(&n->params, l->param_w);
    /* The compute copies come from the master weights (f32), or in a bf16 network from the
     * store's bf16 copy, which the optimizer writes: then the reorders only change the layout. */
    dnnl_memory_desc_t src_md = st->w_user_md;
    void *src = param_w(&n->params, l->param_w);
    if (n->weight_dt == dnnl_bf16) {
        GC_TRY(md_4d(&src_md, dnnl_bf16, l->filters, l->in.c, l->kernel, l->kernel, dnnl_oihw));
        src = param_w_bf16(&n->params, l->param_w);
    }
    void *w_fwd, *w_bwd = NULL;
    GC_TRY(weights_buffer(n, &src_md, src, &st->w_fwd_md, &w_fwd));
    GC_TRY(dnnl_ctx_reorder(&n->ctx, &src_md, src, &st->w_fwd_md, w_fwd, &st->w_to_fwd));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &st->w_fwd_md, w_fwd, &st->w_fwd));
    if (l->d_in) {
        if (md_equal(&st->w_bwd_md, &st->w_fwd_md)) { /* the forward reorder made it already */
            st->w_bwd = st->w_fwd;
        } else {
            GC_TRY(weights_buffer(n, &src_md, src, &st->w_bwd_md, &w_bwd));
            GC_TRY(dnnl_ctx_reorder(&n->ctx, &src_md, src, &st->w_bwd_md, w_bwd, &st->w_to_bwd));
            GC_TRY(dnnl_ctx_memory(&n->ctx, &st->w_bwd_md, w_bwd, &st->w_bwd));
        }
    }
    GC_TRY(layer_param_memory(n, l->param_b, false, &st->b_md, &st->b));

    /* Gradients: each chunk's in dw_chunk, summed in dw_acc (oneDNN's layout), one reorder. */
    st->dw_elems = md_bytes(&st->dw_md) / sizeof(float);
    GC_TRY(dnnl_ctx_alloc(&n->ctx, md_bytes(&st->dw_md), "conv weight gradient chunk", (void **)&st->dw_chunk_buf));
    GC_TRY(weights_buffer(n, &st->w_user_md, g, &st->dw_md, (void **)&st->dw_acc));
    GC_TRY(dnnl_ctx_reorder(&n->ctx, &st->dw_md, st->dw_acc, &st->w_user_md, g, &st->dw_to_user));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &st->dw_md, st->dw_chunk_buf, &st->dw_chunk));
    GC_TRY(dnnl_ctx_alloc(&n->ctx, (size_t)l->filters * sizeof(float), "conv bias gradient chunk",
                          (void **)&st->db_chunk_buf));
    GC_TRY(dnnl_ctx_memory(&n->ctx, &st->b_md, st->db_chunk_buf, &st->db_chunk));
    *out = st;
    return GC_OK;
}

/* Bytes per image (padding included) of the layer's input. */
static size_t in_image_bytes(const net *n, const layer *l)
{
    dnnl_memory_desc_t md;
    return layer_in_md(n, l, 1, &md) == GC_OK ? md_bytes(&md) : 0;
}

/* The chunks of batch variant v for one pass (0: forward, 1: backward), ops bound. */
static int plan_chunks(net *n, layer *l, conv_pool_state *st, int v, int pass)
{
    int batch = n->batch[v], size = pass ? l->chunk_bwd : l->chunk, count = (batch + size - 1) / size;
    GC_TRY(dnnl_ctx_alloc(&n->ctx, (size_t)count * sizeof(chunk_ops), "conv_pool chunk ops",
                          (void **)&st->chunks[pass][v]));
    st->nchunks[pass][v] = count;
    size_t in_bytes = in_image_bytes(n, l);
    for (int k = 0; k < count; k++) {
        chunk_ops *c = &st->chunks[pass][v][k];
        c->first = k * size;
        c->images = batch - c->first < size ? batch - c->first : size;
        const chunk_primitives *cp = NULL;
        GC_TRY(primitives_for(n, l, st, c->images, &cp));
        dnnl_memory_desc_t src_md, dst_md;
        GC_TRY(chunk_mds(n, l, c->images, &src_md, &dst_md));
        dnnl_memory_t src, dst, d_src = NULL;
        size_t offset = (size_t)c->first * in_bytes;
        GC_TRY(dnnl_ctx_memory(&n->ctx, &src_md, (char *)l->in_buf + offset, &src));
        GC_TRY(dnnl_ctx_memory(&n->ctx, &dst_md, n->chunk_buf, &dst));
        if (pass == 0) {
            c->fwd = cp->fwd;
            dnnl_op_arg(&c->fwd, DNNL_ARG_SRC, src);
            dnnl_op_arg(&c->fwd, DNNL_ARG_WEIGHTS, st->w_fwd);
            dnnl_op_arg(&c->fwd, DNNL_ARG_BIAS, st->b);
            dnnl_op_arg(&c->fwd, DNNL_ARG_DST, dst);
            continue;
        }
        c->bwd_weights = cp->bwd_weights;
        dnnl_memory_t w_src = src, w_dst = dst;
        if (st->wgrad_f32) {
            dnnl_memory_desc_t src32_md, dst32_md;
            GC_TRY(md_4d(&src32_md, dnnl_f32, c->images, l->in.c, l->in.h, l->in.w, in_tag(n, l)));
            GC_TRY(md_4d(&dst32_md, dnnl_f32, c->images, l->filters, conv_h(l), conv_w(l), n->act_tag));
            GC_TRY(dnnl_ctx_reorder(&n->ctx, &src_md, (char *)l->in_buf + offset, &src32_md, st->src_f32,
                                    &c->widen_src));
            GC_TRY(dnnl_ctx_memory(&n->ctx, &src32_md, st->src_f32, &w_src));
            GC_TRY(dnnl_ctx_memory(&n->ctx, &dst32_md, n->chunk_buf, &w_dst));
        }
        dnnl_op_arg(&c->bwd_weights, DNNL_ARG_SRC, w_src);
        dnnl_op_arg(&c->bwd_weights, DNNL_ARG_DIFF_DST, w_dst);
        dnnl_op_arg(&c->bwd_weights, DNNL_ARG_DIFF_WEIGHTS, st->dw_chunk);
        dnnl_op_arg(&c->bwd_weights, DNNL_ARG_DIFF_BIAS, st->db_chunk);
        if (l->d_in) {
            GC_TRY(dnnl_ctx_memory(&n->ctx, &src_md, (char *)l->d_in + offset, &d_src));
            c->bwd_data = cp->bwd_data;
            dnnl_op_arg(&c->bwd_data, DNNL_ARG_DIFF_DST, dst);
            dnnl_op_arg(&c->bwd_data, DNNL_ARG_WEIGHTS, st->w_bwd);
            dnnl_op_arg(&c->bwd_data, DNNL_ARG_DIFF_SRC, d_src);
        }
    }
    return GC_OK;
}

static int conv_pool_plan(net *n, layer *l, int v)
{
    if (!l->impl) {
        char what[96];
        snprintf(what, sizeof what, "the argmax of %s", l->pool_name);
        GC_TRY(gc_alloc(&l->workspace, layer_out_elems(n, l, n->max_batch), what));
        GC_TRY(init_state(n, l, (conv_pool_state **)&l->impl));
    }
    conv_pool_state *st = l->impl;
    for (int pass = 0; pass < 2; pass++) GC_TRY(plan_chunks(n, l, st, v, pass));
    return GC_OK;
}

/* A chunk's pooling geometry; .first places it in the whole batch, for the dropout masks. */
static pool_geometry chunk_geometry(const net *n, const layer *l, const chunk_ops *c, const pass_ctx *p)
{
    return (pool_geometry){.n = c->images, .first = p->first_image + c->first, .c = l->filters, .h = conv_h(l),
                           .w = conv_w(l), .block = pool_block_of(n->act_tag, l->filters),
                           .elem = n->act_dt == dnnl_bf16 ? POOL_BF16 : POOL_F32};
}

static pool_dropout chunk_dropout(const layer *l, const pass_ctx *p)
{
    if (!p->training || l->rate <= 0.0f) return (pool_dropout){0.0f, 0};
    return (pool_dropout){l->rate, rng_key(p->noise_key, RNG_STREAM_DROPOUT, (uint64_t)l->dropout_ordinal, 0)};
}

/* --profile: seconds of this layer's pass spent in gcbench's own kernels. */
static void own_time(net *n, const layer *l, bool backward, double seconds)
{
    if (l->index >= PROFILE_MAX_LAYERS) return;
    (backward ? n->profile->own_backward : n->profile->own_forward)[l->index] += seconds;
}

static int conv_pool_forward(net *n, layer *l, const pass_ctx *p)
{
    conv_pool_state *st = l->impl;
    size_t out_elems = layer_out_elems(n, l, 1), es = dt_size(n->act_dt);
    pool_dropout d = chunk_dropout(l, p);
    if (n->weight_dt == dnnl_bf16 && !params_bf16_copy_current(&n->params)) { /* before the first step */
        const param_tensor *t = &n->params.t[l->param_w];
        st->to_bf16(param_w_bf16(&n->params, l->param_w), param_w(&n->params, l->param_w), t->count);
    }
    GC_TRY(dnnl_op_run(&n->ctx, &st->w_to_fwd));
    for (int k = 0; k < st->nchunks[0][p->variant]; k++) {
        const chunk_ops *c = &st->chunks[0][p->variant][k];
        GC_TRY(dnnl_op_run(&n->ctx, &c->fwd));
        GC_TRY(dnnl_ctx_wait(&n->ctx));
        pool_geometry g = chunk_geometry(n, l, c, p);
        size_t o = (size_t)c->first * out_elems;
        double t0 = n->profile ? clock_seconds() : 0.0;
        maxpool_fused_forward(n->chunk_buf, (char *)l->out_buf + o * es, (uint8_t *)l->workspace + o, &g, &d);
        if (n->profile) own_time(n, l, false, clock_seconds() - t0);
    }
    return GC_OK;
}

/* acc = chunk (first chunk) or acc += chunk. */
static void accumulate(float *acc, const float *chunk, size_t count, bool first)
{
    if (first) {
        memcpy(acc, chunk, count * sizeof *acc);
        return;
    }
#pragma omp parallel for simd schedule(static) if (count > 16384)
    for (size_t i = 0; i < count; i++) acc[i] += chunk[i];
}

static int conv_pool_backward(net *n, layer *l, const pass_ctx *p)
{
    conv_pool_state *st = l->impl;
    size_t out_elems = layer_out_elems(n, l, 1), es = dt_size(n->act_dt);
    pool_dropout d = chunk_dropout(l, p);
    float *db = param_g(&n->params, l->param_b);
    if (l->d_in) GC_TRY(dnnl_op_run(&n->ctx, &st->w_to_bwd));
    for (int k = 0; k < st->nchunks[1][p->variant]; k++) {
        const chunk_ops *c = &st->chunks[1][p->variant][k];
        pool_geometry g = chunk_geometry(n, l, c, p);
        size_t o = (size_t)c->first * out_elems;
        double t0 = n->profile ? clock_seconds() : 0.0;
        g.dx_f32 = st->wgrad_f32;
        maxpool_fused_backward((char *)l->d_out + o * es, (uint8_t *)l->workspace + o, n->chunk_buf, &g, &d);
        if (n->profile) own_time(n, l, true, clock_seconds() - t0);
        if (st->wgrad_f32) GC_TRY(dnnl_op_run(&n->ctx, &c->widen_src));
        GC_TRY(dnnl_op_run(&n->ctx, &c->bwd_weights));
        if (l->d_in) GC_TRY(dnnl_op_run(&n->ctx, &c->bwd_data));
        GC_TRY(dnnl_ctx_wait(&n->ctx));
        t0 = n->profile ? clock_seconds() : 0.0;
        accumulate(st->dw_acc, st->dw_chunk_buf, st->dw_elems, k == 0);
        accumulate(db, st->db_chunk_buf, (size_t)l->filters, k == 0);
        if (n->profile) own_time(n, l, true, clock_seconds() - t0);
    }
    return dnnl_op_run(&n->ctx, &st->dw_to_user);
}

/* The Keras layers it computes: Conv2D (the parameters'), [Dropout,] MaxPooling2D. */
static int conv_pool_parts(const layer *l, layer_part *parts)
{
    act_shape conv = {3, l->filters, l->in.h - l->kernel + 1, l->in.w - l->kernel + 1};
    int np = 0;
    parts[np++] = (layer_part){LAYER_CONV, l->name, "Conv2D", conv, true};
    if (l->rate > 0.0f) parts[np++] = (layer_part){LAYER_DROPOUT, l->dropout_name, "Dropout", conv, false};
    parts[np++] = (layer_part){LAYER_POOL, l->pool_name, "MaxPooling2D", l->out, false};
    return np;
}

const layer_ops conv_pool_layer_ops = {
    .type = "Conv2D+MaxPooling2D",
    .parts = conv_pool_parts,
    .plan = conv_pool_plan,
    .forward = conv_pool_forward,
    .backward = conv_pool_backward,
};
