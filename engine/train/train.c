#include "engine/train/train.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/runtime/dist.h"
#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/base/fault.h"
#include "engine/base/median.h"
#include "engine/net/loss.h"
#include "engine/base/rng.h"
#include "io/input/prefetch.h"

int train_batch_sizes(int batch, size_t train_count, size_t val_count, int sizes[4])
{
    int count = 0;
    size_t counts[2] = {train_count, val_count};
    for (int s = 0; s < 2; s++) {
        if (counts[s] == 0) continue;
        int full = counts[s] < (size_t)batch ? (int)counts[s] : batch;
        int tail = (int)(counts[s] % (size_t)batch);
        int cand[2] = {full, tail}, first;
        for (int c = 0; c < 2; c++) {
            cand[c] = dist_share(cand[c], dist_rank(), dist_ranks(), &first); /* this rank's share */
            bool seen = cand[c] == 0;
            for (int k = 0; k < count; k++) seen |= sizes[k] == cand[c];
            if (!seen) sizes[count++] = cand[c];
        }
    }
    return count;
}

/* The first parameter tensor whose gradient holds a NaN or an infinity, or -1. */
static int first_non_finite_gradient(const param_store *ps)
{
    for (int t = 0; t < ps->n; t++) {
        const float *g = param_g(ps, t);
        int bad = 0;
#pragma omp parallel for simd reduction(| : bad) schedule(static) if (ps->t[t].count > 65536)
        for (size_t i = 0; i < ps->t[t].count; i++) bad |= !isfinite(g[i]);
        if (bad) return t;
    }
    return -1;
}

/* One batch through the network: forward and loss; with opt also backward and the update,
 * stopping on a non-finite loss or gradient. Adds to the metrics.
 *
 * With several ranks, this process runs its share of the batch; the gradients (of the loss
 * averaged over the whole batch) and the metrics are then summed over all ranks, so every
 * rank checks the same values and applies the same update. */
static int run_step(net *n, prefetcher *pf, int epoch, int step, uint64_t seed, const optimizer *opt,
                    double *loss_sum, uint64_t *correct, uint64_t *seen, double *waited)
{
    epoch_profile *prof = n->profile;
    double step_start = clock_seconds(), w;
    void *input;
    uint8_t *labels;
    int b, first;
    GC_TRY(prefetch_next(pf, epoch, step, &input, &labels, &b, &w));
    if (opt && dist_ranks() > 1 && dist_rank() == dist_ranks() - 1 && fault_fires("rank-dies"))
        raise(SIGKILL); /* a test: a rank lost mid-step */
    int whole = prefetch_batch_size(pf, step, &first);
    *waited += w;
    double sums[2] = {0.0, 0.0}; /* loss and correct images over the batch */
    if (b > 0) {
        GC_TRY(net_bind_input(n, input));
        pass_ctx p = {
            .variant = net_variant(n, b),
            .batch = b,
            .training = opt != NULL,
            .noise_key = rng_key(seed, RNG_STREAM_DROPOUT, (uint64_t)epoch, (uint64_t)step),
            .first_image = first,
        };
        if (p.variant < 0) return gc_fail(GC_ERUNTIME, "batch size %d was not planned", b);
        GC_TRY(net_forward(n, &p));
        double t_loss = clock_seconds();
        loss_result r = n->loss->eval(net_output(n), labels, (size_t)b, (size_t)whole, opt ? net_output_grad(n) : NULL);
        if (prof) prof->loss += clock_seconds() - t_loss;
        sums[0] = r.loss_sum;
        sums[1] = (double)r.correct;
        if (opt) GC_TRY(net_backward(n, &p));
    } else if (opt) { /* a share of no images: nothing to add to the sum */
        params_zero_grad(&n->params);
    }
    double t_sum = clock_seconds();
    GC_TRY(dist_sum_doubles(sums, 2));
    if (opt) GC_TRY(dist_sum_floats(n->params.g, n->params.total));
    if (prof) prof->allreduce += dist_ranks() > 1 ? clock_seconds() - t_sum : 0.0;
    *loss_sum += sums[0];
    *correct += (uint64_t)sums[1];
    *seen += (uint64_t)whole;
    if (!opt) return GC_OK;
    if (!isfinite(sums[0]))
        return gc_fail(GC_ERUNTIME, "epoch %d, step %d: the loss is not finite (%g)", epoch + 1, step + 1,
                       sums[0] / whole);
    if (fault_fires("nan-gradient")) param_g(&n->params, n->params.n - 1)[0] = NAN; /* a test */
    int bad = first_non_finite_gradient(&n->params);
    if (bad >= 0)
        return gc_fail(GC_ERUNTIME, "epoch %d, step %d: the gradient of %s is not finite", epoch + 1, step + 1,
                       n->params.t[bad].name);
    double t_opt = clock_seconds();
    optimizer_step(opt, &n->params);
    if (prof) {
        prof->optimizer += clock_seconds() - t_opt;
        prof->data_wait += w;
        prof->step_total += clock_seconds() - step_start;
        prof->steps++;
    }
    return GC_OK;
}

/* The validation pass of one epoch: mean loss and accuracy, dropout off. */
static int validate(net *n, prefetcher *vp, int epoch, double *loss, double *accuracy, double *waited)
{
    epoch_profile *saved = n->profile; /* validation is not profiled */
    n->profile = NULL;
    double loss_sum = 0.0;
    uint64_t correct = 0, seen = 0;
    int rc = GC_OK;
    for (int step = 0; rc == GC_OK && step < prefetch_batches(vp); step++)
        rc = run_step(n, vp, epoch, step, 0, NULL, &loss_sum, &correct, &seen, waited);
    n->profile = saved;
    *loss = loss_sum / (double)seen;
    *accuracy = (double)correct / (double)seen;
    return rc;
}

/* Throughput of a run: the median of epochs after the first, which pays for first-touch
 * costs (or the first, when it is the only one). */
static double median_throughput(const double *ips, int epochs, double *scratch)
{
    int first = epochs > 1 ? 1 : 0, count = epochs - first;
    memcpy(scratch, ips + first, (size_t)count * sizeof *scratch);
    return median_of(scratch, count);
}

static bool stop_requested(const train_observer *obs) { return obs && obs->stop_requested && obs->stop_requested(obs->ctx); }

static int save(const train_observer *obs, const char *run, const train_state *st)
{
    return obs && obs->save ? obs->save(obs->ctx, run, st) : GC_OK;
}

static int train_loop(net *n, prefetcher *tp, prefetcher *vp, size_t train_count, const train_config *cfg,
                      const char *run, gc_scope scope, const train_observer *obs, train_state *st,
                      run_summary *out, double *scratch)
{
    optimizer opt = {.desc = cfg->optimizer, .hp = cfg->hp, .scope = scope, .kernels = cfg->kernels};
    opt.gc_on_update = cfg->gc_on_update;
    GC_TRY(optimizer_prepare(&opt, &n->params));
    if (obs && obs->run_start) obs->run_start(obs->ctx, run, scope, st->init_checksum);

    epoch_profile prof;
    for (; st->epoch < cfg->epochs; st->epoch++, st->step = 0) {
        int e = st->epoch;
        if (st->step == 0) { /* a fresh epoch (a resumed one keeps what it had) */
            st->loss_sum = 0.0;
            st->correct = st->seen = 0;
            st->data_wait = st->train_seconds = 0.0;
        }
        prof = (epoch_profile){0};
        n->profile = cfg->profile ? &prof : NULL;
        for (; st->step < prefetch_batches(tp); st->step++) {
            double t = clock_seconds();
            GC_TRY(run_step(n, tp, e, st->step, cfg->seed, &opt, &st->loss_sum, &st->correct, &st->seen, &st->data_wait));
            st->train_seconds += clock_seconds() - t;
            if (obs && obs->step_end)
                obs->step_end(obs->ctx, run, e + 1, st->step + 1, prefetch_batches(tp), st->train_seconds);
            if (st->step + 1 < prefetch_batches(tp) && stop_requested(obs)) {
                st->step++; /* the state is "after this step" */
                GC_TRY(save(obs, run, st));
                return GC_EINTERRUPTED;
            }
        }
        epoch_result r = {.run = run, .epoch = e + 1, .epochs = cfg->epochs, .profile = n->profile};
        r.loss = st->loss_sum / (double)st->seen;
        r.accuracy = (double)st->correct / (double)st->seen;
        double t1 = clock_seconds();
        if (vp) GC_TRY(validate(n, vp, e, &r.val_loss, &r.val_accuracy, &st->data_wait));
        r.val_seconds = clock_seconds() - t1;
        r.train_seconds = st->train_seconds;
        r.seconds = r.train_seconds + r.val_seconds;
        r.data_wait_seconds = st->data_wait;
        r.images_per_second = (double)train_count / r.train_seconds;
        st->ips[e] = r.images_per_second;
        st->run_seconds += r.seconds;
        st->last = r;
        if (obs && obs->epoch_end) obs->epoch_end(obs->ctx, &r);
        train_state next = *st; /* after the epoch: the next one, not started */
        next.epoch++;
        next.step = 0;
        GC_TRY(save(obs, run, &next));
        if (next.epoch < cfg->epochs && stop_requested(obs)) {
            *st = next;
            return GC_EINTERRUPTED;
        }
    }
    *out = (run_summary){.run = run, .scope = scope, .epochs = cfg->epochs, .init_checksum = st->init_checksum,
                         .loss = st->last.loss, .accuracy = st->last.accuracy, .val_loss = st->last.val_loss,
                         .val_accuracy = st->last.val_accuracy, .train_seconds = st->run_seconds,
                         .images_per_second = median_throughput(st->ips, cfg->epochs, scratch)};
    if (obs && obs->run_end) obs->run_end(obs->ctx, out);
    return GC_OK;
}

/* A prefetcher over `data` from (epoch, step) to the end of `epochs`, in the network's input
 * layout; training batches are shuffled and (unless turned off) augmented. */
static int start_prefetch(const net *n, const dataset *data, int batch, bool training, bool augment, uint64_t seed,
                          int epochs, int epoch, int step, prefetcher **out)
{
    loader ld;
    GC_TRY(loader_init(&ld, data, batch, training, training && augment, n->input_tag == dnnl_nchw, seed));
    loader_set_share(&ld, dist_rank(), dist_ranks());
    int rc = n->input_dt == dnnl_bf16 ? loader_set_bf16(&ld) : GC_OK; /* the batch in the network's type */
    /* training works a batch ahead; validation (a few batches an epoch) fills on demand and
     * so holds one batch of memory, not two */
    if (rc == GC_OK) rc = prefetch_start(out, &ld, training ? 2 : 1, epochs, epoch, step);
    loader_free(&ld);
    return rc;
}

/* The network must end in its loss's head, and the data's labels must be its classes. */
static int check_head(const net *n, const dataset *data)
{
    if (!n->loss) return gc_fail(GC_ERUNTIME, "the network has no loss (build it with model_build)");
    act_shape out = net_output_shape(n);
    if (out.rank != 1 || out.c != n->loss->logits)
        return gc_fail(GC_ERUNTIME, "the network ends in %ld outputs per image; its loss %s needs %d", act_shape_elems(out),
                       n->loss->name, n->loss->logits);
    if (data->num_classes > n->loss->classes)
        return gc_fail(GC_EUSAGE, "the data has %d classes; the loss %s trains %d", data->num_classes, n->loss->name,
                       n->loss->classes);
    return GC_OK;
}

int train_run(net *n, const dataset *train, const dataset *val, const train_config *cfg,
              const char *run, gc_scope scope, const train_observer *obs, const train_state *resume,
              run_summary *out)
{
    if (cfg->epochs < 1) return gc_fail(GC_EUSAGE, "epochs must be positive, got %d", cfg->epochs);
    GC_TRY(check_head(n, train));
    train_state st = {0};
    double *ips = NULL, *scratch = NULL;
    int rc = gc_alloc((void **)&ips, (size_t)cfg->epochs * sizeof *ips, "the epoch timings");
    if (rc == GC_OK) rc = gc_alloc((void **)&scratch, (size_t)cfg->epochs * sizeof *ips, "the epoch timings");
    if (rc == GC_OK && resume) {
        st = *resume;
        memcpy(ips, resume->ips, (size_t)cfg->epochs * sizeof *ips);
    } else if (rc == GC_OK) {
        params_init(&n->params, cfg->seed);
        st.init_checksum = params_checksum(&n->params);
    }
    st.ips = ips;
    if (rc == GC_OK) rc = dist_check_same(params_checksum(&n->params), "the starting weights");
    prefetcher *tp = NULL, *vp = NULL;
    if (rc == GC_OK)
        rc = start_prefetch(n, train, cfg->batch, true, cfg->augment, cfg->seed, cfg->epochs, st.epoch, st.step, &tp);
    if (rc == GC_OK && val && val->count)
        rc = start_prefetch(n, val, cfg->batch, false, false, cfg->seed, cfg->epochs, st.epoch, 0, &vp);
    if (rc == GC_OK) rc = train_loop(n, tp, vp, train->count, cfg, run, scope, obs, &st, out, scratch);
    n->profile = NULL; /* it pointed into train_loop's frame */
    int unbind = net_bind_input(n, NULL); /* the prefetch buffers go away */
    if (rc == GC_OK) rc = unbind;
    prefetch_stop(vp);
    prefetch_stop(tp);
    gc_free(scratch);
    gc_free(ips);
    return rc;
}

int train_evaluate(net *n, const dataset *data, int batch, double *loss, double *accuracy)
{
    GC_TRY(check_head(n, data));
    prefetcher *p = NULL;
    double waited = 0.0;
    int rc = start_prefetch(n, data, batch, false, false, 0, 1, 0, 0, &p);
    if (rc == GC_OK) rc = validate(n, p, 0, loss, accuracy, &waited);
    int unbind = net_bind_input(n, NULL);
    if (rc == GC_OK) rc = unbind;
    prefetch_stop(p);
    return rc;
}
