/* Data parallelism over MPI, run for real: `mpirun -np 2` with one thread per rank against one
 * process with two threads, a rank killed mid-run, and a resume after it. Built and run only
 * with GCBENCH_MPI (the `mpi` preset). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "io/input/synthetic.h"
#include "tempdir.h"

/* Small enough for a slow machine; 203 = 6*32 + 11 and 61 = 32 + 29 make partial batches, and
 * 11 and 29 split unevenly over two ranks. */
#define DATA "--image-size 96 --train-images 203 --val-images 61 --batch 32 --epochs 2 --seed 7"
#define TRAIN_IMAGES 203

/* One chunk plan for both sides of a comparison: a single process would otherwise measure its
 * own, and another chunking regroups the weight gradient's sums (oneDNN's AVX2 backward-weights
 * moved a 2-epoch loss by 1.2e-4 relative that way), which is not what these tests compare. */
#define SAME_PLAN "GCBENCH_CHUNK_IMAGES=4"

static int shell(const char *cmd)
{
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "did not exit normally: %s", cmd);
    return WEXITSTATUS(st);
}

static int mpirun(int ranks, const char *env, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s %d %s %s '%s' %s >/dev/null 2>&1", MPIEXEC, MPIEXEC_NUMPROC_FLAG, ranks,
             MPIEXEC_FLAGS, env, GCBENCH_BIN, args);
    return shell(cmd);
}

typedef struct {
    char run[16];
    int epoch;
    double loss, accuracy, val_loss;
} epoch_rec;

static double field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, ",\"%s\":", key);
    const char *at = strstr(line, pat);
    cr_assert(at, "no %s in %s", key, line);
    return strtod(at + strlen(pat), NULL);
}

/* The epoch records of a log, and (when ranks is not NULL) the config record's rank count. */
static int read_epochs(const char *path, epoch_rec *out, int max, int *ranks)
{
    FILE *f = fopen(path, "r");
    cr_assert(f, "no log %s", path);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (ranks && strstr(line, "\"event\":\"config\"")) *ranks = (int)field(line, "ranks");
        if (!strstr(line, "\"event\":\"epoch\"") || n == max) continue;
        epoch_rec *r = &out[n++];
        const char *run = strstr(line, "\"run\":\"");
        cr_assert(run);
        sscanf(run + 7, "%15[^\"]", r->run);
        r->epoch = (int)field(line, "epoch");
        r->loss = field(line, "loss");
        r->accuracy = field(line, "accuracy");
        r->val_loss = field(line, "val_loss");
    }
    fclose(f);
    return n;
}

Test(mpi, two_ranks_follow_the_loss_curve_of_one_process, .timeout = 600)
{
    char dir[256], args[2048], one[300], two[300];
    test_temp_dir(dir, sizeof dir, "mpi_curve");
    snprintf(one, sizeof one, "%s/one.jsonl", dir);
    snprintf(two, sizeof two, "%s/two.jsonl", dir);
    snprintf(args, sizeof args, SAME_PLAN " '%s' --threads 2 " DATA " --quiet --log '%s' >/dev/null 2>&1", GCBENCH_BIN, one);
    cr_assert_eq(shell(args), 0);
    snprintf(args, sizeof args, "--threads 1 " DATA " --quiet --log '%s'", two);
    cr_assert_eq(mpirun(2, "-x " SAME_PLAN, args), 0);

    epoch_rec a[8], b[8];
    int ranks = 0, na = read_epochs(one, a, 8, NULL), nb = read_epochs(two, b, 8, &ranks);
    cr_assert_eq(ranks, 2, "the config record gives the ranks");
    cr_assert_eq(na, 4, "both runs of --compare, 2 epochs each");
    cr_assert_eq(nb, na);
    for (int i = 0; i < na; i++) {
        cr_assert_str_eq(a[i].run, b[i].run);
        /* Only the order of float additions differs (each rank's weight gradient is a sum over
         * its half of the batch, then the halves are added): ~1e-7 relative per gradient
         * element. RMSprop divides by the gradient's running RMS, so small gradients carry their
         * rounding into the update; GC makes more gradients small (a row minus its mean), and
         * its runs drift more: measured here, baseline within 1e-8, GC within 3e-5 on the
         * training loss and 3e-4 on the validation loss after 2 epochs. */
        cr_expect(fabs(a[i].loss - b[i].loss) <= 1e-4 * fabs(a[i].loss), "%s epoch %d: loss %.9f vs %.9f",
                  a[i].run, a[i].epoch, a[i].loss, b[i].loss);
        cr_expect(fabs(a[i].val_loss - b[i].val_loss) <= 1e-3 * fabs(a[i].val_loss),
                  "%s epoch %d: val_loss %.9f vs %.9f", a[i].run, a[i].epoch, a[i].val_loss, b[i].val_loss);
        /* an image whose logit sits at the threshold may flip: at most two of them */
        cr_expect(fabs(a[i].accuracy - b[i].accuracy) * TRAIN_IMAGES <= 2.01, "%s epoch %d: accuracy %.6f vs %.6f",
                  a[i].run, a[i].epoch, a[i].accuracy, b[i].accuracy);
    }
    test_remove_tree(dir);
}

Test(mpi, a_dead_rank_stops_the_others_and_the_checkpoint_resumes, .timeout = 600)
{
    char dir[256], args[2048], ckpt[300], full[300], resumed[300];
    test_temp_dir(dir, sizeof dir, "mpi_dies");
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    snprintf(full, sizeof full, "%s/full.jsonl", dir);
    snprintf(resumed, sizeof resumed, "%s/resumed.jsonl", dir);

    snprintf(args, sizeof args, "--threads 1 " DATA " --no-gc --quiet --log '%s'", full);
    cr_assert_eq(mpirun(2, "", args), 0);

    /* The last rank dies at step 10 (epoch 2, step 3), after the checkpoint of epoch 1: the
     * other rank must not wait for it forever (the test's timeout would fail it). */
    snprintf(args, sizeof args, "--threads 1 " DATA " --no-gc --quiet --checkpoint '%s' --log '%s'", ckpt, resumed);
    cr_assert_neq(mpirun(2, "-x GCBENCH_FAULT=rank-dies:10", args), 0, "a run that lost a rank must fail");
    cr_assert_eq(access(ckpt, R_OK), 0, "the checkpoint of epoch 1 is there");

    snprintf(args, sizeof args, "--threads 1 " DATA " --no-gc --quiet --checkpoint '%s' --resume '%s' --log '%s'", ckpt,
             ckpt, resumed);
    cr_assert_eq(mpirun(2, "", args), 0, "resuming from the last checkpoint");
    epoch_rec a[4], b[4];
    cr_assert_eq(read_epochs(full, a, 4, NULL), 2);
    cr_assert_eq(read_epochs(resumed, b, 4, NULL), 2);
    for (int i = 0; i < 2; i++) { /* same ranks, same threads: the same arithmetic */
        cr_expect_eq(a[i].loss, b[i].loss, "epoch %d: %.9f vs %.9f", i + 1, a[i].loss, b[i].loss);
        cr_expect_eq(a[i].val_loss, b[i].val_loss);
    }
    test_remove_tree(dir);
}

/* The file's floats. */
static float *read_floats(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "no file %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    cr_assert_gt(size, 0);
    float *x = malloc((size_t)size);
    cr_assert(x && fread(x, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    *n = (size_t)size / sizeof *x;
    return x;
}

/* The gradient buffer after the allreduce, not the loss: RMSprop is nearly scale-invariant, so
 * an allreduce that averaged instead of summing would move the loss by less than any
 * tolerance, but it halves every gradient. One thread per rank and the same batch sizes make
 * the arithmetic that of the shares computed in one process, then added: equal bit for bit. */
Test(mpi, the_reduced_gradient_is_the_sum_of_the_ranks_shares, .timeout = 300)
{
    char dir[256], cmd[2048], two[300], ref[300];
    test_temp_dir(dir, sizeof dir, "mpi_gradient");
    snprintf(two, sizeof two, "%s/two.f32", dir);
    snprintf(ref, sizeof ref, "%s/shares.f32", dir);
    snprintf(cmd, sizeof cmd, "'%s' %s 2 %s '%s' step '%s'", MPIEXEC, MPIEXEC_NUMPROC_FLAG, MPIEXEC_FLAGS, MPI_GRADIENT_BIN,
             two);
    cr_assert_eq(shell(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "'%s' shares '%s'", MPI_GRADIENT_BIN, ref);
    cr_assert_eq(shell(cmd), 0, "%s", cmd);
    size_t n, m;
    float *a = read_floats(two, &n), *b = read_floats(ref, &m);
    cr_assert_eq(n, m);
    size_t differ = 0, nonzero = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        nonzero += b[i] != 0.0f;
        if (memcmp(&a[i], &b[i], sizeof *a) != 0 && differ++ == 0) first = i;
    }
    cr_expect_gt(nonzero, n / 2, "the gradient is not trivially zero");
    cr_expect_eq(differ, 0, "%zu of %zu gradient elements differ (first %zu: %.9g after the allreduce, %.9g summed here)",
                 differ, n, first, (double)a[first], (double)b[first]);
    free(a);
    free(b);
    test_remove_tree(dir);
}

/* dir/<split>/<class>/NNN.png from the synthetic set's images (labels as classes). */
static void write_folders(const char *dir, const char *split, int count, uint64_t first)
{
    static const char *names[2] = {"fine", "coarse"};
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, split);
    cr_assert_eq(mkdir(path, 0700), 0);
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/%s/%s", dir, split, names[c]);
        cr_assert_eq(mkdir(path, 0700), 0);
    }
    uint8_t img[48 * 48 * 3];
    for (int i = 0; i < count; i++) {
        int label = synthetic_image(11, first + (uint64_t)i, 48, img);
        snprintf(path, sizeof path, "%s/%s/%s/%03d.png", dir, split, names[label], i);
        cr_assert_eq(png_write_rgb(path, img, 48, 48), GC_OK);
    }
}

/* PNG folders: every rank decodes its share of each batch when it needs it. */
Test(mpi, two_ranks_reading_png_shares_follow_one_process, .timeout = 600)
{
    char dir[256], args[2048], one[300], two[300];
    test_temp_dir(dir, sizeof dir, "mpi_png");
    write_folders(dir, "train", 70, 0);
    write_folders(dir, "validation", 21, 1000);
    snprintf(one, sizeof one, "%s/one.jsonl", dir);
    snprintf(two, sizeof two, "%s/two.jsonl", dir);
#define PNG_RUN "--data '%s' --image-size 96 --batch 16 --epochs 2 --no-gc --quiet --log '%s'"
    snprintf(args, sizeof args, SAME_PLAN " '%s' --threads 2 " PNG_RUN " >/dev/null 2>&1", GCBENCH_BIN, dir, one);
    cr_assert_eq(shell(args), 0);
    snprintf(args, sizeof args, "--threads 1 " PNG_RUN, dir, two);
    cr_assert_eq(mpirun(2, "-x " SAME_PLAN, args), 0);
    epoch_rec a[4], b[4];
    cr_assert_eq(read_epochs(one, a, 4, NULL), 2);
    cr_assert_eq(read_epochs(two, b, 4, NULL), 2);
    for (int i = 0; i < 2; i++) {
        cr_expect(fabs(a[i].loss - b[i].loss) <= 1e-4 * fabs(a[i].loss), "epoch %d: loss %.9f vs %.9f", i + 1,
                  a[i].loss, b[i].loss);
        cr_expect(fabs(a[i].val_loss - b[i].val_loss) <= 1e-3 * fabs(a[i].val_loss));
    }
    test_remove_tree(dir);
}

/* --seeds under MPI: the seeds run one after the other, every rank on each; rank 0 logs the
 * study. Each seed's pair follows one process's, as a single --compare does above. */
Test(mpi, a_seed_study_runs_its_seeds_one_after_the_other_on_all_ranks, .timeout = 600)
{
    char dir[256], args[2048], one[300], two[300];
    test_temp_dir(dir, sizeof dir, "mpi_study");
    snprintf(one, sizeof one, "%s/one.jsonl", dir);
    snprintf(two, sizeof two, "%s/two.jsonl", dir);
#define STUDY "--image-size 96 --train-images 67 --val-images 21 --batch 32 --epochs 2 --seed 7 --seeds 2 --quiet"
    snprintf(args, sizeof args, SAME_PLAN " '%s' --threads 2 " STUDY " --log '%s' >/dev/null 2>&1", GCBENCH_BIN, one);
    cr_assert_eq(shell(args), 0);
    snprintf(args, sizeof args, "--threads 1 " STUDY " --log '%s'", two);
    cr_assert_eq(mpirun(2, "-x " SAME_PLAN, args), 0);

    epoch_rec a[16], b[16];
    int ranks = 0, na = read_epochs(one, a, 16, NULL), nb = read_epochs(two, b, 16, &ranks);
    cr_assert_eq(ranks, 2);
    cr_assert_eq(na, 8, "2 seeds x 2 runs x 2 epochs");
    cr_assert_eq(nb, na);
    for (int i = 0; i < na; i++) { /* the tolerances of the single comparison above */
        cr_assert_str_eq(a[i].run, b[i].run);
        cr_expect(fabs(a[i].loss - b[i].loss) <= 1e-4 * fabs(a[i].loss), "record %d: loss %.9f vs %.9f", i, a[i].loss,
                  b[i].loss);
        cr_expect(fabs(a[i].val_loss - b[i].val_loss) <= 1e-3 * fabs(a[i].val_loss));
    }
    /* One study record per seed, seeds 7 and 8, and one summary, written once (by rank 0). */
    static char log[1 << 17];
    FILE *f = fopen(two, "r");
    cr_assert(f);
    log[fread(log, 1, sizeof log - 1, f)] = '\0';
    fclose(f);
    cr_expect(strstr(log, "{\"event\":\"study\",\"kind\":\"seed\",\"index\":0,\"seed\":7,") != NULL);
    cr_expect(strstr(log, "{\"event\":\"study\",\"kind\":\"seed\",\"index\":1,\"seed\":8,") != NULL);
    const char *summary = strstr(log, "{\"event\":\"study\",\"kind\":\"summary\",\"seeds\":2,\"first_seed\":7,");
    const char *kind = strstr(log, "\"kind\":\"summary\"");
    cr_expect(summary != NULL && kind && strstr(kind + 1, "\"kind\":\"summary\"") == NULL, "one summary");
    test_remove_tree(dir);
}
