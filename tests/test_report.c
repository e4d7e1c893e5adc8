/* gcbench --report: exact CSV, well-formed and complete SVG charts, escaping, the directory
 * (created, or refused naming it), atomic files, and the chart's nice ticks. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "io/output/report.h"
#include "io/output/svg_chart.h"
#include "tempdir.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static char *temp_dir(void)
{
    char *dir = malloc(64);
    cr_assert(dir);
    test_temp_dir(dir, 64, "report");
    return dir;
}

static void remove_tree(char *dir)
{
    test_remove_tree(dir);
    free(dir);
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static bool exists(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

/* The whole file as a string (the caller frees it). */
static char *slurp(const char *dir, const char *name)
{
    char *p = path_in(dir, name);
    FILE *f = fopen(p, "rb");
    cr_assert(f, "cannot open %s", p);
    free(p);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    cr_assert(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* ---- a minimal XML well-formedness check ------------------------------------------------- */

/* After '&': a predefined entity or a character reference, up to its ';'; NULL when not. */
static const char *entity_end(const char *p)
{
    static const char *const names[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    for (int i = 0; i < 5; i++)
        if (strncmp(p + 1, names[i], strlen(names[i])) == 0) return p + 1 + strlen(names[i]);
    if (p[1] == '#' && isdigit((unsigned char)p[2])) {
        const char *q = p + 2;
        while (isdigit((unsigned char)*q)) q++;
        return *q == ';' ? q + 1 : NULL;
    }
    return NULL;
}

static const char *name_end(const char *p)
{
    if (!isalpha((unsigned char)*p) && *p != '_' && *p != ':') return NULL;
    while (isalnum((unsigned char)*p) || strchr("_:.-", *p)) p++;
    return p;
}

/* One root element; tags balanced and nested; attribute values quoted and free of '<'; every
 * '&' an entity; nothing but space outside the root. Sets *why on failure. */
static bool well_formed(const char *s, const char **why)
{
    enum { DEPTH = 64, NAME = 64 };
    char stack[DEPTH][NAME];
    int depth = 0, roots = 0;
    const char *p = s;
    *why = "";
    while (*p) {
        if (*p == '&') {
            if (!(p = entity_end(p))) return *why = "a raw '&'", false;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && !isspace((unsigned char)*p)) return *why = "text outside the root", false;
            if (*p == '>' && depth > 0) return *why = "a raw '>' in text", false; /* legal, but we escape it */
            p++;
            continue;
        }
        if (strncmp(p, "<?", 2) == 0) {
            if (roots || depth) return *why = "a processing instruction after the root", false;
            if (!(p = strstr(p, "?>"))) return *why = "an unterminated <?", false;
            p += 2;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            if (!(p = strstr(p + 4, "-->"))) return *why = "an unterminated comment", false;
            p += 3;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + 1 + closing, *end = name_end(name);
        if (!end || end - name >= NAME) return *why = "a bad tag name", false;
        int len = (int)(end - name);
        p = end;
        if (closing) {
            while (isspace((unsigned char)*p)) p++;
            if (*p++ != '>') return *why = "a bad end tag", false;
            if (depth == 0 || strncmp(stack[depth - 1], name, (size_t)len) != 0 || stack[depth - 1][len])
                return *why = "an end tag that does not match", false;
            depth--;
            continue;
        }
        if (depth == 0 && roots++) return *why = "a second root element", false;
        for (;;) { /* attributes */
            bool spaced = isspace((unsigned char)*p);
            while (isspace((unsigned char)*p)) p++;
            if (p[0] == '/' && p[1] == '>') {
                p += 2;
                break;
            }
            if (*p == '>') {
                if (depth == DEPTH) return *why = "too deep", false;
                snprintf(stack[depth++], NAME, "%.*s", len, name);
                p++;
                break;
            }
            const char *attr_end = name_end(p);
            if (!spaced || !attr_end) return *why = "a bad attribute", false;
            p = attr_end;
            if (*p++ != '=') return *why = "an attribute without '='", false;
            char quote = *p++;
            if (quote != '"' && quote != '\'') return *why = "an unquoted attribute value", false;
            while (*p != quote) {
                if (!*p || *p == '<') return *why = "a bad attribute value", false;
                if (*p == '&') {
                    if (!(p = entity_end(p))) return *why = "a raw '&' in an attribute", false;
                } else {
                    p++;
                }
            }
            p++;
        }
    }
    if (depth) return *why = "an element left open", false;
    if (roots != 1) return *why = "no root element", false;
    return true;
}

static void expect_svg(const char *svg, int series)
{
    const char *why;
    cr_expect(well_formed(svg, &why), "the SVG is not well-formed XML: %s", why);
    cr_expect(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"") != NULL);
    cr_expect(strstr(svg, "viewBox=\"0 0 ") != NULL);
    cr_expect(strstr(svg, "font-family=\"sans-serif\"") != NULL);
    cr_expect(strstr(svg, "<script") == NULL);
    cr_expect_eq(count(svg, "<path class=\"series\""), series, "expected %d series paths", series);
}

Test(svg_self_check, rejects_broken_xml)
{
    const char *why;
    cr_expect(well_formed("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; u</a>\n", &why), "%s", why);
    cr_expect_not(well_formed("<a><b></a></b>", &why));
    cr_expect_not(well_formed("<a>x & y</a>", &why));
    cr_expect_not(well_formed("<a x=1/>", &why));
    cr_expect_not(well_formed("<a><b></b>", &why));
    cr_expect_not(well_formed("<a/><b/>", &why));
    cr_expect_not(well_formed("<a t=\"<\"/>", &why));
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static epoch_result epoch(int k, double loss, double acc, double val_loss, double val_acc)
{
    return (epoch_result){.epoch = k, .loss = loss, .accuracy = acc, .val_loss = val_loss, .val_accuracy = val_acc,
                          .seconds = 12.5, .train_seconds = 10, .val_seconds = 2.5, .images_per_second = 102.7};
}

/* n epochs of a plausible learning curve. */
static void fill(report_history *h, const char *run, gc_scope scope, int n, double speed)
{
    report_history_init(h, run, scope);
    for (int k = 1; k <= n; k++) {
        double t = (double)k / n;
        epoch_result e = epoch(k, 0.69 - 0.3 * speed * t, 0.5 + 0.35 * speed * t, 0.7 - 0.25 * speed * t,
                               0.48 + 0.3 * speed * t + 0.02 * sin(k));
        e.data_wait_seconds = 0.01 * k;
        cr_assert_eq(report_history_add(h, &e), GC_OK);
    }
}

/* ---- metrics.csv ------------------------------------------------------------------------- */

Test(report, metrics_csv_is_exact)
{
    report_history base, gc;
    report_history_init(&base, "baseline", GC_SCOPE_NONE);
    report_history_init(&gc, "gc", GC_SCOPE_ALL);
    epoch_result e1 = epoch(1, 0.6931471824645996, 0.5, NAN, 0.25);
    epoch_result e2 = {.epoch = 2, .loss = 0.1, .accuracy = 1.0 / 3.0, .val_loss = INFINITY, .val_accuracy = 0.75,
                       .seconds = 1e-5, .train_seconds = 123456789.0, .val_seconds = 1234567890.0,
                       .images_per_second = 0};
    epoch_result g1 = epoch(1, 0.25, 0.875, 0.5, -INFINITY);
    e1.data_wait_seconds = 0.125, g1.data_wait_seconds = NAN;
    cr_assert_eq(report_history_add(&base, &e1), GC_OK);
    cr_assert_eq(report_history_add(&base, &e2), GC_OK);
    cr_assert_eq(report_history_add(&gc, &g1), GC_OK);

    char *dir = temp_dir();
    report_run runs[2] = {report_history_run(&base), report_history_run(&gc)};
    cr_assert_eq(report_write(dir, "test", runs, 2, NULL, 0), GC_OK, "%s", gc_error_message());
    char *csv = slurp(dir, "metrics.csv");
    cr_expect_str_eq(csv,
                     "run,epoch,loss,accuracy,val_loss,val_accuracy,seconds,train_seconds,val_seconds,"
                     "images_per_second,data_wait_seconds\n"
                     "baseline,1,0.693147182,0.5,,0.25,12.5,10,2.5,102.7,0.125\n"
                     "baseline,2,0.1,0.333333333,,0.75,1e-05,123456789,1.23456789e+09,0,0\n"
                     "gc,1,0.25,0.875,0.5,,12.5,10,2.5,102.7,\n");
    free(csv);
    cr_expect_not(exists(dir, "metrics.csv.tmp"));
    cr_expect_not(exists(dir, "curves.svg.tmp"));
    cr_expect_not(exists(dir, "scaling.csv"), "no scaling study, no scaling files");
    cr_expect_not(exists(dir, "scaling.svg"));
    report_history_free(&base);
    report_history_free(&gc);
    remove_tree(dir);
}

Test(report, run_names_are_quoted_in_csv)
{
    report_history h;
    report_history_init(&h, "we\"ird,run", GC_SCOPE_ALL);
    epoch_result e = epoch(1, 1, 1, 1, 1);
    e.data_wait_seconds = 2;
    cr_assert_eq(report_history_add(&h, &e), GC_OK);
    char *dir = temp_dir();
    report_run run = report_history_run(&h);
    cr_assert_eq(report_write(dir, NULL, &run, 1, NULL, 0), GC_OK, "%s", gc_error_message());
    char *csv = slurp(dir, "metrics.csv");
    cr_expect(strstr(csv, "\n\"we\"\"ird,run\",1,1,1,1,1,12.5,10,2.5,102.7,2\n") != NULL, "%s", csv);
    free(csv);
    report_history_free(&h);
    remove_tree(dir);
}

Test(report, history_grows_and_keeps_every_epoch)
{
    report_history h;
    report_history_init(&h, "gc", GC_SCOPE_CONV);
    for (int k = 1; k <= 100; k++) {
        epoch_result e = epoch(k, 1.0 / k, 0, 0, 0);
        e.data_wait_seconds = k;
        cr_assert_eq(report_history_add(&h, &e), GC_OK);
    }
    report_run r = report_history_run(&h);
    cr_expect_str_eq(r.run, "gc");
    cr_expect_eq(r.scope, GC_SCOPE_CONV);
    cr_assert_eq(r.nepochs, 100);
    for (int k = 1; k <= 100; k++) {
        cr_expect_eq(r.epochs[k - 1].epoch, k);
        cr_expect_eq(r.epochs[k - 1].loss, 1.0 / k);
        cr_expect_eq(r.epochs[k - 1].data_wait_seconds, k);
    }
    report_history_free(&h);
    cr_expect_eq(h.nepochs, 0);
    cr_expect_null(h.epochs);
}

/* Writes the report of runs into dir and returns its curves.svg (free it). */
static char *write_curves(const char *dir, const char *subtitle, const report_run *runs, int nruns)
{
    cr_assert_eq(report_write(dir, subtitle, runs, nruns, NULL, 0), GC_OK, "%s", gc_error_message());
    return slurp(dir, "curves.svg");
}

/* ---- curves.svg -------------------------------------------------------------------------- */

Test(report, curves_svg_has_title_axes_legend_and_a_path_per_series)
{
    report_history base, gc;
    fill(&base, "baseline", GC_SCOPE_NONE, 10, 1.0);
    fill(&gc, "gc", GC_SCOPE_ALL, 10, 1.2);
    report_run runs[2] = {report_history_run(&base), report_history_run(&gc)};
    char *dir = temp_dir();
    char *svg = write_curves(dir, "synthetic 300x300, batch 128", runs, 2);
    expect_svg(svg, 8); /* 2 panels x 2 runs x (train, validation) */
    cr_expect(strstr(svg, ">Baseline vs Gradient Centralization: loss and accuracy per epoch</text>") != NULL);
    cr_expect(strstr(svg, ">synthetic 300x300, batch 128</text>") != NULL);
    cr_expect(strstr(svg, ">epoch</text>") != NULL);
    cr_expect(strstr(svg, ">loss</text>") != NULL);
    cr_expect(strstr(svg, ">accuracy</text>") != NULL);
    cr_expect(strstr(svg, ">baseline train</text>") != NULL);
    cr_expect(strstr(svg, ">baseline validation</text>") != NULL);
    cr_expect(strstr(svg, ">gc train</text>") != NULL);
    cr_expect(strstr(svg, ">gc validation</text>") != NULL);
    cr_expect(strstr(svg, "stroke-dasharray") != NULL, "validation lines are dashed");
    cr_expect(strstr(svg, ">10</text>") != NULL, "the epoch axis reaches 10");
    free(svg);
    report_history_free(&base);
    report_history_free(&gc);
    remove_tree(dir);
}

Test(report, the_accuracy_axis_ends_at_1)
{
    report_history run;
    fill(&run, "gc", GC_SCOPE_ALL, 10, 1.0 / 0.7); /* training accuracy reaches exactly 1 */
    report_run runs[1] = {report_history_run(&run)};
    char *dir = temp_dir();
    char *svg = write_curves(dir, "reaching 1", runs, 1);
    cr_expect(strstr(svg, ">1.0</text>") != NULL, "a tick at 1");
    cr_expect(strstr(svg, ">1.1</text>") == NULL && strstr(svg, ">1.2</text>") == NULL, "no accuracy above 1");
    free(svg);
    report_history_free(&run);
    remove_tree(dir);
}

Test(report, subtitle_is_escaped)
{
    report_history h;
    fill(&h, "gc", GC_SCOPE_ALL, 3, 1.0);
    report_run run = report_history_run(&h);
    char *dir = temp_dir();
    char *svg = write_curves(dir, "a & b <c> \"d\" 'e'", &run, 1);
    expect_svg(svg, 4);
    cr_expect(strstr(svg, "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;") != NULL);
    cr_expect(strstr(svg, "a & b") == NULL);
    cr_expect(strstr(svg, "<c>") == NULL);
    free(svg);
    report_history_free(&h);
    remove_tree(dir);
}

Test(report, a_single_run_of_one_epoch_draws_dots)
{
    report_history h;
    fill(&h, "gc", GC_SCOPE_CONV, 1, 1.0);
    report_run run = report_history_run(&h);
    char *dir = temp_dir();
    char *svg = write_curves(dir, "one epoch", &run, 1);
    expect_svg(svg, 4);
    cr_expect(strstr(svg, ">Loss and accuracy per epoch</text>") != NULL);
    cr_expect(strstr(svg, ">gc (GC conv only) validation</text>") != NULL);
    cr_expect(strstr(svg, "baseline") == NULL);
    cr_expect_geq(count(svg, "<circle"), 4, "each of the 4 one-point series shows a dot");
    cr_expect(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    free(svg);
    char *csv = slurp(dir, "metrics.csv");
    cr_expect_eq(count(csv, "\n"), 2);
    free(csv);
    report_history_free(&h);
    remove_tree(dir);
}

Test(report, many_epochs_draw_lines_without_dots)
{
    report_history base, gc;
    fill(&base, "baseline", GC_SCOPE_NONE, 100, 1.0);
    fill(&gc, "gc", GC_SCOPE_ALL, 100, 1.1);
    report_run runs[2] = {report_history_run(&base), report_history_run(&gc)};
    char *dir = temp_dir();
    char *svg = write_curves(dir, "100 epochs", runs, 2);
    expect_svg(svg, 8);
    cr_expect_eq(count(svg, "<circle"), 0);
    cr_expect(strstr(svg, ">100</text>") != NULL, "the epoch axis reaches 100");
    free(svg);
    report_history_free(&base);
    report_history_free(&gc);
    remove_tree(dir);
}

Test(report, missing_values_leave_gaps)
{
    report_history h;
    report_history_init(&h, "baseline", GC_SCOPE_NONE);
    for (int k = 1; k <= 4; k++) {
        epoch_result e = epoch(k, 0.5, 0.5, k == 2 ? NAN : 0.6, NAN);
        cr_assert_eq(report_history_add(&h, &e), GC_OK);
    }
    report_run run = report_history_run(&h);
    char *dir = temp_dir();
    char *svg = write_curves(dir, "gaps", &run, 1);
    expect_svg(svg, 4);
    cr_expect(strstr(svg, "nan") == NULL);
    free(svg);
    report_history_free(&h);
    remove_tree(dir);
}

/* ---- scaling ----------------------------------------------------------------------------- */

Test(report, scaling_files_are_written_for_a_study)
{
    scaling_point pts[4] = {
        {.threads = 1, .images_per_second = 10, .speedup = 1, .efficiency = 1},
        {.threads = 2, .images_per_second = 19, .speedup = 1.9, .efficiency = 0.95},
        {.threads = 4, .images_per_second = 34, .speedup = 3.4, .efficiency = 0.85},
        {.threads = 8, .images_per_second = 52, .speedup = 5.2, .efficiency = 0.65},
    };
    char *dir = temp_dir();
    cr_assert_eq(report_write(dir, "scaling & <study>", NULL, 0, pts, 4), GC_OK, "%s", gc_error_message());
    char *csv = slurp(dir, "scaling.csv");
    cr_expect_str_eq(csv, "threads,images_per_second,speedup,efficiency\n"
                          "1,10,1,1\n2,19,1.9,0.95\n4,34,3.4,0.85\n8,52,5.2,0.65\n");
    free(csv);
    char *svg = slurp(dir, "scaling.svg");
    expect_svg(svg, 4);
    cr_expect(strstr(svg, ">threads</text>") != NULL);
    cr_expect(strstr(svg, ">images per second</text>") != NULL);
    cr_expect(strstr(svg, ">efficiency (%)</text>") != NULL);
    cr_expect(strstr(svg, ">measured</text>") != NULL);
    cr_expect(strstr(svg, ">ideal linear scaling</text>") != NULL);
    cr_expect(strstr(svg, "scaling &amp; &lt;study&gt;") != NULL);
    cr_expect(strstr(svg, "logical CPUs") != NULL, "the machine is described");
    for (int t = 1; t <= 8; t *= 2) {
        char tick[32];
        snprintf(tick, sizeof tick, ">%d</text>", t);
        cr_expect(strstr(svg, tick) != NULL, "a tick at %d threads", t);
    }
    free(svg);
    cr_expect_not(exists(dir, "metrics.csv"), "no runs, no metrics");
    cr_expect_not(exists(dir, "curves.svg"));
    remove_tree(dir);
}

Test(report, a_single_thread_count_still_charts)
{
    scaling_point pt = {.threads = 1, .images_per_second = 10, .speedup = 1, .efficiency = 1};
    char *dir = temp_dir();
    cr_assert_eq(report_write(dir, "one point", NULL, 0, &pt, 1), GC_OK, "%s", gc_error_message());
    char *svg = slurp(dir, "scaling.svg");
    expect_svg(svg, 4);
    cr_expect(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    free(svg);
    remove_tree(dir);
}

/* ---- the directory and failures ---------------------------------------------------------- */

Test(report, nested_directories_are_created_and_reports_overwrite)
{
    char *dir = temp_dir();
    char *nested = path_in(dir, "a/b/c");
    report_history h;
    fill(&h, "baseline", GC_SCOPE_NONE, 2, 1.0);
    report_run run = report_history_run(&h);
    cr_assert_eq(report_write(nested, "x", &run, 1, NULL, 0), GC_OK, "%s", gc_error_message());
    cr_expect(exists(nested, "metrics.csv"));
    cr_expect(exists(nested, "curves.svg"));
    cr_assert_eq(report_write(nested, "x", &run, 1, NULL, 0), GC_OK, "a second report replaces the first: %s",
                 gc_error_message());
    free(nested);
    report_history_free(&h);
    remove_tree(dir);
}

Test(report, a_directory_under_a_regular_file_is_a_usage_error_naming_it)
{
    char *dir = temp_dir();
    char *file = path_in(dir, "file");
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fclose(f);
    char *under = path_in(file, "report");
    gc_error_clear();
    cr_expect_eq(report_write(under, "x", NULL, 0, NULL, 0), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), under) != NULL, "message: %s", gc_error_message());
    gc_error_clear();
    cr_expect_eq(report_prepare_dir(file), GC_EUSAGE, "a regular file is not a directory");
    cr_expect(strstr(gc_error_message(), "is not a directory") != NULL, "message: %s", gc_error_message());
    gc_error_clear();
    cr_expect_eq(report_prepare_dir(""), GC_EUSAGE);
    gc_error_clear();
    free(under);
    free(file);
    remove_tree(dir);
}

Test(report, a_failed_write_is_a_runtime_error_naming_the_file_and_leaves_no_temporary)
{
    report_history h;
    fill(&h, "gc", GC_SCOPE_ALL, 2, 1.0);
    report_run run = report_history_run(&h);
    char *dir = temp_dir();

    /* The temporary cannot be created: a directory sits in its place. */
    char *blocked = path_in(dir, "metrics.csv.tmp");
    cr_assert_eq(mkdir(blocked, 0777), 0);
    gc_error_clear();
    cr_expect_eq(report_write(dir, "x", &run, 1, NULL, 0), GC_ERUNTIME);
    cr_expect(strstr(gc_error_message(), "metrics.csv.tmp") != NULL, "message: %s", gc_error_message());
    cr_expect_not(exists(dir, "metrics.csv"));
    cr_assert_eq(rmdir(blocked), 0);
    free(blocked);

    /* The rename fails: a non-empty directory holds the name. */
    char *taken = path_in(dir, "curves.svg"), *inside = path_in(taken, "x");
    cr_assert_eq(mkdir(taken, 0777), 0);
    cr_assert_eq(mkdir(inside, 0777), 0);
    gc_error_clear();
    cr_expect_eq(report_write(dir, "x", &run, 1, NULL, 0), GC_ERUNTIME);
    cr_expect(strstr(gc_error_message(), taken) != NULL, "message: %s", gc_error_message());
    cr_expect_not(exists(dir, "curves.svg.tmp"), "the temporary is removed");
    cr_expect(exists(dir, "metrics.csv"), "files written before the failure stay whole");
    gc_error_clear();
    free(inside);
    free(taken);
    report_history_free(&h);
    remove_tree(dir);
}

/* ---- nice ticks -------------------------------------------------------------------------- */

static void expect_ticks(double lo, double hi, bool integer, double tlo, double thi, double step, int n)
{
    svg_ticks t = svg_nice_ticks(lo, hi, 6, integer);
    cr_expect(fabs(t.lo - tlo) < 1e-12 && fabs(t.hi - thi) < 1e-12 && fabs(t.step - step) < 1e-12 && t.count == n,
              "[%g, %g]: got %g..%g step %g (%d ticks), expected %g..%g step %g (%d)", lo, hi, t.lo, t.hi, t.step,
              t.count, tlo, thi, step, n);
}

Test(svg_chart, nice_ticks)
{
    expect_ticks(0, 1, false, 0, 1, 0.2, 6);
    expect_ticks(0.62, 0.71, false, 0.62, 0.72, 0.02, 6);
    expect_ticks(0, 345, false, 0, 400, 100, 5);
    expect_ticks(1, 100, true, 0, 100, 20, 6);
    expect_ticks(1, 3, true, 1, 3, 1, 3);           /* whole epochs only */
    expect_ticks(1, 1, true, 0, 2, 1, 3);           /* one epoch */
    expect_ticks(0.5, 0.5, false, 0.44, 0.56, 0.02, 7); /* one value gets room around it */
    expect_ticks(0, 0, false, 0, 1, 0.2, 6);
    expect_ticks(-3, 7, false, -4, 8, 2, 7);
}
