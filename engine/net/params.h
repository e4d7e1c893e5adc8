/* The flat parameter store: one aligned buffer each for weights, gradients and every state slot
 * the optimizer asks for (RMSprop: one, its mean squares).
 *
 * Tensors are registered while the network is built and get a named view (offset, shape);
 * their storage is allocated once, in one block per role. Kernels are stored output-major
 * (conv: O x I x KH x KW, dense: O x I), so each output unit's fan-in is one contiguous row:
 * Gradient Centralization is then a mean per row. */
#ifndef GCBENCH_ENGINE_PARAMS_H
#define GCBENCH_ENGINE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARAMS_MAX_TENSORS 32
#define PARAMS_MAX_SLOTS 4 /* optimizer state arrays, each the size of the weights */
#define PARAM_NAME_MAX 48

typedef enum {
    PARAM_CONV_KERNEL,  /* rank 4, O x I x KH x KW */
    PARAM_DENSE_KERNEL, /* rank 2, O x I */
    PARAM_BIAS,         /* rank 1, O */
} param_kind;

typedef struct {
    char name[PARAM_NAME_MAX]; /* "conv2d_1/kernel" */
    param_kind kind;
    int rank;
    long dims[4];       /* storage order, see param_kind */
    size_t offset;      /* in floats, from the start of each buffer; a multiple of 16 */
    size_t count;       /* elements */
    size_t rows, cols;  /* the GC view: output units x fan-in (a bias: count x 1) */
    long fan_in, fan_out; /* for Glorot initialisation */
} param_tensor;

typedef struct {
    param_tensor t[PARAMS_MAX_TENSORS];
    int n;
    size_t total;      /* floats in each buffer, alignment padding included */
    size_t count;      /* parameters, padding excluded */
    float *w, *g;      /* weights, gradients */
    float *state[PARAMS_MAX_SLOTS]; /* the optimizer's state slots (params_alloc_state) */
    int nslots;
    uint64_t updates;  /* optimizer steps applied since params_init (Keras's `iterations`) */
    /* A bf16 network's compute copy of the conv kernels (params_alloc_bf16_copy; bf16 bits, in
     * the weights' layout), written by the optimizer's step as it updates them; current when
     * w_bf16_updates == updates (PARAMS_COPY_STALE: the weights may have changed since). */
    uint16_t *w_bf16;
    uint64_t w_bf16_updates;
} param_store;

#define PARAMS_COPY_STALE UINT64_MAX

/* Registers a tensor (before params_alloc); returns its index in *index. */
int params_add(param_store *ps, const char *name, param_kind kind, int rank, const long *dims,
               int *index);

/* Allocates the weights and gradients, zeroed. */
int params_alloc(param_store *ps);

/* Gives the store `nslots` zeroed state slots (what the optimizer needs); keeps them when it
 * has that many already. */
int params_alloc_state(param_store *ps, int nslots);
void params_free(param_store *ps);

/* Gives the store the bf16 compute copy of its conv kernels, stale until written. */
int params_alloc_bf16_copy(param_store *ps);
static inline bool params_bf16_copy_current(const param_store *ps)
{
    return ps->w_bf16 && ps->w_bf16_updates == ps->updates;
}
/* Whoever writes weights other than through the optimizer's step says so. */
static inline void params_weights_changed(param_store *ps) { ps->w_bf16_updates = PARAMS_COPY_STALE; }

static inline float *param_w(const param_store *ps, int i) { return ps->w + ps->t[i].offset; }
static inline float *param_g(const param_store *ps, int i) { return ps->g + ps->t[i].offset; }
/* Slot s of tensor i's optimizer state. */
static inline uint16_t *param_w_bf16(const param_store *ps, int i) { return ps->w_bf16 + ps->t[i].offset; }
static inline float *param_state(const param_store *ps, int s, int i) { return ps->state[s] + ps->t[i].offset; }

/* Keras's initialisation from the seed: kernels Glorot-uniform, limit sqrt(6/(fan_in+fan_out));
 * biases zero; every state slot zero. Element k of tensor t is a pure function of (seed, t, k). */
void params_init(param_store *ps, uint64_t seed);

/* Zeroes every gradient. */
void params_zero_grad(param_store *ps);

/* FNV-1a over the bytes of all weights: equal checksums mean identical starting points. */
uint64_t params_checksum(const param_store *ps);

#endif
