#include "io/input/resize.h"

#include <math.h>
#include <string.h>

/* Where output index i samples along an axis of src_n pixels (see resize.h). */
typedef struct {
    int lo, hi;
    float t;
} sample_at;

static sample_at axis_sample(int i, float scale, int src_n)
{
    float in = ((float)i + 0.5f) * scale - 0.5f;
    float fl = floorf(in);
    int lo = (int)fl, hi = (int)ceilf(in);
    return (sample_at){lo < 0 ? 0 : lo, hi > src_n - 1 ? src_n - 1 : hi, in - fl};
}

void resize_bilinear_rgb(const uint8_t *src, int src_w, int src_h, uint8_t *dst, int dst_w, int dst_h)
{
    if (src_w == dst_w && src_h == dst_h) {
        memcpy(dst, src, (size_t)src_w * (size_t)src_h * 3);
        return;
    }
    float sx = (float)src_w / (float)dst_w, sy = (float)src_h / (float)dst_h;
    size_t src_row = (size_t)src_w * 3;
    for (int y = 0; y < dst_h; y++) {
        sample_at ay = axis_sample(y, sy, src_h);
        const uint8_t *r0 = src + (size_t)ay.lo * src_row, *r1 = src + (size_t)ay.hi * src_row;
        uint8_t *out = dst + (size_t)y * (size_t)dst_w * 3;
        for (int x = 0; x < dst_w; x++) {
            /* The column weights are recomputed per row: a few flops beside the decode,
             * and no allocation that could fail. */
            sample_at ax = axis_sample(x, sx, src_w);
            const uint8_t *a = r0 + 3 * ax.lo, *b = r0 + 3 * ax.hi;
            const uint8_t *c = r1 + 3 * ax.lo, *d = r1 + 3 * ax.hi;
            for (int ch = 0; ch < 3; ch++) {
                float top = (float)a[ch] + ((float)b[ch] - (float)a[ch]) * ax.t;
                float bottom = (float)c[ch] + ((float)d[ch] - (float)c[ch]) * ax.t;
                float v = top + (bottom - top) * ay.t;
                /* v lies in [0, 255] up to rounding error; clamp before converting. */
                v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
                out[3 * x + ch] = (uint8_t)(v + 0.5f);
            }
        }
    }
}
