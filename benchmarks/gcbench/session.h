/* What one gcbench invocation works with, shared by its parts (main.c, checkpointing). */
#ifndef GCBENCH_SESSION_H
#define GCBENCH_SESSION_H

#include <stdbool.h>

#include "engine/train/checkpoint.h"
#include "engine/net/net.h"
#include "engine/train/train.h"
#include "io/input/dataset.h"
#include "io/output/jsonl.h"
#include "io/output/report.h"
#include "io/output/scaling.h"
#include "io/output/study.h"
#include "engine/net/layers/chunk_plan.h"
#include "options.h"

/* What --resume read: where to continue. */
typedef struct {
    checkpoint_file file;    /* owns the bytes the pointers below point into */
    int run_index;           /* the run in progress: 0 = first of the selected runs, 1 = gc after baseline */
    train_state state;       /* its position and accumulators (state.ips owned here) */
    run_summary base;        /* the finished baseline when run_index is 1 */
    const char *log;         /* the log as it was, to write again */
    size_t log_size;
    study study;             /* --seeds: the finished seeds; study.count is the seed in progress */
} resume_point;

typedef struct {
    const options *opt;
    const simd_kernels *kernels;
    dataset train, val;
    char data_desc[512];     /* where the images came from, for people and the log */
    jsonl_log log;
    report_history history[2]; /* --report: the epochs of the runs of the latest configuration */
    int nhistory;
    scaling_point points[OPTIONS_MAX_SCALING];
    int npoints;
    bool progress;           /* stderr is a terminal and not --quiet */
    bool epoch_lines;        /* print a line per epoch */
    int threads;             /* of the runs in progress */
    net *net;                /* the network of the runs in progress */
    int run_index;           /* which of the selected runs is training */
    run_summary base;        /* the finished baseline, once it is */
    resume_point *resume;    /* --resume: what to continue from; NULL otherwise */
    int saved_epoch, saved_step; /* the position of the last checkpoint written (-1: none) */
    const char *saved_run;
    uint64_t seed;           /* of the runs in progress: --seed, or the study's current seed */
    study study;             /* --seeds: the finished seeds */
    uint64_t saved_seed;     /* --seeds: the seed of the last checkpoint written */
    chunk_plan plan;          /* the fused layers' chunk plan of the network in progress */
    char plan_source[640];    /* where it came from: "calibrated", "cache FILE", "file FILE", ... */
} session;

/* The chosen model for the session's data, planned for the thread count now in effect
 * (session_runs.c). */
int session_build_net(session *s, net **out);

/* The header lines and the config record, once (session_runs.c). */
void session_describe(session *s, const net *n, const pin_report *pin);

/* "compare", "gc" or "baseline". */
const char *session_runs_name(const options *opt);

/* SIGINT and SIGTERM stop training after the current step (saving a checkpoint); the signal
 * that did, 0 until one does (session_runs.c). */
void session_catch_stop_signals(void);
int session_stop_signal(void);

/* "2.6.3" */
const char *session_onednn_version(void);

/* --scaling: the same training at each thread count (scaling_study.c). */
int scaling_study_run(session *s);

/* The selected runs on n, from where --resume left off (session_runs.c); *ips: their mean
 * throughput. */
int train_runs(session *s, net *n, run_summary *base, run_summary *gc, double *ips);

/* --seeds: the paired comparisons of seeds --seed.. one after the other on every rank (each
 * a train_runs), then the statistics: console, log and the study for --report. Continues a
 * study from --resume (the seeds finished before it are in the checkpoint). */
int seed_study_run(session *s, net *n);

/* Chooses n's chunk plan (before net_plan): --plan FILE, GCBENCH_CHUNK_IMAGES (every layer that
 * many images, oneDNN's first implementations), the cached plan of this machine and
 * configuration, or a calibration, then cached (plan_session.c). */
int session_choose_plan(session *s, net *n);

/* The plan's log record (after the config record), and the plan for people (unless --quiet). */
void session_log_plan(session *s, const net *n);
void session_print_plan(const session *s, const net *n);

/* Writes --checkpoint FILE: the run's state, the weights and optimizer state, the log so far,
 * the report's history and a study's finished seeds, with the configuration to check on resume. */
int session_save(session *s, const char *run, const train_state *st);

/* Reads --resume FILE, refuses it unless it was made with this configuration (the message
 * says what differs), and fills *out; the network must be planned (the weights are checked
 * against its size). */
int session_load(session *s, const char *path, resume_point *out);

/* session_load on a checkpoint already read and verified (checkpoint_read or checkpoint_parse):
 * takes *file over (zeroing it; out->file owns the bytes, on failure too, so the caller frees
 * only *out, with resume_point_free). path names the checkpoint in messages. */
int session_load_file(session *s, const char *path, checkpoint_file *file, resume_point *out);

void resume_point_free(resume_point *r);

#endif
