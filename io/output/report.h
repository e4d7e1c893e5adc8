/* `gcbench --report DIR`: the files a person opens after a run.
 *   metrics.csv   one row per run and epoch (when there are runs)
 *   curves.svg    loss and accuracy per epoch, training and validation, each run
 *   scaling.csv   threads, images/s, speedup, efficiency (when a scaling study ran)
 *   scaling.svg   images/s against threads beside ideal linear scaling, and efficiency
 *   study.csv, study_summary.csv, study.svg   a seed study (report_write_study)
 * Each file is written as FILE.tmp, flushed, synced and renamed over FILE: a reader, or a
 * crash, sees the old file or the whole new one, never half of one. */
#ifndef GCBENCH_IO_REPORT_H
#define GCBENCH_IO_REPORT_H

#include <stddef.h>

#include "engine/train/train.h"
#include "io/output/scaling.h"
#include "io/output/study.h"

#define REPORT_MAX_RUNS 8

/* One run's history. */
typedef struct {
    const char *run; /* "baseline", "gc" */
    gc_scope scope;
    int nepochs;
    const epoch_result *epochs; /* their run and profile pointers are NULL: see report_run.run */
} report_run;

/* A run's epochs as they come, appended from the training observer's epoch_end (it allocates,
 * but only at epoch end, outside the training step). */
typedef struct {
    char run[32];
    gc_scope scope;
    epoch_result *epochs;
    int nepochs, capacity;
} report_history;

/* Starts an empty history of run `run` (copied). */
void report_history_init(report_history *h, const char *run, gc_scope scope);

/* Appends an epoch; GC_ERUNTIME when out of memory (the earlier epochs are kept). */
int report_history_add(report_history *h, const epoch_result *r);

/* The history as report_write takes it; valid until the next add or free. */
report_run report_history_run(const report_history *h);

/* Frees the epochs; the history is empty afterwards. */
void report_history_free(report_history *h);

/* Creates dir and its parents if missing, and checks that it is a writable directory:
 * GC_EUSAGE naming it otherwise. Call it before training so a bad --report fails early. */
int report_prepare_dir(const char *dir);

/* "AMD EPYC 7R13, 16 cores, 32 logical CPUs, Linux 6.1.0 x86_64": what scaling.svg says about
 * the machine (best effort: what cannot be read is left out). */
void report_machine(char *buf, size_t size);

/* Writes the report into dir (report_prepare_dir first): metrics.csv and curves.svg when nruns
 * > 0 (at most REPORT_MAX_RUNS), scaling.csv and scaling.svg when npoints > 0. subtitle
 * describes the configuration ("synthetic 300x300, 1027 train / 256 val, batch 128, ...");
 * scaling.svg adds a line from report_machine. GC_EUSAGE naming the directory when it cannot
 * be created or is not one; GC_ERUNTIME naming the file when a write fails. */
int report_write(const char *dir, const char *subtitle, const report_run *runs, int nruns,
                 const scaling_point *points, int npoints);

/* A seed study into dir (report_prepare_dir first), after study_summarize:
 *   study.csv          one row per seed and metric: seed, metric, baseline, gc, difference
 *   study_summary.csv  one row per metric: the paired statistics and the verdict
 *   study.svg          validation accuracy per epoch of every seed's two runs (thin lines) with
 *                      each run's mean and 95% band; and each seed's paired difference in the
 *                      mean validation accuracy of the last 3 epochs, with its mean and 95% t
 *                      interval. */
int report_write_study(const char *dir, const char *subtitle, const study *st);

#endif
