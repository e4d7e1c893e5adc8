#include "io/input/loader.h"

#include "engine/base/alloc.h"
#include "engine/runtime/dist.h"
#include "engine/base/error.h"
#include "engine/base/rng.h"
#include "io/input/augment.h"
#include "simd/simd.h"

/* The loader's own buffers: the image order, one image when images are made on demand, and
 * one image in f32 when writing bf16. */
static int alloc_buffers(loader *ld)
{
    ld->order = NULL;
    ld->drawn = NULL;
    ld->staged = NULL;
    int rc = gc_alloc((void **)&ld->order, ld->data->count * sizeof *ld->order, "the image order");
    if (rc == GC_OK && !ld->data->pixels)
        rc = gc_alloc((void **)&ld->drawn, dataset_image_bytes(ld->data), "an image made on demand");
    if (rc == GC_OK && ld->bf16)
        rc = gc_alloc((void **)&ld->staged, dataset_image_bytes(ld->data) * sizeof(float), "an image before bf16");
    if (rc != GC_OK) loader_free(ld);
    return rc;
}

int loader_init(loader *ld, const dataset *data, int batch, bool shuffle, bool augment, bool planar, uint64_t seed)
{
    *ld = (loader){.data = data, .batch = batch, .shuffle = shuffle, .augment = augment, .planar = planar,
                   .seed = seed, .epoch = -1, .rank = 0, .ranks = 1};
    if (batch < 1) return gc_fail(GC_EUSAGE, "batch size must be positive, got %d", batch);
    if (data->count == 0) return gc_fail(GC_EUSAGE, "the dataset has no images");
    GC_TRY(alloc_buffers(ld));
    loader_start_epoch(ld, 0);
    return GC_OK;
}

int loader_clone(loader *copy, const loader *ld)
{
    *copy = *ld;
    copy->epoch = -1;
    return alloc_buffers(copy);
}

void loader_free(loader *ld)
{
    gc_free(ld->order);
    gc_free(ld->drawn);
    gc_free(ld->staged);
    ld->order = NULL;
    ld->drawn = NULL;
    ld->staged = NULL;
}

int loader_set_bf16(loader *ld)
{
    if (ld->bf16) return GC_OK;
    ld->bf16 = true;
    ld->narrow = simd_best()->f32_to_bf16;
    return gc_alloc((void **)&ld->staged, dataset_image_bytes(ld->data) * sizeof(float), "an image before bf16");
}

void loader_set_share(loader *ld, int rank, int ranks)
{
    ld->rank = rank;
    ld->ranks = ranks;
}

int loader_batches(const loader *ld) { return (int)((ld->data->count + (size_t)ld->batch - 1) / (size_t)ld->batch); }

int loader_batch_size(const loader *ld, int step)
{
    size_t first = (size_t)step * (size_t)ld->batch, left = ld->data->count - first;
    return left < (size_t)ld->batch ? (int)left : ld->batch;
}

int loader_share_size(const loader *ld, int step, int *first)
{
    return dist_share(loader_batch_size(ld, step), ld->rank, ld->ranks, first);
}

/* Values per image are its bytes (uint8 HWC). */
size_t loader_batch_bytes(const loader *ld)
{
    return (size_t)ld->batch * dataset_image_bytes(ld->data) * (ld->bf16 ? sizeof(bf16) : sizeof(float));
}

void loader_start_epoch(loader *ld, int epoch)
{
    size_t n = ld->data->count;
    ld->epoch = epoch;
    for (size_t i = 0; i < n; i++) ld->order[i] = i;
    if (!ld->shuffle) return;
    uint64_t key = rng_key(ld->seed, RNG_STREAM_SHUFFLE, (uint64_t)epoch, 0);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(key, i, i + 1);
        size_t tmp = ld->order[i];
        ld->order[i] = ld->order[j];
        ld->order[j] = tmp;
    }
}

/* Interleaved bytes to channel planes, scaled: a block of pixels at a time, converted in
 * memory order (gcc vectorizes that, not the strided reads of one channel at a time), then
 * spread to the planes. */
static inline __attribute__((always_inline)) void to_planes(float *restrict dst, const uint8_t *restrict src,
                                                            size_t pixels, size_t channels, float scale)
{
    float block[192];
    size_t per_block = sizeof block / sizeof *block / channels;
    for (size_t p0 = 0; p0 < pixels; p0 += per_block) {
        size_t n = pixels - p0 < per_block ? pixels - p0 : per_block;
        for (size_t i = 0; i < n * channels; i++) block[i] = (float)src[p0 * channels + i] * scale;
        for (size_t c = 0; c < channels; c++)
            for (size_t p = 0; p < n; p++) dst[c * pixels + p0 + p] = block[p * channels + c];
    }
}

/* Image idx, rescaled to [0, 1] (and augmented when training), in the loader's layout. */
static int convert_image(const loader *ld, size_t idx, float *dst)
{
    const dataset *d = ld->data;
    const uint8_t *src = d->pixels ? dataset_image(d, idx) : ld->drawn;
    if (!d->pixels) GC_TRY(d->draw(d, idx, ld->drawn));
    if (ld->augment) {
        augment_params p = augment_draw(ld->seed, ld->epoch, idx);
        augment_warp(src, d->width, d->height, d->channels, &p, dst, ld->planar);
        return GC_OK;
    }
    size_t bytes = dataset_image_bytes(ld->data), channels = (size_t)ld->data->channels;
    size_t pixels = bytes / channels;
    const float scale = 1.0f / 255.0f;
    if (ld->planar && channels == 3)
        to_planes(dst, src, pixels, 3, scale); /* the constant lets gcc vectorize it */
    else if (ld->planar)
        to_planes(dst, src, pixels, channels, scale);
    else
        for (size_t i = 0; i < bytes; i++) dst[i] = (float)src[i] * scale;
    return GC_OK;
}

int loader_fill(const loader *ld, int step, void *input, uint8_t *labels)
{
    int share_first;
    int b = loader_share_size(ld, step, &share_first);
    size_t first = (size_t)step * (size_t)ld->batch + (size_t)share_first, values = dataset_image_bytes(ld->data);
    for (int k = 0; k < b; k++) {
        size_t idx = ld->order[first + (size_t)k];
        int rc;
        if (ld->bf16) {
            rc = convert_image(ld, idx, ld->staged);
            if (rc == GC_OK) ld->narrow((bf16 *)input + (size_t)k * values, ld->staged, values);
        } else {
            rc = convert_image(ld, idx, (float *)input + (size_t)k * values);
        }
        if (rc != GC_OK) return -rc;
        labels[k] = ld->data->labels[idx];
    }
    return b;
}
