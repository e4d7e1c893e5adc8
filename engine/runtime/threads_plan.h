/* Thread placement on a given hwloc topology: where threads_setup (engine/runtime/threads.h) binds
 * each thread. Separate from binding so tests can plan on synthetic topologies (several
 * packages, caches) that the machine running them lacks. */
#ifndef GCBENCH_ENGINE_THREADS_PLAN_H
#define GCBENCH_ENGINE_THREADS_PLAN_H

#include <hwloc.h>

#include "engine/runtime/threads.h"

/* Fills sets[0 .. count) with one single-PU cpuset per thread (the caller frees each with
 * hwloc_bitmap_free): compact walks the cores in order, scatter lets hwloc_distrib spread
 * the threads over the topology; more threads than cores wrap around. */
int threads_plan_cpusets(hwloc_topology_t topo, int count, pin_policy policy, hwloc_bitmap_t *sets);

#endif
