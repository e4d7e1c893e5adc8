/* bench_kernels: memory bandwidth of the GC/RMSprop kernels, per ISA, on the model's tensors,
 * beside a STREAM-style triad measured on the same arrays in the same run.
 *
 * Bytes counted per element: gc_mean reads g (4); gc_center reads and writes g (8); rmsprop
 * reads g, v, w and writes v, w (20); gc_rmsprop the same 20 (its mean pass re-reads the row
 * from cache); the triad a = b + s*c reads two arrays and writes one (12). The triad runs on
 * the kernel's own arrays (w = g + s*v), so both see the same footprint and cache state: the
 * dense kernel's three arrays (19 MB) fit in a 32 MB L3, and a triad over larger arrays
 * would compare against DRAM instead. A triad far out of cache is reported for context, and
 * --cold measures the largest kernel (dense) from DRAM too, cycling through copies of its arrays: in training,
 * forward and backward evict the optimizer's arrays between steps. (From DRAM the triad's
 * store also pays a read for ownership that the kernels, storing to lines they have just
 * read, do not: the kernels then exceed the triad.)
 *
 * Each measurement is the median of N samples; a sample times enough back-to-back calls to
 * last --min-ms, after one untimed call that warms the caches. Samples of all the kernels
 * of one tensor are taken round-robin, so drifting load on a shared machine hits them alike.
 * Runs use 1 thread and, for tensors the optimizer splits (>= 65536 elements), all OpenMP
 * threads, each owning a static share of rows (row kernels) or elements.
 *
 * --optimizers: the fused update of every optimizer (fused_update: SGD, SGD with momentum,
 * RMSprop, Adam, AdamW, Adagrad) without GC, with GC on the gradient and with GC on the
 * update, and GC's cost: the extra time over the same optimizer without GC, as the median
 * of paired samples. Bytes per element: w read and written, g read, each state slot read
 * and written (SGD 12, momentum/RMSprop/Adagrad 20, Adam 28). */
#include <errno.h>
#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/base/error.h"
#include "engine/base/median.h"
#include "engine/net/model.h"
#include "simd/simd.h"

#define SPLIT_MIN_ELEMS 65536            /* as the optimizer: smaller tensors run on one thread */
#define LARGE_TRIAD_ELEMS (16u << 20)    /* 3 x 64 MB: far beyond any L3 here */
#define MAX_SAMPLES 1001
#define COLD_BYTES (128u << 20)          /* cold runs cycle through copies of at least this */

typedef struct {
    char name[PARAM_NAME_MAX];
    size_t rows, cols;
} tensor;

#define MAX_TENSORS PARAMS_MAX_TENSORS

/* The model's kernels as the optimizer sees them, output units x fan-in, read from the model
 * itself (built at 300x300, not planned) under Keras's layer names; a shape seen already is
 * not timed again (conv2d_4 has the shape of conv2d_3). The largest is the one --cold times. */
static int model_tensors(tensor *out, int *count, size_t *largest)
{
    net *n;
    *count = 0;
    *largest = 0;
    if (net_create(&n, (act_shape){3, 3, 300, 300}, dnnl_format_tag_any) != GC_OK) return 1;
    int rc = model_build(model_at(0), n, true) != GC_OK;
    const param_store *ps = &n->params;
    for (int i = 0; !rc && i < ps->n; i++) {
        const param_tensor *pt = &ps->t[i];
        bool seen = pt->rank < 2;
        for (int k = 0; k < *count && !seen; k++) seen = out[k].rows == pt->rows && out[k].cols == pt->cols;
        if (seen) continue;
        tensor *t = &out[(*count)++];
        snprintf(t->name, sizeof t->name, "%.*s", (int)strcspn(pt->name, "/"), pt->name);
        t->rows = pt->rows, t->cols = pt->cols;
        if (t->rows * t->cols > out[*largest].rows * out[*largest].cols) *largest = (size_t)(*count - 1);
    }
    net_destroy(n);
    return rc;
}

enum { K_TRIAD, K_GC_MEAN, K_GC_CENTER, K_RMSPROP, K_GC_RMSPROP, NKERNELS, K_FUSED = NKERNELS };
static const char *const kernel_names[NKERNELS] = {"triad", "gc_mean", "gc_center", "rmsprop", "gc_rmsprop"};
static const int kernel_bytes[NKERNELS] = {12, 4, 8, 20, 20};

typedef struct {
    bool json;
    bool cold; /* also measure from DRAM, as training does after forward and backward */
    int reps;
    double min_ms;
    const char *only_isa;    /* NULL: every ISA this CPU runs */
    const char *only_tensor; /* NULL: every tensor */
    bool optimizers;         /* --optimizers: every optimizer's fused update instead */
} options;

/* The arrays of one tensor: `copies` of each, `stride` floats apart (whole pages). */
typedef struct {
    size_t rows, cols, n, copies, stride;
    float *g, *v, *w, *s1, *means, *zeros;
} arrays;

/* One measured thing: a kernel of one ISA (NULL for the triad) on one tensor's arrays. */
typedef struct {
    int kernel;
    const simd_kernels *k;
    const update_hparams *uh; /* K_FUSED: the optimizer */
    gc_mode gc;               /* K_FUSED: where GC acts */
    int bytes;                /* K_FUSED: bytes per element */
    const arrays *a;
    int threads;
    long iters;
    double gbps[MAX_SAMPLES]; /* in sampling order: sample i of every case was taken together */
    double median, min, max;
} bench_case;

static const rmsprop_hparams hp = {.lr = 1e-4f, .rho = 0.9f, .eps = 1e-7f};

/* The bandwidth yardstick, compiled for the best vector ISA of the machine it runs on (the
 * rest of the program is baseline x86-64), so it is not handicapped against the kernels. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void triad(float *restrict a, const float *restrict b, const float *restrict c, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Thread t's share [*lo, *hi) of n items, in multiples of `unit` (whole cache lines). */
static void share(size_t n, size_t unit, int t, int nt, size_t *lo, size_t *hi)
{
    size_t units = (n + unit - 1) / unit;
    size_t u0 = units * (size_t)t / (size_t)nt, u1 = units * (size_t)(t + 1) / (size_t)nt;
    *lo = u0 * unit < n ? u0 * unit : n;
    *hi = u1 * unit < n ? u1 * unit : n;
}

/* Thread t's part of call number `call` (which picks the copy of the arrays). */
static void run_part(const bench_case *c, int t, int nt, long call)
{
    const arrays *a = c->a;
    size_t r0, r1, i0, i1;
    share(a->rows, 1, t, nt, &r0, &r1);
    share(a->n, 16, t, nt, &i0, &i1);
    size_t copy = (size_t)call % a->copies * a->stride;
    i0 += copy;
    i1 += copy;
    size_t off = r0 * a->cols + copy;
    switch (c->kernel) {
    case K_TRIAD: triad(a->w + i0, a->g + i0, a->v + i0, 1e-3f, i1 - i0); break;
    case K_GC_MEAN: c->k->row_means(a->g + off, r1 - r0, a->cols, a->means + r0); break;
    /* centering by zero: the same work, and g does not drift over thousands of calls */
    case K_GC_CENTER: c->k->center_rows(a->g + off, r1 - r0, a->cols, a->zeros + r0); break;
    case K_RMSPROP: c->k->rmsprop(a->w + i0, a->v + i0, a->g + i0, i1 - i0, &hp); break;
    case K_GC_RMSPROP: c->k->gc_rmsprop(a->w + off, a->v + off, a->g + off, r1 - r0, a->cols, &hp); break;
    case K_FUSED:
        if (c->gc == GC_OFF)
            c->k->fused_update(a->w + i0, a->v + i0, a->s1 + i0, a->g + i0, 1, i1 - i0, GC_OFF, c->uh);
        else
            c->k->fused_update(a->w + off, a->v + off, a->s1 + off, a->g + off, r1 - r0, a->cols, c->gc, c->uh);
        break;
    }
}

/* Seconds for `iters` calls, after one untimed call (on the last copy: cold runs then start
 * on a copy that is not in cache). */
static double time_calls(const bench_case *c, long iters)
{
    double t0 = 0.0, t1 = 0.0;
    if (c->threads == 1) {
        run_part(c, 0, 1, -1 + (long)c->a->copies);
        t0 = now_s();
        for (long it = 0; it < iters; it++) run_part(c, 0, 1, it);
        t1 = now_s();
    } else {
#pragma omp parallel num_threads(c->threads)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            run_part(c, t, nt, -1 + (long)c->a->copies);
#pragma omp barrier
#pragma omp master
            t0 = now_s();
            for (long it = 0; it < iters; it++) run_part(c, t, nt, it);
#pragma omp barrier
#pragma omp master
            t1 = now_s();
        }
    }
    return t1 - t0;
}

static void calibrate(bench_case *c, double min_s)
{
    long iters = 1;
    double t;
    while ((t = time_calls(c, iters)) < min_s && iters < (1L << 40)) {
        double scale = t > 0.0 ? 1.2 * min_s / t : 10.0;
        iters = (long)((double)iters * (scale < 10.0 ? (scale > 2.0 ? scale : 2.0) : 10.0));
    }
    c->iters = iters;
}

/* The median over samples of num[i] / den[i]: each pair was measured back to back, so the
 * ratio cancels the machine's drifting load better than a ratio of two medians does. */
static double paired_ratio(const bench_case *num, const bench_case *den, int reps)
{
    double r[MAX_SAMPLES];
    for (int i = 0; i < reps; i++) r[i] = num->gbps[i] / den->gbps[i];
    return median_of(r, reps);
}

/* Samples every case round-robin, then reduces each to median, min and max. */
static void measure(bench_case *cases, int ncases, const options *o)
{
    for (int i = 0; i < ncases; i++) calibrate(&cases[i], o->min_ms * 1e-3);
    for (int rep = 0; rep < o->reps; rep++) {
        for (int i = 0; i < ncases; i++) {
            bench_case *c = &cases[i];
            double s = time_calls(c, c->iters);
            double bytes = (double)(c->kernel == K_FUSED ? c->bytes : kernel_bytes[c->kernel]) * (double)c->a->n *
                           (double)c->iters;
            c->gbps[rep] = bytes / s / 1e9;
        }
    }
    for (int i = 0; i < ncases; i++) {
        bench_case *c = &cases[i];
        double sorted[MAX_SAMPLES];
        memcpy(sorted, c->gbps, (size_t)o->reps * sizeof sorted[0]);
        c->median = median_of(sorted, o->reps);
        c->min = sorted[0];
        c->max = sorted[o->reps - 1];
    }
}

/* Page-aligned, as the engine's parameter store lays out w, g and v (three equal blocks):
 * a tensor's three arrays then share their address bits below 4 KB. Arrays a cache line
 * apart modulo 4 KB instead make a load alias the previous vector's store (4K aliasing),
 * which costs AVX-512 up to ~20% and would measure the allocator, not the kernel. */
static float *alloc_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 4095) / 4096 * 4096;
    return aligned_alloc(4096, bytes);
}

static void free_arrays(arrays *a)
{
    free(a->g);
    free(a->v);
    free(a->w);
    free(a->s1);
    free(a->means);
    free(a->zeros);
}

/* Plausible optimizer data: small gradients with a per-row offset, positive state; `copies`
 * copies of each array. */
static int make_arrays(arrays *a, size_t rows, size_t cols, size_t copies)
{
    size_t n = rows * cols, stride = (n + 1023) / 1024 * 1024;
    *a = (arrays){.rows = rows, .cols = cols, .n = n, .copies = copies, .stride = stride};
    a->g = alloc_floats(stride * copies);
    a->v = alloc_floats(stride * copies);
    a->w = alloc_floats(stride * copies);
    a->s1 = alloc_floats(stride * copies);
    a->means = alloc_floats(rows);
    a->zeros = alloc_floats(rows);
    if (!a->g || !a->v || !a->w || !a->s1 || !a->means || !a->zeros) {
        free_arrays(a);
        return -1;
    }
    uint32_t s = 12345;
    for (size_t i = 0; i < stride * copies; i++) {
        s = s * 1664525u + 1013904223u;
        float u = (float)(s >> 8) * 0x1p-24f - 0.5f;
        a->g[i] = 1e-3f * ((float)(i % stride / cols % 7) + u);
        a->v[i] = a->s1[i] = 1e-6f;
        a->w[i] = 0.05f * u;
    }
    for (size_t r = 0; r < rows; r++) a->means[r] = a->zeros[r] = 0.0f;
    return 0;
}

/* ratios: for gc_rmsprop, the paired ratios to the triad and to rmsprop (NULL otherwise). */
static void print_json(const bench_case *c, const char *tensor_name, const double *ratios, const options *o)
{
    printf("{\"kernel\":\"%s\",\"isa\":", kernel_names[c->kernel]);
    if (c->k)
        printf("\"%s\"", c->k->isa);
    else
        printf("null");
    printf(",\"elements\":%zu,\"gbps\":%.3f,\"threads\":%d,\"bytes_per_element\":%d,\"tensor\":\"%s\","
           "\"rows\":%zu,\"cols\":%zu,\"cache\":\"%s\",\"gbps_min\":%.3f,\"gbps_max\":%.3f,\"samples\":%d",
           c->a->n, c->median, c->threads, kernel_bytes[c->kernel], tensor_name, c->a->rows, c->a->cols,
           c->a->copies > 1 ? "cold" : "warm", c->min, c->max, o->reps);
    if (ratios)
        printf(",\"of_triad\":%.4f,\"time_vs_rmsprop\":%.4f", ratios[0], ratios[1]);
    printf("}\n");
}

/* "45.2 ±3%": the median and the half-range of the samples relative to it. */
static const char *cell(char *buf, size_t len, const bench_case *c)
{
    snprintf(buf, len, "%6.1f ±%2.0f%%", c->median, c->median > 0 ? 50.0 * (c->max - c->min) / c->median : 0.0);
    return buf;
}

static void print_header(void)
{
    printf("%-9s %-9s %8s %3s %-7s %11s %11s %11s %11s %11s %7s %8s\n", "tensor", "rows x cols", "elements",
           "thr", "isa", "gc_mean", "gc_center", "rmsprop", "gc_rmsprop", "triad", "gc/tri", "gc/rms");
}

/* One line per ISA: every kernel, the triad of the same group, and the two ratios the issue
 * sets targets for (fused >= 80% of triad; fused time <= 1.10 x plain RMSprop). */
static void print_table(const bench_case *cases, int ncases, const tensor *t, int reps)
{
    const bench_case *tri = &cases[0];
    char shape[32], b[NKERNELS][32];
    snprintf(shape, sizeof shape, "%zux%zu", t->rows, t->cols);
    const char *name = tri->a->copies > 1 ? "(cold)" : t->name;
    for (int i = 1; i < ncases; i += NKERNELS - 1) {
        const bench_case *row = &cases[i]; /* gc_mean, gc_center, rmsprop, gc_rmsprop */
        double to_triad = paired_ratio(&row[3], tri, reps), time_vs_rms = paired_ratio(&row[2], &row[3], reps);
        printf("%-9s %-9s %8zu %3d %-7s %11s %11s %11s %11s %11s %6.0f%% %+7.1f%%\n", name, shape, tri->a->n,
               tri->threads, row->k->isa, cell(b[0], 32, &row[0]), cell(b[1], 32, &row[1]),
               cell(b[2], 32, &row[2]), cell(b[3], 32, &row[3]), cell(b[4], 32, tri), 100.0 * to_triad,
               100.0 * (time_vs_rms - 1.0));
    }
}

/* The triad then every kernel of every ISA on one tensor at one thread count. */
static int bench_tensor(const tensor *t, int threads, bool cold, const simd_kernels *const *isas, int nisas,
                        const options *o)
{
    arrays a;
    size_t bytes = 12 * t->rows * t->cols, copies = cold ? (COLD_BYTES + bytes - 1) / bytes : 1;
    if (make_arrays(&a, t->rows, t->cols, copies) != 0) return -1;
    int ncases = 1 + nisas * (NKERNELS - 1);
    bench_case *cases = calloc((size_t)ncases, sizeof *cases);
    if (!cases) {
        free_arrays(&a);
        return -1;
    }
    cases[0] = (bench_case){.kernel = K_TRIAD, .a = &a, .threads = threads};
    for (int i = 0; i < nisas; i++)
        for (int k = K_GC_MEAN; k < NKERNELS; k++)
            cases[1 + i * (NKERNELS - 1) + (k - K_GC_MEAN)] =
                (bench_case){.kernel = k, .k = isas[i], .a = &a, .threads = threads};
    measure(cases, ncases, o);
    if (o->json) {
        for (int i = 0; i < ncases; i++) {
            const bench_case *c = &cases[i];
            double ratios[2];
            if (c->kernel == K_GC_RMSPROP) {
                ratios[0] = paired_ratio(c, &cases[0], o->reps);
                ratios[1] = paired_ratio(c - 1, c, o->reps); /* rmsprop precedes it */
            }
            print_json(c, t->name, c->kernel == K_GC_RMSPROP ? ratios : NULL, o);
        }
    }
    else
        print_table(cases, ncases, t, o->reps);
    fflush(stdout);
    free(cases);
    free_arrays(&a);
    return 0;
}

/* --optimizers: each optimizer at Keras's defaults (Adam's alpha of its tenth step). */
typedef struct {
    const char *name;
    update_hparams hp;
    int bytes;
} opt_bench;

static const opt_bench opt_benches[] = {
    {"sgd", {.rule = RULE_SGD, .lr = 1e-2f, .eps = 1.0f}, 12},
    {"sgd_momentum", {.rule = RULE_MOMENTUM, .lr = 1e-2f, .decay = 0.9f, .eps = 1.0f}, 20},
    {"rmsprop", {.rule = RULE_RMSPROP, .lr = 1e-4f, .decay = 0.9f, .one_minus_decay = 0.1f, .eps = 1e-7f}, 20},
    {"adam", {.rule = RULE_ADAM, .lr = 1e-3f, .one_minus_decay = 0.1f, .one_minus_decay2 = 1e-3f, .alpha = 1.5e-4f, .eps = 1e-7f}, 28},
    {"adamw", {.rule = RULE_ADAM, .lr = 1e-3f, .one_minus_decay = 0.1f, .one_minus_decay2 = 1e-3f, .alpha = 1.5e-4f, .eps = 1e-7f,
               .wd = 0.004f}, 28},
    {"adagrad", {.rule = RULE_ADAGRAD, .lr = 1e-3f, .eps = 1e-7f}, 20},
};
#define NOPT_BENCH (int)(sizeof opt_benches / sizeof opt_benches[0])
static const char *const gc_mode_names[] = {"none", "gradient", "update"};

/* Every optimizer without GC, with GC on the gradient and on the update, on one tensor. */
static int bench_optimizers(const tensor *t, int threads, const simd_kernels *k, const options *o)
{
    arrays a;
    if (make_arrays(&a, t->rows, t->cols, 1) != 0) return -1;
    int ncases = 3 * NOPT_BENCH;
    bench_case *cases = calloc((size_t)ncases, sizeof *cases);
    if (!cases) {
        free_arrays(&a);
        return -1;
    }
    for (int b = 0; b < NOPT_BENCH; b++)
        for (int m = 0; m < 3; m++)
            cases[3 * b + m] = (bench_case){.kernel = K_FUSED, .k = k, .a = &a, .threads = threads,
                                            .uh = &opt_benches[b].hp, .gc = (gc_mode)m, .bytes = opt_benches[b].bytes};
    measure(cases, ncases, o);
    char shape[32], b0[32], b1[32], b2[32];
    snprintf(shape, sizeof shape, "%zux%zu", t->rows, t->cols);
    for (int b = 0; b < NOPT_BENCH; b++) {
        const bench_case *c = &cases[3 * b];
        double over_grad = paired_ratio(&c[0], &c[1], o->reps) - 1.0, over_update = paired_ratio(&c[0], &c[2], o->reps) - 1.0;
        if (o->json) {
            for (int m = 0; m < 3; m++)
                printf("{\"kernel\":\"fused_update\",\"optimizer\":\"%s\",\"gc\":\"%s\",\"isa\":\"%s\",\"elements\":%zu,"
                       "\"gbps\":%.3f,\"threads\":%d,\"bytes_per_element\":%d,\"tensor\":\"%s\",\"rows\":%zu,\"cols\":%zu,"
                       "\"gbps_min\":%.3f,\"gbps_max\":%.3f,\"samples\":%d,\"gc_time_overhead\":%.4f}\n",
                       opt_benches[b].name, gc_mode_names[m], k->isa, a.n, c[m].median, threads, c[m].bytes, t->name,
                       a.rows, a.cols, c[m].min, c[m].max, o->reps, m == 0 ? 0.0 : m == 1 ? over_grad : over_update);
        } else {
            printf("%-9s %-9s %8zu %3d %-7s %-13s %11s %11s %11s %+8.1f%% %+8.1f%%\n", t->name, shape, a.n, threads, k->isa,
                   opt_benches[b].name, cell(b0, 32, &c[0]), cell(b1, 32, &c[1]), cell(b2, 32, &c[2]), 100.0 * over_grad,
                   100.0 * over_update);
        }
    }
    fflush(stdout);
    free(cases);
    free_arrays(&a);
    return 0;
}

/* The triad alone, out of every cache, for context. */
static int bench_large_triad(int threads, const options *o)
{
    arrays a;
    if (make_arrays(&a, 1, LARGE_TRIAD_ELEMS, 1) != 0) return -1;
    bench_case *c = calloc(1, sizeof *c);
    if (!c) {
        free_arrays(&a);
        return -1;
    }
    *c = (bench_case){.kernel = K_TRIAD, .a = &a, .threads = threads};
    measure(c, 1, o);
    if (o->json) {
        print_json(c, "out_of_cache", NULL, o);
    } else {
        char b[32];
        printf("triad out of cache: %zu elements (%.0f MB), %d thread%s: %s GB/s\n", a.n,
               12.0 * (double)a.n / 1e6, threads, threads == 1 ? "" : "s", cell(b, sizeof b, c));
    }
    free(c);
    free_arrays(&a);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_kernels [--json] [--cold] [--optimizers] [--reps N] [--min-ms X] [--isa NAME] [--tensor NAME]\n"
            "\n"
            "GB/s of the GC/RMSprop kernels (gc_mean, gc_center, rmsprop, gc_rmsprop) of every\n"
            "ISA this CPU runs, on the model's tensors, beside a triad a=b+s*c on the same arrays.\n"
            "  --json       one JSON object per line instead of the table\n"
            "  --optimizers every optimizer's fused update (sgd, sgd_momentum, rmsprop, adam, adamw,\n"
            "               adagrad) without GC, with GC on the gradient and on the update, and GC's\n"
            "               extra time; the best ISA unless --isa names one\n"
            "  --cold       also the largest kernel (dense) from DRAM (\"cache\":\"cold\"): calls cycle through copies of its\n"
            "               arrays (>= 128 MB), as training sees them after forward and backward\n"
            "  --reps N     samples per measurement, reported as their median (21)\n"
            "  --min-ms X   shortest sample, in milliseconds (2)\n"
            "  --isa NAME   only this ISA (scalar, avx2, avx512, neon)\n"
            "  --tensor NAME  only this kernel, by its Keras layer name (conv2d, conv2d_1, ..., dense, dense_1)\n"
            "Threads: 1, and all OpenMP threads (OMP_NUM_THREADS) on tensors of >= %d elements.\n",
            SPLIT_MIN_ELEMS);
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.reps = 21, .min_ms = 2.0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (strcmp(arg, "--json") == 0) {
            o->json = true;
        } else if (strcmp(arg, "--cold") == 0) {
            o->cold = true;
        } else if (strcmp(arg, "--optimizers") == 0) {
            o->optimizers = true;
        } else if (strcmp(arg, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--reps") == 0 && val) {
            errno = 0;
            long r = strtol(val, &end, 10);
            if (*end || errno || r < 1 || r > MAX_SAMPLES) {
                fprintf(stderr, "bench_kernels: error: --reps: '%s' is not an integer in [1, %d]\n", val, MAX_SAMPLES);
                return 2;
            }
            o->reps = (int)r;
            i++;
        } else if (strcmp(arg, "--min-ms") == 0 && val) {
            errno = 0;
            o->min_ms = strtod(val, &end);
            if (*end || errno || !(o->min_ms > 0.0 && o->min_ms <= 10000.0)) {
                fprintf(stderr, "bench_kernels: error: --min-ms: '%s' is not a number in (0, 10000]\n", val);
                return 2;
            }
            i++;
        } else if (strcmp(arg, "--tensor") == 0 && val) {
            o->only_tensor = val;
            i++;
        } else if (strcmp(arg, "--isa") == 0 && val) {
            o->only_isa = val;
            i++;
        } else {
            fprintf(stderr, "bench_kernels: error: unknown or incomplete option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* Whether tensor t is timed at `threads`: several threads only on tensors the optimizer splits
 * (SPLIT_MIN_ELEMS), and only the --tensor asked for. */
static bool selected(const tensor *t, int threads, const options *o)
{
    if (threads > 1 && t->rows * t->cols < SPLIT_MIN_ELEMS) return false;
    return !o->only_tensor || strcmp(o->only_tensor, t->name) == 0;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;

    const simd_kernels *isas[8];
    int nisas = 0;
    for (size_t i = 0; simd_isa_name(i) && nisas < 8; i++) {
        const char *name = simd_isa_name(i);
        if (o.only_isa && strcmp(o.only_isa, name) != 0) continue;
        if (simd_cpu_supports(name)) isas[nisas++] = simd_kernels_built(name);
    }
    if (nisas == 0) {
        fprintf(stderr, "bench_kernels: error: --isa %s: not an ISA this build and CPU run\n",
                o.only_isa ? o.only_isa : "");
        return 2;
    }

    tensor tensors[MAX_TENSORS];
    int ntensors = 0;
    size_t largest = 0;
    if (model_tensors(tensors, &ntensors, &largest) != 0) {
        fprintf(stderr, "bench_kernels: error: building the model's parameter store: %s\n", gc_error_message());
        return 1;
    }
    int all = omp_get_max_threads();
    if (o.optimizers) {
        const simd_kernels *k = o.only_isa ? isas[0] : simd_best();
        if (!o.json)
            printf("bench_kernels --optimizers: GB/s of the fused update, median of %d samples of >= %.1f ms ±half their "
                   "range; +gc: extra time of GC on the gradient / on the update over the same optimizer without GC "
                   "(median of paired samples)\n\n%-9s %-9s %8s %3s %-7s %-13s %11s %11s %11s %9s %9s\n",
                   o.reps, o.min_ms, "tensor", "rows x cols", "elements", "thr", "isa", "optimizer", "no gc", "gc:grad",
                   "gc:update", "+gc:grad", "+gc:upd");
        for (int pass = 0; pass < 2; pass++) {
            int threads = pass == 0 ? 1 : all;
            if (pass == 1 && all == 1) break;
            for (int i = 0; i < ntensors; i++) {
                const tensor *t = &tensors[i];
                if (!selected(t, threads, &o)) continue;
                if (bench_optimizers(t, threads, k, &o) != 0) {
                    fprintf(stderr, "bench_kernels: error: out of memory for %s\n", t->name);
                    return 1;
                }
            }
        }
        return 0;
    }
    if (!o.json) {
        printf("bench_kernels: GB/s, median of %d samples of >= %.1f ms ±half their range; "
               "thr: threads (1, and all %d OpenMP threads on tensors of >= %d elements)\n"
               "bytes/element: gc_mean 4, gc_center 8, rmsprop 20, gc_rmsprop 20, triad 12 (a=b+s*c on the "
               "kernel's own arrays)\ngc/tri: gc_rmsprop / triad GB/s; gc/rms: extra time of gc_rmsprop over "
               "rmsprop; both the median of ratios of samples taken back to back\n\n",
               o.reps, o.min_ms, all, SPLIT_MIN_ELEMS);
        print_header();
    }
    for (int pass = 0; pass < 2; pass++) {
        int threads = pass == 0 ? 1 : all;
        if (pass == 1 && all == 1) break;
        for (int i = 0; i < ntensors; i++) {
            const tensor *t = &tensors[i];
            if (!selected(t, threads, &o)) continue;
            for (int cold = 0; cold <= (o.cold && (size_t)i == largest); cold++) {
                if (bench_tensor(t, threads, cold, isas, nisas, &o) != 0) {
                    fprintf(stderr, "bench_kernels: error: out of memory for %s\n", t->name);
                    return 1;
                }
            }
        }
    }
    if (!o.json) printf("\n");
    for (int pass = 0; pass < 2; pass++) {
        int threads = pass == 0 ? 1 : all;
        if (pass == 1 && all == 1) break;
        if (bench_large_triad(threads, &o) != 0) {
            fprintf(stderr, "bench_kernels: error: out of memory for the out-of-cache triad\n");
            return 1;
        }
    }
    return 0;
}
