/* PNG class folders: sorted classes and files, the train/validation layout, the same
 * dataset with any thread count, and bad input refused naming the folder or file. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/base/error.h"
#include "io/input/dataset.h"
#include "io/input/image_folder.h"
#include "io/input/png_decode.h"
#include "tempdir.h"
#include "io/input/resize.h"

/* ---- A temporary tree per test ------------------------------------------------------------ */

static char root[64];

static void make_root(void)
{
    test_temp_dir(root, sizeof root, "folder");
    gc_error_clear();
}

static void drop_root(void)
{
    test_remove_tree(root);
    gc_error_clear();
}

TestSuite(image_folder, .init = make_root, .fini = drop_root);

/* root + "/" + the formatted relative path, in one of a few rotating buffers (so that two
 * paths can be used in one call). */
static const char *at(const char *fmt, ...)
{
    static char bufs[4][512];
    static int next;
    char *buf = bufs[next++ % 4];
    int n = snprintf(buf, sizeof bufs[0], "%s/", root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return buf;
}

static void make_dir(const char *path) { cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s", path); }

/* A w x h image whose every pixel is (id, 255 - id, 7): solid, so any resize keeps it. */
static void solid_png(const char *path, int w, int h, int id)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 3);
    cr_assert_not_null(px);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        px[3 * i] = (uint8_t)id;
        px[3 * i + 1] = (uint8_t)(255 - id);
        px[3 * i + 2] = 7;
    }
    cr_assert_eq(png_write_rgb(path, px, w, h), GC_OK, "%s", gc_error_message());
    free(px);
}

/* A w x h image of noise from seed. */
static void noise_png(const char *path, int w, int h, unsigned seed)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 3);
    cr_assert_not_null(px);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) {
        seed = seed * 1103515245u + 12345u;
        px[i] = (uint8_t)(seed >> 16);
    }
    cr_assert_eq(png_write_rgb(path, px, w, h), GC_OK, "%s", gc_error_message());
    free(px);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Two classes with `per_class` solid images each, ids 10 * class + index. */
static void two_classes(const char *dir, const char *a, const char *b, int per_class)
{
    make_dir(dir);
    const char *names[2] = {a, b};
    for (int c = 0; c < 2; c++) {
        char cls[512];
        snprintf(cls, sizeof cls, "%s/%s", dir, names[c]);
        make_dir(cls);
        for (int i = 0; i < per_class; i++) {
            char file[600];
            snprintf(file, sizeof file, "%s/img%02d.png", cls, i);
            solid_png(file, 9 + i, 6 + 2 * i, 10 * c + i);
        }
    }
}

static image_folder_options options(int size) { return (image_folder_options){.image_size = size}; }

static int first_pixel(const dataset *d, size_t i) { return dataset_image(d, i)[0]; }

static void expect_zeroed(const dataset *d)
{
    cr_assert_null(d->pixels, "pixels left after an error");
    cr_assert_null(d->labels, "labels left after an error");
    cr_assert_eq(d->count, 0);
}

/* Loading dir fails with GC_EUSAGE, a message naming `names` and saying `says`. */
static void expect_load_error(const char *dir, const image_folder_options *opt, const char *names,
                              const char *says)
{
    dataset d;
    gc_error_clear();
    int rc = image_folder_load(&d, dir, opt, NULL);
    cr_assert_eq(rc, GC_EUSAGE, "%s: rc %d (%s)", dir, rc, gc_error_message());
    cr_assert(strstr(gc_error_message(), names), "message '%s' does not name %s", gc_error_message(), names);
    cr_assert(strstr(gc_error_message(), says), "message '%s' does not say '%s'", gc_error_message(), says);
    expect_zeroed(&d);
    gc_error_clear();
}

/* Runs image_folder_load with stderr captured into err. */
static int load_capturing_stderr(dataset *d, const char *dir, const image_folder_options *opt,
                                 image_folder_report *rep, char *err, size_t err_size)
{
    char log[600];
    snprintf(log, sizeof log, "%s/stderr.txt", root);
    fflush(stderr);
    int saved = dup(STDERR_FILENO), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(saved >= 0 && fd >= 0);
    cr_assert(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
    int rc = image_folder_load(d, dir, opt, rep);
    fflush(stderr);
    cr_assert(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    size_t n = fread(err, 1, err_size - 1, f);
    err[n] = '\0';
    fclose(f);
    unlink(log);
    return rc;
}

/* ---- The scan ---------------------------------------------------------------------------- */

Test(image_folder, sorted_classes_labels_and_file_order)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", at("data"));
    make_dir(dir);
    make_dir(at("data/b_zebras"));
    make_dir(at("data/a_horses"));
    /* Created out of order; byte order puts "1.PNG" < "10.png" < "2.png". */
    solid_png(at("data/b_zebras/2.png"), 5, 7, 52);
    solid_png(at("data/b_zebras/10.png"), 40, 30, 51);
    solid_png(at("data/b_zebras/1.PNG"), 16, 16, 50);
    solid_png(at("data/a_horses/x.png"), 3, 3, 41);
    solid_png(at("data/a_horses/a.Png"), 100, 20, 40);
    /* Ignored: other files, hidden files, sub-sub-folders (even one named like a PNG). */
    write_text(at("data/README.txt"), "not a class");
    write_text(at("data/a_horses/notes.txt"), "not an image");
    write_text(at("data/a_horses/.hidden.png"), "an AppleDouble fork, not a PNG");
    write_text(at("data/a_horses/x.png.bak"), "not a PNG name");
    make_dir(at("data/a_horses/sub"));
    solid_png(at("data/a_horses/sub/deep.png"), 4, 4, 99);
    make_dir(at("data/a_horses/folder.png"));
    make_dir(at("data/.cache"));
    solid_png(at("data/.cache/z.png"), 4, 4, 98);

    image_folder_options opt = options(16);
    dataset d;
    image_folder_report rep;
    cr_assert_eq(image_folder_load(&d, dir, &opt, &rep), GC_OK, "%s", gc_error_message());
    cr_assert_eq(d.num_classes, 2);
    cr_assert_str_eq(d.class_names[0], "a_horses");
    cr_assert_str_eq(d.class_names[1], "b_zebras");
    cr_assert_eq(d.count, 5);
    cr_assert_eq(d.height, 16);
    cr_assert_eq(d.width, 16);
    cr_assert_eq(d.channels, 3);
    cr_assert_eq(dataset_class_count(&d, 0), 2);
    cr_assert_eq(dataset_class_count(&d, 1), 3);
    const int want_label[5] = {0, 0, 1, 1, 1}, want_id[5] = {40, 41, 50, 51, 52};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(d.labels[i], want_label[i], "label %zu", i);
        cr_assert_eq(first_pixel(&d, i), want_id[i], "image %zu is id %d, expected %d", i, first_pixel(&d, i),
                     want_id[i]);
        /* Solid images stay solid at any size. */
        const uint8_t *img = dataset_image(&d, i);
        for (size_t p = 0; p < 16 * 16; p++)
            cr_assert(img[3 * p] == want_id[i] && img[3 * p + 1] == 255 - want_id[i] && img[3 * p + 2] == 7,
                      "image %zu pixel %zu", i, p);
    }
    cr_assert_eq(rep.skipped, 0);
    cr_assert_geq(rep.resident_bytes, 5 * 16 * 16 * 3 + 5);
    cr_assert_lt(rep.resident_bytes, 5 * 16 * 16 * 3 + 5 + 2 * 64);
    dataset_free(&d);
}

/* Each slot holds exactly what png_decode_rgb + resize_bilinear_rgb give for its file. */
Test(image_folder, images_are_decoded_then_resized)
{
    make_dir(at("d"));
    make_dir(at("d/a"));
    make_dir(at("d/b"));
    noise_png(at("d/a/0.png"), 50, 37, 1);
    noise_png(at("d/b/0.png"), 12, 12, 2);
    noise_png(at("d/b/1.png"), 24, 24, 3);
    image_folder_options opt = options(24);
    dataset d;
    cr_assert_eq(image_folder_load(&d, at("d"), &opt, NULL), GC_OK, "%s", gc_error_message());
    const char *files[3] = {"d/a/0.png", "d/b/0.png", "d/b/1.png"};
    uint8_t want[24 * 24 * 3];
    for (size_t i = 0; i < 3; i++) {
        rgb_image img;
        cr_assert_eq(png_decode_rgb(at("%s", files[i]), NULL, &img), GC_OK);
        resize_bilinear_rgb(img.pixels, img.width, img.height, want, 24, 24);
        rgb_image_free(&img);
        cr_assert_eq(memcmp(dataset_image(&d, i), want, sizeof want), 0, "%s", files[i]);
    }
    dataset_free(&d);
}

Test(image_folder, same_dataset_with_one_and_two_threads)
{
    make_dir(at("d"));
    const char *classes[3] = {"cats", "dogs", "owls"};
    for (int c = 0; c < 3; c++) {
        make_dir(at("d/%s", classes[c]));
        for (int i = 0; i < 9; i++)
            noise_png(at("d/%s/%d.png", classes[c], i), 7 + 13 * i, 5 + 11 * ((i + c) % 4), (unsigned)(c * 100 + i));
    }
    write_text(at("d/owls/3x.png"), "broken"); /* skipped the same way too */
    image_folder_options opt = options(32);
    opt.skip_invalid = true;
    dataset one, two;
    image_folder_report r1, r2;
    char err[4096];
    int saved_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    cr_assert_eq(load_capturing_stderr(&one, at("d"), &opt, &r1, err, sizeof err), GC_OK, "%s", gc_error_message());
    omp_set_num_threads(2);
    cr_assert_eq(load_capturing_stderr(&two, at("d"), &opt, &r2, err, sizeof err), GC_OK, "%s", gc_error_message());
    omp_set_num_threads(saved_threads);
    cr_assert_eq(one.count, 27);
    cr_assert_eq(two.count, 27);
    cr_assert_eq(one.num_classes, 3);
    cr_assert_eq(r1.skipped, 1);
    cr_assert_eq(r2.skipped, 1);
    cr_assert_eq(memcmp(one.labels, two.labels, one.count), 0);
    cr_assert_eq(memcmp(one.pixels, two.pixels, one.count * dataset_image_bytes(&one)), 0);
    dataset_free(&one);
    dataset_free(&two);
}

/* ---- Train and validation ---------------------------------------------------------------- */

Test(image_folder, data_layout_train_and_validation)
{
    make_dir(at("hh"));
    two_classes(at("hh/train"), "horses", "humans", 4);
    two_classes(at("hh/validation"), "horses", "humans", 2);
    image_folder_options opt = options(20);
    dataset train, val;
    image_folder_report rep;
    cr_assert_eq(image_folder_load_split(&train, &val, at("hh"), &opt, &rep), GC_OK, "%s", gc_error_message());
    cr_assert_eq(train.count, 8);
    cr_assert_eq(val.count, 4);
    cr_assert_str_eq(train.class_names[0], "horses");
    cr_assert_str_eq(val.class_names[1], "humans");
    cr_assert_eq(dataset_class_count(&train, 1), 4);
    cr_assert_eq(dataset_class_count(&val, 0), 2);
    cr_assert_eq(first_pixel(&train, 5), 11);
    cr_assert_eq(first_pixel(&val, 3), 11);
    cr_assert_eq(rep.skipped, 0);
    cr_assert_geq(rep.resident_bytes, 12 * 20 * 20 * 3 + 12);
    cr_assert_eq(image_folder_require_classes(&train, at("hh"), 2, "seed"), GC_OK);
    dataset_free(&train);
    dataset_free(&val);
}

Test(image_folder, separate_train_and_validation_folders)
{
    two_classes(at("t"), "a", "b", 3);
    two_classes(at("v"), "a", "b", 1);
    image_folder_options opt = options(8);
    dataset train, val;
    cr_assert_eq(image_folder_load_pair(&train, &val, at("t"), at("v"), &opt, NULL), GC_OK, "%s",
                 gc_error_message());
    cr_assert_eq(train.count, 6);
    cr_assert_eq(val.count, 2);
    dataset_free(&train);
    dataset_free(&val);
}

Test(image_folder, mismatched_class_names_name_both_folders)
{
    two_classes(at("t"), "horses", "humans", 1);
    two_classes(at("v"), "horses", "people", 1);
    image_folder_options opt = options(8);
    dataset train, val;
    char t[512], v[512];
    snprintf(t, sizeof t, "%s", at("t"));
    snprintf(v, sizeof v, "%s", at("v"));
    cr_assert_eq(image_folder_load_pair(&train, &val, t, v, &opt, NULL), GC_EUSAGE);
    const char *msg = gc_error_message();
    cr_assert(strstr(msg, t) && strstr(msg, v), "message '%s' does not name both folders", msg);
    cr_assert(strstr(msg, "humans") && strstr(msg, "people"), "message '%s'", msg);
    expect_zeroed(&train);
    expect_zeroed(&val);
}

Test(image_folder, missing_validation_folder_is_named)
{
    make_dir(at("hh"));
    two_classes(at("hh/train"), "horses", "humans", 1);
    image_folder_options opt = options(8);
    dataset train, val;
    cr_assert_eq(image_folder_load_split(&train, &val, at("hh"), &opt, NULL), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), at("hh/validation")), "message '%s'", gc_error_message());
    expect_zeroed(&train);
    expect_zeroed(&val);
}

/* A bad validation file fails the whole load after the training set decoded: both freed. */
Test(image_folder, bad_validation_file_frees_training_set)
{
    two_classes(at("t"), "a", "b", 2);
    two_classes(at("v"), "a", "b", 1);
    write_text(at("v/b/zz.png"), "not a png");
    image_folder_options opt = options(8);
    dataset train, val;
    cr_assert_eq(image_folder_load_pair(&train, &val, at("t"), at("v"), &opt, NULL), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), at("v/b/zz.png")), "message '%s'", gc_error_message());
    expect_zeroed(&train);
    expect_zeroed(&val);
}

/* ---- Bad folders ------------------------------------------------------------------------- */

Test(image_folder, missing_folder)
{
    image_folder_options opt = options(8);
    expect_load_error(at("nowhere"), &opt, at("nowhere"), "cannot open folder");
}

Test(image_folder, empty_folder)
{
    make_dir(at("empty"));
    image_folder_options opt = options(8);
    expect_load_error(at("empty"), &opt, at("empty"), "empty");
}

Test(image_folder, files_but_no_class_folders)
{
    make_dir(at("flat"));
    solid_png(at("flat/a.png"), 4, 4, 1);
    image_folder_options opt = options(8);
    expect_load_error(at("flat"), &opt, at("flat"), "no class sub-folders");
}

Test(image_folder, only_one_class)
{
    make_dir(at("one"));
    make_dir(at("one/horses"));
    solid_png(at("one/horses/a.png"), 4, 4, 1);
    image_folder_options opt = options(8);
    expect_load_error(at("one"), &opt, at("one"), "only one class");
}

Test(image_folder, class_folder_without_pngs)
{
    two_classes(at("d"), "a", "b", 2);
    make_dir(at("d/c"));
    write_text(at("d/c/readme.txt"), "no images here");
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/c"), "no PNG files");
}

Test(image_folder, no_pngs_at_all)
{
    make_dir(at("d"));
    make_dir(at("d/a"));
    make_dir(at("d/b"));
    write_text(at("d/a/x.jpg"), "jpeg?");
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d"), "no PNG files in any class");
}

Test(image_folder, too_many_classes)
{
    make_dir(at("d"));
    for (int c = 0; c <= DATASET_MAX_CLASSES; c++) {
        make_dir(at("d/c%02d", c));
        solid_png(at("d/c%02d/0.png", c), 2, 2, c);
    }
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d"), "more than 16 class");
}

Test(image_folder, class_name_too_long)
{
    make_dir(at("d"));
    char name[80];
    memset(name, 'x', 70);
    name[70] = '\0';
    make_dir(at("d/%s", name));
    make_dir(at("d/y"));
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/%s", name), "longer than 63");
}

Test(image_folder, bad_image_size)
{
    two_classes(at("d"), "a", "b", 1);
    image_folder_options opt = options(0);
    expect_load_error(at("d"), &opt, "image size", "out of range");
    opt.image_size = 20000;
    expect_load_error(at("d"), &opt, "image size", "out of range");
}

/* ---- Bad files --------------------------------------------------------------------------- */

/* With two bad files, the first in file order is reported, whatever the thread count. */
Test(image_folder, bad_file_is_named_and_nothing_is_kept)
{
    two_classes(at("d"), "a", "b", 3);
    write_text(at("d/a/img00x.png"), "not a png");
    write_text(at("d/b/img99.png"), "also not a png");
    image_folder_options opt = options(8);
    int saved_threads = omp_get_max_threads();
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        expect_load_error(at("d"), &opt, at("d/a/img00x.png"), "not a PNG");
    }
    omp_set_num_threads(saved_threads);
}

Test(image_folder, truncated_file_is_named)
{
    two_classes(at("d"), "a", "b", 2);
    noise_png(at("d/b/big.png"), 64, 64, 5);
    FILE *f = fopen(at("d/b/big.png"), "r+");
    cr_assert_not_null(f);
    cr_assert_eq(ftruncate(fileno(f), 300), 0);
    fclose(f);
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/b/big.png"), "truncated");
}

Test(image_folder, dangling_link_is_named)
{
    two_classes(at("d"), "a", "b", 2);
    char target[512];
    snprintf(target, sizeof target, "%s", at("gone.png"));
    cr_assert_eq(symlink(target, at("d/a/link.png")), 0);
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/a/link.png"), "cannot open");
}

Test(image_folder, unreadable_file_is_named)
{
    if (geteuid() == 0) cr_skip_test("running as root: permissions do not stop reading");
    two_classes(at("d"), "a", "b", 2);
    cr_assert_eq(chmod(at("d/a/img01.png"), 0), 0);
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/a/img01.png"), "cannot open");
}

Test(image_folder, unreadable_class_folder_is_named)
{
    if (geteuid() == 0) cr_skip_test("running as root: permissions do not stop reading");
    two_classes(at("d"), "a", "b", 2);
    cr_assert_eq(chmod(at("d/b"), 0), 0);
    image_folder_options opt = options(8);
    expect_load_error(at("d"), &opt, at("d/b"), "cannot open folder");
}

Test(image_folder, skip_invalid_counts_and_warns)
{
    two_classes(at("d"), "a", "b", 3);
    write_text(at("d/a/img00x.png"), "not a png");
    noise_png(at("d/b/cut.png"), 64, 64, 5);
    cr_assert_eq(truncate(at("d/b/cut.png"), 200), 0);
    image_folder_options opt = options(8);
    opt.skip_invalid = true;
    dataset d;
    image_folder_report rep;
    char err[4096];
    cr_assert_eq(load_capturing_stderr(&d, at("d"), &opt, &rep, err, sizeof err), GC_OK, "%s",
                 gc_error_message());
    cr_assert_eq(rep.skipped, 2);
    cr_assert_eq(d.count, 6);
    cr_assert_eq(dataset_class_count(&d, 0), 3);
    cr_assert_eq(dataset_class_count(&d, 1), 3);
    /* The kept images close ranks in file order. */
    const int want_id[6] = {0, 1, 2, 10, 11, 12};
    for (size_t i = 0; i < 6; i++) cr_assert_eq(first_pixel(&d, i), want_id[i], "image %zu", i);

    char want[2048];
    snprintf(want, sizeof want,
             "gcbench: warning: skipping %s: not a PNG file (bad signature)\n"
             "gcbench: warning: skipping %s: invalid PNG: file is truncated\n",
             at("d/a/img00x.png"), at("d/b/cut.png"));
    cr_assert_str_eq(err, want);
    dataset_free(&d);
}

Test(image_folder, skip_invalid_still_fails_when_a_class_empties)
{
    two_classes(at("d"), "a", "b", 2);
    make_dir(at("d/c"));
    write_text(at("d/c/1.png"), "bad");
    write_text(at("d/c/2.png"), "bad too");
    image_folder_options opt = options(8);
    opt.skip_invalid = true;
    dataset d;
    char err[4096];
    gc_error_clear();
    cr_assert_eq(load_capturing_stderr(&d, at("d"), &opt, NULL, err, sizeof err), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), at("d/c")), "message '%s'", gc_error_message());
    cr_assert(strstr(gc_error_message(), "no decodable PNG"), "message '%s'", gc_error_message());
    cr_assert(strstr(err, at("d/c/1.png")) && strstr(err, at("d/c/2.png")), "stderr '%s'", err);
    expect_zeroed(&d);
}

/* ---- Limits and the caller's checks ------------------------------------------------------ */

Test(image_folder, memory_cap_says_the_cap_and_the_size)
{
    two_classes(at("d"), "a", "b", 5);
    image_folder_options opt = options(16); /* 10 x 16 x 16 x 3 = 7680 bytes = 7.5 KiB */
    opt.max_bytes = 4096;
    expect_load_error(at("d"), &opt, at("d"), "memory cap of 4.0 KiB");
    expect_load_error(at("d"), &opt, at("d"), "7.5 KiB (10 images x 16 x 16 x 3 bytes)");
    opt.max_bytes = 7680; /* exactly enough */
    dataset d;
    cr_assert_eq(image_folder_load(&d, at("d"), &opt, NULL), GC_OK, "%s", gc_error_message());
    dataset_free(&d);
}

/* The default cap is 8 GiB: 1000 images at 1700 x 1700 would take 8.07 GiB. */
Test(image_folder, default_memory_cap_is_8_gib)
{
    make_dir(at("d"));
    const char *cls[2] = {"a", "b"};
    for (int c = 0; c < 2; c++) {
        make_dir(at("d/%s", cls[c]));
        for (int i = 0; i < 500; i++) {
            char path[600];
            snprintf(path, sizeof path, "%s", at("d/%s/%03d.png", cls[c], i));
            cr_assert_eq(symlink("nowhere", path), 0); /* never decoded: the cap comes first */
        }
    }
    image_folder_options opt = options(1700); /* 1000 x 1700^2 x 3 = 8.07 GiB */
    expect_load_error(at("d"), &opt, at("d"), "memory cap of 8.00 GiB");
}

Test(image_folder, pair_cap_counts_both_folders)
{
    two_classes(at("t"), "a", "b", 3);
    two_classes(at("v"), "a", "b", 2);
    image_folder_options opt = options(16);
    opt.max_bytes = 6 * 16 * 16 * 3 + 1; /* the training set alone would fit */
    dataset train, val;
    cr_assert_eq(image_folder_load_pair(&train, &val, at("t"), at("v"), &opt, NULL), GC_EUSAGE);
    cr_assert(strstr(gc_error_message(), "10 images"), "message '%s'", gc_error_message());
    expect_zeroed(&train);
    expect_zeroed(&val);
}

Test(image_folder, two_class_check_lists_the_classes)
{
    make_dir(at("d"));
    const char *cls[3] = {"a", "b", "c"};
    for (int c = 0; c < 3; c++) {
        make_dir(at("d/%s", cls[c]));
        solid_png(at("d/%s/0.png", cls[c]), 3, 3, c);
    }
    image_folder_options opt = options(8);
    dataset d;
    cr_assert_eq(image_folder_load(&d, at("d"), &opt, NULL), GC_OK, "%s", gc_error_message());
    cr_assert_eq(d.num_classes, 3);
    cr_assert_eq(image_folder_require_classes(&d, "DIR", 2, "seed"), GC_EUSAGE);
    cr_assert_str_eq(gc_error_message(), "DIR has 3 classes (a, b, c); the model 'seed' is a two-class model");
    dataset_free(&d);
}

/* ---- On demand (MPI ranks) ------------------------------------------------------------------ */

Test(image_folder, on_demand_images_equal_the_kept_ones)
{
    two_classes(at("d"), "a", "b", 3);
    image_folder_options kept = options(8), lazy = options(8);
    lazy.on_demand = true;
    dataset k, l;
    cr_assert_eq(image_folder_load(&k, at("d"), &kept, NULL), GC_OK, "%s", gc_error_message());
    cr_assert_eq(image_folder_load(&l, at("d"), &lazy, NULL), GC_OK, "%s", gc_error_message());
    cr_assert_null(l.pixels, "nothing decoded up front");
    cr_assert_eq(l.count, k.count);
    cr_assert_eq(l.num_classes, 2);
    uint8_t img[8 * 8 * 3];
    for (size_t i = 0; i < k.count; i++) {
        cr_assert_eq(l.draw(&l, i, img), GC_OK);
        cr_expect_arr_eq(img, dataset_image(&k, i), sizeof img, "image %zu", i);
        cr_expect_eq(l.labels[i], k.labels[i]);
    }
    dataset_free(&k);
    dataset_free(&l);
}

Test(image_folder, on_demand_bad_file_is_named_when_it_is_read)
{
    two_classes(at("d"), "a", "b", 2);
    write_text(at("d/b/img05.png"), "not a png");
    image_folder_options lazy = options(8);
    lazy.on_demand = true;
    dataset l;
    cr_assert_eq(image_folder_load(&l, at("d"), &lazy, NULL), GC_OK, "files are not read yet");
    uint8_t img[8 * 8 * 3];
    cr_assert_eq(l.draw(&l, 0, img), GC_OK);
    gc_error_clear();
    cr_assert_eq(l.draw(&l, l.count - 1, img), GC_EUSAGE);
    cr_expect(strstr(gc_error_message(), at("d/b/img05.png")), "'%s' names the file", gc_error_message());
    gc_error_clear();
    dataset_free(&l);
}

Test(image_folder, on_demand_refuses_skip_invalid)
{
    two_classes(at("d"), "a", "b", 2);
    image_folder_options opt = options(8);
    opt.on_demand = opt.skip_invalid = true;
    expect_load_error(at("d"), &opt, "--skip-invalid", "on demand");
}
