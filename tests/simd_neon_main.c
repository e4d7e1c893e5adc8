/* The NEON kernels' test, cross-built for aarch64 (static, so qemu-aarch64 runs it without
 * a sysroot) from simd/, engine/base/error.c and simd_check.c alone: no Criterion, no oneDNN.
 *
 * usage: simd_neon_check kernels|dispatch|bf16    exit 0 when every check passes, 1 otherwise. */
#include <stdio.h>
#include <string.h>

#include "engine/base/error.h"
#include "simd/simd.h"
#include "simd_check.h"
#include "bf16_check.h"

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

/* Every kernel, NEON against the scalar reference; and the reference fused vs unfused. */
static void check_kernels(void)
{
    const simd_kernels *neon = simd_kernels_built("neon");
    expect(neon != NULL, "the NEON kernels are built in");
    if (!neon) return;
    for (int kind = 0; kind < SIMD_CHECK_KINDS; kind++) {
        char msg[512];
        size_t fails = simd_check_all(neon, (simd_check_kind)kind, msg, sizeof msg);
        printf("neon %-17s %s\n", simd_check_kind_name((simd_check_kind)kind), fails ? "FAIL" : "ok");
        if (fails) fprintf(stderr, "  %zu failures; the first: %s\n", fails, msg);
        failures += fails != 0;
    }
    char msg[512];
    size_t fails = simd_check_all(simd_kernels_scalar(), SIMD_CHECK_FUSED, msg, sizeof msg);
    printf("scalar fused_vs_unfused %s\n", fails ? "FAIL" : "ok");
    if (fails) fprintf(stderr, "  %zu failures; the first: %s\n", fails, msg);
    failures += fails != 0;
}

/* The bf16 conversions, NEON and the reference (its known answers) (bf16_check.h). */
static void check_bf16(void)
{
    const simd_kernels *tables[] = {simd_kernels_built("neon"), simd_kernels_scalar()};
    expect(tables[0] != NULL, "the NEON kernels are built in");
    for (size_t t = 0; t < 2 && tables[0]; t++) {
        for (int kind = 0; kind < BF16_CHECK_KINDS; kind++) {
            if (t == 1 && kind != BF16_CHECK_KNOWN) continue; /* the reference against itself: nothing */
            char msg[512];
            size_t fails = bf16_check_all(tables[t], (bf16_check_kind)kind, msg, sizeof msg);
            printf("%s bf16 %-13s %s\n", tables[t]->isa, bf16_check_kind_name((bf16_check_kind)kind), fails ? "FAIL" : "ok");
            if (fails) fprintf(stderr, "  %zu failures; the first: %s\n", fails, msg);
            failures += fails != 0;
        }
    }
    expect(!simd_cpu_has("avx512_bf16") && !simd_cpu_has("amx_bf16"), "no x86 bf16 features on aarch64");
}

/* On aarch64, NEON is always present and the best; the x86 kernels are not built. */
static void check_dispatch(void)
{
    expect(simd_cpu_supports("neon"), "the CPU runs neon");
    expect(strcmp(simd_best()->isa, "neon") == 0, "the default pick is neon");
    expect(simd_kernels_built("avx2") == NULL && !simd_cpu_supports("avx2"), "no avx2 on aarch64");
    expect(simd_kernels_built("avx512") == NULL && !simd_cpu_supports("avx512"), "no avx512 on aarch64");
    expect(simd_kernels_built("sse9") == NULL && !simd_cpu_supports("sse9"), "unknown ISAs are not built");
    expect(simd_cpu_supports("scalar"), "scalar always runs");
    /* simd_select, as gcbench calls it with GCBENCH_SIMD */
    const simd_kernels *k = NULL;
    expect(simd_select(NULL, &k) == GC_OK && k && strcmp(k->isa, "neon") == 0, "no request picks neon");
    expect(simd_select("scalar", &k) == GC_OK && k == simd_kernels_scalar(), "scalar on request");
    expect(simd_select("avx2", &k) == GC_EUSAGE && strstr(gc_error_message(), "no avx2 kernels"),
           "avx2 is refused: not built for aarch64");
    gc_error_clear();
    expect(simd_select("sse9", &k) == GC_EUSAGE && strstr(gc_error_message(), "unknown ISA"), "sse9 is unknown");
    gc_error_clear();
    printf("neon dispatch %s\n", failures ? "FAIL" : "ok");
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "kernels") == 0) {
        check_kernels();
    } else if (strcmp(what, "dispatch") == 0) {
        check_dispatch();
    } else if (strcmp(what, "bf16") == 0) {
        check_bf16();
    } else {
        fprintf(stderr, "usage: %s kernels|dispatch|bf16\n", argv[0]);
        return 2;
    }
    return failures ? 1 : 0;
}
