#include "io/output/console.h"

#include <inttypes.h>
#include <math.h>

#define BAR_WIDTH 28

void console_progress(FILE *f, const char *run, int epoch, int epochs, int step, int steps, double elapsed)
{
    char bar[BAR_WIDTH + 1];
    int filled = steps ? step * BAR_WIDTH / steps : 0;
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[BAR_WIDTH] = '\0';
    double eta = step ? elapsed / step * (steps - step) : 0.0;
    fprintf(f, "\r[%s] epoch %d/%d [%s] %d/%d  %.1fs  ETA %.1fs \033[K", run, epoch, epochs, bar, step,
            steps, elapsed, eta);
    fflush(f);
}

void console_progress_clear(FILE *f)
{
    fputs("\r\033[K", f);
    fflush(f);
}

void console_epoch(FILE *f, const epoch_result *r)
{
    fprintf(f, "[%s] epoch %*d/%d  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f  %.2fs  %.1f img/s  data wait %.1f%%\n",
            r->run, r->epochs >= 10 ? 2 : 1, r->epoch, r->epochs, r->loss, r->accuracy, r->val_loss,
            r->val_accuracy, r->seconds, r->images_per_second, 100.0 * r->data_wait_seconds / r->seconds);
    fflush(f);
}

void console_run_summary(FILE *f, const run_summary *s)
{
    fprintf(f, "\n[%s] after %d epoch%s: loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f  "
               "time %.2fs  %.1f img/s (median of epochs 2+)\n",
            s->run, s->epochs, s->epochs == 1 ? "" : "s", s->loss, s->accuracy, s->val_loss, s->val_accuracy, s->train_seconds,
            s->images_per_second);
}

static void row(FILE *f, const char *name, double a, double b, int decimals)
{
    fprintf(f, "  %-20s %12.*f %12.*f %+13.*f\n", name, decimals, a, decimals, b, decimals, b - a);
}

void console_comparison(FILE *f, const run_summary *base, const run_summary *gc)
{
    fprintf(f, "\nComparison after %d epoch%s (both runs from weights %016" PRIx64 "%s; only GC differs)\n",
            base->epochs, base->epochs == 1 ? "" : "s", base->init_checksum,
            base->init_checksum == gc->init_checksum ? "" : " -- WARNING: initial weights differ");
    fprintf(f, "  %-20s %12s %12s %13s\n", "", "baseline", "gc", "gc - baseline");
    row(f, "loss", base->loss, gc->loss, 4);
    row(f, "accuracy", base->accuracy, gc->accuracy, 4);
    row(f, "val_loss", base->val_loss, gc->val_loss, 4);
    row(f, "val_accuracy", base->val_accuracy, gc->val_accuracy, 4);
    row(f, "training time (s)", base->train_seconds, gc->train_seconds, 2);
    row(f, "images/s", base->images_per_second, gc->images_per_second, 1);
    double overhead = base->train_seconds > 0 ? (gc->train_seconds / base->train_seconds - 1.0) * 100.0 : NAN;
    fprintf(f, "  GC time overhead: %+.1f%%   (gc scope: %s)\n", overhead, gc_scope_name(gc->scope));
}

void console_scaling_header(FILE *f, const char *runs, int epochs, int batch, const char *pin, int cores)
{
    fprintf(f, "Scaling study: %s, %d epochs per run, batch %d, pin %s, %d cores\n", runs, epochs, batch, pin, cores);
    fprintf(f, "  %7s %10s %8s %10s\n", "threads", "images/s", "speedup", "efficiency");
    fflush(f);
}

void console_scaling_row(FILE *f, const scaling_point *p)
{
    fprintf(f, "  %7d %10.1f %8.2f %9.1f%%\n", p->threads, p->images_per_second, p->speedup, 100.0 * p->efficiency);
    fflush(f);
}

void console_scaling_skipped(FILE *f, const int *threads, int count, int cores)
{
    if (count == 0) return;
    fputs("  skipped:", f);
    for (int i = 0; i < count; i++) fprintf(f, "%s %d", i ? "," : "", threads[i]);
    fprintf(f, " threads (this machine has %d cores)\n", cores);
    fflush(f);
}

void layer_label(const layer *l, char *buf, size_t size)
{
    if (l->kind != LAYER_CONV_POOL)
        snprintf(buf, size, "%s", l->name);
    else if (l->rate > 0.0f)
        snprintf(buf, size, "%s+%s+%s", l->name, l->dropout_name, l->pool_name);
    else
        snprintf(buf, size, "%s+%s", l->name, l->pool_name);
}

static void profile_row(FILE *f, const char *phase, double seconds, double total)
{
    fprintf(f, "  %-44s %9.3f %7.1f%%\n", phase, seconds, total > 0 ? 100.0 * seconds / total : 0.0);
}

void console_profile(FILE *f, const net *n, const epoch_result *r)
{
    const epoch_profile *p = r->profile;
    double total = p->step_total, accounted = p->data_wait + p->loss + p->optimizer + p->allreduce;
    fprintf(f, "\n[%s] profile of epoch %d: %d training steps, %.2f s\n", r->run, r->epoch, p->steps, total);
    fprintf(f, "  %-44s %9s %8s\n", "phase", "seconds", "share");
    profile_row(f, "data wait", p->data_wait, total);
    char label[128], phase[160];
    for (int i = 0; i < n->nlayers && i < PROFILE_MAX_LAYERS; i++) {
        layer_label(&n->layers[i], label, sizeof label);
        snprintf(phase, sizeof phase, "%s forward", label);
        profile_row(f, phase, p->forward[i], total);
        accounted += p->forward[i];
    }
    profile_row(f, "loss (sigmoid + binary cross-entropy)", p->loss, total);
    for (int i = n->nlayers - 1; i >= 0; i--) {
        if (i >= PROFILE_MAX_LAYERS) continue;
        layer_label(&n->layers[i], label, sizeof label);
        snprintf(phase, sizeof phase, "%s backward", label);
        profile_row(f, phase, p->backward[i], total);
        accounted += p->backward[i];
    }
    if (p->allreduce > 0.0) profile_row(f, "gradient allreduce (MPI, all ranks)", p->allreduce, total);
    profile_row(f, "optimizer (RMSprop, GC fused in the GC run)", p->optimizer, total);
    profile_row(f, "other (batch hand-over, bookkeeping)", total - accounted, total);
    fflush(f);
}
