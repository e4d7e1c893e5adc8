/* The JSON Lines log (`gcbench --log FILE`): one object per line, the contract in README.md ("The log").
 *   {"event":"config", ...}      once, first
 *   {"event":"run_start", ...}   per run: run, gc_scope, init_checksum
 *   {"event":"epoch", ...}       per epoch: loss, accuracy, val_loss, val_accuracy, seconds, images_per_second
 *   {"event":"summary", ...}     per run: final metrics and train_seconds
 *   {"event":"scaling", ...}     per thread count of a scaling study
 *   {"event":"study", ...}       per seed of a seed study ("kind":"seed"), then its summary
 * Fields may be added; the ones above are never renamed or dropped. */
#ifndef GCBENCH_IO_JSONL_H
#define GCBENCH_IO_JSONL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/net/net.h"
#include "engine/train/train.h"
#include "io/output/scaling.h"
#include "io/output/study.h"

typedef struct {
    const char *version;
    int ranks;            /* MPI processes (1 without MPI); `threads` is per rank */
    int threads;
    const char *simd;
    const char *pin;
    const int *cpus;      /* PU of each of `threads` threads when pinned, else NULL */
    const char *onednn;
    const char *layout;
    int batch, epochs, image_size;
    size_t train_images, val_images;
    uint64_t seed;
    const char *dataset;
    bool augment;
    const char *runs;     /* "compare", "baseline" or "gc" */
    const char *gc_scope; /* of the GC run */
    double lr, rho, eps;
    const char *optimizer;       /* "adam" */
    const char *hyperparameters; /* what the optimizer reads, for people: "lr 0.001 beta_1 0.9 ..." */
    const char *gc_on;           /* "gradient" or "update" */
    double momentum, beta1, beta2, initial_accumulator, weight_decay;
    bool nesterov;
    const char *weight_decay_form; /* "decoupled" or "coupled" */
    size_t params;
    const char *precision;  /* "fp32" or "bf16" */
    const char *onednn_isa; /* the ISA oneDNN dispatches to ("avx512_core_bf16") */
    const char *cpu_bf16;   /* the CPU's bf16 instructions ("AVX512-BF16", "none") */
} config_record;

typedef struct {
    FILE *f;
    char path[4096];
    bool failed; /* a write failed: reported once, by jsonl_close */
} jsonl_log;

/* Opens (truncates) path; GC_EUSAGE naming the file when it cannot be created. */
int jsonl_open(jsonl_log *log, const char *path);

/* Flushes and closes; GC_ERUNTIME naming the file if any write failed. */
int jsonl_close(jsonl_log *log);

void jsonl_config(jsonl_log *log, const config_record *c);
void jsonl_run_start(jsonl_log *log, const char *run, const char *scope, uint64_t init_checksum, int threads);
void jsonl_epoch(jsonl_log *log, const epoch_result *r);
void jsonl_summary(jsonl_log *log, const run_summary *s);
void jsonl_scaling(jsonl_log *log, const scaling_point *p);
/* {"event":"profile","run":..,"epoch":..,"steps":..,"step_seconds":..,"data_wait":..,"loss":..,
 *  "optimizer":..,"layers":[{"layer":..,"forward":..,"backward":..},...]} */
void jsonl_profile(jsonl_log *log, const net *n, const epoch_result *r);

/* {"event":"study","kind":"seed","index":i,"seed":..,"baseline":{metric:..},"gc":{..},"difference":{..}}
 * for the finished seed st->seeds[index]. */
void jsonl_study_seed(jsonl_log *log, const study *st, int index);
/* {"event":"study","kind":"summary","seeds":..,"first_seed":..,"target_accuracy":..,"level":0.95,
 *  "bootstrap_resamples":..,"bootstrap_seed":..,"metrics":{metric:{"n":..,"baseline_mean":..,
 *  "gc_mean":..,"mean_difference":..,"sd_difference":..,"t_low":..,"t_high":..,"bootstrap_low":..,
 *  "bootstrap_high":..,"sign_p":..,"wilcoxon_p":..,"wilcoxon_exact":..,"wins":..,"ties":..,
 *  "losses":..,"verdict":..},...}} after study_summarize. */
void jsonl_study_summary(jsonl_log *log, const study *st);

/* Writes a JSON string literal (quoted, escaped). */
void json_string(FILE *f, const char *s);

/* Writes [a,b,...], or null when v is NULL. */
void json_int_array(FILE *f, const int *v, int n);

/* Writes a number, or null when it is not finite. */
void json_number(FILE *f, double x);

#endif
