/* Statistics of paired differences, for seed studies (gcbench --seeds): one difference per
 * seed, GC minus baseline, and what can be said about their mean.
 *
 * Plain C and libm only: no oneDNN, no network, no allocation (callers pass scratch space).
 *   - Student t: the regularized incomplete beta function (continued fraction), the t
 *     distribution's CDF from it, its quantile by bisection; the mean's confidence interval.
 *   - A percentile bootstrap interval of the mean, resampled with the counter-based generator
 *     of engine/base/rng.h: the same data and seed give the same interval, bit for bit.
 *   - The exact two-sided sign test (binomial tails; zero differences dropped).
 *   - The Wilcoxon signed-rank test, two-sided (zero differences dropped; tied magnitudes get
 *     their average rank): exact permutation distribution up to STATS_WILCOXON_EXACT_MAX
 *     nonzero differences, by counting subsets of ranks; above, the normal approximation with
 *     the tie correction of the variance and a continuity correction.
 *   - A verdict read from the t interval alone. */
#ifndef GCBENCH_ENGINE_STATS_H
#define GCBENCH_ENGINE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#define STATS_WILCOXON_EXACT_MAX 25

/* A two-sided interval; both ends NaN when it is not defined (too few values). */
typedef struct {
    double lo, hi;
} stats_interval;

/* Arithmetic mean of n values (NaN when n < 1). */
double stats_mean(const double *x, int n);

/* Sample standard deviation, divisor n - 1 (NaN when n < 2). */
double stats_stddev(const double *x, int n);

/* The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]. */
double stats_beta_inc(double a, double b, double x);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double stats_t_cdf(double t, double df);

/* The t with P(T <= t) = p, p in (0, 1); NaN outside. */
double stats_t_quantile(double p, double df);

/* The confidence interval of the mean at `level` (0.95): mean +- t_{(1+level)/2, n-1} s/sqrt(n). */
stats_interval stats_t_interval(const double *x, int n, double level);

/* The percentile bootstrap interval of the mean: `resamples` resamples of n values drawn with
 * replacement (value j of resample b is x[rng_below(key(seed), b*n + j, n)]), their means
 * sorted, and the means at ranks floor(resamples*(1-level)/2) from either end. scratch holds
 * `resamples` doubles. */
stats_interval stats_bootstrap_interval(const double *x, int n, double level, int resamples, uint64_t seed,
                                        double *scratch);

/* The exact two-sided sign test of `positive` against `negative` signs (ties already
 * dropped): min(1, 2 P(X <= min(positive, negative))), X ~ Binomial(positive + negative, 1/2).
 * 1 when there are no signs. */
double stats_sign_test_p(int positive, int negative);

/* The Wilcoxon signed-rank test's two-sided p-value for x (zeros dropped); *exact says whether
 * the exact distribution was used. 1 when no value is nonzero. scratch holds n doubles. */
double stats_wilcoxon_p(const double *x, int n, double *scratch, bool *exact);

typedef enum {
    STATS_NO_DIFFERENCE, /* the t interval holds 0, or there is none */
    STATS_HIGHER,        /* it lies above 0 */
    STATS_LOWER,         /* below */
} stats_verdict;

/* "GC higher", "no difference detected at this N", "GC lower". */
const char *stats_verdict_text(stats_verdict v);

/* Everything a study reports about one metric's paired differences. */
typedef struct {
    int n;                       /* finite differences used (non-finite ones are skipped) */
    double mean, sd;
    stats_interval t, bootstrap; /* at `level` */
    double sign_p, wilcoxon_p;
    bool wilcoxon_exact;
    int positive, zero, negative;
    stats_verdict verdict;       /* from the t interval */
} stats_paired;

/* The summary of n differences d. scratch holds resamples + 2n doubles. */
void stats_paired_summary(const double *d, int n, double level, int resamples, uint64_t seed, double *scratch,
                          stats_paired *out);

#endif
