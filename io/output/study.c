#include "io/output/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"

static const study_metric_info METRICS[STUDY_METRICS] = {
    [STUDY_FINAL_VAL_ACCURACY] = {"final_val_accuracy", "final val_accuracy", true, 4},
    [STUDY_BEST_VAL_ACCURACY] = {"best_val_accuracy", "best val_accuracy", true, 4},
    [STUDY_LAST_VAL_ACCURACY] = {"last3_val_accuracy", "val_accuracy, last 3", true, 4},
    [STUDY_FINAL_VAL_LOSS] = {"final_val_loss", "final val_loss", false, 4},
    [STUDY_BEST_VAL_LOSS] = {"best_val_loss", "best val_loss", false, 4},
    [STUDY_FINAL_LOSS] = {"final_loss", "final training loss", false, 4},
    [STUDY_TARGET_EPOCH] = {"target_epoch", "epoch to target", false, 2},
    [STUDY_TRAIN_SECONDS] = {"train_seconds", "training time (s)", false, 2},
};

const study_metric_info *study_metric_of(study_metric m) { return &METRICS[m]; }

int study_init(study *st, uint64_t first_seed, int nseeds, double target)
{
    memset(st, 0, sizeof *st);
    st->first_seed = first_seed, st->nseeds = nseeds, st->target = target;
    st->seeds = calloc((size_t)(nseeds > 0 ? nseeds : 1), sizeof *st->seeds);
    if (!st->seeds) return gc_fail(GC_ERUNTIME, "out of memory for a study of %d seeds", nseeds);
    return GC_OK;
}

void study_run_metrics(const study_run *r, double target, double out[STUDY_METRICS])
{
    int n = r->nepochs;
    for (int m = 0; m < STUDY_METRICS; m++) out[m] = NAN;
    out[STUDY_TRAIN_SECONDS] = r->train_seconds;
    if (n == 0) return;
    const study_epoch *e = r->epochs, *last = &e[n - 1];
    out[STUDY_FINAL_VAL_ACCURACY] = last->val_accuracy;
    out[STUDY_FINAL_VAL_LOSS] = last->val_loss;
    out[STUDY_FINAL_LOSS] = last->loss;
    double best_acc = -INFINITY, best_loss = INFINITY, tail = 0.0;
    int from = n > STUDY_LAST_EPOCHS ? n - STUDY_LAST_EPOCHS : 0;
    for (int i = 0; i < n; i++) {
        best_acc = fmax(best_acc, e[i].val_accuracy);
        best_loss = fmin(best_loss, e[i].val_loss);
        if (i >= from) tail += e[i].val_accuracy;
        if (target > 0 && isnan(out[STUDY_TARGET_EPOCH]) && e[i].val_accuracy >= target) out[STUDY_TARGET_EPOCH] = i + 1;
    }
    out[STUDY_BEST_VAL_ACCURACY] = best_acc;
    out[STUDY_BEST_VAL_LOSS] = best_loss;
    out[STUDY_LAST_VAL_ACCURACY] = tail / (n - from);
}

double study_difference(double gc, double baseline)
{
    /* Equal differences must compare equal: 0.743 - 0.742 and 0.521 - 0.520 (val_accuracy is
     * correct / n) differ in their last bits as doubles, which would split the Wilcoxon test's
     * tied ranks and count two equal effects as different. Snapped to 1e-9 (the precision the
     * log records values at, %.9g of values below 10), equal differences are the same double. */
    double d = gc - baseline;
    return isfinite(d) ? nearbyint(d * STUDY_DIFFERENCE_GRID) / STUDY_DIFFERENCE_GRID : d;
}

int study_add(study *st, const study_run runs[2])
{
    if (st->count >= st->nseeds) return gc_fail(GC_ERUNTIME, "the study has all its %d seeds already", st->nseeds);
    study_seed *s = &st->seeds[st->count];
    memset(s, 0, sizeof *s);
    s->seed = st->first_seed + (uint64_t)st->count;
    for (int r = 0; r < 2; r++) {
        s->run[r] = runs[r];
        s->run[r].epochs = malloc((size_t)(runs[r].nepochs > 0 ? runs[r].nepochs : 1) * sizeof(study_epoch));
        if (!s->run[r].epochs) {
            free(s->run[0].epochs);
            memset(s, 0, sizeof *s);
            return gc_fail(GC_ERUNTIME, "out of memory recording seed %llu of the study", (unsigned long long)s->seed);
        }
        if (runs[r].nepochs > 0) memcpy(s->run[r].epochs, runs[r].epochs, (size_t)runs[r].nepochs * sizeof(study_epoch));
        study_run_metrics(&s->run[r], st->target, s->value[r]);
    }
    for (int m = 0; m < STUDY_METRICS; m++) s->difference[m] = study_difference(s->value[STUDY_GC][m], s->value[STUDY_BASELINE][m]);
    st->count++;
    return GC_OK;
}

int study_summarize(study *st)
{
    int n = st->count;
    double *scratch = malloc((size_t)(STUDY_RESAMPLES + 3 * (n > 0 ? n : 1)) * sizeof *scratch);
    if (!scratch) return gc_fail(GC_ERUNTIME, "out of memory summarizing the study");
    double *d = scratch + STUDY_RESAMPLES + 2 * n;
    for (int m = 0; m < STUDY_METRICS; m++) {
        study_summary *sum = &st->summary[m];
        memset(sum, 0, sizeof *sum);
        double base = 0.0, gc = 0.0;
        int both = 0;
        for (int i = 0; i < n; i++) {
            const study_seed *s = &st->seeds[i];
            d[i] = s->difference[m];
            for (int r = 0; r < 2; r++) sum->reached[r] += !isnan(s->value[r][m]);
            if (!isfinite(d[i])) continue;
            base += s->value[STUDY_BASELINE][m], gc += s->value[STUDY_GC][m], both++;
        }
        sum->baseline_mean = both ? base / both : NAN;
        sum->gc_mean = both ? gc / both : NAN;
        stats_paired_summary(d, n, STUDY_LEVEL, STUDY_RESAMPLES, STUDY_BOOTSTRAP_SEED, scratch, &sum->paired);
        bool higher = METRICS[m].higher_is_better;
        sum->wins = higher ? sum->paired.positive : sum->paired.negative;
        sum->losses = higher ? sum->paired.negative : sum->paired.positive;
        sum->ties = sum->paired.zero;
    }
    free(scratch);
    return GC_OK;
}

void study_val_accuracy_band(const study *st, int run, int epoch, double *mean, stats_interval *ci)
{
    double v[STUDY_MAX_SEEDS];
    int n = 0;
    for (int i = 0; i < st->count && n < STUDY_MAX_SEEDS; i++)
        if (epoch >= 1 && epoch <= st->seeds[i].run[run].nepochs) v[n++] = st->seeds[i].run[run].epochs[epoch - 1].val_accuracy;
    *mean = stats_mean(v, n);
    *ci = stats_t_interval(v, n, STUDY_LEVEL);
}

void study_free(study *st)
{
    for (int i = 0; st->seeds && i < st->count; i++)
        for (int r = 0; r < 2; r++) free(st->seeds[i].run[r].epochs);
    free(st->seeds);
    memset(st, 0, sizeof *st);
}
