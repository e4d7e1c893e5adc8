#include "engine/optim/optimizer.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "engine/base/error.h"

extern const optimizer_desc optimizer_rmsprop, optimizer_sgd, optimizer_adam, optimizer_adamw, optimizer_adagrad;

/* The table: the first entry is the default. */
static const optimizer_desc *const optimizers[] = {&optimizer_rmsprop, &optimizer_sgd, &optimizer_adam, &optimizer_adamw,
                                                   &optimizer_adagrad};
#define NOPTIMIZERS (sizeof optimizers / sizeof optimizers[0])

const optimizer_desc *optimizer_at(size_t i) { return i < NOPTIMIZERS ? optimizers[i] : NULL; }

const optimizer_desc *optimizer_find(const char *name)
{
    for (size_t i = 0; i < NOPTIMIZERS; i++)
        if (strcmp(optimizers[i]->name, name) == 0) return optimizers[i];
    return NULL;
}

int optimizer_prepare(const optimizer *opt, param_store *ps)
{
    GC_TRY(params_alloc_state(ps, opt->desc->nslots));
    if (ps->updates == 0 && opt->desc->init_state) opt->desc->init_state(&opt->hp, ps->state, ps->total);
    return GC_OK;
}

void optimizer_kernel_decay(const opt_hparams *hp, update_hparams *out)
{
    out->wd = (float)hp->weight_decay;
    out->wd_coupled = hp->wd_coupled;
}

void optimizer_describe_decay(const opt_hparams *hp, int digits, char *buf, size_t size)
{
    size_t used = strlen(buf);
    if (hp->weight_decay == 0.0 || used >= size) return;
    snprintf(buf + used, size - used, " weight_decay %.*g %s", digits, hp->weight_decay,
             hp->wd_coupled ? "coupled" : "decoupled");
}

const char *gc_on_name(bool on_update) { return on_update ? "update" : "gradient"; }

/* Tensors below this many elements are updated by one thread: splitting them costs more than
 * it saves. Elementwise chunks are whole cache lines. */
#define SPLIT_MIN_ELEMS 65536
#define CHUNK_ELEMS 16384

const char *gc_scope_name(gc_scope s)
{
    switch (s) {
    case GC_SCOPE_ALL: return "all";
    case GC_SCOPE_CONV: return "conv";
    default: return "none";
    }
}

bool gc_applies(gc_scope s, const param_tensor *t)
{
    if (t->rank < 2) return false;
    if (s == GC_SCOPE_ALL) return true;
    return s == GC_SCOPE_CONV && t->kind == PARAM_CONV_KERNEL;
}

/* Elements [off, off + rows*cols) of tensor i, GC on those rows when centered. */
static void update_span(const optimizer *opt, param_store *ps, int i, size_t off, size_t rows, size_t cols,
                        bool centered)
{
    float *slots[OPT_MAX_SLOTS] = {NULL};
    for (int s = 0; s < opt->desc->nslots; s++) slots[s] = param_state(ps, s, i) + off;
    gc_mode gc = !centered ? GC_OFF : opt->gc_on_update ? GC_ON_UPDATE : GC_ON_GRADIENT;
    opt->desc->update(opt->kernels, &opt->hp, ps->updates, param_w(ps, i) + off, slots, param_g(ps, i) + off, rows,
                      cols, gc);
    /* the bf16 compute copy, from the span just written while it is still in cache */
    if (ps->w_bf16 && ps->t[i].kind == PARAM_CONV_KERNEL)
        opt->kernels->f32_to_bf16(param_w_bf16(ps, i) + off, param_w(ps, i) + off, rows * cols);
}

/* Rows [r0, r1) of tensor i: centralized when GC applies to it. */
static void update_rows(const optimizer *opt, param_store *ps, int i, size_t r0, size_t r1)
{
    const param_tensor *t = &ps->t[i];
    update_span(opt, ps, i, r0 * t->cols, r1 - r0, t->cols, gc_applies(opt->scope, t));
}

void optimizer_step(const optimizer *opt, param_store *ps)
{
    ps->updates++; /* the step about to be applied is number ps->updates, from 1 */
#pragma omp parallel
    for (int i = 0; i < ps->n; i++) {
        const param_tensor *t = &ps->t[i];
        if (t->count < SPLIT_MIN_ELEMS) {
#pragma omp single nowait
            update_rows(opt, ps, i, 0, t->rows);
        } else if (gc_applies(opt->scope, t)) {
            /* Whole rows, so each thread computes the means of its own rows; one contiguous
             * block of rows per thread, so the kernel can overlap one row's mean with the
             * previous row's update. */
            size_t parts = (size_t)omp_get_num_threads();
#pragma omp for schedule(static) nowait
            for (size_t part = 0; part < parts; part++)
                update_rows(opt, ps, i, t->rows * part / parts, t->rows * (part + 1) / parts);
        } else {
            size_t chunks = (t->count + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
#pragma omp for schedule(static) nowait
            for (size_t c = 0; c < chunks; c++) {
                size_t off = c * CHUNK_ELEMS;
                size_t len = t->count - off < CHUNK_ELEMS ? t->count - off : CHUNK_ELEMS;
                update_span(opt, ps, i, off, 1, len, false);
            }
        }
    }
    if (ps->w_bf16) ps->w_bf16_updates = ps->updates; /* every span wrote its part */
}

void optimizer_centralize(const optimizer *opt, param_store *ps)
{
    for (int i = 0; i < ps->n; i++) {
        const param_tensor *t = &ps->t[i];
        if (!gc_applies(opt->scope, t)) continue;
        float *g = param_g(ps, i);
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < t->rows; r++) {
            float mean;
            opt->kernels->row_means(g + r * t->cols, 1, t->cols, &mean);
            opt->kernels->center_rows(g + r * t->cols, 1, t->cols, &mean);
        }
    }
}
