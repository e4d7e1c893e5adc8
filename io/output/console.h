/* What gcbench prints for people: epoch lines, a progress bar on terminals, the comparison. */
#ifndef GCBENCH_IO_CONSOLE_H
#define GCBENCH_IO_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/net/net.h"
#include "engine/train/train.h"
#include "io/output/scaling.h"
#include "io/output/study.h"

/* Redraws a one-line progress bar with ETA on f (a terminal): "\r[gc] epoch 3/10 [=====>   ] 5/9 ...". */
void console_progress(FILE *f, const char *run, int epoch, int epochs, int step, int steps, double elapsed);

/* Erases the progress bar line. */
void console_progress_clear(FILE *f);

/* "[baseline] epoch  1/10  loss 0.6931  accuracy 0.5012  val_loss ...  12.3s  83.5 img/s" */
void console_epoch(FILE *f, const epoch_result *r);

/* One run's final line, when only one run was made. */
void console_run_summary(FILE *f, const run_summary *s);

/* The side-by-side block of the baseline and GC runs, and their differences. */
/* setup: the optimizer and where GC acts ("Adam lr 0.001 ...; gc on the gradient"). */
void console_comparison(FILE *f, const run_summary *baseline, const run_summary *gc, const char *setup);

/* A seed study's tables: each seed's key metrics, then per metric the paired statistics and
 * the verdict (after study_summarize). */
void console_study(FILE *f, const study *st);

/* The --profile table of one epoch: each phase's seconds and share of the training steps. */
void console_profile(FILE *f, const net *n, const epoch_result *r);


/* The scaling table: a header, a row per thread count, then the counts skipped (if any). */
void console_scaling_header(FILE *f, const char *runs, int epochs, int batch, const char *pin, int cores);
void console_scaling_row(FILE *f, const scaling_point *p);
void console_scaling_skipped(FILE *f, const int *threads, int count, int cores);

#endif
