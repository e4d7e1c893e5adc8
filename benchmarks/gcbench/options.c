#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/model.h"
#include "io/output/study.h"

#define MAX_IMAGE_SIZE 2048

void options_usage(FILE *f)
{
    fprintf(f,
            "usage: gcbench [options]\n"
            "\n"
            "Trains the seed's CNN with RMSprop (or another optimizer), without and with Gradient\n"
            "Centralization, from identical initial weights, and compares loss, accuracy and time.\n"
            "\n"
            "Runs:\n"
            "  --compare            both runs, baseline then GC (the default)\n"
            "  --gc                 only the run with GC\n"
            "  --no-gc              only the baseline run\n"
            "  --gc-scope all|conv  kernels GC centralizes: every rank>1 kernel (all, default)\n"
            "                       or conv kernels only (conv)\n"
            "  --gc-on gradient|update\n"
            "                       what GC centralizes: the gradient (default), or the\n"
            "                       optimizer's step before it is applied\n"
            "Training:\n"
            "  --model NAME         the network to train (%s; the first is the default)\n"
            "  --epochs N           epochs per run (10)\n"
            "  --batch N            images per batch (128)\n"
            "  --seed N             seed of weights, data, shuffles and dropout (42)\n"
            "  --precision fp32|bf16\n"
            "                       what the network computes in: fp32 (default), or bf16\n"
            "                       feature maps and conv weight copies, with f32 master\n"
            "                       weights, gradients, optimizer and dense layers (needs\n"
            "                       AVX512-BF16 and the fused layers)\n"
            "Optimizer (Keras 3's update rules and defaults; a flag the optimizer does not read is\n"
            "refused):\n"
            "  --optimizer NAME     rmsprop (default), sgd, adam, adamw or adagrad\n"
            "  --lr X               learning rate (rmsprop 1e-4, sgd 0.01, adam/adamw/adagrad 1e-3)\n"
            "  --momentum X         sgd: momentum in [0, 1] (0)\n"
            "  --nesterov           sgd: Nesterov momentum (needs --momentum above 0)\n"
            "  --beta1 X, --beta2 X adam, adamw: moment decays in [0, 1) (0.9, 0.999)\n"
            "  --epsilon X          rmsprop, adam, adamw, adagrad: stability term (1e-7)\n"
            "  --initial-accumulator X\n"
            "                       adagrad: the accumulator's starting value (0.1)\n"
            "  --weight-decay X     every optimizer: weight decay (adamw 0.004, others 0)\n"
            "  --weight-decay-form decoupled|coupled\n"
            "                       decoupled: w -= w*wd*lr before the update (Keras, default);\n"
            "                       coupled: wd*w added to the gradient before GC (L2, the\n"
            "                       GC authors' code)\n"
            "Seed study:\n"
            "  --seeds N            N paired comparisons (baseline and GC), seeds --seed ..\n"
            "                       --seed + N - 1, then per metric the mean GC - baseline\n"
            "                       difference with 95%% t and bootstrap intervals, sign and\n"
            "                       Wilcoxon tests, and a verdict (at most %d)\n"
            "  --target-accuracy X  with --seeds: also the first epoch whose val_accuracy\n"
            "                       reaches X (in (0, 1])\n"
            "Data (by default the embedded synthetic set):\n"
            "  --data DIR           PNG images in DIR/train/<class>/ and DIR/validation/<class>/\n"
            "  --train-dir DIR, --val-dir DIR\n"
            "                       the same from two separate class-folder trees\n"
            "  --skip-invalid       skip PNG files that do not decode (a warning each)\n"
            "  --image-size N       side of the square input images (300; at least %d)\n"
            "  --train-images N     training images of the synthetic set (1027)\n"
            "  --val-images N       validation images of the synthetic set (256)\n"
            "  --no-augment         no random flips, rotation and zoom of training images\n"
            "Machine and output:\n"
            "  --threads N          OpenMP threads (default: one per physical core; more is\n"
            "                       allowed, with a warning)\n"
            "  --pin compact|scatter|none\n"
            "                       thread placement with hwloc, one thread per core (compact)\n"
            "  --scaling LIST       scaling study: the same training at each thread count of\n"
            "                       LIST (e.g. 1,2,4,8,16); counts above the cores are skipped\n"
            "  --log FILE           write JSON Lines records to FILE\n"
            "  --report DIR         write the log, metrics.csv and curves.svg (and, with\n"
            "                       --scaling, scaling.csv and scaling.svg) into DIR\n"
            "  --checkpoint FILE    save the training state to FILE after every epoch, and on\n"
            "                       SIGINT or SIGTERM after the current step\n"
            "  --resume FILE        continue from a checkpoint (the same flags as the run that\n"
            "                       wrote it; a different configuration is refused)\n"
            "  --profile            time every phase of the training steps: a table per run\n"
            "                       (its last epoch) and a log record per epoch\n"
            "  --quiet              print only the final results\n"
            "  --plan FILE          images per oneDNN call and implementations of the fused\n"
            "                       conv+pool layers, from FILE (as a run prints and logs it);\n"
            "                       without it, measured at start-up and cached per machine\n"
            "  --unfused            run each Keras layer on its own instead of the fused\n"
            "                       conv+dropout+pool stages (slower, more memory; a check)\n"
            "  --help               this text\n"
            "  --version            the version\n"
            "\n"
            "Environment: GCBENCH_SIMD=scalar|avx2|avx512|neon picks the GC/optimizer kernels;\n"
            "GCBENCH_EPOCHS=N sets the default of --epochs.\n"
            "Exit status: 0 success, 2 bad usage or input, 1 failure at run time.\n",
            model_names(), STUDY_MAX_SEEDS, model_min_size(model_at(0)));
}

void options_setup_text(const options *o, char *buf, size_t size)
{
    char hp[256];
    o->optimizer->describe(&o->hp, 6, hp, sizeof hp);
    snprintf(buf, size, "%s %s; gc on the %s", o->optimizer->label, hp, o->gc_on_update ? "update" : "gradient");
}

/* Parses a whole decimal integer in [lo, hi]. */
static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno == ERANGE)
        return gc_fail(GC_EUSAGE, "%s: '%s' is not an integer", flag, s);
    if (v < lo || v > hi) return gc_fail(GC_EUSAGE, "%s: %ld is out of range [%ld, %ld]", flag, v, lo, hi);
    *out = v;
    return GC_OK;
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    long v = 0;
    GC_TRY(parse_long(flag, s, lo, hi, &v));
    *out = (int)v;
    return GC_OK;
}

static int parse_u64(const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0') return gc_fail(GC_EUSAGE, "%s: '%s' is not a non-negative integer", flag, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return gc_fail(GC_EUSAGE, "%s: '%s' is not a non-negative integer", flag, s);
    *out = (uint64_t)v;
    return GC_OK;
}

static int parse_positive_double(const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
        return gc_fail(GC_EUSAGE, "%s: '%s' is not a number", flag, s);
    if (v <= 0.0) return gc_fail(GC_EUSAGE, "%s: must be positive, got %s", flag, s);
    *out = v;
    return GC_OK;
}

/* A number in [lo, hi] (hi_open: below hi). */
static int parse_double_in(const char *flag, const char *s, double lo, double hi, bool hi_open, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
        return gc_fail(GC_EUSAGE, "%s: '%s' is not a number", flag, s);
    if (v < lo || v > hi || (hi_open && v == hi))
        return gc_fail(GC_EUSAGE, "%s: %s is out of range [%g, %g%s", flag, s, lo, hi, hi_open ? ")" : "]");
    *out = v;
    return GC_OK;
}

static int parse_optimizer(const char *flag, const char *s, const optimizer_desc **out)
{
    *out = optimizer_find(s);
    if (!*out) return gc_fail(GC_EUSAGE, "%s: '%s' is not an optimizer (expected rmsprop, sgd, adam, adamw or adagrad)", flag, s);
    return GC_OK;
}

/* The optimizer's hyperparameter flags: which field each sets and which OPT_READS_ bit
 * says the optimizer reads it. */
typedef struct {
    const char *flag;
    unsigned reads;
} hp_flag;

static const hp_flag hp_flags[] = {
    {"--lr", OPT_READS_LR},
    {"--momentum", OPT_READS_MOMENTUM},
    {"--nesterov", OPT_READS_NESTEROV},
    {"--beta1", OPT_READS_BETAS},
    {"--beta2", OPT_READS_BETAS},
    {"--epsilon", OPT_READS_EPS},
    {"--initial-accumulator", OPT_READS_INITIAL_ACCUMULATOR},
    {"--weight-decay", OPT_READS_WEIGHT_DECAY},
    {"--weight-decay-form", OPT_READS_WEIGHT_DECAY},
};
#define NHP_FLAGS (sizeof hp_flags / sizeof hp_flags[0])

/* The optimizer's defaults, then the hyperparameters given (given[k]: hp_flags[k] was), each
 * refused when the optimizer does not read it. */
static int resolve_hparams(options *o, const opt_hparams *set, const bool *given)
{
    const optimizer_desc *d = o->optimizer;
    for (size_t k = 0; k < NHP_FLAGS; k++)
        if (given[k] && !(d->reads & hp_flags[k].reads))
            return gc_fail(GC_EUSAGE, "%s does not apply to --optimizer %s (%s does not read it)", hp_flags[k].flag,
                           d->name, d->label);
    o->hp = d->defaults;
    if (given[0]) o->hp.lr = set->lr;
    if (given[1]) o->hp.momentum = set->momentum;
    if (given[2]) o->hp.nesterov = true;
    if (given[3]) o->hp.beta1 = set->beta1;
    if (given[4]) o->hp.beta2 = set->beta2;
    if (given[5]) o->hp.eps = set->eps;
    if (given[6]) o->hp.initial_accumulator = set->initial_accumulator;
    if (given[7]) o->hp.weight_decay = set->weight_decay;
    if (given[8]) o->hp.wd_coupled = set->wd_coupled;
    if (o->hp.nesterov && o->hp.momentum == 0.0) return gc_fail(GC_EUSAGE, "--nesterov needs --momentum above 0");
    return GC_OK;
}

static size_t hp_flag_index(const char *flag)
{
    for (size_t k = 0; k < NHP_FLAGS; k++)
        if (strcmp(hp_flags[k].flag, flag) == 0) return k;
    return NHP_FLAGS;
}

static int parse_scope(const char *flag, const char *s, gc_scope *out)
{
    if (strcmp(s, "all") == 0)
        *out = GC_SCOPE_ALL;
    else if (strcmp(s, "conv") == 0)
        *out = GC_SCOPE_CONV;
    else
        return gc_fail(GC_EUSAGE, "%s: '%s' is not a scope (expected all or conv)", flag, s);
    return GC_OK;
}

static int parse_precision(const char *flag, const char *s, precision *out)
{
    if (precision_find(s, out) != 0)
        return gc_fail(GC_EUSAGE, "%s: '%s' is not a precision (expected fp32 or bf16)", flag, s);
    return GC_OK;
}

static int parse_pin(const char *flag, const char *s, pin_policy *out)
{
    if (strcmp(s, "compact") == 0) *out = PIN_COMPACT;
    else if (strcmp(s, "scatter") == 0) *out = PIN_SCATTER;
    else if (strcmp(s, "none") == 0) *out = PIN_NONE;
    else return gc_fail(GC_EUSAGE, "%s: '%s' is not a placement (expected compact, scatter or none)", flag, s);
    return GC_OK;
}

/* "1,2,4,8": positive thread counts, at most OPTIONS_MAX_SCALING of them. */
static int parse_counts(const char *flag, const char *s, int *counts, int *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item)
            return gc_fail(GC_EUSAGE, "%s: '%s' is not a comma-separated list of thread counts", flag, s);
        if (*n == OPTIONS_MAX_SCALING) return gc_fail(GC_EUSAGE, "%s: at most %d thread counts", flag, OPTIONS_MAX_SCALING);
        memcpy(item, p, len);
        item[len] = '\0';
        GC_TRY(parse_int(flag, item, 1, THREADS_MAX, &counts[(*n)++]));
        if (p[len] == '\0') return GC_OK;
        p += len + 1;
    }
}

static int check_image_size(const model_desc *m, int size)
{
    int min = model_min_size(m);
    if (size < min)
        return gc_fail(GC_EUSAGE, "--image-size: %d is too small for the model '%s'; the smallest valid size is %d", size,
                       m->name, min);
    return GC_OK;
}

static int parse_model(const char *flag, const char *s, const model_desc **out)
{
    *out = model_find(s);
    if (!*out) return gc_fail(GC_EUSAGE, "%s: '%s' is not a model (expected %s)", flag, s, model_names());
    return GC_OK;
}

/* --data, or --train-dir with --val-dir, or neither (the synthetic set). */
static int check_data_flags(const options *o, const char *synthetic_count)
{
    if (o->data_dir && (o->train_dir || o->val_dir))
        return gc_fail(GC_EUSAGE, "--data and --train-dir/--val-dir are alternatives: give one");
    if ((o->train_dir != NULL) != (o->val_dir != NULL))
        return gc_fail(GC_EUSAGE, "%s needs %s too", o->train_dir ? "--train-dir" : "--val-dir",
                       o->train_dir ? "--val-dir" : "--train-dir");
    if (synthetic_count && (o->data_dir || o->train_dir))
        return gc_fail(GC_EUSAGE, "%s sizes the synthetic set; it cannot be used with image folders", synthetic_count);
    if (o->skip_invalid && !o->data_dir && !o->train_dir)
        return gc_fail(GC_EUSAGE, "--skip-invalid applies to image folders (--data or --train-dir)");
    return GC_OK;
}

/* --seeds pairs both runs; it is not a scaling study; --target-accuracy belongs to it. */
static int check_study_flags(const options *o)
{
    if (o->target_accuracy > 0 && !o->seeds) return gc_fail(GC_EUSAGE, "--target-accuracy applies to --seeds studies");
    if (!o->seeds) return GC_OK;
    if (!o->run_baseline || !o->run_gc)
        return gc_fail(GC_EUSAGE, "--seeds pairs both runs: it cannot be used with %s", o->run_gc ? "--gc" : "--no-gc");
    if (o->nscaling) return gc_fail(GC_EUSAGE, "--seeds and --scaling are separate studies: give one");
    if (o->seed > UINT64_MAX - (uint64_t)o->seeds)
        return gc_fail(GC_EUSAGE, "--seeds: %d seeds from --seed %llu pass the largest seed", o->seeds,
                       (unsigned long long)o->seed);
    return GC_OK;
}

int options_parse(options *o, int argc, char **argv)
{
    *o = (options){.model = model_at(0), .augment = true, .pin = PIN_COMPACT, .scope = GC_SCOPE_ALL, .epochs = 10, .batch = 128, .seed = 42,
                   .image_size = 300, .train_images = 1027, .val_images = 256};
    /* GCBENCH_EPOCHS sets the default of --epochs, so a short run can use the README's own
     * command unchanged (the fresh-machine check does); --epochs still wins. */
    const char *env_epochs = getenv("GCBENCH_EPOCHS");
    if (env_epochs) GC_TRY(parse_int("GCBENCH_EPOCHS", env_epochs, 1, 100000, &o->epochs));
    o->optimizer = optimizer_at(0);
    o->hp = o->optimizer->defaults;
    opt_hparams set = {0};        /* the hyperparameters given, applied once the optimizer is known */
    bool given[NHP_FLAGS] = {false};
    bool any_run = false;
    const char *synthetic_count = NULL; /* the last of --train-images / --val-images given */

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        /* --flag=value and --flag value are both accepted */
        char flag[64];
        const char *value = NULL, *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof flag) {
            memcpy(flag, arg, (size_t)(eq - arg));
            flag[eq - arg] = '\0';
            value = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", arg);
        }

        /* Flags without a value: the runs, then the switches. */
        bool is_gc = strcmp(flag, "--gc") == 0, is_no_gc = strcmp(flag, "--no-gc") == 0;
        if (is_gc || is_no_gc || strcmp(flag, "--compare") == 0) {
            if (value) return gc_fail(GC_EUSAGE, "%s takes no value", flag);
            o->run_gc |= !is_no_gc;
            o->run_baseline |= !is_gc;
            any_run = true;
            continue;
        }
        bool *toggle = NULL;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) toggle = &o->help;
        else if (strcmp(flag, "--version") == 0) toggle = &o->version;
        else if (strcmp(flag, "--quiet") == 0) toggle = &o->quiet;
        else if (strcmp(flag, "--skip-invalid") == 0) toggle = &o->skip_invalid;
        else if (strcmp(flag, "--unfused") == 0) toggle = &o->unfused;
        else if (strcmp(flag, "--profile") == 0) toggle = &o->profile;
        if (toggle) {
            if (value) return gc_fail(GC_EUSAGE, "%s takes no value", flag);
            *toggle = true;
            continue;
        }
        if (strcmp(flag, "--no-augment") == 0) {
            if (value) return gc_fail(GC_EUSAGE, "%s takes no value", flag);
            o->augment = false;
            continue;
        }
        if (strcmp(flag, "--nesterov") == 0) {
            if (value) return gc_fail(GC_EUSAGE, "%s takes no value", flag);
            given[hp_flag_index(flag)] = true;
            continue;
        }

        static const char *const with_value[] = {"--threads", "--gc-scope", "--epochs", "--batch", "--lr",
                                                 "--seed", "--image-size", "--train-images", "--val-images",
                                                 "--log", "--pin", "--scaling", "--data", "--train-dir",
                                                 "--val-dir", "--report", "--checkpoint", "--resume", "--model",
                                                 "--seeds", "--target-accuracy", "--plan", "--precision",
                                                 "--optimizer", "--momentum", "--beta1", "--beta2", "--epsilon",
                                                 "--initial-accumulator", "--weight-decay", "--weight-decay-form",
                                                 "--gc-on"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) known |= strcmp(flag, with_value[k]) == 0;
        if (!known) return gc_fail(GC_EUSAGE, "unknown option '%s' (see gcbench --help)", arg);
        if (!value) {
            if (i + 1 >= argc) return gc_fail(GC_EUSAGE, "%s needs a value", flag);
            value = argv[++i];
        }

        if (strcmp(flag, "--threads") == 0) GC_TRY(parse_int(flag, value, 1, THREADS_MAX, &o->threads));
        else if (strcmp(flag, "--pin") == 0) GC_TRY(parse_pin(flag, value, &o->pin));
        else if (strcmp(flag, "--scaling") == 0) GC_TRY(parse_counts(flag, value, o->scaling, &o->nscaling));
        else if (strcmp(flag, "--gc-scope") == 0) GC_TRY(parse_scope(flag, value, &o->scope));
        else if (strcmp(flag, "--epochs") == 0) GC_TRY(parse_int(flag, value, 1, 100000, &o->epochs));
        else if (strcmp(flag, "--batch") == 0) GC_TRY(parse_int(flag, value, 1, 65536, &o->batch));
        else if (strcmp(flag, "--lr") == 0) GC_TRY(parse_positive_double(flag, value, &set.lr));
        else if (strcmp(flag, "--optimizer") == 0) GC_TRY(parse_optimizer(flag, value, &o->optimizer));
        else if (strcmp(flag, "--momentum") == 0) GC_TRY(parse_double_in(flag, value, 0.0, 1.0, false, &set.momentum));
        else if (strcmp(flag, "--beta1") == 0) GC_TRY(parse_double_in(flag, value, 0.0, 1.0, true, &set.beta1));
        else if (strcmp(flag, "--beta2") == 0) GC_TRY(parse_double_in(flag, value, 0.0, 1.0, true, &set.beta2));
        else if (strcmp(flag, "--epsilon") == 0) GC_TRY(parse_positive_double(flag, value, &set.eps));
        else if (strcmp(flag, "--initial-accumulator") == 0)
            GC_TRY(parse_double_in(flag, value, 0.0, 1e30, false, &set.initial_accumulator));
        else if (strcmp(flag, "--weight-decay") == 0) GC_TRY(parse_double_in(flag, value, 0.0, 1e30, false, &set.weight_decay));
        else if (strcmp(flag, "--weight-decay-form") == 0) {
            if (strcmp(value, "decoupled") != 0 && strcmp(value, "coupled") != 0)
                return gc_fail(GC_EUSAGE, "%s: '%s' is not a form (expected decoupled or coupled)", flag, value);
            set.wd_coupled = strcmp(value, "coupled") == 0;
        }
        else if (strcmp(flag, "--gc-on") == 0) {
            if (strcmp(value, "gradient") != 0 && strcmp(value, "update") != 0)
                return gc_fail(GC_EUSAGE, "%s: '%s' is not a place for GC (expected gradient or update)", flag, value);
            o->gc_on_update = strcmp(value, "update") == 0;
        }
        else if (strcmp(flag, "--seed") == 0) GC_TRY(parse_u64(flag, value, &o->seed));
        else if (strcmp(flag, "--image-size") == 0) GC_TRY(parse_int(flag, value, 1, MAX_IMAGE_SIZE, &o->image_size));
        else if (strcmp(flag, "--model") == 0) GC_TRY(parse_model(flag, value, &o->model));
        else if (strcmp(flag, "--precision") == 0) GC_TRY(parse_precision(flag, value, &o->precision));
        else if (strcmp(flag, "--seeds") == 0) GC_TRY(parse_int(flag, value, 1, STUDY_MAX_SEEDS, &o->seeds));
        else if (strcmp(flag, "--target-accuracy") == 0) {
            GC_TRY(parse_positive_double(flag, value, &o->target_accuracy));
            if (o->target_accuracy > 1.0) return gc_fail(GC_EUSAGE, "%s: %s is above 1 (an accuracy)", flag, value);
        }
        else if (strcmp(flag, "--train-images") == 0) GC_TRY(parse_long(flag, value, 1, 10000000, &o->train_images));
        else if (strcmp(flag, "--val-images") == 0) GC_TRY(parse_long(flag, value, 1, 10000000, &o->val_images));
        else if (*value == '\0') return gc_fail(GC_EUSAGE, "%s needs a non-empty value", flag);
        else if (strcmp(flag, "--log") == 0) o->log_path = value;
        else if (strcmp(flag, "--data") == 0) o->data_dir = value;
        else if (strcmp(flag, "--train-dir") == 0) o->train_dir = value;
        else if (strcmp(flag, "--val-dir") == 0) o->val_dir = value;
        else if (strcmp(flag, "--report") == 0) o->report_dir = value;
        else if (strcmp(flag, "--checkpoint") == 0) o->checkpoint_path = value;
        else if (strcmp(flag, "--resume") == 0) o->resume_path = value;
        else if (strcmp(flag, "--plan") == 0) o->plan_path = value;
        if (hp_flag_index(flag) < NHP_FLAGS) given[hp_flag_index(flag)] = true;
        if (strcmp(flag, "--train-images") == 0) synthetic_count = "--train-images";
        if (strcmp(flag, "--val-images") == 0) synthetic_count = "--val-images";
    }
    GC_TRY(check_image_size(o->model, o->image_size)); /* after --model, in whichever order */
    GC_TRY(resolve_hparams(o, &set, given));            /* after --optimizer, likewise */
    GC_TRY(check_data_flags(o, synthetic_count));
    if (o->nscaling && (o->checkpoint_path || o->resume_path))
        return gc_fail(GC_EUSAGE, "%s does not apply to --scaling studies", o->checkpoint_path ? "--checkpoint" : "--resume");
    if (!any_run) o->run_baseline = o->run_gc = true;
    return check_study_flags(o);
}
