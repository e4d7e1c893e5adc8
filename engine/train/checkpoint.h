/* The checkpoint file: a small container of tagged sections, written atomically, verified on
 * read before anything in it is used.
 *
 * Layout, every number in the host's byte order (little-endian on x86-64 and aarch64, the
 * targets gcbench builds for; a file of the other order is refused by name):
 *   "GCBCKPT\n"  magic, 8 bytes
 *   u32 version (CHECKPOINT_VERSION), u32 number of sections
 *   u64 payload bytes, u64 FNV-1a 64 checksum of the payload
 *   payload: per section u32 tag, u32 zero, u64 size, then size bytes padded to 8
 * Writing goes to FILE.tmp, fsync, rename over FILE, fsync of the folder: a crash at any
 * point leaves either the old checkpoint or the new one, never a torn file. */
#ifndef GCBENCH_ENGINE_CHECKPOINT_H
#define GCBENCH_ENGINE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_VERSION 1
#define CHECKPOINT_MAX_SECTIONS 16
#define CHECKPOINT_MAX_BYTES ((uint64_t)1 << 32) /* refuse larger files: no model here needs it */

/* Four characters as a tag: CHECKPOINT_TAG('W','G','H','T'). */
#define CHECKPOINT_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

typedef struct {
    uint32_t tag;
    uint64_t size;
    const void *data;
} checkpoint_section;

/* Writes the sections to path atomically. GC_ERUNTIME naming the file on failure (and the
 * previous checkpoint, if any, is left as it was). */
int checkpoint_write(const char *path, const checkpoint_section *sections, int count);

/* A checkpoint read into memory: sections point into buf. */
typedef struct {
    uint8_t *buf;
    size_t size;
    checkpoint_section sections[CHECKPOINT_MAX_SECTIONS];
    int count;
} checkpoint_file;

/* Reads and verifies path: GC_EUSAGE naming the file and the problem (missing, not a
 * checkpoint, another version, truncated, checksum mismatch, malformed sections). */
int checkpoint_read(const char *path, checkpoint_file *out);

/* The same checks on bytes already in memory (copied); `name` stands for the file in messages. */
int checkpoint_parse(const uint8_t *data, size_t size, const char *name, checkpoint_file *out);

/* The section with this tag, or NULL. */
const checkpoint_section *checkpoint_find(const checkpoint_file *f, uint32_t tag);

void checkpoint_free(checkpoint_file *f);

/* FNV-1a 64 of bytes. */
uint64_t checkpoint_hash(const void *data, size_t size);

/* Building a section's bytes: values appended in host order; an allocation failure is
 * remembered and reported by checkpoint_buffer_check. */
typedef struct {
    uint8_t *data;
    size_t size, capacity;
    int failed;
} checkpoint_buffer;

void checkpoint_put(checkpoint_buffer *b, const void *bytes, size_t size);
void checkpoint_put_u64(checkpoint_buffer *b, uint64_t v);
void checkpoint_put_f64(checkpoint_buffer *b, double v);
void checkpoint_put_str(checkpoint_buffer *b, const char *s); /* length, then the bytes */
int checkpoint_buffer_check(const checkpoint_buffer *b);      /* GC_ERUNTIME when an append failed */
void checkpoint_buffer_free(checkpoint_buffer *b);

/* Reading a section's bytes back: every read is bounds-checked; after a short read `bad` is
 * set and the values read are zero. */
typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} checkpoint_cursor;

static inline checkpoint_cursor checkpoint_cursor_of(const checkpoint_section *s)
{
    return (checkpoint_cursor){(const uint8_t *)s->data, (size_t)s->size, 0};
}
int checkpoint_get(checkpoint_cursor *c, void *out, size_t size);
uint64_t checkpoint_get_u64(checkpoint_cursor *c);
double checkpoint_get_f64(checkpoint_cursor *c);
/* A string of at most size - 1 bytes into out (NUL-terminated); longer ones set bad. */
void checkpoint_get_str(checkpoint_cursor *c, char *out, size_t size);

#endif
