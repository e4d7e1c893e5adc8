/* --precision: the parse, the CPU check and its refusal (the CPU or oneDNN lacks AVX512-BF16),
 * bf16 accepted where it runs natively, and what the header and the log say.
 *
 * "No bf16" is forced two ways: in process through the probe's test seam
 * (simd_cpu_hide("avx512_bf16")), and for the program through oneDNN's own cap,
 * ONEDNN_MAX_CPU_ISA=AVX512_CORE, under which oneDNN would only emulate bf16.
 * Catches: bf16 accepted on a CPU without AVX512-BF16, a bf16 request silently running in f32
 * (the log must name bf16 and the network must hold bf16 activations), a refusal that is not
 * exit 2 or does not name the instruction set, and a header or log that does not say the
 * precision. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/net.h"
#include "engine/net/precision.h"
#include "simd/simd.h"
#include "simd/simd_isa.h"
#include "cli_support.h"
#include "tempdir.h"

Test(precision, names_and_data_types)
{
    precision p = PRECISION_BF16;
    cr_assert_eq(precision_find("fp32", &p), 0);
    cr_assert_eq(p, PRECISION_FP32);
    cr_assert_eq(precision_find("bf16", &p), 0);
    cr_assert_eq(p, PRECISION_BF16);
    cr_assert_eq(precision_find("fp16", &p), -1);
    cr_assert_eq(precision_find("", &p), -1);
    cr_assert_eq(precision_find(NULL, &p), -1);
    cr_assert_str_eq(precision_name(PRECISION_FP32), "fp32");
    cr_assert_str_eq(precision_name(PRECISION_BF16), "bf16");
    cr_assert_eq(precision_dt(PRECISION_FP32), dnnl_f32);
    cr_assert_eq(precision_dt(PRECISION_BF16), dnnl_bf16);
}

Test(precision, fp32_always_runs)
{
    simd_cpu_hide("avx512_bf16", true);
    cr_expect_eq(precision_check_cpu(PRECISION_FP32), GC_OK);
    simd_cpu_hide("avx512_bf16", false);
}

Test(precision, bf16_is_refused_naming_avx512_bf16_on_a_cpu_without_it)
{
    simd_cpu_hide("avx512_bf16", true);
    gc_error_clear();
    cr_expect_eq(precision_check_cpu(PRECISION_BF16), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "AVX512-BF16, which this CPU lacks"), "%s", gc_error_message());
    cr_expect_str_eq(precision_cpu_bf16(), simd_cpu_has("amx_bf16") ? "AMX-BF16" : "none");
    /* the network refuses it for the same reason */
    net *n = NULL;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 8, 8}, dnnl_format_tag_any), GC_OK);
    gc_error_clear();
    cr_expect_eq(net_set_precision(n, dnnl_bf16, dnnl_bf16), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "AVX512-BF16"), "%s", gc_error_message());
    cr_expect_eq(n->act_dt, dnnl_f32, "a refused precision leaves the network as it was");
    net_destroy(n);
    simd_cpu_hide("avx512_bf16", false);
    gc_error_clear();
}

Test(precision, bf16_on_a_cpu_with_it_is_accepted)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    cr_expect(strstr(precision_onednn_isa(), "avx512_core_bf16") || strstr(precision_onednn_isa(), "amx"),
              "oneDNN's ISA %s", precision_onednn_isa());
    cr_expect(strstr(precision_cpu_bf16(), "AVX512-BF16"), "%s", precision_cpu_bf16());
    net *n = NULL;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 8, 8}, dnnl_format_tag_any), GC_OK);
    cr_expect_eq(net_set_precision(n, dnnl_bf16, dnnl_bf16), GC_OK, "%s", gc_error_message());
    cr_expect_eq(n->act_dt, dnnl_bf16);
    cr_expect_eq(n->weight_dt, dnnl_bf16);
    gc_error_clear();
    cr_expect_eq(net_set_precision(n, dnnl_bf16, dnnl_f32), GC_EUSAGE, "mixed compute types are refused");
    cr_expect(strstr(gc_error_message(), "f32 or in bf16"), "%s", gc_error_message());
    net_destroy(n);
    gc_error_clear();
}

/* bf16 takes the layout oneDNN's AMX kernels read (channels-last, the input too); without AMX,
 * and back in f32, the blocked one; a layout the caller chose is kept. */
Test(precision, bf16_trains_channels_last_where_amx_runs_it)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    bool amx = (isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx;
    net *n = NULL;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 8, 8}, dnnl_format_tag_any), GC_OK);
    cr_expect_eq(n->act_tag, dnnl_nChw16c);
    cr_expect_eq(n->input_tag, dnnl_nchw);
    cr_assert_eq(net_set_precision(n, dnnl_bf16, dnnl_bf16), GC_OK, "%s", gc_error_message());
    cr_expect_eq(n->act_tag, amx ? dnnl_nhwc : dnnl_nChw16c, "%s", net_layout_name(n->act_tag));
    cr_expect_eq(n->input_tag, amx ? dnnl_nhwc : dnnl_nchw, "%s", net_layout_name(n->input_tag));
    cr_assert_eq(net_set_precision(n, dnnl_f32, dnnl_f32), GC_OK);
    cr_expect_eq(n->act_tag, dnnl_nChw16c);
    cr_expect_eq(n->input_tag, dnnl_nchw);
    net_destroy(n);
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 8, 8}, dnnl_nChw16c), GC_OK);
    cr_assert_eq(net_set_precision(n, dnnl_bf16, dnnl_bf16), GC_OK);
    cr_expect_eq(n->act_tag, dnnl_nChw16c, "a chosen layout is kept");
    cr_expect_eq(n->input_tag, dnnl_nchw);
    net_destroy(n);
}

/* The first layer's backward-weights reads f32 copies only in a channels-last bf16 network
 * (AMX's layout, where oneDNN's bf16 kernel for 3 input channels is the slower); blocked, and
 * in every layer that also computes an input gradient, it stays in the activations' type.
 * Catches the rule taking f32 in the blocked layout (measured slower there), in the other
 * layers, or in an f32 network. */
Test(precision, first_layer_weight_gradient_from_f32_copies_only_channels_last)
{
    cr_expect(precision_wgrad_in_f32(dnnl_bf16, dnnl_nhwc, false));
    cr_expect_not(precision_wgrad_in_f32(dnnl_bf16, dnnl_nChw16c, false));
    cr_expect_not(precision_wgrad_in_f32(dnnl_bf16, dnnl_nhwc, true));
    cr_expect_not(precision_wgrad_in_f32(dnnl_bf16, dnnl_nChw16c, true));
    cr_expect_not(precision_wgrad_in_f32(dnnl_f32, dnnl_nhwc, false));
    cr_expect_not(precision_wgrad_in_f32(dnnl_f32, dnnl_nChw16c, false));
}

/* The program: exit status, stdout and stderr of `env gcbench args` on a one-epoch run. */
static const cli_result *run(const char *env, const char *args)
{
    char all[1024];
    snprintf(all, sizeof all, "--no-gc --epochs 1 --train-images 4 --val-images 2 --batch 2 --image-size 94 --threads 1 %s",
             args);
    return cli_run(env, GCBENCH_BIN, all);
}

static void expect_refusal(const cli_result *r, const char *mentions)
{
    cr_expect_eq(r->status, 2, "exit %d, stderr: %s", r->status, r->err);
    cr_expect(strncmp(r->err, "gcbench: error: --precision bf16: ", 34) == 0, "stderr: %s", r->err);
    cr_expect(strstr(r->err, mentions), "stderr '%s' should mention '%s'", r->err, mentions);
    cr_expect(strstr(r->err + 1, "gcbench: error:") == NULL, "reported once: %s", r->err);
    cr_expect_eq(r->out[0], '\0', "nothing trained: %s", r->out);
}

Test(precision_cli, bf16_without_avx512_bf16_in_onednn_exits_2_naming_it)
{
    expect_refusal(run("ONEDNN_MAX_CPU_ISA=AVX512_CORE", "--precision bf16"), "needs AVX512-BF16");
}

Test(precision_cli, bf16_trains_where_it_runs_natively_and_says_so)
{
    bool native = precision_check_cpu(PRECISION_BF16) == GC_OK;
    gc_error_clear();
    const cli_result *r = run("", "--precision bf16");
    if (!native) {
        expect_refusal(r, "AVX512-BF16, which this CPU lacks");
        return;
    }
    cr_expect_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect(strstr(r->out, "compute:  precision bf16, oneDNN ISA"), "%s", r->out);
    cr_expect(strstr(r->out, "epoch 1/1"), "%s", r->out);
}

Test(precision_cli, an_unknown_precision_exits_2_naming_the_flag)
{
    const cli_result *r = run("", "--precision fp16");
    cr_expect_eq(r->status, 2);
    cr_expect(strstr(r->err, "gcbench: error: --precision: 'fp16' is not a precision"), "%s", r->err);
}

Test(precision_cli, header_and_log_say_the_precision_and_onednn_isa)
{
    char log[64];
    test_temp_file(log, sizeof log, "precision_log");
    char args[256];
    snprintf(args, sizeof args, "--precision fp32 --log '%s'", log);
    const cli_result *r = run("", args);
    cr_assert_eq(r->status, 0, "stderr: %s", r->err);
    char want[160];
    snprintf(want, sizeof want, "compute:  precision fp32, oneDNN ISA %s, CPU bf16 instructions: %s\n",
             precision_onednn_isa(), precision_cpu_bf16());
    cr_expect(strstr(r->out, want), "header line '%s' in:\n%s", want, r->out);
    static char text[1 << 16];
    cli_slurp_remove(log, text, sizeof text);
    text[strcspn(text, "\n")] = '\0'; /* the config record */
    snprintf(want, sizeof want, "\"precision\":\"fp32\",\"onednn_isa\":\"%s\",\"cpu_bf16\":\"%s\"", precision_onednn_isa(),
             precision_cpu_bf16());
    cr_expect(strstr(text, "{\"event\":\"config\"") == text && strstr(text, want), "%s in %s", want, text);
}

/* bf16 checkpoints: the master weights and optimizer state are f32, and the bf16 copies are
 * made from them every step, so a bf16 run that dies at its second checkpoint write
 * (GCBENCH_FAULT) resumes from the first to the uninterrupted log exactly; an fp32 run refuses
 * the bf16 checkpoint, naming the setting. */
#define BF16_RUN "--precision bf16 --no-gc --epochs 2 --train-images 8 --val-images 4 --batch 4 --image-size 94 --threads 1"

static const cli_result *bf16_run(const char *env, const char *log, const char *ckpt, bool resume)
{
    char args[512];
    snprintf(args, sizeof args, BF16_RUN " --log '%s'%s%s%s%s%s", log, ckpt ? " --checkpoint '" : "", ckpt ? ckpt : "",
             ckpt ? "'" : "", resume ? " --resume " : "", resume ? ckpt : "");
    return cli_run(env, GCBENCH_BIN, args);
}

Test(precision_cli, bf16_resume_gives_the_uninterrupted_log_and_fp32_refuses_its_checkpoint, .timeout = 120)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    static char whole[1 << 16], resumed[1 << 16];
    char log[64], ckpt[64], tmp[80];
    test_temp_file(log, sizeof log, "bf16_log");
    test_temp_file(ckpt, sizeof ckpt, "bf16_ckpt");
    cr_assert_eq(bf16_run("", log, NULL, false)->status, 0);
    cli_slurp(log, whole, sizeof whole);
    cli_strip_timings(whole);
    cr_assert(strstr(whole, "\"precision\":\"bf16\""), "%s", whole);

    cr_expect_neq(bf16_run("GCBENCH_FAULT=checkpoint-write:2", log, ckpt, false)->status, 0);
    const cli_result *r = bf16_run("", log, ckpt, true);
    cr_assert_eq(r->status, 0, "resume: %s", r->err);
    cli_slurp(log, resumed, sizeof resumed);
    cli_strip_timings(resumed);
    cr_expect_str_eq(resumed, whole);

    char args[512];
    snprintf(args, sizeof args, "--precision fp32 --no-gc --epochs 2 --train-images 8 --val-images 4 --batch 4 "
             "--image-size 94 --threads 1 --resume '%s'", ckpt);
    r = cli_run("", GCBENCH_BIN, args);
    cr_expect_eq(r->status, 2, "%s", r->err);
    cr_expect(strstr(r->err, "precision=bf16"), "%s", r->err);
    snprintf(tmp, sizeof tmp, "%s.tmp", ckpt);
    unlink(ckpt), unlink(tmp), unlink(log);
}

/* The plain layers (--unfused) compute in f32 only: bf16 with them is refused naming both flags. */
Test(precision_cli, bf16_with_unfused_exits_2_naming_both)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    const cli_result *r = run("", "--precision bf16 --unfused");
    cr_expect_eq(r->status, 2, "exit %d, stderr: %s", r->status, r->err);
    cr_expect(strstr(r->err, "gcbench: error: --precision bf16 with --unfused: conv2d (Conv2D) computes in f32 only"),
              "%s", r->err);
    cr_expect(strstr(r->err + 1, "gcbench: error:") == NULL, "reported once: %s", r->err);
    cr_expect_eq(r->out[0], '\0', "nothing trained: %s", r->out);
}
