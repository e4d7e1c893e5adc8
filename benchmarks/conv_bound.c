/* conv_bound: the throughput the oneDNN convolution primitives alone reach on the seed
 * model's shapes — the bound a training step can approach but not beat.
 *
 * Each of the model's convolutions is built exactly as the engine builds it (a one-layer
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
#include "engine/base/median.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
#include "engine/runtime/threads.h"
#include "engine/net/layers/conv_search.h"

#define MAX_CONVS 16
#define MAX_REPEATS 101
#define MAX_CHUNKS 16

typedef struct {
    int image_size, batch, threads, repeats;
    pin_policy pin;
    bool json;
    bool best, verbose;        /* --best: every implementation at every chunk size */
    bool bf16;                 /* --bf16 (with --best): bf16 activations and weights */
    int chunks[MAX_CHUNKS], nchunks;
    double budget;             /* --best: seconds of timed chunks per configuration */
    dnnl_format_tag_t layout;  /* --best: activations' layout (any: the engine's choice) */
} bound_options;

/* One convolution of the model: input channels and side, output channels. */
typedef struct {
    long ic, side, oc;
    char name[LAYER_NAME_MAX]; /* the model's ("conv2d_1") */
} conv_shape;

/* The model's convolutions at this input size, read from the model itself (built, not
 * planned): each fused conv+pool layer or plain convolution, in order; their count. */
static int model_shapes(const model_desc *m, int size, conv_shape *out, int *count)
{
    net *n;
    *count = 0;
    GC_TRY(net_create(&n, (act_shape){3, 3, size, size}, dnnl_format_tag_any));
    int rc = model_build(m, n, true);
    for (int i = 0; rc == GC_OK && i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL && l->kind != LAYER_CONV) continue;
        if (l->kernel != 3 || l->in.h != l->in.w || *count == MAX_CONVS) {
            rc = gc_fail(GC_EUSAGE, "conv_bound times square 3x3 convolutions (at most %d); %s is not one", MAX_CONVS,
                         l->name);
            break;
        }
        conv_shape *cs = &out[(*count)++];
        *cs = (conv_shape){l->in.c, l->in.h, l->filters, ""};
        snprintf(cs->name, sizeof cs->name, "%s", l->name);
    }
    net_destroy(n);
    return rc;
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
        med[p] = median_of(samples[p], o->repeats);
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

/* --chunks 1,2,4: distinct sizes in [1, 4096]. */
static int parse_chunks(const char *v, bound_options *o)
{
    o->nchunks = 0;
    const char *p = v;
    while (p && *p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 1 || x > 4096 || (*end && *end != ',') || o->nchunks == MAX_CHUNKS)
            return gc_fail(GC_EUSAGE, "--chunks: expected up to %d sizes in [1, 4096], like 1,2,4", MAX_CHUNKS);
        o->chunks[o->nchunks++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (o->nchunks == 0) return gc_fail(GC_EUSAGE, "--chunks: expected a list of sizes, like 1,2,4");
    return GC_OK;
}

static int parse(int argc, char **argv, bound_options *o)
{
    *o = (bound_options){.image_size = 300, .batch = 128, .threads = 0, .repeats = 5, .pin = PIN_COMPACT,
                         .chunks = {1, 2, 4, 8, 16, 32, 64, 128}, .nchunks = 8, .budget = 0.02,
                         .layout = dnnl_format_tag_any};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *target = NULL, lo = 1, hi = 4096;
        if (strcmp(a, "--bf16") == 0) {
            o->bf16 = true;
            continue;
        }
        if (strcmp(a, "--json") == 0 || strcmp(a, "--best") == 0 || strcmp(a, "--verbose") == 0) {
            if (a[2] == 'j') o->json = true;
            else if (a[2] == 'b') o->best = true;
            else o->verbose = true;
            continue;
        }
        if (strcmp(a, "--chunks") == 0) {
            GC_TRY(parse_chunks(v, o));
            i++;
            continue;
        }
        if (strcmp(a, "--layout") == 0) {
            if (v && strcmp(v, "nhwc") == 0) o->layout = dnnl_nhwc;
            else if (v && strcmp(v, "blocked") == 0) o->layout = net_native_layout(dnnl_f32);
            else if (v && strcmp(v, "native") == 0) o->layout = dnnl_format_tag_any;
            else return gc_fail(GC_EUSAGE, "--layout: expected native, blocked or nhwc");
            i++;
            continue;
        }
        if (strcmp(a, "--budget") == 0) {
            char *end;
            o->budget = v ? strtod(v, &end) : 0.0;
            if (!v || *end != '\0' || !(o->budget > 0.0 && o->budget <= 10.0))
                return gc_fail(GC_EUSAGE, "--budget: expected seconds in (0, 10]");
            i++;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            printf("usage: conv_bound [--image-size N] [--batch N] [--threads N] [--repeats N] [--json]\n"
                   "                  [--best [--bf16] [--chunks LIST] [--budget SECONDS] [--layout native|blocked|nhwc] [--verbose]]\n"
                   "--best: every implementation oneDNN offers at every chunk size of LIST\n"
                   "(default 1,2,4,8,16,32,64,128, capped at the batch), each timed for SECONDS\n"
                   "(0.02) of chunks after a warm-up; the best per layer and direction, and their\n"
                   "sum: the oneDNN limit. --layout: the activations' layout (native, the default: the\n"
                   "one gcbench trains in on this CPU in that precision, channels-last for bf16 with\n"
                   "AMX, else blocked). --verbose prints every configuration. --bf16: bf16 activations\n"
                   "and weights, the weights' gradient in f32 or bf16 per layer, whichever is faster\n"
                   "(the grad column), and the first layer's backward-weights in f32 where that is\n"
                   "faster (gcbench computes it from f32 copies there): the bf16 limit.\n");
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
    if (o->bf16 && !o->best) return gc_fail(GC_EUSAGE, "--bf16 applies to --best");
    return GC_OK;
}

/* --best: one layer's direction, every implementation at every chunk size. */
typedef struct {
    double per_image;   /* seconds */
    int chunk;
    char impl[CONV_IMPL_NAME_MAX];
    double first_full;  /* the first implementation at the whole batch, for comparison */
} best_row;

static int best_direction(const bound_options *o, dnnl_ctx *ctx, const conv_geometry *g, dnnl_data_type_t wgrad,
                          conv_bench *bench, conv_direction d, int index, best_row *row)
{
    *row = (best_row){.per_image = 1e30, .first_full = 0.0};
    for (int c = 0; c < o->nchunks; c++) {
        int images = o->chunks[c];
        if (images > o->batch) continue;
        dnnl_primitive_desc_t hint = NULL, pd = NULL;
        if (d != CONV_FORWARD) GC_TRY(conv_search_pd(ctx, g, CONV_FORWARD, images, NULL, NULL, NULL, &hint));
        char names[CONV_MAX_IMPLS][CONV_IMPL_NAME_MAX];
        int count = 0, rc = conv_search_impls_wgrad(ctx, g, wgrad, d, images, hint, names, &count);
        for (int k = 0; k < count && rc == GC_OK; k++) {
            double t = 0.0;
            rc = conv_search_pd_wgrad(ctx, g, wgrad, d, images, NULL, hint, names[k], &pd);
            if (rc == GC_OK) rc = conv_bench_time(bench, d, pd, images, o->budget, 3, &t);
            if (pd) dnnl_primitive_desc_destroy(pd);
            pd = NULL;
            if (rc != GC_OK) break;
            if (o->verbose)
                fprintf(stderr, "  layer %d %-16s chunk %4d %-24s %8.3f ms/image\n", index + 1, conv_direction_name(d),
                        images, names[k], 1e3 * t);
            if (k == 0 && images == o->batch) row->first_full = t;
            if (t < row->per_image) {
                row->per_image = t;
                row->chunk = images;
                snprintf(row->impl, sizeof row->impl, "%s", names[k]);
            }
        }
        if (hint) dnnl_primitive_desc_destroy(hint);
        if (rc != GC_OK) return rc;
    }
    if (row->per_image >= 1e30) return gc_fail(GC_ERUNTIME, "no convolution %s to time", conv_direction_name(d));
    return GC_OK;
}

static int best_mode(const bound_options *o, const conv_shape *shapes, int nshapes, int threads)
{
    net *n;
    GC_TRY(net_create(&n, (act_shape){3, 3, o->image_size, o->image_size}, o->layout));
    if (o->bf16) { /* the engine's bf16 types and the layout it trains in (channels-last with AMX) */
        int prc = net_set_precision(n, dnnl_bf16, dnnl_bf16);
        if (prc != GC_OK) {
            net_destroy(n);
            return gc_context(prc, "--bf16");
        }
    }
    int max_chunk = 1;
    for (int c = 0; c < o->nchunks; c++)
        if (o->chunks[c] <= o->batch && o->chunks[c] > max_chunk) max_chunk = o->chunks[c];
    if (!o->json)
        printf("conv_bound --best: every oneDNN implementation at chunks of ");
    for (int c = 0; c < o->nchunks && !o->json; c++)
        if (o->chunks[c] <= o->batch) printf("%s%d", c ? "," : "", o->chunks[c]);
    if (!o->json)
        printf(" images, batch %d, %dx%d, %d threads, %s %s activations and weights\n"
               "%-9s %-16s %6s %-24s %10s %12s %5s\n",
               o->batch, o->image_size, o->image_size, threads, net_layout_name(n->act_tag), o->bf16 ? "bf16" : "fp32",
               "layer", "direction", "chunk", "implementation", "ms/image", "first@batch", "grad");
    double total = 0.0, total_first = 0.0;
    int rc = GC_OK;
    for (int i = 0; i < nshapes && rc == GC_OK; i++) {
        const conv_shape *cs = &shapes[i];
        conv_geometry g = {cs->ic, cs->side, cs->side, cs->oc, 3, i ? n->act_tag : n->input_tag, n->act_tag,
                           i ? n->act_dt : n->input_dt, n->weight_dt};
        conv_bench *bench = NULL;
        rc = conv_bench_create(&n->ctx, &g, o->batch, max_chunk, &bench);
        for (int d = 0; d < CONV_DIRECTIONS && rc == GC_OK; d++) {
            if (i == 0 && d == CONV_BACKWARD_DATA) continue; /* training never needs it */
            best_row row;
            rc = best_direction(o, &n->ctx, &g, dnnl_f32, bench, (conv_direction)d, i, &row);
            if (rc != GC_OK) break;
            const char *grad = d == CONV_BACKWARD_WEIGHTS ? "f32" : "-";
            if (o->bf16 && d == CONV_BACKWARD_WEIGHTS) { /* the gradient in bf16, if faster */
                best_row rb;
                rc = best_direction(o, &n->ctx, &g, dnnl_bf16, bench, (conv_direction)d, i, &rb);
                if (rc != GC_OK) break;
                if (rb.per_image < row.per_image) row = rb, grad = "bf16";
            }
            const char *data = o->bf16 ? "bf16" : "fp32";
            if (o->bf16 && d == CONV_BACKWARD_WEIGHTS && i == 0) {
                /* f32 from widened copies: gcbench's route where precision_wgrad_in_f32 says, timed
                 * on every machine so that the limit holds the faster of the two */
                conv_geometry gw = conv_wgrad_geometry(&g, true);
                conv_bench *bench_w = NULL;
                best_row rw;
                rc = conv_bench_create(&n->ctx, &gw, o->batch, max_chunk, &bench_w);
                if (rc == GC_OK) rc = best_direction(o, &n->ctx, &gw, dnnl_f32, bench_w, (conv_direction)d, i, &rw);
                conv_bench_destroy(bench_w);
                if (rc != GC_OK) break;
                if (rw.per_image < row.per_image) row = rw, grad = "f32", data = "fp32";
            }
            total += row.per_image;
            total_first += row.first_full;
            const char *name = cs->name;
            if (o->json)
                printf("{\"layer\":%d,\"direction\":\"%s\",\"chunk\":%d,\"impl\":\"%s\",\"ms_per_image\":%.4f,"
                       "\"first_at_batch_ms_per_image\":%.4f,\"precision\":\"%s\",\"weights_grad\":\"%s\"}\n",
                       i + 1, conv_direction_name((conv_direction)d), row.chunk, row.impl, 1e3 * row.per_image,
                       1e3 * row.first_full, data, grad);
            else
                printf("%-9s %-16s %6d %-24s %10.3f %12.3f %5s\n", name, conv_direction_name((conv_direction)d), row.chunk,
                       row.impl, 1e3 * row.per_image, 1e3 * row.first_full, grad);
        }
        conv_bench_destroy(bench);
    }
    net_destroy(n);
    GC_TRY(rc);
    if (o->json)
        printf("{\"layer\":\"total\",\"best\":true,\"ms_per_image\":%.4f,\"images_per_second\":%.1f,"
               "\"first_at_batch_images_per_second\":%.1f,\"threads\":%d,\"batch\":%d,\"image_size\":%d}\n",
               1e3 * total, 1.0 / total, total_first > 0.0 ? 1.0 / total_first : 0.0, threads, o->batch, o->image_size);
    else
        printf("%-9s %-16s %6s %-24s %10.3f %12.3f\n"
               "the oneDNN %s limit: %.1f images/s (the first implementation at the whole batch: %.1f)\n",
               "total", "", "", "", 1e3 * total, 1e3 * total_first, o->bf16 ? "bf16" : "fp32", 1.0 / total,
               total_first > 0.0 ? 1.0 / total_first : 0.0);
    return GC_OK;
}

int main(int argc, char **argv)
{
    bound_options o;
    pin_report pin;
    int rc = parse(argc, argv, &o);
    if (rc == GC_OK) rc = threads_setup(o.threads ? o.threads : threads_physical_cores(), o.pin, &pin);
    conv_shape shapes[MAX_CONVS];
    int nshapes = 0;
    if (rc == GC_OK) rc = model_shapes(model_at(0), o.image_size, shapes, &nshapes);
    if (rc == GC_OK && o.best) {
        rc = best_mode(&o, shapes, nshapes, pin.threads);
        if (rc != GC_OK) fprintf(stderr, "conv_bound: error: %s\n", gc_error_message());
        return rc;
    }
    double total = 0.0, total_flop = 0.0;
    if (rc == GC_OK && !o.json)
        printf("conv_bound: the model's convolutions alone, batch %d, %dx%d, %d threads (median of %d)\n"
               "%-9s %9s %9s %9s %9s %10s\n", o.batch, o.image_size, o.image_size, pin.threads, o.repeats,
               "layer", "fwd ms", "bwd-d ms", "bwd-w ms", "GFLOP/s", "images/s");
    for (int i = 0; i < nshapes && rc == GC_OK; i++) {
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
            const char *name = c->name;
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
