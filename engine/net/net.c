#include "engine/net/net.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/net/precision.h"

dnnl_format_tag_t net_native_layout(dnnl_data_type_t dt)
{
    /* The layout oneDNN's fastest convolutions use on this CPU: its AMX kernels (bf16) read
     * channels-last only (blocked bf16 falls back to AVX512-BF16 code, 3-4x slower); otherwise
     * 16 or 8 channels per block with AVX-512 or AVX2, channels-last elsewhere. */
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (dt == dnnl_bf16 && (isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx) return dnnl_nhwc;
    if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core) return dnnl_nChw16c;
    if ((isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2) return dnnl_nChw8c;
    return dnnl_nhwc;
}

int net_create(net **out, act_shape input, dnnl_format_tag_t act_tag)
{
    *out = NULL;
    if (input.rank != 3 || input.c < 1 || input.h < 1 || input.w < 1)
        return gc_fail(GC_EUSAGE, "network input must be an image shape (c, h, w)");
    net *n = calloc(1, sizeof *n);
    if (!n) return gc_fail(GC_ERUNTIME, "out of memory creating the network");
    int rc = dnnl_ctx_init(&n->ctx);
    if (rc != GC_OK) {
        dnnl_ctx_destroy(&n->ctx);
        free(n);
        return rc;
    }
    n->layout_native = act_tag == dnnl_format_tag_any;
    n->act_tag = n->layout_native ? net_native_layout(dnnl_f32) : act_tag;
    n->input_tag = n->act_tag == dnnl_nhwc ? dnnl_nhwc : dnnl_nchw;
    n->input_dt = n->act_dt = n->weight_dt = dnnl_f32;
    n->input = input;
    *out = n;
    return GC_OK;
}

void net_destroy(net *n)
{
    if (!n) return;
    for (int i = 0; i < n->nlayers; i++) {
        layer *l = &n->layers[i];
        if (l->out_buf != l->in_buf) gc_free(l->out_buf);
        gc_free(l->workspace);
        gc_free(l->mask);
    }
    gc_free(n->own_input);
    free(n->input_mems);
    free(n->input_offsets);
    gc_free(n->diff[0]);
    gc_free(n->diff[1]);
    gc_free(n->chunk_buf);
    params_free(&n->params);
    dnnl_ctx_destroy(&n->ctx);
    free(n);
}

/* How many of the network's layers before `upto` contain a part of this Keras kind (a fused layer
 * counts for each of its parts): the suffix of the next one's name. */
static int parts_before(const net *n, int upto, layer_kind part)
{
    int count = 0;
    for (int i = 0; i < upto; i++) {
        layer_part parts[LAYER_MAX_PARTS];
        int np = layer_parts(&n->layers[i], parts);
        for (int p = 0; p < np; p++) count += parts[p].kind == part;
    }
    return count;
}

int layer_parts(const layer *l, layer_part *parts)
{
    if (l->ops->parts) return l->ops->parts(l, parts);
    parts[0] = (layer_part){l->kind, l->name, l->ops->type, l->out, l->param_w >= 0};
    return 1;
}

void layer_label(const layer *l, char *buf, size_t size)
{
    layer_part parts[LAYER_MAX_PARTS];
    int np = layer_parts(l, parts);
    size_t used = 0;
    buf[0] = '\0';
    for (int p = 0; p < np && used < size; p++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", p ? "+" : "", parts[p].name);
}

/* Keras's name for the next part of this kind: "conv2d", then "conv2d_1", ... */
static void keras_name(const net *n, int upto, layer_kind part, const char *base, char *out)
{
    int same = parts_before(n, upto, part);
    if (same == 0)
        snprintf(out, LAYER_NAME_MAX, "%s", base);
    else
        snprintf(out, LAYER_NAME_MAX, "%s_%d", base, same);
}

/* Appends a layer of `kind` after the last one, named as Keras names it. */
static int add_layer(net *n, layer_kind kind, const layer_ops *ops, const char *base, layer **out)
{
    if (n->planned) return gc_fail(GC_ERUNTIME, "cannot add layers after net_plan");
    if (n->nlayers == NET_MAX_LAYERS)
        return gc_fail(GC_ERUNTIME, "too many layers (at most %d)", NET_MAX_LAYERS);
    layer *l = &n->layers[n->nlayers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->ops = ops;
    l->index = n->nlayers;
    l->param_w = l->param_b = -1;
    l->dropout_ordinal = parts_before(n, l->index, LAYER_DROPOUT);
    keras_name(n, l->index, kind, base, l->name);
    l->in = n->nlayers ? n->layers[n->nlayers - 1].out : n->input;
    l->out = l->in;
    n->nlayers++;
    *out = l;
    return GC_OK;
}

/* Registers a layer's kernel (output-major) and bias. */
static int add_params(net *n, layer *l, param_kind kind, int rank, const long *dims)
{
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%s/kernel", l->name);
    GC_TRY(params_add(&n->params, name, kind, rank, dims, &l->param_w));
    snprintf(name, sizeof name, "%s/bias", l->name);
    return params_add(&n->params, name, PARAM_BIAS, 1, dims, &l->param_b);
}

int net_add_conv(net *n, int filters, int kernel, bool relu)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_CONV, &conv_layer_ops, "conv2d", &l));
    if (l->in.rank != 3 || filters < 1 || kernel < 1 || l->in.h < kernel || l->in.w < kernel)
        return gc_fail(GC_EUSAGE, "%s: a %dx%d convolution needs an image input of at least %dx%d, got %ldx%ld",
                       l->name, kernel, kernel, kernel, kernel, l->in.h, l->in.w);
    l->filters = filters;
    l->kernel = kernel;
    l->relu = relu;
    l->out = (act_shape){3, filters, l->in.h - kernel + 1, l->in.w - kernel + 1};
    long dims[4] = {filters, l->in.c, kernel, kernel};
    return add_params(n, l, PARAM_CONV_KERNEL, 4, dims);
}

int net_add_pool(net *n, int window)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_POOL, &pool_layer_ops, "max_pooling2d", &l));
    if (l->in.rank != 3 || window < 1 || l->in.h < window || l->in.w < window)
        return gc_fail(GC_EUSAGE, "%s: a %dx%d pooling needs an image input of at least %dx%d, got %ldx%ld",
                       l->name, window, window, window, window, l->in.h, l->in.w);
    l->pool = window;
    /* Valid padding, stride = window: floor((h - window) / window) + 1. */
    l->out = (act_shape){3, l->in.c, (l->in.h - window) / window + 1, (l->in.w - window) / window + 1};
    return GC_OK;
}

int net_add_dropout(net *n, float rate)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_DROPOUT, &dropout_layer_ops, "dropout", &l));
    if (!(rate >= 0.0f && rate < 1.0f))
        return gc_fail(GC_EUSAGE, "%s: rate must be in [0, 1), got %g", l->name, (double)rate);
    l->rate = rate;
    return GC_OK;
}

int net_add_conv_pool(net *n, int filters, int kernel, float rate)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_CONV_POOL, &conv_pool_layer_ops, "conv2d", &l));
    /* named by its parts, as Keras names the layers it computes */
    keras_name(n, l->index, LAYER_CONV, "conv2d", l->name);
    keras_name(n, l->index, LAYER_POOL, "max_pooling2d", l->pool_name);
    keras_name(n, l->index, LAYER_DROPOUT, "dropout", l->dropout_name);
    long side_h = l->in.h - kernel + 1, side_w = l->in.w - kernel + 1;
    if (l->in.rank != 3 || filters < 1 || kernel < 1 || side_h < 2 || side_w < 2)
        return gc_fail(GC_EUSAGE, "%s: a %dx%d convolution and 2x2 pooling need an image input of at least %dx%d, got %ldx%ld",
                       l->name, kernel, kernel, kernel + 1, kernel + 1, l->in.h, l->in.w);
    if (!(rate >= 0.0f && rate < 1.0f))
        return gc_fail(GC_EUSAGE, "%s: dropout rate must be in [0, 1), got %g", l->dropout_name, (double)rate);
    l->filters = filters;
    l->kernel = kernel;
    l->relu = true;
    l->rate = rate;
    l->pool = 2;
    l->out = (act_shape){3, filters, side_h / 2, side_w / 2};
    long dims[4] = {filters, l->in.c, kernel, kernel};
    return add_params(n, l, PARAM_CONV_KERNEL, 4, dims);
}

void net_set_chunk_images(net *n, int images) { n->chunk_images = images; }

int net_add_flatten(net *n)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_FLATTEN, &flatten_layer_ops, "flatten", &l));
    l->out = (act_shape){1, act_shape_elems(l->in), 1, 1};
    return GC_OK;
}

int net_add_dense(net *n, int units, bool relu)
{
    layer *l = NULL;
    GC_TRY(add_layer(n, LAYER_DENSE, &dense_layer_ops, "dense", &l));
    if (l->in.rank != 1) return gc_fail(GC_EUSAGE, "%s: Dense needs a flat input (add Flatten)", l->name);
    if (units < 1) return gc_fail(GC_EUSAGE, "%s: units must be positive", l->name);
    l->units = units;
    l->relu = relu;
    l->out = (act_shape){1, units, 1, 1};
    long dims[2] = {units, l->in.c};
    return add_params(n, l, PARAM_DENSE_KERNEL, 2, dims);
}

int net_add_relu(net *n)
{
    layer *l = NULL;
    return add_layer(n, LAYER_RELU, &relu_layer_ops, "re_lu", &l);
}

void net_want_input_grad(net *n) { n->input_grad = true; }

void net_set_input_tag(net *n, dnnl_format_tag_t tag) { n->input_tag = tag; }

int net_set_precision(net *n, dnnl_data_type_t act, dnnl_data_type_t weights)
{
    /* a CPU that cannot run bf16 natively is told so first, whatever this build trains in */
    if (act == dnnl_bf16 || weights == dnnl_bf16) GC_TRY(precision_check_cpu(PRECISION_BF16));
    bool f32 = act == dnnl_f32 && weights == dnnl_f32, bf16 = act == dnnl_bf16 && weights == dnnl_bf16;
    if (!f32 && !bf16)
        return gc_fail(GC_EUSAGE, "precision %s activations / %s weights: gcbench trains in f32 or in bf16 (both)",
                       dt_name(act), dt_name(weights));
    n->input_dt = n->act_dt = act; /* the batch too: the loader writes it in this type */
    n->weight_dt = weights;
    if (n->layout_native) { /* the fastest layout can depend on the type */
        bool input_follows = n->input_tag == (n->act_tag == dnnl_nhwc ? dnnl_nhwc : dnnl_nchw);
        n->act_tag = net_native_layout(act);
        if (input_follows) n->input_tag = n->act_tag == dnnl_nhwc ? dnnl_nhwc : dnnl_nchw;
    }
    return GC_OK;
}

static bool in_place(const layer *l) { return l->ops->in_place; }

int layer_in_md(const net *n, const layer *l, long b, dnnl_memory_desc_t *md)
{
    if (l->index == 0) return md_4d(md, n->input_dt, b, n->input.c, n->input.h, n->input.w, n->input_tag);
    return layer_out_md(n, &n->layers[l->index - 1], b, md);
}

/* Images and feature maps are in the activations' type; flat features (the flatten's output
 * and the dense layers', a few KB an image) stay f32 in every precision. */
int layer_out_md(const net *n, const layer *l, long b, dnnl_memory_desc_t *md)
{
    if (in_place(l)) return layer_in_md(n, l, b, md);
    if (l->out.rank == 1) return md_2d(md, dnnl_f32, b, l->out.c, dnnl_nc);
    return md_4d(md, n->act_dt, b, l->out.c, l->out.h, l->out.w, n->act_tag);
}

size_t layer_out_elems(const net *n, const layer *l, long b)
{
    dnnl_memory_desc_t md;
    if (layer_out_md(n, l, b, &md) != GC_OK) return 0;
    return md_bytes(&md) / dt_size(md.data_type);
}

int layer_run_ops(net *n, const dnnl_op *ops, int count)
{
    for (int i = 0; i < count; i++) GC_TRY(dnnl_op_run(&n->ctx, &ops[i]));
    return GC_OK;
}

int net_variant(const net *n, int b)
{
    for (int v = 0; v < n->nvariants; v++)
        if (n->batch[v] == b) return v;
    return -1;
}

static int cmp_desc(const void *a, const void *b) { return *(const int *)b - *(const int *)a; }

/* Images per chunk of the conv_pool layers: enough for every thread to have work in
 * oneDNN's backward-weights (which splits the minibatch), small enough that a chunk's
 * convolution output stays near the cache rather than in a full-batch buffer. */
static int chunk_images(const net *n)
{
    if (n->chunk_images > 0) return n->chunk_images < n->max_batch ? n->chunk_images : n->max_batch;
    int threads = omp_get_max_threads(), images = threads > 4 ? threads : 4;
    return images < n->max_batch ? images : n->max_batch;
}

bool net_layer_wgrad_f32(const net *n, const layer *l)
{
    return precision_wgrad_in_f32(n->act_dt, n->act_tag, net_layer_input_grad(n, l));
}

/* The conv_pool layers' shared scratch: a chunk's convolution output (reused for its
 * gradient, f32 where the layer's backward-weights is), sized for the largest such layer. */
static int alloc_chunk_scratch(net *n)
{
    size_t bytes = 0;
    for (int i = 0; i < n->nlayers; i++) {
        layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL) continue;
        if (l->chunk <= 0 || n->chunk_images > 0) l->chunk = chunk_images(n);
        if (l->chunk_bwd <= 0 || n->chunk_images > 0) l->chunk_bwd = l->chunk;
        if (l->chunk > n->max_batch) l->chunk = n->max_batch;
        if (l->chunk_bwd > n->max_batch) l->chunk_bwd = n->max_batch;
        long h = l->in.h - l->kernel + 1, w = l->in.w - l->kernel + 1;
        int most = l->chunk > l->chunk_bwd ? l->chunk : l->chunk_bwd;
        dnnl_data_type_t dt = net_layer_wgrad_f32(n, l) ? dnnl_f32 : n->act_dt;
        dnnl_memory_desc_t md;
        GC_TRY(md_4d(&md, dt, most, l->filters, h, w, n->act_tag));
        if (md_bytes(&md) > bytes) bytes = md_bytes(&md);
    }
    if (bytes == 0) return GC_OK;
    n->chunk_bytes = bytes;
    return gc_alloc((void **)&n->chunk_buf, bytes, "the convolution chunk buffer");
}

/* Allocates every activation buffer at the largest batch and assigns the gradient buffers. */
static int alloc_buffers(net *n)
{
    long b = n->max_batch;
    dnnl_memory_desc_t in_md;
    GC_TRY(md_4d(&in_md, n->input_dt, b, n->input.c, n->input.h, n->input.w, n->input_tag));
    size_t in_bytes = md_bytes(&in_md);
    GC_TRY(gc_alloc((void **)&n->own_input, in_bytes, "the input batch"));
    n->input_bytes = in_bytes;
    n->input_buf = n->own_input;

    /* Backwards, layer i reads its output's gradient from diff[(L-1-i) % 2] and writes its
     * input's into the other: each buffer is sized for the gradients that pass through it. */
    size_t diff_bytes[2] = {0, 0};
    const int L = n->nlayers;
    for (int i = 0; i < n->nlayers; i++) {
        layer *l = &n->layers[i];
        l->in_buf = i ? n->layers[i - 1].out_buf : n->input_buf;
        dnnl_memory_desc_t md;
        GC_TRY(layer_out_md(n, l, b, &md));
        size_t bytes = md_bytes(&md);
        size_t *need = &diff_bytes[(L - 1 - i) & 1];
        if (bytes > *need) *need = bytes;
        if (in_place(l)) {
            l->out_buf = l->in_buf;
        } else {
            char what[96];
            snprintf(what, sizeof what, "the output of %s", l->name);
            GC_TRY(gc_alloc((void **)&l->out_buf, bytes, what));
        }
    }
    if (n->input_grad && in_bytes > diff_bytes[L & 1]) diff_bytes[L & 1] = in_bytes;
    n->diff_bytes = diff_bytes[0] + diff_bytes[1];
    GC_TRY(alloc_chunk_scratch(n));
    GC_TRY(gc_alloc((void **)&n->diff[0], diff_bytes[0], "the gradient buffers"));
    GC_TRY(gc_alloc((void **)&n->diff[1], diff_bytes[1], "the gradient buffers"));
    /* Backwards, each layer's input gradient is the previous layer's output gradient. */
    for (int i = 0; i < n->nlayers; i++) {
        layer *l = &n->layers[i];
        l->d_out = n->diff[(n->nlayers - 1 - i) & 1];
        l->d_in = net_layer_input_grad(n, l) ? n->diff[(n->nlayers - i) & 1] : NULL;
    }
    return GC_OK;
}

/* bf16 runs the fused layers (conv_pool) and f32 flat layers; the plain Conv2D, MaxPooling2D
 * and ReLU layers and dropout on feature maps (--unfused) compute in f32 only. */
static int check_precision(const net *n)
{
    if (n->act_dt == dnnl_f32) return GC_OK;
    if (n->input_grad) return gc_fail(GC_EUSAGE, "the input's gradient is computed in f32 only, not %s", dt_name(n->act_dt));
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        bool flat = l->in.rank == 1 || l->kind == LAYER_FLATTEN;
        if (l->kind != LAYER_CONV_POOL && !flat)
            return gc_fail(GC_EUSAGE, "%s (%s) computes in f32 only: %s runs the fused Conv2D+MaxPooling2D layers",
                           l->name, l->ops->type, dt_name(n->act_dt));
    }
    return GC_OK;
}

/* The memory objects over the input batch or a slice of it: the ones net_bind_input moves. */
static int find_input_memories(net *n)
{
    const dnnl_ctx *c = &n->ctx;
    size_t slots = c->nmems ? c->nmems : 1;
    n->input_mems = calloc(slots, sizeof *n->input_mems);
    n->input_offsets = calloc(slots, sizeof *n->input_offsets);
    if (!n->input_mems || !n->input_offsets)
        return gc_fail(GC_ERUNTIME, "out of memory listing the input's memory objects");
    const char *lo = (const char *)n->input_buf, *hi = lo + n->input_bytes;
    for (size_t i = 0; i < c->nmems; i++) {
        void *handle = NULL;
        DNNL_TRY(dnnl_memory_get_data_handle(c->mems[i], &handle));
        const char *h = handle;
        if (h < lo || h >= hi) continue;
        n->input_offsets[n->ninput_mems] = (size_t)(h - lo);
        n->input_mems[n->ninput_mems++] = c->mems[i];
    }
    return GC_OK;
}

int net_plan(net *n, const int *batch_sizes, int count)
{
    if (n->planned) return gc_fail(GC_ERUNTIME, "the network is already planned");
    if (n->nlayers == 0) return gc_fail(GC_ERUNTIME, "the network has no layers");
    n->nvariants = 0;
    for (int i = 0; i < count; i++) {
        if (batch_sizes[i] < 1) return gc_fail(GC_EUSAGE, "batch size must be positive, got %d", batch_sizes[i]);
        if (net_variant(n, batch_sizes[i]) >= 0) continue;
        if (n->nvariants == NET_MAX_VARIANTS)
            return gc_fail(GC_ERUNTIME, "too many distinct batch sizes (at most %d)", NET_MAX_VARIANTS);
        n->batch[n->nvariants++] = batch_sizes[i];
    }
    if (n->nvariants == 0) return gc_fail(GC_ERUNTIME, "no batch size to plan for");
    /* Largest first: layers size their buffers when planning variant 0. */
    qsort(n->batch, (size_t)n->nvariants, sizeof n->batch[0], cmp_desc);
    n->max_batch = n->batch[0];

    GC_TRY(check_precision(n));
    GC_TRY(params_alloc(&n->params));
    if (n->weight_dt == dnnl_bf16) GC_TRY(params_alloc_bf16_copy(&n->params));
    GC_TRY(alloc_buffers(n));
    for (int v = 0; v < n->nvariants; v++) {
        for (int i = 0; i < n->nlayers; i++) {
            layer *l = &n->layers[i];
            l->plan[v].batch = n->batch[v];
            int rc = l->ops->plan(n, l, v);
            if (rc != GC_OK)
                return gc_context(rc, "planning %s (%s) for batch %d", l->name, l->ops->type, n->batch[v]);
        }
    }
    GC_TRY(dnnl_ctx_bind_scratchpad(&n->ctx));
    GC_TRY(find_input_memories(n));
    n->planned = true;
    return GC_OK;
}

int net_bind_input(net *n, void *input)
{
    if (!input) input = n->own_input;
    if (input == n->input_buf) return GC_OK;
    if (in_place(&n->layers[0]))
        return gc_fail(GC_ERUNTIME, "%s works in place on the input: the input cannot be rebound", n->layers[0].name);
    for (size_t i = 0; i < n->ninput_mems; i++)
        DNNL_TRY(dnnl_memory_set_data_handle(n->input_mems[i], (char *)input + n->input_offsets[i]));
    n->input_buf = input;
    n->layers[0].in_buf = input;
    return GC_OK;
}

/* Runs one layer's forward or backward; when profiling, waits for it and adds its time. */
static int run_layer(net *n, layer *l, const pass_ctx *p, bool backward)
{
    double start = n->profile ? clock_seconds() : 0.0;
    int rc = backward ? l->ops->backward(n, l, p) : l->ops->forward(n, l, p);
    if (rc != GC_OK) return gc_context(rc, "%s pass of %s", backward ? "backward" : "forward", l->name);
    if (n->profile && l->index < PROFILE_MAX_LAYERS) {
        GC_TRY(dnnl_ctx_wait(&n->ctx));
        double *slot = backward ? n->profile->backward : n->profile->forward;
        double *own = backward ? n->profile->own_backward : n->profile->own_forward;
        double t = clock_seconds() - start;
        slot[l->index] += t;
        if (l->ops->own_kernels) own[l->index] += t;
    }
    return GC_OK;
}

int net_forward(net *n, const pass_ctx *p)
{
    for (int i = 0; i < n->nlayers; i++) GC_TRY(run_layer(n, &n->layers[i], p, false));
    return dnnl_ctx_wait(&n->ctx);
}

int net_backward(net *n, const pass_ctx *p)
{
    for (int i = n->nlayers - 1; i >= 0; i--) GC_TRY(run_layer(n, &n->layers[i], p, true));
    return dnnl_ctx_wait(&n->ctx);
}

size_t net_activation_bytes(const net *n)
{
    size_t total = n->diff_bytes + n->chunk_bytes;
    total += n->input_bytes;
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        if (l->out_buf != l->in_buf) total += layer_out_elems(n, l, n->max_batch) * sizeof(float);
    }
    return total;
}

const char *net_layout_name(dnnl_format_tag_t tag)
{
    switch (tag) {
    case dnnl_nChw16c: return "nChw16c";
    case dnnl_nChw8c: return "nChw8c";
    case dnnl_nhwc: return "nhwc";
    case dnnl_nchw: return "nchw";
    default: return "other";
    }
}

/* "1,704,097" */
static void group_thousands(char *buf, size_t size, size_t value)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", value);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* One row of the summary. */
static void summary_row(FILE *f, const char *name, const char *type, act_shape out, size_t params)
{
    char label[80], shape[80], count[32];
    snprintf(label, sizeof label, " %s (%s)", name, type);
    if (out.rank == 3)
        snprintf(shape, sizeof shape, "(None, %ld, %ld, %ld)", out.h, out.w, out.c);
    else
        snprintf(shape, sizeof shape, "(None, %ld)", out.c);
    group_thousands(count, sizeof count, params);
    fprintf(f, "%-34s%-26s%s\n", label, shape, count);
}

void net_summary(const net *n, FILE *f)
{
    static const char rule_eq[] = "=================================================================";
    static const char rule_dash[] = "_________________________________________________________________";
    fprintf(f, "Model: \"sequential\"\n%s\n", rule_dash);
    fprintf(f, "%-34s%-26s%s\n%s\n", " Layer (type)", "Output Shape", "Param #", rule_eq);
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        size_t params = 0;
        if (l->param_w >= 0) params += n->params.t[l->param_w].count + n->params.t[l->param_b].count;
        layer_part parts[LAYER_MAX_PARTS]; /* a fused layer is listed as the Keras layers it computes */
        int np = layer_parts(l, parts);
        for (int p = 0; p < np; p++) summary_row(f, parts[p].name, parts[p].type, parts[p].out, parts[p].params ? params : 0);
    }
    char total[32];
    group_thousands(total, sizeof total, n->params.count);
    fprintf(f, "%s\nTotal params: %s (%.2f MB)\nTrainable params: %s\nNon-trainable params: 0\n%s\n",
            rule_eq, total, (double)n->params.count * 4.0 / (1024.0 * 1024.0), total, rule_dash);
}
