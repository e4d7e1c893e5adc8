/* --checkpoint and --resume: the session's state in a checkpoint file, and back.
 *
 * The program's sections: CONF the configuration as "key=value" lines (compared on resume),
 * STAT which run is in progress and the finished baseline's results, LOG_ the log written so
 * far, HIST the report's epoch history, STDY (--seeds) the seeds of the study finished so far
 * (the seed in progress is the next one). The engine's (engine/train/train_checkpoint.h): the
 * run's position and accumulators, and the weights with every optimizer state slot.
 * Every random draw is a function of (seed, epoch, step, image), so the position is the
 * random state: nothing else needs saving to continue exactly. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/precision.h"
#include "engine/runtime/dist.h"
#include "engine/train/train_checkpoint.h"
#include "session.h"

#define TAG_CONF CHECKPOINT_TAG('C', 'O', 'N', 'F')
#define TAG_STAT CHECKPOINT_TAG('S', 'T', 'A', 'T')
#define TAG_LOG CHECKPOINT_TAG('L', 'O', 'G', '_')
#define TAG_HIST CHECKPOINT_TAG('H', 'I', 'S', 'T')
#define TAG_STDY CHECKPOINT_TAG('S', 'T', 'D', 'Y')

#define CONF_MAX 8192

/* A cheap fingerprint of the images: labels and every 4099th pixel byte; for synthetic images
 * (kept or not) what they are drawn from; for files read on demand, their names. */
static uint64_t dataset_fingerprint(const dataset *d)
{
    uint64_t h = checkpoint_hash(d->labels, d->count);
    if (d->paths) {
        for (size_t i = 0; i < d->count; i++)
            h = (h ^ checkpoint_hash(d->paths[i], strlen(d->paths[i]))) * UINT64_C(0x100000001b3);
        return h;
    }
    if (d->draw) {
        uint64_t from[2] = {d->draw_seed, d->draw_first};
        return h ^ checkpoint_hash(from, sizeof from);
    }
    size_t bytes = d->count * dataset_image_bytes(d);
    for (size_t i = 0; i < bytes; i += 4099) h = (h ^ d->pixels[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* The configuration a checkpoint must match, one "key=value" per line; threads last (it
 * changes results only in their last bits, so a mismatch is a warning). */
static void config_text(const session *s, char *buf, size_t size)
{
    const options *o = s->opt;
    const net *n = s->net;
    size_t at = 0;
#define LINE(...) at += (size_t)snprintf(buf + at, at < size ? size - at : 0, __VA_ARGS__)
    LINE("model=%s %s, %dx%dx3, %zu parameters\n", o->model->name, o->unfused ? "unfused" : "fused", o->image_size,
         o->image_size, n->params.count);
    for (int t = 0; t < n->params.n; t++) LINE("tensor %s=%zu\n", n->params.t[t].name, n->params.t[t].count);
    LINE("dataset=%s\n", s->data_desc);
    LINE("images=%zu train, %zu validation, fingerprint %016" PRIx64 "%016" PRIx64 "\n", s->train.count,
         s->val.count, dataset_fingerprint(&s->train), dataset_fingerprint(&s->val));
    LINE("runs=%s\n", o->run_baseline && o->run_gc ? "compare" : o->run_gc ? "gc" : "baseline");
    LINE("gc-scope=%s\n", gc_scope_name(o->scope));
    if (o->gc_on_update) LINE("gc-on=update\n"); /* absent for the gradient, as in checkpoints from before it */
    LINE("epochs=%d\n", o->epochs);
    LINE("batch=%d\n", o->batch);
    char hp[256];
    o->optimizer->describe(&o->hp, 17, hp, sizeof hp);
    LINE("optimizer=%s %s\n", o->optimizer->name, hp);
    LINE("seed=%llu\n", (unsigned long long)o->seed);
    LINE("augment=%s\n", o->augment ? "on" : "off");
    if (o->precision != PRECISION_FP32) /* absent in fp32, as in checkpoints from before bf16 */
        LINE("precision=%s\n", precision_name(o->precision));
    if (o->seeds) { /* absent otherwise, as in checkpoints from before studies */
        LINE("seeds=%d\n", o->seeds);
        LINE("target-accuracy=%.17g\n", o->target_accuracy);
    }
    LINE("threads=%d\n", s->threads);
#undef LINE
}

/* The value of key in config text ("" when absent), into out. */
static void config_value(const char *text, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    out[0] = '\0';
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t vlen = len - klen - 1 < size - 1 ? len - klen - 1 : size - 1;
            memcpy(out, line + klen + 1, vlen);
            out[vlen] = '\0';
            return;
        }
        if (!end) break;
        line = end + 1;
    }
}

/* GC_EUSAGE naming the first setting that differs between the checkpoint and this run: a
 * setting of this run's the checkpoint has another value for, or one only the checkpoint has. */
static int compare_config(const char *path, const char *saved, const char *current)
{
    for (const char *line = saved; *line;) {
        const char *eq = strchr(line, '='), *end = strchr(line, '\n');
        if (!eq || !end || eq > end) break;
        char key[128], got[1024];
        snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
        config_value(current, key, got, sizeof got);
        if (!got[0] && end > eq + 1)
            return gc_fail(GC_EUSAGE, "checkpoint '%s' was made with %s=%.*s; this run has %s=(none)", path, key,
                           (int)(end - eq - 1), eq + 1, key);
        line = end + 1;
    }
    for (const char *line = current; *line;) {
        const char *eq = strchr(line, '='), *end = strchr(line, '\n');
        if (!eq || !end) break;
        char key[128], want[1024], got[1024];
        snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
        snprintf(want, sizeof want, "%.*s", (int)(end - eq - 1), eq + 1);
        config_value(saved, key, got, sizeof got);
        if (strcmp(want, got) != 0) {
            if (strcmp(key, "threads") == 0)
                fprintf(stderr, "gcbench: warning: checkpoint '%s' was made with %s threads, this run has %s: results may "
                                "differ in their last bits from an uninterrupted run\n", path, got, want);
            else
                return gc_fail(GC_EUSAGE, "checkpoint '%s' was made with %s=%s; this run has %s=%s", path, key,
                               got[0] ? got : "(none)", key, want);
        }
        line = end + 1;
    }
    return GC_OK;
}

/* A study's finished seeds: their count, then per seed its number and, per run, the training
 * time and the epochs. */
static void put_study(checkpoint_buffer *b, const study *st)
{
    checkpoint_put_u64(b, (uint64_t)st->count);
    for (int i = 0; i < st->count; i++) {
        checkpoint_put_u64(b, st->seeds[i].seed);
        for (int r = 0; r < 2; r++) {
            const study_run *run = &st->seeds[i].run[r];
            checkpoint_put_f64(b, run->train_seconds);
            checkpoint_put_u64(b, (uint64_t)run->nepochs);
            for (int e = 0; e < run->nepochs; e++) {
                const study_epoch *x = &run->epochs[e];
                double v[] = {x->loss, x->accuracy, x->val_loss, x->val_accuracy};
                for (size_t k = 0; k < sizeof v / sizeof *v; k++) checkpoint_put_f64(b, v[k]);
            }
        }
    }
}

/* The log file as written so far (flushed record by record), or nothing without a log. */
static int read_log(session *s, checkpoint_buffer *b)
{
    if (!s->log.f) return GC_OK;
    if (fflush(s->log.f) != 0) return gc_fail(GC_ERUNTIME, "writing the log '%s' failed: %s", s->log.path, strerror(errno));
    FILE *f = fopen(s->log.path, "rb");
    if (!f) return gc_fail(GC_ERUNTIME, "cannot read back the log '%s': %s", s->log.path, strerror(errno));
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) checkpoint_put(b, chunk, n);
    int failed = ferror(f);
    fclose(f);
    return failed ? gc_fail(GC_ERUNTIME, "cannot read back the log '%s'", s->log.path) : GC_OK;
}

int session_save(session *s, const char *run, const train_state *st)
{
    const options *o = s->opt;
    if (!o->checkpoint_path || dist_rank() != 0) return GC_OK; /* rank 0 holds what every rank holds */
    char conf[CONF_MAX];
    config_text(s, conf, sizeof conf);

    checkpoint_buffer stat = {0}, trns = {0}, prms = {0}, log = {0}, hist = {0};
    checkpoint_put_u64(&stat, (uint64_t)s->run_index);
    checkpoint_put_str(&stat, run);
    run_summary_put(&stat, &s->base);
    train_state_put(&trns, st, o->epochs);
    train_params_put(&prms, &s->net->params, o->optimizer);
    checkpoint_put_u64(&hist, (uint64_t)s->nhistory);
    for (int i = 0; i < s->nhistory; i++) {
        const report_history *h = &s->history[i];
        checkpoint_put_str(&hist, h->run);
        checkpoint_put_u64(&hist, (uint64_t)h->scope);
        checkpoint_put_u64(&hist, (uint64_t)h->nepochs);
        for (int e = 0; e < h->nepochs; e++) epoch_result_put(&hist, &h->epochs[e]);
    }
    checkpoint_buffer seeds = {0};
    if (o->seeds) put_study(&seeds, &s->study);
    int rc = read_log(s, &log);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&seeds);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&stat);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&trns);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&prms);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&log);
    if (rc == GC_OK) rc = checkpoint_buffer_check(&hist);
    checkpoint_section sections[] = {
        {TAG_CONF, strlen(conf), conf},
        {TAG_STAT, stat.size, stat.data},
        {TRAIN_TAG_STATE, trns.size, trns.data},
        {TRAIN_TAG_PARAMS, prms.size, prms.data},
        {TAG_LOG, log.size, log.data},
        {TAG_HIST, hist.size, hist.data},
        {TAG_STDY, seeds.size, seeds.data},
    };
    int nsections = (int)(sizeof sections / sizeof *sections) - (o->seeds ? 0 : 1);
    if (rc == GC_OK) rc = checkpoint_write(o->checkpoint_path, sections, nsections);
    checkpoint_buffer_free(&stat);
    checkpoint_buffer_free(&trns);
    checkpoint_buffer_free(&prms);
    checkpoint_buffer_free(&log);
    checkpoint_buffer_free(&hist);
    checkpoint_buffer_free(&seeds);
    if (rc == GC_OK) {
        s->saved_seed = s->seed;
        s->saved_epoch = st->epoch;
        s->saved_step = st->step;
        s->saved_run = run;
    }
    return rc;
}

static int malformed(const char *path, const char *what)
{
    return gc_fail(GC_EUSAGE, "checkpoint '%s' is malformed: %s", path, what);
}

/* The report's history from HIST, checked against the runs' shape. */
static int load_history(session *s, const char *path, const checkpoint_section *sec)
{
    checkpoint_cursor c = checkpoint_cursor_of(sec);
    uint64_t count = checkpoint_get_u64(&c);
    if (c.bad || count > 2) return malformed(path, "bad report history");
    for (uint64_t i = 0; i < count; i++) {
        char run[32];
        checkpoint_get_str(&c, run, sizeof run);
        uint64_t scope = checkpoint_get_u64(&c), nepochs = checkpoint_get_u64(&c);
        if (c.bad || scope > GC_SCOPE_CONV || nepochs > (uint64_t)s->opt->epochs) return malformed(path, "bad report history");
        report_history *h = &s->history[s->nhistory++];
        report_history_init(h, run, (gc_scope)scope);
        for (uint64_t e = 0; e < nepochs; e++) {
            epoch_result r = {.run = run};
            epoch_result_get(&c, &r);
            if (c.bad) return malformed(path, "bad report history");
            GC_TRY(report_history_add(h, &r));
        }
    }
    return c.left == 0 ? GC_OK : malformed(path, "bad report history");
}

/* The study's finished seeds from STDY into out, checked against --seeds and --epochs. */
static int load_study(session *s, const char *path, const checkpoint_section *sec, study *out)
{
    const options *o = s->opt;
    if (!sec) return malformed(path, "the study's seeds are missing");
    GC_TRY(study_init(out, o->seed, o->seeds, o->target_accuracy));
    checkpoint_cursor c = checkpoint_cursor_of(sec);
    uint64_t count = checkpoint_get_u64(&c);
    if (c.bad || count >= (uint64_t)o->seeds) return malformed(path, "bad study");
    study_epoch *epochs = malloc(2 * (size_t)o->epochs * sizeof *epochs);
    if (!epochs) return gc_fail(GC_ERUNTIME, "out of memory reading checkpoint '%s'", path);
    int rc = GC_OK;
    for (uint64_t i = 0; i < count && rc == GC_OK; i++) {
        study_run runs[2];
        uint64_t seed = checkpoint_get_u64(&c);
        for (int r = 0; r < 2; r++) {
            runs[r].train_seconds = checkpoint_get_f64(&c);
            uint64_t nepochs = checkpoint_get_u64(&c);
            if (c.bad || nepochs != (uint64_t)o->epochs) break;
            runs[r].epochs = epochs + (size_t)r * (size_t)o->epochs;
            runs[r].nepochs = (int)nepochs;
            for (int e = 0; e < runs[r].nepochs; e++) {
                study_epoch *x = &runs[r].epochs[e];
                double *v[] = {&x->loss, &x->accuracy, &x->val_loss, &x->val_accuracy};
                for (size_t k = 0; k < sizeof v / sizeof *v; k++) *v[k] = checkpoint_get_f64(&c);
            }
            if (r == 1 && !c.bad && seed == o->seed + i) rc = study_add(out, runs);
        }
        if (rc == GC_OK && out->count != (int)i + 1) rc = malformed(path, "bad study");
    }
    free(epochs);
    if (rc == GC_OK && (c.bad || c.left != 0)) rc = malformed(path, "bad study");
    return rc;
}

int session_load(session *s, const char *path, resume_point *out)
{
    memset(out, 0, sizeof *out);
    checkpoint_file file;
    GC_TRY(checkpoint_read(path, &file));
    return session_load_file(s, path, &file, out);
}

int session_load_file(session *s, const char *path, checkpoint_file *file, resume_point *out)
{
    memset(out, 0, sizeof *out);
    out->file = *file; /* out owns the bytes from here on, whatever happens */
    memset(file, 0, sizeof *file);
    const checkpoint_file *f = &out->file;
    const checkpoint_section *conf = checkpoint_find(f, TAG_CONF), *stat = checkpoint_find(f, TAG_STAT),
                             *trns = checkpoint_find(f, TRAIN_TAG_STATE), *prms = checkpoint_find(f, TRAIN_TAG_PARAMS),
                             *log = checkpoint_find(f, TAG_LOG), *hist = checkpoint_find(f, TAG_HIST);
    if (!conf || !stat || !trns || !prms || !log || !hist)
        return malformed(path, "a section is missing (a checkpoint of another gcbench version?)");

    char saved[CONF_MAX], current[CONF_MAX];
    if (conf->size >= sizeof saved) return malformed(path, "the configuration is too long");
    memcpy(saved, conf->data, (size_t)conf->size);
    saved[conf->size] = '\0';
    config_text(s, current, sizeof current);
    GC_TRY(compare_config(path, saved, current));

    const options *o = s->opt;
    int runs = (o->run_baseline ? 1 : 0) + (o->run_gc ? 1 : 0);
    checkpoint_cursor c = checkpoint_cursor_of(stat);
    uint64_t run_index = checkpoint_get_u64(&c);
    char run[32];
    checkpoint_get_str(&c, run, sizeof run);
    run_summary_get(&c, &out->base);
    if (c.bad || c.left != 0) return malformed(path, "bad run state");
    if (run_index >= (uint64_t)runs) return malformed(path, "its run state does not fit this configuration");
    out->run_index = (int)run_index;
    int steps = (int)((s->train.count + (size_t)o->batch - 1) / (size_t)o->batch);
    GC_TRY(train_state_get(trns, path, o->epochs, steps, s->train.count, &out->state));
    /* The weights and the optimizer state go straight into the network: nothing trains it
     * before the resumed run. */
    GC_TRY(train_params_get(prms, path, &s->net->params, o->optimizer));
    out->log = log->data;
    out->log_size = (size_t)log->size;
    GC_TRY(load_history(s, path, hist));
    return o->seeds ? load_study(s, path, checkpoint_find(f, TAG_STDY), &out->study) : GC_OK;
}

void resume_point_free(resume_point *r)
{
    free(r->state.ips);
    study_free(&r->study);
    checkpoint_free(&r->file);
    memset(r, 0, sizeof *r);
}
