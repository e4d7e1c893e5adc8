/* Sigmoid + binary cross-entropy from the logit: values against closed forms, the gradient's
 * divisor, and accuracy at the threshold. */
#include <math.h>

#include <criterion/criterion.h>

#include "engine/net/loss.h"

/* The loss of one image in double: -log(sigmoid(z)) for y = 1, -log(1 - sigmoid(z)) for
 * y = 0, written with log1p so it is exact where the closed forms are simple. */
static double expected_loss(double z, int y)
{
    double margin = y ? z : -z; /* the loss is softplus(-margin) */
    return margin > 0 ? log1p(exp(-margin)) : -margin + log1p(exp(margin));
}

Test(loss, values_match_the_closed_forms)
{
    /* z = 0: log 2 either way. z = +-40: one label costs ~|z|, the other exp(-40) ~ 4e-18; a
     * naive log(sigmoid) gives inf or 0 there. z = 100 overflows exp(z) in float. */
    const float z[] = {0.0f, 0.0f, 40.0f, 40.0f, -40.0f, -40.0f, 100.0f, -100.0f, 2.5f, -0.75f};
    const uint8_t y[] = {0, 1, 1, 0, 0, 1, 0, 1, 1, 0};
    size_t n = sizeof z / sizeof *z;
    for (size_t i = 0; i < n; i++) {
        loss_result r = bce_with_logits(&z[i], &y[i], 1, 1, NULL);
        double expect = expected_loss(z[i], y[i]);
        /* the engine's double arithmetic: a few ulps of the result */
        cr_expect(fabs(r.loss_sum - expect) <= 4e-16 * fmax(expect, 1e-300) + 1e-300, "z %g y %d: %.17g, expected %.17g",
                  (double)z[i], y[i], r.loss_sum, expect);
    }
    cr_expect(fabs(bce_with_logits(&z[0], &y[0], 1, 1, NULL).loss_sum - log(2.0)) <= 2e-16);
    /* a right answer far from the threshold costs almost nothing, a wrong one its margin */
    cr_expect_leq(bce_with_logits(&z[2], &y[2], 1, 1, NULL).loss_sum, 1e-17);
    cr_expect(fabs(bce_with_logits(&z[3], &y[3], 1, 1, NULL).loss_sum - 40.0) <= 1e-15);
    /* the batch's loss is the sum of its images' */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += expected_loss(z[i], y[i]);
    cr_expect(fabs(bce_with_logits(z, y, n, n, NULL).loss_sum - sum) <= 1e-14 * sum);
}

Test(loss, gradient_is_sigmoid_minus_label_over_the_whole_batch)
{
    /* Three images held by this rank out of a batch of 7 (data parallelism): the mean is over
     * all 7, so each gradient is (sigmoid(z) - y) / 7, not / 3. */
    const float z[] = {0.0f, 3.0f, -60.0f};
    const uint8_t y[] = {1, 0, 1};
    float d[3];
    bce_with_logits(z, y, 3, 7, d);
    for (int i = 0; i < 3; i++) {
        double s = 1.0 / (1.0 + exp(-(double)z[i]));
        double expect = (s - y[i]) / 7.0;
        /* rounded to float once */
        cr_expect(fabs(d[i] - expect) <= 0x1p-24 * fabs(expect), "image %d: %g, expected %g", i, (double)d[i], expect);
    }
    cr_expect_eq(d[0], (float)(-0.5 / 7.0));
    /* a confident wrong answer: the gradient is the whole -1/7, not 0 or NaN */
    cr_expect_eq(d[2], (float)(-1.0 / 7.0));
    /* the whole batch on one rank divides by its own size */
    bce_with_logits(z, y, 3, 3, d);
    cr_expect_eq(d[0], (float)(-0.5 / 3.0));
}

Test(loss, accuracy_thresholds_at_one_half)
{
    /* sigmoid(z) > 0.5 exactly when z > 0: z = 0 predicts class 0. */
    const float z[] = {0.0f, 0.0f, 1e-30f, -1e-30f, 5.0f, -5.0f};
    const uint8_t y[] = {0, 1, 1, 0, 0, 1};
    const size_t correct[] = {1, 0, 1, 1, 0, 0};
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(bce_with_logits(&z[i], &y[i], 1, 1, NULL).correct, correct[i], "z %g y %d", (double)z[i], y[i]);
        total += correct[i];
    }
    cr_expect_eq(bce_with_logits(z, y, 6, 6, NULL).correct, total);
}
