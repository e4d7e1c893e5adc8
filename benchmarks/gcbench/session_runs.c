/* The runs of a session: the network for the chosen model, the header and config record,
 * and the selected runs trained with the observer that prints, logs, records the report's
 * history and saves checkpoints; the stop signals that end training after a step. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
#include "engine/net/precision.h"
#include "engine/runtime/dist.h"
#include "engine/runtime/threads.h"
#include "engine/train/train.h"
#include "io/output/console.h"
#include "io/output/jsonl.h"
#include "io/output/report.h"
#include "session.h"

/* The signal that asked to stop (SIGINT or SIGTERM), 0 until one does. */
static volatile sig_atomic_t stop_signal;

int session_stop_signal(void) { return stop_signal; }

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    signal(sig, SIG_DFL); /* a second one stops at once */
}

static void on_run_start(void *ctx, const char *run, gc_scope scope, uint64_t checksum)
{
    session *s = ctx;
    bool resumed = s->resume && s->run_index == s->resume->run_index;
    if (resumed) {
        if (s->epoch_lines)
            printf("\n[%s] resuming at epoch %d, step %d\n", run, s->resume->state.epoch + 1, s->resume->state.step + 1);
        return; /* its run_start record and history are in the checkpoint */
    }
    if ((s->opt->report_dir || s->opt->seeds) && s->nhistory < 2) report_history_init(&s->history[s->nhistory++], run, scope);
    jsonl_run_start(&s->log, run, scope == GC_SCOPE_NONE ? NULL : gc_scope_name(scope), checksum, s->threads);
    if (s->epoch_lines)
        printf("\n[%s] training %s GC%s%s\n", run, scope == GC_SCOPE_NONE ? "without" : "with",
               scope == GC_SCOPE_NONE ? "" : ", scope ", scope == GC_SCOPE_NONE ? "" : gc_scope_name(scope));
}

static int on_save(void *ctx, const char *run, const train_state *st)
{
    return session_save(ctx, run, st);
}

/* Every rank stops at the same step: a signal reaching one rank first is shared. Without
 * --checkpoint no handler is installed (a signal ends the process), so there is nothing to ask. */
static bool on_stop_requested(void *ctx)
{
    const session *s = ctx;
    if (!s->opt->checkpoint_path) return false;
    double stop = stop_signal != 0;
    if (dist_sum_doubles(&stop, 1) != GC_OK) gc_error_clear(); /* keep going: the next allreduce reports it */
    return stop > 0.0;
}

static void on_step_end(void *ctx, const char *run, int epoch, int step, int steps, double elapsed)
{
    session *s = ctx;
    if (s->progress) console_progress(stderr, run, epoch, s->opt->epochs, step, steps, elapsed);
}

static void on_epoch_end(void *ctx, const epoch_result *e)
{
    session *s = ctx;
    if (s->progress) console_progress_clear(stderr);
    if (s->epoch_lines) console_epoch(stdout, e);
    jsonl_epoch(&s->log, e);
    if (e->profile) {
        jsonl_profile(&s->log, s->net, e);
        if (!s->opt->quiet && e->epoch == e->epochs) console_profile(stdout, s->net, e);
    }
    /* A failed append only thins the chart; the training result stands. */
    if (s->nhistory > 0 && report_history_add(&s->history[s->nhistory - 1], e) != GC_OK) gc_error_clear();
}

static void on_run_end(void *ctx, const run_summary *r)
{
    session *s = ctx;
    jsonl_summary(&s->log, r);
}

const char *session_onednn_version(void)
{
    static char version[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
    return version;
}

const char *session_runs_name(const options *opt)
{
    return opt->run_baseline && opt->run_gc ? "compare" : opt->run_gc ? "gc" : "baseline";
}

/* The chosen model for the session's data, planned for the thread count now in effect (oneDNN
 * fixes its work split when it creates a primitive). */
int session_build_net(session *s, net **out)
{
    int size = s->opt->image_size;
    GC_TRY(net_create(out, (act_shape){3, 3, size, size}, dnnl_format_tag_any));
    dnnl_data_type_t dt = precision_dt(s->opt->precision);
    if (net_set_precision(*out, dt, dt) != GC_OK)
        return gc_context(GC_EUSAGE, "--precision %s", precision_name(s->opt->precision));
    GC_TRY(model_build(s->opt->model, *out, !s->opt->unfused));
    GC_TRY(session_choose_plan(s, *out));
    int sizes[4], count = train_batch_sizes(s->opt->batch, s->train.count, s->val.count, sizes);
    int rc = net_plan(*out, sizes, count);
    /* a plan may name an implementation this machine lacks; bf16 needs the fused layers */
    if (rc == GC_EUSAGE && s->opt->plan_path) return gc_context(rc, "--plan '%s'", s->opt->plan_path);
    if (rc == GC_EUSAGE && s->opt->unfused && s->opt->precision != PRECISION_FP32)
        return gc_context(rc, "--precision %s with --unfused", precision_name(s->opt->precision));
    return rc;
}

/* The header lines and the config record, once. */
void session_describe(session *s, const net *n, const pin_report *pin)
{
    const options *opt = s->opt;
    char hparams[256];
    opt->optimizer->describe(&opt->hp, 6, hparams, sizeof hparams);
    config_record cfg = {
        .version = GCBENCH_VERSION, .ranks = dist_ranks(), .threads = pin->threads, .simd = s->kernels->isa,
        .pin = pin->pinned ? pin_policy_name(pin->policy) : "none", .cpus = pin->pinned ? pin->cpu : NULL,
        .onednn = session_onednn_version(), .layout = net_layout_name(n->act_tag), .batch = opt->batch,
        .epochs = opt->epochs, .image_size = opt->image_size, .train_images = s->train.count,
        .val_images = s->val.count, .seed = opt->seed, .dataset = s->data_desc, .augment = opt->augment,
        .runs = session_runs_name(opt),
        .gc_scope = gc_scope_name(opt->scope), .lr = opt->hp.lr, .rho = opt->hp.rho, .eps = opt->hp.eps,
        .params = n->params.count, .optimizer = opt->optimizer->name, .hyperparameters = hparams,
        .gc_on = gc_on_name(opt->gc_on_update), .momentum = opt->hp.momentum, .nesterov = opt->hp.nesterov,
        .beta1 = opt->hp.beta1, .beta2 = opt->hp.beta2, .initial_accumulator = opt->hp.initial_accumulator,
        .weight_decay = opt->hp.weight_decay, .weight_decay_form = opt->hp.wd_coupled ? "coupled" : "decoupled",
        .precision = precision_name(opt->precision), .onednn_isa = precision_onednn_isa(),
        .cpu_bf16 = precision_cpu_bf16(),
    };
    if (!s->resume || s->resume->log_size == 0) jsonl_config(&s->log, &cfg);
    session_log_plan(s, n);
    if (pin->note[0] && dist_rank() == 0) {
        fflush(stdout);
        fprintf(stderr, "gcbench: warning: %s\n", pin->note);
    }
    if (opt->quiet) return;
    printf("gcbench %s: Gradient Centralization training benchmark\n", GCBENCH_VERSION);
    char held[48] = "made on demand";
    if (s->train.pixels)
        snprintf(held, sizeof held, "%.0f MB in memory",
                 (double)(s->train.count + s->val.count) * (double)dataset_image_bytes(&s->train) / 1e6);
    printf("data:     %s: %zu train, %zu validation images, %dx%dx3, %s; classes %s (%zu), %s (%zu); augmentation %s\n",
           s->data_desc, s->train.count, s->val.count, opt->image_size, opt->image_size, held,
           s->train.class_names[0], dataset_class_count(&s->train, 0), s->train.class_names[1],
           dataset_class_count(&s->train, 1), opt->augment ? "on" : "off");
    char ranks[32] = "";
    if (cfg.ranks > 1) snprintf(ranks, sizeof ranks, "%d MPI ranks x ", cfg.ranks);
    printf("engine:   oneDNN %s, %s%d thread%s (pin %s), activations %s, GC/optimizer kernels %s, %.0f MB of activations\n",
           cfg.onednn, ranks, cfg.threads, cfg.threads == 1 ? "" : "s", cfg.pin, cfg.layout, cfg.simd, (double)net_activation_bytes(n) / 1e6);
    printf("compute:  precision %s, oneDNN ISA %s, CPU bf16 instructions: %s\n", cfg.precision, cfg.onednn_isa,
           cfg.cpu_bf16);
    char hp[256];
    opt->optimizer->describe(&opt->hp, 6, hp, sizeof hp);
    printf("training: %s, %d epochs, batch %d, %s %s, seed %llu; gc scope %s, on the %s\n\n", cfg.runs, opt->epochs,
           opt->batch, opt->optimizer->label, hp, (unsigned long long)opt->seed, cfg.gc_scope, cfg.gc_on);
    session_print_plan(s, n);
    net_summary(n, stdout);
    fflush(stdout);
}

int train_runs(session *s, net *n, run_summary *base, run_summary *gc, double *ips)
{
    const options *opt = s->opt;
    train_observer obs = {s, on_run_start, on_step_end, on_epoch_end, on_run_end, on_save, on_stop_requested};
    s->net = n;
    if (!s->resume) { /* the report shows the latest configuration's runs */
        s->nhistory = 0;
        for (int i = 0; i < 2; i++) report_history_free(&s->history[i]);
    }
    train_config tc = {.epochs = opt->epochs, .batch = opt->batch, .seed = s->seed, .augment = opt->augment,
                       .profile = opt->profile,
                       .optimizer = opt->optimizer, .hp = opt->hp, .kernels = s->kernels};
    tc.gc_on_update = opt->gc_on_update;
    const char *names[2];
    gc_scope scopes[2];
    run_summary *outs[2];
    int runs = 0;
    if (opt->run_baseline) names[runs] = "baseline", scopes[runs] = GC_SCOPE_NONE, outs[runs++] = base;
    if (opt->run_gc) names[runs] = "gc", scopes[runs] = opt->scope, outs[runs++] = gc;

    int first = 0;
    const train_state *resume = NULL;
    if (s->resume) {
        first = s->resume->run_index;
        resume = &s->resume->state;
        /* session_load put the weights and the optimizer state into n */
        if (first == 1) *base = s->base = s->resume->base;
        base->run = "baseline", base->scope = GC_SCOPE_NONE, base->epochs = opt->epochs;
    }
    double sum = 0.0;
    for (int r = first; r < runs; r++) {
        s->run_index = r;
        GC_TRY(train_run(n, &s->train, &s->val, &tc, names[r], scopes[r], &obs, r == first ? resume : NULL, outs[r]));
        if (r == 0) s->base = *outs[0];
    }
    for (int r = 0; r < runs; r++) sum += outs[r]->images_per_second;
    *ips = sum / runs;
    return GC_OK;
}

void session_catch_stop_signals(void)
{
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
}
