#include "engine/threads.h"

#include <hwloc.h>
#include <omp.h>

#include "engine/error.h"

int threads_physical_cores(void)
{
    hwloc_topology_t topo;
    int cores = 0;
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0) cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
        hwloc_topology_destroy(topo);
    }
    if (cores < 1) cores = omp_get_num_procs();
    return cores > 0 ? cores : 1;
}

int threads_set(int count)
{
    if (count < 1) return gc_fail(GC_EUSAGE, "thread count must be positive, got %d", count);
    omp_set_num_threads(count);
    return GC_OK;
}

int threads_current(void) { return omp_get_max_threads(); }
