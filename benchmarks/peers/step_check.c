/* step_check: gcbench's engine on given batches, for holding it against PyTorch
 * (benchmarks/peers/step_check.py builds and drives it).
 *
 * The seed model at SIZE x SIZE, initialised by params_init(SEED) (torch_peer.py --init
 * gcbench reproduces those weights bit for bit), then STEPS training steps on the batches of
 * INPUT with dropout OFF (pass_ctx.training = false: the masks are the one thing the two
 * engines cannot share) and RMSprop (lr LR, rho 0.9, eps 1e-7) with GC of SCOPE
 * (none|all|conv), exactly as engine/train/train.c runs a step.
 *
 *   step_check SIZE BATCH STEPS SEED SCOPE LR INPUT LABELS OUT
 *
 * INPUT: STEPS*BATCH images, float32, NCHW (n, 3, SIZE, SIZE), already scaled to [0, 1].
 * LABELS: STEPS*BATCH bytes, 0 or 1.
 * OUT (all little-endian float32 unless said):
 *   the logits of step 1 (BATCH), every gradient of step 1 (parameter tensors in store order:
 *   kernel, bias per layer, each in its (out, in[, kh, kw]) layout), the mean loss of every
 *   step (STEPS, float64), the weights after the last step (same order as the gradients).
 * Not built by CMake on purpose (a check, not part of gcbench): step_check.py compiles it
 * against build/release/libgcbench_core.a, with -DSTEP_CHECK_FUSED=0 for --unfused. */
#ifndef STEP_CHECK_FUSED
#define STEP_CHECK_FUSED 1 /* the fused conv_pool layers, as training runs */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "engine/net/loss.h"
#include "engine/net/model.h"
#include "engine/net/net.h"
#include "engine/optim/optimizer.h"
#include "engine/net/params.h"
#include "simd/simd.h"

static void die(const char *what)
{
    fprintf(stderr, "step_check: %s%s%s\n", what, gc_error_message()[0] ? ": " : "", gc_error_message());
    exit(1);
}

static void *read_all(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    void *p = malloc(bytes ? bytes : 1);
    if (!p || fread(p, 1, bytes, f) != bytes) die(path);
    fclose(f);
    return p;
}

static void write_tensors(FILE *f, const param_store *ps, const float *base)
{
    for (int i = 0; i < ps->n; i++) fwrite(base + ps->t[i].offset, sizeof(float), ps->t[i].count, f);
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: step_check SIZE BATCH STEPS SEED SCOPE LR INPUT LABELS OUT\n");
        return 2;
    }
    int size = atoi(argv[1]), batch = atoi(argv[2]), steps = atoi(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 10);
    gc_scope scope = strcmp(argv[5], "all") == 0 ? GC_SCOPE_ALL : strcmp(argv[5], "conv") == 0 ? GC_SCOPE_CONV : GC_SCOPE_NONE;
    float lr = strtof(argv[6], NULL);
    size_t plane = (size_t)size * (size_t)size, image = 3 * plane, total = (size_t)steps * (size_t)batch;
    float *input = read_all(argv[7], total * image * sizeof(float));
    uint8_t *labels = read_all(argv[8], total);

    net *n;
    if (net_create(&n, (act_shape){3, 3, size, size}, dnnl_format_tag_any) != GC_OK) die("net_create");
    if (model_build(model_find("seed"), n, STEP_CHECK_FUSED) != GC_OK) die("model");
    if (net_plan(n, &batch, 1) != GC_OK) die("net_plan");
    params_init(&n->params, seed);
    optimizer opt = {.hp = {.lr = lr, .rho = 0.9f, .eps = 1e-7f}, .scope = scope, .kernels = simd_best()};
    fprintf(stderr, "step_check: layout %s, input %s, kernels %s, init checksum %016llx\n", net_layout_name(n->act_tag),
            net_layout_name(n->input_tag), opt.kernels->isa, (unsigned long long)params_checksum(&n->params));

    FILE *out = fopen(argv[9], "wb");
    if (!out) die(argv[9]);
    double *losses = calloc((size_t)steps, sizeof *losses);
    for (int s = 0; s < steps; s++) {
        const float *src = input + (size_t)s * (size_t)batch * image;
        float *dst = net_input(n);
        if (n->input_tag == dnnl_nchw) {
            memcpy(dst, src, (size_t)batch * image * sizeof(float));
        } else { /* nhwc */
            for (int b = 0; b < batch; b++)
                for (size_t p = 0; p < plane; p++)
                    for (int c = 0; c < 3; c++) dst[(size_t)b * image + p * 3 + (size_t)c] = src[(size_t)b * image + (size_t)c * plane + p];
        }
        pass_ctx p = {.variant = 0, .batch = batch, .training = false, .noise_key = 0};
        if (net_forward(n, &p) != GC_OK) die("forward");
        loss_result r = bce_with_logits(net_output(n), labels + (size_t)s * (size_t)batch, (size_t)batch, (size_t)batch, net_output_grad(n));
        losses[s] = r.loss_sum / batch;
        if (s == 0) fwrite(net_output(n), sizeof(float), (size_t)batch, out);
        if (net_backward(n, &p) != GC_OK) die("backward");
        if (s == 0) write_tensors(out, &n->params, n->params.g);
        optimizer_step(&opt, &n->params);
    }
    fwrite(losses, sizeof(double), (size_t)steps, out);
    write_tensors(out, &n->params, n->params.w);
    if (fclose(out) != 0) die(argv[9]);
    free(losses);
    free(input);
    free(labels);
    net_destroy(n);
    return 0;
}
