/* A dataset from PNG class folders: DIR/<class>/NAME.png, decoded once, in parallel, into
 * memory as uint8 HWC.
 *
 * Classes are DIR's sub-folders in byte-wise sorted name order, labelled 0..n-1; within a
 * class the files are taken in sorted name order, so the dataset is the same on every run
 * and with any thread count. A file counts when its name ends in ".png" in any case; other
 * files and sub-sub-folders are ignored silently, and so are names starting with '.'
 * (hidden files, such as the "._x.png" resource forks that macOS leaves in archives). The
 * images of class 0 come first, then class 1, and so on. Every image is resized
 * (io/input/resize.h) to image_size x image_size. */
#ifndef GCBENCH_IO_IMAGE_FOLDER_H
#define GCBENCH_IO_IMAGE_FOLDER_H

#include <stdbool.h>
#include <stddef.h>

#include "io/input/dataset.h"

/* Default cap on the decoded pixels of one load call. */
#define IMAGE_FOLDER_DEFAULT_MAX_BYTES ((size_t)8 << 30)

typedef struct {
    int image_size;    /* every image is resized to image_size x image_size (1..16384) */
    bool skip_invalid; /* skip files that fail to decode, with a warning each, instead of failing */
    size_t max_bytes;  /* cap on images x size x size x 3 over one call; 0: the default 8 GiB */
    bool on_demand;    /* keep the file names only; the loader decodes each image when a batch
                          needs it (under MPI a rank reads only its share). A file that does not
                          decode then stops training with an error naming it; not with
                          skip_invalid, which must decode every file first. */
} image_folder_options;

typedef struct {
    size_t skipped;        /* files skipped under skip_invalid */
    size_t resident_bytes; /* bytes the loaded dataset(s) hold (pixels and labels) */
} image_folder_report;

/* Loads dir/<class>/NAME.png into *d. Errors (*d left zeroed, everything freed):
 * GC_EUSAGE, naming the folder or file, for a missing, unreadable or empty folder, fewer
 * than two or more than DATASET_MAX_CLASSES classes, a class (or the whole folder) without
 * PNG files, a file that does not decode (unless skip_invalid; then a class left without
 * images is the error), or a dataset over the memory cap; GC_ERUNTIME when out of memory.
 * Under skip_invalid each skipped file gets one line on stderr,
 * "gcbench: warning: skipping FILE: REASON", in file order. report may be NULL. */
int image_folder_load(dataset *d, const char *dir, const image_folder_options *opt,
                      image_folder_report *report);

/* Loads a training and a validation folder, which must have the same class names (else
 * GC_EUSAGE naming both). The memory cap applies to both together; on any error both are
 * left zeroed. */
int image_folder_load_pair(dataset *train, dataset *val, const char *train_dir, const char *val_dir,
                           const image_folder_options *opt, image_folder_report *report);

/* `--data DIR`: image_folder_load_pair of DIR/train and DIR/validation. */
int image_folder_load_split(dataset *train, dataset *val, const char *data_dir,
                            const image_folder_options *opt, image_folder_report *report);

/* GC_OK when d has exactly `classes` classes, what the model `model` trains; else GC_EUSAGE:
 * "DIR has 3 classes (a, b, c); the model 'seed' is a two-class model". */
int image_folder_require_classes(const dataset *d, const char *dir, int classes, const char *model);

#endif
