/* --scaling LIST: the same training at each thread count, primitives made anew per count (oneDNN
 * fixes its work split when it creates one); images/s, speedup and parallel efficiency. */
#include "engine/base/error.h"
#include "engine/runtime/threads.h"
#include "io/output/console.h"
#include "session.h"

/* --scaling: the same training at each thread count; speedup and efficiency against the first
 * count measured. Counts above this machine's cores are skipped and listed at the end. */
int scaling_study_run(session *s)
{
    const options *opt = s->opt;
    int cores = threads_physical_cores(), skipped[OPTIONS_MAX_SCALING], nskipped = 0;
    double first_ips = 0.0;
    int first_threads = 0;
    for (int i = 0; i < opt->nscaling; i++) {
        int t = opt->scaling[i];
        if (t > cores) {
            skipped[nskipped++] = t;
            continue;
        }
        pin_report pin;
        s->threads = t;
        GC_TRY(threads_setup(t, opt->pin, &pin));
        net *n = NULL;
        run_summary base, gc;
        double ips = 0.0;
        int rc = session_build_net(s, &n);
        if (rc == GC_OK && first_threads == 0) {
            session_describe(s, n, &pin);
            console_scaling_header(stdout, session_runs_name(opt), opt->epochs, opt->batch, pin_policy_name(opt->pin), cores);
        }
        if (rc == GC_OK) rc = train_runs(s, n, &base, &gc, &ips);
        net_destroy(n);
        if (rc != GC_OK) return gc_context(rc, "scaling study at %d threads", t);
        if (first_threads == 0) first_ips = ips, first_threads = t;
        scaling_point pt = {.threads = t, .images_per_second = ips, .speedup = ips / first_ips,
                            .efficiency = ips / first_ips * first_threads / t, .cpus = pin.pinned ? pin.cpu : NULL};
        console_scaling_row(stdout, &pt);
        jsonl_scaling(&s->log, &pt);
        s->points[s->npoints] = pt;
        s->points[s->npoints++].cpus = NULL; /* the report does not list CPUs */
    }
    if (first_threads == 0) return gc_fail(GC_EUSAGE, "--scaling: every thread count exceeds this machine's %d cores", cores);
    console_scaling_skipped(stdout, skipped, nskipped, cores);
    return GC_OK;
}

