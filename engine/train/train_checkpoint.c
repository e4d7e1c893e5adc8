#include "engine/train/train_checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"

/* The layouts this file writes. A field added to one of these structs changes its size and
 * stops the build here: write and read the field below, then bump TRAIN_CHECKPOINT_VERSION
 * (and update the size). Sizes are those of LP64 targets (x86-64, aarch64). Not saved, on
 * purpose: what the caller's context gives (a result's run name, scope, epoch count and
 * profile). */
_Static_assert(sizeof(void *) != 8 || sizeof(train_state) == 168,
               "train_state changed: save it in train_checkpoint.c and bump TRAIN_CHECKPOINT_VERSION");
_Static_assert(sizeof(void *) != 8 || sizeof(epoch_result) == 96,
               "epoch_result changed: save it in train_checkpoint.c and bump TRAIN_CHECKPOINT_VERSION");
_Static_assert(sizeof(void *) != 8 || sizeof(run_summary) == 72,
               "run_summary changed: save it in train_checkpoint.c and bump TRAIN_CHECKPOINT_VERSION");

static int malformed(const char *path, const char *what)
{
    return gc_fail(GC_EUSAGE, "checkpoint '%s' is malformed: %s", path, what);
}

static int check_version(checkpoint_cursor *c, const char *path, const char *what)
{
    uint64_t v = checkpoint_get_u64(c);
    if (c->bad) return malformed(path, what);
    if (v != TRAIN_CHECKPOINT_VERSION)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' holds %s of format version %llu; this gcbench reads version %d", path,
                       what, (unsigned long long)v, TRAIN_CHECKPOINT_VERSION);
    return GC_OK;
}

void epoch_result_put(checkpoint_buffer *b, const epoch_result *r)
{
    checkpoint_put_u64(b, (uint64_t)r->epoch);
    double v[] = {r->loss, r->accuracy, r->val_loss, r->val_accuracy, r->train_seconds, r->val_seconds,
                  r->seconds, r->data_wait_seconds, r->images_per_second};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) checkpoint_put_f64(b, v[i]);
}

void epoch_result_get(checkpoint_cursor *c, epoch_result *r)
{
    r->epoch = (int)checkpoint_get_u64(c);
    double *v[] = {&r->loss, &r->accuracy, &r->val_loss, &r->val_accuracy, &r->train_seconds, &r->val_seconds,
                   &r->seconds, &r->data_wait_seconds, &r->images_per_second};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) *v[i] = checkpoint_get_f64(c);
}

void run_summary_put(checkpoint_buffer *b, const run_summary *r)
{
    checkpoint_put_u64(b, r->init_checksum);
    double v[] = {r->loss, r->accuracy, r->val_loss, r->val_accuracy, r->train_seconds, r->images_per_second};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) checkpoint_put_f64(b, v[i]);
}

void run_summary_get(checkpoint_cursor *c, run_summary *r)
{
    r->init_checksum = checkpoint_get_u64(c);
    double *v[] = {&r->loss, &r->accuracy, &r->val_loss, &r->val_accuracy, &r->train_seconds, &r->images_per_second};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) *v[i] = checkpoint_get_f64(c);
}

void train_state_put(checkpoint_buffer *b, const train_state *st, int epochs)
{
    checkpoint_put_u64(b, TRAIN_CHECKPOINT_VERSION);
    checkpoint_put_u64(b, (uint64_t)st->epoch);
    checkpoint_put_u64(b, (uint64_t)st->step);
    checkpoint_put_f64(b, st->loss_sum);
    checkpoint_put_u64(b, st->correct);
    checkpoint_put_u64(b, st->seen);
    checkpoint_put_f64(b, st->data_wait);
    checkpoint_put_f64(b, st->train_seconds);
    checkpoint_put_f64(b, st->run_seconds);
    checkpoint_put_u64(b, st->init_checksum);
    epoch_result_put(b, &st->last);
    checkpoint_put_u64(b, (uint64_t)epochs);
    for (int e = 0; e < epochs; e++) checkpoint_put_f64(b, st->ips[e]);
}

int train_state_get(const checkpoint_section *sec, const char *path, int epochs, int steps, size_t images,
                    train_state *st)
{
    memset(st, 0, sizeof *st);
    checkpoint_cursor c = checkpoint_cursor_of(sec);
    GC_TRY(check_version(&c, path, "its training state"));
    /* Positions are checked as read (64 bits), before they become ints. */
    uint64_t epoch = checkpoint_get_u64(&c), step = checkpoint_get_u64(&c);
    st->loss_sum = checkpoint_get_f64(&c);
    st->correct = checkpoint_get_u64(&c);
    st->seen = checkpoint_get_u64(&c);
    st->data_wait = checkpoint_get_f64(&c);
    st->train_seconds = checkpoint_get_f64(&c);
    st->run_seconds = checkpoint_get_f64(&c);
    st->init_checksum = checkpoint_get_u64(&c);
    epoch_result_get(&c, &st->last);
    uint64_t nips = checkpoint_get_u64(&c);
    if (c.bad) return malformed(path, "bad run state");
    if (epoch > (uint64_t)epochs || step >= (uint64_t)steps || (epoch == (uint64_t)epochs && step != 0) ||
        st->seen > images || st->correct > st->seen || st->last.epoch < 0 || (uint64_t)st->last.epoch > epoch ||
        nips != (uint64_t)epochs)
        return malformed(path, "its run state does not fit this configuration");
    st->epoch = (int)epoch;
    st->step = (int)step;
    st->ips = malloc((size_t)epochs * sizeof *st->ips);
    if (!st->ips) return gc_fail(GC_ERUNTIME, "out of memory reading checkpoint '%s'", path);
    for (int e = 0; e < epochs; e++) st->ips[e] = checkpoint_get_f64(&c);
    if (c.bad || c.left != 0) {
        free(st->ips);
        st->ips = NULL;
        return malformed(path, "bad run state");
    }
    return GC_OK;
}

void train_params_put(checkpoint_buffer *b, const param_store *ps, const optimizer_desc *d)
{
    checkpoint_put_u64(b, TRAIN_CHECKPOINT_VERSION);
    checkpoint_put_u64(b, (uint64_t)ps->total);
    checkpoint_put(b, ps->w, ps->total * sizeof(float));
    checkpoint_put_str(b, d->name);
    checkpoint_put_u64(b, ps->updates);
    checkpoint_put_u64(b, (uint64_t)d->nslots);
    for (int s = 0; s < d->nslots; s++) {
        checkpoint_put_str(b, d->slots[s]);
        checkpoint_put(b, ps->state[s], ps->total * sizeof(float));
    }
}

int train_params_get(const checkpoint_section *sec, const char *path, param_store *ps, const optimizer_desc *d)
{
    checkpoint_cursor c = checkpoint_cursor_of(sec);
    GC_TRY(check_version(&c, path, "its parameters"));
    uint64_t total = checkpoint_get_u64(&c);
    if (c.bad || total != (uint64_t)ps->total) return malformed(path, "its weights do not fit the model");
    const uint8_t *w = c.p;
    size_t bytes = ps->total * sizeof(float);
    if (c.left < bytes) return malformed(path, "its weights are cut short");
    c.p += bytes, c.left -= bytes;
    char name[64];
    checkpoint_get_str(&c, name, sizeof name);
    uint64_t updates = checkpoint_get_u64(&c), nslots = checkpoint_get_u64(&c);
    if (c.bad) return malformed(path, "bad optimizer state");
    if (strcmp(name, d->name) != 0)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' was made with optimizer=%s; this run has optimizer=%s", path, name,
                       d->name);
    if (nslots != (uint64_t)d->nslots) return malformed(path, "its optimizer state has another number of slots");
    const uint8_t *slot[OPT_MAX_SLOTS];
    for (int s = 0; s < d->nslots; s++) {
        checkpoint_get_str(&c, name, sizeof name);
        if (c.bad || strcmp(name, d->slots[s]) != 0 || c.left < bytes)
            return malformed(path, "its optimizer state slots are not the optimizer's");
        slot[s] = c.p;
        c.p += bytes, c.left -= bytes;
    }
    if (c.left != 0) return malformed(path, "bad optimizer state");
    /* Everything checked: load. */
    GC_TRY(params_alloc_state(ps, d->nslots));
    memcpy(ps->w, w, bytes);
    for (int s = 0; s < d->nslots; s++) memcpy(ps->state[s], slot[s], bytes);
    ps->updates = updates;
    params_weights_changed(ps);
    return GC_OK;
}
