/* The seed's augmentation as one warp per image (see augment.h for the geometry).
 *
 * Where the conventions come from (Keras 3 source of the example's era, TF backend):
 * - RandomRotation: angle ~ U(-0.3*2*pi, 0.3*2*pi) radians, transform
 *   [cos, -sin, x_off, sin, cos, y_off] with x_off, y_off chosen so (w-1)/2, (h-1)/2 is
 *   fixed: input = c + Rot(angle) * (output - c). In y-down image coordinates that turns
 *   the content counter-clockwise for angle > 0, as its docstring says.
 * - RandomZoom: zoom ~ U(1 - 0.2, 1 + 0.2), one draw for both axes when width_factor is None;
 *   transform [zoom, 0, (w-1)/2 * (1 - zoom), 0, zoom, (h-1)/2 * (1 - zoom)], i.e.
 *   input = c + zoom * (output - c): zoom > 1 samples a larger area, the content shrinks
 *   ("a positive value means zooming out").
 * - RandomFlip("horizontal_and_vertical"): a left-right flip with p = 0.5, then an
 *   independent top-bottom flip with p = 0.5 (two uniform draws <= 0.5), exact reversals.
 * - Both warps call ImageProjectiveTransformV3 with fill "reflect" and bilinear
 *   interpolation; reflect_tf() below is its MapCoordinate<FILL_REFLECT>.
 *
 * - The example rescales before augmenting; bilinear interpolation is linear, so folding
 *   the 1/255 into the weights is the same up to rounding.
 *   (Later Keras 3 releases draw a single flag that flips both axes or neither; the
 *   example's era, and the README, flip each axis on its own draw, as we do.)
 *
 * How this differs from Keras: Keras resamples twice (rotation, then zoom; flips only move
 * pixels), we interpolate once at the composed point, so values differ by interpolation
 * rounding only (bilinear of bilinear is not bilinear). The geometry is Keras's exactly,
 * including its reflect in the middle: where zooming out samples outside the frame, Keras's
 * zoom layer mirrors the already rotated image across the frame edge, which a single affine
 * map with one reflect at the input would not reproduce (the output's outer band would show
 * a different mirror image); so the zoom stage's point is reflected before the rotation is
 * applied. That reflect is per axis and rarely taken: it costs a compare per pixel. */
#include "io/input/augment.h"

#include <math.h>

#include "engine/base/rng.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static const double pi = 3.14159265358979323846;

augment_params augment_draw(uint64_t seed, int epoch, size_t image_index)
{
    uint64_t key = rng_key(seed, RNG_STREAM_AUGMENT, (uint64_t)epoch, (uint64_t)image_index);
    const double max_angle = AUGMENT_ROTATION_FACTOR * 2.0 * pi;
    augment_params p;
    p.flip_h = rng_uniform(key, 0) < 0.5f;
    p.flip_v = rng_uniform(key, 1) < 0.5f;
    p.angle = -max_angle + 2.0 * max_angle * (double)rng_uniform(key, 2);
    p.zoom = 1.0 - AUGMENT_ZOOM_FACTOR + 2.0 * AUGMENT_ZOOM_FACTOR * (double)rng_uniform(key, 3);
    return p;
}

/* The composed geometry: q = c + z (p - c), then r = c + B (reflect(q) - c), B = S Rot. */
typedef struct {
    double cx, cy, z;
    double b00, b01, b10, b11;
} geometry;

static geometry geometry_of(const augment_params *p, int w, int h)
{
    double c = cos(p->angle), s = sin(p->angle);
    double sh = p->flip_h ? -1.0 : 1.0, sv = p->flip_v ? -1.0 : 1.0;
    return (geometry){.cx = 0.5 * (w - 1), .cy = 0.5 * (h - 1), .z = p->zoom,
                      .b00 = sh * c, .b01 = -sh * s, .b10 = sv * s, .b11 = sv * c};
}

/* TensorFlow's reflect, as written in image_ops.h (MapCoordinate<FILL_REFLECT>): the input
 * repeated with period 2*len as (d c b a | a b c d), mirrored about the outer edge of the
 * last pixel, then clamped to [0, len-1] (so (-1, 0) and (len-1, len) read the edge pixel). */
static double reflect_tf(double x, int len)
{
    const double n = len;
    if (x < 0) {
        if (len <= 1) {
            x = 0;
        } else {
            const double sz2 = 2.0 * n;
            if (x < sz2) x = sz2 * trunc(-x / sz2) + x; /* always true here; kept as TF has it */
            x = x < -n ? x + sz2 : -x - 1;
        }
    } else if (x > n - 1) {
        if (len <= 1) {
            x = 0;
        } else {
            const double sz2 = 2.0 * n;
            x -= sz2 * trunc(x / sz2);
            if (x >= n) x = sz2 - x - 1;
        }
    }
    return fmin(fmax(x, 0.0), n - 1);
}

/* TensorFlow's bilinear at a reflected point: neighbours outside the image read 0, which
 * only ever happens with weight 0 since the point lies in [0, len-1]. */
static double bilinear_tf(const uint8_t *src, int w, int h, int channels, int c, double x, double y)
{
    double x0 = floor(x), y0 = floor(y), x1 = x0 + 1, y1 = y0 + 1;
#define AT(yy, xx)                                                                          \
    (((yy) >= 0 && (yy) < h && (xx) >= 0 && (xx) < w)                                       \
         ? (double)src[((size_t)(yy) * (size_t)w + (size_t)(xx)) * (size_t)channels + (size_t)c] \
         : 0.0)
    double top = (x1 - x) * AT(y0, x0) + (x - x0) * AT(y0, x1);
    double bottom = (x1 - x) * AT(y1, x0) + (x - x0) * AT(y1, x1);
#undef AT
    return (y1 - y) * top + (y - y0) * bottom;
}

void augment_warp_ref(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                      bool planar)
{
    const geometry g = geometry_of(p, w, h);
    const size_t plane = (size_t)w * (size_t)h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double qx = reflect_tf(g.cx + g.z * (x - g.cx), w);
            double qy = reflect_tf(g.cy + g.z * (y - g.cy), h);
            double rx = reflect_tf(g.cx + g.b00 * (qx - g.cx) + g.b01 * (qy - g.cy), w);
            double ry = reflect_tf(g.cy + g.b10 * (qx - g.cx) + g.b11 * (qy - g.cy), h);
            size_t pixel = (size_t)y * (size_t)w + (size_t)x;
            for (int c = 0; c < channels; c++) {
                float v = (float)(bilinear_tf(src, w, h, channels, c, rx, ry) / 255.0);
                dst[planar ? (size_t)c * plane + pixel : pixel * (size_t)channels + (size_t)c] = v;
            }
        }
}

/* reflect_tf() without divisions for the usual case, one mirror away from the image; the
 * caller has already found x outside [0, len-1]. Same function, written as
 * "x mod 2len, then mirror the upper half": the tests hold the two to each other. */
static inline double reflect_out(double x, double len)
{
    const double period = 2.0 * len;
    if (x < -len || x >= period) {
        x = fmod(x, period);
        if (x < 0) x += period;
        if (x < len) return fmin(x, len - 1);
    } else if (x < 0) {
        return fmax(-x - 1, 0.0);
    }
    return fmin(fmax(period - 1 - x, 0.0), len - 1);
}

/* Rounds a point in [0, 2^20) to the nearest multiple of 2^-32 (the addition does it: the
 * spacing of doubles in [2^20, 2^21) is 2^-32). A point within 2^-33 of a pixel centre then
 * lands on it (cos(pi/2) is 6e-17, not 0), which keeps flips, quarter turns and the identity
 * bit-exact, and the fraction left is exact in float to 2^-24. */
static const double snap_magic = 0x1p20;

/* uint8 -> float by table: a third faster than int-to-float conversions here, which
 * stall on their false dependency on the destination register. */
#define BYTES4(n) n, n + 1, n + 2, n + 3
#define BYTES16(n) BYTES4(n), BYTES4(n + 4), BYTES4(n + 8), BYTES4(n + 12)
#define BYTES64(n) BYTES16(n), BYTES16(n + 16), BYTES16(n + 32), BYTES16(n + 48)
static const float byte_float[256] = {BYTES64(0), BYTES64(64), BYTES64(128), BYTES64(192)};

/* Where the zoom stage of row y samples (q.y, reflected), as the row's constant part of the
 * source point: r = (row_x, row_y) + (b00, b10) * q.x. */
static inline void row_origin(const geometry *g, int h, int y, double *row_x, double *row_y)
{
    double qy = g->cy + g->z * ((double)y - g->cy);
    if (qy < 0 || qy > h - 1) qy = reflect_out(qy, h);
    *row_x = g->cx + g->b01 * (qy - g->cy) - g->b00 * g->cx;
    *row_y = g->cy + g->b11 * (qy - g->cy) - g->b10 * g->cx;
}

/* Output pixels [x0, x1) of row y, one at a time; `channels` is a constant where it is
 * inlined for 3. The source point is computed directly from the row's constants (two
 * multiply-adds, no accumulated drift) and reflected only when it falls outside. */
static inline __attribute__((always_inline)) void span_body(const uint8_t *src, int w, int h, const int channels,
                                                            const geometry *g, float *dst, bool planar, int y,
                                                            int x0, int x1)
{
    const double lastx = w - 1, lasty = h - 1, q0x = g->cx - g->z * g->cx; /* q.x = z*x + q0x */
    const size_t plane = (size_t)w * (size_t)h, row = (size_t)w * (size_t)channels;
    const size_t pixel_stride = planar ? 1 : (size_t)channels, channel_stride = planar ? plane : 1;
    const float scale = 1.0f / 255.0f; /* the loader's rescale, folded into the weights */
    double row_x, row_y;
    row_origin(g, h, y, &row_x, &row_y);
    float *out = dst + ((size_t)y * (size_t)w + (size_t)x0) * pixel_stride;
    for (int x = x0; x < x1; x++, out += pixel_stride) {
        double qx = g->z * (double)x + q0x;
        if (qx < 0 || qx > lastx) qx = reflect_out(qx, w);
        double rx = row_x + g->b00 * qx, ry = row_y + g->b10 * qx;
        if (rx < 0 || rx > lastx) rx = reflect_out(rx, w);
        if (ry < 0 || ry > lasty) ry = reflect_out(ry, h);
        rx = (rx + snap_magic) - snap_magic;
        ry = (ry + snap_magic) - snap_magic;
        int ix = (int)rx, iy = (int)ry;
        float ax = (float)(rx - ix), ay = (float)(ry - iy);
        float bx = 1.0f - ax, by = (1.0f - ay) * scale;
        ay *= scale;
        const float w00 = bx * by, w01 = ax * by, w10 = bx * ay, w11 = ax * ay;
        /* At the last column or row the fraction is 0: the step may stay put. */
        const size_t dx = ix < w - 1 ? (size_t)channels : 0;
        const uint8_t *s0 = src + ((size_t)iy * (size_t)w + (size_t)ix) * (size_t)channels;
        const uint8_t *s1 = s0 + (iy < h - 1 ? row : 0);
        for (int c = 0; c < channels; c++)
            out[(size_t)c * channel_stride] = w00 * byte_float[s0[c]] + w01 * byte_float[s0[dx + (size_t)c]] +
                                              w10 * byte_float[s1[c]] + w11 * byte_float[s1[dx + (size_t)c]];
    }
}

static void span_scalar(const uint8_t *src, int w, int h, int channels, const geometry *g, float *dst, bool planar,
                        int y, int x0, int x1)
{
    if (channels == 3)
        span_body(src, w, h, 3, g, dst, planar, y, x0, x1);
    else
        span_body(src, w, h, channels, g, dst, planar, y, x0, x1);
}

void augment_warp_scalar(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                         bool planar)
{
    const geometry g = geometry_of(p, w, h);
    for (int y = 0; y < h; y++) span_scalar(src, w, h, channels, &g, dst, planar, y, 0, w);
}

#if defined(__x86_64__)
/* The same warp eight output pixels at a time with AVX2 and FMA (three channels): source
 * points in double, the 32-bit words at the four neighbours gathered, channels split by
 * shifts. A group whose points lie more than one mirror outside, or whose gather would read
 * past the image's last byte, goes through span_scalar. */
#define AVX2_TARGET __attribute__((target("avx2,fma")))

/* Offsets are int32: the image must stay below 2^31 bytes, and points below 2^20 to snap. */
static bool avx2_fits(int w, int h) { return (double)w * (double)h * 3.0 < 0x1p31 && w < (1 << 20) && h < (1 << 20); }

/* Reflects four points into [0, len-1]; false when one is more than a mirror away. */
static inline AVX2_TARGET bool reflect4(__m256d *x, double len)
{
    const __m256d v = *x, zero = _mm256_setzero_pd(), last = _mm256_set1_pd(len - 1);
    const __m256d lo = _mm256_cmp_pd(v, zero, _CMP_LT_OQ), hi = _mm256_cmp_pd(v, last, _CMP_GT_OQ);
    if (!_mm256_movemask_pd(_mm256_or_pd(lo, hi))) return true;
    const __m256d far = _mm256_or_pd(_mm256_cmp_pd(v, _mm256_set1_pd(-len), _CMP_LT_OQ),
                                     _mm256_cmp_pd(v, _mm256_set1_pd(2.0 * len), _CMP_GE_OQ));
    if (_mm256_movemask_pd(far)) return false;
    __m256d r = _mm256_blendv_pd(v, _mm256_sub_pd(_mm256_set1_pd(-1.0), v), lo);
    r = _mm256_blendv_pd(r, _mm256_sub_pd(_mm256_set1_pd(2.0 * len - 1), v), hi);
    *x = _mm256_min_pd(_mm256_max_pd(r, zero), last);
    return true;
}

/* Snaps eight points (two halves) as snap_magic does and splits them into whole pixels and
 * float fractions. */
static inline AVX2_TARGET void split8(__m256d a, __m256d b, __m256i *whole, __m256 *frac)
{
    const __m256d magic = _mm256_set1_pd(snap_magic);
    a = _mm256_sub_pd(_mm256_add_pd(a, magic), magic);
    b = _mm256_sub_pd(_mm256_add_pd(b, magic), magic);
    const __m128i ia = _mm256_cvttpd_epi32(a), ib = _mm256_cvttpd_epi32(b);
    const __m128 fa = _mm256_cvtpd_ps(_mm256_sub_pd(a, _mm256_cvtepi32_pd(ia)));
    const __m128 fb = _mm256_cvtpd_ps(_mm256_sub_pd(b, _mm256_cvtepi32_pd(ib)));
    *whole = _mm256_set_m128i(ib, ia);
    *frac = _mm256_set_m128(fb, fa);
}

/* Channel c (0..2) of eight gathered RGBx words, as floats. */
static inline AVX2_TARGET __m256 channel8(__m256i words, int c)
{
    const __m256i byte = _mm256_set1_epi32(0xFF);
    __m256i v = c == 0 ? words : c == 1 ? _mm256_srli_epi32(words, 8) : _mm256_srli_epi32(words, 16);
    return _mm256_cvtepi32_ps(_mm256_and_si256(v, byte));
}

/* Writes eight RGB pixels as 24 interleaved floats. */
static inline AVX2_TARGET void store_interleaved8(float *out, __m256 r, __m256 g, __m256 b)
{
    const __m256i ir0 = _mm256_setr_epi32(0, 0, 0, 1, 0, 0, 2, 0), ig0 = _mm256_setr_epi32(0, 0, 0, 0, 1, 0, 0, 2),
                  ib0 = _mm256_setr_epi32(0, 0, 0, 0, 0, 1, 0, 0);
    const __m256i ir1 = _mm256_setr_epi32(0, 3, 0, 0, 4, 0, 0, 5), ig1 = _mm256_setr_epi32(0, 0, 3, 0, 0, 4, 0, 0),
                  ib1 = _mm256_setr_epi32(2, 0, 0, 3, 0, 0, 4, 0);
    const __m256i ir2 = _mm256_setr_epi32(0, 0, 6, 0, 0, 7, 0, 0), ig2 = _mm256_setr_epi32(5, 0, 0, 6, 0, 0, 7, 0),
                  ib2 = _mm256_setr_epi32(0, 5, 0, 0, 6, 0, 0, 7);
    /* blend masks: bit i set takes lane i from the second operand */
    __m256 o0 = _mm256_blend_ps(_mm256_permutevar8x32_ps(r, ir0), _mm256_permutevar8x32_ps(g, ig0), 0x92);
    o0 = _mm256_blend_ps(o0, _mm256_permutevar8x32_ps(b, ib0), 0x24);
    __m256 o1 = _mm256_blend_ps(_mm256_permutevar8x32_ps(b, ib1), _mm256_permutevar8x32_ps(r, ir1), 0x92);
    o1 = _mm256_blend_ps(o1, _mm256_permutevar8x32_ps(g, ig1), 0x24);
    __m256 o2 = _mm256_blend_ps(_mm256_permutevar8x32_ps(g, ig2), _mm256_permutevar8x32_ps(b, ib2), 0x92);
    o2 = _mm256_blend_ps(o2, _mm256_permutevar8x32_ps(r, ir2), 0x24);
    _mm256_storeu_ps(out, o0);
    _mm256_storeu_ps(out + 8, o1);
    _mm256_storeu_ps(out + 16, o2);
}

static AVX2_TARGET void row_avx2(const uint8_t *src, int w, int h, const geometry *g, float *dst, bool planar, int y)
{
    const size_t plane = (size_t)w * (size_t)h;
    const int last_word = w * h * 3 - 4; /* the highest offset a 4-byte gather may read from */
    const __m256d z = _mm256_set1_pd(g->z), q0x = _mm256_set1_pd(g->cx - g->z * g->cx);
    const __m256d b00 = _mm256_set1_pd(g->b00), b10 = _mm256_set1_pd(g->b10);
    const __m256i wm1 = _mm256_set1_epi32(w - 1), hm1 = _mm256_set1_epi32(h - 1), three = _mm256_set1_epi32(3);
    const __m256i row = _mm256_set1_epi32(3 * w), width = _mm256_set1_epi32(w);
    const __m256 one = _mm256_set1_ps(1.0f), scale = _mm256_set1_ps(1.0f / 255.0f);
    double rx0, ry0;
    row_origin(g, h, y, &rx0, &ry0);
    const __m256d row_x = _mm256_set1_pd(rx0), row_y = _mm256_set1_pd(ry0);
    __m256d xa = _mm256_setr_pd(0, 1, 2, 3), xb = _mm256_setr_pd(4, 5, 6, 7);
    const __m256d eight = _mm256_set1_pd(8);
    int x = 0;
    for (; x + 8 <= w; x += 8, xa = _mm256_add_pd(xa, eight), xb = _mm256_add_pd(xb, eight)) {
        __m256d qa = _mm256_fmadd_pd(z, xa, q0x), qb = _mm256_fmadd_pd(z, xb, q0x);
        bool ok = reflect4(&qa, w) && reflect4(&qb, w);
        __m256d sxa = _mm256_fmadd_pd(b00, qa, row_x), sxb = _mm256_fmadd_pd(b00, qb, row_x);
        __m256d sya = _mm256_fmadd_pd(b10, qa, row_y), syb = _mm256_fmadd_pd(b10, qb, row_y);
        ok = ok && reflect4(&sxa, w) && reflect4(&sxb, w) && reflect4(&sya, h) && reflect4(&syb, h);
        if (!ok) {
            span_scalar(src, w, h, 3, g, dst, planar, y, x, x + 8);
            continue;
        }
        __m256i ix, iy;
        __m256 ax, ay;
        split8(sxa, sxb, &ix, &ax);
        split8(sya, syb, &iy, &ay);
        const __m256i o00 = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(iy, width), ix), three);
        const __m256i dx = _mm256_and_si256(_mm256_cmpgt_epi32(wm1, ix), three); /* 0 at the last column */
        const __m256i dy = _mm256_and_si256(_mm256_cmpgt_epi32(hm1, iy), row);   /* 0 at the last row */
        const __m256i o01 = _mm256_add_epi32(o00, dx), o10 = _mm256_add_epi32(o00, dy);
        const __m256i o11 = _mm256_add_epi32(o10, dx);
        if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(o11, _mm256_set1_epi32(last_word)))) {
            span_scalar(src, w, h, 3, g, dst, planar, y, x, x + 8);
            continue;
        }
        const int *base = (const int *)(const void *)src;
        const __m256i p00 = _mm256_i32gather_epi32(base, o00, 1), p01 = _mm256_i32gather_epi32(base, o01, 1);
        const __m256i p10 = _mm256_i32gather_epi32(base, o10, 1), p11 = _mm256_i32gather_epi32(base, o11, 1);
        const __m256 bx = _mm256_sub_ps(one, ax), by = _mm256_mul_ps(_mm256_sub_ps(one, ay), scale);
        ay = _mm256_mul_ps(ay, scale);
        const __m256 w00 = _mm256_mul_ps(bx, by), w01 = _mm256_mul_ps(ax, by);
        const __m256 w10 = _mm256_mul_ps(bx, ay), w11 = _mm256_mul_ps(ax, ay);
        __m256 v[3];
        for (int c = 0; c < 3; c++) {
            __m256 t = _mm256_mul_ps(w00, channel8(p00, c));
            t = _mm256_fmadd_ps(w01, channel8(p01, c), t);
            t = _mm256_fmadd_ps(w10, channel8(p10, c), t);
            v[c] = _mm256_fmadd_ps(w11, channel8(p11, c), t);
        }
        const size_t pixel = (size_t)y * (size_t)w + (size_t)x;
        if (planar)
            for (int c = 0; c < 3; c++) _mm256_storeu_ps(dst + (size_t)c * plane + pixel, v[c]);
        else
            store_interleaved8(dst + pixel * 3, v[0], v[1], v[2]);
    }
    if (x < w) span_scalar(src, w, h, 3, g, dst, planar, y, x, w);
}
#endif

void augment_warp(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                  bool planar)
{
#if defined(__x86_64__)
    if (channels == 3 && avx2_fits(w, h) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        const geometry g = geometry_of(p, w, h);
        for (int y = 0; y < h; y++) row_avx2(src, w, h, &g, dst, planar, y);
        return;
    }
#endif
    augment_warp_scalar(src, w, h, channels, p, dst, planar);
}
