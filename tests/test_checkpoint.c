/* The checkpoint container: what is written reads back, and damage is refused with a message
 * naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "engine/train/checkpoint.h"
#include "engine/base/error.h"

static char path[] = "/tmp/gcbench_test_ckptXXXXXX";

static void make_path(void)
{
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
}

static void remove_path(void) { unlink(path); }

TestSuite(checkpoint, .init = make_path, .fini = remove_path);

static void write_sample(void)
{
    float w[1000];
    for (int i = 0; i < 1000; i++) w[i] = (float)i * 0.5f;
    const char *text = "epochs=10\nbatch=128\n";
    checkpoint_section s[] = {{CHECKPOINT_TAG('C', 'O', 'N', 'F'), strlen(text), text},
                              {CHECKPOINT_TAG('W', 'G', 'H', 'T'), sizeof w, w},
                              {CHECKPOINT_TAG('E', 'M', 'P', 'T'), 0, NULL}};
    cr_assert_eq(checkpoint_write(path, s, 3), GC_OK, "%s", gc_error_message());
}

/* The file's bytes, for damaging. */
static uint8_t *read_bytes(size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*size);
    cr_assert(b && fread(b, 1, *size, f) == *size);
    fclose(f);
    return b;
}

static void expect_refused(const uint8_t *data, size_t size, const char *mentions)
{
    checkpoint_file f;
    gc_error_clear();
    cr_expect_eq(checkpoint_parse(data, size, "x.ckpt", &f), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "x.ckpt") != NULL, "%s", gc_error_message());
    cr_expect(strstr(gc_error_message(), mentions) != NULL, "'%s' should mention '%s'", gc_error_message(), mentions);
    gc_error_clear();
}

Test(checkpoint, sections_read_back_exactly)
{
    write_sample();
    checkpoint_file f;
    cr_assert_eq(checkpoint_read(path, &f), GC_OK, "%s", gc_error_message());
    cr_assert_eq(f.count, 3);
    const checkpoint_section *w = checkpoint_find(&f, CHECKPOINT_TAG('W', 'G', 'H', 'T'));
    cr_assert(w && w->size == 4000);
    for (int i = 0; i < 1000; i++) cr_expect_eq(((const float *)w->data)[i], (float)i * 0.5f);
    const checkpoint_section *c = checkpoint_find(&f, CHECKPOINT_TAG('C', 'O', 'N', 'F'));
    cr_assert(c && c->size == 20 && memcmp(c->data, "epochs=10\nbatch=128\n", 20) == 0);
    cr_expect(checkpoint_find(&f, CHECKPOINT_TAG('E', 'M', 'P', 'T'))->size == 0);
    cr_expect_null(checkpoint_find(&f, CHECKPOINT_TAG('N', 'O', 'N', 'E')));
    checkpoint_free(&f);
}

/* The file is written beside its place as <path>.tmp and renamed over it: after a write only
 * the file itself is left. */
Test(checkpoint, a_write_leaves_no_temporary_file)
{
    char tmp[sizeof path + 4];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(path); /* a first checkpoint */
    write_sample();
    cr_expect(access(path, F_OK) == 0);
    cr_expect(access(tmp, F_OK) != 0, "%s is left behind", tmp);
}

/* When the rename fails (here the destination is a folder), the temporary file goes, the
 * error names the file, and what was there is left alone. */
Test(checkpoint, a_failed_write_removes_its_temporary_file)
{
    char tmp[sizeof path + 4], inside[sizeof path + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(inside, sizeof inside, "%s/keep", path);
    unlink(path);
    cr_assert_eq(mkdir(path, 0700), 0);
    FILE *f = fopen(inside, "w");
    cr_assert(f);
    fclose(f);
    const char *text = "x";
    checkpoint_section s = {CHECKPOINT_TAG('C', 'O', 'N', 'F'), 1, text};
    gc_error_clear();
    cr_expect_eq(checkpoint_write(path, &s, 1), GC_ERUNTIME);
    cr_expect(strstr(gc_error_message(), path) != NULL, "%s", gc_error_message());
    gc_error_clear();
    cr_expect(access(tmp, F_OK) != 0, "%s is left behind", tmp);
    cr_expect(access(inside, F_OK) == 0);
    unlink(inside);
    rmdir(path);
}

Test(checkpoint, every_truncation_is_refused)
{
    write_sample();
    size_t size;
    uint8_t *b = read_bytes(&size);
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 97)
        expect_refused(b, cut, cut < 8 ? "not a gcbench checkpoint" : cut < 32 ? "not a gcbench checkpoint" : "truncated");
    free(b);
}

Test(checkpoint, every_bit_flip_is_refused)
{
    write_sample();
    size_t size;
    uint8_t *b = read_bytes(&size);
    for (size_t i = 0; i < size; i += (i < 64 ? 1 : 61)) {
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (uint8_t)(1u << bit);
            checkpoint_file f;
            gc_error_clear();
            cr_expect_eq(checkpoint_parse(b, size, "x.ckpt", &f), GC_EUSAGE, "flip of bit %d of byte %zu accepted", bit, i);
            cr_expect(strstr(gc_error_message(), "x.ckpt") != NULL);
            b[i] ^= (uint8_t)(1u << bit);
        }
    }
    gc_error_clear();
    free(b);
}

Test(checkpoint, foreign_files_and_other_versions_are_refused)
{
    const char png[] = "\x89PNG\r\n\x1a\n................................";
    expect_refused((const uint8_t *)png, sizeof png, "not a gcbench checkpoint");
    write_sample();
    size_t size;
    uint8_t *b = read_bytes(&size);
    b[8] = 99; /* version */
    expect_refused(b, size, "version 99");
    free(b);
}

/* Numbers are in host order: a header in the other order is named as such, not misread.
 * Catches: the byte-order check dropped (the file is then "version 16777216"). */
Test(checkpoint, a_file_of_the_other_byte_order_is_refused_by_name)
{
    write_sample();
    size_t size;
    uint8_t *b = read_bytes(&size);
    uint32_t version;
    memcpy(&version, b + 8, 4);
    version = __builtin_bswap32(version);
    memcpy(b + 8, &version, 4);
    expect_refused(b, size, "other byte order");
    free(b);
}

Test(checkpoint, sections_that_overrun_the_file_are_refused_even_with_a_valid_checksum)
{
    write_sample();
    size_t size;
    uint8_t *b = read_bytes(&size);
    /* First section's length made huge, then the checksum recomputed: only the bounds check stands. */
    uint64_t huge = UINT64_C(1) << 40;
    memcpy(b + 32 + 8, &huge, 8);
    uint64_t h = checkpoint_hash(b + 32, size - 32);
    memcpy(b + 24, &h, 8);
    expect_refused(b, size, "malformed");
    free(b);
}

Test(checkpoint, a_missing_file_names_it)
{
    checkpoint_file f;
    gc_error_clear();
    cr_expect_eq(checkpoint_read("/nonexistent/run.ckpt", &f), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), "/nonexistent/run.ckpt") != NULL);
    gc_error_clear();
}

Test(checkpoint, cursor_reads_are_bounds_checked)
{
    checkpoint_buffer b = {0};
    checkpoint_put_u64(&b, 7);
    checkpoint_put_str(&b, "gc");
    checkpoint_put_f64(&b, 0.25);
    cr_assert_eq(checkpoint_buffer_check(&b), GC_OK);
    checkpoint_section s = {1, b.size, b.data};
    checkpoint_cursor c = checkpoint_cursor_of(&s);
    char name[8];
    cr_expect_eq(checkpoint_get_u64(&c), 7u);
    checkpoint_get_str(&c, name, sizeof name);
    cr_expect_str_eq(name, "gc");
    cr_expect_eq(checkpoint_get_f64(&c), 0.25);
    cr_expect(!c.bad && c.left == 0);
    cr_expect_eq(checkpoint_get_u64(&c), 0u);
    cr_expect(c.bad, "reading past the end is flagged");
    checkpoint_cursor d = checkpoint_cursor_of(&s);
    checkpoint_get_u64(&d);
    char tiny[2];
    checkpoint_get_str(&d, tiny, sizeof tiny); /* "gc" needs 3 bytes */
    cr_expect(d.bad);
    checkpoint_buffer_free(&b);
}
