/* conv_bound: the throughput the oneDNN convolution primitives alone reach on the seed
 * model's shapes — the bound a training step can approach but not beat.
 *
 * Each of the model's five convolutions is built exactly as the engine builds it (a one-layer
 * network with the engine's conv layer: blocked activations, ReLU post-op, weights reordered
 * from the parameter store's layout), then its forward, backward-data and backward-weights
 * primitives are timed for one batch; the first layer has no backward-data, as in training.
 * Nothing else runs: no pooling, dropout, ReLU backward or optimizer. Reported per layer and
 * in total: milliseconds, GFLOP/s (2 x MACs per pass) and images/s; the median of --repeats
 * timed batches after one warm-up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/base/clock.h"
#include "engine/base/error.h"
#include "engine/net/net.h"
#include "engine/runtime/threads.h"

#define NLAYERS 5
#define MAX_REPEATS 101

typedef struct {
    int image_size, batch, threads, repeats;
    pin_policy pin;
    bool json;
} bound_options;

/* One convolution of the seed model: input channels and side, output channels. */
typedef struct {
    long ic, side, oc;
} conv_shape;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The five convolutions at this input size: each 3x3 valid conv is followed by a 2x2 pool. */
static void seed_shapes(int size, conv_shape *out)
{
    static const long filters[NLAYERS] = {16, 32, 64, 64, 64};
    long side = size, ic = 3;
    for (int i = 0; i < NLAYERS; i++) {
        out[i] = (conv_shape){ic, side, filters[i]};
        side = (side - 2) / 2;
        ic = filters[i];
    }
}

/* Median seconds of the layer's forward, backward-data and backward-weights ops. */
static int time_layer(const bound_options *o, const conv_shape *cs, bool first, double med[3])
{
    net *n;
    GC_TRY(net_create(&n, (act_shape){3, cs->ic, cs->side, cs->side}, dnnl_format_tag_any));
    if (!first) net_set_input_tag(n, n->act_tag); /* inner layers read the blocked layout */
    int rc = net_add_conv(n, (int)cs->oc, 3, true);
    if (rc == GC_OK && !first) net_want_input_grad(n);
    if (rc == GC_OK) rc = net_plan(n, &o->batch, 1);
    if (rc != GC_OK) {
        net_destroy(n);
        return rc;
    }
    params_init(&n->params, 1);
    layer *l = &n->layers[0];
    const layer_plan *pl = &l->plan[0];
    /* bwd ops: [0] bwd-weights, [1] its reorder to the store, [2] weights to bwd-data layout, [3] bwd-data */
    double samples[3][MAX_REPEATS];
    for (int r = 0; r <= o->repeats && rc == GC_OK; r++) {
        double t0 = clock_seconds();
        rc = layer_run_ops(n, pl->fwd, pl->nfwd);
        double t1 = clock_seconds();
        if (rc == GC_OK) rc = layer_run_ops(n, pl->bwd + 2, pl->nbwd - 2);
        double t2 = clock_seconds();
        if (rc == GC_OK) rc = layer_run_ops(n, pl->bwd, 2);
        double t3 = clock_seconds();
        if (r == 0) continue; /* warm-up: first touch of every buffer */
        samples[0][r - 1] = t1 - t0;
        samples[1][r - 1] = t2 - t1;
        samples[2][r - 1] = t3 - t2;
    }
    net_destroy(n);
    GC_TRY(rc);
    for (int p = 0; p < 3; p++) {
        qsort(samples[p], (size_t)o->repeats, sizeof(double), cmp_double);
        med[p] = samples[p][o->repeats / 2];
    }
    if (first) med[1] = 0.0;
    return GC_OK;
}

static int parse_int_flag(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *v == '\0' || *end != '\0' || errno || x < lo || x > hi)
        return gc_fail(GC_EUSAGE, "%s: expected an integer in [%d, %d]", flag, lo, hi);
    *out = (int)x;
    return GC_OK;
}

static int parse(int argc, char **argv, bound_options *o)
{
    *o = (bound_options){.image_size = 300, .batch = 128, .threads = 0, .repeats = 5, .pin = PIN_COMPACT};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *target = NULL, lo = 1, hi = 4096;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            printf("usage: conv_bound [--image-size N] [--batch N] [--threads N] [--repeats N] [--json]\n");
            exit(0);
        }
        if (strcmp(a, "--image-size") == 0) target = &o->image_size, lo = 94, hi = 2048;
        else if (strcmp(a, "--batch") == 0) target = &o->batch;
        else if (strcmp(a, "--threads") == 0) target = &o->threads, hi = THREADS_MAX;
        else if (strcmp(a, "--repeats") == 0) target = &o->repeats, hi = MAX_REPEATS;
        else return gc_fail(GC_EUSAGE, "unknown option '%s' (see conv_bound --help)", a);
        GC_TRY(parse_int_flag(a, v, lo, hi, target));
        i++;
    }
    return GC_OK;
}

int main(int argc, char **argv)
{
    bound_options o;
    pin_report pin;
    int rc = parse(argc, argv, &o);
    if (rc == GC_OK) rc = threads_setup(o.threads ? o.threads : threads_physical_cores(), o.pin, &pin);
    conv_shape shapes[NLAYERS];
    seed_shapes(o.image_size, shapes);
    double total = 0.0, total_flop = 0.0;
    if (rc == GC_OK && !o.json)
        printf("conv_bound: the seed model's convolutions alone, batch %d, %dx%d, %d threads (median of %d)\n"
               "%-9s %9s %9s %9s %9s %10s\n", o.batch, o.image_size, o.image_size, pin.threads, o.repeats,
               "layer", "fwd ms", "bwd-d ms", "bwd-w ms", "GFLOP/s", "images/s");
    for (int i = 0; i < NLAYERS && rc == GC_OK; i++) {
        double med[3];
        rc = time_layer(&o, &shapes[i], i == 0, med);
        if (rc != GC_OK) break;
        const conv_shape *c = &shapes[i];
        double out_side = (double)(c->side - 2);
        double flop_pass = 2.0 * o.batch * (double)c->oc * out_side * out_side * (double)c->ic * 9.0;
        double flop = flop_pass * (i == 0 ? 2.0 : 3.0), secs = med[0] + med[1] + med[2];
        total += secs;
        total_flop += flop;
        if (o.json)
            printf("{\"layer\":%d,\"fwd_ms\":%.3f,\"bwd_data_ms\":%.3f,\"bwd_weights_ms\":%.3f,\"gflops\":%.1f,\"images_per_second\":%.1f}\n",
                   i + 1, 1e3 * med[0], 1e3 * med[1], 1e3 * med[2], flop / secs / 1e9, o.batch / secs);
        else {
            char name[16] = "conv2d"; /* Keras's names: conv2d, conv2d_1, ... */
            if (i) snprintf(name, sizeof name, "conv2d_%d", i);
            printf("%-9s %9.1f %9.1f %9.1f %9.1f %10.1f\n", name, 1e3 * med[0], 1e3 * med[1], 1e3 * med[2],
                   flop / secs / 1e9, o.batch / secs);
        }
    }
    if (rc != GC_OK) {
        fprintf(stderr, "conv_bound: error: %s\n", gc_error_message());
        return rc;
    }
    if (o.json)
        printf("{\"layer\":\"total\",\"seconds\":%.4f,\"gflops\":%.1f,\"images_per_second\":%.1f,\"threads\":%d,\"batch\":%d,\"image_size\":%d}\n",
               total, total_flop / total / 1e9, o.batch / total, pin.threads, o.batch, o.image_size);
    else
        printf("%-9s %29.1f ms %9.1f %10.1f\n", "total", 1e3 * total, total_flop / total / 1e9, o.batch / total);
    return 0;
}
