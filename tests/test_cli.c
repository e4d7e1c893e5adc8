/* gcbench's command line: bad usage exits 2 naming the flag; the log honours its contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "options.h"
#include "cli_support.h"
#include "tempdir.h"

/* Runs gcbench with args (a shell word list), capturing stdout, stderr and the exit status. */
static const cli_result *run(const char *args) { return cli_run("", GCBENCH_BIN, args); }

static void expect_usage_error(const char *args, const char *mentions)
{
    const cli_result *r = run(args);
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
Test(cli, unknown_model_is_rejected_naming_the_known_ones) { expect_usage_error("--model vgg16", "seed"); }
/* The size check runs after every flag: --model after --image-size still gets it. */
Test(cli, small_image_size_is_rejected_whatever_the_flag_order) { expect_usage_error("--image-size 50 --model seed", "94"); }
Test(cli, unwritable_log_names_the_file)
{
    expect_usage_error("--log /nonexistent-dir/run.jsonl --epochs 1 --train-images 1 --val-images 1 --image-size 94",
                       "/nonexistent-dir/run.jsonl");
}

Test(cli, data_and_train_dir_are_alternatives) { expect_usage_error("--data a --train-dir b --val-dir c", "--data"); }
Test(cli, train_dir_needs_val_dir) { expect_usage_error("--train-dir a", "--val-dir"); }
Test(cli, synthetic_sizes_do_not_apply_to_folders) { expect_usage_error("--data a --train-images 5", "--train-images"); }
Test(cli, skip_invalid_needs_folders) { expect_usage_error("--skip-invalid", "--skip-invalid"); }
Test(cli, missing_data_folder_names_it) { expect_usage_error("--data /nonexistent-gcbench-data --epochs 1", "/nonexistent-gcbench-data"); }
Test(cli, report_under_a_file_names_it) { expect_usage_error("--report /etc/hostname/report --epochs 1", "/etc/hostname/report"); }

Test(cli, help_and_version_exit_0)
{
    const cli_result *r = run("--help");
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
    cr_expect_float_eq(o.hp.lr, 1e-4, 1e-12);
    cr_expect_str_eq(o.optimizer->name, "rmsprop");

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

/* Catches: the variable ignored, or overriding an explicit --epochs, or a bad value taken. */
Test(options, gcbench_epochs_sets_the_default_and_the_flag_wins)
{
    options o;
    char *none[] = {"gcbench", NULL};
    char *flag[] = {"gcbench", "--epochs", "5", NULL};
    cr_assert_eq(setenv("GCBENCH_EPOCHS", "3", 1), 0);
    cr_assert_eq(options_parse(&o, 1, none), GC_OK);
    cr_expect_eq(o.epochs, 3);
    cr_assert_eq(options_parse(&o, 3, flag), GC_OK);
    cr_expect_eq(o.epochs, 5, "--epochs wins over GCBENCH_EPOCHS");
    cr_assert_eq(setenv("GCBENCH_EPOCHS", "0", 1), 0);
    cr_expect_eq(options_parse(&o, 1, none), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "GCBENCH_EPOCHS") != NULL, "message: %s", gc_error_message());
    gc_error_clear();
    cr_assert_eq(unsetenv("GCBENCH_EPOCHS"), 0);
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

Test(cli, log_follows_the_contract_and_repeats_exactly)
{
    char path[64];
    test_temp_file(path, sizeof path, "log");
    char args[512];
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 20 --val-images 8 --batch 8 --epochs 2 --threads 2 --quiet --log '%s'", path);
    static char first[1 << 16], second[1 << 16];
    for (int pass = 0; pass < 2; pass++) {
        const cli_result *r = run(args);
        cr_assert_eq(r->status, 0, "stderr: %s", r->err);
        cli_slurp_remove(path, pass ? second : first, sizeof first);
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

    cli_strip_timings(first);
    cli_strip_timings(second);
    cr_expect_str_eq(first, second, "two runs with the same seed and threads log the same");
}

/* The epoch record of a one-run, one-epoch log, timings removed. */
static void epoch_line(const char *extra, char *out, size_t size)
{
    char path[64], args[512];
    test_temp_file(path, sizeof path, "log");
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 16 --val-images 4 --batch 8 --epochs 1 --gc --quiet %s --log '%s'", extra,
             path);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "gcbench %s: %s", args, r->err);
    static char log[1 << 16];
    cli_slurp_remove(path, log, sizeof log);
    const char *e = strstr(log, "{\"event\":\"epoch\"");
    cr_assert(e, "no epoch record in %s", log);
    snprintf(out, size, "%.*s", (int)strcspn(e, "\n"), e);
    cli_strip_timings(out);
}

/* Each training flag reaches the training: two steps per epoch, so the loss and validation
 * loss see the first update (--lr, --gc-scope) or other images (--no-augment). */
Test(cli, training_flags_change_what_is_trained)
{
    static char base[4096], other[4096];
    epoch_line("", base, sizeof base);
    const char *flags[] = {"--lr 1e-2", "--gc-scope conv", "--no-augment"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        epoch_line(flags[i], other, sizeof other);
        cr_expect_str_neq(base, other, "%s trains as without it: %s", flags[i], other);
    }
    epoch_line("", other, sizeof other);
    cr_expect_str_eq(base, other, "the same flags train the same");
}

Test(cli, scaling_study_prints_and_logs_a_point_per_thread_count)
{
    char path[64];
    test_temp_file(path, sizeof path, "log");
    char args[512];
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 16 --val-images 8 --batch 8 --epochs 1 --no-gc --quiet --scaling 1,100000 --log '%s'",
             path);
    expect_usage_error(args, "--scaling"); /* 100000 is above the largest thread count */
    snprintf(args, sizeof args,
             "--image-size 94 --train-images 16 --val-images 8 --batch 8 --epochs 1 --no-gc --quiet --scaling 1,1024 --log '%s'",
             path);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect(strstr(r->out, "speedup") != NULL, "%s", r->out);
    cr_expect(strstr(r->out, "skipped: 1024") != NULL, "%s", r->out);
    static char log[1 << 16];
    cli_slurp_remove(path, log, sizeof log);
    cr_expect_eq(count_lines_with(log, "{\"event\":\"scaling\",\"threads\":1,"), 1, "%s", log);
    cr_expect_eq(count_lines_with(log, "\"speedup\":1,\"efficiency\":1"), 1, "%s", log);
}

/* A small PNG class-folder tree: root/train/<class>/ and root/validation/<class>/. */
static void write_tree(const char *root, int nclasses)
{
    static const char *names[] = {"cats", "dogs", "owls"};
    uint8_t px[20 * 16 * 3];
    char path[512];
    for (int split = 0; split < 2; split++)
        for (int c = 0; c < nclasses; c++) {
            snprintf(path, sizeof path, "%s/%s/%s", root, split ? "validation" : "train", names[c]);
            char cmd[600];
            snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
            cr_assert_eq(system(cmd), 0);
            for (int i = 0; i < 3; i++) {
                for (size_t k = 0; k < sizeof px; k++) px[k] = (uint8_t)(k * (size_t)(c + 1) + (size_t)i * 7);
                char file[600];
                snprintf(file, sizeof file, "%s/%d.png", path, i);
                cr_assert_eq(png_write_rgb(file, px, 20, 16), GC_OK, "%s", gc_error_message());
            }
        }
}

Test(cli, trains_on_png_folders_and_writes_a_report)
{
    char root[64];
    test_temp_dir(root, sizeof root, "data");
    write_tree(root, 2);
    char args[1024];
    snprintf(args, sizeof args, "--data '%s' --image-size 94 --batch 4 --epochs 2 --report '%s/report'", root, root);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect(strstr(r->out, "cats (3), dogs (3)") != NULL, "%s", r->out);
    const char *files[] = {"log.jsonl", "metrics.csv", "curves.svg"};
    for (int i = 0; i < 3; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/report/%s", root, files[i]);
        cr_expect(access(path, R_OK) == 0, "%s exists", path);
    }
    test_remove_tree(root);
}

Test(cli, three_classes_are_refused)
{
    char root[64];
    test_temp_dir(root, sizeof root, "data");
    write_tree(root, 3);
    char args[1024];
    snprintf(args, sizeof args, "--data '%s' --image-size 94 --epochs 1", root);
    expect_usage_error(args, "two-class");
    test_remove_tree(root);
}

/* ---- checkpoints ---------------------------------------------------------------------- */

#define CKPT_RUN "--image-size 94 --train-images 96 --val-images 16 --batch 16 --epochs 3 --threads 2 --quiet"

/* The log of path with its timing fields removed. */
static void timing_free_log(const char *path, char *out, size_t size)
{
    cli_slurp_remove(path, out, size);
    cli_strip_timings(out);
}

static void temp_name(char *buf, size_t size, const char *what)
{
    snprintf(buf, size, "/tmp/gcbench_test_%s_%d_%ld", what, (int)getpid(), (long)time(NULL));
}

/* An uninterrupted run's log, for comparison. */
static void reference_log(char *out, size_t size)
{
    char log[256], args[512];
    temp_name(log, sizeof log, "ref");
    snprintf(args, sizeof args, CKPT_RUN " --log '%s'", log);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "%s", r->err);
    timing_free_log(log, out, size);
}

/* Resumes CKPT_RUN from ckpt, its log continued in log, and expects the log of the run that
 * was never interrupted. */
static void expect_resume_gives(const char *ckpt, const char *log, const char *expect)
{
    static char got[1 << 16];
    char args[1024];
    snprintf(args, sizeof args, CKPT_RUN " --checkpoint '%s' --resume '%s' --log '%s'", ckpt, ckpt, log);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "resume failed: %s", r->err);
    timing_free_log(log, got, sizeof got);
    cr_expect_str_eq(got, expect);
}

Test(checkpoint_cli, sigkill_mid_training_then_resume_gives_the_uninterrupted_log, .timeout = 300)
{
    static char expect[1 << 16];
    reference_log(expect, sizeof expect);

    char ckpt[256], log[256], args[1024];
    temp_name(ckpt, sizeof ckpt, "kill_ckpt");
    temp_name(log, sizeof log, "kill_log");
    snprintf(args, sizeof args, CKPT_RUN " --checkpoint '%s' --log '%s'", ckpt, log);
    pid_t pid = cli_start(GCBENCH_BIN, args);
    /* Kill it hard once the first checkpoint exists: somewhere inside a later epoch. */
    struct stat st;
    for (int i = 0; i < 6000 && stat(ckpt, &st) != 0; i++) usleep(10000);
    cr_assert(stat(ckpt, &st) == 0, "no checkpoint appeared");
    usleep(150000);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);

    expect_resume_gives(ckpt, log, expect);
    unlink(ckpt);
}

Test(checkpoint_cli, sigint_stops_after_a_step_saving_and_resume_completes_it, .timeout = 300)
{
    static char expect[1 << 16];
    reference_log(expect, sizeof expect);
    char ckpt[256], log[256], args[1024];
    temp_name(ckpt, sizeof ckpt, "int_ckpt");
    temp_name(log, sizeof log, "int_log");
    snprintf(args, sizeof args, CKPT_RUN " --checkpoint '%s' --log '%s'", ckpt, log);
    pid_t pid = cli_start(GCBENCH_BIN, args);
    struct stat st;
    for (int i = 0; i < 6000 && stat(ckpt, &st) != 0; i++) usleep(10000);
    kill(pid, SIGINT);
    int status;
    waitpid(pid, &status, 0);
    cr_expect(WIFEXITED(status) && (WEXITSTATUS(status) == 1 || WEXITSTATUS(status) == 0),
              "an interrupted run exits 1 after saving (0 if it had already finished)");
    expect_resume_gives(ckpt, log, expect);
    unlink(ckpt);
}

Test(checkpoint_cli, a_kill_while_writing_leaves_the_previous_checkpoint_intact, .timeout = 300)
{
    static char expect[1 << 16];
    reference_log(expect, sizeof expect);
    char ckpt[256], log[256], args[1024], tmp[300];
    temp_name(ckpt, sizeof ckpt, "torn_ckpt");
    temp_name(log, sizeof log, "torn_log");
    /* The second checkpoint write dies halfway through (GCBENCH_FAULT). */
    snprintf(args, sizeof args, CKPT_RUN " --checkpoint '%s' --log '%s'", ckpt, log);
    setenv("GCBENCH_FAULT", "checkpoint-write:2", 1);
    const cli_result *r = run(args);
    unsetenv("GCBENCH_FAULT");
    cr_expect_neq(r->status, 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", ckpt);
    cr_expect(access(tmp, F_OK) == 0, "the torn write is in the temporary file");
    /* The first checkpoint (after epoch 1) is intact: resuming from it finishes the run exactly. */
    expect_resume_gives(ckpt, log, expect);
    unlink(ckpt);
    unlink(tmp);
}

Test(checkpoint_cli, damaged_or_foreign_checkpoints_exit_2_naming_the_file, .timeout = 300)
{
    char ckpt[256], args[1024], bad[300];
    temp_name(ckpt, sizeof ckpt, "dmg_ckpt");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --checkpoint '%s'", ckpt);
    cr_assert_eq(run(args)->status, 0);
    snprintf(bad, sizeof bad, "%s.bad", ckpt);
    char cmd[1024];
    /* truncated */
    snprintf(cmd, sizeof cmd, "head -c 5000 '%s' > '%s'", ckpt, bad);
    cr_assert_eq(system(cmd), 0);
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --resume '%s'", bad);
    expect_usage_error(args, bad);
    /* one bit flipped */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf '\\001' | dd of='%s' bs=1 seek=4000 conv=notrunc 2>/dev/null",
             ckpt, bad, bad);
    cr_assert_eq(system(cmd), 0);
    expect_usage_error(args, "corrupt");
    /* not a checkpoint at all */
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --resume /etc/hostname");
    expect_usage_error(args, "/etc/hostname");
    /* another configuration */
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --batch 8 --resume '%s'", ckpt);
    expect_usage_error(args, "batch=16");
    unlink(ckpt);
    unlink(bad);
}

Test(checkpoint_cli, a_non_finite_gradient_stops_naming_epoch_step_and_tensor, .timeout = 300)
{
    char ckpt[256], args[1024];
    temp_name(ckpt, sizeof ckpt, "nan_ckpt");
    snprintf(args, sizeof args, CKPT_RUN " --no-gc --checkpoint '%s'", ckpt);
    setenv("GCBENCH_FAULT", "nan-gradient:8", 1); /* 6 steps per epoch: epoch 2, step 2 */
    const cli_result *r = run(args);
    unsetenv("GCBENCH_FAULT");
    cr_expect_eq(r->status, 1);
    cr_expect(strstr(r->err, "epoch 2, step 2: the gradient of dense_1/bias is not finite") != NULL, "%s", r->err);
    cr_expect(strstr(r->err, "is intact") != NULL, "%s", r->err);
    snprintf(args, sizeof args, CKPT_RUN " --no-gc --checkpoint '%s' --resume '%s'", ckpt, ckpt);
    cr_expect_eq(run(args)->status, 0, "the last good checkpoint resumes");
    unlink(ckpt);
}

/* ---- optimizers ------------------------------------------------------------------------ */

/* Catches: a flag taken although the optimizer ignores it (the user believes it changed the
 * run), a bad value accepted, a misnamed optimizer. */
/* A short run, should a refused flag be taken after all (the test then fails in seconds). */
#define TINY_RUN "--epochs 1 --train-images 2 --val-images 1 --batch 2 --image-size 94"

Test(cli, optimizer_flags_it_does_not_read_are_refused_naming_flag_and_optimizer)
{
    expect_usage_error(TINY_RUN " --optimizer adam --momentum 0.9", "--momentum does not apply to --optimizer adam");
    expect_usage_error(TINY_RUN " --momentum 0.9 --optimizer adagrad", "--optimizer adagrad"); /* either order */
    expect_usage_error(TINY_RUN " --optimizer sgd --epsilon 1e-3", "--epsilon does not apply to --optimizer sgd");
    expect_usage_error(TINY_RUN " --optimizer sgd --beta1 0.5", "--beta1");
    expect_usage_error(TINY_RUN " --initial-accumulator 0.2", "--optimizer rmsprop"); /* the default's */
    expect_usage_error(TINY_RUN " --optimizer adagrad --nesterov", "--nesterov");
    expect_usage_error(TINY_RUN " --optimizer sgd --nesterov", "--momentum above 0");
    expect_usage_error(TINY_RUN " --optimizer lion", "--optimizer");
    expect_usage_error(TINY_RUN " --gc-on weights", "--gc-on");
    expect_usage_error(TINY_RUN " --weight-decay-form l2", "--weight-decay-form");
    expect_usage_error(TINY_RUN " --optimizer adam --beta2 1", "--beta2");
    expect_usage_error(TINY_RUN " --optimizer sgd --momentum 1.5", "--momentum");
    expect_usage_error(TINY_RUN " --weight-decay -1", "--weight-decay");
    expect_usage_error(TINY_RUN " --nesterov=yes", "--nesterov");
}

Test(options, optimizer_defaults_then_the_flags_given_in_either_order)
{
    options o;
    char *sgd[] = {"gcbench", "--lr", "0.05", "--nesterov", "--optimizer", "sgd", "--momentum=0.9", "--gc-on", "update", NULL};
    cr_assert_eq(options_parse(&o, 9, sgd), GC_OK, "%s", gc_error_message());
    cr_expect_str_eq(o.optimizer->name, "sgd");
    cr_expect_float_eq(o.hp.lr, 0.05, 1e-15);
    cr_expect_float_eq(o.hp.momentum, 0.9, 1e-15);
    cr_expect(o.hp.nesterov && o.gc_on_update);
    char *adamw[] = {"gcbench", "--optimizer", "adamw", NULL};
    cr_assert_eq(options_parse(&o, 3, adamw), GC_OK);
    cr_expect_float_eq(o.hp.lr, 1e-3, 1e-15);
    cr_expect_float_eq(o.hp.beta1, 0.9, 1e-15);
    cr_expect_float_eq(o.hp.beta2, 0.999, 1e-15);
    cr_expect_float_eq(o.hp.eps, 1e-7, 1e-20);
    cr_expect_float_eq(o.hp.weight_decay, 0.004, 1e-15);
    cr_expect(!o.hp.wd_coupled && !o.gc_on_update);
    char *coupled[] = {"gcbench", "--weight-decay-form", "coupled", "--optimizer", "adam", "--weight-decay", "0.01", NULL};
    cr_assert_eq(options_parse(&o, 7, coupled), GC_OK);
    cr_expect(o.hp.wd_coupled);
    cr_expect_float_eq(o.hp.weight_decay, 0.01, 1e-15);
    char *adagrad[] = {"gcbench", "--optimizer", "adagrad", "--initial-accumulator", "0.5", NULL};
    cr_assert_eq(options_parse(&o, 5, adagrad), GC_OK);
    cr_expect_float_eq(o.hp.initial_accumulator, 0.5, 1e-15);
    cr_expect_float_eq(o.hp.lr, 1e-3, 1e-15);
    char *sgd_default[] = {"gcbench", "--optimizer", "sgd", NULL};
    cr_assert_eq(options_parse(&o, 3, sgd_default), GC_OK);
    cr_expect_float_eq(o.hp.lr, 0.01, 1e-15);
    cr_expect(o.hp.momentum == 0.0 && !o.hp.nesterov && o.hp.weight_decay == 0.0);
}

/* The run log of CKPT_RUN plus extra, with its timings removed. */
static void reference_log_with(const char *extra, char *out, size_t size)
{
    char log[256], args[1024];
    temp_name(log, sizeof log, "optref");
    snprintf(args, sizeof args, CKPT_RUN " %s --log '%s'", extra, log);
    const cli_result *r = run(args);
    cr_assert_eq(r->status, 0, "%s: %s", extra, r->err);
    timing_free_log(log, out, size);
    unlink(log);
}

/* Every optimizer's state (slots and step count) survives a checkpoint: a run whose second
 * checkpoint write dies, resumed from the first, logs exactly what the uninterrupted run does. */
Test(checkpoint_cli, every_optimizer_resumes_exactly, .timeout = 600)
{
    static const char *const setups[] = {
        "--optimizer sgd --momentum 0.9 --nesterov --lr 0.02",
        "--optimizer adam --gc-on update",
        "--optimizer adamw",
        "--optimizer adagrad --lr 0.01",
        "--optimizer sgd --momentum 0.5 --weight-decay 0.01 --weight-decay-form coupled",
    };
    static char expect[1 << 16], got[1 << 16];
    for (size_t i = 0; i < sizeof setups / sizeof *setups; i++) {
        reference_log_with(setups[i], expect, sizeof expect);
        cr_expect(strstr(expect, "\"optimizer\":") != NULL, "the config record names the optimizer");
        char ckpt[256], log[256], args[1024], tmp[300];
        temp_name(ckpt, sizeof ckpt, "opt_ckpt");
        temp_name(log, sizeof log, "opt_log");
        snprintf(args, sizeof args, CKPT_RUN " %s --checkpoint '%s' --log '%s'", setups[i], ckpt, log);
        setenv("GCBENCH_FAULT", "checkpoint-write:2", 1);
        const cli_result *r = run(args);
        unsetenv("GCBENCH_FAULT");
        cr_expect_neq(r->status, 0);
        snprintf(args, sizeof args, CKPT_RUN " %s --checkpoint '%s' --resume '%s' --log '%s'", setups[i], ckpt, ckpt, log);
        r = run(args);
        cr_assert_eq(r->status, 0, "%s: resume failed: %s", setups[i], r->err);
        timing_free_log(log, got, sizeof got);
        cr_expect_str_eq(got, expect, "%s", setups[i]);
        snprintf(tmp, sizeof tmp, "%s.tmp", ckpt);
        unlink(ckpt);
        unlink(tmp);
        unlink(log);
    }
}

/* Catches: a resume that silently continues another optimizer's state, or the same optimizer
 * with other hyperparameters or GC placement. */
Test(checkpoint_cli, another_optimizer_or_setting_is_refused_naming_it, .timeout = 300)
{
    char ckpt[256], args[1024];
    temp_name(ckpt, sizeof ckpt, "optcfg_ckpt");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --checkpoint '%s'", ckpt);
    cr_assert_eq(run(args)->status, 0);
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adagrad --resume '%s'", ckpt);
    expect_usage_error(args, "made with optimizer=adam");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --lr 0.002 --resume '%s'", ckpt);
    expect_usage_error(args, "this run has optimizer=adam lr 0.002");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --weight-decay 0.01 --resume '%s'", ckpt);
    expect_usage_error(args, "weight_decay 0.01");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --gc-on update --resume '%s'", ckpt);
    expect_usage_error(args, "gc-on=update");
    snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --resume '%s'", ckpt);
    cr_expect_eq(run(args)->status, 0, "the same configuration resumes");
    unlink(ckpt);
}

/* Catches: --gc-on parsed but not passed to the training (the GC run would train as with the
 * gradient), or leaking into the baseline. */
Test(cli, gc_on_update_changes_the_gc_run_and_not_the_baseline, .timeout = 300)
{
    static char a[1 << 16], b[1 << 16];
    char *logs[2] = {a, b};
    const char *modes[2] = {"gradient", "update"};
    for (int i = 0; i < 2; i++) {
        char log[256], args[1024];
        temp_name(log, sizeof log, modes[i]);
        snprintf(args, sizeof args, CKPT_RUN " --epochs 1 --optimizer adam --gc-on %s --log '%s'", modes[i], log);
        const cli_result *r = run(args);
        cr_assert_eq(r->status, 0, "%s", r->err);
        timing_free_log(log, logs[i], sizeof a);
        unlink(log);
    }
    char *gc_a = strstr(a, "\"run\":\"gc\""), *gc_b = strstr(b, "\"run\":\"gc\"");
    cr_assert(gc_a && gc_b);
    char *cfg_end_a = strchr(a, '\n'), *cfg_end_b = strchr(b, '\n');
    cr_assert(cfg_end_a && cfg_end_b);
    /* the baseline's records, after the config record, up to the gc run: identical */
    cr_expect(gc_a - cfg_end_a == gc_b - cfg_end_b && memcmp(cfg_end_a, cfg_end_b, (size_t)(gc_a - cfg_end_a)) == 0,
              "the baseline does not depend on --gc-on");
    cr_expect(strcmp(gc_a, gc_b) != 0, "GC on the update trains differently from GC on the gradient");
    cr_expect(strstr(b, "\"gc_on\":\"update\"") != NULL && strstr(a, "\"gc_on\":\"gradient\"") != NULL);
}
