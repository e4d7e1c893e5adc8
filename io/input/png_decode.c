/* PNG to 8-bit RGB through libpng's own transforms.
 *
 * libpng reports errors by calling our error function, which must not return: it records
 * the message and longjmps back to the setjmp in read_png / write_png. Those two functions
 * keep all the state that outlives a jump in a struct that lives in their caller's frame
 * (C11 7.13.2.1 makes only the setjmp caller's own modified non-volatile locals
 * indeterminate), and they read none of their own locals after the jump; so no local needs
 * `volatile`, and the caller frees whatever the struct holds on every path.
 *
 * A file and a memory buffer are two sources behind one decoder (decode): they differ only
 * in the function libpng reads through. */
#include "io/input/png_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/error.h"

/* Signature (8) + IHDR length (4) + type (4) + width (4) + height (4). */
enum { HEADER_PEEK = 24, ERRNO_TEXT = 128 };

/* libpng's messages are short; two of them and our words fit in PNG_REASON_MAX. */
enum { LIBPNG_MESSAGE_MAX = 112 };

/* libpng's messages: the error that stopped it and the first warning before it (libpng
 * explains "Invalid IHDR data" only in warnings). */
typedef struct {
    char error[LIBPNG_MESSAGE_MAX];
    char warning[LIBPNG_MESSAGE_MAX];
} png_messages;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_messages *m = png_get_error_ptr(png);
    snprintf(m->error, sizeof m->error, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings are kept, not printed: one bad ancillary chunk must not spam stderr per file. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    png_messages *m = png_get_error_ptr(png);
    if (m->warning[0] == '\0') snprintf(m->warning, sizeof m->warning, "%s", msg);
}

png_limits png_default_limits(void)
{
    return (png_limits){PNG_DECODE_MAX_SIDE, PNG_DECODE_MAX_SIDE, PNG_DECODE_MAX_IMAGE_BYTES};
}

void rgb_image_free(rgb_image *img)
{
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- Reading ----------------------------------------------------------------------------- */

/* Everything one decode owns; lives in the entry point's frame (see the top comment). */
typedef struct {
    png_messages msg;
    png_limits limits;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *pixels;
    uint32_t width, height;
    char reason[PNG_REASON_MAX]; /* our own reason, when the failure is not libpng's */
} png_reader;

/* Reads from the FILE, telling a short file ("truncated") from an I/O error. */
static void read_bytes(png_structp png, png_bytep data, size_t length)
{
    FILE *f = png_get_io_ptr(png);
    if (fread(data, 1, length, f) != length) png_error(png, ferror(f) ? "read error" : "file is truncated");
}

/* The bytes of a memory source not read yet. */
typedef struct {
    const uint8_t *p;
    size_t left;
} png_memory;

static void read_memory(png_structp png, png_bytep data, size_t length)
{
    png_memory *m = png_get_io_ptr(png);
    if (length > m->left) png_error(png, "file is truncated");
    memcpy(data, m->p, length);
    m->p += length;
    m->left -= length;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int reader_fail(png_reader *r, int code, const char *what)
{
    snprintf(r->reason, sizeof r->reason, "%s", what);
    return code;
}

/* The first `got` bytes of the source start with the PNG signature; notes the declared size
 * (for the message when libpng refuses it). */
static int check_signature(png_reader *r, const unsigned char *head, size_t got)
{
    if (got == 0) return reader_fail(r, GC_EUSAGE, "empty file, not a PNG");
    if (got < 8 || png_sig_cmp(head, 0, 8) != 0) return reader_fail(r, GC_EUSAGE, "not a PNG file (bad signature)");
    if (got >= HEADER_PEEK && memcmp(head + 12, "IHDR", 4) == 0) {
        r->width = be32(head + 16);
        r->height = be32(head + 20);
    }
    return GC_OK;
}

/* check_signature on the file's first bytes, then rewinds, so that libpng reads the whole
 * file. */
static int check_header(png_reader *r, FILE *f)
{
    unsigned char head[HEADER_PEEK];
    size_t got = fread(head, 1, sizeof head, f);
    if (ferror(f)) return reader_fail(r, GC_EUSAGE, "read error");
    GC_TRY(check_signature(r, head, got));
    if (fseek(f, 0, SEEK_SET) != 0) return reader_fail(r, GC_EUSAGE, "cannot seek");
    return GC_OK;
}

/* Reads the image as 8-bit RGB into r->pixels. A libpng error lands here via longjmp with
 * its message in r->msg.error; our own failures return with r->reason set. */
static int read_png(png_reader *r)
{
    if (setjmp(png_jmpbuf(r->png))) return GC_EUSAGE;

    png_read_info(r->png, r->info);
    png_uint_32 w, h;
    int depth, colour;
    png_get_IHDR(r->png, r->info, &w, &h, &depth, &colour, NULL, NULL, NULL);
    r->width = w;
    r->height = h;
    /* libpng already refused sides over the limits; this bounds the memory we ask for. */
    if ((uint64_t)w * h * 4 > r->limits.max_image_bytes) {
        snprintf(r->reason, sizeof r->reason,
                 "declared dimensions %u x %u are absurd (%llu bytes decoded, over the limit of %zu)",
                 (unsigned)w, (unsigned)h, (unsigned long long)w * h * 4, r->limits.max_image_bytes);
        return GC_EUSAGE;
    }

    if (depth == 16) png_set_strip_16(r->png); /* keeps the high byte */
    if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    if ((colour & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(r->png);
    /* A palette's tRNS expands to an alpha channel; drop it like a real one. */
    if ((colour & PNG_COLOR_MASK_ALPHA) || png_get_valid(r->png, r->info, PNG_INFO_tRNS))
        png_set_strip_alpha(r->png);
    png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    if (png_get_bit_depth(r->png, r->info) != 8 || png_get_channels(r->png, r->info) != 3 ||
        png_get_rowbytes(r->png, r->info) != (size_t)w * 3)
        return reader_fail(r, GC_ERUNTIME, "libpng did not convert the image to 8-bit RGB");

    size_t row_bytes = (size_t)w * 3;
    r->pixels = malloc(row_bytes * h);
    r->rows = malloc(sizeof *r->rows * h);
    if (!r->pixels || !r->rows) {
        snprintf(r->reason, sizeof r->reason, "out of memory decoding a %u x %u image", (unsigned)w, (unsigned)h);
        return GC_ERUNTIME;
    }
    for (png_uint_32 y = 0; y < h; y++) r->rows[y] = r->pixels + y * row_bytes;
    png_read_image(r->png, r->rows); /* all Adam7 passes */
    png_read_end(r->png, NULL);      /* checks the rest of the file: truncation after IDAT */
    return GC_OK;
}

/* The reason for a failure of read_png, from libpng's words where they are the reason. */
static void explain(const png_reader *r, char reason[PNG_REASON_MAX])
{
    if (r->reason[0])
        snprintf(reason, PNG_REASON_MAX, "%s", r->reason);
    else if (strstr(r->msg.warning, "exceeds user limit"))
        snprintf(reason, PNG_REASON_MAX, "declared dimensions %u x %u are absurd (limit %u x %u)",
                 (unsigned)r->width, (unsigned)r->height, (unsigned)r->limits.max_width,
                 (unsigned)r->limits.max_height);
    else if (r->msg.warning[0] && strstr(r->msg.error, "Invalid IHDR"))
        snprintf(reason, PNG_REASON_MAX, "invalid PNG: %s (%s)", r->msg.error, r->msg.warning);
    else
        snprintf(reason, PNG_REASON_MAX, "invalid PNG: %s", r->msg.error);
}

/* Opens path for reading if it is a regular file. Non-blocking, so that a FIFO named like a
 * PNG cannot hang us. */
static int open_regular(const char *path, FILE **out, char reason[PNG_REASON_MAX])
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        char text[ERRNO_TEXT];
        int err = errno;
        if (strerror_r(err, text, sizeof text) != 0) snprintf(text, sizeof text, "errno %d", err);
        snprintf(reason, PNG_REASON_MAX, "cannot open: %s", text);
        if (fd >= 0) close(fd);
        return GC_EUSAGE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(reason, PNG_REASON_MAX, "not a regular file");
        return GC_EUSAGE;
    }
    *out = fdopen(fd, "rb");
    if (!*out) {
        close(fd);
        snprintf(reason, PNG_REASON_MAX, "out of memory opening the file");
        return GC_ERUNTIME;
    }
    return GC_OK;
}

/* The decoder behind both entry points: libpng reads the source through read_fn(io), under
 * r->limits. Frees everything r holds; on success hands the pixels to *out. */
static int decode(png_reader *r, png_rw_ptr read_fn, void *io, rgb_image *out, char reason[PNG_REASON_MAX])
{
    int rc = GC_OK;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r->msg, on_png_error, on_png_warning);
    if (r->png) r->info = png_create_info_struct(r->png);
    if (!r->png || !r->info) {
        snprintf(reason, PNG_REASON_MAX, "out of memory creating the PNG reader");
        rc = GC_ERUNTIME;
    } else {
        png_set_read_fn(r->png, io, read_fn);
        png_set_user_limits(r->png, r->limits.max_width, r->limits.max_height);
        png_set_chunk_malloc_max(r->png, PNG_DECODE_MAX_CHUNK_BYTES);
        /* Only IHDR, PLTE, tRNS, IDAT and IEND make the pixels: libpng skips every other chunk
         * unread. Besides the work saved, this bounds memory: libpng 1.6.39 allocates a text,
         * ICC or eXIf chunk's declared length (up to 2 GiB) before reading it, whatever
         * png_set_chunk_malloc_max says (found by fuzz_png: tests/fuzz/regressions/png). */
        png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
        rc = read_png(r);
        if (rc != GC_OK) explain(r, reason);
    }

    if (r->png) png_destroy_read_struct(&r->png, r->info ? &r->info : NULL, NULL);
    free(r->rows);
    if (rc != GC_OK) {
        free(r->pixels);
        return rc;
    }
    *out = (rgb_image){r->pixels, (int)r->width, (int)r->height};
    return GC_OK;
}

int png_decode_file(const char *path, const png_limits *limits, rgb_image *out,
                    char reason[PNG_REASON_MAX])
{
    memset(out, 0, sizeof *out);
    reason[0] = '\0';
    png_reader r = {.limits = limits ? *limits : png_default_limits()};
    FILE *f;
    GC_TRY(open_regular(path, &f, reason));
    int rc = check_header(&r, f);
    if (rc == GC_OK)
        rc = decode(&r, read_bytes, f, out, reason);
    else
        snprintf(reason, PNG_REASON_MAX, "%s", r.reason);
    fclose(f); /* read-only: nothing to lose */
    return rc;
}

int png_decode_memory(const uint8_t *data, size_t size, const png_limits *limits, rgb_image *out,
                      char reason[PNG_REASON_MAX])
{
    memset(out, 0, sizeof *out);
    reason[0] = '\0';
    png_reader r = {.limits = limits ? *limits : png_default_limits()};
    if (check_signature(&r, data, size) != GC_OK) {
        snprintf(reason, PNG_REASON_MAX, "%s", r.reason);
        return GC_EUSAGE;
    }
    png_memory m = {data, size};
    return decode(&r, read_memory, &m, out, reason);
}

int png_decode_rgb(const char *path, const png_limits *limits, rgb_image *out)
{
    char reason[PNG_REASON_MAX];
    int rc = png_decode_file(path, limits, out, reason);
    return rc == GC_OK ? GC_OK : gc_fail(rc, "%s: %s", path, reason);
}

/* ---- Writing ----------------------------------------------------------------------------- */

typedef struct {
    png_messages msg;
    png_structp png;
    png_infop info;
} png_writer;

/* Writes the image; a libpng error lands here via longjmp (see the top comment). */
static int write_png(png_writer *w, FILE *f, const uint8_t *pixels, int width, int height)
{
    if (setjmp(png_jmpbuf(w->png))) return GC_ERUNTIME;
    png_init_io(w->png, f);
    png_set_IHDR(w->png, w->info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(w->png, w->info);
    for (int y = 0; y < height; y++) png_write_row(w->png, pixels + (size_t)y * (size_t)width * 3);
    png_write_end(w->png, NULL);
    return GC_OK;
}

int png_write_rgb(const char *path, const uint8_t *pixels, int width, int height)
{
    if (width < 1 || height < 1 || (uint32_t)width > PNG_DECODE_MAX_SIDE || (uint32_t)height > PNG_DECODE_MAX_SIDE)
        return gc_fail(GC_EUSAGE, "%s: cannot write a %d x %d image", path, width, height);
    FILE *f = fopen(path, "wb");
    if (!f) return gc_fail(GC_EUSAGE, "cannot create '%s': %s", path, strerror(errno));

    png_writer w = {0};
    w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w.msg, on_png_error, on_png_warning);
    if (w.png) w.info = png_create_info_struct(w.png);
    int rc = w.png && w.info ? write_png(&w, f, pixels, width, height) : GC_ERUNTIME;
    if (!w.png || !w.info) snprintf(w.msg.error, sizeof w.msg.error, "out of memory creating the PNG writer");
    if (w.png) png_destroy_write_struct(&w.png, w.info ? &w.info : NULL);

    if (fclose(f) != 0 && rc == GC_OK) {
        snprintf(w.msg.error, sizeof w.msg.error, "%s", strerror(errno));
        rc = GC_ERUNTIME;
    }
    if (rc != GC_OK) {
        remove(path); /* no half-written file left behind */
        return gc_fail(rc, "writing '%s' failed: %s", path, w.msg.error);
    }
    return GC_OK;
}
