#include "engine/dnnl/dnnl_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"

static const char *dnnl_status_name(dnnl_status_t s)
{
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented (no implementation for these shapes/formats)";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

int gc_fail_dnnl(dnnl_status_t status, const char *call, const char *file, int line)
{
    return gc_fail(GC_ERUNTIME, "oneDNN call failed (%s) at %s:%d: %s", dnnl_status_name(status),
                   file, line, call);
}

/* Appends item to a growable array of pointers; used only while planning. */
static int push_ptr(void ***arr, size_t *n, size_t *cap, void *item)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        void **grown = realloc(*arr, ncap * sizeof **arr);
        if (!grown) return gc_fail(GC_ERUNTIME, "out of memory growing the oneDNN object list");
        *arr = grown;
        *cap = ncap;
    }
    (*arr)[(*n)++] = item;
    return GC_OK;
}

int dnnl_ctx_init(dnnl_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    DNNL_TRY(dnnl_engine_create(&ctx->engine, dnnl_cpu, 0));
    DNNL_TRY(dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags));
    DNNL_TRY(dnnl_primitive_attr_create(&ctx->attr));
    DNNL_TRY(dnnl_primitive_attr_set_scratchpad_mode(ctx->attr, dnnl_scratchpad_mode_user));
    DNNL_TRY(dnnl_primitive_attr_clone(&ctx->attr_relu, ctx->attr));
    dnnl_post_ops_t po;
    DNNL_TRY(dnnl_post_ops_create(&po));
    dnnl_status_t st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(ctx->attr_relu, po);
    dnnl_post_ops_destroy(po);
    DNNL_TRY(st);
    return GC_OK;
}

void dnnl_ctx_destroy(dnnl_ctx *ctx)
{
    for (size_t i = 0; i < ctx->nprims; i++) dnnl_primitive_destroy(ctx->prims[i]);
    for (size_t i = 0; i < ctx->npds; i++) dnnl_primitive_desc_destroy(ctx->pds[i]);
    free(ctx->pds);
    for (size_t i = 0; i < ctx->nmems; i++) dnnl_memory_destroy(ctx->mems[i]);
    for (size_t i = 0; i < ctx->nblocks; i++) gc_free(ctx->blocks[i]);
    free(ctx->prims);
    free(ctx->mems);
    free(ctx->blocks);
    free(ctx->scratch_mems);
    gc_free(ctx->scratch);
    if (ctx->attr) dnnl_primitive_attr_destroy(ctx->attr);
    if (ctx->attr_relu) dnnl_primitive_attr_destroy(ctx->attr_relu);
    if (ctx->stream) dnnl_stream_destroy(ctx->stream);
    if (ctx->engine) dnnl_engine_destroy(ctx->engine);
    memset(ctx, 0, sizeof *ctx);
}

int dnnl_ctx_alloc(dnnl_ctx *ctx, size_t bytes, const char *what, void **out)
{
    GC_TRY(gc_alloc(out, bytes, what));
    int rc = push_ptr(&ctx->blocks, &ctx->nblocks, &ctx->cap_blocks, *out);
    if (rc != GC_OK) {
        gc_free(*out);
        *out = NULL;
    }
    return rc;
}

int dnnl_ctx_memory(dnnl_ctx *ctx, const dnnl_memory_desc_t *md, void *handle, dnnl_memory_t *out)
{
    DNNL_TRY(dnnl_memory_create(out, md, ctx->engine, handle ? handle : DNNL_MEMORY_NONE));
    int rc = push_ptr((void ***)&ctx->mems, &ctx->nmems, &ctx->cap_mems, *out);
    if (rc != GC_OK) dnnl_memory_destroy(*out);
    return rc;
}

void dnnl_op_arg(dnnl_op *op, int arg, dnnl_memory_t mem)
{
    /* The fixed capacity covers every primitive gcbench builds; exceeding it is a bug. */
    if (op->nargs >= DNNL_OP_MAX_ARGS) abort();
    op->args[op->nargs].arg = arg;
    op->args[op->nargs].memory = mem;
    op->nargs++;
}

int dnnl_ctx_pd(dnnl_ctx *ctx, dnnl_status_t init, const void *desc, const_dnnl_primitive_attr_t attr,
                const_dnnl_primitive_desc_t hint, const char *what, dnnl_primitive_desc_t *out)
{
    *out = NULL;
    dnnl_status_t st = init;
    if (st == dnnl_success) st = dnnl_primitive_desc_create(out, desc, attr, ctx->engine, hint);
    if (st != dnnl_success) {
        char call[160];
        snprintf(call, sizeof call, "%s primitive descriptor", what);
        return gc_fail_dnnl(st, call, __FILE__, __LINE__);
    }
    int rc = push_ptr((void ***)&ctx->pds, &ctx->npds, &ctx->cap_pds, *out);
    if (rc != GC_OK) {
        dnnl_primitive_desc_destroy(*out);
        *out = NULL;
    }
    return rc;
}

int dnnl_ctx_adopt_pd(dnnl_ctx *ctx, dnnl_primitive_desc_t pd)
{
    int rc = push_ptr((void ***)&ctx->pds, &ctx->npds, &ctx->cap_pds, pd);
    if (rc != GC_OK) dnnl_primitive_desc_destroy(pd);
    return rc;
}

int dnnl_ctx_op(dnnl_ctx *ctx, const_dnnl_primitive_desc_t pd, dnnl_op *op, int nargs, const dnnl_exec_arg_t *args)
{
    GC_TRY(dnnl_ctx_primitive(ctx, pd, op));
    for (int i = 0; i < nargs; i++) dnnl_op_arg(op, args[i].arg, args[i].memory);
    return GC_OK;
}

int dnnl_ctx_primitive(dnnl_ctx *ctx, const_dnnl_primitive_desc_t pd, dnnl_op *op)
{
    memset(op, 0, sizeof *op);
    DNNL_TRY(dnnl_primitive_create(&op->prim, pd));
    int rc = push_ptr((void ***)&ctx->prims, &ctx->nprims, &ctx->cap_prims, op->prim);
    if (rc != GC_OK) {
        dnnl_primitive_destroy(op->prim);
        op->prim = NULL;
        return rc;
    }

    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes > 0) {
        dnnl_memory_t mem;
        GC_TRY(dnnl_ctx_memory(ctx, smd, NULL, &mem));
        GC_TRY(push_ptr((void ***)&ctx->scratch_mems, &ctx->nscratch, &ctx->cap_scratch, mem));
        if (bytes > ctx->scratch_bytes) ctx->scratch_bytes = bytes;
        dnnl_op_arg(op, DNNL_ARG_SCRATCHPAD, mem);
    }
    return GC_OK;
}

int dnnl_ctx_reorder(dnnl_ctx *ctx, const dnnl_memory_desc_t *src_md, void *src,
                     const dnnl_memory_desc_t *dst_md, void *dst, dnnl_op *op)
{
    memset(op, 0, sizeof *op);
    if (md_equal(src_md, dst_md)) return GC_OK;

    dnnl_primitive_desc_t pd;
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, src_md, ctx->engine, dst_md, ctx->engine,
                                                ctx->attr));
    int rc = push_ptr((void ***)&ctx->pds, &ctx->npds, &ctx->cap_pds, pd);
    if (rc != GC_OK) dnnl_primitive_desc_destroy(pd);
    GC_TRY(rc);
    GC_TRY(dnnl_ctx_primitive(ctx, pd, op));

    dnnl_memory_t msrc, mdst;
    GC_TRY(dnnl_ctx_memory(ctx, src_md, src, &msrc));
    GC_TRY(dnnl_ctx_memory(ctx, dst_md, dst, &mdst));
    dnnl_op_arg(op, DNNL_ARG_FROM, msrc);
    dnnl_op_arg(op, DNNL_ARG_TO, mdst);
    return GC_OK;
}

int dnnl_ctx_bind_scratchpad(dnnl_ctx *ctx)
{
    gc_free(ctx->scratch);
    ctx->scratch = NULL;
    GC_TRY(gc_alloc(&ctx->scratch, ctx->scratch_bytes, "the oneDNN scratchpad"));
    for (size_t i = 0; i < ctx->nscratch; i++)
        DNNL_TRY(dnnl_memory_set_data_handle(ctx->scratch_mems[i], ctx->scratch));
    return GC_OK;
}

int dnnl_op_run(dnnl_ctx *ctx, const dnnl_op *op)
{
    if (!op->prim) return GC_OK;
    DNNL_TRY(dnnl_primitive_execute(op->prim, ctx->stream, op->nargs, op->args));
    return GC_OK;
}

int dnnl_ctx_wait(dnnl_ctx *ctx)
{
    DNNL_TRY(dnnl_stream_wait(ctx->stream));
    return GC_OK;
}

int md_4d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n, long c, long h, long w, dnnl_format_tag_t tag)
{
    dnnl_dims_t dims = {n, c, h, w};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 4, dims, dt, tag));
    return GC_OK;
}

int md_2d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n, long c, dnnl_format_tag_t tag)
{
    dnnl_dims_t dims = {n, c};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 2, dims, dt, tag));
    return GC_OK;
}

int md_1d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n)
{
    dnnl_dims_t dims = {n};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 1, dims, dt, dnnl_a));
    return GC_OK;
}

size_t dt_size(dnnl_data_type_t dt)
{
    switch (dt) {
    case dnnl_f32: case dnnl_s32: return 4;
    case dnnl_bf16: case dnnl_f16: return 2;
    case dnnl_s8: case dnnl_u8: return 1;
    default: return 0;
    }
}

const char *dt_name(dnnl_data_type_t dt)
{
    switch (dt) {
    case dnnl_f32: return "f32";
    case dnnl_bf16: return "bf16";
    case dnnl_f16: return "f16";
    default: return "other";
    }
}

size_t md_bytes(const dnnl_memory_desc_t *md) { return dnnl_memory_desc_get_size(md); }

bool md_equal(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b)
{
    return dnnl_memory_desc_equal(a, b) != 0;
}

const char *pd_impl_name(const_dnnl_primitive_desc_t pd)
{
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "?";
    return name;
}
