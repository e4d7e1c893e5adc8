/* gcbench: trains the seed's CNN without and with Gradient Centralization, from identical
 * starting points, and compares loss, accuracy and time. Errors are reported here, once. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <oneapi/dnnl/dnnl.h>

#include "engine/error.h"
#include "engine/model.h"
#include "engine/net.h"
#include "engine/threads.h"
#include "engine/train.h"
#include "io/console.h"
#include "io/jsonl.h"
#include "io/synthetic.h"
#include "options.h"

/* Everything the training observer writes to. */
typedef struct {
    const options *opt;
    jsonl_log *log;
    bool progress; /* stderr is a terminal and not --quiet */
} reporter;

static void on_run_start(void *ctx, const char *run, gc_scope scope, uint64_t checksum)
{
    reporter *r = ctx;
    jsonl_run_start(r->log, run, scope == GC_SCOPE_NONE ? NULL : gc_scope_name(scope), checksum);
    if (!r->opt->quiet) printf("\n[%s] training %s GC%s%s\n", run, scope == GC_SCOPE_NONE ? "without" : "with",
                               scope == GC_SCOPE_NONE ? "" : ", scope ", scope == GC_SCOPE_NONE ? "" : gc_scope_name(scope));
}

static void on_step_end(void *ctx, const char *run, int epoch, int step, int steps, double elapsed)
{
    reporter *r = ctx;
    if (r->progress) console_progress(stderr, run, epoch, r->opt->epochs, step, steps, elapsed);
}

static void on_epoch_end(void *ctx, const epoch_result *e)
{
    reporter *r = ctx;
    if (r->progress) console_progress_clear(stderr);
    if (!r->opt->quiet) console_epoch(stdout, e);
    jsonl_epoch(r->log, e);
}

static void on_run_end(void *ctx, const run_summary *s)
{
    reporter *r = ctx;
    jsonl_summary(r->log, s);
}

static char onednn_version[32];

static const char *onednn_version_string(void)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(onednn_version, sizeof onednn_version, "%d.%d.%d", v->major, v->minor, v->patch);
    return onednn_version;
}

/* The whole program after parsing; returns an exit status with the message pending. */
static int run(const options *opt, jsonl_log *log)
{
    GC_TRY(threads_set(opt->threads ? opt->threads : threads_physical_cores()));
    const simd_kernels *kernels;
    int rc = simd_select(getenv("GCBENCH_SIMD"), &kernels);
    if (rc != GC_OK) return rc;
    if (opt->log_path) GC_TRY(jsonl_open(log, opt->log_path));

    dataset train = {0}, val = {0};
    net *n = NULL;
    rc = synthetic_dataset(&train, opt->seed, 0, (size_t)opt->train_images, opt->image_size);
    if (rc == GC_OK) rc = synthetic_dataset(&val, opt->seed, SYNTHETIC_VAL_BASE, (size_t)opt->val_images, opt->image_size);
    if (rc == GC_OK) rc = net_create(&n, (act_shape){3, 3, opt->image_size, opt->image_size}, dnnl_format_tag_any);
    if (rc == GC_OK) rc = model_build_seed_cnn(n);
    int sizes[4], nsizes = train_batch_sizes(opt->batch, train.count, val.count, sizes);
    if (rc == GC_OK) rc = net_plan(n, sizes, nsizes);
    if (rc != GC_OK) goto done;

    const char *runs = opt->run_baseline && opt->run_gc ? "compare" : opt->run_gc ? "gc" : "baseline";
    config_record cfg = {
        .version = GCBENCH_VERSION, .threads = threads_current(), .simd = kernels->isa, .pin = "none",
        .onednn = onednn_version_string(), .layout = net_layout_name(n->act_tag), .batch = opt->batch,
        .epochs = opt->epochs, .image_size = opt->image_size, .train_images = train.count,
        .val_images = val.count, .seed = opt->seed, .dataset = "synthetic", .runs = runs,
        .gc_scope = gc_scope_name(opt->scope), .lr = opt->lr, .rho = 0.9, .eps = 1e-7,
        .params = n->params.count,
    };
    jsonl_config(log, &cfg);
    if (!opt->quiet) {
        printf("gcbench %s: Gradient Centralization training benchmark\n", GCBENCH_VERSION);
        printf("data:     synthetic (seed %llu): %zu train, %zu validation images, %dx%dx3; classes %s (%zu), %s (%zu)\n",
               (unsigned long long)opt->seed, train.count, val.count, opt->image_size, opt->image_size,
               train.class_names[0], dataset_class_count(&train, 0), train.class_names[1],
               dataset_class_count(&train, 1));
        printf("engine:   oneDNN %s, %d threads, activations %s, GC/RMSprop kernels %s, %.0f MB of activations\n",
               cfg.onednn, cfg.threads, cfg.layout, cfg.simd, (double)net_activation_bytes(n) / 1e6);
        printf("training: %s, %d epochs, batch %d, RMSprop lr %g rho 0.9 eps 1e-7, seed %llu\n\n", runs,
               opt->epochs, opt->batch, opt->lr, (unsigned long long)opt->seed);
        net_summary(n, stdout);
        fflush(stdout);
    }

    reporter rep = {.opt = opt, .log = log, .progress = !opt->quiet && isatty(STDERR_FILENO)};
    train_observer obs = {&rep, on_run_start, on_step_end, on_epoch_end, on_run_end};
    train_config tc = {.epochs = opt->epochs, .batch = opt->batch, .seed = opt->seed,
                       .hp = {.lr = (float)opt->lr, .rho = 0.9f, .eps = 1e-7f}, .kernels = kernels};
    run_summary base, gc;
    if (opt->run_baseline && (rc = train_run(n, &train, &val, &tc, "baseline", GC_SCOPE_NONE, &obs, &base)) != GC_OK)
        goto done;
    if (opt->run_gc && (rc = train_run(n, &train, &val, &tc, "gc", opt->scope, &obs, &gc)) != GC_OK) goto done;

    if (opt->run_baseline && opt->run_gc)
        console_comparison(stdout, &base, &gc);
    else
        console_run_summary(stdout, opt->run_gc ? &gc : &base);
done:
    net_destroy(n);
    dataset_free(&val);
    dataset_free(&train);
    return rc;
}

int main(int argc, char **argv)
{
    options opt;
    int rc = options_parse(&opt, argc, argv);
    if (rc == GC_OK && opt.help) {
        options_usage(stdout);
        return 0;
    }
    if (rc == GC_OK && opt.version) {
        printf("gcbench %s (oneDNN %s)\n", GCBENCH_VERSION, onednn_version_string());
        return 0;
    }
    jsonl_log log = {0};
    if (rc == GC_OK) rc = run(&opt, &log);
    int close_rc = jsonl_close(&log);
    if (rc == GC_OK) rc = close_rc;
    if (rc != GC_OK) {
        fflush(stdout);
        fprintf(stderr, "gcbench: error: %s\n", gc_error_message());
        return rc;
    }
    return 0;
}
