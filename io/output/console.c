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

void console_comparison(FILE *f, const run_summary *base, const run_summary *gc, const char *setup)
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
    fprintf(f, "  optimizer: %s\n", setup);
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

/* A phase's seconds and share of the step, and the seconds of it in gcbench's own kernels. */
static void profile_row(FILE *f, const char *phase, double seconds, double own, double total)
{
    fprintf(f, "  %-44s %9.3f %7.1f%% %9.3f\n", phase, seconds, total > 0 ? 100.0 * seconds / total : 0.0, own);
}

void console_profile(FILE *f, const net *n, const epoch_result *r)
{
    const epoch_profile *p = r->profile;
    double total = p->step_total, accounted = p->data_wait + p->loss + p->optimizer + p->allreduce;
    double own = p->loss + p->optimizer;
    fprintf(f, "\n[%s] profile of epoch %d: %d training steps, %.2f s\n", r->run, r->epoch, p->steps, total);
    fprintf(f, "  %-44s %9s %8s %9s\n", "phase", "seconds", "share", "own s");
    profile_row(f, "data wait", p->data_wait, 0.0, total);
    char label[128], phase[160];
    for (int i = 0; i < n->nlayers && i < PROFILE_MAX_LAYERS; i++) {
        layer_label(&n->layers[i], label, sizeof label);
        snprintf(phase, sizeof phase, "%s forward", label);
        profile_row(f, phase, p->forward[i], p->own_forward[i], total);
        accounted += p->forward[i];
        own += p->own_forward[i];
    }
    profile_row(f, "loss (sigmoid + binary cross-entropy)", p->loss, p->loss, total);
    for (int i = n->nlayers - 1; i >= 0; i--) {
        if (i >= PROFILE_MAX_LAYERS) continue;
        layer_label(&n->layers[i], label, sizeof label);
        snprintf(phase, sizeof phase, "%s backward", label);
        profile_row(f, phase, p->backward[i], p->own_backward[i], total);
        accounted += p->backward[i];
        own += p->own_backward[i];
    }
    if (p->allreduce > 0.0) profile_row(f, "gradient allreduce (MPI, all ranks)", p->allreduce, 0.0, total);
    profile_row(f, "optimizer (GC fused in the GC run)", p->optimizer, p->optimizer, total);
    profile_row(f, "other (batch hand-over, bookkeeping)", total - accounted, 0.0, total);
    /* "own s": gcbench's kernels (fused pooling, dropout, ReLU, gradient sums, loss, optimizer);
     * the rest of the layers' time is oneDNN's primitives. */
    fprintf(f, "  gcbench's own kernels %.3f s (%.1f%% of the step); oneDNN primitives %.3f s (%.1f%%)\n", own,
            total > 0 ? 100.0 * own / total : 0.0, accounted - p->data_wait - p->allreduce - own,
            total > 0 ? 100.0 * (accounted - p->data_wait - p->allreduce - own) / total : 0.0);
    fflush(f);
}

/* ---- seed studies ---------------------------------------------------------------------- */

/* "  0.9883" or "       -" for a value that is not there (a target never reached). */
static void study_cell(FILE *f, double v, int width, int decimals, bool sign)
{
    if (!isfinite(v)) fprintf(f, " %*s", width, "-");
    else if (sign) fprintf(f, " %+*.*f", width, decimals, v);
    else fprintf(f, " %*.*f", width, decimals, v);
}

static void study_seed_table(FILE *f, const study *st)
{
    static const study_metric shown[] = {STUDY_FINAL_VAL_ACCURACY, STUDY_LAST_VAL_ACCURACY, STUDY_FINAL_LOSS,
                                         STUDY_TARGET_EPOCH};
    int nshown = st->target > 0 ? 4 : 3;
    fprintf(f, "  %6s", "");
    for (int k = 0; k < nshown; k++) {
        char title[64];
        if (shown[k] == STUDY_TARGET_EPOCH) snprintf(title, sizeof title, "epoch to val_accuracy %g", st->target);
        else snprintf(title, sizeof title, "%s", study_metric_of(shown[k])->label);
        fprintf(f, " | %-26s", title);
    }
    fprintf(f, "\n  %6s", "seed");
    for (int k = 0; k < nshown; k++) fprintf(f, " | %8s %8s %8s", "baseline", "gc", "diff");
    fputc('\n', f);
    for (int i = 0; i < st->count; i++) {
        const study_seed *s = &st->seeds[i];
        fprintf(f, "  %6" PRIu64, s->seed);
        for (int k = 0; k < nshown; k++) {
            int dec = study_metric_of(shown[k])->decimals;
            if (shown[k] == STUDY_TARGET_EPOCH) dec = 0;
            fputs(" |", f);
            study_cell(f, s->value[STUDY_BASELINE][shown[k]], 8, dec, false);
            study_cell(f, s->value[STUDY_GC][shown[k]], 8, dec, false);
            study_cell(f, s->difference[shown[k]], 8, dec, true);
        }
        fputc('\n', f);
    }
}

void console_study(FILE *f, const study *st)
{
    fprintf(f, "\nSeed study: %d paired comparison%s, seeds %" PRIu64 "..%" PRIu64
               ", GC - baseline (each pair from the same weights, data order, augmentation and dropout draws)\n",
            st->count, st->count == 1 ? "" : "s", st->first_seed, st->first_seed + (uint64_t)(st->count ? st->count - 1 : 0));
    study_seed_table(f, st);
    fprintf(f, "\n  %-22s %3s %9s %9s %10s  %-22s  %-22s %7s %10s %7s  %s\n", "metric", "n", "baseline", "gc", "mean diff",
            "95% t interval", "95% bootstrap", "sign p", "Wilcoxon p", "W/T/L", "verdict (t interval)");
    bool approx = false;
    for (int m = 0; m < STUDY_METRICS; m++) {
        if (m == STUDY_TARGET_EPOCH && st->target <= 0) continue;
        const study_metric_info *info = study_metric_of((study_metric)m);
        const study_summary *s = &st->summary[m];
        const stats_paired *p = &s->paired;
        int dec = info->decimals;
        char t[48], boot[48], wtl[24], wp[16];
        snprintf(t, sizeof t, "[%+.*f, %+.*f]", dec, p->t.lo, dec, p->t.hi);
        if (!isfinite(p->t.lo)) snprintf(t, sizeof t, "(needs n >= 2)");
        snprintf(boot, sizeof boot, "[%+.*f, %+.*f]", dec, p->bootstrap.lo, dec, p->bootstrap.hi);
        if (!isfinite(p->bootstrap.lo)) snprintf(boot, sizeof boot, "-");
        snprintf(wtl, sizeof wtl, "%d/%d/%d", s->wins, s->ties, s->losses);
        snprintf(wp, sizeof wp, "%s%.3g", p->wilcoxon_exact ? "" : "~", p->wilcoxon_p);
        approx |= !p->wilcoxon_exact;
        fprintf(f, "  %-22s %3d", info->label, p->n);
        study_cell(f, s->baseline_mean, 9, dec, false);
        study_cell(f, s->gc_mean, 9, dec, false);
        study_cell(f, p->mean, 10, dec, true);
        fprintf(f, "  %-22s  %-22s %7.3g %10s %7s  %s\n", t, boot, p->sign_p, wp, wtl, stats_verdict_text(p->verdict));
    }
    fputs("  W/T/L: seeds where GC did better / the same / worse (higher accuracy; lower loss, epochs, time).\n"
          "  The sign and Wilcoxon signed-rank tests (two-sided) drop ties; Wilcoxon is exact up to 25 pairs", f);
    fputs(approx ? ", ~ marks its normal approximation (tie and continuity corrected).\n" : ".\n", f);
    if (st->target > 0) {
        const study_summary *s = &st->summary[STUDY_TARGET_EPOCH];
        fprintf(f, "  val_accuracy %g was reached by the baseline in %d of %d seeds and by GC in %d; the epoch "
                   "statistics use the %d seeds where both did.\n",
                st->target, s->reached[0], st->count, s->reached[1], s->paired.n);
    }
    fflush(f);
}
