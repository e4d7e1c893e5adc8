/* The bf16 conversions of every kernel table: the scalar reference against hand-written
 * answers, every ISA against the reference bit for bit (bf16_check.h), and the CPU probe of
 * the bf16 instructions. An ISA this CPU does not run is skipped with a message. */
#include <criterion/criterion.h>

#include "simd/simd.h"
#include "simd/simd_isa.h"
#include "bf16_check.h"

static void check(const char *isa, bf16_check_kind kind)
{
    const simd_kernels *k = simd_kernels_built(isa);
    if (!k) cr_skip_test("%s kernels are not built for this architecture", isa);
    if (!simd_cpu_supports(isa)) cr_skip_test("this CPU does not run %s", isa);
    char msg[512];
    size_t fails = bf16_check_all(k, kind, msg, sizeof msg);
    cr_assert_eq(fails, 0, "%zu failures; the first: %s", fails, msg);
}

#define BF16_TESTS(isa)                                                                    \
    Test(bf16_##isa, known_answers) { check(#isa, BF16_CHECK_KNOWN); }                     \
    Test(bf16_##isa, f32_to_bf16) { check(#isa, BF16_CHECK_TO_BF16); }                     \
    Test(bf16_##isa, bf16_to_f32) { check(#isa, BF16_CHECK_TO_F32); }                      \
    Test(bf16_##isa, round_trip) { check(#isa, BF16_CHECK_ROUND_TRIP); }

BF16_TESTS(scalar)
BF16_TESTS(avx2)
BF16_TESTS(avx512)
BF16_TESTS(neon)

/* The probe against the compiler's, asked directly; and the test seam hides a feature. */
Test(bf16_cpu, probe_matches_the_compiler_and_can_be_hidden)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    bool want = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    cr_assert_eq(simd_cpu_has("avx512_bf16"), want);
    cr_assert_eq(simd_cpu_has("amx_bf16"), __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16"));
#else
    cr_assert(!simd_cpu_has("avx512_bf16"), "an x86 feature on another architecture");
    cr_assert(!simd_cpu_has("amx_bf16"));
#endif
    cr_assert(!simd_cpu_has("sse9"), "an unknown feature");
    cr_assert(!simd_cpu_has(NULL));
    bool had = simd_cpu_has("avx512_bf16");
    simd_cpu_hide("avx512_bf16", true);
    cr_assert(!simd_cpu_has("avx512_bf16"), "hidden");
    simd_cpu_hide("avx512_bf16", false);
    cr_assert_eq(simd_cpu_has("avx512_bf16"), had, "shown again");
    cr_assert(!simd_cpu_supports("avx512_bf16"), "a feature is not a kernel table");
}
