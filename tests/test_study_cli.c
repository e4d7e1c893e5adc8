/* gcbench --seeds, run for real: bad values exit 2 naming the flag; a study is N --compare
 * pairs at consecutive seeds whose records and statistics agree with their epochs; its
 * report files are written; and a study killed with SIGKILL resumes to the uninterrupted log. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "cli_support.h"
#include "tempdir.h"

/* Runs gcbench with args (shell words), capturing stdout, stderr and the exit status. */
static const cli_result *run(const char *args) { return cli_run("", GCBENCH_BIN, args); }

static void expect_usage_error(const char *args, const char *mentions)
{
    const cli_result *r = run(args);
    cr_expect_eq(r->status, 2, "gcbench %s", args);
    cr_expect(strncmp(r->err, "gcbench: error: ", 16) == 0 && strstr(r->err, mentions) != NULL,
              "gcbench %s: stderr '%s' should name %s", args, r->err, mentions);
}

Test(study_cli, bad_values_exit_2_naming_the_flag)
{
    expect_usage_error("--seeds 0", "--seeds");
    expect_usage_error("--seeds many", "--seeds");
    expect_usage_error("--seeds 1001", "--seeds");
    expect_usage_error("--seeds", "--seeds");
    expect_usage_error("--seeds 3 --target-accuracy 0", "--target-accuracy");
    expect_usage_error("--seeds 3 --target-accuracy 1.5", "--target-accuracy");
    expect_usage_error("--seeds 3 --target-accuracy high", "--target-accuracy");
    expect_usage_error("--target-accuracy 0.9", "--target-accuracy");
    expect_usage_error("--seeds 3 --gc", "--seeds");
    expect_usage_error("--seeds 3 --no-gc", "--seeds");
    expect_usage_error("--seeds 3 --scaling 1,2", "--seeds");
    expect_usage_error("--seeds 2 --seed 18446744073709551615", "--seeds");
}

/* ---- records ---------------------------------------------------------------------------- */

/* The lines of log from the first containing `from` (NULL: the start) up to, not including,
 * the next containing `to` (NULL: the end), keeping those containing `keep`, into out. */
static void lines_between(const char *log, const char *from, const char *to, const char *keep, char *out, size_t size)
{
    const char *p = from ? strstr(log, from) : log;
    cr_assert(p, "no '%s' in the log", from);
    while (p > log && p[-1] != '\n') p--;
    if (from) p = strchr(p, '\n') + 1; /* after the marker's line */
    size_t at = 0;
    out[0] = '\0';
    for (const char *line = p; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        char buf[8192];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        if (to && strstr(buf, to)) break;
        if (strstr(buf, keep) && at + len < size) memcpy(out + at, line, len), at += len, out[at] = '\0';
        line += len;
    }
}

/* The number after "key": in the object "object":{...} of line (object NULL: anywhere). */
static double number(const char *line, const char *object, const char *key)
{
    char pat[96];
    const char *at = line;
    if (object) {
        snprintf(pat, sizeof pat, "\"%s\":{", object);
        at = strstr(line, pat);
        cr_assert(at, "no %s in %s", pat, line);
    }
    snprintf(pat, sizeof pat, "\"%s\":", key);
    at = strstr(at, pat);
    cr_assert(at, "no %s in %s", pat, line);
    at += strlen(pat);
    return strncmp(at, "null", 4) == 0 ? NAN : strtod(at, NULL);
}

/* The n-th (0-based) line of log containing needle, into buf. */
static void nth_line(const char *log, const char *needle, int n, char *buf, size_t size)
{
    const char *p = log;
    for (int i = 0; i <= n; i++) {
        p = strstr(p, needle);
        cr_assert(p, "fewer than %d lines with %s", n + 1, needle);
        if (i < n) p++;
    }
    while (p > log && p[-1] != '\n') p--;
    snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
}

static int count(const char *log, const char *needle)
{
    int c = 0;
    for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle)) c++;
    return c;
}

/* A small PNG class-folder tree: images that depend on nothing but their index. */
static void write_tree(const char *root)
{
    static const char *names[] = {"dots", "stripes"};
    uint8_t px[24 * 24 * 3];
    for (int split = 0; split < 2; split++)
        for (int c = 0; c < 2; c++) {
            char path[512], cmd[600];
            snprintf(path, sizeof path, "%s/%s/%s", root, split ? "validation" : "train", names[c]);
            snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
            cr_assert_eq(system(cmd), 0);
            for (int i = 0; i < (split ? 4 : 12); i++) {
                for (size_t k = 0; k < sizeof px; k++)
                    px[k] = (uint8_t)(c ? (size_t)((k / 3 / 24) % 4 < 2 ? 220 : 30) + (size_t)i : (k * 37 + (size_t)i * 11) % 251);
                char file[600];
                snprintf(file, sizeof file, "%s/%02d.png", path, i);
                cr_assert_eq(png_write_rgb(file, px, 24, 24), GC_OK, "%s", gc_error_message());
            }
        }
}

#define STUDY_RUN "--image-size 94 --batch 8 --epochs 3 --threads 2 --quiet"

Test(study_cli, each_seed_is_the_compare_of_that_seed_and_the_records_agree, .timeout = 300)
{
    static char study_log[1 << 17], plain_log[1 << 16], pair[1 << 16], plain[1 << 16];
    char dir[64], args[2048], path[300], line[8192], epoch[8192];
    test_temp_dir(dir, sizeof dir, "study");
    write_tree(dir);
    snprintf(args, sizeof args, "--data '%s' " STUDY_RUN " --seed 42 --seeds 2 --target-accuracy 0.5 --report '%s/report'",
             dir, dir);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_expect(strstr(r->out, "Seed study: 2 paired comparisons, seeds 42..43") != NULL, "%s", r->out);
    snprintf(path, sizeof path, "%s/report/log.jsonl", dir);
    cli_slurp(path, study_log, sizeof study_log);
    snprintf(args, sizeof args, "--data '%s' " STUDY_RUN " --seed 43 --log '%s/plain.jsonl'", dir, dir);
    r = run(args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    snprintf(path, sizeof path, "%s/plain.jsonl", dir);
    cli_slurp(path, plain_log, sizeof plain_log);

    cr_expect_eq(count(study_log, "{\"event\":\"config\""), 1);
    cr_expect_eq(count(study_log, "{\"event\":\"study\",\"kind\":\"seed\""), 2);
    cr_expect_eq(count(study_log, "{\"event\":\"study\",\"kind\":\"summary\""), 1);
    cr_expect_eq(count(study_log, "{\"event\":\"run_start\""), 4);
    cr_expect_eq(count(study_log, "{\"event\":\"summary\""), 4);

    /* The second seed's runs are exactly `--seed 43`'s --compare (the folders do not depend on
     * the seed): the same run_start, epoch and summary records, timings aside. */
    lines_between(study_log, "\"kind\":\"seed\",\"index\":0", "\"kind\":\"seed\",\"index\":1", "\"run\":\"", pair, sizeof pair);
    lines_between(plain_log, NULL, NULL, "\"run\":\"", plain, sizeof plain);
    cli_strip_timings(pair);
    cli_strip_timings(plain);
    cr_expect_str_eq(pair, plain);
    /* Each pair starts from one set of weights; the seeds' weights differ. */
    char a[8192], b[8192];
    nth_line(study_log, "\"run_start\"", 0, a, sizeof a);
    nth_line(study_log, "\"run_start\"", 1, b, sizeof b);
    cr_expect(strcmp(strstr(a, "init_checksum"), strstr(b, "init_checksum")) == 0, "%s / %s", a, b);
    nth_line(study_log, "\"run_start\"", 2, b, sizeof b);
    cr_expect(strcmp(strstr(a, "init_checksum"), strstr(b, "init_checksum")) != 0, "seeds 42 and 43 start alike");

    /* Seed records from the epochs: the gc run of seed 43 is the last 3 epoch records. */
    nth_line(study_log, "\"kind\":\"seed\",\"index\":1", 0, line, sizeof line);
    cr_expect_eq(number(line, NULL, "seed"), 43);
    double acc[3], best = -1, sum = 0, target = NAN;
    for (int e = 0; e < 3; e++) {
        nth_line(study_log, "{\"event\":\"epoch\",\"run\":\"gc\"", 3 + e, epoch, sizeof epoch);
        acc[e] = number(epoch, NULL, "val_accuracy");
        best = fmax(best, acc[e]), sum += acc[e];
        if (isnan(target) && acc[e] >= 0.5) target = e + 1;
    }
    cr_expect_eq(number(line, "gc", "final_val_accuracy"), acc[2]);
    cr_expect_eq(number(line, "gc", "best_val_accuracy"), best);
    cr_expect(fabs(number(line, "gc", "last3_val_accuracy") - sum / 3) <= 1e-8, "mean of the last 3");
    cr_expect(number(line, "gc", "target_epoch") == target || (isnan(target) && isnan(number(line, "gc", "target_epoch"))));
    cr_expect_eq(number(line, "gc", "final_loss"), number(epoch, NULL, "loss"));
    double d1 = number(line, "difference", "final_loss");
    cr_expect(fabs(d1 - (number(line, "gc", "final_loss") - number(line, "baseline", "final_loss"))) <= 1e-8);

    /* The summary's mean difference is the mean of the seeds' differences (9 digits each). */
    nth_line(study_log, "\"kind\":\"seed\",\"index\":0", 0, line, sizeof line);
    double d0 = number(line, "difference", "final_loss");
    nth_line(study_log, "\"kind\":\"summary\"", 0, line, sizeof line);
    cr_expect(fabs(number(line, "final_loss", "mean_difference") - (d0 + d1) / 2) <= 1e-8 * fabs(d0) + 1e-12);
    cr_expect_eq(number(line, "final_loss", "n"), 2);
    cr_expect(strstr(line, "\"verdict\":\"") != NULL);

    /* The report: a row per seed and metric, a row per metric, the chart. */
    static char text[1 << 16];
    snprintf(path, sizeof path, "%s/report/study.csv", dir);
    cli_slurp(path, text, sizeof text);
    cr_expect_eq(count(text, "\n"), 1 + 2 * 8, "%s", text);
    cr_expect_eq(count(text, "\n43,final_val_accuracy,"), 1);
    snprintf(path, sizeof path, "%s/report/study_summary.csv", dir);
    cli_slurp(path, text, sizeof text);
    cr_expect_eq(count(text, "\n"), 1 + 8, "%s", text);
    snprintf(path, sizeof path, "%s/report/study.svg", dir);
    cli_slurp(path, text, sizeof text);
    cr_expect(strstr(text, "<svg") && strstr(text, "</svg>") && count(text, "class=\"band\"") >= 3,
              "two runs' bands and the interval");
    test_remove_tree(dir);
}

/* ---- resuming ----------------------------------------------------------------------------- */

#define KILL_RUN "--image-size 94 --train-images 48 --val-images 16 --batch 16 --epochs 2 --threads 2 --quiet --seeds 3"

/* The log without timings, and without the summary's train_seconds metric, which is made of
 * timings only. */
static void comparable(char *log)
{
    char *m = strstr(log, "\"train_seconds\":{");
    if (m) {
        char *end = strchr(m, '}');
        memmove(m, end + 1, strlen(end + 1) + 1);
    }
    cli_strip_timings(log);
}

Test(study_cli, sigkill_in_a_later_seed_then_resume_gives_the_uninterrupted_log, .timeout = 300)
{
    static char expect[1 << 17], got[1 << 17];
    char dir[64], args[2048], ref[300], ckpt[300], log[300];
    test_temp_dir(dir, sizeof dir, "study_kill");
    snprintf(ref, sizeof ref, "%s/ref.jsonl", dir);
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    snprintf(log, sizeof log, "%s/run.jsonl", dir);
    snprintf(args, sizeof args, KILL_RUN " --log '%s'", ref);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cli_slurp(ref, expect, sizeof expect);
    comparable(expect);

    /* Killed once the first seed is finished (its study record is in the log): in seed 43 or 44. */
    snprintf(args, sizeof args, KILL_RUN " --checkpoint '%s' --log '%s'", ckpt, log);
    pid_t pid = cli_start(GCBENCH_BIN, args);
    static char partial[1 << 17];
    for (int i = 0; i < 6000; i++) {
        cli_slurp(log, partial, sizeof partial);
        if (strstr(partial, "\"kind\":\"seed\",\"index\":0")) break;
        usleep(5000);
    }
    usleep(100000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cli_slurp(log, partial, sizeof partial);
    cr_assert(strstr(partial, "\"kind\":\"seed\",\"index\":0") != NULL, "the first seed finished before the kill");
    cr_expect(strstr(partial, "\"kind\":\"summary\"") == NULL, "killed before the study ended (make the run longer)");

    snprintf(args, sizeof args, KILL_RUN " --checkpoint '%s' --resume '%s' --log '%s'", ckpt, ckpt, log);
    r = run(args);
    cr_assert_eq(r->status, 0, "resume failed: %s", r->err);
    cli_slurp(log, got, sizeof got);
    comparable(got);
    cr_expect_str_eq(got, expect);

    /* The checkpoint belongs to this study: without --seeds, or with another count, it is refused. */
    snprintf(args, sizeof args, "--image-size 94 --train-images 48 --val-images 16 --batch 16 --epochs 2 --threads 2 "
                                "--quiet --resume '%s'", ckpt);
    r = run(args);
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "seeds=3") != NULL, "%s", r->err);
    snprintf(args, sizeof args, KILL_RUN " --seeds 4 --resume '%s'", ckpt);
    r = run(args);
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "seeds=3") != NULL, "%s", r->err);
    test_remove_tree(dir);
}
