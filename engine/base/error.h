/* Errors are recorded where they happen and reported once, at the top.
 *
 * A fallible function returns GC_OK (0) or one of the codes below after calling gc_fail(),
 * which keeps the first message; callers add context with gc_context() on the way up, and
 * the program prints the whole chain once as "gcbench: error: ...". The codes are also the
 * process exit statuses. */
#ifndef GCBENCH_ENGINE_ERROR_H
#define GCBENCH_ENGINE_ERROR_H

enum {
    GC_OK = 0,
    GC_ERUNTIME = 1, /* a failure at run time: out of memory, a oneDNN error, I/O */
    GC_EUSAGE = 2,   /* bad usage or bad input: the message names the flag or the file */
    GC_EINTERRUPTED = 3, /* stopped on request (a signal) after saving; not an exit status */
};

/* Records a message (printf-style) unless one is already pending; returns code. */
int gc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes context to the pending message ("building conv2d_1: <message>"); returns code. */
int gc_context(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The pending message, or "" when none. */
const char *gc_error_message(void);

/* Forgets the pending message (tests, and callers that handled the error). */
void gc_error_clear(void);

/* Returns from the enclosing function when expr fails. */
#define GC_TRY(expr)                                                                       \
    do {                                                                                   \
        int gc_rc_ = (expr);                                                               \
        if (gc_rc_ != GC_OK) return gc_rc_;                                                \
    } while (0)

#endif
