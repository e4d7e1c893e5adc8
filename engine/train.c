#include "engine/train.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/alloc.h"
#include "engine/error.h"
#include "engine/loss.h"
#include "engine/rng.h"
#include "io/prefetch.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int train_batch_sizes(int batch, size_t train_count, size_t val_count, int sizes[4])
{
    int count = 0;
    size_t counts[2] = {train_count, val_count};
    for (int s = 0; s < 2; s++) {
        if (counts[s] == 0) continue;
        int full = counts[s] < (size_t)batch ? (int)counts[s] : batch;
        int tail = (int)(counts[s] % (size_t)batch);
        int cand[2] = {full, tail};
        for (int c = 0; c < 2; c++) {
            bool seen = cand[c] == 0;
            for (int k = 0; k < count; k++) seen |= sizes[k] == cand[c];
            if (!seen) sizes[count++] = cand[c];
        }
    }
    return count;
}

/* Runs the network over one epoch of pf's batches; with opt, also trains (backward + update). */
static int run_epoch(net *n, prefetcher *pf, int epoch, uint64_t seed, const optimizer *opt, double *loss,
                     double *accuracy, double *waited, const train_observer *obs, const char *run)
{
    epoch_profile *saved = n->profile, *prof = opt ? saved : NULL; /* training steps only */
    n->profile = prof;
    double start = now_seconds(), loss_sum = 0.0;
    size_t correct = 0, seen = 0;
    int steps = prefetch_batches(pf);
    for (int step = 0; step < steps; step++) {
        float *input;
        uint8_t *labels;
        int b;
        double w;
        double step_start = profile_now();
        GC_TRY(prefetch_next(pf, epoch, step, &input, &labels, &b, &w));
        *waited += w;
        GC_TRY(net_bind_input(n, input));
        pass_ctx p = {
            .variant = net_variant(n, b),
            .batch = b,
            .training = opt != NULL,
            .noise_key = rng_key(seed, RNG_STREAM_DROPOUT, (uint64_t)epoch, (uint64_t)step),
        };
        if (p.variant < 0) return gc_fail(GC_ERUNTIME, "batch size %d was not planned", b);
        GC_TRY(net_forward(n, &p));
        double t_loss = profile_now();
        loss_result r = bce_with_logits(net_output(n), labels, (size_t)b, opt ? net_output_grad(n) : NULL);
        if (prof) prof->loss += profile_now() - t_loss;
        loss_sum += r.loss_sum;
        correct += r.correct;
        seen += (size_t)b;
        if (opt) {
            GC_TRY(net_backward(n, &p));
            double t_opt = profile_now();
            optimizer_step(opt, &n->params);
            if (prof) {
                prof->optimizer += profile_now() - t_opt;
                prof->data_wait += w;
                prof->step_total += profile_now() - step_start;
                prof->steps++;
            }
            if (obs && obs->step_end) obs->step_end(obs->ctx, run, epoch + 1, step + 1, steps, now_seconds() - start);
        }
    }
    n->profile = saved;
    *loss = loss_sum / (double)seen;
    *accuracy = (double)correct / (double)seen;
    return GC_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int train_loop(net *n, prefetcher *tp, prefetcher *vp, size_t train_count, const train_config *cfg,
                      const char *run, gc_scope scope, const train_observer *obs, run_summary *out, double *ips)
{
    optimizer opt = {.hp = cfg->hp, .scope = scope, .kernels = cfg->kernels};
    params_init(&n->params, cfg->seed);
    *out = (run_summary){.run = run, .scope = scope, .epochs = cfg->epochs,
                         .init_checksum = params_checksum(&n->params)};
    if (obs && obs->run_start) obs->run_start(obs->ctx, run, scope, out->init_checksum);

    epoch_profile prof;
    for (int e = 0; e < cfg->epochs; e++) {
        epoch_result r = {.run = run, .epoch = e + 1, .epochs = cfg->epochs};
        if (cfg->profile) {
            prof = (epoch_profile){0};
            n->profile = &prof;
            r.profile = &prof;
        }
        double t0 = now_seconds();
        GC_TRY(run_epoch(n, tp, e, cfg->seed, &opt, &r.loss, &r.accuracy, &r.data_wait_seconds, obs, run));
        double t1 = now_seconds();
        if (vp) GC_TRY(run_epoch(n, vp, e, cfg->seed, NULL, &r.val_loss, &r.val_accuracy, &r.data_wait_seconds, NULL, run));
        double t2 = now_seconds();
        r.train_seconds = t1 - t0;
        r.val_seconds = t2 - t1;
        r.seconds = t2 - t0;
        r.images_per_second = (double)train_count / r.train_seconds;
        ips[e] = r.images_per_second;
        out->train_seconds += r.seconds;
        out->loss = r.loss;
        out->accuracy = r.accuracy;
        out->val_loss = r.val_loss;
        out->val_accuracy = r.val_accuracy;
        if (obs && obs->epoch_end) obs->epoch_end(obs->ctx, &r);
    }
    /* Throughput: the median of epochs after the first, which pays for first-touch costs. */
    int first = cfg->epochs > 1 ? 1 : 0, count = cfg->epochs - first;
    qsort(ips + first, (size_t)count, sizeof *ips, cmp_double);
    out->images_per_second = count % 2 ? ips[first + count / 2]
                                       : 0.5 * (ips[first + count / 2 - 1] + ips[first + count / 2]);
    if (obs && obs->run_end) obs->run_end(obs->ctx, out);
    return GC_OK;
}

/* A prefetcher over `data` for `epochs` epochs, in the network's input layout; training
 * batches are shuffled and (unless turned off) augmented. */
static int start_prefetch(const net *n, const dataset *data, int batch, bool training, bool augment, uint64_t seed,
                          int epochs, prefetcher **out)
{
    loader ld;
    GC_TRY(loader_init(&ld, data, batch, training, training && augment, n->input_tag == dnnl_nchw, seed));
    int rc = prefetch_start(out, &ld, epochs);
    loader_free(&ld);
    return rc;
}

int train_run(net *n, const dataset *train, const dataset *val, const train_config *cfg,
              const char *run, gc_scope scope, const train_observer *obs, run_summary *out)
{
    if (cfg->epochs < 1) return gc_fail(GC_EUSAGE, "epochs must be positive, got %d", cfg->epochs);
    prefetcher *tp = NULL, *vp = NULL;
    double *ips = NULL;
    int rc = start_prefetch(n, train, cfg->batch, true, cfg->augment, cfg->seed, cfg->epochs, &tp);
    if (rc == GC_OK && val && val->count) rc = start_prefetch(n, val, cfg->batch, false, false, cfg->seed, cfg->epochs, &vp);
    if (rc == GC_OK) rc = gc_alloc((void **)&ips, (size_t)cfg->epochs * sizeof *ips, "the epoch timings");
    if (rc == GC_OK) rc = train_loop(n, tp, vp, train->count, cfg, run, scope, obs, out, ips);
    n->profile = NULL; /* it pointed into train_loop's frame */
    int unbind = net_bind_input(n, NULL); /* the prefetch buffers go away */
    if (rc == GC_OK) rc = unbind;
    gc_free(ips);
    prefetch_stop(vp);
    prefetch_stop(tp);
    return rc;
}

int train_evaluate(net *n, const dataset *data, int batch, double *loss, double *accuracy)
{
    prefetcher *p = NULL;
    double waited = 0.0;
    int rc = start_prefetch(n, data, batch, false, false, 0, 1, &p);
    if (rc == GC_OK) rc = run_epoch(n, p, 0, 0, NULL, loss, accuracy, &waited, NULL, NULL);
    int unbind = net_bind_input(n, NULL);
    if (rc == GC_OK) rc = unbind;
    prefetch_stop(p);
    return rc;
}
