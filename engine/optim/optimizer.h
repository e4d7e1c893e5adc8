/* RMSprop with Gradient Centralization over the flat parameter store.
 *
 * GC (Yong et al. 2020) replaces the gradient of every kernel of rank > 1 by the gradient minus
 * its mean over all axes but the output axis: one mean per output unit, i.e. per row of the
 * store's output-major view. Biases are never centralized. GC is applied to the raw gradient,
 * before RMSprop, fused into the same pass over memory. */
#ifndef GCBENCH_ENGINE_OPTIMIZER_H
#define GCBENCH_ENGINE_OPTIMIZER_H

#include <stdbool.h>

#include "engine/net/params.h"
#include "simd/simd.h"

typedef enum {
    GC_SCOPE_NONE, /* plain RMSprop: the baseline */
    GC_SCOPE_ALL,  /* every kernel of rank > 1: conv and dense */
    GC_SCOPE_CONV, /* conv kernels only (the paper's GCC) */
} gc_scope;

/* "none", "all", "conv" */
const char *gc_scope_name(gc_scope s);

typedef struct {
    rmsprop_hparams hp;
    gc_scope scope;
    const simd_kernels *kernels;
} optimizer;

/* Whether GC centralizes tensor t under scope s. */
bool gc_applies(gc_scope s, const param_tensor *t);

/* Centralizes, in place, the gradients of every tensor GC applies to (the unfused form; the
 * training step uses optimizer_step). */
void optimizer_centralize(const optimizer *opt, param_store *ps);

/* One update of every weight from the gradients in the store: GC (per scope) fused with
 * RMSprop. Large tensors are split across the OpenMP threads; small ones run whole. */
void optimizer_step(const optimizer *opt, param_store *ps);

#endif
