/* study_log: a seed study rebuilt from a log. On a hand-written log its statistics are the
 * values worked out by hand (closed forms); on the log of a real gcbench --seeds study it
 * gives gcbench's own study.csv and study_summary.csv; logs that are not a study exit 2
 * naming the file and line. Also: equal differences of values k/n tie in the Wilcoxon test. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "io/output/study.h"
#include "cli_support.h"
#include "tempdir.h"

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Field `column` (0-based) of the CSV row of text that starts with `row` (e.g. "final_loss,"). */
static void csv_field(const char *text, const char *row, int column, char *out, size_t size)
{
    const char *p = text;
    size_t len = strlen(row);
    while (p && strncmp(p, row, len) != 0) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    cr_assert(p, "no row %s in %s", row, text);
    for (int c = 0; c < column; c++) {
        p = strpbrk(p, ",\n");
        cr_assert(p && *p == ',', "row %s has no column %d", row, column);
        p++;
    }
    size_t n = strcspn(p, ",\n");
    cr_assert(n < size);
    memcpy(out, p, n);
    out[n] = '\0';
}

static double csv_number(const char *text, const char *row, int column)
{
    char v[64];
    csv_field(text, row, column, v, sizeof v);
    return *v ? strtod(v, NULL) : NAN;
}

/* ---- a hand-written log ----------------------------------------------------------------- */

/* Three seeds (7, 8, 9) of two epochs, in torch_peer.py's records. final val_accuracy, gc -
 * baseline: 0.563 - 0.562, 0.281 - 0.282, 0.009 - 0.010: as doubles the three magnitudes of
 * 0.001 differ in their last bits (0.00099999999999989, 0.00099999999999994, 0.0010000000000000009),
 * which ranks them 1, 2, 3 (Wilcoxon p 0.5) unless equal differences tie (ranks 2, 2, 2: p 1). */
static const char *const HAND_LOG =
    "{\"event\": \"config\", \"torch\": \"1.13.1\", \"threads\": 2, \"batch\": 8, \"epochs\": 2, \"image_size\": 96, "
    "\"train_images\": 16, \"val_images\": 1000, \"classes\": [\"a\", \"b\"], \"seed\": 7, \"dataset\": \"hand\", "
    "\"lr\": 0.0001, \"augment\": false, \"seeds\": 3}\n"
    "{\"event\": \"run_start\", \"run\": \"baseline\", \"gc_scope\": null, \"seed\": 7}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 7, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 7, \"epoch\": 2, \"loss\": 0.6, \"accuracy\": 0.5, \"val_loss\": 0.68, \"val_accuracy\": 0.562, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 7, \"run\": \"baseline\", \"train_seconds\": 10.0, \"val_accuracy\": 0.562}\n"
    "{\"event\": \"run_start\", \"run\": \"gc\", \"gc_scope\": \"all\", \"seed\": 7}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 7, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 7, \"epoch\": 2, \"loss\": 0.5, \"accuracy\": 0.5, \"val_loss\": 0.67, \"val_accuracy\": 0.563, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 7, \"run\": \"gc\", \"train_seconds\": 11.0}\n"
    "{\"event\": \"run_start\", \"run\": \"baseline\", \"gc_scope\": null, \"seed\": 8}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 8, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 8, \"epoch\": 2, \"loss\": 0.6, \"accuracy\": 0.5, \"val_loss\": 0.68, \"val_accuracy\": 0.282, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 8, \"run\": \"baseline\", \"train_seconds\": 10.0}\n"
    "{\"event\": \"run_start\", \"run\": \"gc\", \"gc_scope\": \"all\", \"seed\": 8}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 8, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 8, \"epoch\": 2, \"loss\": 0.4, \"accuracy\": 0.5, \"val_loss\": null, \"val_accuracy\": 0.281, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 8, \"run\": \"gc\", \"train_seconds\": 12.0}\n"
    "{\"event\": \"run_start\", \"run\": \"baseline\", \"gc_scope\": null, \"seed\": 9}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 9, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"baseline\", \"seed\": 9, \"epoch\": 2, \"loss\": 0.6, \"accuracy\": 0.5, \"val_loss\": 0.68, \"val_accuracy\": 0.010, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 9, \"run\": \"baseline\", \"train_seconds\": 10.0}\n"
    "{\"event\": \"run_start\", \"run\": \"gc\", \"gc_scope\": \"all\", \"seed\": 9}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 9, \"epoch\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"val_loss\": 0.69, \"val_accuracy\": 0.5, \"seconds\": 1.0}\n"
    "{\"event\": \"epoch\", \"run\": \"gc\", \"seed\": 9, \"epoch\": 2, \"loss\": 0.3, \"accuracy\": 0.5, \"val_loss\": 0.66, \"val_accuracy\": 0.009, \"seconds\": 1.0}\n"
    "{\"event\": \"summary\", \"seed\": 9, \"run\": \"gc\", \"train_seconds\": 13.0}\n";

Test(study_log, a_hand_written_log_gives_the_hand_worked_statistics)
{
    char dir[64], path[300], args[1024];
    static char text[1 << 16];
    test_temp_dir(dir, sizeof dir, "study_log");
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    write_text(path, HAND_LOG);
    snprintf(args, sizeof args, "'%s' --report '%s/report'", path, dir);
    const cli_result *r = cli_run("", STUDY_LOG_BIN, args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect(strstr(r->out, "PyTorch 1.13.1, 3 seeds") != NULL, "%s", r->out);
    cr_expect(strstr(r->out, "Seed study: 3 paired comparisons, seeds 7..9") != NULL, "%s", r->out);

    snprintf(path, sizeof path, "%s/report/study.csv", dir);
    cli_slurp(path, text, sizeof text);
    cr_expect_eq(csv_number(text, "8,final_val_accuracy,", 2), 0.282);
    cr_expect_eq(csv_number(text, "8,final_val_accuracy,", 3), 0.281);
    cr_expect_eq(csv_number(text, "8,final_val_accuracy,", 4), -0.001);
    cr_expect_eq(csv_number(text, "9,final_loss,", 4), -0.3);
    cr_expect_eq(csv_number(text, "8,last3_val_accuracy,", 3), (0.5 + 0.281) / 2);
    cr_expect_eq(csv_number(text, "7,train_seconds,", 4), 1.0);
    char v[64];
    csv_field(text, "8,final_val_loss,", 3, v, sizeof v); /* null in the log: no value */
    cr_expect_str_empty(v);

    snprintf(path, sizeof path, "%s/report/study_summary.csv", dir);
    cli_slurp(path, text, sizeof text);
    /* final val_accuracy: d = +1, -1, -1 (x 1e-3), mean -1/3, sd sqrt(4/3), and with 2 degrees of
     * freedom t_0.975 = (2p - 1) / sqrt(2p(1 - p)) in closed form: mean -+ t sqrt(4/3)/sqrt(3)
     * = mean -+ (2/3) t. The CSV has 9 significant digits: of values up to 4e-3, 5e-12. */
    double t = 0.95 / sqrt(2 * 0.975 * 0.025), mean = -1e-3 / 3;
    cr_expect_eq(csv_number(text, "final_val_accuracy,", 1), 3);
    cr_expect(fabs(csv_number(text, "final_val_accuracy,", 4) - mean) <= 5e-12);
    cr_expect(fabs(csv_number(text, "final_val_accuracy,", 5) - 1e-3 * sqrt(4.0 / 3)) <= 5e-12);
    cr_expect(fabs(csv_number(text, "final_val_accuracy,", 6) - (mean - 2e-3 / 3 * t)) <= 5e-12);
    cr_expect(fabs(csv_number(text, "final_val_accuracy,", 7) - (mean + 2e-3 / 3 * t)) <= 5e-12);
    /* The bootstrap's means of 3 draws from {+1, -1, -1} are -1, -1/3, +1/3 or +1 (x 1e-3); the
     * 250th from either end of 10,000 is -1 (P(-1) = 8/27) and +1 (P(+1) = 1/27: 370 expected,
     * 250 is 6 standard deviations below). */
    cr_expect_eq(csv_number(text, "final_val_accuracy,", 8), -1e-3);
    cr_expect_eq(csv_number(text, "final_val_accuracy,", 9), 1e-3);
    /* Sign test: 1 up, 2 down: 2 P(X <= 1) = 2 * 4/8 = 1. Wilcoxon with the tie: W+ = 2 of
     * sums {0, 2, 2, 2, 4, 4, 4, 6}: 2 min(4/8, 7/8) = 1 (0.5 if the ranks were 1, 2, 3). */
    cr_expect_eq(csv_number(text, "final_val_accuracy,", 10), 1);
    cr_expect_eq(csv_number(text, "final_val_accuracy,", 11), 1);
    csv_field(text, "final_val_accuracy,", 12, v, sizeof v);
    cr_expect_str_eq(v, "true");
    csv_field(text, "final_val_accuracy,", 13, v, sizeof v);
    cr_expect_str_eq(v, "1", "one win");
    csv_field(text, "final_val_accuracy,", 15, v, sizeof v);
    cr_expect_str_eq(v, "2", "two losses");
    /* final training loss: -0.1, -0.2, -0.3, all wins; its t interval lies below 0: mean -0.2,
     * sd 0.1, half-width t 0.1/sqrt(3) = 0.248: it holds 0. train_seconds +1, +2, +3. */
    cr_expect(fabs(csv_number(text, "final_loss,", 4) + 0.2) <= 1e-9);
    cr_expect(fabs(csv_number(text, "final_loss,", 6) - (-0.2 - t * 0.1 / sqrt(3))) <= 1e-9);
    csv_field(text, "final_loss,", 13, v, sizeof v);
    cr_expect_str_eq(v, "3");
    cr_expect(fabs(csv_number(text, "train_seconds,", 4) - 2) <= 1e-9);
    /* final val_loss: seed 8's gc run has none, so 2 pairs. */
    cr_expect_eq(csv_number(text, "final_val_loss,", 1), 2);
    snprintf(path, sizeof path, "%s/report/study.svg", dir);
    cli_slurp(path, text, sizeof text);
    cr_expect(strstr(text, "</svg>") && strstr(text, "PyTorch 1.13.1: hand 96x96, 16 train / 1000 val"), "%.300s", text);
    test_remove_tree(dir);
}

/* The same k/n differences are one double, whatever the values: the tie above rests on it. */
Test(study_log, equal_differences_of_fractions_are_equal)
{
    cr_expect_eq(study_difference(563 / 1000.0, 562 / 1000.0), study_difference(10 / 1000.0, 9 / 1000.0));
    cr_expect_eq(study_difference(282 / 1000.0, 281 / 1000.0), 1e-3);
    cr_expect_eq(study_difference(0.75, 0.75), 0.0);
    cr_expect(isnan(study_difference(NAN, 0.5)));
    cr_expect(isinf(study_difference(INFINITY, 0.5)));
}

/* ---- gcbench's own study, rebuilt ------------------------------------------------------- */

/* study_log on the log of gcbench --seeds gives gcbench's study files. The log holds values to
 * 9 significant digits (below 10, an error under 5e-10 each) and differences are snapped to
 * 1e-9, so a difference may move by 1e-9 and the statistics, linear in them or their square
 * root's spread, by a few times that; seconds (below 1000) by 5e-7. Signs, ranks and so the
 * tests' p-values, counts and verdicts are the same exactly. */
Test(study_log, a_gcbench_study_log_gives_gcbench_s_own_study_files, .timeout = 300)
{
    char dir[64], args[1024], path[300];
    static char a[1 << 16], b[1 << 16];
    test_temp_dir(dir, sizeof dir, "study_log_gcbench");
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 24 --val-images 16 --batch 8 --epochs 3 --threads 2 --seed 3 --seeds 4 "
             "--target-accuracy 0.5 --quiet --report '%s/gcbench'", dir);
    const cli_result *r = cli_run("", GCBENCH_BIN, args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    snprintf(args, sizeof args, "'%s/gcbench/log.jsonl' --quiet --report '%s/rebuilt'", dir, dir);
    r = cli_run("", STUDY_LOG_BIN, args);
    cr_assert_eq(r->status, 0, "%s", r->err);

    static const char *const files[] = {"study.csv", "study_summary.csv"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/gcbench/%s", dir, files[k]);
        cli_slurp(path, a, sizeof a);
        snprintf(path, sizeof path, "%s/rebuilt/%s", dir, files[k]);
        cli_slurp(path, b, sizeof b);
        /* Field by field: text fields equal, numbers within the tolerance above. */
        const char *p = a, *q = b;
        int fields = 0;
        while (*p && *q) {
            size_t n = strcspn(p, ",\n"), m = strcspn(q, ",\n");
            char x[128], y[128];
            snprintf(x, sizeof x, "%.*s", (int)n, p);
            snprintf(y, sizeof y, "%.*s", (int)m, q);
            char *ex, *ey;
            double vx = strtod(x, &ex), vy = strtod(y, &ey);
            if (*x && !*ex && *y && !*ey)
                cr_expect(fabs(vx - vy) <= 1e-8 + 2e-9 * fabs(vx), "%s field %d: %s vs %s", files[k], fields, x, y);
            else
                cr_expect_str_eq(x, y, "%s field %d", files[k], fields);
            cr_assert_eq(p[n], q[m], "%s: the rows differ in shape at field %d", files[k], fields);
            p += n + (p[n] != 0), q += m + (q[m] != 0), fields++;
        }
        cr_expect(!*p && !*q, "%s: one file is longer", files[k]);
        cr_expect_gt(fields, 20);
    }
    test_remove_tree(dir);
}

/* ---- logs that are not a study ---------------------------------------------------------- */

static void expect_bad_log(const char *log, const char *mentions)
{
    char dir[64], path[300], args[600];
    test_temp_dir(dir, sizeof dir, "study_log_bad");
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    write_text(path, log);
    snprintf(args, sizeof args, "'%s'", path);
    const cli_result *r = cli_run("", STUDY_LOG_BIN, args);
    cr_expect_eq(r->status, 2, "%s", log);
    cr_expect(strncmp(r->err, "study_log: error: ", 18) == 0 && strstr(r->err, path) && strstr(r->err, mentions),
              "stderr '%s' should name the log and '%s'", r->err, mentions);
    test_remove_tree(dir);
}

#define RUN(name, seed)                                                                                            \
    "{\"event\":\"run_start\",\"run\":\"" name "\",\"seed\":" seed "}\n"                                          \
    "{\"event\":\"epoch\",\"run\":\"" name "\",\"epoch\":1,\"loss\":0.7,\"accuracy\":0.5,\"val_loss\":0.69,\"val_accuracy\":0.5}\n" \
    "{\"event\":\"summary\",\"run\":\"" name "\",\"train_seconds\":1}\n"

Test(study_log, logs_that_are_not_a_study_exit_2_naming_the_file_and_line)
{
    expect_bad_log(RUN("gc", "1"), ":1: a gc run without a baseline");
    expect_bad_log(RUN("baseline", "1") RUN("baseline", "2"), ":4: a baseline run follows a baseline run");
    expect_bad_log(RUN("baseline", "1"), "the last seed's baseline has no gc run");
    expect_bad_log(RUN("baseline", "1") RUN("gc", "2"), ":4: the gc run's seed is not its baseline's");
    expect_bad_log(RUN("baseline", "1") RUN("gc", "1") RUN("baseline", "3") RUN("gc", "3"),
                   "the pairs' seeds must follow one another");
    expect_bad_log("{\"event\":\"config\",\"seed\":1}\n{\"event\":\"epoch\",\"run\":\"gc\"\n", ":2: not a JSON object");
    expect_bad_log("{\"event\":\"run_start\",\"run\":\"baseline\"}\n{\"event\":\"epoch\",\"run\":\"baseline\",\"epoch\":2}\n",
                   ":2: epochs out of order");
    expect_bad_log("{\"event\":\"run_start\",\"run\":\"baseline\"}\n", "the last run has no summary record");
    expect_bad_log("{\"event\":\"config\"}\n", "no baseline and gc pair of runs");
    expect_bad_log("", "no baseline and gc pair of runs");

    char dir[64], args[600];
    test_temp_dir(dir, sizeof dir, "study_log_usage");
    snprintf(args, sizeof args, "'%s/missing.jsonl'", dir);
    const cli_result *r = cli_run("", STUDY_LOG_BIN, args);
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "cannot open the log") && strstr(r->err, "missing.jsonl"), "%s", r->err);
    r = cli_run("", STUDY_LOG_BIN, "x.jsonl --target-accuracy 2");
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "--target-accuracy") != NULL, "%s", r->err);
    r = cli_run("", STUDY_LOG_BIN, "");
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "no log given") != NULL, "%s", r->err);
    test_remove_tree(dir);
}
