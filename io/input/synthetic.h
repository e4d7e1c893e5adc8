/* The embedded default dataset: deterministic synthetic two-class images shaped like
 * "Horses or Humans" (square RGB, two classes), drawn on demand from a seed.
 * What an image contains is documented at the top of io/input/synthetic.c. */
#ifndef GCBENCH_IO_SYNTHETIC_H
#define GCBENCH_IO_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

#include "io/input/dataset.h"

/* First index of the validation images: train image i is index i, validation image j is
 * index SYNTHETIC_VAL_BASE + j, so neither depends on how many of the other there are. */
#define SYNTHETIC_VAL_BASE (UINT64_C(1) << 32)

/* Smallest image side accepted (the shapes need a few pixels to exist). */
#define SYNTHETIC_MIN_SIZE 8

/* "fine" (class 0) and "coarse" (class 1). */
extern const char *const synthetic_class_names[2];

/* Draws image `index` (size x size x 3, uint8 HWC, row-major) into out; returns its label
 * (0 or 1). Pure function of (seed, index, size). size must be >= SYNTHETIC_MIN_SIZE. */
int synthetic_image(uint64_t seed, uint64_t index, int size, uint8_t *out);

/* Fills *d with `count` images with indices first, first+1, ...: allocates pixels and
 * labels with gc_alloc, sets shape, num_classes = 2 and class_names; generates in parallel
 * with an OpenMP `parallel for` over images (schedule dynamic). Returns GC_OK or
 * GC_ERUNTIME (allocation) / GC_EUSAGE (size < 8 or count == 0, message says which).
 * On failure *d is left zeroed. */
int synthetic_dataset(dataset *d, uint64_t seed, uint64_t first, size_t count, int size);

/* Like synthetic_dataset, but keeps only the labels: the loader draws each image when a batch
 * needs it (dataset.draw), so a rank holds no pixels of images it never sees. */
int synthetic_dataset_on_demand(dataset *d, uint64_t seed, uint64_t first, size_t count, int size);

#endif
