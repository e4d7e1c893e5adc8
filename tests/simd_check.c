#include "simd_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t rows, cols;
} shape;

static const shape shapes[] = {
    /* tails of every vector width, one row and several (so rows start misaligned too) */
    {1, 1}, {1, 7}, {1, 15}, {1, 16}, {1, 17}, {1, 31}, {1, 33}, {1, 4099},
    {3, 7}, {5, 17}, {2, 33}, {3, 4099},
    /* the model's kernels: conv1..conv5 (out x 3*3*in) and the two dense layers */
    {16, 27}, {32, 144}, {64, 288}, {64, 576}, {512, 3136}, {1, 512},
};

/* SIMD_CHECK_UPDATE's: 1..37 columns in one row (below), then these. */
#define UPDATE_MAX_ROW 37
static const shape update_shapes[] = {{3, 37}, {5, 17}, {7, 33}, {3, 5}, {2, 4099}, {16, 27}, {32, 144}, {64, 288}, {1, 512}};

#define MAX_MISALIGN 3
#define LEAD 16 /* floats before the data: one 64-byte line, then the misalignment */
#define GUARD 8 /* floats after the data */
static const float guard_value = -7777.25f;

const char *simd_check_kind_name(simd_check_kind kind)
{
    static const char *const names[] = {"row_means", "center_rows", "rmsprop", "gc_rmsprop",
                                        "fused_vs_unfused", "fused_update"};
    return kind < SIMD_CHECK_KINDS ? names[kind] : "?";
}

/* The failures of one check and the first one's description. */
typedef struct {
    size_t fails;
    char *msg;
    size_t len;
    const char *isa, *kind;
    shape s;
    size_t misalign;
} report;

static void fail(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(report *r, const char *fmt, ...)
{
    if (r->fails++ == 0 && r->len) {
        int n = snprintf(r->msg, r->len, "%s %s %zux%zu+%zu: ", r->isa, r->kind, r->s.rows, r->s.cols,
                         r->misalign);
        if (n >= 0 && (size_t)n < r->len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->msg + n, r->len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
}

/* A float array of n elements starting `misalign` floats past a 64-byte boundary, with guard
 * values on both sides. */
typedef struct {
    float *buf, *p;
    size_t n;
} array;

static int array_make(array *a, size_t n, size_t misalign)
{
    size_t total = LEAD + MAX_MISALIGN + n + GUARD;
    size_t bytes = (total * sizeof(float) + 63) / 64 * 64;
    a->buf = aligned_alloc(64, bytes);
    if (!a->buf) return -1;
    for (size_t i = 0; i < total; i++) a->buf[i] = guard_value;
    a->p = a->buf + LEAD + misalign;
    a->n = n;
    return 0;
}

static bool guards_intact(const array *a)
{
    for (float *q = a->buf; q < a->p; q++)
        if (memcmp(q, &guard_value, sizeof *q) != 0) return false;
    for (size_t i = 0; i < GUARD; i++)
        if (memcmp(&a->p[a->n + i], &guard_value, sizeof guard_value) != 0) return false;
    return true;
}

static void check_guards(report *r, const array *a, const char *name)
{
    if (!guards_intact(a)) fail(r, "a write outside %s (guard values clobbered)", name);
}

/* Splitmix64: a fixed sequence, so a failure reproduces. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float uniform(uint64_t *s) { return (float)((double)(next_u64(s) >> 11) * 0x1p-52 - 1.0); }

/* Gradients with a per-row offset (GC has something to remove), some rows nearly constant
 * (cancellation in the mean); state v zero in the first rows (the first step) and positive
 * after; weights of either sign. */
static void fill(const shape *s, float *g, float *v, float *w, uint64_t seed)
{
    for (size_t r = 0; r < s->rows; r++) {
        float offset = uniform(&seed) * (r % 5 == 4 ? 100.0f : 0.5f);
        float scale = r % 7 == 6 ? 1e-5f : 1e-2f;
        for (size_t c = 0; c < s->cols; c++) {
            size_t i = r * s->cols + c;
            g[i] = offset + scale * uniform(&seed);
            v[i] = r % 3 == 0 ? 0.0f : 1e-3f * (uniform(&seed) + 1.0f);
            w[i] = 0.1f * uniform(&seed);
        }
    }
}

static int64_t ordered(float f)
{
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i < 0 ? (int64_t)INT32_MIN - i : i; /* -0 and +0 both map to 0 */
}

static int64_t ulp_distance(float a, float b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : INT64_MAX;
    int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

static void compare_ulp(report *r, const char *name, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t d = ulp_distance(got[i], want[i]);
        if (d > SIMD_CHECK_MAX_ULP) fail(r, "%s[%zu] = %.9g, reference %.9g (%lld ulp)", name, i, got[i], want[i], (long long)d);
    }
}

static void compare_bits(report *r, const char *name, const float *got, const float *want, size_t n)
{
    if (memcmp(got, want, n * sizeof *got) != 0) fail(r, "%s changed, but it is an input", name);
}

static const rmsprop_hparams hp = {.lr = 1e-4f, .rho = 0.9f, .eps = 1e-7f};
#define STEPS 2

/* Arrays of one check: the ISA's (misaligned, guarded) and the reference's copies. */
enum { G, V, W, S1, G_REF, V_REF, W_REF, S1_REF, MEANS, MEANS_REF, G0, V0, W0, NARRAYS };

/* Every rule with its Keras default hyperparameters (Adam at step 3), weight decay off,
 * decoupled or coupled (form 0, 1, 2). */
static update_hparams update_case(update_rule rule, int form)
{
    update_hparams h = {.rule = rule, .lr = 1e-3f, .eps = 1e-7f};
    switch (rule) {
    case RULE_MOMENTUM:
    case RULE_NESTEROV: h.decay = 0.9f; break;
    case RULE_RMSPROP: h.decay = 0.9f, h.one_minus_decay = 0.1f; break;
    case RULE_ADAM:
        h.one_minus_decay = 0.1f, h.one_minus_decay2 = 0.001f;
        h.alpha = 1e-3f * sqrtf(1.0f - powf(0.999f, 3.0f)) / (1.0f - powf(0.9f, 3.0f));
        break;
    default: break;
    }
    if (form) h.wd = 0.004f, h.wd_coupled = form == 2;
    return h;
}

/* fused_update, two steps of every combination from the same start, against the reference. */
static void check_update(report *r, const simd_kernels *k, array *a)
{
    const simd_kernels *ref = simd_kernels_scalar();
    size_t rows = r->s.rows, cols = r->s.cols, n = rows * cols;
    static const char *const modes[] = {"off", "gradient", "update"};
    const char *kind = simd_check_kind_name(SIMD_CHECK_UPDATE);
    static char label[96]; /* named by the report after this returns */
    for (int rule = 0; rule < RULE_COUNT; rule++)
        for (int gc = GC_OFF; gc <= GC_ON_UPDATE; gc++)
            for (int form = 0; form < 3; form++) {
                memcpy(a[G].p, a[G0].p, n * sizeof(float));
                memcpy(a[G_REF].p, a[G0].p, n * sizeof(float));
                for (int i = 0; i < 2; i++) {
                    memcpy(a[i ? V_REF : V].p, a[V0].p, n * sizeof(float));
                    memcpy(a[i ? S1_REF : S1].p, a[V0].p, n * sizeof(float));
                    memcpy(a[i ? W_REF : W].p, a[W0].p, n * sizeof(float));
                }
                update_hparams uh = update_case((update_rule)rule, form);
                snprintf(label, sizeof label, "%s rule %d gc %s decay form %d", kind, rule, modes[gc], form);
                r->kind = label;
                for (int step = 0; step < STEPS; step++) {
                    k->fused_update(a[W].p, a[V].p, a[S1].p, a[G].p, rows, cols, (gc_mode)gc, &uh);
                    ref->fused_update(a[W_REF].p, a[V_REF].p, a[S1_REF].p, a[G_REF].p, rows, cols, (gc_mode)gc, &uh);
                }
                size_t before = r->fails;
                compare_ulp(r, "s0", a[V].p, a[V_REF].p, n);
                compare_ulp(r, "s1", a[S1].p, a[S1_REF].p, n);
                compare_ulp(r, "w", a[W].p, a[W_REF].p, n);
                compare_bits(r, "g", a[G].p, a[G0].p, n);
                check_guards(r, &a[V], "s0");
                check_guards(r, &a[S1], "s1");
                check_guards(r, &a[W], "w");
                if (r->fails == before || before > 0) r->kind = kind; /* the first failure keeps its label */
            }
}

static void run_check(report *r, const simd_kernels *k, simd_check_kind kind, array *a)
{
    const simd_kernels *ref = simd_kernels_scalar();
    size_t rows = r->s.rows, cols = r->s.cols, n = rows * cols;
    float *g = a[G].p, *v = a[V].p, *w = a[W].p, *gr = a[G_REF].p, *vr = a[V_REF].p, *wr = a[W_REF].p;
    memcpy(gr, g, n * sizeof *g);
    memcpy(vr, v, n * sizeof *v);
    memcpy(wr, w, n * sizeof *w);

    switch (kind) {
    case SIMD_CHECK_ROW_MEANS:
        k->row_means(g, rows, cols, a[MEANS].p);
        ref->row_means(gr, rows, cols, a[MEANS_REF].p);
        for (size_t i = 0; i < rows; i++) {
            double mag = 0.0;
            for (size_t c = 0; c < cols; c++) mag += fabs((double)g[i * cols + c]);
            double err = fabs((double)a[MEANS].p[i] - (double)a[MEANS_REF].p[i]);
            if (err > SIMD_CHECK_MEAN_REL * mag / (double)cols)
                fail(r, "means[%zu] = %.9g, reference %.9g (error %.3g of the mean |g| %.3g)", i,
                     a[MEANS].p[i], a[MEANS_REF].p[i], err, mag / (double)cols);
        }
        compare_bits(r, "g", g, gr, n);
        check_guards(r, &a[MEANS], "means");
        break;
    case SIMD_CHECK_CENTER_ROWS:
        ref->row_means(gr, rows, cols, a[MEANS].p);
        k->center_rows(g, rows, cols, a[MEANS].p);
        ref->center_rows(gr, rows, cols, a[MEANS].p);
        compare_ulp(r, "g", g, gr, n);
        check_guards(r, &a[G], "g");
        break;
    case SIMD_CHECK_RMSPROP:
    case SIMD_CHECK_GC_RMSPROP:
        for (int step = 0; step < STEPS; step++) {
            if (kind == SIMD_CHECK_RMSPROP) {
                k->rmsprop(w, v, g, n, &hp);
                ref->rmsprop(wr, vr, gr, n, &hp);
            } else {
                k->gc_rmsprop(w, v, g, rows, cols, &hp);
                ref->gc_rmsprop(wr, vr, gr, rows, cols, &hp);
            }
        }
        compare_ulp(r, "v", v, vr, n);
        compare_ulp(r, "w", w, wr, n);
        compare_bits(r, "g", g, gr, n);
        check_guards(r, &a[V], "v");
        check_guards(r, &a[W], "w");
        break;
    case SIMD_CHECK_FUSED:
        /* the ISA's own unfused path on the reference copies */
        for (int step = 0; step < STEPS; step++) {
            k->gc_rmsprop(w, v, g, rows, cols, &hp);
            memcpy(a[G_REF].p, g, n * sizeof *g);
            k->row_means(gr, rows, cols, a[MEANS].p);
            k->center_rows(gr, rows, cols, a[MEANS].p);
            k->rmsprop(wr, vr, gr, n, &hp);
        }
        compare_ulp(r, "v", v, vr, n);
        compare_ulp(r, "w", w, wr, n);
        check_guards(r, &a[V], "v");
        check_guards(r, &a[W], "w");
        break;
    case SIMD_CHECK_UPDATE: check_update(r, k, a); break;
    default:
        fail(r, "unknown check %d", (int)kind);
    }
}

/* One shape at one misalignment: arrays, inputs, the check. */
static void check_shape(report *r, const simd_kernels *k, simd_check_kind kind, const shape *s, size_t mis,
                        uint64_t seed)
{
    r->s = *s;
    r->misalign = mis;
    array a[NARRAYS] = {{0}};
    bool ok = true;
    for (int i = 0; i < NARRAYS; i++) {
        size_t n = i == MEANS || i == MEANS_REF ? s->rows : s->rows * s->cols;
        /* the reference's arrays stay aligned: only the ISA's are moved */
        ok = ok && array_make(&a[i], n, i < G_REF || i == MEANS ? mis : 0) == 0;
    }
    if (ok) {
        fill(s, a[G].p, a[V].p, a[W].p, seed);
        size_t n = s->rows * s->cols;
        memcpy(a[S1].p, a[V].p, n * sizeof(float));
        memcpy(a[G0].p, a[G].p, n * sizeof(float));
        memcpy(a[V0].p, a[V].p, n * sizeof(float));
        memcpy(a[W0].p, a[W].p, n * sizeof(float));
        run_check(r, k, kind, a);
    } else {
        fail(r, "out of memory");
    }
    for (int i = 0; i < NARRAYS; i++) free(a[i].buf);
}

size_t simd_check_all(const simd_kernels *k, simd_check_kind kind, char *msg, size_t len)
{
    report r = {.msg = msg, .len = len, .isa = k->isa, .kind = simd_check_kind_name(kind)};
    if (len) msg[0] = '\0';
    if (kind == SIMD_CHECK_UPDATE) {
        size_t nextra = sizeof update_shapes / sizeof update_shapes[0];
        for (size_t si = 0; si < UPDATE_MAX_ROW + nextra; si++) {
            shape s = si < UPDATE_MAX_ROW ? (shape){1, si + 1} : update_shapes[si - UPDATE_MAX_ROW];
            for (size_t mis = 0; mis <= MAX_MISALIGN; mis++) check_shape(&r, k, kind, &s, mis, 0x0b7e0000u + si * 16 + mis);
        }
        return r.fails;
    }
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (size_t mis = 0; mis <= MAX_MISALIGN; mis++)
            check_shape(&r, k, kind, &shapes[si], mis, 0x5eed0000u + si * 16 + mis);
    return r.fails;
}
