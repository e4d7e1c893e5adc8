#include "engine/net/layers/chunk_plan.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/layers/pool_timing.h"

_Static_assert(LAYER_IMPL_MAX == CONV_IMPL_NAME_MAX, "a layer holds any implementation name");

#define PLAN_HEADER "# gcbench chunk plan: layer forward N backward N impl-forward impl-backward-data impl-backward-weights"

static long conv_h(const layer *l) { return l->in.h - l->kernel + 1; }
static long conv_w(const layer *l) { return l->in.w - l->kernel + 1; }

void chunk_plan_default(const net *n, chunk_plan *p)
{
    int threads = omp_get_max_threads(), images = threads > 4 ? threads : 4;
    p->nlayers = 0;
    for (int i = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL) continue;
        chunk_plan_layer *r = &p->layers[p->nlayers++];
        memset(r, 0, sizeof *r);
        snprintf(r->layer, sizeof r->layer, "%s", l->name);
        r->forward_chunk = r->backward_chunk = images;
    }
}

/* The fastest implementation of direction d at `images`, its time per image in *best. */
static int fastest(net *n, const conv_geometry *g, conv_bench *bench, conv_direction d, int images, double budget,
                   double *best, char *impl)
{
    dnnl_primitive_desc_t hint = NULL;
    if (d != CONV_FORWARD) GC_TRY(conv_search_pd(&n->ctx, g, CONV_FORWARD, images, NULL, NULL, NULL, &hint));
    char names[CONV_MAX_IMPLS][CONV_IMPL_NAME_MAX];
    int count = 0, rc = conv_search_impls(&n->ctx, g, d, images, hint, names, &count);
    *best = 1e30;
    for (int k = 0; k < count && rc == GC_OK; k++) {
        dnnl_primitive_desc_t pd = NULL;
        double t = 0.0;
        rc = conv_search_pd(&n->ctx, g, d, images, NULL, hint, names[k], &pd);
        if (rc == GC_OK) rc = conv_bench_time(bench, d, pd, images, budget, 3, &t);
        if (pd) dnnl_primitive_desc_destroy(pd);
        if (rc == GC_OK && t < *best) {
            *best = t;
            snprintf(impl, CONV_IMPL_NAME_MAX, "%s", names[k]);
        }
    }
    if (hint) dnnl_primitive_desc_destroy(hint);
    return rc;
}

static int calibrate_layer(net *n, const layer *l, int batch, double budget, chunk_plan_layer *r)
{
    conv_geometry g = {l->in.c, l->in.h, l->in.w, l->filters, l->kernel, l->index ? n->act_tag : n->input_tag,
                       n->act_tag, n->act_dt, n->weight_dt};
    dnnl_memory_desc_t md;
    GC_TRY(md_4d(&md, n->act_dt, 1, l->filters, conv_h(l), conv_w(l), n->act_tag));
    size_t per_image = md_bytes(&md);
    int sizes[8], nsizes = 0;
    for (int c = 1; c <= 64 && c <= batch && (size_t)c * per_image <= CHUNK_PLAN_MAX_BYTES; c *= 2) sizes[nsizes++] = c;
    if (nsizes == 0) sizes[nsizes++] = 1;
    /* the backward-weights' own types (net_layer_wgrad_f32), the pooling's gradient in them */
    conv_geometry gw = conv_wgrad_geometry(&g, net_layer_wgrad_f32(n, l));
    pool_geometry pg = {.n = sizes[nsizes - 1], .c = l->filters, .h = conv_h(l), .w = conv_w(l),
                        .block = pool_block_of(n->act_tag, l->filters),
                        .elem = n->act_dt == dnnl_bf16 ? POOL_BF16 : POOL_F32, .dx_f32 = gw.act_dt != g.act_dt};
    pool_dropout drop = {l->rate, 1};
    pool_timing_buffers pool;
    GC_TRY(pool_timing_alloc(&pg, &pool));
    /* the benches walk two of the largest chunks, not the whole batch: as far out of the cache
     * as the batch, without holding a batch of inputs and gradients per bench (memory) */
    int walk = 2 * sizes[nsizes - 1] < batch ? 2 * sizes[nsizes - 1] : batch;
    conv_bench *bench = NULL, *bench_w = NULL;
    int rc = conv_bench_create(&n->ctx, &g, walk, sizes[nsizes - 1], &bench);
    if (rc == GC_OK && pg.dx_f32) rc = conv_bench_create(&n->ctx, &gw, walk, sizes[nsizes - 1], &bench_w);
    if (rc != GC_OK) {
        conv_bench_destroy(bench);
        pool_timing_free(&pool);
        return rc;
    }
    double best_fwd = 1e30, best_bwd = 1e30;
    for (int s = 0; s < nsizes && rc == GC_OK; s++) {
        double t[CONV_DIRECTIONS] = {0.0, 0.0, 0.0};
        char impl[CONV_DIRECTIONS][CONV_IMPL_NAME_MAX] = {"", "", ""};
        for (int d = 0; d < CONV_DIRECTIONS && rc == GC_OK; d++)
            if (d == CONV_BACKWARD_WEIGHTS && bench_w)
                rc = fastest(n, &gw, bench_w, (conv_direction)d, sizes[s], budget, &t[d], impl[d]);
            else if (d != CONV_BACKWARD_DATA || l->index > 0)
                rc = fastest(n, &g, bench, (conv_direction)d, sizes[s], budget, &t[d], impl[d]);
        if (rc != GC_OK) break;
        /* the pooling counts with the convolution it follows or precedes: the chunk that is
         * fastest for the convolution alone can leave the pooling one that misses the cache */
        pg.n = sizes[s];
        t[CONV_FORWARD] += pool_timing_run(&pool, pg, &drop, false, 3, budget);
        t[CONV_BACKWARD_WEIGHTS] += pool_timing_run(&pool, pg, &drop, true, 3, budget);
        if (t[CONV_FORWARD] < best_fwd) {
            best_fwd = t[CONV_FORWARD];
            r->forward_chunk = sizes[s];
            memcpy(r->impl[CONV_FORWARD], impl[CONV_FORWARD], CONV_IMPL_NAME_MAX);
        }
        if (t[CONV_BACKWARD_DATA] + t[CONV_BACKWARD_WEIGHTS] < best_bwd) {
            best_bwd = t[CONV_BACKWARD_DATA] + t[CONV_BACKWARD_WEIGHTS];
            r->backward_chunk = sizes[s];
            memcpy(r->impl[CONV_BACKWARD_DATA], impl[CONV_BACKWARD_DATA], CONV_IMPL_NAME_MAX);
            memcpy(r->impl[CONV_BACKWARD_WEIGHTS], impl[CONV_BACKWARD_WEIGHTS], CONV_IMPL_NAME_MAX);
        }
    }
    conv_bench_destroy(bench);
    conv_bench_destroy(bench_w);
    pool_timing_free(&pool);
    return rc;
}

int chunk_plan_calibrate(net *n, int batch, double budget, chunk_plan *p)
{
    chunk_plan_default(n, p);
    for (int i = 0, k = 0; i < n->nlayers; i++) {
        const layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL) continue;
        int rc = calibrate_layer(n, l, batch, budget, &p->layers[k++]);
        if (rc != GC_OK) return gc_context(rc, "calibrating the chunk plan of %s", l->name);
    }
    return GC_OK;
}

static const char *impl_or_dash(const char *s) { return s[0] ? s : "-"; }

int chunk_plan_write(FILE *f, const chunk_plan *p)
{
    fprintf(f, "%s\n", PLAN_HEADER);
    for (int i = 0; i < p->nlayers; i++) {
        const chunk_plan_layer *r = &p->layers[i];
        fprintf(f, "%s forward %d backward %d %s %s %s\n", r->layer, r->forward_chunk, r->backward_chunk,
                impl_or_dash(r->impl[0]), impl_or_dash(r->impl[1]), impl_or_dash(r->impl[2]));
    }
    return ferror(f) ? gc_fail(GC_ERUNTIME, "writing the chunk plan: %s", strerror(errno)) : GC_OK;
}

/* A positive chunk size from a token. */
static bool parse_chunk(const char *tok, int *out)
{
    char *end;
    errno = 0;
    long v = tok ? strtol(tok, &end, 10) : 0;
    if (!tok || *end || errno || v < 1 || v > 65536) return false;
    *out = (int)v;
    return true;
}

static bool parse_impl(const char *tok, char *out)
{
    if (!tok || strlen(tok) >= CONV_IMPL_NAME_MAX) return false;
    snprintf(out, CONV_IMPL_NAME_MAX, "%s", strcmp(tok, "-") == 0 ? "" : tok);
    return true;
}

static int parse_line(char *line, chunk_plan_layer *r)
{
    char *save = NULL, *tok[8];
    int count = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (count == 8) return -1;
        tok[count++] = t;
    }
    if (count != 8 || strlen(tok[0]) >= LAYER_NAME_MAX || strcmp(tok[1], "forward") != 0 ||
        strcmp(tok[3], "backward") != 0)
        return -1;
    memset(r, 0, sizeof *r);
    snprintf(r->layer, sizeof r->layer, "%s", tok[0]);
    if (!parse_chunk(tok[2], &r->forward_chunk) || !parse_chunk(tok[4], &r->backward_chunk)) return -1;
    for (int d = 0; d < CONV_DIRECTIONS; d++)
        if (!parse_impl(tok[5 + d], r->impl[d])) return -1;
    return 0;
}

int chunk_plan_read(const char *path, chunk_plan *p)
{
    FILE *f = fopen(path, "r");
    if (!f) return gc_fail(GC_EUSAGE, "--plan '%s': cannot open: %s", path, strerror(errno));
    char line[512];
    int lineno = 0, rc = GC_OK;
    p->nlayers = 0;
    while (rc == GC_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || *s == '\0') continue;
        if (p->nlayers == NET_MAX_LAYERS || parse_line(s, &p->layers[p->nlayers]) != 0)
            rc = gc_fail(GC_EUSAGE,
                         "--plan '%s', line %d: expected 'LAYER forward N backward N IMPL IMPL IMPL' (N >= 1, "
                         "IMPL a oneDNN implementation or -)",
                         path, lineno);
        else
            p->nlayers++;
    }
    if (rc == GC_OK && ferror(f)) rc = gc_fail(GC_EUSAGE, "--plan '%s': read error", path);
    fclose(f);
    if (rc == GC_OK && p->nlayers == 0) rc = gc_fail(GC_EUSAGE, "--plan '%s': no layers", path);
    return rc;
}

void chunk_plan_json(FILE *f, const chunk_plan *p)
{
    fputc('[', f);
    for (int i = 0; i < p->nlayers; i++) {
        const chunk_plan_layer *r = &p->layers[i];
        fprintf(f,
                "%s{\"layer\":\"%s\",\"forward_chunk\":%d,\"backward_chunk\":%d,\"forward_impl\":\"%s\","
                "\"backward_data_impl\":\"%s\",\"backward_weights_impl\":\"%s\"}",
                i ? "," : "", r->layer, r->forward_chunk, r->backward_chunk, r->impl[0], r->impl[1], r->impl[2]);
    }
    fputc(']', f);
}

int net_set_chunk_plan(net *n, const chunk_plan *p)
{
    int matched = 0;
    for (int i = 0; i < n->nlayers; i++) {
        layer *l = &n->layers[i];
        if (l->kind != LAYER_CONV_POOL) continue;
        const chunk_plan_layer *r = NULL;
        for (int k = 0; k < p->nlayers && !r; k++)
            if (strcmp(p->layers[k].layer, l->name) == 0) r = &p->layers[k];
        if (!r) return gc_fail(GC_EUSAGE, "the plan has no row for %s", l->name);
        l->chunk = r->forward_chunk;
        l->chunk_bwd = r->backward_chunk;
        memcpy(l->conv_impl, r->impl, sizeof l->conv_impl);
        matched++;
    }
    if (matched != p->nlayers) return gc_fail(GC_EUSAGE, "the plan names a layer this model does not have");
    return GC_OK;
}
