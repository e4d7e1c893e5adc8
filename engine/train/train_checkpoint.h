/* The engine's part of a checkpoint: what training needs to continue exactly, written and read
 * by the engine itself so the program never serializes engine structs field by field.
 *
 * Two sections, each starting with its format version (TRAIN_CHECKPOINT_VERSION):
 *   TRAIN_TAG_STATE  the run's position and accumulators (train_state, its per-epoch
 *                    throughput and its last epoch_result)
 *   TRAIN_TAG_PARAMS the parameter store: the weights, the optimizer's name, every state slot
 *                    by name, and the count of updates applied
 * and helpers for the results the program keeps (run_summary, epoch_result). A field added to
 * train_state, epoch_result or run_summary fails to compile until it is handled here and the
 * version is bumped (train_checkpoint.c checks the structs' sizes). */
#ifndef GCBENCH_ENGINE_TRAIN_CHECKPOINT_H
#define GCBENCH_ENGINE_TRAIN_CHECKPOINT_H

#include "engine/optim/optimizer.h"
#include "engine/train/checkpoint.h"
#include "engine/train/train.h"

#define TRAIN_CHECKPOINT_VERSION 1
#define TRAIN_TAG_STATE CHECKPOINT_TAG('T', 'R', 'N', 'S')
#define TRAIN_TAG_PARAMS CHECKPOINT_TAG('P', 'R', 'M', 'S')

/* The run's state; st->ips has `epochs` entries. */
void train_state_put(checkpoint_buffer *b, const train_state *st, int epochs);

/* Reads the state section into *st (st->ips allocated, `epochs` entries: the caller frees
 * it) and checks it against a run of `epochs` epochs of `steps` steps over `images` images.
 * GC_EUSAGE naming path when it is malformed or from another format version. */
int train_state_get(const checkpoint_section *sec, const char *path, int epochs, int steps, size_t images,
                    train_state *st);

/* The parameter store with the state of optimizer d. */
void train_params_put(checkpoint_buffer *b, const param_store *ps, const optimizer_desc *d);

/* Checks the parameters section against ps (its size) and d (its name and slots), and on
 * success loads the weights, the slots (allocated as d asks) and the update count into ps.
 * GC_EUSAGE naming path and what differs. */
int train_params_get(const checkpoint_section *sec, const char *path, param_store *ps, const optimizer_desc *d);

/* A run's results, as parts of the program's own sections; *_get leave c->bad set when the
 * bytes run short. */
void epoch_result_put(checkpoint_buffer *b, const epoch_result *r);
void epoch_result_get(checkpoint_cursor *c, epoch_result *r);
void run_summary_put(checkpoint_buffer *b, const run_summary *r);
void run_summary_get(checkpoint_cursor *c, run_summary *r);

#endif
