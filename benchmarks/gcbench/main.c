/* gcbench: trains the seed's CNN without and with Gradient Centralization, from identical
 * starting points, and compares loss, accuracy and time; or, with --scaling, measures how the
 * same training scales over thread counts. Errors are reported here, once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <oneapi/dnnl/dnnl.h>

#include "engine/runtime/dist.h"
#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
#include "engine/net/precision.h"
#include "engine/runtime/threads.h"
#include "engine/train/train.h"
#include "io/output/console.h"
#include "io/input/image_folder.h"
#include "io/output/jsonl.h"
#include "io/output/report.h"
#include "io/input/synthetic.h"
#include "options.h"
#include "session.h"

static void print_results(const options *opt, const run_summary *base, const run_summary *gc)
{
    if (dist_rank() != 0) return; /* rank 0 speaks for all */
    char setup[320];
    options_setup_text(opt, setup, sizeof setup);
    if (opt->run_baseline && opt->run_gc)
        console_comparison(stdout, base, gc, setup);
    else
        console_run_summary(stdout, opt->run_gc ? gc : base);
}

/* The log of the interrupted invocation, written again so the resumed one continues it. */
static int restore_log(session *s, const resume_point *r)
{
    if (!s->log.f || r->log_size == 0) return GC_OK;
    if (fwrite(r->log, 1, r->log_size, s->log.f) != r->log_size || fflush(s->log.f) != 0)
        return gc_fail(GC_ERUNTIME, "writing the log '%s' failed", s->log.path);
    return GC_OK;
}

/* One configuration at the thread count of --threads. */
static int run_once(session *s)
{
    pin_report pin;
    s->threads = s->opt->threads ? s->opt->threads : threads_physical_cores();
    GC_TRY(threads_setup(s->threads, s->opt->pin, &pin));
    net *n = NULL;
    run_summary base, gc;
    double ips;
    int rc = session_build_net(s, &n);
    s->net = n;
    resume_point resume = {0};
    if (rc == GC_OK && s->opt->resume_path) {
        rc = session_load(s, s->opt->resume_path, &resume);
        if (rc == GC_OK) rc = restore_log(s, &resume);
        if (rc == GC_OK) s->resume = &resume;
    }
    if (rc == GC_OK) {
        session_describe(s, n, &pin);
        rc = s->opt->seeds ? seed_study_run(s, n) : train_runs(s, n, &base, &gc, &ips);
    }
    if (rc == GC_OK && !s->opt->seeds) print_results(s->opt, &base, &gc);
    s->resume = NULL;
    resume_point_free(&resume);
    net_destroy(n);
    s->net = NULL;
    return rc;
}

/* The training and validation images: PNG class folders, or the synthetic set. */
static int load_data(session *s)
{
    const options *opt = s->opt;
    if (!opt->data_dir && !opt->train_dir) {
        snprintf(s->data_desc, sizeof s->data_desc, "synthetic (seed %llu)", (unsigned long long)opt->seed);
        /* One process keeps every image; a rank draws its share of each batch when it needs it. */
        int (*make)(dataset *, uint64_t, uint64_t, size_t, int) =
            dist_ranks() > 1 ? synthetic_dataset_on_demand : synthetic_dataset;
        GC_TRY(make(&s->train, opt->seed, 0, (size_t)opt->train_images, opt->image_size));
        return make(&s->val, opt->seed, SYNTHETIC_VAL_BASE, (size_t)opt->val_images, opt->image_size);
    }
    image_folder_options fo = {.image_size = opt->image_size, .skip_invalid = opt->skip_invalid,
                               .on_demand = dist_ranks() > 1}; /* a rank reads its share of each batch */
    image_folder_report fr;
    const char *where = opt->data_dir ? opt->data_dir : opt->train_dir;
    if (opt->data_dir) {
        snprintf(s->data_desc, sizeof s->data_desc, "%s", opt->data_dir);
        GC_TRY(image_folder_load_split(&s->train, &s->val, opt->data_dir, &fo, &fr));
    } else {
        snprintf(s->data_desc, sizeof s->data_desc, "%s + %s", opt->train_dir, opt->val_dir);
        GC_TRY(image_folder_load_pair(&s->train, &s->val, opt->train_dir, opt->val_dir, &fo, &fr));
    }
    GC_TRY(image_folder_require_classes(&s->train, where, s->opt->model->loss->classes, s->opt->model->name));
    if (fr.skipped)
        fprintf(stderr, "gcbench: warning: skipped %zu files that did not decode\n", fr.skipped);
    return GC_OK;
}

/* --report: the log, the per-epoch metrics and curves, and the scaling study if one ran. */
static int write_report(session *s)
{
    const options *opt = s->opt;
    char subtitle[768];
    snprintf(subtitle, sizeof subtitle, "%s %dx%d, %zu train / %zu val, batch %d, %s lr %g%s%s, %s", s->data_desc,
             opt->image_size, opt->image_size, s->train.count, s->val.count, opt->batch, opt->optimizer->label, opt->hp.lr,
             opt->gc_on_update ? ", GC on the update" : "", opt->augment ? ", augmented" : "",
             opt->nscaling ? "thread counts as shown" : "");
    if (!opt->nscaling) {
        size_t len = strlen(subtitle);
        if (dist_ranks() > 1)
            snprintf(subtitle + len, sizeof subtitle - len, "%d MPI ranks x %d threads", dist_ranks(), s->threads);
        else
            snprintf(subtitle + len, sizeof subtitle - len, "%d threads", s->threads);
    }
    report_run runs[2];
    for (int i = 0; i < s->nhistory; i++) runs[i] = report_history_run(&s->history[i]);
    GC_TRY(report_write(opt->report_dir, subtitle, runs, s->nhistory, s->points, s->npoints));
    if (opt->seeds) GC_TRY(report_write_study(opt->report_dir, subtitle, &s->study));
    if (!opt->quiet) printf("\nreport: %s (metrics.csv, curves.svg%s%s)\n", opt->report_dir,
                            s->npoints ? ", scaling.csv, scaling.svg" : "",
                            opt->seeds ? "; the last seed's runs; study.csv, study_summary.csv, study.svg" : "");
    return GC_OK;
}

static int run(session *s)
{
    const options *opt = s->opt;
    GC_TRY(simd_select(getenv("GCBENCH_SIMD"), &s->kernels));
    /* before the data is loaded: a CPU that cannot run the precision is told at once */
    if (precision_check_cpu(opt->precision) != GC_OK)
        return gc_context(GC_EUSAGE, "--precision %s", precision_name(opt->precision));
    char report_log[4096];
    const char *log_path = opt->log_path;
    if (opt->report_dir) {
        GC_TRY(report_prepare_dir(opt->report_dir));
        if (!log_path) {
            snprintf(report_log, sizeof report_log, "%s/log.jsonl", opt->report_dir);
            log_path = report_log;
        }
    }
    if (log_path) GC_TRY(jsonl_open(&s->log, log_path));
    GC_TRY(load_data(s));
    GC_TRY(opt->nscaling ? scaling_study_run(s) : run_once(s));
    return opt->report_dir ? write_report(s) : GC_OK;
}

/* "after step 3 of epoch 2 of the gc run", or "after epoch 1 of the gc run" (", seed 43" in a study). */
static void saved_position(const session *s, char *buf, size_t size)
{
    char seed[40] = "";
    if (s->opt->seeds) snprintf(seed, sizeof seed, " of seed %llu", (unsigned long long)s->saved_seed);
    if (s->saved_step > 0)
        snprintf(buf, size, "after step %d of epoch %d of the %s run%s", s->saved_step, s->saved_epoch + 1, s->saved_run, seed);
    else
        snprintf(buf, size, "after epoch %d of the %s run%s", s->saved_epoch, s->saved_run, seed);
}

/* With several ranks, rank 0 alone prints, logs, reports and writes checkpoints. */
static void quiet_other_ranks(options *opt)
{
    if (dist_rank() == 0) return;
    opt->quiet = true;
    opt->log_path = NULL;
    opt->report_dir = NULL;
    opt->help = opt->version = false;
}

/* An error, reported once by each rank that has it (naming the rank when there are several). */
static void report_error(void)
{
    fflush(stdout);
    if (dist_ranks() > 1)
        fprintf(stderr, "gcbench: rank %d of %d: error: %s\n", dist_rank(), dist_ranks(), gc_error_message());
    else
        fprintf(stderr, "gcbench: error: %s\n", gc_error_message());
}

int main(int argc, char **argv)
{
    if (dist_init(&argc, &argv) != GC_OK) {
        report_error();
        return GC_ERUNTIME;
    }
    options opt;
    int rc = options_parse(&opt, argc, argv);
    if (rc == GC_OK) quiet_other_ranks(&opt);
    if (rc == GC_OK && (opt.help || opt.version)) {
        if (opt.help) options_usage(stdout);
        else printf("gcbench %s (oneDNN %s)\n", GCBENCH_VERSION, session_onednn_version());
        dist_finalize();
        return 0;
    }
    session s = {.opt = &opt, .saved_epoch = -1, .seed = opt.seed};
    s.progress = !opt.quiet && isatty(STDERR_FILENO);
    s.epoch_lines = !opt.quiet && opt.nscaling == 0;
    if (rc == GC_OK && opt.checkpoint_path) { /* stop after the current step, saving */
        session_catch_stop_signals();
    }
    if (rc == GC_OK) rc = run(&s);
    bool interrupted = rc == GC_EINTERRUPTED, note_checkpoint = rc == GC_ERUNTIME && s.saved_epoch >= 0;
    if (interrupted) {
        fflush(stdout);
        if (s.progress) console_progress_clear(stderr);
        char where[128];
        saved_position(&s, where, sizeof where);
        if (dist_rank() == 0)
            fprintf(stderr, "gcbench: interrupted by %s %s; the state is saved in '%s': run the same command with "
                        "--resume %s to continue\n",
                session_stop_signal() == SIGTERM ? "SIGTERM" : "SIGINT", where, opt.checkpoint_path, opt.checkpoint_path);
        gc_error_clear();
    }
    /* One cleanup path, whatever happened. */
    int close_rc = jsonl_close(&s.log);
    if (rc == GC_OK) rc = close_rc;
    dataset_free(&s.val);
    dataset_free(&s.train);
    for (int i = 0; i < 2; i++) report_history_free(&s.history[i]);
    study_free(&s.study);
    if (interrupted) { /* every rank stopped at the same step, saved and got here */
        dist_finalize();
        return GC_ERUNTIME;
    }
    if (rc != GC_OK) {
        report_error();
        if (note_checkpoint && dist_rank() == 0) {
            char where[128];
            saved_position(&s, where, sizeof where);
            fprintf(stderr, "gcbench: the last checkpoint, '%s' (%s), is intact\n", opt.checkpoint_path, where);
        }
        dist_abort(rc); /* the other ranks would wait for this one in their next collective */
        return rc;
    }
    dist_finalize();
    return 0;
}
