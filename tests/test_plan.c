/* Chunk plans: two plans give the same network the same results up to the order of float
 * additions (bad --plan files: test_plan_cli in tests/CMakeLists.txt).
 *
 * Per image, the forward pass does not depend on the chunking (each image's convolution is
 * computed alone), so outputs must be identical. A weight gradient entry is a sum of M products
 * x * dy over the batch's images and the layer's output positions; a plan changes how oneDNN
 * groups them (into chunks, and, depending on the chunk's size, how its threads split the
 * images and positions), not the products themselves. Any order of M additions is within
 * (M - 1) u sum |t| of the exact sum (u = 2^-24, first order), and the products add u |t| each.
 * The test makes every term nonnegative (input, weights and output weights taken in absolute
 * value: ReLU, max-pooling and dropout keep signs), so sum |t| is the gradient itself and the
 * two plans must agree within 2 M u |g|: no cancellation can hide or inflate an error.
 * Catches: a chunk's gradient stored over the others instead of added to them, a chunk offset
 * off by an image, a plan that changes what is computed rather than its order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/net/layers/chunk_plan.h"
#include "gradcheck.h"

#define BATCH 5

static net *model(void)
{
    net *n;
    cr_assert_eq(net_create(&n, (act_shape){3, 3, 14, 14}, dnnl_format_tag_any), GC_OK);
    cr_assert_eq(net_add_conv_pool(n, 16, 3, 0.0f), GC_OK); /* 12x12 -> 6x6 */
    cr_assert_eq(net_add_conv_pool(n, 32, 3, 0.5f), GC_OK); /* 4x4 -> 2x2 */
    cr_assert_eq(net_add_flatten(n), GC_OK);
    cr_assert_eq(net_add_dense(n, 1, false), GC_OK);
    return n;
}

/* The products summed into each entry of a tensor of model()'s: images x output positions. */
static size_t terms(const char *tensor)
{
    if (!strncmp(tensor, "conv2d/", 7)) return (size_t)BATCH * 12 * 12;
    if (!strncmp(tensor, "conv2d_1/", 9)) return (size_t)BATCH * 4 * 4;
    return BATCH; /* dense: one output per image */
}

/* Every term of every gradient sum nonnegative (see the top). */
static void nonnegative(gradcheck *g)
{
    param_store *ps = &g->n->params;
    for (size_t i = 0; i < ps->total; i++) ps->w[i] = fabsf(ps->w[i]);
    params_weights_changed(ps);
    for (size_t i = 0; i < g->in_elems; i++) g->x[i] = fabsf(g->x[i]);
    for (size_t i = 0; i < g->out_elems; i++) g->r[i] = fabsf(g->r[i]);
}

static net *planned(int f0, int b0, int f1, int b1)
{
    net *n = model();
    chunk_plan p = {.nlayers = 2};
    snprintf(p.layers[0].layer, LAYER_NAME_MAX, "conv2d");
    snprintf(p.layers[1].layer, LAYER_NAME_MAX, "conv2d_1");
    p.layers[0].forward_chunk = f0, p.layers[0].backward_chunk = b0;
    p.layers[1].forward_chunk = f1, p.layers[1].backward_chunk = b1;
    cr_assert_eq(net_set_chunk_plan(n, &p), GC_OK);
    return n;
}

Test(chunk_plan, plans_agree_to_float_summation_order)
{
    gradcheck a, b;
    gradcheck_init(&a, planned(1, 5, 2, 3), BATCH, 21); /* whole-batch backward vs partial chunks */
    gradcheck_init(&b, planned(4, 2, 5, 1), BATCH, 21);
    nonnegative(&a);
    nonnegative(&b);
    gradcheck_backward(&a);
    gradcheck_backward(&b);
    for (size_t i = 0; i < a.out_elems; i++)
        cr_assert_eq(net_output(a.n)[i], net_output(b.n)[i], "output %zu", i);
    const param_store *pa = &a.n->params, *pb = &b.n->params;
    const double u = ldexp(1.0, -24);
    size_t exact = 0, checked = 0;
    for (int t = 0; t < pa->n; t++) {
        const param_tensor *pt = &pa->t[t];
        const double m = (double)terms(pt->name);
        for (size_t i = pt->offset; i < pt->offset + pt->count; i++) {
            const double ga = pa->g[i], gb = pb->g[i];
            cr_assert(ga >= 0.0 && gb >= 0.0, "%s[%zu]: %.9g, %.9g: a term was negative", pt->name, i - pt->offset,
                      ga, gb);
            const double tol = 2.0 * m * u * fmax(ga, gb);
            cr_assert(fabs(ga - gb) <= tol, "%s[%zu]: %.9g vs %.9g (tolerance %.3g)", pt->name, i - pt->offset, ga,
                      gb, tol);
            exact += ga == gb;
            checked++;
        }
    }
    cr_assert_gt(checked, 0);
    cr_log_info("%zu of %zu gradient entries bit-identical", exact, checked);
    gradcheck_free(&a);
    gradcheck_free(&b);
}
