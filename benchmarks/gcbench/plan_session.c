/* The chunk plan of a run: replayed from --plan FILE, or measured once per machine and
 * configuration and cached in $XDG_CACHE_HOME/gcbench (or ~/.cache/gcbench), so that later
 * runs start at once and train with the same plan. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/error.h"
#include "engine/base/fnv.h"
#include "engine/runtime/dist.h"
#include "session.h"

/* Seconds timed per (layer, direction, chunk size, implementation) while calibrating. */
#define CALIBRATION_BUDGET 0.01

/* The processor's name, as the kernel reports it ("" when unknown). */
static void cpu_model(char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "CPU part", 8) == 0) {
            const char *v = strchr(line, ':');
            snprintf(out, size, "%s", v ? v + 1 : "");
            break;
        }
    fclose(f);
}

/* The cache file of this machine, library, thread count, model shape and precision; false when
 * there is no cache folder (no HOME). */
static bool cache_path(const session *s, const net *n, char *path, size_t size, char *dir, size_t dsize)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(dir, dsize, "%s/gcbench", xdg);
    else if (home && *home) snprintf(dir, dsize, "%s/.cache/gcbench", home);
    else return false;
    char cpu[160], key[512];
    cpu_model(cpu, sizeof cpu);
    const dnnl_version_t *v = dnnl_version();
    snprintf(key, sizeof key, "gcbench %s|%s|%s|oneDNN %d.%d.%d %s|isa %d|threads %d|batch %d|image %d|layout %s|%s",
             GCBENCH_VERSION, CHUNK_PLAN_METHOD, cpu, v->major, v->minor, v->patch, v->hash ? v->hash : "", (int)dnnl_get_effective_cpu_isa(),
             s->threads, s->opt->batch, s->opt->image_size, net_layout_name(n->act_tag),
             dt_name(n->act_dt));
    snprintf(path, size, "%s/plan-%016llx.txt", dir, (unsigned long long)fnv1a64(FNV1A64_INIT, key, strlen(key)));
    return true;
}

/* mkdir -p of the cache folder's last two levels; failures only mean no cache. */
static void make_dirs(const char *dir)
{
    char parent[512];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        mkdir(parent, 0755);
    }
    mkdir(dir, 0755);
}

/* Written whole to a temporary name, then renamed: a reader sees the old plan or the new. */
static void cache_store(const char *dir, const char *path, const chunk_plan *p)
{
    make_dirs(dir);
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    int rc = chunk_plan_write(f, p);
    if (fclose(f) != 0 || rc != GC_OK || rename(tmp, path) != 0) {
        gc_error_clear();
        remove(tmp);
    }
}

int session_choose_plan(session *s, net *n)
{
    const char *chunk = getenv("GCBENCH_CHUNK_IMAGES"); /* tuning: every layer this many images */
    char path[600], dir[512];
    if (s->opt->plan_path) {
        GC_TRY(chunk_plan_read(s->opt->plan_path, &s->plan));
        snprintf(s->plan_source, sizeof s->plan_source, "file %s", s->opt->plan_path);
        int rc = net_set_chunk_plan(n, &s->plan);
        return rc == GC_OK ? rc : gc_context(rc, "--plan '%s'", s->opt->plan_path);
    }
    if (chunk && atoi(chunk) > 0) {
        chunk_plan_default(n, &s->plan);
        for (int i = 0; i < s->plan.nlayers; i++) s->plan.layers[i].forward_chunk = s->plan.layers[i].backward_chunk = atoi(chunk);
        snprintf(s->plan_source, sizeof s->plan_source, "GCBENCH_CHUNK_IMAGES=%d", atoi(chunk));
        return net_set_chunk_plan(n, &s->plan);
    }
    if (dist_ranks() > 1) {
        /* Each rank would measure its own share on its own cores and could choose another
         * plan, so ranks would sum differently rounded gradients from run to run: every rank
         * takes the default plan instead (--plan FILE gives them another, the same for all). */
        chunk_plan_default(n, &s->plan);
        snprintf(s->plan_source, sizeof s->plan_source, "default (several ranks)");
        return net_set_chunk_plan(n, &s->plan);
    }
    bool cached = cache_path(s, n, path, sizeof path, dir, sizeof dir);
    if (cached && access(path, R_OK) == 0 && chunk_plan_read(path, &s->plan) == GC_OK &&
        net_set_chunk_plan(n, &s->plan) == GC_OK) {
        snprintf(s->plan_source, sizeof s->plan_source, "cache %s", path);
        return GC_OK;
    }
    gc_error_clear(); /* an unreadable or stale cache entry is measured again */
    int batch = s->opt->batch < (int)s->train.count ? s->opt->batch : (int)s->train.count;
    if (batch < 1) batch = 1;
    GC_TRY(chunk_plan_calibrate(n, batch, CALIBRATION_BUDGET, &s->plan));
    snprintf(s->plan_source, sizeof s->plan_source, "calibrated");
    if (cached) cache_store(dir, path, &s->plan);
    return net_set_chunk_plan(n, &s->plan);
}

void session_log_plan(session *s, const net *n)
{
    if (s->log.f && (!s->resume || s->resume->log_size == 0)) {
        /* measured now or read from the cache is the same plan: the same record */
        const char *src = s->opt->plan_path                          ? "file"
                          : strncmp(s->plan_source, "GCBENCH", 7) == 0 ? "environment"
                          : strncmp(s->plan_source, "default", 7) == 0 ? "default"
                                                                       : "measured";
        fputs("{\"event\":\"plan\",\"source\":", s->log.f);
        json_string(s->log.f, src);
        /* every direction reads and writes activations in one type, except the first layer's
         * backward-weights (net_layer_wgrad_f32); weight gradients are f32 */
        dnnl_data_type_t dt = n->act_dt;
        fprintf(s->log.f,
                ",\"data_type\":\"%s\",\"first_layer_backward_weights_data_type\":\"%s\",\"weight_gradient_type\":"
                "\"f32\"",
                dt_name(dt), dt_name(net_layer_wgrad_f32(n, &n->layers[0]) ? dnnl_f32 : dt));
        fputs(",\"layers\":", s->log.f);
        chunk_plan_json(s->log.f, &s->plan);
        fputs("}\n", s->log.f);
        fflush(s->log.f);
    }
}

void session_print_plan(const session *s, const net *n)
{
    if (s->opt->quiet || s->plan.nlayers == 0) return;
    dnnl_data_type_t dt = n->act_dt;
    printf("plan:     images per oneDNN call, forward/backward, and implementations (%s; %s data%s, f32 weight "
           "gradients):\n", s->plan_source, dt_name(dt),
           net_layer_wgrad_f32(n, &n->layers[0]) ? ", the first layer's backward-weights from f32 copies" : "");
    for (int i = 0; i < s->plan.nlayers; i++) {
        const chunk_plan_layer *r = &s->plan.layers[i];
        printf("          %-9s %3d/%-3d  %s, %s, %s\n", r->layer, r->forward_chunk, r->backward_chunk,
               r->impl[0][0] ? r->impl[0] : "oneDNN's first", r->impl[1][0] ? r->impl[1] : "-",
               r->impl[2][0] ? r->impl[2] : "oneDNN's first");
    }
}
