/* gcbench's f32 -> bf16 conversion (simd/bf16.h) against the two others on the machine:
 * oneDNN's bf16 reorder and AVX512-BF16's vcvtneps2bf16, on every upper half combined with
 * the lower halves at the rounding boundaries (as bf16_check.c).
 *
 * What they do, and these tests hold them to:
 *   - oneDNN 2.6's reorder equals gcbench's on every value but denormals; a denormal comes
 *     out either as gcbench's (oneDNN's emulated conversion, when its ISA is capped below
 *     avx512_core_bf16 but not below avx512_core: the ctest test_bf16_onednn_capped runs it
 *     so) or as a zero of its sign (native, on AVX512-BF16: vcvtneps2bf16);
 *   - below avx512_core (an AVX2 machine, where gcbench refuses bf16), oneDNN converts in
 *     plain C: denormals to a zero of their sign, and -0 to +0, the one other difference;
 *   - vcvtneps2bf16 equals gcbench's on every value but denormals, which it makes a zero of
 *     their sign (it treats denormal inputs as zero).
 * Catches: a gcbench conversion that drifts from oneDNN on normals, NaNs or infinities (the
 * bf16 activations oneDNN writes and the ones gcbench's kernels write would differ), and a
 * change of either library's denormal handling going unnoticed. */
#include <criterion/criterion.h>
#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simd/bf16.h"
#include "simd/simd.h"

static const uint16_t low_halves[] = {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu, 0x5a3cu};
#define NLOW (sizeof low_halves / sizeof low_halves[0])
#define N ((size_t)65536 * NLOW) /* a multiple of 16 */

static float *inputs(void)
{
    float *in = malloc(N * sizeof *in);
    cr_assert_not_null(in);
    for (size_t i = 0; i < N; i++) {
        uint32_t u = (uint32_t)(i / NLOW) << 16 | low_halves[i % NLOW];
        memcpy(&in[i], &u, sizeof u);
    }
    return in;
}

static bool denormal(float f)
{
    uint32_t u = bf16_bits_of_f32(f);
    return (u & 0x7f800000u) == 0 && (u & 0x007fffffu) != 0;
}

static bf16 signed_zero(float f) { return (bf16)((bf16_bits_of_f32(f) >> 16) & 0x8000u); }

/* out = oneDNN's reorder of in (f32, plain) into bf16. */
static void onednn_reorder(const float *in, bf16 *out)
{
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    cr_assert_eq(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    cr_assert_eq(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), dnnl_success);
    dnnl_memory_desc_t from, to;
    dnnl_dims_t dims = {(dnnl_dim_t)N};
    cr_assert_eq(dnnl_memory_desc_init_by_tag(&from, 1, dims, dnnl_f32, dnnl_a), dnnl_success);
    cr_assert_eq(dnnl_memory_desc_init_by_tag(&to, 1, dims, dnnl_bf16, dnnl_a), dnnl_success);
    dnnl_memory_t mfrom, mto;
    cr_assert_eq(dnnl_memory_create(&mfrom, &from, eng, (void *)in), dnnl_success);
    cr_assert_eq(dnnl_memory_create(&mto, &to, eng, out), dnnl_success);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t reorder;
    cr_assert_eq(dnnl_reorder_primitive_desc_create(&pd, &from, eng, &to, eng, NULL), dnnl_success);
    cr_assert_eq(dnnl_primitive_create(&reorder, pd), dnnl_success);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, mfrom}, {DNNL_ARG_TO, mto}};
    cr_assert_eq(dnnl_primitive_execute(reorder, stream, 2, args), dnnl_success);
    cr_assert_eq(dnnl_stream_wait(stream), dnnl_success);
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_destroy(mto);
    dnnl_memory_destroy(mfrom);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(eng);
}

Test(bf16_onednn, reorder_equals_gcbench_but_may_flush_denormals)
{
    float *in = inputs();
    bf16 *got = malloc(N * sizeof *got);
    cr_assert_not_null(got);
    onednn_reorder(in, got);
    /* oneDNN's ISA values are bit sets: all of an ISA's bits means it or better */
    const unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    bool native = (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16 && simd_cpu_has("avx512_bf16");
    bool plain_c = (isa & dnnl_cpu_isa_avx512_core) != dnnl_cpu_isa_avx512_core;
    size_t flushed = 0, kept = 0, minus_zero = 0;
    for (size_t i = 0; i < N; i++) {
        bf16 want = bf16_from_f32(in[i]);
        if (got[i] == want) {
            kept += denormal(in[i]) && want != signed_zero(in[i]);
            continue;
        }
        if (plain_c && bf16_bits_of_f32(in[i]) == 0x80000000u && got[i] == 0x0000u) {
            minus_zero++;
            continue;
        }
        cr_assert(denormal(in[i]) && got[i] == signed_zero(in[i]),
                  "0x%08x: oneDNN 0x%04x, gcbench 0x%04x", (unsigned)bf16_bits_of_f32(in[i]), (unsigned)got[i],
                  (unsigned)want);
        flushed++;
    }
    cr_log_info("oneDNN %s (ISA 0x%x): %zu denormals flushed to zero, %zu kept as gcbench keeps them",
                native ? "native bf16" : plain_c ? "plain C bf16" : "emulated bf16", isa, flushed, kept);
    /* emulated on AVX-512 oneDNN converts as gcbench does, denormals included; in plain C it
     * flushes them all */
    if (!native && !plain_c) cr_expect_eq(flushed, 0, "oneDNN's emulated conversion flushed %zu denormals", flushed);
    if (plain_c) {
        cr_expect_eq(kept, 0, "oneDNN's plain C conversion kept %zu denormals", kept);
        cr_expect_eq(minus_zero, 1, "oneDNN's plain C conversion kept the sign of -0");
    }
    cr_expect_gt(flushed + kept, 0, "the inputs hold denormals that round to nonzero");
    free(got);
    free(in);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bf16"))) static void vcvtneps2bf16(bf16 *out, const float *in, size_t n)
{
    for (size_t i = 0; i + 16 <= n; i += 16) {
        __m256bh r = _mm512_cvtneps_pbh(_mm512_loadu_ps(in + i));
        memcpy(out + i, &r, sizeof r);
    }
}

Test(bf16_onednn, vcvtneps2bf16_equals_gcbench_but_flushes_denormals)
{
    if (!simd_cpu_has("avx512_bf16")) cr_skip_test("this CPU lacks AVX512-BF16");
    float *in = inputs();
    bf16 *got = malloc(N * sizeof *got);
    cr_assert_not_null(got);
    vcvtneps2bf16(got, in, N);
    for (size_t i = 0; i < N; i++) {
        bf16 want = denormal(in[i]) ? signed_zero(in[i]) : bf16_from_f32(in[i]);
        cr_assert_eq(got[i], want, "0x%08x: vcvtneps2bf16 0x%04x, expected 0x%04x", (unsigned)bf16_bits_of_f32(in[i]),
                     (unsigned)got[i], (unsigned)want);
    }
    free(got);
    free(in);
}
#endif
