/* A prefetching batch source: a producer thread fills the next batch while the network trains
 * on the current one.
 *
 * It produces a fixed sequence of batches: epochs x batches-per-epoch, in order, into two
 * buffers taken in turn. prefetch_next(t) hands out batch t and, by asking for it, gives
 * back batch t-1's buffer, so the producer is always exactly one batch ahead. With one buffer
 * (depth 1: validation, a few batches an epoch, where a batch of memory is worth more than
 * the wait) each batch is filled when it is asked for. The producer is
 * one plain thread (no OpenMP team of its own), so it takes one core's spare time, not a
 * second team fighting oneDNN's threads. */
#ifndef GCBENCH_IO_PREFETCH_H
#define GCBENCH_IO_PREFETCH_H

#include "io/input/loader.h"

typedef struct prefetcher prefetcher;

/* Starts producing ld's batches from batch `step` of epoch `epoch` to the end of epoch
 * `epochs` - 1 (0, 0 for a fresh start; later to resume), into `depth` buffers (1 or 2). ld is
 * copied; its dataset must outlive the prefetcher. */
int prefetch_start(prefetcher **out, const loader *ld, int depth, int epochs, int epoch, int step);

/* Stops the producer and frees everything; NULL is fine. */
void prefetch_stop(prefetcher *p);

/* Batches per epoch. */
int prefetch_batches(const prefetcher *p);

/* Size of batch `step` over all ranks, and where this rank's share starts in it. */
int prefetch_batch_size(const prefetcher *p, int step, int *share_first);

/* Waits for batch `step` of `epoch` (the next in sequence) and returns its input, labels and
 * size; *waited gets the seconds spent blocked. The buffers stay valid until the next call. */
int prefetch_next(prefetcher *p, int epoch, int step, void **input, uint8_t **labels, int *size, double *waited);

#endif
