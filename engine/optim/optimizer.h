/* The optimizer layer: an optimizer is a description (name, hyperparameters, the state slots it
 * keeps per parameter) plus its fused kernel; this layer applies Gradient Centralization
 * around any of them and splits the work over the threads.
 *
 * GC (Yong et al. 2020) replaces the gradient of every kernel of rank > 1 by the gradient minus
 * its mean over all axes but the output axis: one mean per output unit, i.e. per row of the
 * store's output-major view. Biases are never centralized. GC is applied to the raw gradient
 * before the optimizer's update, or (gc_on_update) to the optimizer's step before it is
 * applied, inside the same pass over memory (the kernel is told which rows to centralize).
 *
 * To add an optimizer: its kernel body and scalar reference in simd/, a file here defining its
 * optimizer_desc, its line in the table in optimizer.c, and its tests. */
#ifndef GCBENCH_ENGINE_OPTIMIZER_H
#define GCBENCH_ENGINE_OPTIMIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/net/params.h"
#include "simd/simd.h"

typedef enum {
    GC_SCOPE_NONE, /* the plain optimizer: the baseline */
    GC_SCOPE_ALL,  /* every kernel of rank > 1: conv and dense */
    GC_SCOPE_CONV, /* conv kernels only (the paper's GCC) */
} gc_scope;

/* "none", "all", "conv" */
const char *gc_scope_name(gc_scope s);

/* Whether GC centralizes tensor t under scope s. */
bool gc_applies(gc_scope s, const param_tensor *t);

/* Every optimizer's hyperparameters, as given (the log prints these); each optimizer reads
 * the ones it names (optimizer_desc.reads), and its kernels round them to float once per call. */
typedef struct {
    double lr;          /* learning rate */
    double rho;         /* RMSprop: decay of the mean square */
    double eps;         /* added for numerical stability (RMSprop, Adagrad: inside the square root, as Keras;
                         * Adam: added to the square root) */
    double momentum;    /* SGD; 0: plain SGD */
    bool nesterov;      /* SGD with momentum */
    double beta1, beta2; /* Adam, AdamW: decays of the first and second moments */
    double initial_accumulator; /* Adagrad: the accumulator's value at the start */
    double weight_decay; /* every optimizer; 0: none */
    bool wd_coupled;    /* weight decay as L2 in the gradient, before GC (the GC code's form), instead of
                         * Keras's decoupled w -= w*wd*lr before the update */
} opt_hparams;

/* The hyperparameters an optimizer reads, for optimizer_desc.reads: a flag for one it does not
 * read is refused. */
enum {
    OPT_READS_LR = 1u << 0,
    OPT_READS_RHO = 1u << 1,
    OPT_READS_EPS = 1u << 2,
    OPT_READS_MOMENTUM = 1u << 3,
    OPT_READS_NESTEROV = 1u << 4,
    OPT_READS_BETAS = 1u << 5,
    OPT_READS_INITIAL_ACCUMULATOR = 1u << 6,
    OPT_READS_WEIGHT_DECAY = 1u << 7, /* --weight-decay and --weight-decay-form */
};

#define OPT_MAX_SLOTS PARAMS_MAX_SLOTS

typedef struct {
    const char *name;  /* "rmsprop": for the command line, the log and checkpoints */
    const char *label; /* "RMSprop": for people */
    opt_hparams defaults;
    unsigned reads;                    /* OPT_READS_*: the hyperparameters it uses */
    int nslots;                        /* state arrays per parameter */
    const char *slots[OPT_MAX_SLOTS];  /* their names, as checkpoints save them */
    /* The state's value at the start (before the first update); NULL: every slot zero. */
    void (*init_state)(const opt_hparams *hp, float *const *slots, size_t n);
    /* Updates rows x cols weights w from the gradient g (row-major), with the state slots at
     * the same offset; gc: GC_ON_GRADIENT or GC_ON_UPDATE centralize each row (fused into the
     * pass); with GC_OFF, rows x cols is simply rows*cols contiguous elements. step: which
     * update this is, from 1 (bias corrections read it). One thread. */
    void (*update)(const simd_kernels *k, const opt_hparams *hp, uint64_t step, float *w, float *const *slots,
                   const float *g, size_t rows, size_t cols, gc_mode gc);
    /* "lr 0.0001 rho 0.9 eps 1e-07": the hyperparameters it reads, each with `digits`
     * significant digits (6 for people, 17 to tell any two values apart). */
    void (*describe)(const opt_hparams *hp, int digits, char *buf, size_t size);
} optimizer_desc;

/* The weight-decay fields of a kernel's update_hparams from hp. */
void optimizer_kernel_decay(const opt_hparams *hp, update_hparams *out);

/* Appends " wd 0.004 decoupled" (or coupled) to buf when hp has weight decay. */
void optimizer_describe_decay(const opt_hparams *hp, int digits, char *buf, size_t size);

/* "gradient" or "update": where GC acts (optimizer.gc_on_update). */
const char *gc_on_name(bool on_update);

/* The optimizers gcbench has; optimizer_at(0) is the default. NULL past the end / unknown. */
const optimizer_desc *optimizer_at(size_t i);
const optimizer_desc *optimizer_find(const char *name);

typedef struct {
    const optimizer_desc *desc;
    opt_hparams hp;
    gc_scope scope;
    bool gc_on_update; /* GC centralizes the optimizer's step instead of the gradient (--gc-on update) */
    const simd_kernels *kernels;
} optimizer;

/* Gives the store the state slots opt's optimizer keeps, at their starting values while the
 * store has had no update (ps->updates == 0); a resumed state is kept. */
int optimizer_prepare(const optimizer *opt, param_store *ps);

/* Centralizes, in place, the gradients of every tensor GC applies to (the unfused form; the
 * training step uses optimizer_step). */
void optimizer_centralize(const optimizer *opt, param_store *ps);

/* One update of every weight from the gradients in the store: GC (per scope) fused with the
 * optimizer's update. Large tensors are split across the OpenMP threads; small ones run whole.
 * The store must have the optimizer's slots (optimizer_prepare). */
void optimizer_step(const optimizer *opt, param_store *ps);

#endif
