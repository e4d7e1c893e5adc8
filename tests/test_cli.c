/* gcbench's command line: bad usage exits 2 naming the flag; the log honours its contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/error.h"
#include "options.h"

typedef struct {
    int status;
    char out[1 << 16], err[1 << 14];
} result;

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    unlink(path);
}

/* Runs gcbench with args (a shell word list), capturing stdout, stderr and the exit status. */
static result *run(const char *args)
{
    static result r;
    char out[] = "/tmp/gcbench_test_outXXXXXX", err[] = "/tmp/gcbench_test_errXXXXXX";
    int fo = mkstemp(out), fe = mkstemp(err);
    cr_assert(fo >= 0 && fe >= 0);
    close(fo);
    close(fe);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", GCBENCH_BIN, args, out, err);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "gcbench did not exit normally: %s", cmd);
    r.status = WEXITSTATUS(st);
    slurp(out, r.out, sizeof r.out);
    slurp(err, r.err, sizeof r.err);
    return &r;
}

static void expect_usage_error(const char *args, const char *mentions)
{
    result *r = run(args);
    cr_expect_eq(r->status, 2, "gcbench %s: exit %d", args, r->status);
    cr_expect(strncmp(r->err, "gcbench: error: ", 16) == 0, "gcbench %s: stderr '%s'", args, r->err);
    cr_expect(strstr(r->err, mentions) != NULL, "gcbench %s: stderr '%s' should mention '%s'", args, r->err, mentions);
}

Test(cli, unknown_flag_exits_2_naming_it) { expect_usage_error("--frobnicate", "--frobnicate"); }
Test(cli, bad_integer_exits_2_naming_the_flag) { expect_usage_error("--epochs abc", "--epochs"); }
Test(cli, trailing_garbage_is_rejected) { expect_usage_error("--batch=12x", "--batch"); }
Test(cli, zero_epochs_is_rejected) { expect_usage_error("--epochs 0", "--epochs"); }
Test(cli, negative_threads_are_rejected) { expect_usage_error("--threads -2", "--threads"); }
Test(cli, negative_learning_rate_is_rejected) { expect_usage_error("--lr -1", "--lr"); }
Test(cli, non_numeric_learning_rate_is_rejected) { expect_usage_error("--lr fast", "--lr"); }
Test(cli, bad_scope_is_rejected) { expect_usage_error("--gc-scope dense", "--gc-scope"); }
Test(cli, missing_value_is_rejected) { expect_usage_error("--seed", "--seed"); }
Test(cli, value_on_a_switch_is_rejected) { expect_usage_error("--gc=yes", "--gc"); }
Test(cli, bad_pin_is_rejected) { expect_usage_error("--pin everywhere", "--pin"); }
Test(cli, bad_scaling_list_is_rejected) { expect_usage_error("--scaling 1,,2", "--scaling"); }
Test(cli, zero_in_scaling_list_is_rejected) { expect_usage_error("--scaling 1,0", "--scaling"); }
Test(cli, small_image_size_names_the_smallest_valid_size) { expect_usage_error("--image-size 50", "94"); }
Test(cli, unwritable_log_names_the_file)
{
    expect_usage_error("--log /nonexistent-dir/run.jsonl --epochs 1 --train-images 1 --val-images 1 --image-size 94",
                       "/nonexistent-dir/run.jsonl");
}

Test(cli, help_and_version_exit_0)
{
    result *r = run("--help");
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "--gc-scope") != NULL);
    r = run("--version");
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "gcbench " GCBENCH_VERSION) != NULL, "%s", r->out);
}

Test(options, parse_defaults_and_both_value_forms)
{
    options o;
    char *none[] = {"gcbench", NULL};
    cr_assert_eq(options_parse(&o, 1, none), GC_OK);
    cr_expect(o.run_baseline && o.run_gc, "--compare is the default");
    cr_expect_eq(o.epochs, 10);
    cr_expect_eq(o.batch, 128);
    cr_expect_eq(o.image_size, 300);
    cr_expect_eq(o.train_images, 1027);
    cr_expect_eq(o.val_images, 256);
    cr_expect_eq(o.scope, GC_SCOPE_ALL);
    cr_expect_float_eq(o.lr, 1e-4, 1e-12);

    char *args[] = {"gcbench", "--gc", "--epochs=3", "--batch", "16", "--gc-scope=conv", "--seed", "7", NULL};
    cr_assert_eq(options_parse(&o, 8, args), GC_OK);
    cr_expect(o.run_gc && !o.run_baseline);
    cr_expect_eq(o.epochs, 3);
    cr_expect_eq(o.batch, 16);
    cr_expect_eq(o.scope, GC_SCOPE_CONV);
    cr_expect_eq(o.seed, 7u);

    char *both[] = {"gcbench", "--gc", "--no-gc", NULL};
    cr_assert_eq(options_parse(&o, 3, both), GC_OK);
    cr_expect(o.run_gc && o.run_baseline);
}

/* Counts lines of `log` containing `needle`. */
static int count_lines_with(const char *log, const char *needle)
{
    int count = 0;
    for (const char *line = log; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        count += strstr(buf, needle) != NULL;
        line = end ? end + 1 : NULL;
    }
    return count;
}

/* Deletes the values of every "...seconds" and "images_per_second" field: timings differ. */
static void strip_timings(char *s)
{
    static const char *keys[] = {"seconds\":", "images_per_second\":"};
    for (int k = 0; k < 2; k++)
        for (char *p = strstr(s, keys[k]); p; p = strstr(p + 1, keys[k])) {
            char *v = p + strlen(keys[k]), *end = v + strcspn(v, ",}");
            memmove(v, end, strlen(end) + 1);
        }
}

Test(cli, log_follows_the_contract_and_repeats_exactly)
{
    char path[] = "/tmp/gcbench_test_logXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char args[512];
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 20 --val-images 8 --batch 8 --epochs 2 --threads 2 --quiet --log '%s'", path);
    static char first[1 << 16], second[1 << 16];
    for (int pass = 0; pass < 2; pass++) {
        result *r = run(args);
        cr_assert_eq(r->status, 0, "stderr: %s", r->err);
        slurp(path, pass ? second : first, sizeof first);
    }
    cr_expect_eq(count_lines_with(first, "{\"event\":\"config\""), 1);
    cr_expect_eq(count_lines_with(first, "{\"event\":\"run_start\""), 2);
    cr_expect_eq(count_lines_with(first, "{\"event\":\"epoch\""), 4);
    cr_expect_eq(count_lines_with(first, "{\"event\":\"summary\""), 2);
    cr_expect_eq(count_lines_with(first, "\"run\":\"baseline\",\"gc_scope\":null"), 1);
    cr_expect_eq(count_lines_with(first, "\"run\":\"gc\",\"gc_scope\":\"all\""), 1);
    const char *fields[] = {"\"version\":", "\"threads\":2", "\"simd\":", "\"pin\":", "\"onednn\":", "\"batch\":8",
                            "\"epochs\":2", "\"image_size\":94", "\"train_images\":20", "\"val_images\":8",
                            "\"seed\":42", "\"dataset\":"};
    char config[4096];
    snprintf(config, sizeof config, "%.*s", (int)strcspn(first, "\n"), first);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        cr_expect(strstr(config, fields[i]) != NULL, "config field %s in %s", fields[i], config);
    const char *epoch_fields[] = {"\"epoch\":", "\"loss\":", "\"accuracy\":", "\"val_loss\":", "\"val_accuracy\":",
                                  "\"seconds\":", "\"images_per_second\":"};
    for (size_t i = 0; i < sizeof epoch_fields / sizeof *epoch_fields; i++)
        cr_expect_geq(count_lines_with(first, epoch_fields[i]), 4, "epoch field %s", epoch_fields[i]);

    /* Both runs start from the same weights: the two run_start lines carry one checksum. */
    const char *a = strstr(first, "\"init_checksum\":\""), *b = a ? strstr(a + 1, "\"init_checksum\":\"") : NULL;
    cr_assert(a && b);
    cr_expect(strncmp(a, b, 16 + 19) == 0, "init checksums differ");

    strip_timings(first);
    strip_timings(second);
    cr_expect_str_eq(first, second, "two runs with the same seed and threads log the same");
}

Test(cli, scaling_study_prints_and_logs_a_point_per_thread_count)
{
    char path[] = "/tmp/gcbench_test_logXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    char args[512];
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 16 --val-images 8 --batch 8 --epochs 1 --no-gc --quiet --scaling 1,100000 --log '%s'",
             path);
    expect_usage_error(args, "--scaling"); /* 100000 is above the largest thread count */
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 16 --val-images 8 --batch 8 --epochs 1 --no-gc --quiet --scaling 1,1024 --log '%s'",
             path);
    result *r = run(args);
    cr_assert_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect(strstr(r->out, "speedup") != NULL, "%s", r->out);
    cr_expect(strstr(r->out, "skipped: 1024") != NULL, "%s", r->out);
    static char log[1 << 16];
    slurp(path, log, sizeof log);
    cr_expect_eq(count_lines_with(log, "{\"event\":\"scaling\",\"threads\":1,"), 1, "%s", log);
    cr_expect_eq(count_lines_with(log, "\"speedup\":1,\"efficiency\":1"), 1, "%s", log);
}
