/* Training augmentation of the seed (Keras RandomFlip("horizontal_and_vertical"),
 * RandomRotation(0.3), RandomZoom(0.2), all with reflect fill and bilinear interpolation, on
 * the TensorFlow backend that tf.data runs them on), fused into one warp per image that also
 * does the loader's uint8 -> float rescale by 1/255.
 *
 * Coordinates follow TensorFlow's ImageProjectiveTransformV3: pixel centres are at integer
 * (x, y), x right, y down, and output pixel (x, y) takes the input at the transformed point.
 * With c = ((w-1)/2, (h-1)/2), Keras's three layers give, for output pixel p:
 *     q  = c + zoom * (p - c)             RandomZoom's transform, applied last
 *     q' = reflect(q)                     RandomZoom reflects the *rotated* image
 *     r  = c + S * Rot(angle) * (q' - c)  RandomRotation, then RandomFlip (S = diag(+-1, +-1))
 *     out(p) = bilinear(in, reflect(r)) / 255
 * with Rot(a) = [cos a, -sin a; sin a, cos a] and reflect() TensorFlow's "reflect" fill,
 * (d c b a | a b c d | d c b a), per axis. One interpolation instead of Keras's three. */
#ifndef GCBENCH_IO_AUGMENT_H
#define GCBENCH_IO_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The seed's layer arguments: RandomRotation(0.3) is a fraction of a full turn, so angles
 * are uniform in +-0.3*2*pi; RandomZoom(0.2) draws zoom uniform in [1-0.2, 1+0.2]. */
#define AUGMENT_ROTATION_FACTOR 0.3
#define AUGMENT_ZOOM_FACTOR 0.2

typedef struct {
    bool flip_h;  /* left-right: output column x shows input column w-1-x */
    bool flip_v;  /* top-bottom: output row y shows input row h-1-y */
    double angle; /* radians; > 0 turns the content counter-clockwise on screen (as Keras) */
    double zoom;  /* input distance per output distance (Keras's 1 + factor): > 1 shrinks the
                     content (zooms out), < 1 magnifies it (zooms in) */
} augment_params;

/* The parameters of one image: a pure function of (seed, epoch, image index), read from the
 * stream rng_key(seed, RNG_STREAM_AUGMENT, epoch, image_index) at counters 0..3 (flip_h,
 * flip_v, angle, zoom), so independent of threads and batches, and the same for both runs. */
augment_params augment_draw(uint64_t seed, int epoch, size_t image_index);

/* Warps src (h x w x channels uint8, HWC) into dst (channels*h*w floats, CHW when planar,
 * else HWC), rescaled by 1/255. w, h, channels >= 1; the parameters must be finite. No
 * allocation; thread-safe. Matches augment_warp_ref within 1e-5; identity parameters give
 * exactly (float)src * (1.0f / 255.0f), like the loader. */
void augment_warp(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                  bool planar);

/* The portable warp that augment_warp runs where AVX2 is missing (and for row tails);
 * exposed so the tests can hold both to the reference on any machine. */
void augment_warp_scalar(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                         bool planar);

/* The same warp, written plainly in double precision: the reference the tests hold the fast
 * version to. */
void augment_warp_ref(const uint8_t *src, int w, int h, int channels, const augment_params *p, float *dst,
                      bool planar);

#endif
