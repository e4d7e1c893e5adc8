/* The embedded synthetic dataset: "fine" versus "coarse".
 *
 * Every image is size x size RGB and a pure function of (seed, index, size). It contains,
 * painted in this order (lengths are fractions of `size`, so any resolution draws the same
 * picture; only the smallest shapes keep a floor of 6 pixels):
 *   1. Background: a linear gradient between two random colours, in a random direction.
 *      The first colour is uniform per channel in [20, 235]; the second differs from it by
 *      at most +-60 per channel, so the background stays smooth.
 *   2. Distractors: 2 to 4 small blobs (radius 0.03-0.07), each a filled disk or a rotated
 *      filled square, in a uniform random colour, anywhere: the same for both classes.
 *   3. The foreground, which alone decides the label: rings (annuli) and six-armed
 *      asterisks, half and half, at random positions and rotations, all in one colour far
 *      from the background's mean (at least 180, summed over channels), covering a share of
 *      the image drawn uniform in [0.25, 0.35] for either class:
 *        class 0 "fine":   many small shapes, span 0.02-0.03 of the side (at least 6 px);
 *        class 1 "coarse": few large shapes, span 0.2-0.3 of the side.
 *      Each shape paints f * D^2 with f uniform in [0.22, 0.42] (a ring's hole and the bars'
 *      width are solved from f). Shapes are added until they have painted the share, each
 *      pixel counted once, a last shape only if it brings the count nearer.
 *   4. Noise, over everything: each pixel gets a uniform offset in [-12, 12], the same for
 *      its three channels.
 * The label is one bit of the image's random stream, so classes are balanced in expectation.
 *
 * Why pixel statistics do not give the class away: colours, painted share, shapes and
 * distractors follow the same distributions in both classes, so channel means, brightness,
 * its spread, the fractions of very bright or dark pixels and of foreground pixels have the
 * same distribution whatever the label (tests/test_synthetic.c checks the best single
 * threshold stays under 62%). What differs is the scale of the structure — how much outline
 * the same painted area has — which the first convolutions see directly: the seed's CNN
 * learns it within a few epochs at the seed's learning rate, as it learns Horses or Humans.
 *
 * Random draws: stream rng_key(seed, RNG_STREAM_SYNTHETIC, index, 0) read in order for the
 * label and the geometry (its length varies with the colour resampling), and a second key
 * (..., index, 1) addressed by pixel for the noise, 8 pixels per 64-bit value. */
#include "io/input/synthetic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"
#include "engine/base/rng.h"

const char *const synthetic_class_names[2] = {"fine", "coarse"};

#define PI_F 3.14159265358979f

enum { NOISE_AMPLITUDE = 12, MIN_CONTRAST = 180, COLOUR_TRIES = 16, SHAPES_MAX = 5000 };
/* Shape spans as fractions of the image side, and the share of the image they cover. */
#define FINE_MIN 0.02f
#define FINE_MIN_PIXELS 6.0f
#define FINE_MAX 0.03f
#define COARSE_MIN 0.2f
#define COARSE_MAX 0.3f
#define COVER_MIN 0.25f
#define COVER_MAX 0.35f

typedef struct {
    uint8_t *pixels;    /* size x size x 3, HWC */
    int size;
    uint64_t noise_key; /* noise of pixel p: byte p % 8 of rng_u64(noise_key, p / 8) */
    uint8_t *covered;   /* while painting the foreground: 1 where it has painted (else NULL) */
    size_t ncovered;    /* pixels the foreground has painted */
} canvas;

static uint8_t clamp_u8(float v)
{
    if (v <= 0.0f) return 0;
    if (v >= 255.0f) return 255;
    return (uint8_t)(v + 0.5f);
}

static void random_colour(rng_stream *s, float lo, float hi, uint8_t out[3])
{
    for (int c = 0; c < 3; c++) out[c] = clamp_u8(rng_next_range(s, lo, hi));
}

/* Pixel rows/columns [*lo, *hi] whose centres may lie within r of c, clipped to the image. */
static void span(float c, float r, int size, int *lo, int *hi)
{
    float a = floorf(c - r), b = ceilf(c + r);
    *lo = a < 0.0f ? 0 : (int)a;
    *hi = b > (float)(size - 1) ? size - 1 : (int)b;
}

/* A random byte mapped to an offset in [-NOISE_AMPLITUDE, NOISE_AMPLITUDE]. */
static int noise_offset(uint64_t byte)
{
    return (int)((byte * (2 * NOISE_AMPLITUDE + 1)) >> 8) - NOISE_AMPLITUDE;
}

static uint8_t clamp_int(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* Paints pixel (x, y) with col plus that pixel's noise: painted shapes stay as noisy as the
 * background, so noise says nothing about where a shape is. */
static void put(canvas *cv, int x, int y, const uint8_t col[3])
{
    size_t p = (size_t)y * (size_t)cv->size + (size_t)x;
    int offset = noise_offset((rng_u64(cv->noise_key, p >> 3) >> (8 * (p & 7))) & 0xFF);
    uint8_t *px = cv->pixels + 3 * p;
    for (int c = 0; c < 3; c++) px[c] = clamp_int(col[c] + offset);
    if (cv->covered && !cv->covered[p]) {
        cv->covered[p] = 1;
        cv->ncovered++;
    }
}

/* v in 16.16 fixed point. */
static int32_t fixed(float v) { return (int32_t)lrintf(v * 65536.0f); }

/* Linear gradient from c0 to c1 along a random direction, plus noise; returns the mean colour. */
static void paint_background(canvas *cv, rng_stream *s, float bg_mean[3])
{
    uint8_t c0[3], c1[3];
    random_colour(s, 20.0f, 235.0f, c0);
    for (int c = 0; c < 3; c++) c1[c] = clamp_u8((float)c0[c] + rng_next_range(s, -60.0f, 60.0f));
    float angle = rng_next_range(s, 0.0f, 2.0f * PI_F);

    /* t = 0.5 + (p - centre) . dir / (size * sqrt 2): in [0, 1] over the image. */
    int n = cv->size;
    float scale = 1.0f / ((float)n * 1.41421356f);
    float dx = cosf(angle) * scale, dy = sinf(angle) * scale;
    float half = 0.5f * (float)n;
    float delta[3];
    for (int c = 0; c < 3; c++) {
        delta[c] = (float)c1[c] - (float)c0[c];
        bg_mean[c] = 0.5f * ((float)c0[c] + (float)c1[c]);
    }
    /* Along a row the colour is linear in x: step it in 16.16 fixed point, in scalars the
     * compiler keeps in registers (the byte stores may alias an array). The +0.5 rounds,
     * and keeps the value non-negative (every exact value is in [0, 255]). */
    int32_t sr = fixed(dx * delta[0]), sg = fixed(dx * delta[1]), sb = fixed(dx * delta[2]);
    for (int y = 0; y < n; y++) {
        float t0 = 0.5f + (0.5f - half) * dx + ((float)y + 0.5f - half) * dy;
        int32_t r = fixed((float)c0[0] + t0 * delta[0] + 0.5f);
        int32_t g = fixed((float)c0[1] + t0 * delta[1] + 0.5f);
        int32_t b = fixed((float)c0[2] + t0 * delta[2] + 0.5f);
        size_t p = (size_t)y * (size_t)n;
        uint8_t *px = cv->pixels + 3 * p;
        uint64_t bits = rng_u64(cv->noise_key, p >> 3) >> (8 * (p & 7));
        for (int x = 0; x < n; x++, p++, px += 3, r += sr, g += sg, b += sb) {
            if ((p & 7) == 0) bits = rng_u64(cv->noise_key, p >> 3);
            int offset = noise_offset(bits & 0xFF);
            bits >>= 8;
            px[0] = clamp_int((r >> 16) + offset);
            px[1] = clamp_int((g >> 16) + offset);
            px[2] = clamp_int((b >> 16) + offset);
        }
    }
}

/* Filled annulus r_in <= |p - centre| <= r_out (r_in = 0: a disk). */
static void paint_ring(canvas *cv, float cx, float cy, float r_out, float r_in, const uint8_t col[3])
{
    int x0, x1, y0, y1;
    span(cx, r_out, cv->size, &x0, &x1);
    span(cy, r_out, cv->size, &y0, &y1);
    float out2 = r_out * r_out, in2 = r_in * r_in;
    for (int y = y0; y <= y1; y++) {
        float py = (float)y + 0.5f - cy;
        for (int x = x0; x <= x1; x++) {
            float px = (float)x + 0.5f - cx;
            float d2 = px * px + py * py;
            if (d2 <= out2 && d2 >= in2) put(cv, x, y, col);
        }
    }
}

/* Union of `bars` rectangles (half-length len, half-width wid) through the centre, the
 * first at `angle`, the others evenly spaced over a half turn: 1 bar with len == wid is a
 * square, 3 bars a six-armed asterisk. */
static void paint_bars(canvas *cv, float cx, float cy, float len, float wid, int bars, float angle,
                       const uint8_t col[3])
{
    enum { MAX_BARS = 3 };
    float cs[MAX_BARS], sn[MAX_BARS];
    if (bars > MAX_BARS) bars = MAX_BARS;
    for (int i = 0; i < bars; i++) {
        cs[i] = cosf(angle + (float)i * PI_F / (float)bars);
        sn[i] = sinf(angle + (float)i * PI_F / (float)bars);
    }
    int x0, x1, y0, y1;
    float reach = sqrtf(len * len + wid * wid);
    span(cx, reach, cv->size, &x0, &x1);
    span(cy, reach, cv->size, &y0, &y1);
    for (int y = y0; y <= y1; y++) {
        float py = (float)y + 0.5f - cy;
        for (int x = x0; x <= x1; x++) {
            float px = (float)x + 0.5f - cx;
            for (int i = 0; i < bars; i++) {
                float u = cs[i] * px + sn[i] * py, v = cs[i] * py - sn[i] * px;
                if (fabsf(u) <= len && fabsf(v) <= wid) {
                    put(cv, x, y, col);
                    break;
                }
            }
        }
    }
}

static void paint_distractors(canvas *cv, rng_stream *s)
{
    float n = (float)cv->size;
    int count = 2 + (int)rng_next_below(s, 3);
    for (int i = 0; i < count; i++) {
        int square = (int)rng_next_below(s, 2);
        float r = rng_next_range(s, 0.03f, 0.07f) * n;
        float cx = rng_next_range(s, 0.0f, n), cy = rng_next_range(s, 0.0f, n);
        float angle = rng_next_range(s, 0.0f, 0.5f * PI_F);
        uint8_t col[3];
        random_colour(s, 0.0f, 255.0f, col);
        if (square)
            paint_bars(cv, cx, cy, r, r, 1, angle, col);
        else
            paint_ring(cv, cx, cy, r, 0.0f, col);
    }
}

/* A colour far enough from the background to be seen; the same rule for both classes. */
static void foreground_colour(rng_stream *s, const float bg_mean[3], uint8_t col[3])
{
    for (int attempt = 0; attempt < COLOUR_TRIES; attempt++) {
        random_colour(s, 0.0f, 255.0f, col);
        float dist = 0.0f;
        for (int c = 0; c < 3; c++) dist += fabsf((float)col[c] - bg_mean[c]);
        if (dist >= (float)MIN_CONTRAST) return;
    }
    for (int c = 0; c < 3; c++) col[c] = bg_mean[c] < 128.0f ? 230 : 25; /* ~never reached */
}

/* One shape of span D (an annulus of outer diameter D, or a six-armed asterisk of span D) with
 * painted area f * D^2, at a random position, rotation and the given colour. */
static void paint_shape(canvas *cv, rng_stream *s, float d, float f, const uint8_t col[3])
{
    float n = (float)cv->size;
    int asterisk = (int)rng_next_below(s, 2);
    float angle = rng_next_range(s, 0.0f, PI_F / 3.0f); /* the asterisk repeats every 60 deg */
    /* Margin covers the ring (D/2) and the asterisk's arm corners (< 0.51 D). */
    float margin = 0.55f * d;
    float cx = rng_next_range(s, margin, n - margin), cy = rng_next_range(s, margin, n - margin);
    if (!asterisk) {
        /* pi R^2 (1 - k^2) = f D^2 with R = D/2  =>  k = sqrt(1 - 4f/pi). */
        float r = 0.5f * d;
        paint_ring(cv, cx, cy, r, r * sqrtf(1.0f - 4.0f * f / PI_F), col);
    } else {
        /* Three bars D x w at 60 deg: area 3 D w - (3 sqrt 3 / 2) w^2 (pairwise rhombi out,
         * central hexagon back in) = f D^2; with w = t D solve the quadratic for t. */
        const float a = 1.5f * 1.7320508f;
        float t = (3.0f - sqrtf(9.0f - 4.0f * a * f)) / (2.0f * a);
        paint_bars(cv, cx, cy, 0.5f * d, 0.5f * t * d, 3, angle, col);
    }
}

/* The class evidence: the same mix of rings and asterisks in one colour covering the same
 * share of the image, drawn small and many ("fine", class 0) or large and few ("coarse",
 * class 1). The share is drawn first and shapes are added until they have painted it (each
 * pixel counted once, and a last shape only if it brings the count nearer), so the painted
 * area has one distribution for both classes; only the scale of the structure differs. */
static void paint_foreground(canvas *cv, rng_stream *s, int label, const float bg_mean[3])
{
    float n = (float)cv->size;
    size_t target = (size_t)(rng_next_range(s, COVER_MIN, COVER_MAX) * n * n);
    /* Fine shapes keep a few pixels' span at small image sizes, so they stay shapes. */
    float d_lo = label ? COARSE_MIN * n : fmaxf(FINE_MIN * n, FINE_MIN_PIXELS);
    float d_hi = label ? COARSE_MAX * n : fmaxf(FINE_MAX * n, FINE_MIN_PIXELS * FINE_MAX / FINE_MIN);
    uint8_t col[3];
    foreground_colour(s, bg_mean, col);
    for (int i = 0; i < SHAPES_MAX && cv->ncovered < target; i++) {
        float d = rng_next_range(s, d_lo, d_hi), f = rng_next_range(s, 0.22f, 0.42f);
        if ((float)cv->ncovered + 0.5f * f * d * d > (float)target) break;
        paint_shape(cv, s, d, f, col);
    }
}

/* The label is the image's first draw, so it is known without drawing the image. */
static int draw_label(rng_stream *s) { return (int)rng_next_below(s, 2); }

static int synthetic_label(uint64_t seed, uint64_t index)
{
    rng_stream s = rng_stream_at(rng_key(seed, RNG_STREAM_SYNTHETIC, index, 0));
    return draw_label(&s);
}

int synthetic_image(uint64_t seed, uint64_t index, int size, uint8_t *out)
{
    canvas cv = {.pixels = out, .size = size, .noise_key = rng_key(seed, RNG_STREAM_SYNTHETIC, index, 1)};
    rng_stream s = rng_stream_at(rng_key(seed, RNG_STREAM_SYNTHETIC, index, 0));
    int label = draw_label(&s);
    float bg_mean[3];
    paint_background(&cv, &s, bg_mean);
    paint_distractors(&cv, &s);
    cv.covered = calloc((size_t)size * (size_t)size, 1);
    if (cv.covered) paint_foreground(&cv, &s, label, bg_mean); /* out of memory: a plain image */
    free(cv.covered);
    return label;
}

static int draw_image(const dataset *d, size_t i, uint8_t *out)
{
    synthetic_image(d->draw_seed, d->draw_first + i, d->height, out);
    return GC_OK;
}

static int check_request(dataset *d, size_t count, int size)
{
    memset(d, 0, sizeof *d);
    if (size < SYNTHETIC_MIN_SIZE)
        return gc_fail(GC_EUSAGE, "synthetic dataset: image size %d is too small (minimum %d)",
                       size, SYNTHETIC_MIN_SIZE);
    if (count == 0) return gc_fail(GC_EUSAGE, "synthetic dataset: image count is 0 (need at least 1)");
    return GC_OK;
}

static void name_classes(dataset *d)
{
    d->num_classes = 2;
    for (int c = 0; c < 2; c++)
        snprintf(d->class_names[c], DATASET_CLASS_NAME_MAX, "%s", synthetic_class_names[c]);
}

int synthetic_dataset_on_demand(dataset *d, uint64_t seed, uint64_t first, size_t count, int size)
{
    GC_TRY(check_request(d, count, size));
    uint8_t *labels = NULL;
    GC_TRY(gc_alloc((void **)&labels, count, "synthetic dataset labels"));
    dataset tmp = {.height = size, .width = size, .channels = 3, .count = count, .labels = labels,
                   .draw = draw_image, .draw_seed = seed, .draw_first = first};
    name_classes(&tmp);
    for (size_t i = 0; i < count; i++) labels[i] = (uint8_t)synthetic_label(seed, first + i);
    *d = tmp;
    return GC_OK;
}

int synthetic_dataset(dataset *d, uint64_t seed, uint64_t first, size_t count, int size)
{
    GC_TRY(check_request(d, count, size));

    size_t image_bytes = (size_t)size * (size_t)size * 3;
    if (count > SIZE_MAX / image_bytes)
        return gc_fail(GC_ERUNTIME, "synthetic dataset: %zu images of %dx%d overflow memory", count,
                       size, size);

    void *pixels = NULL, *labels = NULL;
    int rc = gc_alloc(&pixels, count * image_bytes, "synthetic dataset pixels");
    if (rc == GC_OK) rc = gc_alloc(&labels, count, "synthetic dataset labels");
    if (rc != GC_OK) {
        gc_free(pixels);
        return rc;
    }
    dataset tmp = {.height = size, .width = size, .channels = 3, .count = count, .pixels = pixels,
                   .labels = labels, .draw = draw_image, .draw_seed = seed, .draw_first = first};
    name_classes(&tmp);

    /* Images are independent; dynamic scheduling absorbs uneven shape costs and busy cores. */
    long n = (long)count;
#pragma omp parallel for schedule(dynamic)
    for (long i = 0; i < n; i++)
        tmp.labels[i] = (uint8_t)synthetic_image(seed, first + (uint64_t)i, size,
                                                 tmp.pixels + (size_t)i * image_bytes);

    *d = tmp;
    return GC_OK;
}
