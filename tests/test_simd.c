/* The vectorized GC/optimizer kernels against the scalar reference (tolerances: simd_check.h),
 * and the run-time dispatch. An ISA this CPU does not run is skipped with a message. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "simd/simd.h"
#include "simd/simd_isa.h"
#include "simd_check.h"

static const simd_kernels *kernels_or_skip(const char *isa)
{
    const simd_kernels *k = simd_kernels_built(isa);
    if (!k) cr_skip_test("%s kernels are not built for this architecture", isa);
    if (!simd_cpu_supports(isa)) cr_skip_test("this CPU does not run %s", isa);
    return k;
}

static void check(const char *isa, simd_check_kind kind)
{
    const simd_kernels *k = kernels_or_skip(isa);
    char msg[512];
    size_t fails = simd_check_all(k, kind, msg, sizeof msg);
    cr_assert_eq(fails, 0, "%zu failures; the first: %s", fails, msg);
}

/* Every kernel of one ISA, each its own test so a failure names the kernel. */
#define ISA_TESTS(isa)                                                                     \
    Test(simd_##isa, row_means) { check(#isa, SIMD_CHECK_ROW_MEANS); }                     \
    Test(simd_##isa, center_rows) { check(#isa, SIMD_CHECK_CENTER_ROWS); }                 \
    Test(simd_##isa, rmsprop) { check(#isa, SIMD_CHECK_RMSPROP); }                         \
    Test(simd_##isa, gc_rmsprop) { check(#isa, SIMD_CHECK_GC_RMSPROP); }                   \
    Test(simd_##isa, fused_equals_unfused) { check(#isa, SIMD_CHECK_FUSED); }             \
    Test(simd_##isa, fused_update_every_rule) { check(#isa, SIMD_CHECK_UPDATE); }

ISA_TESTS(avx2)
ISA_TESTS(avx512)
ISA_TESTS(neon)

/* The reference's own fused kernel against its unfused steps. */
Test(simd_scalar, fused_equals_unfused) { check("scalar", SIMD_CHECK_FUSED); }

/* What the CPU runs, asked of the compiler's probe directly rather than of simd_isa.c. */
static const char *expected_best(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    return "scalar";
#elif defined(__aarch64__)
    return "neon";
#else
    return "scalar";
#endif
}

Test(simd_dispatch, knows_every_isa_worst_first)
{
    const char *want[] = {"scalar", "neon", "avx2", "avx512"};
    size_t i = 0;
    for (; simd_isa_name(i); i++) {
        cr_assert_lt(i, 4);
        cr_assert_str_eq(simd_isa_name(i), want[i]);
    }
    cr_assert_eq(i, 4);
}

Test(simd_dispatch, default_is_the_best_supported)
{
    const simd_kernels *k = NULL;
    cr_assert_eq(simd_select(NULL, &k), GC_OK);
    cr_assert_str_eq(k->isa, expected_best());
    k = NULL;
    cr_assert_eq(simd_select("", &k), GC_OK, "an empty GCBENCH_SIMD means the default");
    cr_assert_str_eq(k->isa, expected_best());
    cr_assert_str_eq(simd_best()->isa, expected_best());
}

Test(simd_dispatch, default_steps_down_when_the_cpu_lacks_the_best)
{
    if (!simd_cpu_supports("avx512") || !simd_cpu_supports("avx2"))
        cr_skip_test("needs a CPU with AVX-512 and AVX2");
    const simd_kernels *k = NULL;
    simd_cpu_hide("avx512", true);
    cr_assert_eq(simd_select(NULL, &k), GC_OK);
    cr_assert_str_eq(k->isa, "avx2");
    simd_cpu_hide("avx2", true);
    cr_assert_eq(simd_select(NULL, &k), GC_OK);
    cr_assert_str_eq(k->isa, "scalar");
    simd_cpu_hide("avx2", false);
    simd_cpu_hide("avx512", false);
    cr_assert_str_eq(simd_best()->isa, "avx512");
}

Test(simd_dispatch, environment_override_picks_each_supported_isa)
{
    for (size_t i = 0; simd_isa_name(i); i++) {
        const char *isa = simd_isa_name(i);
        if (!simd_cpu_supports(isa)) continue;
        cr_assert_eq(setenv("GCBENCH_SIMD", isa, 1), 0);
        const simd_kernels *k = NULL;
        cr_assert_eq(simd_select(getenv("GCBENCH_SIMD"), &k), GC_OK, "GCBENCH_SIMD=%s: %s", isa,
                     gc_error_message());
        cr_assert_str_eq(k->isa, isa);
        cr_assert_eq(k, simd_kernels_built(isa));
    }
    cr_assert(simd_cpu_supports("scalar"));
}

Test(simd_dispatch, unknown_isa_is_a_usage_error)
{
    gc_error_clear();
    const simd_kernels *k = NULL;
    cr_assert_eq(simd_select("sse9", &k), GC_EUSAGE);
    cr_assert_null(k);
    cr_assert(strstr(gc_error_message(), "GCBENCH_SIMD=sse9: unknown ISA"), "message: %s",
              gc_error_message());
    cr_assert(!simd_cpu_supports("sse9"));
    cr_assert_null(simd_kernels_built("sse9"));
    gc_error_clear();
}

Test(simd_dispatch, isa_of_another_architecture_is_a_usage_error)
{
    const char *other = simd_kernels_built("neon") ? "avx2" : "neon";
    if (simd_kernels_built(other)) cr_skip_test("this build has both avx2 and neon");
    gc_error_clear();
    const simd_kernels *k = NULL;
    cr_assert_eq(simd_select(other, &k), GC_EUSAGE);
    cr_assert_null(k);
    cr_assert(strstr(gc_error_message(), "this build has no"), "message: %s", gc_error_message());
    cr_assert(strstr(gc_error_message(), other), "message: %s", gc_error_message());
    gc_error_clear();
}

Test(simd_dispatch, isa_the_cpu_lacks_is_a_usage_error)
{
    /* hidden from the probe, since this CPU may run everything built in */
    const char *isa = simd_kernels_built("avx512") ? "avx512" : simd_kernels_built("neon") ? "neon" : NULL;
    if (!isa) cr_skip_test("no vectorized kernels built in");
    simd_cpu_hide(isa, true);
    gc_error_clear();
    const simd_kernels *k = NULL;
    cr_assert_eq(simd_select(isa, &k), GC_EUSAGE);
    cr_assert_null(k);
    cr_assert(strstr(gc_error_message(), "this CPU does not support"), "message: %s", gc_error_message());
    cr_assert(strstr(gc_error_message(), isa), "message: %s", gc_error_message());
    cr_assert_str_neq(simd_best()->isa, isa);
    simd_cpu_hide(isa, false);
    gc_error_clear();
}

Test(simd_dispatch, scalar_cannot_be_hidden)
{
    simd_cpu_hide("scalar", true);
    cr_assert(simd_cpu_supports("scalar"));
    const simd_kernels *k = NULL;
    cr_assert_eq(simd_select("scalar", &k), GC_OK);
    cr_assert_eq(k, simd_kernels_scalar());
}
