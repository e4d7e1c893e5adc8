/* bench_augment: time of the fused augmentation warp per 300x300x3 image, on one core, for
 * the dispatching warp and the portable one, in both output layouts. A measurement only:
 * tests/test_augment.c checks the warps' results.
 *
 *   bench_augment [--reps N]      (default 200 images per warp and layout) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/base/rng.h"
#include "io/input/augment.h"

typedef void (*warp_fn)(const uint8_t *, int, int, int, const augment_params *, float *, bool);
static const struct {
    warp_fn fn;
    const char *name;
} warps[] = {{augment_warp, "augment_warp"}, {augment_warp_scalar, "augment_warp_scalar"}};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int reps = 200;
    if (argc == 3 && strcmp(argv[1], "--reps") == 0) reps = atoi(argv[2]);
    if ((argc != 1 && argc != 3) || reps < 1) {
        fprintf(stderr, "usage: bench_augment [--reps N]\n");
        return 2;
    }
    const int w = 300, h = 300;
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *src = malloc(n);
    float *dst = malloc(n * sizeof *dst);
    if (!src || !dst) {
        fprintf(stderr, "bench_augment: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) src[i] = (uint8_t)rng_below(81, i, 256);
    for (size_t fn = 0; fn < sizeof warps / sizeof *warps; fn++)
        for (int planar = 0; planar < 2; planar++) {
            double best = 1e9, total = 0;
            for (int r = 0; r < reps; r++) {
                augment_params p = augment_draw(1, 0, (size_t)r);
                double t0 = seconds_now();
                warps[fn].fn(src, w, h, 3, &p, dst, planar);
                double t = seconds_now() - t0;
                best = t < best ? t : best;
                total += t;
            }
            printf("%s 300x300x3 %s: mean %.3f ms, best %.3f ms per image (%d images)\n", warps[fn].name,
                   planar ? "planar" : "interleaved", 1e3 * total / reps, 1e3 * best, reps);
        }
    free(dst);
    free(src);
    return 0;
}
