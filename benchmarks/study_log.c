/* study_log: a seed study rebuilt from a log, with gcbench's own statistics and writers.
 *
 *   study_log LOG [--target-accuracy X] [--report DIR] [--quiet]
 *
 * LOG is JSON Lines in gcbench's log contract (README, "The log"): run_start, epoch and summary
 * records, a baseline run then a gc run per seed. gcbench --seeds writes such a log, and so does
 * benchmarks/peers/torch_peer.py --seeds: the PyTorch study then goes through the same code as
 * gcbench's (io/output/study.c, engine/stats), and prints the same tables and charts. A seed is
 * the run_start's "seed" field when it has one, else the config's seed plus the pair's index;
 * the seeds must follow one another (S, S+1, ...). The target accuracy is --target-accuracy, else
 * the one of the log's study summary record, else none.
 *
 * Prints the study's tables (console_study); --report DIR writes study.csv, study_summary.csv
 * and study.svg as gcbench --report does. Exit 2 naming the file and line for a log that is not
 * such a study, 1 when a file cannot be written. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "io/output/console.h"
#include "io/output/report.h"
#include "io/output/study.h"
#include "log_fields.h"

#define MAX_EPOCHS 100000

typedef struct {
    const char *log, *report_dir;
    double target;
    bool quiet;
} study_log_options;

/* The pieces of the log the study needs. */
typedef struct {
    const char *path;
    long line;
    char dataset[512], engine[64];
    double seed, image_size, train_images, val_images, batch, lr, threads;
    char augment[32];
    double target; /* of a study summary record; 0 when none */
    bool have_config;
    /* the run being read */
    int run;         /* STUDY_BASELINE, STUDY_GC, or -1 between runs */
    double run_seed; /* NaN when run_start had none */
    study_run cur;
    int capacity;
    /* the finished baseline waiting for its gc run */
    study_run base;
    double base_seed;
    bool have_base;
    /* finished pairs */
    study_run (*pairs)[2];
    double *pair_seed;
    int npairs, pairs_capacity;
} log_reader;

static int usage(const char *msg)
{
    return gc_fail(GC_EUSAGE, "%s\nusage: study_log LOG [--target-accuracy X] [--report DIR] [--quiet]", msg);
}

static int parse(int argc, char **argv, study_log_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--report") == 0 || strcmp(a, "--target-accuracy") == 0) {
            if (i + 1 >= argc) return gc_fail(GC_EUSAGE, "%s needs a value", a);
            const char *v = argv[++i];
            if (a[2] == 'r') {
                o->report_dir = v;
            } else {
                char *end;
                errno = 0;
                double x = strtod(v, &end);
                if (errno || end == v || *end || !(x > 0 && x <= 1))
                    return gc_fail(GC_EUSAGE, "--target-accuracy: '%s' is not a number in (0, 1]", v);
                o->target = x;
            }
        } else if (strcmp(a, "--help") == 0) {
            puts("usage: study_log LOG [--target-accuracy X] [--report DIR] [--quiet]");
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            return usage("unknown option");
        } else if (o->log) {
            return usage("one log only");
        } else {
            o->log = a;
        }
    }
    if (!o->log) return usage("no log given");
    return GC_OK;
}

static int bad(const log_reader *r, const char *what)
{
    return gc_fail(GC_EUSAGE, "%s:%ld: %s", r->path, r->line, what);
}

static int push_epoch(log_reader *r, const study_epoch *e)
{
    if (r->cur.nepochs == r->capacity) {
        if (r->capacity >= MAX_EPOCHS) return bad(r, "more epochs in one run than study_log takes");
        int cap = r->capacity ? 2 * r->capacity : 16;
        study_epoch *p = realloc(r->cur.epochs, (size_t)cap * sizeof *p);
        if (!p) return gc_fail(GC_ERUNTIME, "out of memory reading '%s'", r->path);
        r->cur.epochs = p, r->capacity = cap;
    }
    r->cur.epochs[r->cur.nepochs++] = *e;
    return GC_OK;
}

static int push_pair(log_reader *r, const study_run *gc)
{
    if (r->npairs == r->pairs_capacity) {
        int cap = r->pairs_capacity ? 2 * r->pairs_capacity : 16;
        if (cap > STUDY_MAX_SEEDS) cap = STUDY_MAX_SEEDS;
        if (r->npairs >= cap) return bad(r, "more seeds than a study takes (1000)");
        void *p = realloc(r->pairs, (size_t)cap * sizeof *r->pairs), *q = realloc(r->pair_seed, (size_t)cap * sizeof(double));
        if (p) r->pairs = p;
        if (q) r->pair_seed = q;
        if (!p || !q) return gc_fail(GC_ERUNTIME, "out of memory reading '%s'", r->path);
        r->pairs_capacity = cap;
    }
    r->pairs[r->npairs][STUDY_BASELINE] = r->base;
    r->pairs[r->npairs][STUDY_GC] = *gc;
    r->pair_seed[r->npairs++] = r->base_seed;
    r->have_base = false;
    memset(&r->base, 0, sizeof r->base);
    return GC_OK;
}

static int on_config(log_reader *r, const char *line)
{
    r->have_config = true;
    if (!log_number(line, "seed", &r->seed)) r->seed = NAN;
    if (!log_string(line, "dataset", r->dataset, sizeof r->dataset)) snprintf(r->dataset, sizeof r->dataset, "?");
    if (log_field(line, "torch") && log_string(line, "torch", r->engine + 8, sizeof r->engine - 8))
        memcpy(r->engine, "PyTorch ", 8);
    else
        snprintf(r->engine, sizeof r->engine, "gcbench");
    double *nums[] = {&r->image_size, &r->train_images, &r->val_images, &r->batch, &r->lr, &r->threads};
    static const char *const keys[] = {"image_size", "train_images", "val_images", "batch", "lr", "threads"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
        if (!log_number(line, keys[k], nums[k])) *nums[k] = NAN;
    const char *aug = log_field(line, "augment");
    snprintf(r->augment, sizeof r->augment, "%s", aug && strncmp(aug, "false", 5) != 0 ? ", augmented" : "");
    return GC_OK;
}

static int on_run_start(log_reader *r, const char *line)
{
    char run[16];
    if (r->run >= 0) return bad(r, "run_start before the previous run's summary");
    if (!log_string(line, "run", run, sizeof run)) return bad(r, "run_start without a run name");
    if (strcmp(run, "baseline") == 0) {
        if (r->have_base) return bad(r, "a baseline run follows a baseline run: each seed is a baseline then a gc run");
        r->run = STUDY_BASELINE;
    } else if (strcmp(run, "gc") == 0) {
        if (!r->have_base) return bad(r, "a gc run without a baseline before it: each seed is a baseline then a gc run");
        r->run = STUDY_GC;
    } else {
        return bad(r, "run_start of an unknown run");
    }
    if (!log_number(line, "seed", &r->run_seed)) r->run_seed = NAN;
    if (r->run == STUDY_GC && !(isnan(r->run_seed) && isnan(r->base_seed)) && r->run_seed != r->base_seed)
        return bad(r, "the gc run's seed is not its baseline's");
    r->cur.nepochs = 0;
    r->cur.train_seconds = NAN;
    return GC_OK;
}

static int on_epoch(log_reader *r, const char *line)
{
    double k;
    study_epoch e;
    if (r->run < 0) return bad(r, "an epoch record outside a run (no run_start before it)");
    if (!log_number(line, "epoch", &k) || k != r->cur.nepochs + 1) return bad(r, "epochs out of order");
    if (!log_number(line, "loss", &e.loss) || !log_number(line, "accuracy", &e.accuracy) ||
        !log_number(line, "val_loss", &e.val_loss) || !log_number(line, "val_accuracy", &e.val_accuracy))
        return bad(r, "an epoch record without loss, accuracy, val_loss and val_accuracy");
    return push_epoch(r, &e);
}

static int on_summary(log_reader *r, const char *line)
{
    if (r->run < 0) return bad(r, "a summary record outside a run");
    if (r->cur.nepochs == 0) return bad(r, "a run without epochs");
    if (!log_number(line, "train_seconds", &r->cur.train_seconds)) return bad(r, "a summary without train_seconds");
    study_run done = r->cur;
    done.epochs = malloc((size_t)done.nepochs * sizeof *done.epochs);
    if (!done.epochs) return gc_fail(GC_ERUNTIME, "out of memory reading '%s'", r->path);
    memcpy(done.epochs, r->cur.epochs, (size_t)done.nepochs * sizeof *done.epochs);
    int run = r->run;
    r->run = -1;
    if (run == STUDY_BASELINE) {
        r->base = done, r->base_seed = r->run_seed, r->have_base = true;
        return GC_OK;
    }
    int rc = push_pair(r, &done);
    if (rc != GC_OK) free(done.epochs);
    return rc;
}

static int on_line(log_reader *r, const char *line)
{
    char event[32];
    if (!log_is_object(line)) return bad(r, "not a JSON object");
    if (!log_string(line, "event", event, sizeof event)) return GC_OK; /* not a record of the contract */
    if (strcmp(event, "config") == 0) return on_config(r, line);
    if (strcmp(event, "run_start") == 0) return on_run_start(r, line);
    if (strcmp(event, "epoch") == 0) return on_epoch(r, line);
    if (strcmp(event, "summary") == 0) return on_summary(r, line);
    if (strcmp(event, "study") == 0) {
        double t;
        if (log_number(line, "target_accuracy", &t) && t > 0) r->target = t;
    }
    return GC_OK;
}

static void reader_free(log_reader *r)
{
    free(r->cur.epochs);
    free(r->base.epochs);
    for (int i = 0; i < r->npairs; i++)
        for (int k = 0; k < 2; k++) free(r->pairs[i][k].epochs);
    free(r->pairs);
    free(r->pair_seed);
}

static int read_log(log_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path, r->run = -1, r->seed = NAN;
    FILE *f = fopen(path, "r");
    if (!f) return gc_fail(GC_EUSAGE, "cannot open the log '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = GC_OK;
    while (rc == GC_OK && (len = getline(&line, &cap, f)) >= 0) {
        r->line++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (len == 0) continue;
        rc = on_line(r, line);
    }
    if (rc == GC_OK && ferror(f)) rc = gc_fail(GC_EUSAGE, "cannot read the log '%s'", path);
    free(line);
    fclose(f);
    if (rc != GC_OK) return rc;
    if (r->run >= 0) return gc_fail(GC_EUSAGE, "%s: the last run has no summary record (an unfinished log?)", path);
    if (r->have_base) return gc_fail(GC_EUSAGE, "%s: the last seed's baseline has no gc run (an unfinished log?)", path);
    if (r->npairs == 0) return gc_fail(GC_EUSAGE, "%s: no baseline and gc pair of runs", path);
    return GC_OK;
}

/* The seeds of the pairs: the run_start's, else the config's plus the index; consecutive. */
static int pair_seeds(const log_reader *r, double *first)
{
    for (int i = 0; i < r->npairs; i++) {
        double s = r->pair_seed[i];
        if (isnan(s)) s = isnan(r->seed) ? (double)i : r->seed + i;
        if (i == 0) *first = s;
        if (s != *first + i || s < 0)
            return gc_fail(GC_EUSAGE, "%s: the pairs' seeds must follow one another; pair %d has seed %.0f after %.0f",
                           r->path, i + 1, s, *first);
    }
    return GC_OK;
}

static int run(const study_log_options *o)
{
    log_reader r;
    study st = {0};
    int rc = read_log(&r, o->log);
    double first = 0;
    if (rc == GC_OK) rc = pair_seeds(&r, &first);
    if (rc == GC_OK) rc = study_init(&st, (uint64_t)first, r.npairs, o->target ? o->target : r.target);
    for (int i = 0; rc == GC_OK && i < r.npairs; i++) rc = study_add(&st, r.pairs[i]);
    if (rc == GC_OK) rc = study_summarize(&st);
    if (rc == GC_OK && !o->quiet) {
        printf("study_log: %s, %s, %d seeds\n", o->log, r.engine[0] ? r.engine : "gcbench", st.count);
        console_study(stdout, &st);
    }
    if (rc == GC_OK && o->report_dir) {
        char subtitle[768];
        snprintf(subtitle, sizeof subtitle, "%s: %s %.0fx%.0f, %.0f train / %.0f val, batch %.0f, lr %g%s, %.0f threads",
                 r.engine[0] ? r.engine : "gcbench", r.dataset, r.image_size, r.image_size, r.train_images,
                 r.val_images, r.batch, r.lr, r.augment, r.threads);
        rc = report_write_study(o->report_dir, r.have_config ? subtitle : "", &st);
    }
    study_free(&st);
    reader_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    study_log_options o;
    int rc = parse(argc, argv, &o);
    if (rc == GC_OK) rc = run(&o);
    if (rc != GC_OK) fprintf(stderr, "study_log: error: %s\n", gc_error_message());
    return rc;
}
