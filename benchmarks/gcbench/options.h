/* gcbench's command line. */
#ifndef GCBENCH_OPTIONS_H
#define GCBENCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/net/model.h"
#include "engine/net/precision.h"
#include "engine/optim/optimizer.h"
#include "engine/runtime/threads.h"

#define OPTIONS_MAX_SCALING 32

typedef struct {
    int threads;        /* 0: one per physical core */
    pin_policy pin;
    int scaling[OPTIONS_MAX_SCALING]; /* --scaling: thread counts to run, in order */
    int nscaling;                     /* 0: no scaling study */
    const model_desc *model; /* --model: the network to train */
    bool run_baseline;  /* --no-gc or --compare */
    bool run_gc;        /* --gc or --compare */
    gc_scope scope;     /* --gc-scope: of the GC run */
    int epochs;
    int batch;
    const optimizer_desc *optimizer; /* --optimizer, and its hyperparameters (--lr, ...): its defaults
                                      * where no flag was given */
    opt_hparams hp;
    bool gc_on_update;  /* --gc-on update: GC centralizes the optimizer's step, not the gradient */
    uint64_t seed;
    int image_size;
    precision precision; /* --precision: fp32 (default) or bf16 */
    long train_images;
    long val_images;
    const char *data_dir;  /* --data: DIR/train and DIR/validation class folders */
    const char *train_dir; /* --train-dir and --val-dir: two class-folder trees */
    const char *val_dir;
    bool skip_invalid;     /* skip undecodable PNG files instead of failing */
    bool augment;          /* the seed's augmentation on training images (--no-augment: off) */
    const char *log_path;  /* NULL: no log (with --report, DIR/log.jsonl) */
    const char *report_dir; /* --report: log, metrics.csv, curves.svg (and scaling.*) */
    const char *checkpoint_path; /* --checkpoint: saved after every epoch and on SIGINT/SIGTERM */
    const char *resume_path;     /* --resume: continue from this checkpoint */
    const char *plan_path;       /* --plan: the chunk plan to replay; NULL: calibrated (cached) */
    bool quiet;
    bool unfused;
    bool profile;        /* --profile: per-phase time of every epoch */        /* --unfused: one layer per Keras layer (for checking the fused path) */
    int seeds;           /* --seeds: a paired study over seeds seed..seed+seeds-1; 0: none */
    double target_accuracy; /* --target-accuracy: the study's threshold of val_accuracy; 0: none */
    bool help, version;   /* print and exit 0 */
} options;

/* Fills o from argv. On a bad flag or value returns GC_EUSAGE with a message naming it. */
int options_parse(options *o, int argc, char **argv);

/* "Adam lr 0.001 beta_1 0.9 beta_2 0.999 eps 1e-07; gc on the gradient": the optimizer, its
 * hyperparameters and where GC acts, for people. */
void options_setup_text(const options *o, char *buf, size_t size);

/* The --help text. */
void options_usage(FILE *f);

#endif
