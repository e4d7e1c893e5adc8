/* libFuzzer harness: bytes as a PNG file through png_decode_memory (libpng, our transforms
 * and limits), then whatever decodes resized to 17x13 as the image folder loader does. */
#include <stdlib.h>
#include <string.h>

#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "io/input/resize.h"
#include "tests/fuzz/fuzz.h"

enum { OUT_W = 17, OUT_H = 13, SIGNATURE = 8 };

/* Smaller than the defaults so that no input costs seconds or GiBs; the limit checks run the
 * same way at any size. 2048 x 2048 x 4 is over 8 MiB, so the byte limit is reachable too. */
static const png_limits LIMITS = {2048, 2048, (size_t)8 << 20};

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

static void decode(const uint8_t *data, size_t size)
{
    rgb_image img;
    char reason[PNG_REASON_MAX];
    int rc = png_decode_memory(data, size, &LIMITS, &img, reason);
    if (rc == GC_OK) {
        /* The contract: a whole image within the limits. */
        if (!img.pixels || img.width < 1 || img.height < 1 || (uint32_t)img.width > LIMITS.max_width ||
            (uint32_t)img.height > LIMITS.max_height)
            abort();
        uint8_t out[OUT_H * OUT_W * 3];
        resize_bilinear_rgb(img.pixels, img.width, img.height, out, OUT_W, OUT_H);
        rgb_image_free(&img);
    } else if (img.pixels || reason[0] == '\0' || (rc != GC_EUSAGE && rc != GC_ERUNTIME)) {
        abort(); /* a failure leaves *out zeroed and says why */
    }
    gc_error_clear(); /* decoding records nothing; a stray message would hide the next one */
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* CRC-32 as PNG chunks use it (zlib's crc32). */
static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c >> 1 ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Rewrites the CRC of every whole chunk to match its bytes; returns whether any changed. */
static int fix_crcs(uint8_t *data, size_t size)
{
    int changed = 0;
    for (size_t at = SIGNATURE; size - at >= 12;) {
        uint32_t len = be32(data + at);
        if (len > size - at - 12) break;
        uint32_t crc = crc32_of(data + at + 4, (size_t)len + 4);
        uint8_t *stored = data + at + 8 + len;
        if (be32(stored) != crc) {
            stored[0] = (uint8_t)(crc >> 24), stored[1] = (uint8_t)(crc >> 16);
            stored[2] = (uint8_t)(crc >> 8), stored[3] = (uint8_t)crc;
            changed = 1;
        }
        at += 12 + (size_t)len;
    }
    return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    /* Mutations almost never keep a chunk's CRC right, and libpng stops at a bad one: without
     * this the chunk contents would go unfuzzed. The same bytes again with the CRCs fixed. */
    if (size <= SIGNATURE) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) return 0;
    memcpy(fixed, data, size);
    if (fix_crcs(fixed, size)) decode(fixed, size);
    free(fixed);
    return 0;
}
