#include "io/output/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "engine/base/atomic_file.h"
#include "engine/base/error.h"
#include "engine/runtime/threads.h"
#include "io/output/svg_chart.h"

/* ---- histories ------------------------------------------------------------------------- */

void report_history_init(report_history *h, const char *run, gc_scope scope)
{
    memset(h, 0, sizeof *h);
    snprintf(h->run, sizeof h->run, "%s", run ? run : "");
    h->scope = scope;
}

int report_history_add(report_history *h, const epoch_result *r)
{
    if (h->nepochs == h->capacity) {
        int capacity = h->capacity ? 2 * h->capacity : 16;
        epoch_result *grown = realloc(h->epochs, (size_t)capacity * sizeof *grown);
        if (!grown)
            return gc_fail(GC_ERUNTIME, "out of memory recording epoch %d of run '%s' for the report", r->epoch,
                           h->run);
        h->epochs = grown, h->capacity = capacity;
    }
    epoch_result *e = &h->epochs[h->nepochs++];
    *e = *r;
    e->run = NULL;     /* the history's own name stands for it */
    e->profile = NULL; /* the profile lives only until the next epoch */
    return GC_OK;
}

report_run report_history_run(const report_history *h)
{
    return (report_run){.run = h->run, .scope = h->scope, .nepochs = h->nepochs, .epochs = h->epochs};
}

void report_history_free(report_history *h)
{
    free(h->epochs);
    h->epochs = NULL;
    h->nepochs = h->capacity = 0;
}

/* ---- the directory and atomic files ---------------------------------------------------- */

int report_prepare_dir(const char *dir)
{
    if (!dir || !*dir) return gc_fail(GC_EUSAGE, "--report: the directory name is empty");
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return gc_fail(GC_EUSAGE, "--report: the directory name '%s' is too long", dir);

    /* mkdir -p: every ancestor, then the directory itself. An existing directory is fine; an
     * existing file is caught by the checks below or by the next mkdir (ENOTDIR). */
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            int err = errno;
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) /* e.g. EACCES on an existing one */
                return gc_fail(GC_EUSAGE, "--report: cannot create the directory '%s': %s", dir, strerror(err));
        }
        *p = saved;
        if (!saved) break;
    }

    struct stat st;
    if (stat(dir, &st) != 0)
        return gc_fail(GC_EUSAGE, "--report: cannot create the directory '%s': %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return gc_fail(GC_EUSAGE, "--report: '%s' is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return gc_fail(GC_EUSAGE, "--report: cannot write in the directory '%s': %s", dir, strerror(errno));
    return GC_OK;
}

/* Writes dir/name atomically (engine/base/atomic_file.h). */
static int write_atomically(const char *dir, const char *name, atomic_file_body body, const void *ctx)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return gc_fail(GC_EUSAGE, "--report: the path '%s/%s' is too long", dir, name);
    int rc = atomic_file_write(path, body, ctx);
    return rc == GC_OK ? GC_OK : gc_context(rc, "--report");
}

/* ---- CSV ------------------------------------------------------------------------------- */

/* RFC 4180: a field holding a comma, a quote or a line break is quoted, its quotes doubled. */
static void csv_text(FILE *f, const char *s)
{
    s = s ? s : "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ",x" with enough digits to read back the same double; an empty field when not finite. */
static void csv_number(FILE *f, double x)
{
    fputc(',', f);
    if (isfinite(x)) fprintf(f, "%.9g", x);
}

typedef struct {
    const report_run *runs;
    int nruns;
} runs_view;

static void write_metrics(FILE *f, const void *ctx)
{
    const runs_view *v = ctx;
    fputs("run,epoch,loss,accuracy,val_loss,val_accuracy,seconds,train_seconds,val_seconds,"
          "images_per_second,data_wait_seconds\n", f);
    for (int r = 0; r < v->nruns; r++)
        for (int i = 0; i < v->runs[r].nepochs; i++) {
            const epoch_result *e = &v->runs[r].epochs[i];
            csv_text(f, v->runs[r].run);
            fprintf(f, ",%d", e->epoch);
            csv_number(f, e->loss);
            csv_number(f, e->accuracy);
            csv_number(f, e->val_loss);
            csv_number(f, e->val_accuracy);
            csv_number(f, e->seconds);
            csv_number(f, e->train_seconds);
            csv_number(f, e->val_seconds);
            csv_number(f, e->images_per_second);
            csv_number(f, e->data_wait_seconds);
            fputc('\n', f);
        }
}

typedef struct {
    const scaling_point *points;
    int npoints;
} points_view;

static void write_scaling_csv(FILE *f, const void *ctx)
{
    const points_view *v = ctx;
    fputs("threads,images_per_second,speedup,efficiency\n", f);
    for (int i = 0; i < v->npoints; i++) {
        fprintf(f, "%d", v->points[i].threads);
        csv_number(f, v->points[i].images_per_second);
        csv_number(f, v->points[i].speedup);
        csv_number(f, v->points[i].efficiency);
        fputc('\n', f);
    }
}

static void write_chart(FILE *f, const void *chart) { svg_chart_write(f, chart); }

/* ---- curves.svg ------------------------------------------------------------------------ */

/* Okabe-Ito colours: told apart by colour-blind readers too. */
static const char *const BLUE = "#0072b2", *const VERMILLION = "#d55e00";
static const char *const MORE_COLOURS[] = {"#009e73", "#cc79a7", "#e69f00", "#56b4e9"};

/* Baseline blue and GC vermillion in every report, whichever runs it holds; runs beyond one of
 * each kind take the next colours. */
static const char *run_colour(const report_run *runs, int i)
{
    int same_kind = 0;
    for (int j = 0; j < i; j++) same_kind += (runs[j].scope == GC_SCOPE_NONE) == (runs[i].scope == GC_SCOPE_NONE);
    if (same_kind == 0) return runs[i].scope == GC_SCOPE_NONE ? BLUE : VERMILLION;
    return MORE_COLOURS[i % 4];
}

/* The charts need x and y arrays; the history holds structs. One allocation per chart. */
typedef struct {
    double *data;
    char labels[REPORT_MAX_RUNS][2][64];
    svg_series loss[2 * REPORT_MAX_RUNS], accuracy[2 * REPORT_MAX_RUNS];
    svg_panel panels[2];
    svg_chart chart;
} curves;

static int curves_build(curves *c, const char *subtitle, const report_run *runs, int nruns)
{
    memset(c, 0, sizeof *c);
    size_t total = 1;
    for (int r = 0; r < nruns; r++) total += 5 * (size_t)runs[r].nepochs;
    c->data = malloc(total * sizeof *c->data);
    if (!c->data) return gc_fail(GC_ERUNTIME, "out of memory drawing the curves of the report");

    bool baseline = false, gc = false;
    double *d = c->data;
    for (int r = 0; r < nruns; r++) {
        const report_run *run = &runs[r];
        int n = run->nepochs;
        double *x = d, *loss = d + n, *val_loss = d + 2 * n, *acc = d + 3 * n, *val_acc = d + 4 * n;
        d += 5 * (size_t)n;
        for (int i = 0; i < n; i++) {
            const epoch_result *e = &run->epochs[i];
            x[i] = e->epoch, loss[i] = e->loss, val_loss[i] = e->val_loss;
            acc[i] = e->accuracy, val_acc[i] = e->val_accuracy;
        }
        const char *scope = run->scope == GC_SCOPE_CONV ? " (GC conv only)" : "";
        snprintf(c->labels[r][0], sizeof c->labels[r][0], "%s%s train", run->run, scope);
        snprintf(c->labels[r][1], sizeof c->labels[r][1], "%s%s validation", run->run, scope);

        /* Dots help read a few epochs; on many they would bury the lines. Validation dots
         * are hollow, like its line is dashed. */
        bool dots = n <= 15;
        const char *colour = run_colour(runs, r);
        svg_series train = {.label = c->labels[r][0], .colour = colour,
                            .mark = dots ? SVG_MARK_FILLED : SVG_MARK_NONE, .n = n, .x = x};
        svg_series val = {.label = c->labels[r][1], .colour = colour, .dashed = true,
                          .mark = dots ? SVG_MARK_OPEN : SVG_MARK_NONE, .n = n, .x = x};
        c->loss[2 * r] = train, c->loss[2 * r].y = loss;
        c->loss[2 * r + 1] = val, c->loss[2 * r + 1].y = val_loss;
        c->accuracy[2 * r] = train, c->accuracy[2 * r].y = acc;
        c->accuracy[2 * r + 1] = val, c->accuracy[2 * r + 1].y = val_acc;
        baseline |= run->scope == GC_SCOPE_NONE, gc |= run->scope != GC_SCOPE_NONE;
    }

    svg_axis epochs = {.label = "epoch", .integer = true};
    c->panels[0] = (svg_panel){.title = "Loss (binary cross-entropy)", .x = epochs, .y = {.label = "loss"},
                               .series = c->loss, .nseries = 2 * nruns};
    c->panels[1] = (svg_panel){.title = "Accuracy", .x = epochs, .y = {.label = "accuracy", .fraction = true},
                               .series = c->accuracy, .nseries = 2 * nruns};
    c->chart = (svg_chart){
        .title = baseline && gc ? "Baseline vs Gradient Centralization: loss and accuracy per epoch"
                                : "Loss and accuracy per epoch",
        .subtitle = subtitle, .panels = c->panels, .npanels = 2};
    return GC_OK;
}

/* ---- scaling.svg ----------------------------------------------------------------------- */

static void cpu_model(char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return; /* not Linux: the description goes without it */
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        const char *s = colon + 1 + strspn(colon + 1, " \t");
        snprintf(buf, size, "%.*s", (int)strcspn(s, "\r\n"), s);
        break;
    }
    fclose(f);
}

void report_machine(char *buf, size_t size)
{
    char model[160];
    cpu_model(model, sizeof model);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int used = snprintf(buf, size, "%s%s%d cores, %ld logical CPUs", model, model[0] ? ", " : "",
                        threads_physical_cores(), cpus > 0 ? cpus : 1L);
    struct utsname u;
    if (used >= 0 && (size_t)used < size && uname(&u) == 0)
        snprintf(buf + used, size - (size_t)used, ", %s %s %s", u.sysname, u.release, u.machine);
}

typedef struct {
    double *data;
    char subtitle[1024];
    svg_series throughput[2], efficiency[2];
    svg_panel panels[2];
    svg_chart chart;
} scaling_chart;

static int scaling_build(scaling_chart *c, const char *subtitle, const scaling_point *p, int n)
{
    memset(c, 0, sizeof *c);
    c->data = malloc(5 * (size_t)n * sizeof *c->data);
    if (!c->data) return gc_fail(GC_ERUNTIME, "out of memory drawing the scaling chart of the report");
    double *x = c->data, *ips = x + n, *ideal = x + 2 * n, *eff = x + 3 * n, *full = x + 4 * n;
    for (int i = 0; i < n; i++) {
        x[i] = p[i].threads;
        ips[i] = p[i].images_per_second;
        /* Linear from the first count measured, the baseline of speedup and efficiency. */
        ideal[i] = p[0].threads > 0 ? p[0].images_per_second * p[i].threads / p[0].threads : NAN;
        eff[i] = 100.0 * p[i].efficiency;
        full[i] = 100.0;
    }

    char machine[512];
    report_machine(machine, sizeof machine);
    bool has_subtitle = subtitle && *subtitle;
    snprintf(c->subtitle, sizeof c->subtitle, "%s%s%s", has_subtitle ? subtitle : "", has_subtitle ? "\n" : "", machine);

    svg_series measured = {.label = "measured", .colour = BLUE, .mark = SVG_MARK_FILLED, .n = n, .x = x};
    svg_series linear = {.label = "ideal linear scaling", .colour = "#777777", .dashed = true, .n = n, .x = x};
    c->throughput[0] = measured, c->throughput[0].y = ips;
    c->throughput[1] = linear, c->throughput[1].y = ideal;
    c->efficiency[0] = measured, c->efficiency[0].y = eff;
    c->efficiency[1] = linear, c->efficiency[1].y = full;

    svg_axis threads = {.label = "threads", .scale = SVG_SCALE_LOG2};
    c->panels[0] = (svg_panel){.title = "Training throughput", .x = threads,
                               .y = {.label = "images per second", .from_zero = true},
                               .series = c->throughput, .nseries = 2};
    c->panels[1] = (svg_panel){.title = "Parallel efficiency", .x = threads,
                               .y = {.label = "efficiency (%)", .from_zero = true},
                               .series = c->efficiency, .nseries = 2};
    c->chart = (svg_chart){.title = "Thread scaling: throughput and parallel efficiency",
                           .subtitle = c->subtitle, .panels = c->panels, .npanels = 2};
    return GC_OK;
}

/* ---- the report ------------------------------------------------------------------------ */

static int write_curves(const char *dir, const char *subtitle, const report_run *runs, int nruns)
{
    runs_view v = {runs, nruns};
    GC_TRY(write_atomically(dir, "metrics.csv", write_metrics, &v));
    curves c;
    GC_TRY(curves_build(&c, subtitle, runs, nruns));
    int rc = write_atomically(dir, "curves.svg", write_chart, &c.chart);
    free(c.data);
    return rc;
}

static int write_scaling(const char *dir, const char *subtitle, const scaling_point *points, int npoints)
{
    points_view v = {points, npoints};
    GC_TRY(write_atomically(dir, "scaling.csv", write_scaling_csv, &v));
    scaling_chart *c = malloc(sizeof *c);
    if (!c) return gc_fail(GC_ERUNTIME, "out of memory drawing the scaling chart of the report");
    int rc = scaling_build(c, subtitle, points, npoints);
    if (rc == GC_OK) rc = write_atomically(dir, "scaling.svg", write_chart, &c->chart);
    free(c->data);
    free(c);
    return rc;
}

int report_write(const char *dir, const char *subtitle, const report_run *runs, int nruns,
                 const scaling_point *points, int npoints)
{
    if (nruns < 0 || nruns > REPORT_MAX_RUNS || (nruns > 0 && !runs) || npoints < 0 || (npoints > 0 && !points))
        return gc_fail(GC_EUSAGE, "--report: %d runs and %d scaling points (at most %d runs)", nruns, npoints,
                       REPORT_MAX_RUNS);
    GC_TRY(report_prepare_dir(dir));
    if (nruns > 0) GC_TRY(write_curves(dir, subtitle, runs, nruns));
    if (npoints > 0) GC_TRY(write_scaling(dir, subtitle, points, npoints));
    return GC_OK;
}

/* ---- a seed study ---------------------------------------------------------------------- */

static void write_study_csv(FILE *f, const void *ctx)
{
    const study *st = ctx;
    fputs("seed,metric,baseline,gc,difference\n", f);
    for (int i = 0; i < st->count; i++)
        for (int m = 0; m < STUDY_METRICS; m++) {
            const study_seed *s = &st->seeds[i];
            fprintf(f, "%llu,%s", (unsigned long long)s->seed, study_metric_of((study_metric)m)->key);
            csv_number(f, s->value[STUDY_BASELINE][m]);
            csv_number(f, s->value[STUDY_GC][m]);
            csv_number(f, s->difference[m]);
            fputc('\n', f);
        }
}

static void write_study_summary_csv(FILE *f, const void *ctx)
{
    const study *st = ctx;
    fputs("metric,n,baseline_mean,gc_mean,mean_difference,sd_difference,t_low,t_high,bootstrap_low,bootstrap_high,"
          "sign_p,wilcoxon_p,wilcoxon_exact,wins,ties,losses,verdict\n", f);
    for (int m = 0; m < STUDY_METRICS; m++) {
        const study_summary *s = &st->summary[m];
        const stats_paired *p = &s->paired;
        fprintf(f, "%s,%d", study_metric_of((study_metric)m)->key, p->n);
        double v[] = {s->baseline_mean, s->gc_mean, p->mean, p->sd, p->t.lo, p->t.hi, p->bootstrap.lo,
                      p->bootstrap.hi, p->sign_p, p->wilcoxon_p};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++) csv_number(f, v[k]);
        fprintf(f, ",%s,%d,%d,%d,", p->wilcoxon_exact ? "true" : "false", s->wins, s->ties, s->losses);
        csv_text(f, stats_verdict_text(p->verdict));
        fputc('\n', f);
    }
}

/* study.svg's arrays, in one allocation. */
typedef struct {
    double *data;
    svg_series *curves; /* panel 1: 2 per seed, then the two means */
    svg_series diffs[3]; /* panel 2: zero, the seeds' differences, their mean */
    char subtitle[1024], diff_title[160];
    svg_panel panels[2];
    svg_chart chart;
} study_chart;

static int study_chart_build(study_chart *c, const char *subtitle, const study *st)
{
    memset(c, 0, sizeof *c);
    int n = st->count, epochs = 0;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < 2; r++) epochs = st->seeds[i].run[r].nepochs > epochs ? st->seeds[i].run[r].nepochs : epochs;
    size_t doubles = (size_t)epochs * (1 + 2 * (size_t)n + 6) + 2 * (size_t)n + 10;
    c->data = malloc(doubles * sizeof *c->data);
    c->curves = malloc((2 * (size_t)n + 2) * sizeof *c->curves);
    if (!c->data || !c->curves) {
        free(c->data);
        free(c->curves);
        return gc_fail(GC_ERUNTIME, "out of memory drawing the study chart of the report");
    }
    double *x = c->data, *d = x + epochs;
    for (int e = 0; e < epochs; e++) x[e] = e + 1;
    static const char *const labels[2] = {"baseline: mean of the seeds, 95% band", "gc: mean of the seeds, 95% band"};
    const char *colours[2] = {BLUE, VERMILLION};
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < 2; r++) {
            const study_run *run = &st->seeds[i].run[r];
            for (int e = 0; e < run->nepochs; e++) d[e] = run->epochs[e].val_accuracy;
            c->curves[k++] = (svg_series){.colour = colours[r], .x = x, .y = d, .n = run->nepochs, .width = 1,
                                          .opacity = 0.35};
            d += epochs;
        }
    for (int r = 0; r < 2; r++) {
        double *mean = d, *lo = d + epochs, *hi = d + 2 * epochs;
        d += 3 * epochs;
        for (int e = 0; e < epochs; e++) {
            stats_interval ci;
            study_val_accuracy_band(st, r, e + 1, &mean[e], &ci);
            /* A mean accuracy lies in [0, 1]: so does its band (with few seeds t's reaches past
             * 1, and would be drawn over the panel's title). */
            lo[e] = ci.lo < 0.0 ? 0.0 : ci.lo, hi[e] = ci.hi > 1.0 ? 1.0 : ci.hi; /* NaN stays NaN: no band */
        }
        c->curves[k++] = (svg_series){.label = labels[r], .colour = colours[r], .x = x, .y = mean, .n = epochs,
                                      .width = 2.5, .lo = lo, .hi = hi, .mark = epochs <= 15 ? SVG_MARK_FILLED : SVG_MARK_NONE};
    }

    /* Panel 2: the differences of the last epochs' mean validation accuracy, seed by seed. */
    const study_summary *sum = &st->summary[STUDY_LAST_VAL_ACCURACY];
    double *seed_x = d, *diff = d + n, *ends = d + 2 * n, *zero = ends + 2, *mean = ends + 4, *lo = ends + 6,
           *hi = ends + 8;
    for (int i = 0; i < n; i++) {
        seed_x[i] = (double)st->seeds[i].seed;
        diff[i] = st->seeds[i].difference[STUDY_LAST_VAL_ACCURACY];
    }
    ends[0] = n ? seed_x[0] - 0.5 : 0, ends[1] = n ? seed_x[n - 1] + 0.5 : 1;
    zero[0] = zero[1] = 0.0;
    mean[0] = mean[1] = sum->paired.mean;
    lo[0] = lo[1] = sum->paired.t.lo;
    hi[0] = hi[1] = sum->paired.t.hi;
    c->diffs[0] = (svg_series){.label = "no difference", .colour = "#777777", .dashed = true, .x = ends, .y = zero,
                               .n = 2, .width = 1.5};
    c->diffs[1] = (svg_series){.label = "one seed: gc - baseline", .colour = "#333333", .no_line = true,
                               .mark = SVG_MARK_FILLED, .x = seed_x, .y = diff, .n = n};
    c->diffs[2] = (svg_series){.label = "mean difference, 95% t interval", .colour = "#009e73", .x = ends, .y = mean,
                               .n = 2, .lo = lo, .hi = hi};

    snprintf(c->diff_title, sizeof c->diff_title, "GC - baseline, val_accuracy of the last %d epochs", STUDY_LAST_EPOCHS);
    snprintf(c->subtitle, sizeof c->subtitle,
             "%s%s%d seeds from %llu; bands and interval: Student t, 95%%\n"
             "val_accuracy of the last %d epochs, GC - baseline: mean %+.4f, 95%% interval [%+.4f, %+.4f]: %s",
             subtitle ? subtitle : "", subtitle && *subtitle ? "\n" : "", n, (unsigned long long)st->first_seed,
             STUDY_LAST_EPOCHS, sum->paired.mean, sum->paired.t.lo, sum->paired.t.hi,
             stats_verdict_text(sum->paired.verdict));
    c->panels[0] = (svg_panel){.title = "Validation accuracy per epoch, every seed",
                               .x = {.label = "epoch", .integer = true}, .y = {.label = "val_accuracy", .fraction = true},
                               .series = c->curves, .nseries = k};
    c->panels[1] = (svg_panel){.title = c->diff_title, .x = {.label = "seed", .integer = true},
                               .y = {.label = "difference in val_accuracy"}, .series = c->diffs, .nseries = 3};
    c->chart = (svg_chart){.title = "Seed study: baseline vs Gradient Centralization, paired by seed",
                           .subtitle = c->subtitle, .panels = c->panels, .npanels = 2};
    return GC_OK;
}

int report_write_study(const char *dir, const char *subtitle, const study *st)
{
    GC_TRY(report_prepare_dir(dir));
    GC_TRY(write_atomically(dir, "study.csv", write_study_csv, st));
    GC_TRY(write_atomically(dir, "study_summary.csv", write_study_summary_csv, st));
    study_chart *c = malloc(sizeof *c);
    if (!c) return gc_fail(GC_ERUNTIME, "out of memory drawing the study chart of the report");
    int rc = study_chart_build(c, subtitle, st);
    if (rc == GC_OK) {
        rc = write_atomically(dir, "study.svg", write_chart, &c->chart);
        free(c->data);
        free(c->curves);
    }
    free(c);
    return rc;
}
