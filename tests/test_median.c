/* median_of (engine/base/median.c), the benchmarks' and the convolution search's summary of
 * timings: odd and even counts, unsorted input, duplicates, one sample; and the input left
 * sorted, which bench_kernels reads its minimum and maximum from.
 * Catches: the upper (or lower) middle value taken for an even count instead of the mean of
 * the two, a median read before sorting, and a comparator that sorts descending. */
#include <criterion/criterion.h>

#include "engine/base/median.h"

Test(median, of_an_odd_count_is_the_middle_value)
{
    double v[] = {9.0, -1.0, 4.0, 7.5, 0.25};
    cr_expect_eq(median_of(v, 5), 4.0);
}

Test(median, of_an_even_count_is_the_mean_of_the_two_middle_values)
{
    double v[] = {8.0, 1.0, 6.0, 2.0};
    cr_expect_eq(median_of(v, 4), 4.0);
    double w[] = {3.0, 1.0};
    cr_expect_eq(median_of(w, 2), 2.0);
}

Test(median, counts_duplicates_as_samples)
{
    double v[] = {5.0, 1.0, 5.0, 5.0, 2.0, 9.0};
    cr_expect_eq(median_of(v, 6), 5.0);
    double w[] = {2.0, 7.0, 2.0, 7.0};
    cr_expect_eq(median_of(w, 4), 4.5);
}

Test(median, of_one_sample_is_that_sample)
{
    double v[] = {-3.5};
    cr_expect_eq(median_of(v, 1), -3.5);
}

Test(median, leaves_the_samples_sorted_ascending)
{
    double v[] = {0.5, 3.0, -2.0, 3.0, 1.0, 10.0, -7.0};
    const double sorted[] = {-7.0, -2.0, 0.5, 1.0, 3.0, 3.0, 10.0};
    cr_expect_eq(median_of(v, 7), 1.0);
    for (int i = 0; i < 7; i++) cr_expect_eq(v[i], sorted[i], "v[%d] = %g", i, v[i]);
}
