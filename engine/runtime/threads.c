#include "engine/runtime/threads.h"
#include "engine/runtime/threads_plan.h"

#include <hwloc.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"

const char *pin_policy_name(pin_policy p)
{
    switch (p) {
    case PIN_COMPACT: return "compact";
    case PIN_SCATTER: return "scatter";
    default: return "none";
    }
}

/* The machine's topology, restricted to the CPUs the process was started on (taskset, or an
 * MPI launcher binding each rank), so threads are pinned within them and ranks on one machine
 * keep to their own cores. Loaded once, on first use, which comes before gcbench binds
 * anything; kept for the process's life (every pinning reuses it: each count of a scaling
 * study, each run). Called from the main thread only. */
static int machine_topology(hwloc_topology_t *out)
{
    static hwloc_topology_t topo;
    static const char *failed; /* why loading failed, once it has */
    if (!topo && !failed) {
        hwloc_bitmap_t launch = NULL;
        if (hwloc_topology_init(&topo) != 0) {
            topo = NULL;
            failed = "hwloc_topology_init failed";
        } else if (hwloc_topology_load(topo) != 0) {
            failed = "hwloc_topology_load failed";
        } else if (!(launch = hwloc_bitmap_alloc())) {
            failed = "out of memory reading the process's CPU binding";
        } else {
            if (hwloc_get_cpubind(topo, launch, HWLOC_CPUBIND_THREAD) != 0)
                hwloc_bitmap_copy(launch, hwloc_topology_get_topology_cpuset(topo));
            if (!hwloc_bitmap_isincluded(hwloc_topology_get_topology_cpuset(topo), launch) &&
                hwloc_topology_restrict(topo, launch, 0) != 0)
                failed = "hwloc could not restrict pinning to the CPUs the process was started on";
        }
        hwloc_bitmap_free(launch);
        if (failed && topo) {
            hwloc_topology_destroy(topo);
            topo = NULL;
        }
    }
    if (failed) return gc_fail(GC_ERUNTIME, "%s", failed);
    *out = topo;
    return GC_OK;
}

int threads_physical_cores(void)
{
    hwloc_topology_t topo = NULL;
    int cores = 0;
    if (machine_topology(&topo) == GC_OK)
        cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    else
        gc_error_clear(); /* then what OpenMP sees */
    if (cores < 1) cores = omp_get_num_procs();
    return cores > 0 ? cores : 1;
}

int threads_set(int count)
{
    if (count < 1 || count > THREADS_MAX)
        return gc_fail(GC_EUSAGE, "thread count must be in [1, %d], got %d", THREADS_MAX, count);
    omp_set_num_threads(count);
    return GC_OK;
}

int threads_current(void) { return omp_get_max_threads(); }

int threads_plan_cpusets(hwloc_topology_t topo, int count, pin_policy policy, hwloc_bitmap_t *sets)
{
    int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (cores < 1) return gc_fail(GC_ERUNTIME, "hwloc found no cores to pin threads to");
    int per_round = count < cores ? count : cores;
    if (policy == PIN_SCATTER) {
        hwloc_obj_t root = hwloc_get_root_obj(topo);
        if (hwloc_distrib(topo, &root, 1, sets, (unsigned)per_round, INT_MAX, 0) != 0)
            return gc_fail(GC_ERUNTIME, "hwloc_distrib failed to spread %d threads", per_round);
    } else {
        for (int i = 0; i < per_round; i++) {
            hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
            sets[i] = hwloc_bitmap_dup(core->cpuset);
        }
    }
    for (int i = per_round; i < count; i++) sets[i] = hwloc_bitmap_dup(sets[i % per_round]);
    for (int i = 0; i < count; i++) {
        if (!sets[i]) return gc_fail(GC_ERUNTIME, "out of memory planning thread placement");
        hwloc_bitmap_singlify(sets[i]); /* one PU: the thread cannot wander between siblings */
    }
    return GC_OK;
}

/* Binds every thread of a `count`-thread region to its set and records where it runs. */
static int bind_threads(hwloc_topology_t topo, int count, hwloc_bitmap_t *sets, pin_report *r)
{
    int failed = 0;
#pragma omp parallel num_threads(count) reduction(+ : failed)
    {
        int t = omp_get_thread_num();
        if (hwloc_set_cpubind(topo, sets[t], HWLOC_CPUBIND_THREAD) != 0) {
            failed++;
        } else {
            hwloc_bitmap_t where = hwloc_bitmap_alloc();
            r->cpu[t] = where && hwloc_get_last_cpu_location(topo, where, HWLOC_CPUBIND_THREAD) == 0
                            ? hwloc_bitmap_first(where)
                            : -1;
            if (r->cpu[t] >= 0 && !hwloc_bitmap_isset(sets[t], (unsigned)r->cpu[t])) failed++;
            hwloc_bitmap_free(where);
        }
    }
    if (failed) return gc_fail(GC_ERUNTIME, "binding %d of %d threads to their cores failed", failed, count);
    return GC_OK;
}

int threads_setup(int count, pin_policy policy, pin_report *r)
{
    memset(r, 0, sizeof *r);
    r->policy = policy;
    r->threads = count;
    for (int i = 0; i < THREADS_MAX; i++) r->cpu[i] = -1;
    GC_TRY(threads_set(count));

    int cores = threads_physical_cores();
    if (count > cores)
        snprintf(r->note, sizeof r->note, "%d threads on %d cores: threads share cores", count, cores);
    if (policy == PIN_NONE) return GC_OK;
    if (getenv("OMP_PROC_BIND") || getenv("OMP_PLACES")) {
        snprintf(r->note, sizeof r->note, "OMP_PROC_BIND/OMP_PLACES set: the OpenMP runtime places threads, gcbench does not pin");
        return GC_OK;
    }

    hwloc_topology_t topo = NULL;
    int rc = machine_topology(&topo);
    hwloc_bitmap_t *sets = NULL;
    if (rc == GC_OK) {
        sets = calloc((size_t)count, sizeof *sets);
        if (!sets) rc = gc_fail(GC_ERUNTIME, "out of memory planning thread placement");
    }
    if (rc == GC_OK) rc = threads_plan_cpusets(topo, count, policy, sets);
    if (rc == GC_OK) rc = bind_threads(topo, count, sets, r);
    r->pinned = rc == GC_OK;
    for (int i = 0; sets && i < count; i++) hwloc_bitmap_free(sets[i]);
    free(sets);
    return rc;
}
