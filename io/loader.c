#include "io/loader.h"

#include "engine/alloc.h"
#include "engine/error.h"
#include "engine/rng.h"

int loader_init(loader *ld, const dataset *data, int batch, bool shuffle, uint64_t seed)
{
    *ld = (loader){.data = data, .batch = batch, .shuffle = shuffle, .seed = seed};
    if (batch < 1) return gc_fail(GC_EUSAGE, "batch size must be positive, got %d", batch);
    if (data->count == 0) return gc_fail(GC_EUSAGE, "the dataset has no images");
    GC_TRY(gc_alloc((void **)&ld->order, data->count * sizeof *ld->order, "the image order"));
    loader_start_epoch(ld, 0);
    return GC_OK;
}

void loader_free(loader *ld)
{
    gc_free(ld->order);
    ld->order = NULL;
}

int loader_batches(const loader *ld) { return (int)((ld->data->count + (size_t)ld->batch - 1) / (size_t)ld->batch); }

int loader_batch_size(const loader *ld, int step)
{
    size_t first = (size_t)step * (size_t)ld->batch, left = ld->data->count - first;
    return left < (size_t)ld->batch ? (int)left : ld->batch;
}

void loader_start_epoch(loader *ld, int epoch)
{
    size_t n = ld->data->count;
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

int loader_fill(const loader *ld, int step, bool planar, float *input, uint8_t *labels)
{
    int b = loader_batch_size(ld, step);
    size_t first = (size_t)step * (size_t)ld->batch, bytes = dataset_image_bytes(ld->data);
    size_t channels = (size_t)ld->data->channels, pixels = bytes / channels;
    const float scale = 1.0f / 255.0f;
#pragma omp parallel for schedule(static)
    for (int k = 0; k < b; k++) {
        size_t idx = ld->order[first + (size_t)k];
        const uint8_t *src = dataset_image(ld->data, idx);
        float *dst = input + (size_t)k * bytes;
        if (planar) {
            for (size_t c = 0; c < channels; c++)
                for (size_t p = 0; p < pixels; p++) dst[c * pixels + p] = (float)src[p * channels + c] * scale;
        } else {
            for (size_t i = 0; i < bytes; i++) dst[i] = (float)src[i] * scale;
        }
        labels[k] = ld->data->labels[idx];
    }
    return b;
}
