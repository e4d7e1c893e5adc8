#include "log_fields.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

/* Past the string that starts at p ('"'), or NULL when it does not close. */
static const char *skip_string(const char *p)
{
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p) return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Past the value that starts at p, or NULL when it is cut short. Nested arrays and objects are
 * skipped by counting brackets outside strings. */
static const char *skip_value(const char *p)
{
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                if (!(p = skip_string(p))) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *start = p;
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p > start ? p : NULL;
}

/* Walks the object; with key, stops at its value. Returns the value (key given) or the end of
 * the object (key NULL); NULL when the key is absent or the object is malformed. */
static const char *walk(const char *line, const char *key)
{
    const char *p = skip_space(line);
    if (*p++ != '{') return NULL;
    p = skip_space(p);
    if (*p == '}') return key ? NULL : p + 1;
    size_t klen = key ? strlen(key) : 0;
    for (;;) {
        if (*p != '"') return NULL;
        const char *name = p + 1, *end = skip_string(p);
        if (!end) return NULL;
        bool match = key && (size_t)(end - 1 - name) == klen && memcmp(name, key, klen) == 0;
        p = skip_space(end);
        if (*p++ != ':') return NULL;
        p = skip_space(p);
        const char *value = p;
        if (!(p = skip_value(p))) return NULL;
        if (match) return value;
        p = skip_space(p);
        if (*p == '}') return key ? NULL : p + 1;
        if (*p++ != ',') return NULL;
        p = skip_space(p);
    }
}

const char *log_field(const char *line, const char *key) { return walk(line, key); }

bool log_is_object(const char *line)
{
    const char *end = walk(line, NULL);
    return end && *skip_space(end) == '\0';
}

bool log_number(const char *line, const char *key, double *out)
{
    const char *v = log_field(line, key);
    if (!v) return false;
    if (strncmp(v, "null", 4) == 0) {
        *out = NAN;
        return true;
    }
    if (*v != '-' && (*v < '0' || *v > '9')) return false;
    char *end;
    double x = strtod(v, &end);
    if (end == v || (*end && *end != ',' && *end != '}' && *end != ' ')) return false;
    *out = x;
    return true;
}

bool log_string(const char *line, const char *key, char *out, size_t size)
{
    const char *v = log_field(line, key);
    if (!v || *v != '"') return false;
    const char *end = strchr(v + 1, '"'), *esc = strchr(v + 1, '\\');
    if (!end || (esc && esc < end)) return false;
    size_t len = (size_t)(end - v - 1);
    if (len + 1 > size) return false;
    memcpy(out, v + 1, len);
    out[len] = '\0';
    return true;
}
