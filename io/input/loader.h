/* The batch loader: per-epoch shuffle from the seed, uint8 HWC images -> float batches
 * rescaled by 1/255 (NCHW or NHWC, as the network takes them; f32, or bf16 for a network that
 * computes in bf16: the f32 values rounded to nearest even), with their labels; for
 * training, each image through the seed's random augmentation (io/input/augment.h) in the same pass.
 * Every draw is keyed by (seed, epoch, image index), so batches do not depend on threads. */
#ifndef GCBENCH_IO_LOADER_H
#define GCBENCH_IO_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/input/dataset.h"
#include "simd/bf16.h"

typedef struct {
    const dataset *data;
    int batch;
    bool shuffle;  /* a new order every epoch (training) */
    bool augment;  /* random flips, rotation and zoom (training) */
    bool planar;   /* write NCHW (else NHWC) */
    bool bf16;     /* write bf16 (else f32) */
    uint64_t seed;
    size_t *order; /* the current epoch's order of image indices */
    int epoch;     /* the epoch `order` belongs to */
    int rank, ranks; /* data parallelism: this process fills only its share of every batch */
    uint8_t *drawn;  /* one image, for datasets drawn on demand */
    float *staged;   /* bf16: one image in f32, before it is narrowed into the batch */
    void (*narrow)(bf16 *dst, const float *src, size_t n); /* bf16: this CPU's f32 -> bf16 */
} loader;

/* shuffle and augment are what training uses; evaluation passes neither. */
int loader_init(loader *ld, const dataset *data, int batch, bool shuffle, bool augment, bool planar, uint64_t seed);
void loader_free(loader *ld);

/* *copy: the same loader with buffers of its own (its order is set by the next
 * loader_start_epoch), for use on another thread. */
int loader_clone(loader *copy, const loader *ld);

/* Makes the loader write bf16 batches (before loader_clone). */
int loader_set_bf16(loader *ld);

/* Makes the loader fill only rank's share of every batch (engine/runtime/dist.h, dist_share): the
 * batches, their order and every image's augmentation stay those of a single process. */
void loader_set_share(loader *ld, int rank, int ranks);

/* Batches per epoch (the last may be partial). */
int loader_batches(const loader *ld);

/* Size of batch `step` (batch, or what is left for the last), over all ranks. */
int loader_batch_size(const loader *ld, int step);

/* This rank's share of batch `step`: its size, and its first position in the batch. */
int loader_share_size(const loader *ld, int step, int *first);

/* Orders the images for `epoch`: a Fisher-Yates shuffle keyed by (seed, epoch), or the
 * dataset order when not shuffling. */
void loader_start_epoch(loader *ld, int epoch);

/* Writes this rank's share of batch `step` of the current epoch into input and labels;
 * returns its size, or minus the error code when an image made on demand failed (gc_fail on
 * this thread names it). Runs on the calling thread only: the loader's caller decides where the work happens. */
int loader_fill(const loader *ld, int step, void *input, uint8_t *labels);

/* Bytes of one full batch. */
size_t loader_batch_bytes(const loader *ld);

#endif
