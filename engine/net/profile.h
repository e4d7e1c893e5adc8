/* Where a training epoch's time goes (gcbench --profile): data wait, each layer's forward and
 * backward, the loss, and the optimizer (RMSprop, with GC fused in for the GC run).
 *
 * Off by default: timing a layer waits for oneDNN's stream after it, which a normal run need
 * not do. All times are seconds summed over the epoch's training steps (validation excluded). */
#ifndef GCBENCH_ENGINE_PROFILE_H
#define GCBENCH_ENGINE_PROFILE_H

#define PROFILE_MAX_LAYERS 32

typedef struct {
    double data_wait;
    double forward[PROFILE_MAX_LAYERS];
    double backward[PROFILE_MAX_LAYERS];
    /* The part of each that ran in gcbench's own kernels (fused pooling, dropout, ReLU, the
     * chunks' gradient sums); the rest is oneDNN's primitives. The loss and the optimizer are
     * gcbench's own as a whole. */
    double own_forward[PROFILE_MAX_LAYERS];
    double own_backward[PROFILE_MAX_LAYERS];
    double loss;
    double optimizer;
    double allreduce;  /* summing the gradients over MPI ranks (0 with one rank) */
    double step_total; /* whole steps, wait included: the phases add up to about this */
    int steps;
} epoch_profile;


#endif
