/* ReLU as plain kernels: the backward half of every fused conv/dense + ReLU, and the
 * standalone ReLU layer. */
#ifndef GCBENCH_ENGINE_LAYERS_RELU_H
#define GCBENCH_ENGINE_LAYERS_RELU_H

#include <stddef.h>

/* x = max(x, 0). */
void relu_forward_inplace(float *x, size_t n);

/* d = y > 0 ? d : 0, with y the ReLU's output (y > 0 exactly where its input was > 0). */
void relu_backward_inplace(float *d, const float *y, size_t n);

/* dx = y > 0 ? dy : 0. */
void relu_backward(float *dx, const float *dy, const float *y, size_t n);

#endif
