/* bf16 training against f32, where the arithmetic makes the answer exact.
 *
 * bf16 keeps 8 significant bits, so every integer of magnitude at most 256 is a bf16 value, and
 * oneDNN's bf16 convolutions multiply bf16 values exactly and sum in f32. On a network whose
 * weights, input and output gradient are small integers, and whose every intermediate value
 * (pre-pool sums, pooled outputs, gradients) stays an integer of magnitude <= 256, the bf16
 * network therefore computes exactly what the f32 one does: every rounding to bf16 is of a value
 * that is already a bf16 value, and every f32 sum of integers below 2^24 is exact in any order.
 * The test builds such a network (sparse second-layer filters keep the sums small) and asks for
 * bit-identical outputs, weight gradients and input gradients of the second layer. What it
 * catches: the bf16 path reading or writing an activation in the wrong type or at the wrong
 * offset (the chunk's bytes, not its floats), the flatten not converting, a gradient dropped
 * or doubled, the dropout masks differing between precisions. (The batch itself is written
 * in bf16 by the loader: tests/test_loader.c.) Tolerance-based agreement on
 * ordinary values is the seed study's business (README). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/base/rng.h"
#include "engine/net/net.h"
#include "engine/net/precision.h"
#include "engine/optim/optimizer.h"
#include "simd/bf16.h"
#include "simd/simd.h"

#define BATCH 6

/* Both precisions in one layout, so that their buffers compare element by element. */
static net *build(dnnl_data_type_t dt, dnnl_format_tag_t tag)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 14, 14}, tag), GC_OK);
    cr_assert_eq(net_set_precision(n, dt, dt), GC_OK, "%s", gc_error_message());
    cr_assert_eq(net_add_conv_pool(n, 16, 3, 0.0f), GC_OK); /* 14 -> 12 -> 6 */
    cr_assert_eq(net_add_conv_pool(n, 32, 3, 0.5f), GC_OK); /* 6 -> 4 -> 2, dropout: x2 */
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    int batch = BATCH;
    cr_assert_eq(net_plan(n, &batch, 1), GC_OK, "%s", gc_error_message());
    return n;
}

/* Integer weights: the first layer's in {-1, 0, 1} (27 taps on inputs in {0, 1}: sums <= 27),
 * the second's with at most 4 taps of +-1 per filter (sums <= 4 * 27, doubled by dropout:
 * <= 216), the dense one's in {-1, 0, 1}; biases zero. */
static void integer_weights(param_store *ps)
{
    for (int i = 0; i < ps->n; i++) {
        const param_tensor *t = &ps->t[i];
        float *w = param_w(ps, i);
        memset(w, 0, t->count * sizeof *w);
        if (t->kind == PARAM_BIAS) continue;
        bool sparse = t->kind == PARAM_CONV_KERNEL && i > 0;
        for (size_t r = 0; r < t->rows; r++)
            for (size_t c = 0; c < t->cols; c++) {
                uint64_t draw = rng_u64(31 + (uint64_t)i, r * t->cols + c);
                if (sparse && c % (t->cols / 4) != draw % (t->cols / 4)) continue;
                w[r * t->cols + c] = (float)((int)(draw % 3) - 1);
            }
    }
}

typedef struct {
    float *out, *grad, *d_in; /* the logits, every weight gradient, the second layer's input gradient */
} pass_result;

static pass_result run(net *n)
{
    integer_weights(&n->params);
    size_t in = (size_t)BATCH * (size_t)act_shape_elems(n->input);
    for (size_t i = 0; i < in; i++) { /* the batch in the network's type, as the loader writes it */
        float v = (float)(rng_u64(41, i) % 2);
        if (n->input_dt == dnnl_bf16)
            ((bf16 *)net_input(n))[i] = bf16_from_f32(v);
        else
            ((float *)net_input(n))[i] = v;
    }
    pass_ctx p = {.variant = 0, .batch = BATCH, .training = true, .noise_key = rng_key(7, RNG_STREAM_DROPOUT, 0, 0)};
    cr_assert_eq(net_forward(n, &p), GC_OK, "%s", gc_error_message());
    float *dy = net_output_grad(n);
    for (int b = 0; b < BATCH; b++) dy[b] = b % 2 ? 1.0f : -1.0f;
    cr_assert_eq(net_backward(n, &p), GC_OK, "%s", gc_error_message());

    pass_result r = {malloc(BATCH * sizeof(float)), malloc(n->params.total * sizeof(float)), NULL};
    cr_assert(r.out && r.grad);
    memcpy(r.out, net_output(n), BATCH * sizeof(float));
    memcpy(r.grad, n->params.g, n->params.total * sizeof(float));
    /* the second conv layer's input gradient (bf16 in the bf16 network), widened */
    const layer *l = &n->layers[1];
    dnnl_memory_desc_t md;
    cr_assert_eq(layer_in_md(n, l, BATCH, &md), GC_OK);
    size_t count = md_bytes(&md) / dt_size(md.data_type);
    r.d_in = malloc(count * sizeof(float));
    cr_assert(r.d_in);
    for (size_t i = 0; i < count; i++)
        r.d_in[i] = md.data_type == dnnl_bf16 ? f32_from_bf16(((const bf16 *)l->d_in)[i]) : l->d_in[i];
    return r;
}

static void check_bit_identical(dnnl_format_tag_t tag)
{
    net *a = build(dnnl_f32, tag), *b = build(dnnl_bf16, tag);
    pass_result ra = run(a), rb = run(b);
    size_t nonzero = 0;
    for (int i = 0; i < BATCH; i++) {
        cr_assert_eq(ra.out[i], rb.out[i], "%s: logit %d: f32 %g, bf16 %g", net_layout_name(tag), i, (double)ra.out[i], (double)rb.out[i]);
        cr_assert(fabsf(ra.out[i]) < 256.0f && ra.out[i] == rintf(ra.out[i]), "logit %d = %g: not a small integer", i,
                  (double)ra.out[i]);
    }
    for (size_t i = 0; i < a->params.total; i++) {
        cr_assert_eq(ra.grad[i], rb.grad[i], "gradient %zu: f32 %g, bf16 %g", i, (double)ra.grad[i], (double)rb.grad[i]);
        nonzero += ra.grad[i] != 0.0f;
    }
    /* the premises: real work was checked, and it stayed inside bf16's exact integers */
    cr_assert(nonzero > a->params.total / 20, "only %zu of %zu gradient entries are nonzero", nonzero, a->params.total);
    dnnl_memory_desc_t md;
    cr_assert_eq(layer_in_md(a, &a->layers[1], BATCH, &md), GC_OK);
    size_t count = md_bytes(&md) / sizeof(float), moving = 0;
    for (size_t i = 0; i < count; i++) {
        cr_assert_eq(ra.d_in[i], rb.d_in[i], "input gradient of conv2d_1 [%zu]: f32 %g, bf16 %g", i, (double)ra.d_in[i],
                     (double)rb.d_in[i]);
        cr_assert(fabsf(ra.d_in[i]) <= 256.0f, "[%zu] = %g leaves bf16's exact integers", i, (double)ra.d_in[i]);
        moving += ra.d_in[i] != 0.0f;
    }
    cr_assert(moving > count / 20, "only %zu of %zu input-gradient entries are nonzero", moving, count);
    free(ra.out), free(ra.grad), free(ra.d_in), free(rb.out), free(rb.grad), free(rb.d_in);
    net_destroy(a);
    net_destroy(b);
}

/* The blocked layout (AVX512-BF16 without AMX) and channels-last (oneDNN's AMX kernels). */
Test(bf16_net, integer_network_is_bit_identical_to_f32)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    check_bit_identical(dnnl_nChw16c);
    check_bit_identical(dnnl_nhwc);
}

/* Logits of a forward pass (no dropout) on the batch already in the network. */
static void logits(net *n, float *out)
{
    pass_ctx p = {.variant = 0, .batch = BATCH, .training = false};
    cr_assert_eq(net_forward(n, &p), GC_OK, "%s", gc_error_message());
    memcpy(out, net_output(n), BATCH * sizeof(float));
}

/* The optimizer's step writes the bf16 copy of every conv kernel (nearest even of the new
 * master weights), the copy is then current, and the convolutions read it: the logits after
 * the step equal those of the copy the layers make themselves when it is marked stale. */
Test(bf16_net, the_step_writes_the_compute_copy_the_convolutions_read)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    net *n = build(dnnl_bf16, net_native_layout(dnnl_bf16));
    param_store *ps = &n->params;
    params_init(ps, 5);
    size_t in = (size_t)BATCH * (size_t)act_shape_elems(n->input);
    for (size_t i = 0; i < in; i++) ((bf16 *)net_input(n))[i] = bf16_from_f32(rng_range(43, i, 0.0f, 1.0f));
    optimizer opt = {.desc = optimizer_find("rmsprop"), .hp = optimizer_find("rmsprop")->defaults,
                     .scope = GC_SCOPE_ALL, .kernels = simd_best()};
    opt.hp.lr = 1e-2; /* steps large enough to change most bf16 values */
    cr_assert_eq(optimizer_prepare(&opt, ps), GC_OK);
    cr_assert(!params_bf16_copy_current(ps), "no step yet: the copy is not current");
    pass_ctx p = {.variant = 0, .batch = BATCH, .training = true, .noise_key = rng_key(7, RNG_STREAM_DROPOUT, 0, 0)};
    cr_assert_eq(net_forward(n, &p), GC_OK, "%s", gc_error_message());
    for (int b = 0; b < BATCH; b++) net_output_grad(n)[b] = b % 2 ? 1.0f : -1.0f;
    cr_assert_eq(net_backward(n, &p), GC_OK, "%s", gc_error_message());
    optimizer_step(&opt, ps);
    cr_assert(params_bf16_copy_current(ps));
    size_t checked = 0;
    for (int i = 0; i < ps->n; i++) {
        if (ps->t[i].kind != PARAM_CONV_KERNEL) continue;
        const float *w = param_w(ps, i);
        const bf16 *c = param_w_bf16(ps, i);
        for (size_t k = 0; k < ps->t[i].count; k++, checked++)
            cr_assert_eq(c[k], bf16_from_f32(w[k]), "%s[%zu]: copy %04x, expected %04x", ps->t[i].name, k, c[k],
                         bf16_from_f32(w[k]));
    }
    cr_assert(checked > 0);
    float after_step[BATCH], remade[BATCH];
    logits(n, after_step);
    params_weights_changed(ps);
    logits(n, remade);
    for (int b = 0; b < BATCH; b++)
        cr_assert_eq(after_step[b], remade[b], "logit %d: %g with the optimizer's copy, %g with the layers'", b,
                     (double)after_step[b], (double)remade[b]);
    net_destroy(n);
}

/* The plain layers compute in f32 only: a bf16 network of them is refused by name at planning. */
Test(bf16_net, unfused_layers_are_refused_by_name)
{
    if (precision_check_cpu(PRECISION_BF16) != GC_OK) cr_skip_test("bf16 does not run natively here: %s", gc_error_message());
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 12, 12}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(net_set_precision(n, dnnl_bf16, dnnl_bf16), GC_OK);
    cr_assert_eq(net_add_conv(n, 8, 3, true), GC_OK);
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    int batch = 2;
    gc_error_clear();
    cr_expect_eq(net_plan(n, &batch, 1), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "conv2d (Conv2D) computes in f32 only"), "%s", gc_error_message());
    gc_error_clear();
    net_destroy(n);
}
