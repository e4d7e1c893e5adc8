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
 *
 * The optimizer alone, any of gcbench's, on given weights and gradients (step_check.py --optimizers):
 *
 *   step_check optim SIZE STEPS NAME SCOPE GC_ON IN OUT [key=value ...]
 *
 * The seed model's parameter store at SIZE (its tensors in store order, as above); NAME an
 * optimizer (rmsprop, sgd, adam, adamw, adagrad) at its defaults, changed by key=value (lr,
 * momentum, nesterov, beta1, beta2, eps, initial_accumulator, weight_decay, coupled); GC of
 * SCOPE on the GC_ON (gradient|update). IN: the weights, then STEPS gradients (float32, the
 * store's tensors in order); OUT: the weights after each step.
 *
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

static void read_tensors(FILE *f, const param_store *ps, float *base, const char *path)
{
    for (int i = 0; i < ps->n; i++)
        if (fread(base + ps->t[i].offset, sizeof(float), ps->t[i].count, f) != ps->t[i].count) die(path);
}

static gc_scope scope_of(const char *s)
{
    return strcmp(s, "all") == 0 ? GC_SCOPE_ALL : strcmp(s, "conv") == 0 ? GC_SCOPE_CONV : GC_SCOPE_NONE;
}

/* "key=value" into hp. */
static void set_hparam(opt_hparams *hp, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) die(kv);
    double v = strtod(eq + 1, NULL);
    size_t k = (size_t)(eq - kv);
#define KEY(name) (k == strlen(name) && strncmp(kv, name, k) == 0)
    if (KEY("lr")) hp->lr = v;
    else if (KEY("momentum")) hp->momentum = v;
    else if (KEY("nesterov")) hp->nesterov = v != 0.0;
    else if (KEY("beta1")) hp->beta1 = v;
    else if (KEY("beta2")) hp->beta2 = v;
    else if (KEY("eps")) hp->eps = v;
    else if (KEY("rho")) hp->rho = v;
    else if (KEY("initial_accumulator")) hp->initial_accumulator = v;
    else if (KEY("weight_decay")) hp->weight_decay = v;
    else if (KEY("coupled")) hp->wd_coupled = v != 0.0;
    else die(kv);
#undef KEY
}

static int optim_main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: step_check optim SIZE STEPS NAME SCOPE GC_ON IN OUT [key=value ...]\n");
        return 2;
    }
    int size = atoi(argv[2]), steps = atoi(argv[3]);
    optimizer opt = {.desc = optimizer_find(argv[4]), .scope = scope_of(argv[5]),
                     .gc_on_update = strcmp(argv[6], "update") == 0, .kernels = simd_best()};
    if (!opt.desc) die(argv[4]);
    opt.hp = opt.desc->defaults;
    for (int i = 9; i < argc; i++) set_hparam(&opt.hp, argv[i]);
    net *n;
    if (net_create(&n, (act_shape){3, 3, size, size}, dnnl_format_tag_any) != GC_OK) die("net_create");
    if (model_build(model_find("seed"), n, STEP_CHECK_FUSED) != GC_OK) die("model");
    param_store *ps = &n->params;
    if (params_alloc(ps) != GC_OK || optimizer_prepare(&opt, ps) != GC_OK) die("the parameter store");
    FILE *in = fopen(argv[7], "rb"), *out = fopen(argv[8], "wb");
    if (!in) die(argv[7]);
    if (!out) die(argv[8]);
    read_tensors(in, ps, ps->w, argv[7]);
    char hp[256];
    opt.desc->describe(&opt.hp, 6, hp, sizeof hp);
    fprintf(stderr, "step_check: %s %s, gc %s on the %s, kernels %s\n", opt.desc->label, hp, gc_scope_name(opt.scope),
            gc_on_name(opt.gc_on_update), opt.kernels->isa);
    for (int s = 0; s < steps; s++) {
        read_tensors(in, ps, ps->g, argv[7]);
        optimizer_step(&opt, ps);
        write_tensors(out, ps, ps->w);
    }
    fclose(in);
    if (fclose(out) != 0) die(argv[8]);
    net_destroy(n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "optim") == 0) return optim_main(argc, argv);
    if (argc != 10) {
        fprintf(stderr, "usage: step_check SIZE BATCH STEPS SEED SCOPE LR INPUT LABELS OUT\n");
        return 2;
    }
    int size = atoi(argv[1]), batch = atoi(argv[2]), steps = atoi(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 10);
    gc_scope scope = scope_of(argv[5]);
    float lr = strtof(argv[6], NULL);
    size_t plane = (size_t)size * (size_t)size, image = 3 * plane, total = (size_t)steps * (size_t)batch;
    float *input = read_all(argv[7], total * image * sizeof(float));
    uint8_t *labels = read_all(argv[8], total);

    net *n;
    if (net_create(&n, (act_shape){3, 3, size, size}, dnnl_format_tag_any) != GC_OK) die("net_create");
    if (model_build(model_find("seed"), n, STEP_CHECK_FUSED) != GC_OK) die("model");
    if (net_plan(n, &batch, 1) != GC_OK) die("net_plan");
    params_init(&n->params, seed);
    optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = {.lr = lr, .rho = 0.9, .eps = 1e-7}, .scope = scope,
                     .kernels = simd_best()};
    if (optimizer_prepare(&opt, &n->params) != GC_OK) die("optimizer_prepare");
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
