/* bench_pool: milliseconds per image of gcbench's own kernels in the fused Conv2D [+ Dropout] +
 * MaxPooling2D layers, on the model's real shapes, at the chunk sizes a plan may choose: the
 * pooling forward without and with dropout (its keep decisions are drawn inside the kernel) and
 * the pooling backward. They are what --profile's "own s" column sums per layer; this tool
 * times each alone, so a change to one kernel can be judged without the noise of a training step.
 *
 *   bench_pool [--image-size N] [--chunks LIST] [--threads N] [--block 16|8|last] [--bf16] [--reps N] [--json] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/base/rng.h"
#include "engine/net/layers/pool_timing.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
#include "engine/runtime/threads.h"
#include "simd/simd.h"

#define MAX_POOLS 16
#define MAX_CHUNKS 16

enum { BLOCK_CHANNELS_LAST = 0 }; /* --block last: one block of all the channels of a pixel */

typedef struct {
    int image_size, threads, block, reps, nchunks, chunks[MAX_CHUNKS]; /* block: or BLOCK_CHANNELS_LAST */
    bool json, bf16;
} pool_options;

typedef struct {
    char name[LAYER_NAME_MAX];
    long c, side; /* the pre-pool activation: the convolution's output */
    float rate;   /* its dropout, 0 without */
} pool_shape;

static int parse_int(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end != '\0' || x < lo || x > hi) return gc_fail(GC_EUSAGE, "%s: expected an integer in [%d, %d]", flag, lo, hi);
    *out = (int)x;
    return GC_OK;
}

static int parse_chunks(const char *v, pool_options *o)
{
    o->nchunks = 0;
    for (const char *p = v; p && *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > 128 || o->nchunks == MAX_CHUNKS || (*end && *end != ','))
            return gc_fail(GC_EUSAGE, "--chunks: expected a list of at most %d sizes in [1, 128], like 1,2,4", MAX_CHUNKS);
        o->chunks[o->nchunks++] = (int)x;
        p = *end ? end + 1 : end;
    }
    return o->nchunks ? GC_OK : gc_fail(GC_EUSAGE, "--chunks: expected a list of sizes");
}

static int parse(int argc, char **argv, pool_options *o)
{
    *o = (pool_options){.image_size = 300, .block = simd_cpu_supports("avx512") ? 16 : 8, .reps = 11, .nchunks = 5,
                        .chunks = {1, 2, 4, 8, 16}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) o->json = true;
        else if (strcmp(a, "--bf16") == 0) o->bf16 = true;
        else if (strcmp(a, "--image-size") == 0) { GC_TRY(parse_int(a, v, 94, 1024, &o->image_size)); i++; }
        else if (strcmp(a, "--threads") == 0) { GC_TRY(parse_int(a, v, 1, THREADS_MAX, &o->threads)); i++; }
        else if (strcmp(a, "--reps") == 0) { GC_TRY(parse_int(a, v, 1, 1000, &o->reps)); i++; }
        else if (strcmp(a, "--chunks") == 0) { GC_TRY(parse_chunks(v, o)); i++; }
        else if (strcmp(a, "--block") == 0) {
            if (!v || (strcmp(v, "16") != 0 && strcmp(v, "8") != 0 && strcmp(v, "last") != 0))
                return gc_fail(GC_EUSAGE, "--block: expected 16, 8 or last, got '%s'", v ? v : "nothing");
            o->block = strcmp(v, "last") == 0 ? BLOCK_CHANNELS_LAST : atoi(v);
            i++;
        } else if (strcmp(a, "--help") == 0) {
            printf("usage: bench_pool [--image-size N] [--chunks LIST] [--threads N] [--block 16|8|last] [--bf16]\n"
                   "                  [--reps N] [--json]\n"
                   "ms per image of the fused layers' own kernels (pooling forward without and with\n"
                   "dropout, pooling backward) on the model's shapes, median of N repetitions.\n"
                   "--block: channels per block of the activations (16: nChw16c, as on AVX-512;\n"
                   "         last: channels-last, every channel of a pixel together, as bf16 with AMX).\n"
                   "--bf16: activations and gradients in bf16 (computed in f32).\n");
            exit(0);
        } else return gc_fail(GC_EUSAGE, "unknown option '%s' (see --help)", a);
    }
    return GC_OK;
}

/* The fused layers of the model at this input size, read from the model itself. */
static int model_pools(int size, pool_shape *out, int *count)
{
    net *n;
    *count = 0;
    GC_TRY(net_create(&n, (act_shape){3, 3, size, size}, dnnl_format_tag_any));
    int rc = model_build(model_at(0), n, true);
    for (int i = 0; rc == GC_OK && i < n->nlayers && *count < MAX_POOLS; i++) {
        const layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL) continue;
        pool_shape *p = &out[(*count)++];
        *p = (pool_shape){"", l->filters, l->in.h - l->kernel + 1, l->rate};
        snprintf(p->name, sizeof p->name, "%s", l->name);
    }
    net_destroy(n);
    return rc;
}

/* The pooling forward alone (what dropout's draws add to it shows beside the next row), the
 * forward as training runs it, and the backward. */
typedef enum { KERNEL_FORWARD_NO_DROPOUT, KERNEL_FORWARD, KERNEL_BACKWARD, KERNELS } pool_kernel;
static const char *const kernel_names[KERNELS] = {"fwd no dropout", "pool forward", "pool backward"};

/* Median seconds per image of kernel k over o->reps calls after a warm-up. */
static double time_kernel(pool_kernel k, const pool_options *o, const pool_timing_buffers *b, pool_geometry g,
                          const pool_dropout *d)
{
    const pool_dropout none = {0.0f, 0};
    return pool_timing_run(b, g, k == KERNEL_FORWARD_NO_DROPOUT ? &none : d, k == KERNEL_BACKWARD, o->reps, 0.0);
}

/* The activations' layout (--block). */
static dnnl_format_tag_t layout_tag(int block)
{
    return block == BLOCK_CHANNELS_LAST ? dnnl_nhwc : block == 16 ? dnnl_nChw16c : dnnl_nChw8c;
}

static int bench_shape(const pool_options *o, const pool_shape *p)
{
    int most = 0;
    for (int i = 0; i < o->nchunks; i++) most = o->chunks[i] > most ? o->chunks[i] : most;
    pool_geometry g = {.n = most, .c = p->c, .h = p->side, .w = p->side,
                       .block = o->block == BLOCK_CHANNELS_LAST ? p->c : o->block,
                       .elem = o->bf16 ? POOL_BF16 : POOL_F32};
    pool_dropout d = {p->rate, rng_key(1, RNG_STREAM_DROPOUT, 0, 0)};
    pool_timing_buffers b;
    int rc = pool_timing_alloc(&g, &b);
    for (int c = 0; rc == GC_OK && c < o->nchunks; c++) {
        g.n = o->chunks[c];
        for (int k = 0; k < KERNELS; k++) {
            if (k == KERNEL_FORWARD_NO_DROPOUT && p->rate <= 0.0f) continue;
            double s = time_kernel((pool_kernel)k, o, &b, g, &d);
            if (o->json)
                printf("{\"layer\":\"%s\",\"kernel\":\"%s\",\"chunk\":%d,\"ms_per_image\":%.4f,\"threads\":%d,"
                       "\"precision\":\"%s\",\"layout\":\"%s\"}\n",
                       p->name, kernel_names[k], (int)g.n, 1e3 * s, omp_get_max_threads(), o->bf16 ? "bf16" : "fp32",
                       net_layout_name(layout_tag(o->block)));
            else
                printf("%-9s %-14s %6d %10.4f\n", p->name, kernel_names[k], (int)g.n, 1e3 * s);
        }
    }
    if (rc == GC_OK) pool_timing_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    pool_options o;
    pin_report pin;
    pool_shape shapes[MAX_POOLS];
    int count = 0, rc = parse(argc, argv, &o);
    if (rc == GC_OK) rc = threads_setup(o.threads ? o.threads : threads_physical_cores(), PIN_COMPACT, &pin);
    if (rc == GC_OK) rc = model_pools(o.image_size, shapes, &count);
    if (rc == GC_OK && !o.json) {
        char layout[32];
        if (o.block == BLOCK_CHANNELS_LAST) snprintf(layout, sizeof layout, "channels-last");
        else snprintf(layout, sizeof layout, "blocks of %d channels", o.block);
        printf("bench_pool: the fused layers' own kernels, %dx%d, %d threads, %s, %s (median of %d)\n"
               "%-9s %-14s %6s %10s\n", o.image_size, o.image_size, pin.threads, layout, o.bf16 ? "bf16" : "f32", o.reps,
               "layer", "kernel", "chunk", "ms/image");
    }
    for (int i = 0; rc == GC_OK && i < count; i++) rc = bench_shape(&o, &shapes[i]);
    if (rc != GC_OK) {
        fprintf(stderr, "bench_pool: error: %s\n", gc_error_message());
        return rc;
    }
    return 0;
}
