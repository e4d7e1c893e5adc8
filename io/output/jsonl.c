#include "io/output/jsonl.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "engine/base/error.h"
#include "io/output/console.h"

int jsonl_open(jsonl_log *log, const char *path)
{
    memset(log, 0, sizeof *log);
    snprintf(log->path, sizeof log->path, "%s", path);
    log->f = fopen(path, "w");
    if (!log->f) return gc_fail(GC_EUSAGE, "--log: cannot create '%s': %s", path, strerror(errno));
    return GC_OK;
}

int jsonl_close(jsonl_log *log)
{
    if (!log->f) return GC_OK;
    bool failed = log->failed || ferror(log->f);
    failed |= fclose(log->f) != 0;
    log->f = NULL;
    if (failed) return gc_fail(GC_ERUNTIME, "writing the log '%s' failed: %s", log->path, strerror(errno));
    return GC_OK;
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void json_int_array(FILE *f, const int *v, int n)
{
    if (!v) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, i ? ",%d" : "%d", v[i]);
    fputc(']', f);
}

void json_number(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.9g", x);
    else
        fputs("null", f);
}

/* Ends a record: newline and flush, so a crash later keeps every finished line. */
static void end_record(jsonl_log *log)
{
    fputs("}\n", log->f);
    if (fflush(log->f) != 0) log->failed = true;
}

static void field_str(FILE *f, const char *key, const char *value)
{
    fprintf(f, ",\"%s\":", key);
    json_string(f, value);
}

static void field_num(FILE *f, const char *key, double value)
{
    fprintf(f, ",\"%s\":", key);
    json_number(f, value);
}

void jsonl_config(jsonl_log *log, const config_record *c)
{
    if (!log->f) return;
    FILE *f = log->f;
    fputs("{\"event\":\"config\"", f);
    field_str(f, "version", c->version);
    fprintf(f, ",\"ranks\":%d,\"threads\":%d", c->ranks > 0 ? c->ranks : 1, c->threads);
    field_str(f, "simd", c->simd);
    field_str(f, "pin", c->pin);
    fputs(",\"cpus\":", f);
    json_int_array(f, c->cpus, c->cpus ? c->threads : 0);
    field_str(f, "onednn", c->onednn);
    field_str(f, "layout", c->layout);
    fprintf(f, ",\"batch\":%d,\"epochs\":%d,\"image_size\":%d", c->batch, c->epochs, c->image_size);
    fprintf(f, ",\"train_images\":%zu,\"val_images\":%zu", c->train_images, c->val_images);
    fprintf(f, ",\"seed\":%" PRIu64, c->seed);
    field_str(f, "dataset", c->dataset);
    fprintf(f, ",\"augment\":%s", c->augment ? "true" : "false");
    field_str(f, "runs", c->runs);
    field_str(f, "gc_scope", c->gc_scope);
    field_num(f, "lr", c->lr);
    field_num(f, "rho", c->rho);
    field_num(f, "epsilon", c->eps);
    field_str(f, "optimizer", c->optimizer);
    field_str(f, "hyperparameters", c->hyperparameters);
    field_str(f, "gc_on", c->gc_on);
    field_num(f, "momentum", c->momentum);
    fprintf(f, ",\"nesterov\":%s", c->nesterov ? "true" : "false");
    field_num(f, "beta_1", c->beta1);
    field_num(f, "beta_2", c->beta2);
    field_num(f, "initial_accumulator", c->initial_accumulator);
    field_num(f, "weight_decay", c->weight_decay);
    field_str(f, "weight_decay_form", c->weight_decay_form);
    fprintf(f, ",\"params\":%zu", c->params);
    field_str(f, "precision", c->precision);
    field_str(f, "onednn_isa", c->onednn_isa);
    field_str(f, "cpu_bf16", c->cpu_bf16);
    end_record(log);
}

void jsonl_run_start(jsonl_log *log, const char *run, const char *scope, uint64_t init_checksum, int threads)
{
    if (!log->f) return;
    FILE *f = log->f;
    fputs("{\"event\":\"run_start\"", f);
    field_str(f, "run", run);
    if (scope)
        field_str(f, "gc_scope", scope);
    else
        fputs(",\"gc_scope\":null", f);
    fprintf(f, ",\"init_checksum\":\"%016" PRIx64 "\",\"threads\":%d", init_checksum, threads);
    end_record(log);
}

void jsonl_epoch(jsonl_log *log, const epoch_result *r)
{
    if (!log->f) return;
    FILE *f = log->f;
    fputs("{\"event\":\"epoch\"", f);
    field_str(f, "run", r->run);
    fprintf(f, ",\"epoch\":%d", r->epoch);
    field_num(f, "loss", r->loss);
    field_num(f, "accuracy", r->accuracy);
    field_num(f, "val_loss", r->val_loss);
    field_num(f, "val_accuracy", r->val_accuracy);
    field_num(f, "seconds", r->seconds);
    field_num(f, "train_seconds", r->train_seconds);
    field_num(f, "val_seconds", r->val_seconds);
    field_num(f, "data_wait_seconds", r->data_wait_seconds);
    field_num(f, "images_per_second", r->images_per_second);
    end_record(log);
}

void jsonl_summary(jsonl_log *log, const run_summary *s)
{
    if (!log->f) return;
    FILE *f = log->f;
    fputs("{\"event\":\"summary\"", f);
    field_str(f, "run", s->run);
    field_num(f, "loss", s->loss);
    field_num(f, "accuracy", s->accuracy);
    field_num(f, "val_loss", s->val_loss);
    field_num(f, "val_accuracy", s->val_accuracy);
    field_num(f, "train_seconds", s->train_seconds);
    field_num(f, "images_per_second", s->images_per_second);
    fprintf(f, ",\"epochs\":%d", s->epochs);
    end_record(log);
}

void jsonl_scaling(jsonl_log *log, const scaling_point *p)
{
    if (!log->f) return;
    FILE *f = log->f;
    fprintf(f, "{\"event\":\"scaling\",\"threads\":%d", p->threads);
    field_num(f, "images_per_second", p->images_per_second);
    field_num(f, "speedup", p->speedup);
    field_num(f, "efficiency", p->efficiency);
    fputs(",\"cpus\":", f);
    json_int_array(f, p->cpus, p->threads);
    end_record(log);
}

void jsonl_profile(jsonl_log *log, const net *n, const epoch_result *r)
{
    if (!log->f || !r->profile) return;
    FILE *f = log->f;
    const epoch_profile *p = r->profile;
    fputs("{\"event\":\"profile\"", f);
    field_str(f, "run", r->run);
    fprintf(f, ",\"epoch\":%d,\"steps\":%d", r->epoch, p->steps);
    field_num(f, "step_seconds", p->step_total);
    field_num(f, "data_wait", p->data_wait);
    field_num(f, "loss", p->loss);
    field_num(f, "optimizer", p->optimizer);
    field_num(f, "allreduce", p->allreduce);
    fputs(",\"layers\":[", f);
    char label[128];
    for (int i = 0; i < n->nlayers && i < PROFILE_MAX_LAYERS; i++) {
        layer_label(&n->layers[i], label, sizeof label);
        fputs(i ? ",{\"layer\":" : "{\"layer\":", f);
        json_string(f, label);
        field_num(f, "forward", p->forward[i]);
        field_num(f, "backward", p->backward[i]);
        field_num(f, "own_forward", p->own_forward[i]);
        field_num(f, "own_backward", p->own_backward[i]);
        fputc('}', f);
    }
    fputc(']', f);
    end_record(log);
}

/* {"final_val_accuracy":..,...}: one value per metric. */
static void study_values(FILE *f, const char *key, const double *v)
{
    fprintf(f, ",\"%s\":{", key);
    for (int m = 0; m < STUDY_METRICS; m++) {
        fprintf(f, m ? ",\"%s\":" : "\"%s\":", study_metric_of((study_metric)m)->key);
        json_number(f, v[m]);
    }
    fputc('}', f);
}

void jsonl_study_seed(jsonl_log *log, const study *st, int index)
{
    if (!log->f) return;
    FILE *f = log->f;
    const study_seed *s = &st->seeds[index];
    fprintf(f, "{\"event\":\"study\",\"kind\":\"seed\",\"index\":%d,\"seed\":%" PRIu64, index, s->seed);
    study_values(f, "baseline", s->value[STUDY_BASELINE]);
    study_values(f, "gc", s->value[STUDY_GC]);
    study_values(f, "difference", s->difference);
    end_record(log);
}

void jsonl_study_summary(jsonl_log *log, const study *st)
{
    if (!log->f) return;
    FILE *f = log->f;
    fprintf(f, "{\"event\":\"study\",\"kind\":\"summary\",\"seeds\":%d,\"first_seed\":%" PRIu64, st->count,
            st->first_seed);
    fputs(",\"target_accuracy\":", f);
    if (st->target > 0) json_number(f, st->target);
    else fputs("null", f);
    field_num(f, "level", STUDY_LEVEL);
    fprintf(f, ",\"bootstrap_resamples\":%d,\"bootstrap_seed\":%d,\"metrics\":{", STUDY_RESAMPLES,
            STUDY_BOOTSTRAP_SEED);
    for (int m = 0; m < STUDY_METRICS; m++) {
        const study_summary *s = &st->summary[m];
        const stats_paired *p = &s->paired;
        fprintf(f, m ? ",\"%s\":{" : "\"%s\":{", study_metric_of((study_metric)m)->key);
        fprintf(f, "\"n\":%d", p->n);
        field_num(f, "baseline_mean", s->baseline_mean);
        field_num(f, "gc_mean", s->gc_mean);
        field_num(f, "mean_difference", p->mean);
        field_num(f, "sd_difference", p->sd);
        field_num(f, "t_low", p->t.lo);
        field_num(f, "t_high", p->t.hi);
        field_num(f, "bootstrap_low", p->bootstrap.lo);
        field_num(f, "bootstrap_high", p->bootstrap.hi);
        field_num(f, "sign_p", p->sign_p);
        field_num(f, "wilcoxon_p", p->wilcoxon_p);
        fprintf(f, ",\"wilcoxon_exact\":%s,\"wins\":%d,\"ties\":%d,\"losses\":%d", p->wilcoxon_exact ? "true" : "false",
                s->wins, s->ties, s->losses);
        if (m == STUDY_TARGET_EPOCH) fprintf(f, ",\"reached_baseline\":%d,\"reached_gc\":%d", s->reached[0], s->reached[1]);
        field_str(f, "verdict", stats_verdict_text(p->verdict));
        fputc('}', f);
    }
    fputc('}', f);
    end_record(log);
}
