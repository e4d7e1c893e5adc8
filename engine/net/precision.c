#include "engine/net/precision.h"

#include <string.h>

#include "engine/base/error.h"
#include "simd/simd.h"

const char *precision_name(precision p) { return p == PRECISION_BF16 ? "bf16" : "fp32"; }

int precision_find(const char *s, precision *out)
{
    if (s && strcmp(s, "fp32") == 0) *out = PRECISION_FP32;
    else if (s && strcmp(s, "bf16") == 0) *out = PRECISION_BF16;
    else return -1;
    return 0;
}

dnnl_data_type_t precision_dt(precision p) { return p == PRECISION_BF16 ? dnnl_bf16 : dnnl_f32; }

const char *precision_onednn_isa(void)
{
    /* oneDNN 2.6's dnnl_cpu_isa_t, best first (each value includes the bits of those below) */
    static const struct {
        dnnl_cpu_isa_t isa;
        const char *name;
    } isas[] = {
        {dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"},
        {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
        {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"},
        {dnnl_cpu_isa_avx512_core, "avx512_core"},
        {dnnl_cpu_isa_avx512_mic_4ops, "avx512_mic_4ops"},
        {dnnl_cpu_isa_avx512_mic, "avx512_mic"},
        {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"},
        {dnnl_cpu_isa_avx2, "avx2"},
        {dnnl_cpu_isa_avx, "avx"},
        {dnnl_cpu_isa_sse41, "sse41"},
    };
    dnnl_cpu_isa_t have = dnnl_get_effective_cpu_isa();
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (have == isas[i].isa) return isas[i].name;
    return have == dnnl_cpu_isa_all ? "all" : "other";
}

const char *precision_cpu_bf16(void)
{
    bool avx512 = simd_cpu_has("avx512_bf16"), amx = simd_cpu_has("amx_bf16");
    return avx512 && amx ? "AVX512-BF16, AMX-BF16" : avx512 ? "AVX512-BF16" : amx ? "AMX-BF16" : "none";
}

int precision_check_cpu(precision p)
{
    if (p == PRECISION_FP32) return GC_OK;
    if (!simd_cpu_has("avx512_bf16"))
        return gc_fail(GC_EUSAGE, "bf16 needs AVX512-BF16, which this CPU lacks");
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* the values are bit sets: avx512_core_bf16's bits all set means it or better */
    if ((isa & dnnl_cpu_isa_avx512_core_bf16) != dnnl_cpu_isa_avx512_core_bf16)
        return gc_fail(GC_EUSAGE,
                       "bf16 needs AVX512-BF16, which oneDNN may not use here: its ISA is capped at %s "
                       "(ONEDNN_MAX_CPU_ISA)",
                       precision_onednn_isa());
    return GC_OK;
}

bool precision_wgrad_in_f32(dnnl_data_type_t act_dt, dnnl_format_tag_t act_tag, bool input_grad)
{
    return act_dt == dnnl_bf16 && act_tag == dnnl_nhwc && !input_grad;
}
