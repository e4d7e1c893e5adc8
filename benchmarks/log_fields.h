/* Reading the top-level fields of one JSON Lines record, as gcbench's log writes them (flat
 * objects of strings, numbers, null, and arrays or objects that are skipped whole). Enough to
 * read a log back; not a general JSON parser. */
#ifndef GCBENCH_BENCHMARKS_LOG_FIELDS_H
#define GCBENCH_BENCHMARKS_LOG_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/* The start of the value of top-level key `key` in the object `line`, or NULL when the key is
 * absent or the line is not an object that can be walked to its closing brace. */
const char *log_field(const char *line, const char *key);

/* The number of `key`: true with *out set (NaN for null), false when absent or not a number. */
bool log_number(const char *line, const char *key, double *out);

/* The string of `key` (without escapes) into out: false when absent, not a string, holding an
 * escape, or longer than size - 1. */
bool log_string(const char *line, const char *key, char *out, size_t size);

/* Whether line is a complete object (balanced, strings closed, nothing after it but spaces). */
bool log_is_object(const char *line);

#endif
