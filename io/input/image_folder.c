/* PNG class folders to a dataset: scan (sorted, serial), check the memory cap, then decode
 * and resize every file in parallel straight into its slot of the dataset.
 *
 * The decoder records no message (gc_fail's message is per thread, and workers are other
 * threads): each file keeps its own outcome and reason, and the main thread reports the
 * first failure in file order after the loop, so the error is the same with any number of
 * threads. */
#include "io/input/image_folder.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/base/alloc.h"
#include "engine/base/error.h"
#include "io/input/png_decode.h"
#include "io/input/resize.h"

/* ---- Names and paths --------------------------------------------------------------------- */

typedef struct {
    char **items;
    size_t count, cap;
} name_list;

static void name_list_free(name_list *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int name_list_push(name_list *l, const char *name)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items) return gc_fail(GC_ERUNTIME, "out of memory listing a folder (%zu names)", cap);
        l->items = items;
        l->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return gc_fail(GC_ERUNTIME, "out of memory listing a folder");
    l->items[l->count++] = copy;
    return GC_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of dir except hidden ones ('.', '..', ".x"), in byte-wise sorted order (not
 * the locale's, so that every machine agrees). */
static int list_folder(const char *dir, name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return gc_fail(GC_EUSAGE, "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = GC_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) rc = gc_fail(GC_EUSAGE, "%s: cannot read folder: %s", dir, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') continue;
        if ((rc = name_list_push(out, e->d_name)) != GC_OK) break;
    }
    closedir(d);
    if (rc != GC_OK) {
        name_list_free(out);
        return rc;
    }
    if (out->count > 1) qsort(out->items, out->count, sizeof *out->items, by_name);
    return GC_OK;
}

/* dir + "/" + name in a new string. */
static int join_path(const char *dir, const char *name, char **out)
{
    size_t n = strlen(dir);
    const char *sep = n > 0 && dir[n - 1] == '/' ? "" : "/";
    size_t size = n + strlen(sep) + strlen(name) + 1;
    *out = malloc(size);
    if (!*out) return gc_fail(GC_ERUNTIME, "out of memory for the path of %s in %s", name, dir);
    snprintf(*out, size, "%s%s%s", dir, sep, name);
    return GC_OK;
}

static bool is_png_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".png") == 0;
}

/* "8.00 GiB", "277.3 MiB", "512 bytes". */
static void format_bytes(size_t bytes, char out[32])
{
    double b = (double)bytes;
    if (bytes >= (size_t)1 << 30) snprintf(out, 32, "%.2f GiB", b / (double)(1u << 30));
    else if (bytes >= (size_t)1 << 20) snprintf(out, 32, "%.1f MiB", b / (double)(1u << 20));
    else if (bytes >= (size_t)1 << 10) snprintf(out, 32, "%.1f KiB", b / 1024.0);
    else snprintf(out, 32, "%zu bytes", bytes);
}

/* ---- Scanning ---------------------------------------------------------------------------- */

typedef struct {
    char *path;
    uint8_t label;
    int code;                    /* GC_OK, or why the file was refused (scan or decode) */
    char reason[PNG_REASON_MAX]; /* without the file name */
} image_file;

/* One folder's classes and files, in dataset order. */
typedef struct {
    const char *dir;
    int num_classes;
    char class_names[DATASET_MAX_CLASSES][DATASET_CLASS_NAME_MAX];
    image_file *files;
    size_t count, cap;
} folder_scan;

static void folder_scan_free(folder_scan *s)
{
    for (size_t i = 0; i < s->count; i++) free(s->files[i].path);
    free(s->files);
    memset(s, 0, sizeof *s);
}

/* Takes ownership of path. A name that cannot be stat'ed or is no regular file stays in the
 * list, already refused, so that it is reported (or skipped) like an undecodable file. */
static int add_file(folder_scan *s, char *path, int label, const struct stat *st, int stat_errno)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        image_file *files = realloc(s->files, cap * sizeof *files);
        if (!files) {
            free(path);
            return gc_fail(GC_ERUNTIME, "out of memory listing %s (%zu files)", s->dir, cap);
        }
        s->files = files;
        s->cap = cap;
    }
    image_file *f = &s->files[s->count++];
    memset(f, 0, sizeof *f);
    f->path = path;
    f->label = (uint8_t)label;
    if (stat_errno) {
        f->code = GC_EUSAGE;
        snprintf(f->reason, sizeof f->reason, "cannot open: %s", strerror(stat_errno));
    } else if (!S_ISREG(st->st_mode)) {
        f->code = GC_EUSAGE;
        snprintf(f->reason, sizeof f->reason, "not a regular file");
    }
    return GC_OK;
}

/* Adds the PNG files of one class folder; returns how many through *found. */
static int scan_class(folder_scan *s, const char *class_dir, int label, size_t *found)
{
    name_list names;
    GC_TRY(list_folder(class_dir, &names));
    int rc = GC_OK;
    size_t before = s->count;
    for (size_t i = 0; i < names.count && rc == GC_OK; i++) {
        if (!is_png_name(names.items[i])) continue;
        char *path;
        if ((rc = join_path(class_dir, names.items[i], &path)) != GC_OK) break;
        struct stat st;
        int err = stat(path, &st) == 0 ? 0 : errno;
        if (!err && S_ISDIR(st.st_mode)) { /* a sub-sub-folder, even one named x.png */
            free(path);
            continue;
        }
        rc = add_file(s, path, label, &st, err);
    }
    name_list_free(&names);
    *found = s->count - before;
    return rc;
}

/* Finds the class folders of dir and their PNG files. */
static int scan_folder(const char *dir, folder_scan *s)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    name_list names;
    GC_TRY(list_folder(dir, &names));
    if (names.count == 0) {
        name_list_free(&names);
        return gc_fail(GC_EUSAGE, "%s: folder is empty (expected one sub-folder of PNG files per class)", dir);
    }

    int rc = GC_OK;
    char *class_dir = NULL;
    size_t found[DATASET_MAX_CLASSES] = {0};
    for (size_t i = 0; i < names.count && rc == GC_OK; i++) {
        free(class_dir);
        class_dir = NULL;
        if ((rc = join_path(dir, names.items[i], &class_dir)) != GC_OK) break;
        struct stat st;
        if (stat(class_dir, &st) != 0 || !S_ISDIR(st.st_mode)) continue; /* files beside classes */
        if (s->num_classes == DATASET_MAX_CLASSES) {
            rc = gc_fail(GC_EUSAGE, "%s: more than %d class folders", dir, DATASET_MAX_CLASSES);
            break;
        }
        if (strlen(names.items[i]) >= DATASET_CLASS_NAME_MAX) {
            rc = gc_fail(GC_EUSAGE, "%s: class folder name longer than %d characters", class_dir,
                         DATASET_CLASS_NAME_MAX - 1);
            break;
        }
        int label = s->num_classes++;
        snprintf(s->class_names[label], DATASET_CLASS_NAME_MAX, "%s", names.items[i]);
        rc = scan_class(s, class_dir, label, &found[label]);
    }

    if (rc == GC_OK) {
        if (s->num_classes == 0)
            rc = gc_fail(GC_EUSAGE, "%s: no class sub-folders (expected %s/<class>/*.png)", dir, dir);
        else if (s->num_classes == 1)
            rc = gc_fail(GC_EUSAGE, "%s: only one class folder (%s); need at least two classes", dir,
                         s->class_names[0]);
        else if (s->count == 0)
            rc = gc_fail(GC_EUSAGE, "%s: no PNG files in any class folder", dir);
        for (int c = 0; c < s->num_classes && rc == GC_OK; c++)
            if (found[c] == 0)
                rc = gc_fail(GC_EUSAGE, "%s/%s: class folder has no PNG files", dir, s->class_names[c]);
    }
    free(class_dir);
    name_list_free(&names);
    if (rc != GC_OK) folder_scan_free(s);
    return rc;
}

/* ---- Decoding ---------------------------------------------------------------------------- */

static size_t image_bytes_of(int size) { return (size_t)size * (size_t)size * 3; }

static int check_options(const image_folder_options *opt)
{
    if (opt->image_size < 1 || (unsigned)opt->image_size > PNG_DECODE_MAX_SIDE)
        return gc_fail(GC_EUSAGE, "image size %d is out of range (1..%u)", opt->image_size,
                       PNG_DECODE_MAX_SIDE);
    if (opt->on_demand && opt->skip_invalid)
        return gc_fail(GC_EUSAGE, "--skip-invalid decodes every file first, which images read on demand "
                                  "(several MPI ranks) do not: remove the bad files, or find them with one process");
    return GC_OK;
}


/* The decoded images of `what` must fit the cap: images x size x size x 3 bytes. */
static int check_memory_cap(const char *what, size_t images, const image_folder_options *opt)
{
    size_t cap = opt->max_bytes ? opt->max_bytes : IMAGE_FOLDER_DEFAULT_MAX_BYTES;
    size_t per_image = image_bytes_of(opt->image_size);
    if (images <= cap / per_image) return GC_OK;
    char need[32], limit[32];
    /* images * per_image may not fit size_t; the message only needs it approximately. */
    double bytes = (double)images * (double)per_image;
    if (bytes < (double)SIZE_MAX) format_bytes((size_t)bytes, need);
    else snprintf(need, sizeof need, "%.3g bytes", bytes);
    format_bytes(cap, limit);
    return gc_fail(GC_EUSAGE,
                   "%s: the decoded dataset would take %s (%zu images x %d x %d x 3 bytes), over the "
                   "memory cap of %s",
                   what, need, images, opt->image_size, opt->image_size, limit);
}

/* The cap applies to images kept in memory only. */
static int check_kept_cap(const char *what, size_t images, const image_folder_options *opt)
{
    return opt->on_demand ? GC_OK : check_memory_cap(what, images, opt);
}

/* Decodes one file into its slot (image_size x image_size x 3). */
static void decode_into(image_file *f, int size, uint8_t *slot)
{
    rgb_image img;
    f->code = png_decode_file(f->path, NULL, &img, f->reason);
    if (f->code != GC_OK) return;
    resize_bilinear_rgb(img.pixels, img.width, img.height, slot, size, size);
    rgb_image_free(&img);
}

/* Whether a failure ends the whole load: any, unless skipping; out of memory always. */
static bool is_fatal(int code, bool skip_invalid) { return code != GC_OK && (!skip_invalid || code == GC_ERUNTIME); }

/* Decodes every file of s, in parallel, into *d; *skipped counts the files skipped. */
static int decode_scan(const folder_scan *s, const image_folder_options *opt, dataset *d, size_t *skipped)
{
    memset(d, 0, sizeof *d);
    *skipped = 0;
    size_t image_bytes = image_bytes_of(opt->image_size);
    void *pixels = NULL, *labels = NULL;
    int rc = gc_alloc(&pixels, s->count * image_bytes, "decoded image pixels");
    if (rc == GC_OK) rc = gc_alloc(&labels, s->count, "image labels");
    if (rc != GC_OK) {
        gc_free(pixels);
        return gc_context(rc, "loading %s", s->dir);
    }
    uint8_t *px = pixels, *lab = labels;

    /* Files cost very different amounts (sizes, interlacing): dynamic scheduling. Once a file
     * fails fatally, files after it are not decoded; files before it still are, so the
     * error reported is the first in file order whatever the thread timing. */
    long n = (long)s->count, first_fatal = n;
#pragma omp parallel for schedule(dynamic)
    for (long i = 0; i < n; i++) {
        long stop;
#pragma omp atomic read
        stop = first_fatal;
        if (i > stop) continue;
        image_file *f = &s->files[i];
        if (f->code == GC_OK) decode_into(f, opt->image_size, px + (size_t)i * image_bytes);
        if (is_fatal(f->code, opt->skip_invalid)) {
#pragma omp critical(image_folder_first_fatal)
            if (i < first_fatal) {
#pragma omp atomic write
                first_fatal = i;
            }
        }
    }

    if (first_fatal < n) {
        const image_file *f = &s->files[first_fatal];
        gc_free(pixels);
        gc_free(labels);
        return gc_fail(f->code, "%s: %s", f->path, f->reason);
    }

    /* Keep the good images in file order, closing the gaps the skipped ones left. */
    size_t kept = 0;
    for (size_t i = 0; i < s->count; i++) {
        const image_file *f = &s->files[i];
        if (f->code != GC_OK) {
            fprintf(stderr, "gcbench: warning: skipping %s: %s\n", f->path, f->reason);
            (*skipped)++;
            continue;
        }
        if (kept != i) memcpy(px + kept * image_bytes, px + i * image_bytes, image_bytes);
        lab[kept++] = f->label;
    }

    *d = (dataset){.height = opt->image_size, .width = opt->image_size, .channels = 3, .count = kept,
                   .pixels = px, .labels = lab, .num_classes = s->num_classes};
    memcpy(d->class_names, s->class_names, sizeof d->class_names);
    for (int c = 0; c < s->num_classes; c++)
        if (dataset_class_count(d, c) == 0) {
            dataset_free(d);
            return gc_fail(GC_EUSAGE, "%s/%s: no decodable PNG files left in this class folder", s->dir,
                           s->class_names[c]);
        }
    return GC_OK;
}

/* Image i of an on-demand dataset: decoded from its file and resized, as decode_into does. */
static int decode_on_demand(const dataset *d, size_t i, uint8_t *out)
{
    image_file f = {.path = d->paths[i]};
    decode_into(&f, d->height, out);
    return f.code == GC_OK ? GC_OK : gc_fail(f.code, "%s: %s", f.path, f.reason);
}

/* *d with s's file names and labels, decoding nothing; takes the names from s. */
static int keep_names(folder_scan *s, const image_folder_options *opt, dataset *d)
{
    memset(d, 0, sizeof *d);
    for (size_t i = 0; i < s->count; i++)
        if (s->files[i].code != GC_OK) return gc_fail(s->files[i].code, "%s: %s", s->files[i].path, s->files[i].reason);
    uint8_t *labels = NULL;
    char **paths = calloc(s->count, sizeof *paths);
    if (!paths) return gc_fail(GC_ERUNTIME, "out of memory listing the files of %s", s->dir);
    int rc = gc_alloc((void **)&labels, s->count, "image labels");
    if (rc != GC_OK) {
        free(paths);
        return rc;
    }
    for (size_t i = 0; i < s->count; i++) {
        paths[i] = s->files[i].path;
        s->files[i].path = NULL; /* now the dataset's */
        labels[i] = s->files[i].label;
    }
    *d = (dataset){.height = opt->image_size, .width = opt->image_size, .channels = 3, .count = s->count,
                   .labels = labels, .num_classes = s->num_classes, .draw = decode_on_demand, .paths = paths};
    memcpy(d->class_names, s->class_names, sizeof d->class_names);
    return GC_OK;
}

/* The dataset of a scanned folder: decoded now, or (on_demand) when the loader needs it. */
static int materialize(folder_scan *s, const image_folder_options *opt, dataset *d, size_t *skipped)
{
    *skipped = 0;
    return opt->on_demand ? keep_names(s, opt, d) : decode_scan(s, opt, d, skipped);
}

/* Bytes held: the buffers were sized for every scanned file, skipped ones included. */
static size_t resident_bytes(const folder_scan *s, const image_folder_options *opt)
{
    if (opt->on_demand) return gc_round_up(s->count, GC_ALIGN);
    return gc_round_up(s->count * image_bytes_of(opt->image_size), GC_ALIGN) + gc_round_up(s->count, GC_ALIGN);
}

/* ---- Public ------------------------------------------------------------------------------ */

int image_folder_load(dataset *d, const char *dir, const image_folder_options *opt,
                      image_folder_report *report)
{
    memset(d, 0, sizeof *d);
    if (report) *report = (image_folder_report){0};
    GC_TRY(check_options(opt));
    folder_scan s;
    GC_TRY(scan_folder(dir, &s));
    size_t skipped = 0;
    int rc = check_kept_cap(dir, s.count, opt);
    if (rc == GC_OK) rc = materialize(&s, opt, d, &skipped);
    if (rc == GC_OK && report) *report = (image_folder_report){skipped, resident_bytes(&s, opt)};
    folder_scan_free(&s);
    return rc;
}

/* Both folders must name the same classes, in the same (sorted) order. */
static int check_same_classes(const folder_scan *a, const folder_scan *b)
{
    bool same = a->num_classes == b->num_classes;
    for (int c = 0; same && c < a->num_classes; c++) same = strcmp(a->class_names[c], b->class_names[c]) == 0;
    if (same) return GC_OK;

    char list[2][DATASET_MAX_CLASSES * (DATASET_CLASS_NAME_MAX + 2)];
    const folder_scan *scans[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        size_t used = 0;
        list[k][0] = '\0';
        for (int c = 0; c < scans[k]->num_classes; c++)
            used += (size_t)snprintf(list[k] + used, sizeof list[k] - used, "%s%s", c ? ", " : "",
                                     scans[k]->class_names[c]);
    }
    return gc_fail(GC_EUSAGE, "class folders differ: %s has (%s) but %s has (%s)", a->dir, list[0], b->dir,
                   list[1]);
}

int image_folder_load_pair(dataset *train, dataset *val, const char *train_dir, const char *val_dir,
                           const image_folder_options *opt, image_folder_report *report)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (report) *report = (image_folder_report){0};
    GC_TRY(check_options(opt));

    folder_scan ts, vs = {0};
    GC_TRY(scan_folder(train_dir, &ts));
    int rc = scan_folder(val_dir, &vs);
    if (rc == GC_OK) rc = check_same_classes(&ts, &vs);
    if (rc == GC_OK) {
        char what[1024];
        snprintf(what, sizeof what, "%s and %s", train_dir, val_dir);
        rc = check_kept_cap(what, ts.count + vs.count, opt);
    }
    size_t skipped_train = 0, skipped_val = 0;
    if (rc == GC_OK) rc = materialize(&ts, opt, train, &skipped_train);
    if (rc == GC_OK) {
        rc = materialize(&vs, opt, val, &skipped_val);
        if (rc != GC_OK) dataset_free(train);
    }
    if (rc == GC_OK && report)
        *report = (image_folder_report){skipped_train + skipped_val,
                                        resident_bytes(&ts, opt) + resident_bytes(&vs, opt)};
    folder_scan_free(&ts);
    folder_scan_free(&vs);
    return rc;
}

int image_folder_load_split(dataset *train, dataset *val, const char *data_dir,
                            const image_folder_options *opt, image_folder_report *report)
{
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (report) *report = (image_folder_report){0};
    char *train_dir = NULL, *val_dir = NULL;
    int rc = join_path(data_dir, "train", &train_dir);
    if (rc == GC_OK) rc = join_path(data_dir, "validation", &val_dir);
    if (rc == GC_OK) rc = image_folder_load_pair(train, val, train_dir, val_dir, opt, report);
    free(train_dir);
    free(val_dir);
    return rc;
}

int image_folder_require_classes(const dataset *d, const char *dir, int classes, const char *model)
{
    if (d->num_classes == classes) return GC_OK;
    char list[DATASET_MAX_CLASSES * (DATASET_CLASS_NAME_MAX + 2)];
    size_t used = 0;
    list[0] = '\0';
    for (int c = 0; c < d->num_classes && c < DATASET_MAX_CLASSES; c++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "", d->class_names[c]);
    char kind[32];
    if (classes == 2) snprintf(kind, sizeof kind, "two-class");
    else snprintf(kind, sizeof kind, "%d-class", classes);
    return gc_fail(GC_EUSAGE, "%s has %d class%s (%s); the model '%s' is a %s model", dir, d->num_classes,
                   d->num_classes == 1 ? "" : "es", list, model, kind);
}
