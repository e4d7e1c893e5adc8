/* --seeds: a paired study over seeds. Each seed is one --compare (baseline, then GC, from the
 * weights, data order, augmentation and dropout draws of that seed); the seeds run one after
 * the other, on every rank together under MPI. The dataset stays the one of --seed (for the
 * synthetic set) or of the folders: only the training's randomness changes from seed to seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/dist.h"
#include "engine/base/error.h"
#include "io/output/console.h"
#include "session.h"

/* The epochs the session recorded for run r of the seed just finished, as the study keeps them. */
static int record_seed(session *s, const run_summary *base, const run_summary *gc)
{
    study_run runs[2] = {{0}};
    const run_summary *sums[2] = {base, gc};
    int rc = GC_OK;
    for (int r = 0; r < 2 && rc == GC_OK; r++) {
        const report_history *h = &s->history[r];
        if (r >= s->nhistory || h->nepochs != s->opt->epochs) {
            rc = gc_fail(GC_ERUNTIME, "seed %llu: the %s run's epochs were not all recorded",
                         (unsigned long long)s->seed, r ? "gc" : "baseline");
            break;
        }
        runs[r].epochs = malloc((size_t)h->nepochs * sizeof *runs[r].epochs);
        if (!runs[r].epochs) {
            rc = gc_fail(GC_ERUNTIME, "out of memory recording seed %llu of the study", (unsigned long long)s->seed);
            break;
        }
        runs[r].nepochs = h->nepochs;
        runs[r].train_seconds = sums[r]->train_seconds;
        for (int e = 0; e < h->nepochs; e++)
            runs[r].epochs[e] = (study_epoch){.loss = h->epochs[e].loss, .accuracy = h->epochs[e].accuracy,
                                              .val_loss = h->epochs[e].val_loss, .val_accuracy = h->epochs[e].val_accuracy};
    }
    if (rc == GC_OK) rc = study_add(&s->study, runs);
    free(runs[0].epochs);
    free(runs[1].epochs);
    return rc;
}

int seed_study_run(session *s, net *n)
{
    const options *opt = s->opt;
    study_free(&s->study);
    if (s->resume) { /* the finished seeds come from the checkpoint */
        s->study = s->resume->study;
        memset(&s->resume->study, 0, sizeof s->resume->study);
    } else {
        GC_TRY(study_init(&s->study, opt->seed, opt->seeds, opt->target_accuracy));
    }
    bool speak = dist_rank() == 0;
    if (speak && !opt->quiet)
        printf("\nstudy:    %d paired comparisons, seeds %llu..%llu, one after the other%s; the data stay those of --seed\n",
               opt->seeds, (unsigned long long)opt->seed, (unsigned long long)(opt->seed + (uint64_t)opt->seeds - 1),
               dist_ranks() > 1 ? " on all ranks" : "");
    for (int i = s->study.count; i < opt->seeds; i++) {
        s->seed = opt->seed + (uint64_t)i;
        if (s->epoch_lines) printf("\n==== seed %llu (%d of %d) ====\n", (unsigned long long)s->seed, i + 1, opt->seeds);
        run_summary base, gc;
        double ips;
        GC_TRY(train_runs(s, n, &base, &gc, &ips));
        s->resume = NULL; /* the seed that was in progress is done; the next ones start afresh */
        if (speak && !opt->quiet) {
            char setup[320];
            options_setup_text(opt, setup, sizeof setup);
            console_comparison(stdout, &base, &gc, setup);
        }
        GC_TRY(record_seed(s, &base, &gc));
        jsonl_study_seed(&s->log, &s->study, i);
    }
    GC_TRY(study_summarize(&s->study));
    jsonl_study_summary(&s->log, &s->study);
    if (speak) console_study(stdout, &s->study);
    return GC_OK;
}
