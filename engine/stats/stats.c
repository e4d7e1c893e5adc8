#include "engine/stats/stats.h"

#include <math.h>
#include <stdlib.h>

#include "engine/base/rng.h"

double stats_mean(const double *x, int n)
{
    if (n < 1) return NAN;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += x[i];
    return sum / n;
}

double stats_stddev(const double *x, int n)
{
    if (n < 2) return NAN;
    double m = stats_mean(x, n), ss = 0.0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m); /* two passes: no cancellation */
    return sqrt(ss / (n - 1));
}

/* ---- Student t ------------------------------------------------------------------------- */

/* The continued fraction of I_x(a, b) (its even and odd steps), evaluated by the modified
 * Lentz method; it converges fast for x < (a + 1) / (a + b + 2). */
static double beta_continued_fraction(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double num = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)); /* even step */
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)); /* odd step */
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double step = d * c;
        h *= step;
        if (fabs(step - 1.0) < eps) break;
    }
    return h;
}

double stats_beta_inc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || isnan(x)) return NAN;
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    /* x^a (1-x)^b / B(a, b), in logs */
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
    return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b; /* I_x(a,b) = 1 - I_{1-x}(b,a) */
}

/* P(T > t) for t >= 0: I_{df/(df+t^2)}(df/2, 1/2) / 2. Kept as the tail, so quantiles near 1
 * do not lose digits to 1 - cdf. */
static double t_upper_tail(double t, double df)
{
    return 0.5 * stats_beta_inc(df / 2.0, 0.5, df / (df + t * t));
}

double stats_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0.0)) return NAN;
    if (isinf(t)) return t > 0 ? 1.0 : 0.0;
    double tail = t_upper_tail(fabs(t), df);
    return t >= 0 ? 1.0 - tail : tail;
}

double stats_t_quantile(double p, double df)
{
    if (!(p > 0.0 && p < 1.0) || !(df > 0.0)) return NAN;
    if (p == 0.5) return 0.0;
    double tail = p > 0.5 ? 1.0 - p : p; /* find t >= 0 with P(T > t) = tail */
    double lo = 0.0, hi = 1.0;
    while (t_upper_tail(hi, df) > tail && hi < 1e300) lo = hi, hi *= 2.0;
    /* The tail falls monotonically: bisect until the bracket stops shrinking. */
    for (int i = 0; i < 2000; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        if (t_upper_tail(mid, df) > tail) lo = mid;
        else hi = mid;
    }
    double t = 0.5 * (lo + hi);
    return p > 0.5 ? t : -t;
}

stats_interval stats_t_interval(const double *x, int n, double level)
{
    if (n < 2) return (stats_interval){NAN, NAN};
    double m = stats_mean(x, n), half = stats_t_quantile(0.5 + level / 2.0, n - 1) * stats_stddev(x, n) / sqrt(n);
    return (stats_interval){m - half, m + half};
}

/* ---- bootstrap ------------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

stats_interval stats_bootstrap_interval(const double *x, int n, double level, int resamples, uint64_t seed,
                                        double *scratch)
{
    if (n < 1 || resamples < 1) return (stats_interval){NAN, NAN};
    uint64_t key = rng_key(seed, RNG_STREAM_BOOTSTRAP, (uint64_t)n, 0);
    for (int b = 0; b < resamples; b++) {
        double sum = 0.0;
        for (int j = 0; j < n; j++) sum += x[rng_below(key, (uint64_t)b * (uint64_t)n + (uint64_t)j, (uint64_t)n)];
        scratch[b] = sum / n;
    }
    qsort(scratch, (size_t)resamples, sizeof *scratch, compare_doubles);
    int k = (int)floor(resamples * (1.0 - level) / 2.0 + 1e-9); /* 250 of 10000 at 95% */
    if (k > (resamples - 1) / 2) k = (resamples - 1) / 2;
    return (stats_interval){scratch[k], scratch[resamples - 1 - k]};
}

/* ---- sign test ------------------------------------------------------------------------- */

double stats_sign_test_p(int positive, int negative)
{
    int n = positive + negative, k = positive < negative ? positive : negative;
    if (n <= 0) return 1.0;
    /* P(X <= k) = sum_i C(n, i) / 2^n. Up to 1000 signs the binomial coefficients fit a double
     * (C(1000, 500) ~ 2.7e299) and stay exact while below 2^53; beyond, from logs. */
    double tail = 0.0;
    if (n <= 1000) {
        double c = 1.0; /* C(n, i) */
        for (int i = 0; i <= k; i++) {
            tail += c;
            c = c * (n - i) / (i + 1);
        }
        tail = ldexp(tail, -n);
    } else {
        for (int i = 0; i <= k; i++) tail += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) - n * M_LN2);
    }
    double p = 2.0 * tail;
    return p < 1.0 ? p : 1.0;
}

/* ---- Wilcoxon signed-rank -------------------------------------------------------------- */

static int compare_magnitudes(const void *a, const void *b)
{
    double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
    return (x > y) - (x < y);
}

double stats_wilcoxon_p(const double *x, int n, double *scratch, bool *exact)
{
    int m = 0; /* the nonzero values, sorted by magnitude */
    for (int i = 0; i < n; i++)
        if (x[i] != 0.0) scratch[m++] = x[i];
    *exact = m <= STATS_WILCOXON_EXACT_MAX;
    if (m == 0) return 1.0;
    qsort(scratch, (size_t)m, sizeof *scratch, compare_magnitudes);

    /* Ranks 1..m, tied magnitudes sharing their average; doubled, they are whole numbers. */
    int doubled[STATS_WILCOXON_EXACT_MAX];
    long w2 = 0;        /* twice the sum of the ranks of the positive values */
    double ties = 0.0;  /* sum of t^3 - t over groups of t tied magnitudes */
    for (int i = 0; i < m;) {
        int j = i + 1;
        while (j < m && fabs(scratch[j]) == fabs(scratch[i])) j++;
        int rank2 = i + 1 + j; /* (i+1 + j) / 2 is the average of ranks i+1..j */
        for (int k = i; k < j; k++) {
            if (m <= STATS_WILCOXON_EXACT_MAX) doubled[k] = rank2;
            if (scratch[k] > 0) w2 += rank2;
        }
        double t = j - i;
        ties += t * t * t - t;
        i = j;
    }

    if (*exact) {
        /* Under the null every sign pattern is equally likely: count the subsets of ranks by
         * their (doubled) sum, one rank at a time, and read both tails at w2. */
        enum { MAX_SUM = STATS_WILCOXON_EXACT_MAX * (STATS_WILCOXON_EXACT_MAX + 1) };
        double count[MAX_SUM + 1] = {0};
        int total = m * (m + 1);
        count[0] = 1.0;
        for (int k = 0; k < m; k++)
            for (int s = total; s >= doubled[k]; s--) count[s] += count[s - doubled[k]];
        double below = 0.0, above = 0.0, all = ldexp(1.0, m);
        for (int s = 0; s <= total; s++) {
            if (s <= w2) below += count[s];
            if (s >= w2) above += count[s];
        }
        double p = 2.0 * fmin(below, above) / all;
        return p < 1.0 ? p : 1.0;
    }
    double w = w2 / 2.0, mean = m * (m + 1.0) / 4.0;
    double var = m * (m + 1.0) * (2.0 * m + 1.0) / 24.0 - ties / 48.0;
    if (!(var > 0.0)) return 1.0;
    double z = (fabs(w - mean) - 0.5) / sqrt(var); /* continuity: W moves in steps of 1/2 or more */
    if (z < 0.0) z = 0.0;
    return erfc(z / M_SQRT2);
}

/* ---- the summary ----------------------------------------------------------------------- */

const char *stats_verdict_text(stats_verdict v)
{
    switch (v) {
    case STATS_HIGHER: return "GC higher";
    case STATS_LOWER: return "GC lower";
    default: return "no difference detected at this N";
    }
}

void stats_paired_summary(const double *d, int n, double level, int resamples, uint64_t seed, double *scratch,
                          stats_paired *out)
{
    double *x = scratch + resamples, *work = x + n;
    int m = 0;
    *out = (stats_paired){0};
    for (int i = 0; i < n; i++) {
        if (!isfinite(d[i])) continue;
        x[m++] = d[i];
        out->positive += d[i] > 0;
        out->zero += d[i] == 0;
        out->negative += d[i] < 0;
    }
    out->n = m;
    out->mean = stats_mean(x, m);
    out->sd = stats_stddev(x, m);
    out->t = stats_t_interval(x, m, level);
    out->bootstrap = stats_bootstrap_interval(x, m, level, resamples, seed, scratch);
    out->sign_p = stats_sign_test_p(out->positive, out->negative);
    out->wilcoxon_p = stats_wilcoxon_p(x, m, work, &out->wilcoxon_exact);
    out->verdict = out->t.lo > 0.0 ? STATS_HIGHER : out->t.hi < 0.0 ? STATS_LOWER : STATS_NO_DIFFERENCE;
}
