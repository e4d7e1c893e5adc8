#include "io/input/prefetch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/base/alloc.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"

struct prefetcher {
    loader ld;
    long total;          /* batches of the whole sequence: epochs x per_epoch */
    long first;          /* the first one to produce (later than 0 when resuming) */
    int per_epoch;
    int depth;           /* buffers: 2 works a batch ahead, 1 fills each batch on demand */
    void *input[2];
    uint8_t *labels[2];
    int size[2];

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long produced;       /* batches finished by the producer */
    long consumed;       /* batches handed out; the producer may run up to consumed + 1 */
    bool stop;
    bool started;
    long failed;         /* the batch whose images could not be made (-1: none) */
    int error_code;
    char error[2048];    /* its message, taken from the producer thread */
};

static void *produce(void *arg)
{
    prefetcher *p = arg;
    for (long t = p->first; t < p->total; t++) {
        pthread_mutex_lock(&p->lock);
        /* Buffer t % depth is free once batch t - depth is no longer in use: the consumer has
         * asked for t - depth + 1. */
        while (!p->stop && t > p->consumed + p->depth - 1) pthread_cond_wait(&p->changed, &p->lock);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->lock);
        if (stop) break;

        int epoch = (int)(t / p->per_epoch), step = (int)(t % p->per_epoch);
        if (epoch != p->ld.epoch) loader_start_epoch(&p->ld, epoch);
        int size = loader_fill(&p->ld, step, p->input[t % p->depth], p->labels[t % p->depth]);
        p->size[t % p->depth] = size;

        pthread_mutex_lock(&p->lock);
        if (size < 0) { /* hand the error to the consumer, and produce nothing more */
            p->failed = t;
            p->error_code = -size;
            snprintf(p->error, sizeof p->error, "%s", gc_error_message());
            gc_error_clear();
        }
        p->produced = t + 1;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        if (size < 0) break;
    }
    return NULL;
}

int prefetch_start(prefetcher **out, const loader *ld, int depth, int epochs, int epoch, int step)
{
    if (depth < 1 || depth > 2) return gc_fail(GC_ERUNTIME, "prefetch depth %d: expected 1 or 2", depth);
    *out = NULL;
    prefetcher *p = calloc(1, sizeof *p);
    if (!p) return gc_fail(GC_ERUNTIME, "out of memory creating the batch prefetcher");
    p->per_epoch = loader_batches(ld);
    p->depth = depth;
    p->total = (long)epochs * p->per_epoch;
    p->first = (long)epoch * p->per_epoch + step;
    p->consumed = p->first - 1;
    p->failed = -1;
    p->produced = p->first;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);

    size_t bytes = loader_batch_bytes(ld);
    int rc = loader_clone(&p->ld, ld); /* its own order: the producer shuffles each epoch */
    for (int i = 0; rc == GC_OK && i < depth; i++) {
        rc = gc_alloc(&p->input[i], bytes, "a prefetch buffer");
        if (rc == GC_OK) rc = gc_alloc((void **)&p->labels[i], (size_t)ld->batch, "a prefetch label buffer");
    }
    if (rc == GC_OK && pthread_create(&p->thread, NULL, produce, p) != 0)
        rc = gc_fail(GC_ERUNTIME, "cannot start the batch prefetch thread");
    p->started = rc == GC_OK;
    if (rc != GC_OK) {
        prefetch_stop(p);
        return rc;
    }
    *out = p;
    return GC_OK;
}

void prefetch_stop(prefetcher *p)
{
    if (!p) return;
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    loader_free(&p->ld);
    for (int i = 0; i < 2; i++) {
        gc_free(p->input[i]);
        gc_free(p->labels[i]);
    }
    free(p);
}

int prefetch_batches(const prefetcher *p) { return p->per_epoch; }

int prefetch_batch_size(const prefetcher *p, int step, int *share_first)
{
    loader_share_size(&p->ld, step, share_first);
    return loader_batch_size(&p->ld, step);
}

int prefetch_next(prefetcher *p, int epoch, int step, void **input, uint8_t **labels, int *size, double *waited)
{
    long t = (long)epoch * p->per_epoch + step;
    if (t != p->consumed + 1 || t >= p->total)
        return gc_fail(GC_ERUNTIME, "batch %d of epoch %d requested out of sequence", step, epoch);
    double start = clock_seconds();
    pthread_mutex_lock(&p->lock);
    p->consumed = t; /* batch t - 1 is done with: its buffer may be refilled */
    pthread_cond_broadcast(&p->changed);
    while (p->produced <= t) pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (p->failed == t) return gc_fail(p->error_code, "%s", p->error);
    *waited = clock_seconds() - start;
    *input = p->input[t % p->depth];
    *labels = p->labels[t % p->depth];
    *size = p->size[t % p->depth];
    return GC_OK;
}
