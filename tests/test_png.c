/* PNG decoding through libpng: every colour type and bit depth decodes to the expected
 * 8-bit RGB; resizing matches its definition; bad files are refused naming the file. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "tempdir.h"
#include "io/input/resize.h"

/* ---- A temporary folder per test ---------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    test_temp_dir(tmpdir, sizeof tmpdir, "png");
    gc_error_clear();
}

static void drop_tmpdir(void)
{
    test_remove_tree(tmpdir);
    gc_error_clear();
}

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

TestSuite(png, .init = make_tmpdir, .fini = drop_tmpdir);
TestSuite(png_bad, .init = make_tmpdir, .fini = drop_tmpdir);

/* ---- Fixtures: any colour type and depth through libpng's writer ------------------------- */

typedef struct {
    int width, height, depth, colour, interlace;
    const png_color *palette;
    int num_palette;
    const png_byte *trans; /* palette alpha, num_trans entries */
    int num_trans;
    const png_color_16 *trans_colour; /* grey or RGB colour key */
} png_spec;

static int channels_of(int colour)
{
    switch (colour) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_RGB: return 3;
    default: return 4;
    }
}

/* A deterministic sample for (x, y, c) in [0, 2^depth) (or below the palette size). */
static uint16_t pattern(const png_spec *sp, int x, int y, int c)
{
    uint32_t h = (uint32_t)x * 73856093u ^ (uint32_t)y * 19349663u ^ (uint32_t)(c + 1) * 83492791u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    if (sp->colour == PNG_COLOR_TYPE_PALETTE) return (uint16_t)(h % (uint32_t)sp->num_palette);
    return (uint16_t)(h & ((1u << sp->depth) - 1));
}

/* Writes the pattern as sp describes, packing samples as PNG stores them (sub-byte depths
 * MSB first, 16-bit big-endian). */
static void write_fixture(const char *path, const png_spec *sp)
{
    int ch = channels_of(sp->colour);
    size_t row_bytes = ((size_t)sp->width * (size_t)ch * (size_t)sp->depth + 7) / 8;
    png_bytep data = calloc((size_t)sp->height, row_bytes);
    png_bytepp rows = calloc((size_t)sp->height, sizeof *rows);
    cr_assert(data && rows);
    for (int y = 0; y < sp->height; y++) {
        rows[y] = data + (size_t)y * row_bytes;
        for (int x = 0; x < sp->width; x++)
            for (int c = 0; c < ch; c++) {
                uint16_t v = pattern(sp, x, y, c);
                size_t bit = ((size_t)x * (size_t)ch + (size_t)c) * (size_t)sp->depth;
                if (sp->depth == 16) {
                    rows[y][bit / 8] = (png_byte)(v >> 8);
                    rows[y][bit / 8 + 1] = (png_byte)v;
                } else {
                    rows[y][bit / 8] |= (png_byte)(v << (8 - sp->depth - (int)(bit % 8)));
                }
            }
    }

    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)sp->width, (png_uint_32)sp->height, sp->depth, sp->colour,
                 sp->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (sp->palette) png_set_PLTE(png, info, sp->palette, sp->num_palette);
    if (sp->trans || sp->trans_colour) png_set_tRNS(png, info, sp->trans, sp->num_trans, sp->trans_colour);
    png_write_info(png, info);
    png_write_image(png, rows); /* all Adam7 passes when interlaced */
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    cr_assert_eq(fclose(f), 0);
    free(rows);
    free(data);
}

static uint8_t to_8bit(uint16_t v, int depth)
{
    switch (depth) {
    case 1: return (uint8_t)(v * 255);
    case 2: return (uint8_t)(v * 0x55);
    case 4: return (uint8_t)(v * 0x11);
    case 8: return (uint8_t)v;
    default: return (uint8_t)(v >> 8); /* 16: png_set_strip_16 keeps the high byte */
    }
}

/* What the pattern should decode to: grey replicated, palette looked up, alpha dropped. */
static void expected_rgb(const png_spec *sp, int x, int y, uint8_t out[3])
{
    if (sp->colour == PNG_COLOR_TYPE_PALETTE) {
        png_color p = sp->palette[pattern(sp, x, y, 0)];
        out[0] = p.red, out[1] = p.green, out[2] = p.blue;
    } else if ((sp->colour & PNG_COLOR_MASK_COLOR) == 0) {
        out[0] = out[1] = out[2] = to_8bit(pattern(sp, x, y, 0), sp->depth);
    } else {
        for (int c = 0; c < 3; c++) out[c] = to_8bit(pattern(sp, x, y, c), sp->depth);
    }
}

static void check_decodes(const char *name, const png_spec *sp)
{
    const char *path = tmp_path(name);
    write_fixture(path, sp);
    rgb_image img;
    cr_assert_eq(png_decode_rgb(path, NULL, &img), GC_OK, "%s: %s", name, gc_error_message());
    cr_assert_eq(img.width, sp->width, "%s", name);
    cr_assert_eq(img.height, sp->height, "%s", name);
    for (int y = 0; y < sp->height; y++)
        for (int x = 0; x < sp->width; x++) {
            uint8_t want[3];
            expected_rgb(sp, x, y, want);
            const uint8_t *got = img.pixels + 3 * ((size_t)y * (size_t)sp->width + (size_t)x);
            for (int c = 0; c < 3; c++)
                cr_assert_eq(got[c], want[c], "%s: pixel (%d, %d) channel %d is %d, expected %d", name, x,
                             y, c, got[c], want[c]);
        }
    rgb_image_free(&img);
    cr_assert_null(img.pixels);
}

/* 13 x 9: odd, so sub-byte rows end mid-byte and every Adam7 pass has pixels. */
enum { W = 13, H = 9 };

static png_spec plain(int colour, int depth) { return (png_spec){.width = W, .height = H, .depth = depth, .colour = colour, .interlace = PNG_INTERLACE_NONE}; }

Test(png, grey_every_depth)
{
    const int depths[] = {1, 2, 4, 8, 16};
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        char name[32];
        snprintf(name, sizeof name, "grey%d.png", depths[i]);
        png_spec sp = plain(PNG_COLOR_TYPE_GRAY, depths[i]);
        check_decodes(name, &sp);
    }
}

Test(png, grey_alpha_8_and_16)
{
    png_spec a = plain(PNG_COLOR_TYPE_GRAY_ALPHA, 8), b = plain(PNG_COLOR_TYPE_GRAY_ALPHA, 16);
    check_decodes("ga8.png", &a);
    check_decodes("ga16.png", &b);
}

Test(png, rgb_and_rgba_8_and_16)
{
    png_spec s[4] = {plain(PNG_COLOR_TYPE_RGB, 8), plain(PNG_COLOR_TYPE_RGB, 16),
                     plain(PNG_COLOR_TYPE_RGB_ALPHA, 8), plain(PNG_COLOR_TYPE_RGB_ALPHA, 16)};
    const char *names[4] = {"rgb8.png", "rgb16.png", "rgba8.png", "rgba16.png"};
    for (int i = 0; i < 4; i++) check_decodes(names[i], &s[i]);
}

static png_color palette[16];
static png_byte palette_alpha[16];

static void fill_palette(void)
{
    for (int i = 0; i < 16; i++) {
        palette[i] = (png_color){(png_byte)(i * 16 + 3), (png_byte)(255 - i * 11), (png_byte)(i * 7 + 100)};
        palette_alpha[i] = (png_byte)(i * 17); /* entry 0 fully transparent: still its colour */
    }
}

Test(png, palette_without_and_with_trns)
{
    fill_palette();
    const int depths[] = {1, 2, 4, 8};
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        int entries = depths[i] >= 4 ? 16 : 1 << depths[i];
        png_spec sp = plain(PNG_COLOR_TYPE_PALETTE, depths[i]);
        sp.palette = palette;
        sp.num_palette = entries;
        char name[32];
        snprintf(name, sizeof name, "pal%d.png", depths[i]);
        check_decodes(name, &sp);
        sp.trans = palette_alpha;
        sp.num_trans = entries > 3 ? entries - 3 : entries; /* tRNS may be shorter than PLTE */
        snprintf(name, sizeof name, "pal%d_trns.png", depths[i]);
        check_decodes(name, &sp);
    }
}

/* A grey or RGB colour key (tRNS) marks a colour transparent: its pixels keep their colour. */
Test(png, colour_key_trns_is_ignored)
{
    png_color_16 key = {.gray = 0x37, .red = 0x12, .green = 0x34, .blue = 0x56};
    png_spec g = plain(PNG_COLOR_TYPE_GRAY, 8), c = plain(PNG_COLOR_TYPE_RGB, 8);
    g.trans_colour = &key;
    c.trans_colour = &key;
    check_decodes("grey_key.png", &g);
    check_decodes("rgb_key.png", &c);
}

Test(png, interlaced_adam7)
{
    fill_palette();
    png_spec s[5] = {plain(PNG_COLOR_TYPE_RGB, 8), plain(PNG_COLOR_TYPE_GRAY, 2),
                     plain(PNG_COLOR_TYPE_RGB_ALPHA, 16), plain(PNG_COLOR_TYPE_PALETTE, 4),
                     plain(PNG_COLOR_TYPE_GRAY_ALPHA, 8)};
    s[3].palette = palette;
    s[3].num_palette = 16;
    s[3].trans = palette_alpha;
    s[3].num_trans = 16;
    for (int i = 0; i < 5; i++) {
        s[i].interlace = PNG_INTERLACE_ADAM7;
        char name[32];
        snprintf(name, sizeof name, "adam7_%d.png", i);
        check_decodes(name, &s[i]);
    }
    /* Sizes smaller than the 8 x 8 Adam7 tile leave some passes empty. */
    const int sizes[][2] = {{1, 1}, {2, 1}, {1, 5}, {3, 3}, {8, 8}, {33, 17}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        png_spec sp = plain(PNG_COLOR_TYPE_RGB, 8);
        sp.width = sizes[i][0];
        sp.height = sizes[i][1];
        sp.interlace = PNG_INTERLACE_ADAM7;
        char name[32];
        snprintf(name, sizeof name, "adam7_%dx%d.png", sp.width, sp.height);
        check_decodes(name, &sp);
    }
}

Test(png, writer_round_trips)
{
    enum { RW = 37, RH = 23 };
    uint8_t src[RW * RH * 3];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 131 + (i >> 5));
    const char *path = tmp_path("round.png");
    cr_assert_eq(png_write_rgb(path, src, RW, RH), GC_OK, "%s", gc_error_message());
    rgb_image img;
    cr_assert_eq(png_decode_rgb(path, NULL, &img), GC_OK, "%s", gc_error_message());
    cr_assert_eq(img.width, RW);
    cr_assert_eq(img.height, RH);
    cr_assert_eq(memcmp(img.pixels, src, sizeof src), 0);
    rgb_image_free(&img);
}

Test(png, writer_names_the_file_it_cannot_create)
{
    uint8_t px[3] = {1, 2, 3};
    const char *path = tmp_path("no/such/folder/x.png");
    cr_assert_eq(png_write_rgb(path, px, 1, 1), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), path), "message: %s", gc_error_message());
}

/* ---- Resizing ---------------------------------------------------------------------------- */

/* The definition in io/input/resize.h, written out per output pixel, in double. */
static double reference_resize(const uint8_t *src, int sw, int sh, int dw, int dh, int x, int y, int c)
{
    double iy = (y + 0.5) * ((double)sh / dh) - 0.5, ix = (x + 0.5) * ((double)sw / dw) - 0.5;
    double fy = floor(iy), fx = floor(ix);
    int y0 = fy < 0 ? 0 : (int)fy, y1 = (int)ceil(iy) > sh - 1 ? sh - 1 : (int)ceil(iy);
    int x0 = fx < 0 ? 0 : (int)fx, x1 = (int)ceil(ix) > sw - 1 ? sw - 1 : (int)ceil(ix);
    double ty = iy - fy, tx = ix - fx;
#define S(yy, xx) ((double)src[3 * ((size_t)(yy) * (size_t)sw + (size_t)(xx)) + (size_t)c])
    double top = S(y0, x0) + (S(y0, x1) - S(y0, x0)) * tx;
    double bottom = S(y1, x0) + (S(y1, x1) - S(y1, x0)) * tx;
#undef S
    return top + (bottom - top) * ty;
}

static uint8_t *random_image(int w, int h, unsigned seed)
{
    uint8_t *p = malloc((size_t)w * (size_t)h * 3);
    cr_assert_not_null(p);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
    return p;
}

Test(resize, equal_size_is_an_exact_copy)
{
    uint8_t *src = random_image(31, 17, 1), *dst = malloc(31 * 17 * 3);
    cr_assert_not_null(dst);
    resize_bilinear_rgb(src, 31, 17, dst, 31, 17);
    cr_assert_eq(memcmp(src, dst, 31 * 17 * 3), 0);
    free(src);
    free(dst);
}

/* Values worked out by hand from tf.image.resize's half-pixel rule. */
Test(resize, known_values)
{
    /* 2 -> 4 columns: sources -0.25, 0.25, 0.75, 1.25 (clamped at both edges). */
    uint8_t up_src[2 * 3] = {0, 0, 0, 100, 200, 40}, up[4 * 3];
    resize_bilinear_rgb(up_src, 2, 1, up, 4, 1);
    const uint8_t up_want[4 * 3] = {0, 0, 0, 25, 50, 10, 75, 150, 30, 100, 200, 40};
    cr_assert_eq(memcmp(up, up_want, sizeof up), 0, "2->4: %d %d %d %d", up[0], up[3], up[6], up[9]);

    /* 4 -> 2 columns: sources 0.5 and 2.5, the means of neighbouring pairs. */
    uint8_t down_src[4 * 3] = {0, 0, 0, 40, 40, 40, 80, 80, 80, 120, 120, 120}, down[2 * 3];
    resize_bilinear_rgb(down_src, 4, 1, down, 2, 1);
    cr_assert_eq(down[0], 20);
    cr_assert_eq(down[3], 100);

    /* 3 -> 2 columns: sources 0.25 and 1.75. */
    uint8_t third_src[3 * 3] = {0, 0, 0, 100, 100, 100, 200, 200, 200}, third[2 * 3];
    resize_bilinear_rgb(third_src, 3, 1, third, 2, 1);
    cr_assert_eq(third[0], 25);
    cr_assert_eq(third[3], 175);

    /* 2 x 2 -> 4 x 4, both axes: pixel (1, 1) samples (0.25, 0.25). */
    uint8_t sq_src[2 * 2 * 3] = {0, 0, 0, 100, 100, 100, 100, 100, 100, 200, 200, 200}, sq[4 * 4 * 3];
    resize_bilinear_rgb(sq_src, 2, 2, sq, 4, 4);
    cr_assert_eq(sq[3 * (1 * 4 + 1)], 50);
    cr_assert_eq(sq[3 * (0 * 4 + 0)], 0);
    cr_assert_eq(sq[3 * (3 * 4 + 3)], 200);
    cr_assert_eq(sq[3 * (0 * 4 + 3)], 100);

    /* One pixel to many: every output is that pixel. */
    uint8_t one[3] = {7, 8, 9}, many[5 * 3 * 3];
    resize_bilinear_rgb(one, 1, 1, many, 5, 3);
    for (int i = 0; i < 15; i++) cr_assert(many[3 * i] == 7 && many[3 * i + 1] == 8 && many[3 * i + 2] == 9);
}

/* Up, down, mixed and non-square against the reference: within rounding (0.5 plus float
 * error), so at most 1 apart, and nearly always equal. */
Test(resize, matches_the_reference_up_and_down)
{
    const int cases[][4] = {{17, 11, 32, 32},  {300, 280, 150, 150}, {64, 64, 7, 7}, {5, 7, 41, 29},
                            {100, 3, 10, 30}, {299, 301, 300, 300}, {2, 2, 3, 3}, {640, 480, 300, 300}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int sw = cases[k][0], sh = cases[k][1], dw = cases[k][2], dh = cases[k][3];
        uint8_t *src = random_image(sw, sh, (unsigned)k + 7), *dst = malloc((size_t)dw * (size_t)dh * 3);
        cr_assert_not_null(dst);
        resize_bilinear_rgb(src, sw, sh, dst, dw, dh);
        size_t off = 0, total = (size_t)dw * (size_t)dh * 3;
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++)
                for (int c = 0; c < 3; c++) {
                    double want = reference_resize(src, sw, sh, dw, dh, x, y, c);
                    int got = dst[3 * ((size_t)y * (size_t)dw + (size_t)x) + (size_t)c];
                    cr_assert(fabs(got - want) <= 0.5 + 1e-3 || (fabs(got - want) <= 1.0 && ++off),
                              "%dx%d -> %dx%d: (%d, %d, %d) is %d, reference %.4f", sw, sh, dw, dh, x, y, c,
                              got, want);
                }
        cr_assert(off * 1000 <= total, "%dx%d -> %dx%d: %zu of %zu values off by more than rounding", sw, sh,
                  dw, dh, off, total);
        free(src);
        free(dst);
    }
}

/* ---- Bad files --------------------------------------------------------------------------- */

static void expect_refused(const char *path, const png_limits *limits, const char *mentions)
{
    gc_error_clear();
    rgb_image img = {(uint8_t *)1, 5, 5};
    int rc = png_decode_rgb(path, limits, &img);
    cr_assert_eq(rc, GC_EUSAGE, "%s: rc %d, message '%s'", path, rc, gc_error_message());
    cr_assert_null(img.pixels, "%s: output left set", path);
    cr_assert(strstr(gc_error_message(), path), "message '%s' does not name %s", gc_error_message(), path);
    cr_assert(strstr(gc_error_message(), mentions), "message '%s' does not say '%s'", gc_error_message(),
              mentions);
    gc_error_clear();
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

typedef struct {
    unsigned char *data;
    size_t size;
} blob;

static blob read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    blob b = {malloc(1 << 20), 0};
    cr_assert_not_null(b.data);
    b.size = fread(b.data, 1, 1 << 20, f);
    fclose(f);
    return b;
}

/* CRC-32 of PNG chunks (ISO 3309), bit by bit. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Offset of the first chunk of this type (its length field). */
static size_t find_chunk(const blob *b, const char *type)
{
    size_t at = 8;
    while (at + 12 <= b->size) {
        if (memcmp(b->data + at + 4, type, 4) == 0) return at;
        at += 12 + get_be32(b->data + at);
    }
    cr_assert_fail("no %s chunk", type);
    return 0;
}

static void fix_crc(blob *b, size_t chunk)
{
    uint32_t len = get_be32(b->data + chunk);
    put_be32(b->data + chunk + 8 + len, crc32_of(b->data + chunk + 4, 4 + (size_t)len));
}

/* A valid noisy 64 x 64 RGB file (noise keeps IDAT large). */
static blob valid_file(const char *path)
{
    uint8_t *px = random_image(64, 64, 99);
    cr_assert_eq(png_write_rgb(path, px, 64, 64), GC_OK, "%s", gc_error_message());
    free(px);
    return read_all(path);
}

Test(png_bad, missing_file)
{
    expect_refused(tmp_path("absent.png"), NULL, "cannot open");
}

Test(png_bad, not_a_png)
{
    const char *path = tmp_path("text.png");
    write_bytes(path, "hello, this is not a PNG file\n", 30);
    expect_refused(path, NULL, "not a PNG");
    /* Shorter than a signature. */
    write_bytes(path, "\x89PN", 3);
    expect_refused(path, NULL, "not a PNG");
    write_bytes(path, "", 0);
    expect_refused(path, NULL, "empty");
    /* A JPEG's first bytes. */
    static const char jpeg[] = "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01";
    write_bytes(path, jpeg, sizeof jpeg - 1);
    expect_refused(path, NULL, "not a PNG");
}

Test(png_bad, a_folder_is_not_a_file)
{
    const char *path = tmp_path("folder.png");
    cr_assert_eq(mkdir(path, 0700), 0);
    expect_refused(path, NULL, "not a regular file");
}

Test(png_bad, truncated_inside_idat)
{
    const char *path = tmp_path("cut.png");
    blob b = valid_file(path);
    size_t idat = find_chunk(&b, "IDAT");
    write_bytes(path, b.data, idat + 8 + get_be32(b.data + idat) / 2);
    expect_refused(path, NULL, "truncated");
    /* Cut in the signature's wake, inside IHDR. */
    write_bytes(path, b.data, 20);
    expect_refused(path, NULL, "truncated");
    free(b.data);
}

Test(png_bad, truncated_after_the_image_data)
{
    const char *path = tmp_path("no_iend.png");
    blob b = valid_file(path);
    size_t iend = find_chunk(&b, "IEND");
    write_bytes(path, b.data, iend);
    expect_refused(path, NULL, "truncated");
    free(b.data);
}

Test(png_bad, idat_crc_mismatch)
{
    const char *path = tmp_path("crc.png");
    blob b = valid_file(path);
    size_t idat = find_chunk(&b, "IDAT");
    b.data[idat + 8 + get_be32(b.data + idat) / 2] ^= 0x5A;
    write_bytes(path, b.data, b.size);
    expect_refused(path, NULL, "CRC");
    free(b.data);
}

Test(png_bad, ihdr_crc_mismatch)
{
    const char *path = tmp_path("ihdr_crc.png");
    blob b = valid_file(path);
    b.data[8 + 8 + 12] ^= 0x01; /* the interlace byte, a valid value either way */
    write_bytes(path, b.data, b.size);
    expect_refused(path, NULL, "CRC");
    free(b.data);
}

/* The byte after the 2-byte zlib header starts the first deflate block: 0xFF makes its type
 * 3, which does not exist. The CRC is fixed, so only zlib can notice. */
Test(png_bad, corrupt_zlib_stream_with_valid_crc)
{
    const char *path = tmp_path("zlib.png");
    blob b = valid_file(path);
    size_t idat = find_chunk(&b, "IDAT");
    b.data[idat + 8 + 2] = 0xFF;
    fix_crc(&b, idat);
    write_bytes(path, b.data, b.size);
    expect_refused(path, NULL, "invalid PNG");
    expect_refused(path, NULL, "IDAT");
    /* And a broken zlib header (check bits wrong). */
    b.data[idat + 8 + 1] ^= 0x01;
    fix_crc(&b, idat);
    write_bytes(path, b.data, b.size);
    expect_refused(path, NULL, "IDAT");
    free(b.data);
}

/* A hand-made file: signature, IHDR declaring width x height RGB 8-bit, a tiny IDAT (an
 * empty zlib stream), IEND. */
static void write_declared(const char *path, uint32_t width, uint32_t height)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    static const unsigned char zlib_empty[8] = {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    unsigned char file[8 + 25 + 20 + 12];
    size_t at = 0;
    memcpy(file, sig, 8);
    at = 8;
    unsigned char ihdr[13] = {0};
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;
    ihdr[9] = 2;
    const struct {
        const char *type;
        const unsigned char *data;
        uint32_t len;
    } chunks[3] = {{"IHDR", ihdr, 13}, {"IDAT", zlib_empty, 8}, {"IEND", NULL, 0}};
    for (int i = 0; i < 3; i++) {
        put_be32(file + at, chunks[i].len);
        memcpy(file + at + 4, chunks[i].type, 4);
        if (chunks[i].len) memcpy(file + at + 8, chunks[i].data, chunks[i].len);
        put_be32(file + at + 8 + chunks[i].len, crc32_of(file + at + 4, 4 + (size_t)chunks[i].len));
        at += 12 + chunks[i].len;
    }
    write_bytes(path, file, at);
}

Test(png_bad, absurd_declared_dimensions)
{
    const char *path = tmp_path("bomb.png");
    write_declared(path, 100000, 100000);
    expect_refused(path, NULL, "absurd");
    expect_refused(path, NULL, "100000 x 100000");
    write_declared(path, 16385, 1);
    expect_refused(path, NULL, "16385 x 1");
    write_declared(path, 1, 0x7FFFFFFFu);
    expect_refused(path, NULL, "absurd");
    write_declared(path, 0x80000000u, 1); /* beyond PNG's own range */
    expect_refused(path, NULL, "invalid PNG");
    write_declared(path, 0, 5);
    expect_refused(path, NULL, "IHDR");
}

/* The byte cap refuses an image that passes the side limits. */
Test(png_bad, image_over_the_byte_cap)
{
    const char *path = tmp_path("big.png");
    write_declared(path, 1024, 1024);
    png_limits lim = png_default_limits();
    lim.max_image_bytes = (size_t)1 << 20; /* 1024 * 1024 * 4 is 4 MiB */
    expect_refused(path, &lim, "absurd");
    expect_refused(path, &lim, "1024 x 1024");
    /* Under the default limits the same header gets as far as its (empty) image data. */
    expect_refused(path, NULL, "invalid PNG");
}

Test(png_bad, unreadable_file)
{
    if (geteuid() == 0) cr_skip_test("running as root: permissions do not stop reading");
    const char *path = tmp_path("secret.png");
    blob b = valid_file(path);
    free(b.data);
    cr_assert_eq(chmod(path, 0), 0);
    expect_refused(path, NULL, "cannot open");
}

Test(png_bad, dangling_symlink)
{
    char target[256];
    snprintf(target, sizeof target, "%s", tmp_path("nowhere"));
    const char *path = tmp_path("link.png");
    cr_assert_eq(symlink(target, path), 0);
    expect_refused(path, NULL, "cannot open");
}
