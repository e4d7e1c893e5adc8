#include "engine/train/checkpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/atomic_file.h"
#include "engine/base/error.h"
#include "engine/base/fault.h"
#include "engine/base/fnv.h"

static const char MAGIC[8] = {'G', 'C', 'B', 'C', 'K', 'P', 'T', '\n'};
#define HEADER_BYTES 32

uint64_t checkpoint_hash(const void *data, size_t size) { return fnv1a64(FNV1A64_INIT, data, size); }

static size_t pad8(uint64_t n) { return (size_t)((n + 7) & ~(uint64_t)7); }

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

typedef struct {
    const uint8_t *buf;
    size_t size;
} byte_span;

static void write_bytes(FILE *f, const void *ctx)
{
    const byte_span *b = ctx;
    if (fault_fires("checkpoint-write")) { /* a test: die with half the file written */
        fwrite(b->buf, 1, b->size / 2, f);
        fflush(f);
        raise(SIGKILL);
    }
    fwrite(b->buf, 1, b->size, f);
}

int checkpoint_write(const char *path, const checkpoint_section *sections, int count)
{
    if (count < 0 || count > CHECKPOINT_MAX_SECTIONS)
        return gc_fail(GC_ERUNTIME, "checkpoint '%s': %d sections (at most %d)", path, count, CHECKPOINT_MAX_SECTIONS);
    uint64_t payload = 0;
    for (int i = 0; i < count; i++) payload += 16 + pad8(sections[i].size);
    if (HEADER_BYTES + payload > CHECKPOINT_MAX_BYTES)
        return gc_fail(GC_ERUNTIME, "checkpoint '%s' would be %llu bytes: too large", path,
                       (unsigned long long)(HEADER_BYTES + payload));

    uint8_t *buf = calloc(1, HEADER_BYTES + (size_t)payload);
    if (!buf) return gc_fail(GC_ERUNTIME, "out of memory writing checkpoint '%s'", path);
    uint8_t *p = buf + HEADER_BYTES;
    for (int i = 0; i < count; i++) {
        put_u32(p, sections[i].tag);
        put_u64(p + 8, sections[i].size);
        if (sections[i].size) memcpy(p + 16, sections[i].data, (size_t)sections[i].size);
        p += 16 + pad8(sections[i].size);
    }
    memcpy(buf, MAGIC, 8);
    put_u32(buf + 8, CHECKPOINT_VERSION);
    put_u32(buf + 12, (uint32_t)count);
    put_u64(buf + 16, payload);
    put_u64(buf + 24, checkpoint_hash(buf + HEADER_BYTES, (size_t)payload));

    int rc = atomic_file_write(path, write_bytes, &(byte_span){buf, HEADER_BYTES + (size_t)payload});
    free(buf);
    return rc == GC_OK ? GC_OK : gc_context(rc, "checkpoint");
}

int checkpoint_parse(const uint8_t *data, size_t size, const char *name, checkpoint_file *out)
{
    memset(out, 0, sizeof *out);
    if (size < HEADER_BYTES || memcmp(data, MAGIC, 8) != 0)
        return gc_fail(GC_EUSAGE, "'%s' is not a gcbench checkpoint", name);
    uint32_t version = get_u32(data + 8), count = get_u32(data + 12);
    uint64_t payload = get_u64(data + 16), checksum = get_u64(data + 24);
    if (version != CHECKPOINT_VERSION && __builtin_bswap32(version) == CHECKPOINT_VERSION)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' was written on a machine of the other byte order; "
                       "checkpoints are read where their byte order is the host's", name);
    if (version != CHECKPOINT_VERSION)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' has format version %u; this gcbench reads version %d", name, version,
                       CHECKPOINT_VERSION);
    if (payload != size - HEADER_BYTES)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' is truncated or has trailing bytes (%zu bytes, header says %llu)",
                       name, size, (unsigned long long)(payload + HEADER_BYTES));
    if (checkpoint_hash(data + HEADER_BYTES, (size_t)payload) != checksum)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' is corrupt: its checksum does not match its content", name);
    if (count > CHECKPOINT_MAX_SECTIONS)
        return gc_fail(GC_EUSAGE, "checkpoint '%s' is malformed: %u sections", name, count);

    out->buf = malloc(size);
    if (!out->buf) return gc_fail(GC_ERUNTIME, "out of memory reading checkpoint '%s'", name);
    memcpy(out->buf, data, size);
    out->size = size;
    uint64_t at = HEADER_BYTES;
    for (uint32_t i = 0; i < count; i++) {
        if (size - at < 16) goto malformed;
        uint64_t len = get_u64(out->buf + at + 8);
        if (len > size - at - 16 || pad8(len) > size - at - 16) goto malformed;
        out->sections[i] = (checkpoint_section){get_u32(out->buf + at), len, out->buf + at + 16};
        at += 16 + pad8(len);
    }
    if (at != size) goto malformed;
    out->count = (int)count;
    return GC_OK;
malformed:
    checkpoint_free(out);
    return gc_fail(GC_EUSAGE, "checkpoint '%s' is malformed: its sections do not fit its size", name);
}

int checkpoint_read(const char *path, checkpoint_file *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return gc_fail(GC_EUSAGE, "cannot open checkpoint '%s': %s", path, strerror(errno));
    int rc = GC_OK;
    uint8_t *data = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        rc = gc_fail(GC_EUSAGE, "cannot read checkpoint '%s': %s", path, strerror(errno));
    else if ((uint64_t)size > CHECKPOINT_MAX_BYTES)
        rc = gc_fail(GC_EUSAGE, "'%s' is too large to be a gcbench checkpoint", path);
    else if (!(data = malloc((size_t)size + 1)))
        rc = gc_fail(GC_ERUNTIME, "out of memory reading checkpoint '%s'", path);
    else if (fread(data, 1, (size_t)size, f) != (size_t)size)
        rc = gc_fail(GC_EUSAGE, "cannot read checkpoint '%s'", path);
    fclose(f);
    if (rc == GC_OK) rc = checkpoint_parse(data, (size_t)size, path, out);
    free(data);
    return rc;
}

const checkpoint_section *checkpoint_find(const checkpoint_file *f, uint32_t tag)
{
    for (int i = 0; i < f->count; i++)
        if (f->sections[i].tag == tag) return &f->sections[i];
    return NULL;
}

void checkpoint_free(checkpoint_file *f)
{
    free(f->buf);
    memset(f, 0, sizeof *f);
}

void checkpoint_put(checkpoint_buffer *b, const void *bytes, size_t size)
{
    if (b->failed) return;
    if (b->size + size > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 256;
        while (cap < b->size + size) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = cap;
    }
    if (size) memcpy(b->data + b->size, bytes, size);
    b->size += size;
}

void checkpoint_put_u64(checkpoint_buffer *b, uint64_t v) { checkpoint_put(b, &v, sizeof v); }
void checkpoint_put_f64(checkpoint_buffer *b, double v) { checkpoint_put(b, &v, sizeof v); }

void checkpoint_put_str(checkpoint_buffer *b, const char *s)
{
    size_t len = strlen(s);
    checkpoint_put_u64(b, len);
    checkpoint_put(b, s, len);
}

int checkpoint_buffer_check(const checkpoint_buffer *b)
{
    return b->failed ? gc_fail(GC_ERUNTIME, "out of memory building a checkpoint") : GC_OK;
}

void checkpoint_buffer_free(checkpoint_buffer *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int checkpoint_get(checkpoint_cursor *c, void *out, size_t size)
{
    if (c->bad || size > c->left) {
        c->bad = 1;
        memset(out, 0, size);
        return -1;
    }
    memcpy(out, c->p, size);
    c->p += size;
    c->left -= size;
    return 0;
}

uint64_t checkpoint_get_u64(checkpoint_cursor *c)
{
    uint64_t v;
    checkpoint_get(c, &v, sizeof v);
    return v;
}

double checkpoint_get_f64(checkpoint_cursor *c)
{
    double v;
    checkpoint_get(c, &v, sizeof v);
    return v;
}

void checkpoint_get_str(checkpoint_cursor *c, char *out, size_t size)
{
    uint64_t len = checkpoint_get_u64(c);
    out[0] = '\0';
    if (c->bad || len >= size || len > c->left) {
        c->bad = 1;
        return;
    }
    checkpoint_get(c, out, (size_t)len);
    out[len] = '\0';
}
