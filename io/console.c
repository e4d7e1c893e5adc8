#include "io/console.h"

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
    fprintf(f, "[%s] epoch %*d/%d  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f  %.2fs  %.1f img/s\n",
            r->run, r->epochs >= 10 ? 2 : 1, r->epoch, r->epochs, r->loss, r->accuracy, r->val_loss,
            r->val_accuracy, r->seconds, r->images_per_second);
    fflush(f);
}

void console_run_summary(FILE *f, const run_summary *s)
{
    fprintf(f, "\n[%s] after %d epochs: loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f  "
               "time %.2fs  %.1f img/s (median of epochs 2+)\n",
            s->run, s->epochs, s->loss, s->accuracy, s->val_loss, s->val_accuracy, s->train_seconds,
            s->images_per_second);
}

static void row(FILE *f, const char *name, double a, double b, const char *fmt_diff)
{
    fprintf(f, "  %-20s %12.4f %12.4f ", name, a, b);
    fprintf(f, fmt_diff, b - a);
    fputc('\n', f);
}

void console_comparison(FILE *f, const run_summary *base, const run_summary *gc)
{
    fprintf(f, "\nComparison after %d epochs (both runs from weights %016" PRIx64 "%s; only GC differs)\n",
            base->epochs, base->init_checksum,
            base->init_checksum == gc->init_checksum ? "" : " -- WARNING: initial weights differ");
    fprintf(f, "  %-20s %12s %12s %12s\n", "", "baseline", "gc", "gc - baseline");
    row(f, "loss", base->loss, gc->loss, "%+12.4f");
    row(f, "accuracy", base->accuracy, gc->accuracy, "%+12.4f");
    row(f, "val_loss", base->val_loss, gc->val_loss, "%+12.4f");
    row(f, "val_accuracy", base->val_accuracy, gc->val_accuracy, "%+12.4f");
    row(f, "training time (s)", base->train_seconds, gc->train_seconds, "%+12.2f");
    row(f, "images/s", base->images_per_second, gc->images_per_second, "%+12.1f");
    double overhead = base->train_seconds > 0 ? (gc->train_seconds / base->train_seconds - 1.0) * 100.0 : NAN;
    fprintf(f, "  GC time overhead: %+.1f%%   (gc scope: %s)\n", overhead, gc_scope_name(gc->scope));
}
