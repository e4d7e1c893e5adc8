#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/base/error.h"
#include "engine/base/rng.h"

void gradcheck_init(gradcheck *g, net *n, int batch, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->batch = batch;
    net_want_input_grad(n);
    int rc = net_plan(n, &batch, 1);
    cr_assert_eq(rc, GC_OK, "net_plan: %s", gc_error_message());
    params_init(&n->params, seed);
    /* Biases start at zero; give them values so their effect is visible. */
    for (int t = 0; t < n->params.n; t++)
        if (n->params.t[t].kind == PARAM_BIAS)
            for (size_t k = 0; k < n->params.t[t].count; k++)
                param_w(&n->params, t)[k] = rng_range(rng_key(seed, 99, (uint64_t)t, 0), k, -0.5f, 0.5f);

    g->in_elems = (size_t)batch * (size_t)act_shape_elems(n->input);
    g->out_elems = (size_t)batch * (size_t)act_shape_elems(net_output_shape(n));
    g->x = malloc(g->in_elems * sizeof *g->x);
    g->r = malloc(g->out_elems * sizeof *g->r);
    cr_assert(g->x && g->r);
    uint64_t kx = rng_key(seed, 100, 0, 0), kr = rng_key(seed, 101, 0, 0);
    for (size_t i = 0; i < g->in_elems; i++) g->x[i] = rng_range(kx, i, -1.0f, 1.0f);
    for (size_t i = 0; i < g->out_elems; i++) g->r[i] = rng_range(kr, i, -1.0f, 1.0f);
    g->noise_key = rng_key(seed, 102, 0, 0);
}

void gradcheck_free(gradcheck *g)
{
    free(g->x);
    free(g->r);
    net_destroy(g->n);
}

static pass_ctx gradcheck_pass(const gradcheck *g)
{
    return (pass_ctx){.variant = 0, .batch = g->batch, .training = true, .noise_key = g->noise_key};
}

double gradcheck_loss(gradcheck *g)
{
    memcpy(net_input(g->n), g->x, g->in_elems * sizeof *g->x);
    pass_ctx p = gradcheck_pass(g);
    int rc = net_forward(g->n, &p);
    cr_assert_eq(rc, GC_OK, "forward: %s", gc_error_message());
    const float *y = net_output(g->n);
    double l = 0.0;
    for (size_t i = 0; i < g->out_elems; i++) l += (double)g->r[i] * (double)y[i];
    return l;
}

void gradcheck_backward(gradcheck *g)
{
    gradcheck_loss(g);
    memcpy(net_output_grad(g->n), g->r, g->out_elems * sizeof *g->r);
    pass_ctx p = gradcheck_pass(g);
    int rc = net_backward(g->n, &p);
    cr_assert_eq(rc, GC_OK, "backward: %s", gc_error_message());
}

static double central_difference(gradcheck *g, float *v, float eps)
{
    float saved = *v;
    *v = saved + eps;
    double up = gradcheck_loss(g);
    *v = saved - eps;
    double down = gradcheck_loss(g);
    *v = saved;
    return (up - down) / (2.0 * (double)eps);
}

double gradcheck_compare(gradcheck *g, float *values, const float *analytic, size_t count, float eps,
                         double atol, double rtol)
{
    float *v = values;
    double worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        double fd = central_difference(g, &v[i], eps);
        double ratio = fabs((double)analytic[i] - fd) / (atol + rtol * fabs(fd));
        if (ratio > worst) worst = ratio;
        if (ratio > 1.0)
            cr_log_error("element %zu: analytic %.7g, finite difference %.7g", i, (double)analytic[i], fd);
    }
    return worst;
}

double gradcheck_compare_kinked(gradcheck *g, float *values, const float *analytic, size_t count, float eps,
                                double atol, double rtol)
{
    float *v = values;
    double mid = gradcheck_loss(g), worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        float saved = v[i];
        v[i] = saved + eps;
        double up = gradcheck_loss(g);
        v[i] = saved - eps;
        double down = gradcheck_loss(g);
        v[i] = saved;
        /* central, forward, backward: with no kink in [x - eps, x + eps] all agree; with one,
         * the difference on the kink-free side is exact */
        double fd[3] = {(up - down) / (2.0 * (double)eps), (up - mid) / (double)eps, (mid - down) / (double)eps};
        double best = INFINITY;
        for (int k = 0; k < 3; k++) best = fmin(best, fabs((double)analytic[i] - fd[k]) / (atol + rtol * fabs(fd[k])));
        if (best > worst) worst = best;
        if (best > 1.0)
            cr_log_error("element %zu: analytic %.7g, finite differences %.7g (central) %.7g (forward) %.7g (backward)", i,
                         (double)analytic[i], fd[0], fd[1], fd[2]);
    }
    return worst;
}
