/* An image dataset: decoded once and kept as uint8 HWC, or (under MPI, where each rank needs
 * only its share of every batch) made on demand, image by image; read by the loader. */
#ifndef GCBENCH_IO_DATASET_H
#define GCBENCH_IO_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define DATASET_MAX_CLASSES 16
#define DATASET_CLASS_NAME_MAX 64

typedef struct dataset {
    int height, width, channels;          /* every image has this shape (channels = 3) */
    size_t count;                         /* number of images */
    uint8_t *pixels;                      /* count x height x width x channels, HWC per image,
                                             or NULL when images are made on demand: */
    /* Makes image i into out (height x width x channels); GC_OK, or an error naming the file.
     * Synthetic sets set it (and draw_seed, draw_first) even when their pixels are kept. */
    int (*draw)(const struct dataset *d, size_t i, uint8_t *out);
    uint64_t draw_seed, draw_first; /* synthetic: image i is drawn from (draw_seed, draw_first + i) */
    char **paths;                   /* PNG folders made on demand: image i is decoded from paths[i] */
    uint8_t *labels;                      /* count class indices, 0..num_classes-1 */
    int num_classes;
    char class_names[DATASET_MAX_CLASSES][DATASET_CLASS_NAME_MAX];
} dataset;

/* Bytes of one image. */
static inline size_t dataset_image_bytes(const dataset *d)
{
    return (size_t)d->height * (size_t)d->width * (size_t)d->channels;
}

/* Image i of a dataset kept in memory (pixels != NULL). */
static inline const uint8_t *dataset_image(const dataset *d, size_t i)
{
    return d->pixels + i * dataset_image_bytes(d);
}

/* Number of images of class c. */
size_t dataset_class_count(const dataset *d, int c);

/* Frees the buffers and zeroes the struct; safe on a zeroed struct. */
void dataset_free(dataset *d);

#endif
