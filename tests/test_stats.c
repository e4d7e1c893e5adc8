/* The statistics of seed studies (engine/stats/stats.c) against values computed independently:
 * printed t tables, closed forms of the t distribution and the incomplete beta function,
 * binomial tails and Wilcoxon tail counts worked by hand, and, marked "SciPy", values from
 * scipy.stats 1.10.1 (t.ppf, special.betainc, and wilcoxon with method='approx',
 * correction=True) or from an exact enumeration of all 2^n sign patterns in Python's
 * fractions module. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/stats/stats.h"

/* Relative agreement to tol. */
static void expect_close(double got, double want, double tol, const char *what)
{
    cr_expect(fabs(got - want) <= tol * fabs(want), "%s: %.17g, expected %.17g", what, got, want);
}

/* ---- Student t ------------------------------------------------------------------------- */

Test(stats, t_quantiles_match_the_printed_table)
{
    /* Four-decimal tables: half a unit of the last place is the tolerance. */
    static const struct { double df, t; } table[] = {{1, 12.7062}, {2, 4.3027}, {4, 2.7764}, {9, 2.2622}, {29, 2.0452}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        cr_expect(fabs(stats_t_quantile(0.975, table[i].df) - table[i].t) <= 0.5e-4, "t_{0.975,%g} = %.6f, table %.4f",
                  table[i].df, stats_t_quantile(0.975, table[i].df), table[i].t);
}

Test(stats, t_quantiles_invert_scipys_cdf_to_full_precision)
{
    /* p = scipy.stats.t.cdf(t, df) (through the incomplete beta function, accurate to the last
     * digits; SciPy's own t.ppf is not: at p 0.9, df 3 it is off by 2e-9). */
    static const struct { double df, t, p; } ref[] = {
        {3, 1.6377, 0.8999954556801554},        {7, -14.24, 1.0007012098578765e-06},
        {4, 2.7764, 0.9749988461412992},        {29, 2.0452, 0.9749984464311267},
        {2.5, 3.5747, 0.9750006878226555},      {100, 1.984, 0.9750016131019164},
        {1000, 1.9623, 0.9749977229738315},     {5, 4.0321, 0.9949997876859339},
        {1, 12.7062, 0.9749999907196448},
    };
    for (size_t i = 0; i < sizeof ref / sizeof *ref; i++) {
        char what[64];
        snprintf(what, sizeof what, "t quantile p=%.17g df=%g", ref[i].p, ref[i].df);
        expect_close(stats_t_quantile(ref[i].p, ref[i].df), ref[i].t, 1e-11, what);
    }
}

Test(stats, t_quantiles_match_the_closed_forms_of_one_and_two_degrees_of_freedom)
{
    /* df 1 is the Cauchy distribution: tan(pi (p - 1/2)); df 2: (2p - 1) / sqrt(2 p (1 - p)). */
    const double ps[] = {0.001, 0.05, 0.3, 0.6, 0.9, 0.975, 0.9999};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        double p = ps[i];
        expect_close(stats_t_quantile(p, 1), tan(M_PI * (p - 0.5)), 1e-10, "df 1");
        expect_close(stats_t_quantile(p, 2), (2 * p - 1) / sqrt(2 * p * (1 - p)), 1e-10, "df 2");
    }
    cr_expect_eq(stats_t_quantile(0.5, 7), 0.0);
    cr_expect(isnan(stats_t_quantile(0.0, 7)) && isnan(stats_t_quantile(1.0, 7)) && isnan(stats_t_quantile(0.5, 0)));
}

Test(stats, t_cdf_matches_scipy_and_inverts_the_quantile)
{
    expect_close(stats_t_cdf(1.5, 3.5), 0.8910909064923275, 1e-12, "cdf(1.5; 3.5) SciPy");
    expect_close(stats_t_cdf(-2.0, 10), 0.036694017385370196, 1e-12, "cdf(-2; 10) SciPy");
    for (double p = 0.01; p < 1.0; p += 0.07)
        cr_expect(fabs(stats_t_cdf(stats_t_quantile(p, 6), 6) - p) <= 1e-13, "cdf(quantile(%g))", p);
}

Test(stats, incomplete_beta_matches_closed_forms_and_scipy)
{
    for (double x = 0.05; x < 1.0; x += 0.1) {
        expect_close(stats_beta_inc(1, 1, x), x, 1e-13, "I_x(1,1) = x");
        expect_close(stats_beta_inc(3, 1, x), x * x * x, 1e-13, "I_x(3,1) = x^3");
        expect_close(stats_beta_inc(1, 4, x), 1 - pow(1 - x, 4), 1e-13, "I_x(1,4) = 1-(1-x)^4");
        expect_close(stats_beta_inc(0.5, 0.5, x), 2 / M_PI * asin(sqrt(x)), 1e-13, "I_x(1/2,1/2) arcsine");
    }
    static const struct { double a, b, x, v; } ref[] = {
        {2, 3, 0.4, 0.5247999999999999},          {10, 0.5, 0.9, 0.15164090963470997},
        {50, 60, 0.45, 0.4642352914306064},       {0.5, 14.5, 0.01, 0.4075167169841514},
    };
    for (size_t i = 0; i < sizeof ref / sizeof *ref; i++)
        expect_close(stats_beta_inc(ref[i].a, ref[i].b, ref[i].x), ref[i].v, 1e-12, "I_x(a,b) SciPy");
    cr_expect_eq(stats_beta_inc(2, 3, 0), 0.0);
    cr_expect_eq(stats_beta_inc(2, 3, 1), 1.0);
}

Test(stats, t_interval_of_a_hand_worked_sample)
{
    /* 1..5: mean 3, s^2 = 10/4, s/sqrt(5) = sqrt(1/2); half-width t_{0.975,4} sqrt(1/2). */
    const double x[] = {1, 2, 3, 4, 5};
    stats_interval ci = stats_t_interval(x, 5, 0.95);
    double half = 2.7764451051977987 * sqrt(0.5);
    expect_close(ci.lo, 3 - half, 1e-12, "lower end");
    expect_close(ci.hi, 3 + half, 1e-12, "upper end");
    expect_close(stats_stddev(x, 5), sqrt(2.5), 1e-15, "sample standard deviation (n - 1)");
    stats_interval one = stats_t_interval(x, 1, 0.95);
    cr_expect(isnan(one.lo) && isnan(one.hi), "one value has no interval");
}

/* ---- sign test ------------------------------------------------------------------------- */

Test(stats, sign_test_is_the_exact_two_sided_binomial_tail)
{
    cr_expect_eq(stats_sign_test_p(5, 0), 2.0 / 32);            /* 2 (1/2)^5 */
    cr_expect_eq(stats_sign_test_p(0, 6), 2.0 / 64);
    expect_close(stats_sign_test_p(9, 1), 2.0 * 11 / 1024, 1e-13, "n 10, k 1: 2 (1 + 10) / 2^10");
    /* n 20, k 5: 2 (1 + 20 + 190 + 1140 + 4845 + 15504) / 2^20 */
    expect_close(stats_sign_test_p(5, 15), 2.0 * 21700 / 1048576, 1e-13, "n 20, k 5");
    cr_expect_eq(stats_sign_test_p(2, 2), 1.0, "capped at 1");
    cr_expect_eq(stats_sign_test_p(0, 0), 1.0, "no signs");
}

/* ---- Wilcoxon signed-rank -------------------------------------------------------------- */

static double wilcoxon(const double *x, int n, bool *exact)
{
    double scratch[64];
    cr_assert(n <= 64);
    return stats_wilcoxon_p(x, n, scratch, exact);
}

Test(stats, wilcoxon_exact_p_values_of_the_table)
{
    bool exact;
    const double five[] = {0.1, 0.4, 0.2, 0.5, 0.3}, six[] = {6, 1, 5, 2, 4, 3};
    cr_expect_eq(wilcoxon(five, 5, &exact), 0.0625, "N 5, all positive: 2/32");
    cr_expect(exact);
    cr_expect_eq(wilcoxon(six, 6, &exact), 0.03125, "N 6, all positive: 2/64");
    /* N 10: 25 subsets of 1..10 sum to at most 8 and 33 to at most 9 (the table's critical
     * values of T at two-sided 0.05: P(T <= 8) = 0.0244, P(T <= 9) = 0.0322). */
    const double t8[] = {-1, 2, -3, -4, 5, 6, 7, 8, 9, 10}, t9[] = {1, -2, -3, -4, 5, 6, 7, 8, 9, 10};
    expect_close(wilcoxon(t8, 10, &exact), 2.0 * 25 / 1024, 1e-14, "N 10, T = 8");
    expect_close(wilcoxon(t9, 10, &exact), 2.0 * 33 / 1024, 1e-14, "N 10, T = 9");
    const double negated[] = {1, 2, 3, 4, -5, -6, -7, -8, -9, -10}; /* T+ = 10: lower tail of 1..10 is symmetric */
    const double mirror[] = {-1, -2, -3, -4, 5, 6, 7, 8, 9, 10};
    cr_expect_eq(wilcoxon(negated, 10, &exact), wilcoxon(mirror, 10, &exact), "two-sided: symmetric in the sign");
}

Test(stats, wilcoxon_exact_with_ties_and_zeros_matches_an_enumeration)
{
    bool exact;
    /* SciPy method='exact' agrees on this one (no ties, no zeros): 107/2048. */
    const double a[] = {0.3, -0.1, 0.7, 1.1, -0.4, 0.9, 1.6, 0.2, -1.3, 2.0, 0.5, 1.4};
    expect_close(wilcoxon(a, 12, &exact), 107.0 / 2048, 1e-14, "12 distinct magnitudes");
    /* One zero, dropped: 11 values, W+ = 51 of the 2^11 patterns: 63/512. */
    const double b[] = {0.5, -1.25, 2, 3.5, -0.75, 4, 1.5, 2.25, 0, -3, 5, 0.25};
    expect_close(wilcoxon(b, 12, &exact), 63.0 / 512, 1e-14, "a zero dropped");
    /* Ties share their average rank (1.5, 4, 7, 9.5), two zeros dropped: 125/1024. */
    const double c[] = {1, -1, 2, 2, -2, 3, 3, 3, 4, -4, 5, 0, 0};
    expect_close(wilcoxon(c, 13, &exact), 125.0 / 1024, 1e-14, "tied magnitudes");
    cr_expect(exact);
    const double zeros[] = {0, 0, 0};
    cr_expect_eq(wilcoxon(zeros, 3, &exact), 1.0, "nothing left to rank");
}

Test(stats, wilcoxon_normal_approximation_above_25_matches_scipy)
{
    double x[30], y[30];
    for (int i = 0; i < 30; i++) x[i] = (i + 1) * (i == 2 || i == 7 || i == 11 || i == 20 ? -1.0 : 1.0);
    bool exact;
    expect_close(wilcoxon(x, 30, &exact), 0.00011025118761625638, 1e-9, "N 30, SciPy approx + continuity");
    cr_expect(!exact);
    const double tied[] = {1, 1, 2, 2, 2, 3, -1, 4, 4, 5, -5, 6, 7, 7, 7, 8, 9, -9, 10, 10,
                           11, 12, 13, 14, -14, 15, 16, 17, 18, 19};
    memcpy(y, tied, sizeof y);
    expect_close(wilcoxon(y, 30, &exact), 0.00025967693131168025, 1e-9, "N 30 with ties, SciPy (tie-corrected variance)");
    /* 25 nonzero values are still exact; a 26th switches to the approximation. */
    for (int i = 0; i < 26; i++) x[i] = i + 1;
    wilcoxon(x, 25, &exact);
    cr_expect(exact);
    wilcoxon(x, 26, &exact);
    cr_expect(!exact);
}

/* ---- bootstrap ------------------------------------------------------------------------- */

Test(stats, bootstrap_interval_of_0_1_2_3_is_the_exact_resampling_quantile)
{
    /* The 4^4 = 256 resamples' sums S: P(S <= 1) = 5/256 = 1.95% and P(S <= 2) = 15/256 = 5.9%,
     * so the 2.5% quantile of the mean is 2/4, and 10/4 by symmetry. With 10000 resamples, the
     * 251st smallest mean is 0.5 unless the count of S <= 1 (195 +- 14 expected) passes 250
     * or that of S <= 2 (586 +- 23) falls below 251: both more than 10 sigma away. */
    const double x[] = {0, 1, 2, 3};
    static double scratch[10000];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        stats_interval ci = stats_bootstrap_interval(x, 4, 0.95, 10000, seed, scratch);
        cr_expect_eq(ci.lo, 0.5, "seed %llu: %g", (unsigned long long)seed, ci.lo);
        cr_expect_eq(ci.hi, 2.5, "seed %llu: %g", (unsigned long long)seed, ci.hi);
        /* At 80%: the 10% quantile, where P(S <= 2) = 5.9% and P(S <= 3) = 35/256 = 13.7%
         * (counts 586 +- 23 and 1367 +- 34 against 1001): S = 3, 10 sigma either way. */
        ci = stats_bootstrap_interval(x, 4, 0.80, 10000, seed, scratch);
        cr_expect(ci.lo == 0.75 && ci.hi == 2.25, "seed %llu at 80%%: [%g, %g]", (unsigned long long)seed, ci.lo, ci.hi);
    }
}

Test(stats, bootstrap_is_deterministic_for_a_seed_and_moves_with_it)
{
    const double x[] = {0.13, -0.52, 0.91, 0.07, 0.44, -0.2, 0.66, 0.018, -0.071, 0.35, 0.29, -0.6};
    static double scratch[10000];
    stats_interval a = stats_bootstrap_interval(x, 12, 0.95, 10000, 42, scratch);
    stats_interval b = stats_bootstrap_interval(x, 12, 0.95, 10000, 42, scratch);
    stats_interval c = stats_bootstrap_interval(x, 12, 0.95, 10000, 43, scratch);
    cr_expect(memcmp(&a, &b, sizeof a) == 0, "the same seed gives the same interval, bit for bit");
    cr_expect(a.lo != c.lo || a.hi != c.hi, "another seed resamples differently");
    double m = stats_mean(x, 12);
    cr_expect(a.lo < m && m < a.hi && a.lo >= -0.6 && a.hi <= 0.91, "[%g, %g] around %g", a.lo, a.hi, m);
    stats_interval one = stats_bootstrap_interval(x, 1, 0.95, 100, 42, scratch);
    cr_expect(one.lo == x[0] && one.hi == x[0], "one value: every resample is that value");
}

/* ---- the summary ----------------------------------------------------------------------- */

static stats_paired summary(const double *d, int n)
{
    static double scratch[10000 + 64];
    stats_paired s;
    stats_paired_summary(d, n, 0.95, 10000, 1, scratch, &s);
    return s;
}

Test(stats, verdict_follows_the_t_interval_and_counts_signs)
{
    /* mean 0.026, s^2 = 0.00212 / 4: half-width 2.7764 * 0.010296 = 0.0286: 0 is inside. */
    const double unsure[] = {0.02, 0.05, -0.01, 0.04, 0.03};
    stats_paired s = summary(unsure, 5);
    expect_close(s.mean, 0.026, 1e-12, "mean");
    expect_close(s.t.hi - s.mean, 2.7764451051977987 * sqrt(0.00212 / 4 / 5), 1e-9, "half-width");
    cr_expect_eq(s.verdict, STATS_NO_DIFFERENCE);
    cr_expect_str_eq(stats_verdict_text(s.verdict), "no difference detected at this N");
    cr_expect(s.positive == 4 && s.zero == 0 && s.negative == 1);
    cr_expect_eq(s.sign_p, 2.0 * 6 / 32, "4 of 5: 2 (1 + 5) / 32");

    /* +0.01 each: mean 0.036, lower end 0.0074 > 0; the zero is a tie, dropped by both tests. */
    const double higher[] = {0.03, 0.06, 0.0, 0.05, 0.04};
    s = summary(higher, 5);
    cr_expect_eq(s.verdict, STATS_HIGHER);
    cr_expect_str_eq(stats_verdict_text(s.verdict), "GC higher");
    cr_expect(s.positive == 4 && s.zero == 1 && s.negative == 0);
    cr_expect_eq(s.sign_p, 2.0 / 16, "4 signs, the tie dropped");
    cr_expect_eq(s.wilcoxon_p, 2.0 / 16, "4 ranks, the zero dropped");

    const double lower[] = {-0.03, -0.06, 0.0, -0.05, -0.04};
    s = summary(lower, 5);
    cr_expect_eq(s.verdict, STATS_LOWER);
    cr_expect_str_eq(stats_verdict_text(s.verdict), "GC lower");
}

Test(stats, non_finite_differences_are_left_out_and_one_pair_decides_nothing)
{
    const double d[] = {0.03, NAN, 0.06, 0.0, INFINITY, 0.05, 0.04};
    stats_paired s = summary(d, 7);
    cr_expect_eq(s.n, 5);
    cr_expect_eq(s.verdict, STATS_HIGHER);
    const double one[] = {0.5};
    s = summary(one, 1);
    cr_expect(s.n == 1 && isnan(s.t.lo) && s.verdict == STATS_NO_DIFFERENCE, "no interval from one pair");
    cr_expect_eq(s.bootstrap.lo, 0.5);
}
