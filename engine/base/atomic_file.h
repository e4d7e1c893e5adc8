/* Files replaced atomically: readers see the old content or the new, never a torn file. */
#ifndef GCBENCH_ENGINE_BASE_ATOMIC_FILE_H
#define GCBENCH_ENGINE_BASE_ATOMIC_FILE_H

#include <stdio.h>

/* Writes the file's content to f. Output errors are sticky in ferror(f): the writer checks
 * them once, after the body. */
typedef void (*atomic_file_body)(FILE *f, const void *ctx);

/* Writes path through path.tmp: the body, flush and fsync (the data is on disk before the
 * rename publishes it), rename over path, and fsync of the folder so the rename survives a
 * power cut (filesystems that cannot sync a folder are let be). On failure the previous file,
 * if any, is left as it was and path.tmp is removed; the error (GC_ERUNTIME, or GC_EUSAGE for a
 * path too long) names the file. */
int atomic_file_write(const char *path, atomic_file_body body, const void *ctx);

#endif
