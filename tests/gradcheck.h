/* Finite-difference gradient checks for networks built with plain (NCHW) layouts.
 *
 * The scalar checked is L = sum_i r_i * y_i over the network's output y with fixed random
 * weights r, so d L / d y = r is what backward starts from. Each check compares the analytic
 * gradient with the central difference (L(x + e) - L(x - e)) / 2e. */
#ifndef GCBENCH_TESTS_GRADCHECK_H
#define GCBENCH_TESTS_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/net/net.h"

typedef struct {
    net *n;
    int batch;
    float *x;      /* the input batch (NCHW), copied into the network before every pass */
    float *r;      /* output weights */
    size_t in_elems, out_elems;
    uint64_t noise_key; /* the same dropout masks in every pass */
} gradcheck;

/* Plans n for `batch` with the input gradient on, initialises its parameters from seed and
 * draws x uniform in [-1, 1) and r uniform in [-1, 1). */
void gradcheck_init(gradcheck *g, net *n, int batch, uint64_t seed);
void gradcheck_free(gradcheck *g);

/* L at the current input and parameters. */
double gradcheck_loss(gradcheck *g);

/* Runs forward + backward so the store's gradients and net_input_grad hold dL/d(.). */
void gradcheck_backward(gradcheck *g);

/* Largest violation of |a - fd| <= atol + rtol * |fd| over the elements of `values`
 * (g->x for the input, or a parameter tensor's weights), perturbed by +-eps; <= 1 means every element passed.
 * analytic holds the gradient computed by gradcheck_backward (copied before the call). */
double gradcheck_compare(gradcheck *g, float *values, const float *analytic, size_t count, float eps,
                         double atol, double rtol);

/* The same bound for functions with kinks (ReLU, max-pooling): each element must match its
 * central difference or, when a kink lies within +-eps, the one-sided difference on the side
 * without it. The loss here is piecewise linear in each single value, so on a side without a
 * kink the difference is exact up to rounding. */
double gradcheck_compare_kinked(gradcheck *g, float *values, const float *analytic, size_t count, float eps,
                                double atol, double rtol);

#endif
