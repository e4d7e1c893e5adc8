/* The oneDNN engine and stream, and ownership of everything created on them.
 *
 * Layers create their primitives, memory objects and weight-format buffers through this
 * context once, when the network is planned; the context frees them all at the end. Every
 * primitive uses a user-provided scratchpad: one shared buffer sized for the largest, so
 * executing a step allocates nothing. */
#ifndef GCBENCH_ENGINE_DNNL_CTX_H
#define GCBENCH_ENGINE_DNNL_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include <oneapi/dnnl/dnnl.h>

/* Turns a failed oneDNN call into a runtime error naming the call and the source line. */
int gc_fail_dnnl(dnnl_status_t status, const char *call, const char *file, int line);

/* Wraps every oneDNN call: a failure returns GC_ERUNTIME with the call's text. */
#define DNNL_TRY(call)                                                                     \
    do {                                                                                   \
        dnnl_status_t gc_st_ = (call);                                                     \
        if (gc_st_ != dnnl_success) return gc_fail_dnnl(gc_st_, #call, __FILE__, __LINE__); \
    } while (0)

#define DNNL_OP_MAX_ARGS 10

/* A primitive with its arguments bound: executing it needs nothing else. */
typedef struct {
    dnnl_primitive_t prim; /* NULL: nothing to do (for example a reorder that is not needed) */
    int nargs;
    dnnl_exec_arg_t args[DNNL_OP_MAX_ARGS];
} dnnl_op;

typedef struct {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attr;      /* user scratchpad mode; used for every primitive */
    dnnl_primitive_attr_t attr_relu; /* the same with a fused ReLU post-op */

    /* Owned objects, freed by dnnl_ctx_destroy. */
    dnnl_primitive_desc_t *pds;
    size_t npds, cap_pds;
    dnnl_primitive_t *prims;
    size_t nprims, cap_prims;
    dnnl_memory_t *mems;
    size_t nmems, cap_mems;
    void **blocks;
    size_t nblocks, cap_blocks;

    /* The shared scratchpad: memory objects waiting for the buffer, and its size. */
    dnnl_memory_t *scratch_mems;
    size_t nscratch, cap_scratch;
    size_t scratch_bytes;
    void *scratch;
} dnnl_ctx;

int dnnl_ctx_init(dnnl_ctx *ctx);
void dnnl_ctx_destroy(dnnl_ctx *ctx);

/* Allocates a zeroed, aligned block owned by the context. */
int dnnl_ctx_alloc(dnnl_ctx *ctx, size_t bytes, const char *what, void **out);

/* A memory object over handle (which the caller keeps alive), owned by the context. */
int dnnl_ctx_memory(dnnl_ctx *ctx, const dnnl_memory_desc_t *md, void *handle, dnnl_memory_t *out);

/* A primitive descriptor, owned by the context, from an operation descriptor whose
 * *_desc_init returned `init`; `what` names it in errors ("convolution backward-data"). */
int dnnl_ctx_pd(dnnl_ctx *ctx, dnnl_status_t init, const void *desc, const_dnnl_primitive_attr_t attr,
                const_dnnl_primitive_desc_t hint, const char *what, dnnl_primitive_desc_t *out);

/* Makes the context own pd (one the caller created, e.g. from an implementation iterator);
 * on failure pd is destroyed. */
int dnnl_ctx_adopt_pd(dnnl_ctx *ctx, dnnl_primitive_desc_t pd);

/* Creates the primitive of pd, owned by the context, into op (arguments cleared, then the
 * scratchpad argument bound when the primitive needs one). */
int dnnl_ctx_primitive(dnnl_ctx *ctx, const_dnnl_primitive_desc_t pd, dnnl_op *op);

/* dnnl_ctx_primitive, then the nargs arguments of args bound. */
int dnnl_ctx_op(dnnl_ctx *ctx, const_dnnl_primitive_desc_t pd, dnnl_op *op, int nargs, const dnnl_exec_arg_t *args);

/* The argument list of dnnl_ctx_op: DNNL_ARGS({DNNL_ARG_SRC, mem}, {DNNL_ARG_DST, mem}) */
#define DNNL_ARGS(...)                                                                     \
    (int)(sizeof((dnnl_exec_arg_t[]){__VA_ARGS__}) / sizeof(dnnl_exec_arg_t)), (dnnl_exec_arg_t[]) { __VA_ARGS__ }

/* Adds an argument to op. */
void dnnl_op_arg(dnnl_op *op, int arg, dnnl_memory_t mem);

/* A reorder from (src_md, src) to (dst_md, dst) as a bound op; when the two descriptors are
 * equal, op->prim stays NULL and *same is set (callers then share one buffer). */
int dnnl_ctx_reorder(dnnl_ctx *ctx, const dnnl_memory_desc_t *src_md, void *src,
                     const dnnl_memory_desc_t *dst_md, void *dst, dnnl_op *op);

/* Allocates the shared scratchpad and binds it to every primitive; call after planning. */
int dnnl_ctx_bind_scratchpad(dnnl_ctx *ctx);

/* Executes op on the context's stream (a no-op for an empty op). */
int dnnl_op_run(dnnl_ctx *ctx, const dnnl_op *op);

/* Waits for the stream: after a pass, before the host reads results. */
int dnnl_ctx_wait(dnnl_ctx *ctx);

/* Descriptor helpers: dims, the data type and the layout. Buffers are sized from descriptors
 * (md_bytes), never from element counts, so another data type changes no allocation. */
int md_4d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n, long c, long h, long w, dnnl_format_tag_t tag);
int md_2d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n, long c, dnnl_format_tag_t tag);
int md_1d(dnnl_memory_desc_t *md, dnnl_data_type_t dt, long n);

/* Bytes of one element of dt (0 for an unknown type); "f32", "bf16", ... for messages. */
size_t dt_size(dnnl_data_type_t dt);
const char *dt_name(dnnl_data_type_t dt);
size_t md_bytes(const dnnl_memory_desc_t *md);
bool md_equal(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b);

/* The implementation oneDNN chose for pd ("jit:avx512_core", "ref", ...), for diagnostics. */
const char *pd_impl_name(const_dnnl_primitive_desc_t pd);

#endif
