/* One PNG file (or its bytes in memory) to 8-bit RGB through libpng, with limits against decompression bombs; and
 * the small 8-bit RGB writer that the tests and tools use to make PNG files. */
#ifndef GCBENCH_IO_PNG_DECODE_H
#define GCBENCH_IO_PNG_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Default limits: a declared width or height above 16384 is refused by libpng itself
 * (png_set_user_limits); so is a source image whose width * height * 4 bytes exceed 1 GiB
 * (we decode it whole before resizing); and chunks that libpng buffers whole over 8 MiB
 * (png_set_chunk_malloc_max). Ancillary chunks other than tRNS are skipped unread. */
#define PNG_DECODE_MAX_SIDE 16384u
#define PNG_DECODE_MAX_IMAGE_BYTES ((size_t)1 << 30)
#define PNG_DECODE_MAX_CHUNK_BYTES ((size_t)8 << 20)

/* Room for a failure reason (without the file name). */
#define PNG_REASON_MAX 256

typedef struct {
    uint32_t max_width, max_height; /* declared dimensions above these are refused */
    size_t max_image_bytes;         /* width * height * 4 above this is refused */
} png_limits;

/* The defaults above. */
png_limits png_default_limits(void);

/* A decoded image: height x width x 3 bytes, HWC, row-major; pixels from malloc. */
typedef struct {
    uint8_t *pixels;
    int width, height;
} rgb_image;

/* Frees the pixels and zeroes the struct; safe on a zeroed struct. */
void rgb_image_free(rgb_image *img);

/* Decodes path into *out as 8-bit RGB: 16-bit samples keep their high byte, grey is
 * replicated to three channels, palettes are looked up, alpha (and tRNS) is dropped, not
 * composited; Adam7 interlacing is undone. limits NULL means png_default_limits().
 * Records no message, so it may run on worker threads: on failure returns GC_EUSAGE (the
 * file is missing, unreadable, not a PNG, corrupt, truncated or over a limit) or
 * GC_ERUNTIME (out of memory), writes the reason, without the file name, into `reason`
 * and leaves *out zeroed. */
int png_decode_file(const char *path, const png_limits *limits, rgb_image *out,
                    char reason[PNG_REASON_MAX]);

/* png_decode_file on the `size` bytes at data (a PNG file's whole content) instead of a file:
 * the same decoder, limits, results and reasons. data may be NULL when size is 0. */
int png_decode_memory(const uint8_t *data, size_t size, const png_limits *limits, rgb_image *out,
                      char reason[PNG_REASON_MAX]);

/* png_decode_file that records a failure with gc_fail as "PATH: reason". */
int png_decode_rgb(const char *path, const png_limits *limits, rgb_image *out);

/* Writes width x height 8-bit RGB pixels (HWC, row-major) as a non-interlaced PNG.
 * Returns GC_OK, GC_EUSAGE (cannot create the file, or a size below 1) or GC_ERUNTIME
 * (libpng or write failure), with a message naming the file. */
int png_write_rgb(const char *path, const uint8_t *pixels, int width, int height);

#endif
