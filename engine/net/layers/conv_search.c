#include "engine/net/layers/conv_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/base/median.h"
#include "simd/bf16.h"

const char *conv_direction_name(conv_direction d)
{
    static const char *const names[] = {"forward", "backward-data", "backward-weights"};
    return d < CONV_DIRECTIONS ? names[d] : "?";
}


static long out_h(const conv_geometry *g) { return g->h - g->kernel + 1; }
static long out_w(const conv_geometry *g) { return g->w - g->kernel + 1; }

/* The operation descriptor of direction d, weights in w (or any). */
static int op_desc(const conv_geometry *g, dnnl_data_type_t wgrad, conv_direction d, long images, conv_weights_md w,
                   dnnl_convolution_desc_t *desc)
{
    dnnl_memory_desc_t src, dst, w_any, b;
    GC_TRY(md_4d(&src, g->act_dt, images, g->ic, g->h, g->w, g->src_tag));
    GC_TRY(md_4d(&dst, g->act_dt, images, g->oc, out_h(g), out_w(g), g->dst_tag));
    /* the weights forward and backward-data read are the compute copy; their gradient is wgrad */
    GC_TRY(md_4d(&w_any, d == CONV_BACKWARD_WEIGHTS ? wgrad : g->weight_dt, g->oc, g->ic, g->kernel, g->kernel,
                 dnnl_format_tag_any));
    GC_TRY(md_1d(&b, dnnl_f32, g->oc));
    const dnnl_memory_desc_t *wm = w ? w : &w_any;
    dnnl_dims_t strides = {1, 1}, pad = {0, 0};
    switch (d) {
    case CONV_FORWARD:
        DNNL_TRY(dnnl_convolution_forward_desc_init(desc, dnnl_forward_training, dnnl_convolution_direct, &src, wm, &b,
                                                    &dst, strides, pad, pad));
        return GC_OK;
    case CONV_BACKWARD_DATA:
        DNNL_TRY(dnnl_convolution_backward_data_desc_init(desc, dnnl_convolution_direct, &src, wm, &dst, strides, pad,
                                                          pad));
        return GC_OK;
    default:
        DNNL_TRY(dnnl_convolution_backward_weights_desc_init(desc, dnnl_convolution_direct, &src, wm, &b, &dst,
                                                             strides, pad, pad));
        return GC_OK;
    }
}

/* Reference implementations are correct and very slow: never candidates for speed. */
static bool is_reference(const char *name) { return strncmp(name, "ref", 3) == 0; }

/* Walks oneDNN's implementations: fn(pd, name, user) for each, which returns 1 to keep pd
 * (and stop), 0 to go on, or an error. */
typedef int (*impl_visit)(dnnl_primitive_desc_t pd, const char *name, void *user);

static int each_impl(dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad, conv_direction d, long images,
                     conv_weights_md w, const_dnnl_primitive_desc_t hint, impl_visit fn, void *user)
{
    dnnl_convolution_desc_t desc;
    GC_TRY(op_desc(g, wgrad, d, images, w, &desc));
    dnnl_primitive_desc_iterator_t it;
    DNNL_TRY(dnnl_primitive_desc_iterator_create(&it, &desc, d == CONV_FORWARD ? ctx->attr_relu : ctx->attr,
                                                 ctx->engine, hint));
    int rc = GC_OK;
    do {
        dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch(it);
        if (!pd) {
            rc = gc_fail(GC_ERUNTIME, "oneDNN: fetching a convolution %s implementation", conv_direction_name(d));
            break;
        }
        rc = fn(pd, pd_impl_name(pd), user);
        if (rc != 1) dnnl_primitive_desc_destroy(pd);
    } while (rc == GC_OK && dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return rc == 1 ? GC_OK : rc;
}

typedef struct {
    const char *want;
    dnnl_primitive_desc_t found, first;
} find_state;

static int find_visit(dnnl_primitive_desc_t pd, const char *name, void *user)
{
    find_state *s = user;
    if (!s->want || !*s->want || strcmp(s->want, name) == 0) {
        s->found = pd;
        return 1;
    }
    /* the fallback: a clone, since the iterator's descriptors are destroyed as it moves on */
    if (!s->first) DNNL_TRY(dnnl_primitive_desc_clone(&s->first, pd));
    return 0;
}

int conv_search_pd(dnnl_ctx *ctx, const conv_geometry *g, conv_direction d, long images, conv_weights_md w,
                   const_dnnl_primitive_desc_t hint, const char *impl, dnnl_primitive_desc_t *out)
{
    return conv_search_pd_wgrad(ctx, g, dnnl_f32, d, images, w, hint, impl, out);
}

int conv_search_pd_wgrad(dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad_dt, conv_direction d,
                         long images, conv_weights_md w, const_dnnl_primitive_desc_t hint, const char *impl,
                         dnnl_primitive_desc_t *out)
{
    find_state s = {impl, NULL, NULL};
    int rc = each_impl(ctx, g, wgrad_dt, d, images, w, hint, find_visit, &s);
    if (rc != GC_OK || s.found) {
        if (s.first) dnnl_primitive_desc_destroy(s.first);
        *out = rc == GC_OK ? s.found : NULL;
        if (rc != GC_OK && s.found) dnnl_primitive_desc_destroy(s.found);
        return rc;
    }
    *out = s.first;
    return s.first ? GC_OK : gc_fail(GC_ERUNTIME, "oneDNN offers no convolution %s", conv_direction_name(d));
}

typedef struct {
    char (*names)[CONV_IMPL_NAME_MAX];
    int count;
} list_state;

static int list_visit(dnnl_primitive_desc_t pd, const char *name, void *user)
{
    list_state *s = user;
    if (is_reference(name) || s->count >= CONV_MAX_IMPLS) return 0;
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) return 0;
    snprintf(s->names[s->count++], CONV_IMPL_NAME_MAX, "%s", name);
    return 0;
}

int conv_search_impls(dnnl_ctx *ctx, const conv_geometry *g, conv_direction d, long images,
                      const_dnnl_primitive_desc_t hint, char names[][CONV_IMPL_NAME_MAX], int *count)
{
    return conv_search_impls_wgrad(ctx, g, dnnl_f32, d, images, hint, names, count);
}

int conv_search_impls_wgrad(dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad_dt, conv_direction d,
                            long images, const_dnnl_primitive_desc_t hint, char names[][CONV_IMPL_NAME_MAX], int *count)
{
    list_state s = {names, 0};
    GC_TRY(each_impl(ctx, g, wgrad_dt, d, images, NULL, hint, list_visit, &s));
    *count = s.count;
    return GC_OK;
}

struct conv_bench {
    dnnl_ctx *ctx;
    conv_geometry g;
    long batch, max_images;
    char *src, *diff_src, *dst;  /* the batch's input and its gradient; one chunk's output */
    size_t src_image, dst_image; /* bytes per image, in the activations' type */
};

static float fill_value(size_t i, unsigned salt) { return (float)((i * 2654435761u + salt) % 2001u) * 1e-3f - 1.0f; }

/* `bytes` of values in [-1, 1] of type dt (bf16 by its own values, not float halves, which
 * could be NaNs or denormals); any other type is filled as floats. */
static void fill_dt(void *p, size_t bytes, dnnl_data_type_t dt, unsigned salt)
{
    if (dt == dnnl_bf16) {
        bf16 *b = p;
        for (size_t i = 0; i < bytes / sizeof *b; i++) b[i] = bf16_from_f32(fill_value(i, salt));
        return;
    }
    float *f = p;
    for (size_t i = 0; i < bytes / sizeof *f; i++) f[i] = fill_value(i, salt);
}

static size_t image_bytes(dnnl_data_type_t dt, long c, long h, long w, dnnl_format_tag_t tag)
{
    dnnl_memory_desc_t md;
    return md_4d(&md, dt, 1, c, h, w, tag) == GC_OK ? md_bytes(&md) : 0;
}

int conv_bench_create(dnnl_ctx *ctx, const conv_geometry *g, long batch, long max_images, conv_bench **out)
{
    conv_bench *b;
    GC_TRY(gc_alloc((void **)&b, sizeof *b, "a convolution benchmark"));
    *b = (conv_bench){.ctx = ctx, .g = *g, .batch = batch, .max_images = max_images};
    b->src_image = image_bytes(g->act_dt, g->ic, g->h, g->w, g->src_tag);
    b->dst_image = image_bytes(g->act_dt, g->oc, out_h(g), out_w(g), g->dst_tag);
    size_t ns = b->src_image * (size_t)batch, nd = b->dst_image * (size_t)max_images;
    int rc = gc_alloc((void **)&b->src, ns, "a convolution benchmark's input batch");
    if (rc == GC_OK) rc = gc_alloc((void **)&b->diff_src, ns, "a convolution benchmark's gradient batch");
    if (rc == GC_OK) rc = gc_alloc((void **)&b->dst, nd, "a convolution benchmark's chunk buffer");
    if (rc != GC_OK) {
        conv_bench_destroy(b);
        return rc;
    }
    fill_dt(b->src, ns, g->act_dt, 1);
    fill_dt(b->diff_src, ns, g->act_dt, 2);
    fill_dt(b->dst, nd, g->act_dt, 3);
    *out = b;
    return GC_OK;
}

void conv_bench_destroy(conv_bench *b)
{
    if (!b) return;
    gc_free(b->src);
    gc_free(b->diff_src);
    gc_free(b->dst);
    gc_free(b);
}

/* One timing's memory objects and small buffers, freed together. */
typedef struct {
    dnnl_memory_t mem[6];
    void *buf[4];
    int nmem, nbuf;
} timing_res;

static int res_memory(timing_res *r, dnnl_engine_t eng, const dnnl_memory_desc_t *md, void *handle,
                      dnnl_memory_t *out)
{
    DNNL_TRY(dnnl_memory_create(out, md, eng, handle));
    r->mem[r->nmem++] = *out;
    return GC_OK;
}

/* A memory object over a new buffer in md's layout, filled. */
static int res_buffer(timing_res *r, dnnl_engine_t eng, const dnnl_memory_desc_t *md, dnnl_memory_t *out)
{
    size_t bytes = md_bytes(md);
    GC_TRY(gc_alloc(&r->buf[r->nbuf], bytes, "a convolution benchmark's weights"));
    fill_dt(r->buf[r->nbuf], bytes, md->data_type, 4);
    return res_memory(r, eng, md, r->buf[r->nbuf++], out);
}

static void res_free(timing_res *r)
{
    for (int i = 0; i < r->nmem; i++) dnnl_memory_destroy(r->mem[i]);
    for (int i = 0; i < r->nbuf; i++) gc_free(r->buf[i]);
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what)
{
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* Timed calls kept per configuration: enough for a robust median of tiny chunks. */
#define TIME_MAX_CALLS 512

static int time_chunks(conv_bench *b, conv_direction d, const_dnnl_primitive_desc_t pd, long images,
                       double budget, int min_chunks, timing_res *r, double *per_image)
{
    dnnl_engine_t eng = b->ctx->engine;
    dnnl_primitive_t prim;
    DNNL_TRY(dnnl_primitive_create(&prim, pd));
    dnnl_memory_t src, dst, w, bias = NULL, scratch = NULL;
    dnnl_exec_arg_t args[6];
    int nargs = 0, rc = GC_OK;
    char *moving = d == CONV_BACKWARD_DATA ? b->diff_src : b->src; /* the batch-walking argument */
    const dnnl_memory_desc_t *smd = query(pd, d == CONV_BACKWARD_DATA ? dnnl_query_diff_src_md : dnnl_query_src_md);
    const dnnl_memory_desc_t *dmd = query(pd, d == CONV_FORWARD ? dnnl_query_dst_md : dnnl_query_diff_dst_md);
    const dnnl_memory_desc_t *wmd = query(pd, d == CONV_BACKWARD_WEIGHTS ? dnnl_query_diff_weights_md
                                                                        : dnnl_query_weights_md);
    const dnnl_memory_desc_t *scr = query(pd, dnnl_query_scratchpad_md);
    rc = res_memory(r, eng, smd, moving, &src);
    if (rc == GC_OK) rc = res_memory(r, eng, dmd, b->dst, &dst);
    if (rc == GC_OK) rc = res_buffer(r, eng, wmd, &w);
    if (rc == GC_OK && d != CONV_BACKWARD_DATA) {
        /* the bias is the second weights argument */
        const dnnl_memory_desc_t *bmd =
            dnnl_primitive_desc_query_md(pd, d == CONV_FORWARD ? dnnl_query_weights_md : dnnl_query_diff_weights_md, 1);
        rc = res_buffer(r, eng, bmd, &bias);
    }
    if (rc == GC_OK && scr && md_bytes(scr) > 0) rc = res_buffer(r, eng, scr, &scratch);
    if (rc != GC_OK) {
        dnnl_primitive_destroy(prim);
        return rc;
    }
    switch (d) {
    case CONV_FORWARD:
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, w};
        if (bias) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, bias};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
        break;
    case CONV_BACKWARD_DATA:
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, dst};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, w};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, src};
        break;
    default:
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, dst};
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS, w};
        if (bias) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, bias};
        break;
    }
    if (scratch) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, scratch};

    /* The median of the timed calls, not their mean: on a shared or virtual machine one call
     * in a few is stretched by another process, and a mean over a short budget would let it
     * decide the winner (the best of a search then came out slower than oneDNN's first choice). */
    long chunks_per_batch = b->batch / images;
    double calls[TIME_MAX_CALLS], timed = 0.0;
    int ncalls = 0;
    for (long k = 0; rc == GC_OK; k++) {
        char *at = moving + (size_t)(k % chunks_per_batch) * (size_t)images * b->src_image;
        dnnl_status_t st = dnnl_memory_set_data_handle(src, at);
        double t0 = clock_seconds();
        if (st == dnnl_success) st = dnnl_primitive_execute(prim, b->ctx->stream, nargs, args);
        if (st == dnnl_success) st = dnnl_stream_wait(b->ctx->stream);
        double t1 = clock_seconds();
        if (st != dnnl_success) {
            rc = gc_fail_dnnl(st, "executing a convolution being timed", __FILE__, __LINE__);
            break;
        }
        if (k == 0) continue; /* warm-up */
        calls[ncalls++] = t1 - t0;
        timed += t1 - t0;
        if (ncalls == TIME_MAX_CALLS || (ncalls >= min_chunks && timed >= budget)) break;
    }
    dnnl_primitive_destroy(prim);
    if (rc == GC_OK) *per_image = median_of(calls, ncalls) / (double)images;
    return rc;
}

int conv_bench_time(conv_bench *b, conv_direction d, const_dnnl_primitive_desc_t pd, long images, double budget,
                    int min_chunks, double *per_image)
{
    if (images < 1 || images > b->max_images || images > b->batch)
        return gc_fail(GC_ERUNTIME, "timing a convolution at %ld images per chunk (at most %ld)", images,
                       b->max_images < b->batch ? b->max_images : b->batch);
    timing_res r = {0};
    int rc = time_chunks(b, d, pd, images, budget, min_chunks, &r, per_image);
    res_free(&r);
    return rc;
}

conv_geometry conv_wgrad_geometry(const conv_geometry *g, bool f32)
{
    conv_geometry w = *g;
    if (f32) w.act_dt = w.weight_dt = dnnl_f32;
    return w;
}
