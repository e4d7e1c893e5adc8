/* The training loop: epochs of shuffled mini-batches (forward, loss, backward, GC + optimizer),
 * then validation, reported to an observer (console, log, ...) as they happen.
 *
 * A run starts from params_init(seed), so two runs with the same seed start from identical
 * weights and see the same batches and dropout masks: only the GC scope differs. */
#ifndef GCBENCH_ENGINE_TRAIN_H
#define GCBENCH_ENGINE_TRAIN_H

#include <stdint.h>

#include "engine/net/net.h"
#include "engine/optim/optimizer.h"
#include "io/input/dataset.h"

typedef struct {
    int epochs;
    int batch;
    uint64_t seed;
    bool augment; /* the seed's random flips, rotation and zoom on training images */
    bool profile; /* time every phase of every step (engine/net/profile.h) */
    const optimizer_desc *optimizer;
    opt_hparams hp;
    bool gc_on_update; /* the GC run centralizes the optimizer's step, not the gradient (--gc-on update) */
    const simd_kernels *kernels;
} train_config;

/* Keras's epoch metrics: training loss/accuracy averaged over the epoch's images (dropout on),
 * then validation loss/accuracy (dropout off). */
typedef struct {
    const char *run; /* "baseline" or "gc" */
    int epoch;       /* 1-based */
    int epochs;
    double loss, accuracy, val_loss, val_accuracy;
    double train_seconds;     /* the training steps */
    double val_seconds;       /* the validation pass */
    double seconds;           /* both */
    double data_wait_seconds; /* of `seconds`, waiting for the loader's next batch */
    const epoch_profile *profile; /* with train_config.profile: where the training time went */
    double images_per_second; /* training images / train_seconds */
} epoch_result;

typedef struct {
    const char *run;
    gc_scope scope;
    int epochs;
    uint64_t init_checksum;
    double loss, accuracy, val_loss, val_accuracy; /* of the last epoch */
    double train_seconds;     /* all epochs, training and validation (what Keras's fit takes) */
    double images_per_second; /* median over epochs 2.. (epoch 1 creates caches), or epoch 1 */
} run_summary;

/* Where a run is between two steps: with the weights and RMSprop state, everything needed to
 * continue it exactly (every random draw is keyed by seed, epoch, step and image, so the
 * position is the random state too). */
typedef struct {
    int epoch;              /* 0-based epoch in progress */
    int step;               /* its next training step (0: the epoch has not started) */
    double loss_sum;        /* the epoch's training metrics so far */
    uint64_t correct, seen;
    double data_wait;       /* the epoch's timings so far */
    double train_seconds;
    double run_seconds;     /* all finished epochs, training and validation */
    epoch_result last;      /* the last finished epoch (.epoch 0 when none) */
    double *ips;            /* images/s of each finished epoch: `epochs` entries */
    uint64_t init_checksum;
} train_state;

typedef struct {
    void *ctx;
    void (*run_start)(void *ctx, const char *run, gc_scope scope, uint64_t init_checksum);
    /* After every training step: for progress displays. */
    void (*step_end)(void *ctx, const char *run, int epoch, int step, int steps, double epoch_elapsed);
    void (*epoch_end)(void *ctx, const epoch_result *r);
    void (*run_end)(void *ctx, const run_summary *s);
    /* Optional: after every epoch, and after the step at which stop_requested turned true,
     * with the state to save; a failure stops training. */
    int (*save)(void *ctx, const char *run, const train_state *st);
    /* Optional: polled after every step; true ends training after saving (GC_EINTERRUPTED). */
    bool (*stop_requested)(void *ctx);
} train_observer;

/* The distinct batch sizes training and validation will use (for net_plan): at most 4. With
 * several ranks, the sizes of this rank's shares (engine/runtime/dist.h). */
int train_batch_sizes(int batch, size_t train_count, size_t val_count, int sizes[4]);

/* Trains n (planned for train_batch_sizes) from freshly initialised weights, or, with
 * resume, from the state saved by the observer's save (the caller has put the saved weights
 * and RMSprop state into n->params). Returns GC_EINTERRUPTED when the observer asked to stop
 * (after saving), and GC_ERUNTIME naming the epoch, step and tensor when the loss or a
 * gradient stops being finite. */
int train_run(net *n, const dataset *train, const dataset *val, const train_config *cfg,
              const char *run, gc_scope scope, const train_observer *obs, const train_state *resume,
              run_summary *out);

/* One pass over `data` without dropout and without updates: mean loss and accuracy. */
int train_evaluate(net *n, const dataset *data, int batch, double *loss, double *accuracy);

#endif
