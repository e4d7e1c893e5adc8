/* Thread pinning through hwloc. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/runtime/threads.h"
#include "engine/runtime/threads_plan.h"

Test(threads, compact_pins_one_thread_per_core_and_verifies_it)
{
    int cores = threads_physical_cores();
    int count = cores < 4 ? cores : 4;
    pin_report r;
    cr_assert_eq(threads_setup(count, PIN_COMPACT, &r), GC_OK, "%s", gc_error_message());
    cr_expect(r.pinned);
    cr_expect_str_empty(r.note);
    for (int i = 0; i < count; i++) {
        cr_expect_geq(r.cpu[i], 0, "thread %d has a known PU", i);
        for (int j = 0; j < i; j++) cr_expect_neq(r.cpu[i], r.cpu[j], "threads %d and %d share a PU", i, j);
    }
    cr_expect_eq(threads_current(), count);
}

/* The package (or, with one package, the L3 cache) each planned thread's PU belongs to. */
static void plan_domains(hwloc_topology_t topo, int count, pin_policy policy, hwloc_obj_type_t domain, int *out)
{
    hwloc_bitmap_t sets[64];
    cr_assert_leq(count, 64);
    cr_assert_eq(threads_plan_cpusets(topo, count, policy, sets), GC_OK, "%s", gc_error_message());
    for (int i = 0; i < count; i++) {
        cr_assert_eq(hwloc_bitmap_weight(sets[i]), 1, "thread %d gets one PU", i);
        hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)hwloc_bitmap_first(sets[i]));
        cr_assert(pu);
        hwloc_obj_t d = hwloc_get_ancestor_obj_by_type(topo, domain, pu);
        cr_assert(d, "PU %u has a %s", pu->os_index, hwloc_obj_type_string(domain));
        out[i] = (int)d->logical_index;
        hwloc_bitmap_free(sets[i]);
    }
}

static hwloc_topology_t synthetic(const char *description)
{
    hwloc_topology_t topo;
    cr_assert_eq(hwloc_topology_init(&topo), 0);
    cr_assert_eq(hwloc_topology_set_synthetic(topo, description), 0, "%s", description);
    cr_assert_eq(hwloc_topology_load(topo), 0);
    return topo;
}

/* Two packages of four cores with two hyperthreads each: compact fills package 0 first,
 * scatter puts every other thread on package 1. */
Test(threads, scatter_spreads_over_packages_where_compact_packs)
{
    hwloc_topology_t topo = synthetic("pack:2 core:4 pu:2");
    int compact[4], scatter[4];
    for (int count = 2; count <= 4; count += 2) {
        plan_domains(topo, count, PIN_COMPACT, HWLOC_OBJ_PACKAGE, compact);
        plan_domains(topo, count, PIN_SCATTER, HWLOC_OBJ_PACKAGE, scatter);
        int per_pack[2] = {0, 0};
        for (int i = 0; i < count; i++) {
            cr_expect_eq(compact[i], 0, "%d threads, compact: thread %d on package 0", count, i);
            per_pack[scatter[i]]++;
        }
        cr_expect_eq(per_pack[0], count / 2, "%d threads, scatter: half on each package", count);
        cr_expect_eq(per_pack[1], count / 2);
    }
    hwloc_topology_destroy(topo);
}

/* One package, two L3 caches of three cores: scatter uses both caches. */
Test(threads, scatter_spreads_over_caches_where_compact_packs)
{
    hwloc_topology_t topo = synthetic("pack:1 l3:2 core:3 pu:1");
    int compact[2], scatter[2];
    plan_domains(topo, 2, PIN_COMPACT, HWLOC_OBJ_L3CACHE, compact);
    plan_domains(topo, 2, PIN_SCATTER, HWLOC_OBJ_L3CACHE, scatter);
    cr_expect(compact[0] == 0 && compact[1] == 0, "compact: both threads on the first L3");
    cr_expect_neq(scatter[0], scatter[1], "scatter: one thread per L3");
    hwloc_topology_destroy(topo);
}

/* On this machine, when it has more than one package or L3: scatter pins and lands elsewhere
 * than compact. */
Test(threads, scatter_pins_apart_from_compact_on_this_machine)
{
    hwloc_topology_t topo;
    cr_assert_eq(hwloc_topology_init(&topo), 0);
    cr_assert_eq(hwloc_topology_load(topo), 0);
    int packs = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE), l3 = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_L3CACHE);
    int machine_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    hwloc_topology_destroy(topo);
    int cores = threads_physical_cores();
    if (cores != machine_cores)
        cr_skip_test("started on %d of the machine's %d cores (taskset, a launcher): their packages are unknown here",
                     cores, machine_cores);
    if (cores < 2 || (packs < 2 && l3 < 2))
        cr_skip_test("this machine has %d package(s), %d L3 cache(s), %d usable core(s): compact and scatter "
                     "place 2 threads alike here (the synthetic-topology tests cover the difference)",
                     packs, l3, cores);
    pin_report c, s;
    cr_assert_eq(threads_setup(2, PIN_COMPACT, &c), GC_OK, "%s", gc_error_message());
    cr_assert_eq(threads_setup(2, PIN_SCATTER, &s), GC_OK, "%s", gc_error_message());
    cr_expect(s.pinned);
    cr_expect_neq(s.cpu[0], s.cpu[1]);
    cr_expect(c.cpu[0] != s.cpu[0] || c.cpu[1] != s.cpu[1], "scatter placed threads as compact: PUs %d, %d", s.cpu[0],
              s.cpu[1]);
}

Test(threads, more_threads_than_cores_warns_and_still_runs)
{
    int cores = threads_physical_cores();
    pin_report r;
    cr_assert_eq(threads_setup(cores + 1, PIN_COMPACT, &r), GC_OK, "%s", gc_error_message());
    cr_expect(strstr(r.note, "threads on") != NULL, "note: %s", r.note);
    cr_expect_eq(threads_current(), cores + 1);
}

Test(threads, steps_aside_when_the_user_placed_threads)
{
    setenv("OMP_PLACES", "cores", 1);
    pin_report r;
    cr_assert_eq(threads_setup(1, PIN_COMPACT, &r), GC_OK);
    cr_expect(!r.pinned);
    cr_expect(strstr(r.note, "OMP_PROC_BIND/OMP_PLACES") != NULL, "note: %s", r.note);
    unsetenv("OMP_PLACES");
}

Test(threads, none_does_not_pin)
{
    pin_report r;
    cr_assert_eq(threads_setup(1, PIN_NONE, &r), GC_OK);
    cr_expect(!r.pinned);
    cr_expect_eq(r.cpu[0], -1);
}

Test(threads, invalid_counts_are_usage_errors)
{
    pin_report r;
    gc_error_clear();
    cr_expect_eq(threads_setup(0, PIN_COMPACT, &r), GC_EUSAGE);
    gc_error_clear();
}

/* Started on one CPU (taskset, or an MPI launcher binding a rank): that is the machine. */
Test(threads, the_launch_binding_bounds_cores_and_pinning)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &set)) cpu++;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    cr_assert_eq(sched_setaffinity(0, sizeof set, &set), 0);
    cr_expect_eq(threads_physical_cores(), 1);
    pin_report r;
    cr_assert_eq(threads_setup(2, PIN_COMPACT, &r), GC_OK, "%s", gc_error_message());
    cr_expect(r.pinned);
    cr_expect_eq(r.cpu[0], cpu);
    cr_expect_eq(r.cpu[1], cpu);
}
