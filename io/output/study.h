/* A seed study (`gcbench --seeds N`): N paired comparisons, seeds S..S+N-1, each a baseline
 * and a GC run from the same weights, data order, augmentation and dropout draws. Per seed,
 * the epoch curves of both runs and the metrics read from them; per metric, the statistics of
 * the GC-minus-baseline differences over the seeds (engine/stats/stats.h). The writers (console,
 * log, report) take a study as it is here. */
#ifndef GCBENCH_IO_STUDY_H
#define GCBENCH_IO_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/stats/stats.h"

#define STUDY_MAX_SEEDS 1000
#define STUDY_LEVEL 0.95           /* of both intervals */
#define STUDY_RESAMPLES 10000      /* bootstrap resamples */
#define STUDY_BOOTSTRAP_SEED 20200411 /* fixed: the interval is a function of the differences alone */
#define STUDY_LAST_EPOCHS 3        /* "the mean validation accuracy of the last 3 epochs" */

typedef enum {
    STUDY_FINAL_VAL_ACCURACY,
    STUDY_BEST_VAL_ACCURACY,
    STUDY_LAST_VAL_ACCURACY,  /* mean of the last STUDY_LAST_EPOCHS epochs: less noisy than the last */
    STUDY_FINAL_VAL_LOSS,
    STUDY_BEST_VAL_LOSS,
    STUDY_FINAL_LOSS,         /* training loss of the last epoch */
    STUDY_TARGET_EPOCH,       /* first epoch with val_accuracy >= --target-accuracy; NaN if never */
    STUDY_TRAIN_SECONDS,
    STUDY_METRICS
} study_metric;

typedef struct {
    const char *key;   /* log and CSV name: "final_val_accuracy" */
    const char *label; /* for people: "final val_accuracy" */
    bool higher_is_better; /* a win for GC is a higher value (accuracy) or a lower one (loss, epochs, time) */
    int decimals;
} study_metric_info;

const study_metric_info *study_metric_of(study_metric m);

/* What the study keeps of an epoch. */
typedef struct {
    double loss, accuracy, val_loss, val_accuracy;
} study_epoch;

/* One run of a seed's pair. */
typedef struct {
    study_epoch *epochs;
    int nepochs;
    double train_seconds;
} study_run;

enum { STUDY_BASELINE = 0, STUDY_GC = 1 };

typedef struct {
    uint64_t seed;
    study_run run[2];                 /* STUDY_BASELINE, STUDY_GC */
    double value[2][STUDY_METRICS];   /* the metrics of each run */
    double difference[STUDY_METRICS]; /* gc - baseline; NaN when either is */
} study_seed;

/* Per metric, over the seeds. */
typedef struct {
    double baseline_mean, gc_mean; /* over the seeds where the difference is defined */
    stats_paired paired;
    int wins, ties, losses;        /* GC better, equal, worse (by higher_is_better) */
    int reached[2];                /* STUDY_TARGET_EPOCH: seeds whose run reached the target */
} study_summary;

typedef struct {
    uint64_t first_seed;
    int nseeds;    /* planned */
    double target; /* --target-accuracy; 0 when not given */
    study_seed *seeds;
    int count;     /* finished, in order: seeds[i].seed == first_seed + i */
    study_summary summary[STUDY_METRICS]; /* after study_summarize */
} study;

/* gc - baseline, rounded to the nearest multiple of 1/STUDY_DIFFERENCE_GRID so that equal
 * differences of values such as k/n are the same double (NaN stays NaN). */
#define STUDY_DIFFERENCE_GRID 1e9
double study_difference(double gc, double baseline);

/* An empty study of nseeds seeds from first_seed; GC_ERUNTIME when out of memory. */
int study_init(study *st, uint64_t first_seed, int nseeds, double target);

/* Appends the finished seed first_seed + count: copies the epochs of both runs and reads the
 * metrics from them. GC_ERUNTIME when out of memory. */
int study_add(study *st, const study_run runs[2]);

/* The metrics of one run (target 0: no target, the epoch metric is NaN). */
void study_run_metrics(const study_run *r, double target, double out[STUDY_METRICS]);

/* Fills st->summary from the finished seeds. GC_ERUNTIME when out of memory. */
int study_summarize(study *st);

/* Epoch `epoch` (1-based) of run `run` over the finished seeds: the mean validation accuracy
 * (NaN where no seed has that epoch) and its t interval (NaN with fewer than two). */
void study_val_accuracy_band(const study *st, int run, int epoch, double *mean, stats_interval *ci);

void study_free(study *st);

#endif
