#include "engine/net/loss.h"

#include <math.h>

loss_result bce_with_logits(const float *logits, const uint8_t *labels, size_t n, size_t mean_over, float *dlogits)
{
    loss_result r = {0.0, 0};
    for (size_t i = 0; i < n; i++) {
        double z = logits[i], y = labels[i];
        r.loss_sum += fmax(z, 0.0) - z * y + log1p(exp(-fabs(z)));
        r.correct += (z > 0.0) == (labels[i] != 0);
        if (dlogits) {
            /* sigmoid without overflow for either sign of z */
            double s = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
            dlogits[i] = (float)((s - y) / (double)mean_over);
        }
    }
    return r;
}

const loss_desc loss_binary_crossentropy = {
    .name = "binary_crossentropy", .classes = 2, .logits = 1, .eval = bce_with_logits};
