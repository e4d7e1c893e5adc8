/* Thread pinning through hwloc. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/runtime/threads.h"

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

Test(threads, scatter_pins_too)
{
    pin_report r;
    cr_assert_eq(threads_setup(threads_physical_cores(), PIN_SCATTER, &r), GC_OK, "%s", gc_error_message());
    cr_expect(r.pinned);
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
