/* ReLU: forward max(x, 0) in place; backward passes the gradient where the output is positive. */
#include "engine/net/layers/relu.h"

#include "engine/base/error.h"
#include "engine/net/net.h"

void relu_forward_inplace(float *x, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward_inplace(float *d, const float *y, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) d[i] = y[i] > 0.0f ? d[i] : 0.0f;
}

void relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

static int relu_plan(net *n, layer *l, int v) { return GC_OK; }

static int relu_forward(net *n, layer *l, const pass_ctx *p)
{
    relu_forward_inplace(l->out_buf, layer_out_elems(n, l, p->batch));
    return GC_OK;
}

static int relu_backward_layer(net *n, layer *l, const pass_ctx *p)
{
    if (l->d_in) relu_backward(l->d_in, l->d_out, l->out_buf, layer_out_elems(n, l, p->batch));
    return GC_OK;
}

const layer_ops relu_layer_ops = {
    .type = "ReLU",
    .in_place = true,
    .own_kernels = true,
    .plan = relu_plan,
    .forward = relu_forward,
    .backward = relu_backward_layer,
};
