/* Chunk plans: two plans give the same network the same results up to the order of float
 * additions (bad --plan files: test_plan_cli in tests/CMakeLists.txt).
 *
 * Per image, the forward pass does not depend on the chunking (each image's convolution is
 * computed alone), so outputs must be identical. A weight gradient is a sum over the batch's
 * images; a plan only regroups the per-image partial sums (into chunks, and oneDNN's threads
 * within a chunk). Regrouping B float partial sums p_b changes the total by at most
 * (B - 1) * u * sum_b |p_b| (u = 2^-24, first order), and sum_b |p_b| <= B * max_b |p_b|; the
 * test measures max_b |p_b| per entry from single-image passes. */
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
    gradcheck_backward(&a);
    gradcheck_backward(&b);
    for (size_t i = 0; i < a.out_elems; i++)
        cr_assert_eq(net_output(a.n)[i], net_output(b.n)[i], "output %zu", i);
    const param_store *pa = &a.n->params, *pb = &b.n->params;
    float *ga = malloc(pa->total * sizeof *ga), *gb = malloc(pa->total * sizeof *gb), *most = calloc(pa->total, sizeof *most);
    cr_assert(ga && gb && most);
    memcpy(ga, pa->g, pa->total * sizeof *ga);
    memcpy(gb, pb->g, pa->total * sizeof *gb);
    /* max_b |p_b|: each image alone (its own weights r and masks, by its place in the batch) */
    size_t per_image = a.in_elems / BATCH;
    for (int img = 0; img < BATCH; img++) {
        float *x = malloc(a.in_elems * sizeof *x), *r = malloc(a.out_elems * sizeof *r);
        memcpy(x, a.x, a.in_elems * sizeof *x);
        memcpy(r, a.r, a.out_elems * sizeof *r);
        for (int o = 0; o < BATCH; o++)
            if (o != img) {
                memset(a.x + (size_t)o * per_image, 0, per_image * sizeof *x);
                a.r[o] = 0.0f; /* one output per image: this image's loss alone */
            }
        gradcheck_backward(&a);
        for (size_t i = 0; i < pa->total; i++) most[i] = fmaxf(most[i], fabsf(pa->g[i]));
        memcpy(a.x, x, a.in_elems * sizeof *x);
        memcpy(a.r, r, a.out_elems * sizeof *r);
        free(x);
        free(r);
    }
    const double u = ldexp(1.0, -24);
    size_t exact = 0;
    for (size_t i = 0; i < pa->total; i++) {
        double tol = (BATCH - 1) * u * BATCH * most[i];
        cr_assert(fabs((double)ga[i] - (double)gb[i]) <= tol, "gradient %zu: %.9g vs %.9g (tolerance %.3g)", i,
                  (double)ga[i], (double)gb[i], tol);
        exact += ga[i] == gb[i];
    }
    cr_log_info("%zu of %zu gradient entries bit-identical", exact, pa->total);
    free(ga);
    free(gb);
    free(most);
    gradcheck_free(&a);
    gradcheck_free(&b);
}
