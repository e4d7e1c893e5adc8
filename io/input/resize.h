/* Bilinear resizing of 8-bit RGB images, as tf.image.resize does it. */
#ifndef GCBENCH_IO_RESIZE_H
#define GCBENCH_IO_RESIZE_H

#include <stdint.h>

/* Resizes src (src_h x src_w x 3, HWC, row-major) into dst (dst_h x dst_w x 3). All sizes
 * must be >= 1; src and dst must not overlap. The definition, per output row y (columns
 * likewise), in float as TensorFlow's resize_bilinear with half_pixel_centers computes it
 * (tf.image.resize, method "bilinear", antialias off):
 *     scale = src_h / dst_h
 *     in    = (y + 0.5) * scale - 0.5          source coordinate of the pixel centre
 *     y0    = max(floor(in), 0)                clamped to the edge, so that
 *     y1    = min(ceil(in), src_h - 1)         outside the image repeats the edge
 *     ty    = in - floor(in)
 *     top    = s(y0, x0) + (s(y0, x1) - s(y0, x0)) * tx
 *     bottom = s(y1, x0) + (s(y1, x1) - s(y1, x0)) * tx
 *     out    = top + (bottom - top) * ty, rounded to the nearest integer
 * TensorFlow returns that value as float; we store it rounded, so we differ by at most 0.5.
 * Equal sizes copy the image exactly. */
void resize_bilinear_rgb(const uint8_t *src, int src_w, int src_h, uint8_t *dst, int dst_w, int dst_h);

#endif
