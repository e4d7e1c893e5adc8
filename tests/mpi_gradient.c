/* The reduced gradient of one data-parallel training step, for test_mpi.c (MPI builds only).
 *
 *   mpi_gradient step FILE     under mpirun: one training step of the real path (train_run,
 *                              1 epoch of one 7-image batch, 1 thread per rank); rank 0
 *                              writes the gradient buffer after the allreduce to FILE
 *   mpi_gradient shares FILE   one process: the gradient of each of two ranks' shares of the
 *                              same batch (4 and 3 images, each averaged over all 7),
 *                              computed one share at a time and added: what the allreduce
 *                              must produce
 *
 * Both use one thread and the same batch sizes, so the two files must be equal bit for bit;
 * an allreduce that averages instead of summing halves every element. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/dist.h"
#include "engine/base/error.h"
#include "engine/net/loss.h"
#include "engine/net/model.h"
#include "engine/base/rng.h"
#include "engine/runtime/threads.h"
#include "engine/train/train.h"
#include "io/input/loader.h"
#include "io/input/synthetic.h"

#define SIZE 94
#define BATCH 7
#define SEED 5

static int write_floats(const char *path, const float *x, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return gc_fail(GC_EUSAGE, "cannot create '%s'", path);
    size_t done = fwrite(x, sizeof *x, n, f);
    if (fclose(f) != 0 || done != n) return gc_fail(GC_ERUNTIME, "writing '%s' failed", path);
    return GC_OK;
}

static int make_net(const int *sizes, int count, net **out)
{
    GC_TRY(net_create(out, (act_shape){3, 3, SIZE, SIZE}, dnnl_format_tag_any));
    GC_TRY(model_build(model_find("seed"), *out, true));
    return net_plan(*out, sizes, count);
}

/* The real path: train_run splits the batch across the ranks and sums their gradients. */
static int step(const dataset *d, const char *path)
{
    int sizes[4], count = train_batch_sizes(BATCH, d->count, 0, sizes);
    net *n = NULL;
    int rc = make_net(sizes, count, &n);
    train_config tc = {.epochs = 1, .batch = BATCH, .seed = SEED, .augment = true,
                       .optimizer = optimizer_find("rmsprop"), .hp = {.lr = 1e-3f, .rho = 0.9f, .eps = 1e-7f},
                       .kernels = simd_kernels_scalar()};
    run_summary s;
    if (rc == GC_OK) rc = train_run(n, d, NULL, &tc, "baseline", GC_SCOPE_NONE, NULL, NULL, &s);
    /* the optimizer leaves the gradient buffer as the allreduce left it */
    if (rc == GC_OK && dist_rank() == 0) rc = write_floats(path, n->params.g, n->params.total);
    net_destroy(n);
    return rc;
}

/* The same batch, each rank's share computed here in turn, the gradients added in float. */
static int shares(const dataset *d, const char *path)
{
    int first, sizes[2] = {dist_share(BATCH, 0, 2, &first), dist_share(BATCH, 1, 2, &first)};
    net *n = NULL;
    float *sum = NULL;
    int rc = make_net(sizes, 2, &n);
    if (rc == GC_OK && !(sum = calloc(n->params.total, sizeof *sum))) rc = gc_fail(GC_ERUNTIME, "out of memory");
    uint8_t labels[BATCH];
    for (int r = 0; rc == GC_OK && r < 2; r++) {
        params_init(&n->params, SEED);
        loader ld;
        rc = loader_init(&ld, d, BATCH, true, true, n->input_tag == dnnl_nchw, SEED);
        if (rc != GC_OK) break;
        loader_set_share(&ld, r, 2);
        int b = loader_share_size(&ld, 0, &first);
        int filled = loader_fill(&ld, 0, net_input(n), labels);
        loader_free(&ld);
        if (filled != b) {
            rc = gc_fail(GC_ERUNTIME, "share %d: %d images, expected %d", r, filled, b);
            break;
        }
        pass_ctx p = {.variant = net_variant(n, b), .batch = b, .training = true,
                      .noise_key = rng_key(SEED, RNG_STREAM_DROPOUT, 0, 0), .first_image = first};
        rc = net_forward(n, &p);
        if (rc != GC_OK) break;
        bce_with_logits(net_output(n), labels, (size_t)b, BATCH, net_output_grad(n));
        rc = net_backward(n, &p);
        for (size_t i = 0; rc == GC_OK && i < n->params.total; i++) sum[i] += n->params.g[i];
    }
    if (rc == GC_OK) rc = write_floats(path, sum, n->params.total);
    free(sum);
    net_destroy(n);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "step") != 0 && strcmp(argv[1], "shares") != 0)) {
        fprintf(stderr, "usage: mpi_gradient step|shares FILE\n");
        return 2;
    }
    int rc = dist_init(&argc, &argv);
    if (rc == GC_OK) rc = threads_set(1);
    dataset d = {0};
    if (rc == GC_OK) rc = synthetic_dataset(&d, 3, 0, BATCH, SIZE);
    if (rc == GC_OK) rc = strcmp(argv[1], "step") == 0 ? step(&d, argv[2]) : shares(&d, argv[2]);
    dataset_free(&d);
    if (rc != GC_OK) {
        fprintf(stderr, "mpi_gradient: error: %s\n", gc_error_message());
        dist_abort(rc);
        return rc;
    }
    dist_finalize();
    return 0;
}
