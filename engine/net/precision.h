/* The training precision (--precision): what the network computes in, and whether this CPU
 * and oneDNN can run it natively.
 *
 * fp32: everything in f32. bf16 (mixed precision, as oneDNN's bf16 training guide lays out):
 * activations, their gradients and the compute copies of the conv and dense weights in bf16;
 * master weights, weight gradients, GC and the optimizer in f32. bf16 needs AVX512-BF16:
 * without it oneDNN emulates bf16 arithmetic, slower than f32, and the run would measure the
 * emulation. */
#ifndef GCBENCH_ENGINE_NET_PRECISION_H
#define GCBENCH_ENGINE_NET_PRECISION_H

#include <oneapi/dnnl/dnnl.h>
#include <stdbool.h>

typedef enum { PRECISION_FP32, PRECISION_BF16 } precision;

/* "fp32", "bf16" */
const char *precision_name(precision p);

/* The precision named s ("fp32" or "bf16"); -1 when it names none. */
int precision_find(const char *s, precision *out);

/* The data type of the activations and of the weights' compute copies. */
dnnl_data_type_t precision_dt(precision p);

/* GC_OK when p runs natively here: the CPU has AVX512-BF16 (simd_cpu_has) and oneDNN may use
 * it (its ISA is not capped below avx512_core_bf16, by ONEDNN_MAX_CPU_ISA for instance). Else
 * GC_EUSAGE with a message naming the missing instruction set. fp32 always runs. */
int precision_check_cpu(precision p);

/* The instruction set oneDNN dispatches to here ("avx512_core_bf16", "avx2", ...), and the
 * CPU's bf16 instructions ("AVX512-BF16, AMX-BF16", "AVX512-BF16" or "none"): for the header
 * and the config record. */
const char *precision_onednn_isa(void);
const char *precision_cpu_bf16(void);

/* Whether a conv layer's backward-weights runs in f32 in a network whose activations are act_dt
 * in layout act_tag: in a bf16 network trained channels-last (the AMX layout, net_native_layout),
 * the layer that computes no input gradient (the first) does, from f32 copies of its input and
 * output gradient. oneDNN 2.6 has no AMX kernel for its 3-channel input, and its channels-last
 * AVX512-BF16 one takes 0.64 ms an image there against f32's 0.36 (Xeon with AMX, conv_bound
 * --best): widening the two costs less than the difference. In the blocked layout (AVX512-BF16
 * without AMX) the bf16 kernel is the faster: 0.24 ms against f32's 0.40 before any widening
 * (AMD Zen 4, conv_bound --best --bf16 --verbose), so there it stays bf16. */
bool precision_wgrad_in_f32(dnnl_data_type_t act_dt, dnnl_format_tag_t act_tag, bool input_grad);

#endif
