#include "engine/net/params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"
#include "engine/base/fnv.h"
#include "engine/base/rng.h"

#define PARAM_ALIGN_FLOATS (GC_ALIGN / sizeof(float))

int params_add(param_store *ps, const char *name, param_kind kind, int rank, const long *dims,
               int *index)
{
    if (ps->n == PARAMS_MAX_TENSORS)
        return gc_fail(GC_ERUNTIME, "too many parameter tensors (at most %d)", PARAMS_MAX_TENSORS);
    param_tensor *t = &ps->t[ps->n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->rank = rank;
    t->count = 1;
    for (int d = 0; d < rank; d++) {
        t->dims[d] = dims[d];
        t->count *= (size_t)dims[d];
    }
    t->rows = (size_t)dims[0];
    t->cols = t->count / t->rows;
    /* Receptive field x channels, as Keras counts fans. */
    long receptive = rank == 4 ? dims[2] * dims[3] : 1;
    t->fan_in = rank > 1 ? dims[1] * receptive : dims[0];
    t->fan_out = dims[0] * receptive;
    t->offset = ps->total;
    ps->total += gc_round_up(t->count, PARAM_ALIGN_FLOATS);
    ps->count += t->count;
    *index = ps->n++;
    return GC_OK;
}

int params_alloc(param_store *ps)
{
    size_t bytes = ps->total * sizeof(float);
    GC_TRY(gc_alloc((void **)&ps->w, bytes, "the weights"));
    GC_TRY(gc_alloc((void **)&ps->g, bytes, "the gradients"));
    return GC_OK;
}

int params_alloc_state(param_store *ps, int nslots)
{
    if (nslots < 0 || nslots > PARAMS_MAX_SLOTS)
        return gc_fail(GC_ERUNTIME, "%d optimizer state slots asked for (at most %d)", nslots, PARAMS_MAX_SLOTS);
    if (nslots == ps->nslots) return GC_OK;
    for (int s = 0; s < ps->nslots; s++) gc_free(ps->state[s]), ps->state[s] = NULL;
    ps->nslots = 0;
    for (int s = 0; s < nslots; s++) {
        GC_TRY(gc_alloc((void **)&ps->state[s], ps->total * sizeof(float), "the optimizer state"));
        ps->nslots = s + 1;
    }
    return GC_OK;
}

int params_alloc_bf16_copy(param_store *ps)
{
    ps->w_bf16_updates = PARAMS_COPY_STALE;
    if (ps->w_bf16) return GC_OK;
    return gc_alloc((void **)&ps->w_bf16, ps->total * sizeof *ps->w_bf16, "the bf16 copy of the conv kernels");
}

void params_free(param_store *ps)
{
    gc_free(ps->w);
    gc_free(ps->g);
    gc_free(ps->w_bf16);
    ps->w_bf16 = NULL;
    for (int s = 0; s < ps->nslots; s++) gc_free(ps->state[s]), ps->state[s] = NULL;
    ps->nslots = 0;
    ps->w = ps->g = NULL;
}

void params_init(param_store *ps, uint64_t seed)
{
    for (int i = 0; i < ps->n; i++) {
        const param_tensor *t = &ps->t[i];
        float *w = param_w(ps, i);
        if (t->kind == PARAM_BIAS) {
            memset(w, 0, t->count * sizeof *w);
        } else {
            float limit = sqrtf(6.0f / (float)(t->fan_in + t->fan_out));
            uint64_t key = rng_key(seed, RNG_STREAM_INIT, (uint64_t)i, 0);
            for (size_t k = 0; k < t->count; k++) w[k] = rng_range(key, k, -limit, limit);
        }
    }
    memset(ps->g, 0, ps->total * sizeof *ps->g);
    for (int s = 0; s < ps->nslots; s++) memset(ps->state[s], 0, ps->total * sizeof(float));
    ps->updates = 0;
    params_weights_changed(ps);
}

uint64_t params_checksum(const param_store *ps)
{
    return fnv1a64(FNV1A64_INIT, ps->w, ps->total * sizeof *ps->w);
}

void params_zero_grad(param_store *ps) { memset(ps->g, 0, ps->total * sizeof *ps->g); }
