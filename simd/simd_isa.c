/* Which kernel tables this build has, and which of them this CPU runs. Free of oneDNN and
 * of the engine, so the NEON tests can be cross-built from simd/ alone.
 *
 * CMake defines GCBENCH_SIMD_HAVE_X86 when it builds the AVX2 and AVX-512 files, and
 * GCBENCH_SIMD_HAVE_NEON when it builds the NEON file. */
#include <string.h>

#include "simd/simd_isa.h"

#if defined(GCBENCH_SIMD_HAVE_X86)
static bool cpu_avx2(void)
{
    __builtin_cpu_init(); /* safe before constructors have run */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* gcc's probe also checks that the OS saves the zmm state (XCR0). F, DQ, VL and BW: what
 * every AVX-512 processor since Skylake-SP and Zen 4 has (the fused pooling uses DQ's 64-bit
 * multiplies on 256-bit vectors). */
static bool cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
}

/* The bf16 instructions, for --precision bf16 and the header: vdpbf16ps and friends (usable
 * only where AVX-512 is, which the probe checks), and AMX's bf16 tile multiply (gcc's probe
 * checks that the OS enables the tile state). */
static bool cpu_avx512_bf16(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}

static bool cpu_amx_bf16(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16");
}
#endif

#if defined(GCBENCH_SIMD_HAVE_NEON)
static bool cpu_neon(void) { return true; } /* AArch64 requires Advanced SIMD */
#endif

static bool cpu_always(void) { return true; }

typedef struct {
    const char *name;
    const simd_kernels *(*kernels)(void); /* NULL: not built in */
    bool (*cpu)(void);
    bool hidden;
} isa_entry;

/* Every ISA gcbench knows, worst first: the best is the last one the CPU runs. */
static isa_entry isas[] = {
    {"scalar", simd_kernels_scalar, cpu_always, false},
#if defined(GCBENCH_SIMD_HAVE_NEON)
    {"neon", simd_kernels_neon, cpu_neon, false},
#else
    {"neon", NULL, NULL, false},
#endif
#if defined(GCBENCH_SIMD_HAVE_X86)
    {"avx2", simd_kernels_avx2, cpu_avx2, false},
    {"avx512", simd_kernels_avx512, cpu_avx512, false},
#else
    {"avx2", NULL, NULL, false},
    {"avx512", NULL, NULL, false},
#endif
};

#define NISAS (sizeof isas / sizeof isas[0])

/* CPU features beyond the kernel tables' ISAs (simd_cpu_has). */
static isa_entry features[] = {
#if defined(GCBENCH_SIMD_HAVE_X86)
    {"avx512_bf16", NULL, cpu_avx512_bf16, false},
    {"amx_bf16", NULL, cpu_amx_bf16, false},
#else
    {"avx512_bf16", NULL, NULL, false},
    {"amx_bf16", NULL, NULL, false},
#endif
};

#define NFEATURES (sizeof features / sizeof features[0])

static isa_entry *find_feature(const char *name)
{
    for (size_t i = 0; name && i < NFEATURES; i++)
        if (strcmp(features[i].name, name) == 0) return &features[i];
    return NULL;
}

static isa_entry *find(const char *isa)
{
    for (size_t i = 0; isa && i < NISAS; i++)
        if (strcmp(isas[i].name, isa) == 0) return &isas[i];
    return NULL;
}

const char *simd_isa_name(size_t i) { return i < NISAS ? isas[i].name : NULL; }

const simd_kernels *simd_kernels_built(const char *isa)
{
    const isa_entry *e = find(isa);
    return e && e->kernels ? e->kernels() : NULL;
}

bool simd_cpu_supports(const char *isa)
{
    const isa_entry *e = find(isa);
    return e && e->kernels && !e->hidden && e->cpu();
}

const simd_kernels *simd_best(void)
{
    for (size_t i = NISAS; i-- > 0;)
        if (simd_cpu_supports(isas[i].name)) return isas[i].kernels();
    return simd_kernels_scalar();
}

bool simd_cpu_has(const char *feature)
{
    const isa_entry *e = find_feature(feature);
    return e && e->cpu && !e->hidden && e->cpu();
}

void simd_cpu_hide(const char *isa, bool hide)
{
    isa_entry *e = find(isa);
    if (!e) e = find_feature(isa);
    if (e && e != &isas[0]) e->hidden = hide; /* scalar always runs */
}
