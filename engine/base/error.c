#include "engine/base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One pending message per thread; errors surface on the thread that called the engine. */
static _Thread_local char pending[2048];

int gc_fail(int code, const char *fmt, ...)
{
    if (pending[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pending, sizeof pending, fmt, ap);
        va_end(ap);
    }
    return code;
}

int gc_context(int code, const char *fmt, ...)
{
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);

    /* prefix + ": " + message, truncated to the buffer */
    char joined[sizeof pending];
    const char *msg = pending[0] ? pending : "unknown error";
    size_t plen = strlen(prefix), mlen = strlen(msg);
    if (plen > sizeof joined - 3) plen = sizeof joined - 3;
    if (mlen > sizeof joined - 3 - plen) mlen = sizeof joined - 3 - plen;
    memcpy(joined, prefix, plen);
    memcpy(joined + plen, ": ", 2);
    memcpy(joined + plen + 2, msg, mlen);
    joined[plen + 2 + mlen] = '\0';
    memcpy(pending, joined, sizeof pending);
    return code;
}

const char *gc_error_message(void) { return pending; }

void gc_error_clear(void) { pending[0] = '\0'; }
