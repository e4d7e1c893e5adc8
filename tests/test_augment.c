/* The fused augmentation warp: exact cases against hand-derived pixels (identity, flips,
 * quarter and half turns, zoom in, TensorFlow's reflect, Keras's layer order), the fast warp
 * against the double-precision reference, and the parameter draws. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/base/rng.h"
#include "io/input/augment.h"

static const double pi = 3.14159265358979323846;
static const float scale = 1.0f / 255.0f; /* the loader's rescale */

static uint8_t *random_image(int w, int h, uint64_t key)
{
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *img = malloc(n);
    cr_assert_not_null(img);
    for (size_t i = 0; i < n; i++) img[i] = (uint8_t)rng_below(key, i, 256);
    return img;
}

static float *floats(int w, int h)
{
    float *f = malloc((size_t)w * (size_t)h * 3 * sizeof(float));
    cr_assert_not_null(f);
    return f;
}

/* Element (x, y, c) of a warped image in either layout. */
static float out_at(const float *dst, int w, int h, bool planar, int x, int y, int c)
{
    size_t pixel = (size_t)y * (size_t)w + (size_t)x;
    return dst[planar ? (size_t)c * (size_t)w * (size_t)h + pixel : pixel * 3 + (size_t)c];
}

static float src_at(const uint8_t *src, int w, int x, int y, int c)
{
    return (float)src[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] * scale;
}

static const augment_params identity = {false, false, 0.0, 1.0};

/* Both warps: the dispatching one (AVX2 where the CPU has it, with scalar row tails) and the
 * portable one, so each is held to every exact case whatever the machine. */
typedef void (*warp_fn)(const uint8_t *, int, int, int, const augment_params *, float *, bool);
static const struct {
    warp_fn fn;
    const char *name;
} warps[] = {{augment_warp, "augment_warp"}, {augment_warp_scalar, "augment_warp_scalar"}};
#define NWARPS (sizeof warps / sizeof warps[0])

/* Warps src and checks every output element equals the source at map(x, y), bit for bit. */
typedef void (*pixel_map)(int w, int h, int x, int y, int *sx, int *sy);

static void expect_exact_map(const uint8_t *src, int w, int h, const augment_params *p, pixel_map map,
                             const char *what)
{
    float *dst = floats(w, h);
    for (size_t k = 0; k < NWARPS; k++)
        for (int planar = 0; planar < 2; planar++) {
            warps[k].fn(src, w, h, 3, p, dst, planar);
            int bad = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int sx, sy;
                    map(w, h, x, y, &sx, &sy);
                    for (int c = 0; c < 3; c++)
                        if (out_at(dst, w, h, planar, x, y, c) != src_at(src, w, sx, sy, c) && bad++ < 3)
                            cr_log_error("%s %s %dx%d %s: (%d,%d,%d) = %.9g, want src(%d,%d) = %.9g", warps[k].name,
                                         what, w, h, planar ? "planar" : "interleaved", x, y, c,
                                         (double)out_at(dst, w, h, planar, x, y, c), sx, sy,
                                         (double)src_at(src, w, sx, sy, c));
                }
            cr_expect_eq(bad, 0, "%s %s %dx%d %s: %d elements differ", warps[k].name, what, w, h,
                         planar ? "planar" : "interleaved", bad);
        }
    free(dst);
}

static void same_pixel(int w, int h, int x, int y, int *sx, int *sy) { *sx = x, *sy = y; }
static void mirror_x(int w, int h, int x, int y, int *sx, int *sy) { *sx = w - 1 - x, *sy = y; }
static void mirror_y(int w, int h, int x, int y, int *sx, int *sy) { *sx = x, *sy = h - 1 - y; }
static void mirror_xy(int w, int h, int x, int y, int *sx, int *sy) { *sx = w - 1 - x, *sy = h - 1 - y; }
/* A positive quarter turn: content turns counter-clockwise, so the source's top-right corner
 * (n-1, 0) shows at the output's top-left (0, 0). */
static void quarter_ccw(int w, int h, int x, int y, int *sx, int *sy) { *sx = w - 1 - y, *sy = x; }
static void quarter_cw(int w, int h, int x, int y, int *sx, int *sy) { *sx = y, *sy = h - 1 - x; }

static const int sizes[][2] = {{5, 7}, {31, 17}, {300, 300}, {1, 1}, {1, 9}, {8, 1}, {6, 4}};
#define NSIZES (sizeof sizes / sizeof sizes[0])

Test(augment, identity_reproduces_the_loader_rescale_exactly)
{
    for (size_t s = 0; s < NSIZES; s++) {
        uint8_t *src = random_image(sizes[s][0], sizes[s][1], 11 + s);
        expect_exact_map(src, sizes[s][0], sizes[s][1], &identity, same_pixel, "identity");
        free(src);
    }
}

Test(augment, flips_are_exact_reversals)
{
    const augment_params h = {true, false, 0.0, 1.0}, v = {false, true, 0.0, 1.0}, hv = {true, true, 0.0, 1.0};
    for (size_t s = 0; s < NSIZES; s++) {
        int w = sizes[s][0], ht = sizes[s][1];
        uint8_t *src = random_image(w, ht, 21 + s);
        expect_exact_map(src, w, ht, &h, mirror_x, "horizontal flip");
        expect_exact_map(src, w, ht, &v, mirror_y, "vertical flip");
        expect_exact_map(src, w, ht, &hv, mirror_xy, "both flips");
        free(src);
    }
}

Test(augment, both_flips_equal_a_half_turn)
{
    const augment_params half = {false, false, pi, 1.0}, minus_half = {false, false, -pi, 1.0};
    for (size_t s = 0; s < NSIZES; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        uint8_t *src = random_image(w, h, 31 + s);
        expect_exact_map(src, w, h, &half, mirror_xy, "rotation by pi");
        expect_exact_map(src, w, h, &minus_half, mirror_xy, "rotation by -pi");
        free(src);
    }
}

Test(augment, quarter_turns_on_square_images_land_on_pixel_centres)
{
    const augment_params ccw = {false, false, pi / 2, 1.0}, cw = {false, false, -pi / 2, 1.0};
    const int n[] = {1, 2, 8, 9, 300};
    for (size_t s = 0; s < sizeof n / sizeof n[0]; s++) {
        uint8_t *src = random_image(n[s], n[s], 41 + s);
        expect_exact_map(src, n[s], n[s], &ccw, quarter_ccw, "rotation by +pi/2");
        expect_exact_map(src, n[s], n[s], &cw, quarter_cw, "rotation by -pi/2");
        free(src);
    }
}

/* Flips apply first, then the rotation (Keras's layer order): a left-right flip and a
 * positive quarter turn send output (x, y) to input column w-1-(n-1-y) = y, row x. */
static void flip_then_quarter(int w, int h, int x, int y, int *sx, int *sy) { *sx = y, *sy = x; }

Test(augment, flip_composes_before_rotation)
{
    const augment_params p = {true, false, pi / 2, 1.0};
    uint8_t *src = random_image(9, 9, 47);
    expect_exact_map(src, 9, 9, &p, flip_then_quarter, "flip then quarter turn");
    free(src);
}

Test(augment, zoom_below_one_magnifies_about_the_centre)
{
    const int n = 9, c = 4; /* pixel centre (4, 4) is the image centre */
    const augment_params p = {false, false, 0.0, 0.5};
    uint8_t *src = random_image(n, n, 51);
    float *dst = floats(n, n);
    for (size_t run = 0; run < 2 * NWARPS; run++) { /* every warp, both layouts */
        const size_t fn = run / 2;
        const bool planar = run % 2;
        warps[fn].fn(src, n, n, 3, &p, dst, planar);
        /* Output offset 2k from the centre shows input offset k: exact. */
        for (int j = -2; j <= 2; j++)
            for (int k = -2; k <= 2; k++)
                for (int ch = 0; ch < 3; ch++)
                    cr_expect_eq(out_at(dst, n, n, planar, c + 2 * k, c + 2 * j, ch),
                                 src_at(src, n, c + k, c + j, ch), "zoom 0.5: (%d,%d) should show (%d,%d)",
                                 c + 2 * k, c + 2 * j, c + k, c + j);
        /* Odd offsets fall halfway: the mean of the two neighbours. */
        for (int ch = 0; ch < 3; ch++) {
            float mid = 0.5f * (src_at(src, n, 4, 4, ch) + src_at(src, n, 5, 4, ch));
            cr_expect_float_eq(out_at(dst, n, n, planar, 5, 4, ch), mid, 1e-6, "halfway sample");
        }
    }
    free(dst);
    free(src);
}

/* Zoom k > 1 shrinks the content: on a 5x5 image, output column x of the centre row samples
 * input column 2 + k(x-2), outside the image for x != 2. Expected columns by TensorFlow's
 * reflect (period 2*5, (d c b a | a b c d | d c b a)), worked out by hand. */
Test(augment, zoom_out_fills_by_tensorflow_reflect)
{
    static const struct {
        double zoom;
        int col[5]; /* source column (and row) seen at output 0..4 */
        const char *samples;
    } cases[] = {
        {3.0, {3, 0, 2, 4, 1}, "-4 -1 2 5 8"},       /* -1 -> 0 (edge repeated), w -> w-1 */
        {4.0, {4, 1, 2, 3, 0}, "-6 -2 2 6 10"},      /* -2 -> 1, w+1 -> w-2 */
        {17.0, {1, 4, 2, 0, 3}, "-32 -15 2 19 36"}, /* -3w -> w-1, several periods away */
        {1.25, {0, 1, 2, 3, 4}, "-0.5 .. 4.5"},     /* the flat half pixels at both edges */
    };
    const int n = 5;
    uint8_t *src = random_image(n, n, 61);
    float *dst = floats(n, n);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const augment_params p = {false, false, 0.0, cases[k].zoom};
        for (size_t run = 0; run < 2 * NWARPS; run++) { /* every warp, both layouts */
            const size_t fn = run / 2;
            const bool planar = run % 2;
            warps[fn].fn(src, n, n, 3, &p, dst, planar);
            for (int x = 0; x < n; x++) {
                if (cases[k].zoom == 1.25 && (x == 1 || x == 3)) continue; /* 0.75, 3.25: between pixels */
                for (int ch = 0; ch < 3; ch++) {
                    cr_expect_eq(out_at(dst, n, n, planar, x, 2, ch), src_at(src, n, cases[k].col[x], 2, ch),
                                 "zoom %g (samples %s): column %d should show column %d", cases[k].zoom,
                                 cases[k].samples, x, cases[k].col[x]);
                    cr_expect_eq(out_at(dst, n, n, planar, 2, x, ch), src_at(src, n, 2, cases[k].col[x], ch),
                                 "zoom %g (samples %s): row %d should show row %d", cases[k].zoom,
                                 cases[k].samples, x, cases[k].col[x]);
                }
            }
        }
    }
    free(dst);
    free(src);
}

/* TensorFlow's reflect of an integer coordinate, for the tests' own expectations. */
static int reflect_index(int i, int len)
{
    int t = ((i % (2 * len)) + 2 * len) % (2 * len);
    return t < len ? t : 2 * len - 1 - t;
}

/* Keras rotates first and zooms the rotated image, so zooming out mirrors the *rotated*
 * image across the frame edge. On a 9x5 image (centre (4, 2)) a quarter turn and zoom 2 put
 * every sample on a pixel centre: the rotated image is rot(u, v) = src(rw(6 - v), rh(u - 2))
 * and out(x, y) = rot(rw(4 + 2(x-4)), rh(2 + 2(y-2))), rw and rh reflecting into the width
 * and the height. A single affine map with one reflect at the input would give
 * src(rw(6 - qy), rh(qx - 2)) instead, which differs in the mirrored band. */
Test(augment, zoom_out_after_rotation_mirrors_the_rotated_image)
{
    const int w = 9, h = 5;
    const augment_params p = {false, false, pi / 2, 2.0};
    uint8_t *src = random_image(w, h, 71);
    float *dst = floats(w, h);
    int differs_from_single_affine = 0;
    for (size_t run = 0; run < 2 * NWARPS; run++) { /* every warp, both layouts */
        const size_t fn = run / 2;
        const bool planar = run % 2;
        warps[fn].fn(src, w, h, 3, &p, dst, planar);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int qx = 4 + 2 * (x - 4), qy = 2 + 2 * (y - 2);
                int u = reflect_index(qx, w), v = reflect_index(qy, h);
                int sx = reflect_index(6 - v, w), sy = reflect_index(u - 2, h);
                int single_x = reflect_index(6 - qy, w), single_y = reflect_index(qx - 2, h);
                for (int ch = 0; ch < 3; ch++) {
                    float got = out_at(dst, w, h, planar, x, y, ch);
                    cr_expect_eq(got, src_at(src, w, sx, sy, ch), "(%d,%d,%d) should show src(%d,%d)", x, y, ch,
                                 sx, sy);
                    differs_from_single_affine += got != src_at(src, w, single_x, single_y, ch);
                }
            }
    }
    cr_expect_gt(differs_from_single_affine, 0, "the case should tell Keras's order from a single affine");
    free(dst);
    free(src);
}

static double max_error_against_ref(warp_fn warp, const uint8_t *src, int w, int h, int channels,
                                    const augment_params *p, float *fast, float *ref, bool planar)
{
    warp(src, w, h, channels, p, fast, planar);
    augment_warp_ref(src, w, h, channels, p, ref, planar);
    double worst = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h * (size_t)channels; i++)
        worst = fmax(worst, fabs((double)fast[i] - ref[i]));
    return worst;
}

/* 1000 parameter sets: drawn ones (the training distribution) and wide ones (any angle,
 * zoom 0.3..4, so points fall several periods outside and exercise every reflect branch),
 * on small odd sizes and, 20 times, the real 300x300; every warp, both layouts. */
Test(augment, fast_warps_match_the_reference)
{
    static const int small[][2] = {{5, 7}, {7, 5}, {31, 17}, {17, 31}, {1, 9}, {9, 1}, {2, 2}, {1, 1}, {16, 16}, {11, 3}};
    const int nsmall = (int)(sizeof small / sizeof small[0]);
    float *fast = floats(300, 300), *ref = floats(300, 300);
    double worst[NWARPS] = {0};
    for (int i = 0; i < 1000; i++) {
        augment_params p = augment_draw(9, i % 7, (size_t)i);
        if (i % 2) {
            uint64_t key = rng_key(1234, 99, (uint64_t)i, 0);
            p.angle = rng_range(key, 0, -4.0f, 4.0f);
            p.zoom = rng_range(key, 1, 0.3f, 4.0f);
        }
        int w = small[i % nsmall][0], h = small[i % nsmall][1];
        if (i % 50 == 0) w = h = 300;
        uint8_t *src = random_image(w, h, 1000 + (uint64_t)i);
        for (size_t k = 0; k < NWARPS; k++)
            for (int planar = 0; planar < 2; planar++) {
                double e = max_error_against_ref(warps[k].fn, src, w, h, 3, &p, fast, ref, planar);
                cr_expect_leq(e, 1e-5, "%s draw %d, %dx%d %s, angle %.6f zoom %.6f flips %d%d: error %.3g",
                              warps[k].name, i, w, h, planar ? "planar" : "interleaved", p.angle, p.zoom, p.flip_h,
                              p.flip_v, e);
                worst[k] = fmax(worst[k], e);
            }
        free(src);
    }
    for (size_t k = 0; k < NWARPS; k++)
        cr_log_info("%s vs reference: worst error %.3g over 1000 draws", warps[k].name, worst[k]);
    free(fast);
    free(ref);
}

/* Other channel counts take the generic path (one and four channels). */
Test(augment, other_channel_counts_match_the_reference)
{
    const int w = 13, h = 9;
    uint8_t *src = random_image(w, h * 2, 91); /* room for 4 channels */
    float *fast = floats(w, h * 2), *ref = floats(w, h * 2);
    for (int i = 0; i < 50; i++) {
        augment_params p = augment_draw(3, 0, (size_t)i);
        for (int channels = 1; channels <= 4; channels += 3)
            for (size_t k = 0; k < NWARPS; k++)
                for (int planar = 0; planar < 2; planar++)
                    cr_expect_leq(max_error_against_ref(warps[k].fn, src, w, h, channels, &p, fast, ref, planar),
                                  1e-5, "%s, %d channels, draw %d", warps[k].name, channels, i);
    }
    free(fast);
    free(ref);
    free(src);
}

static bool same_params(augment_params a, augment_params b)
{
    return a.flip_h == b.flip_h && a.flip_v == b.flip_v && a.angle == b.angle && a.zoom == b.zoom;
}

Test(augment, draws_are_pure_functions_of_seed_epoch_and_image)
{
    augment_params a = augment_draw(5, 3, 17);
    cr_expect(same_params(a, augment_draw(5, 3, 17)), "same (seed, epoch, index): same parameters");
    cr_expect(!same_params(a, augment_draw(5, 4, 17)), "another epoch: other parameters");
    cr_expect(!same_params(a, augment_draw(5, 3, 18)), "another image: other parameters");
    cr_expect(!same_params(a, augment_draw(6, 3, 17)), "another seed: other parameters");
}

Test(augment, draws_follow_the_seed_distributions)
{
    const int n = 10000;
    const double max_angle = 0.6 * pi;
    int fh = 0, fv = 0, both = 0;
    double amin = 1e9, amax = -1e9, zmin = 1e9, zmax = -1e9, asum = 0, zsum = 0;
    for (int i = 0; i < n; i++) {
        augment_params p = augment_draw(42, i / 1000, (size_t)i);
        fh += p.flip_h, fv += p.flip_v, both += p.flip_h && p.flip_v;
        amin = fmin(amin, p.angle), amax = fmax(amax, p.angle), asum += p.angle;
        zmin = fmin(zmin, p.zoom), zmax = fmax(zmax, p.zoom), zsum += p.zoom;
    }
    cr_expect(amin >= -max_angle && amax <= max_angle, "angle in [-0.6pi, 0.6pi]: [%g, %g]", amin, amax);
    cr_expect(amin < -0.99 * max_angle && amax > 0.99 * max_angle, "angle covers its range: [%g, %g]", amin,
              amax);
    cr_expect(zmin >= 0.8 && zmax <= 1.2, "zoom in [0.8, 1.2]: [%g, %g]", zmin, zmax);
    cr_expect(zmin < 0.802 && zmax > 1.198, "zoom covers its range: [%g, %g]", zmin, zmax);
    cr_expect(fabs(asum / n) < 0.05, "angle mean %g, want about 0", asum / n);
    cr_expect(fabs(zsum / n - 1.0) < 0.005, "zoom mean %g, want about 1", zsum / n);
    /* 10000 fair coins: standard deviation 0.005, so +-0.02 is four of them. */
    cr_expect(fabs(fh / (double)n - 0.5) < 0.02, "horizontal flip rate %g", fh / (double)n);
    cr_expect(fabs(fv / (double)n - 0.5) < 0.02, "vertical flip rate %g", fv / (double)n);
    cr_expect(fabs(both / (double)n - 0.25) < 0.02, "both-flip rate %g: flips should be independent",
              both / (double)n);
}
