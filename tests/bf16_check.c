#include "bf16_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MISALIGN 3 /* elements past a 64-byte boundary */
#define LEAD 64        /* bytes before the data */
#define GUARD 16       /* elements after the data */
#define GUARD_BYTE 0xa5 /* 0xa5a5: a bf16 NaN with the quiet bit clear, never a result */
#define MAX_TAIL 49    /* 3 vectors of the widest ISA (16 lanes) + 1 */

const char *bf16_check_kind_name(bf16_check_kind kind)
{
    static const char *const names[] = {"known_answers", "f32_to_bf16", "bf16_to_f32", "round_trip"};
    return kind < BF16_CHECK_KINDS ? names[kind] : "?";
}

typedef struct {
    size_t fails;
    char *msg;
    size_t len;
    const char *isa, *kind;
    size_t n, misalign;
} report;

static void fail(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(report *r, const char *fmt, ...)
{
    if (r->fails++ == 0 && r->len) {
        int w = snprintf(r->msg, r->len, "%s %s n=%zu+%zu: ", r->isa, r->kind, r->n, r->misalign);
        if (w >= 0 && (size_t)w < r->len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->msg + w, r->len - (size_t)w, fmt, ap);
            va_end(ap);
        }
    }
}

/* n elements of `size` bytes starting `misalign` elements past a 64-byte boundary, with guard
 * bytes on both sides. */
typedef struct {
    unsigned char *buf;
    void *p;
    size_t n, size, total;
} array;

static int array_make(array *a, size_t n, size_t size, size_t misalign)
{
    a->total = (LEAD + (MAX_MISALIGN + n + GUARD) * size + 63) / 64 * 64;
    a->buf = aligned_alloc(64, a->total);
    if (!a->buf) return -1;
    memset(a->buf, GUARD_BYTE, a->total);
    a->p = a->buf + LEAD + misalign * size;
    a->n = n;
    a->size = size;
    return 0;
}

static bool guards_intact(const array *a)
{
    const unsigned char *p = a->p;
    for (const unsigned char *q = a->buf; q < p; q++)
        if (*q != GUARD_BYTE) return false;
    for (const unsigned char *q = p + a->n * a->size; q < a->buf + a->total; q++)
        if (*q != GUARD_BYTE) return false;
    return true;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Hand-written answers of f32 -> bf16 (round to nearest even on the low 16 bits). */
static const struct {
    uint32_t f32;
    uint16_t bf16;
    const char *what;
} known_to_bf16[] = {
    {0x00000000u, 0x0000u, "+0"},
    {0x80000000u, 0x8000u, "-0"},
    {0x3f800000u, 0x3f80u, "1 exact"},
    {0x3f807fffu, 0x3f80u, "just below half: down"},
    {0x3f808000u, 0x3f80u, "tie, even kept part: down"},
    {0x3f808001u, 0x3f81u, "just above half: up"},
    {0x3f818000u, 0x3f82u, "tie, odd kept part: up to even"},
    {0xbf808000u, 0xbf80u, "negative tie, even: toward zero"},
    {0xbf818000u, 0xbf82u, "negative tie, odd: away from zero"},
    {0x3fffffffu, 0x4000u, "carry into the exponent (2 - ulp -> 2)"},
    {0x7f7f7fffu, 0x7f7fu, "largest finite bf16 kept"},
    {0x7f7f8000u, 0x7f80u, "tie above the largest finite bf16: +inf"},
    {0x7f7fffffu, 0x7f80u, "largest float: +inf"},
    {0xff7fffffu, 0xff80u, "lowest float: -inf"},
    {0x7f800000u, 0x7f80u, "+inf exact"},
    {0xff800000u, 0xff80u, "-inf exact"},
    {0x7fc00000u, 0x7fc0u, "quiet NaN"},
    {0xffc00000u, 0xffc0u, "negative quiet NaN: sign kept"},
    {0x7fc12345u, 0x7fc1u, "quiet NaN: upper payload kept, never rounded"},
    {0x7fa00000u, 0x7fe0u, "signalling NaN: payload kept, made quiet"},
    {0x7f800001u, 0x7fc0u, "signalling NaN with its payload in the dropped bits: NaN, not inf"},
    {0xff800001u, 0xffc0u, "the same, negative"},
    {0x7f810000u, 0x7fc1u, "signalling NaN, lowest kept payload bit"},
    {0x7fffffffu, 0x7fffu, "NaN whose rounding would carry into the sign"},
    {0xffffffffu, 0xffffu, "all ones"},
    {0x00800000u, 0x0080u, "smallest normal exact"},
    {0x00000001u, 0x0000u, "smallest denormal: rounds to +0"},
    {0x80000001u, 0x8000u, "negative smallest denormal: -0"},
    {0x00008000u, 0x0000u, "denormal tie, even: down to +0"},
    {0x00008001u, 0x0001u, "denormal above half: smallest bf16 denormal"},
    {0x00010000u, 0x0001u, "smallest bf16 denormal: kept, not flushed"},
    {0x00018000u, 0x0002u, "denormal tie, odd: up"},
    {0x80018000u, 0x8002u, "negative denormal tie, odd"},
    {0x007f0000u, 0x007fu, "largest bf16 denormal kept"},
    {0x807f0000u, 0x807fu, "negative largest bf16 denormal kept"},
    {0x007fffffu, 0x0080u, "largest denormal: up to the smallest normal"},
};

/* And of bf16 -> f32 (the bits in the upper half). */
static const uint16_t known_to_f32[] = {0x0000u, 0x8000u, 0x0001u, 0x807fu, 0x3f80u, 0x7f7fu,
                                        0x7f80u, 0xff80u, 0x7f81u, 0x7fc0u, 0xffffu};

static void check_known(report *r, const simd_kernels *k)
{
    enum { NK = sizeof known_to_bf16 / sizeof known_to_bf16[0], NF = sizeof known_to_f32 / sizeof known_to_f32[0] };
    float in[NK];
    bf16 out[NK];
    for (size_t i = 0; i < NK; i++) in[i] = f32_of_bits(known_to_bf16[i].f32);
    r->n = NK;
    k->f32_to_bf16(out, in, NK);
    for (size_t i = 0; i < NK; i++)
        if (out[i] != known_to_bf16[i].bf16)
            fail(r, "0x%08x -> 0x%04x, expected 0x%04x (%s)", (unsigned)known_to_bf16[i].f32, (unsigned)out[i],
                 (unsigned)known_to_bf16[i].bf16, known_to_bf16[i].what);
    /* one at a time too: every answer through the tail path */
    for (size_t i = 0; i < NK; i++) {
        bf16 one = 0;
        k->f32_to_bf16(&one, &in[i], 1);
        if (one != known_to_bf16[i].bf16)
            fail(r, "alone: 0x%08x -> 0x%04x, expected 0x%04x (%s)", (unsigned)known_to_bf16[i].f32, (unsigned)one,
                 (unsigned)known_to_bf16[i].bf16, known_to_bf16[i].what);
    }
    float wide[NF];
    r->n = NF;
    k->bf16_to_f32(wide, known_to_f32, NF);
    for (size_t i = 0; i < NF; i++)
        if (f32_bits(wide[i]) != (uint32_t)known_to_f32[i] << 16)
            fail(r, "0x%04x -> 0x%08x, expected 0x%08x", (unsigned)known_to_f32[i], (unsigned)f32_bits(wide[i]),
                 (unsigned)known_to_f32[i] << 16);
}

/* The low halves combined with every upper half: the rounding boundaries and a mixed one. */
static const uint16_t low_halves[] = {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu, 0x5a3cu};
#define NLOW (sizeof low_halves / sizeof low_halves[0])
#define NPATTERN ((size_t)65536 * NLOW)

/* Pattern i: upper half i / NLOW, lower half low_halves[i % NLOW] (a NaN or an infinity
 * sits next to normals and denormals inside one vector). */
static float pattern_f32(size_t i) { return f32_of_bits((uint32_t)(i / NLOW) << 16 | low_halves[i % NLOW]); }

/* bf16 values in an order that puts every class in every lane position: an odd stride. */
static bf16 pattern_bf16(size_t i) { return (bf16)(i * 40503u); }

/* NaN with the quiet bit clear: widened and narrowed again, it comes back quiet. */
static bf16 round_trip_of(bf16 b)
{
    bool nan = (b & 0x7f80u) == 0x7f80u && (b & 0x007fu) != 0;
    return nan ? (bf16)(b | BF16_QUIET_BIT) : b;
}

/* One length and misalignment: the ISA's arrays moved, the reference's aligned. `first` picks
 * where in the pattern the window starts. */
static void check_one(report *r, const simd_kernels *k, bf16_check_kind kind, size_t n, size_t mis, size_t first)
{
    const simd_kernels *ref = simd_kernels_scalar();
    bool from_f32 = kind == BF16_CHECK_TO_BF16;
    size_t in_size = from_f32 ? sizeof(float) : sizeof(bf16), out_size = from_f32 ? sizeof(bf16) : sizeof(float);
    array in = {0}, out = {0}, want = {0}, copy = {0};
    r->n = n;
    r->misalign = mis;
    int ok = array_make(&in, n, in_size, mis) == 0;
    ok = array_make(&out, n, out_size, mis) == 0 && ok;
    ok = array_make(&want, n, out_size, 0) == 0 && ok;
    ok = array_make(&copy, n, in_size, 0) == 0 && ok;
    if (!ok) {
        fail(r, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = first + i;
        if (from_f32) ((float *)in.p)[i] = pattern_f32(j % NPATTERN);
        else ((bf16 *)in.p)[i] = pattern_bf16(j);
    }
    memcpy(copy.p, in.p, n * in_size);
    switch (kind) {
    case BF16_CHECK_TO_BF16:
        k->f32_to_bf16(out.p, in.p, n);
        ref->f32_to_bf16(want.p, copy.p, n);
        break;
    case BF16_CHECK_TO_F32:
        k->bf16_to_f32(out.p, in.p, n);
        ref->bf16_to_f32(want.p, copy.p, n);
        break;
    default: { /* round trip: widen into out, narrow back into want, compare with the input */
        k->bf16_to_f32(out.p, in.p, n);
        bf16 *back = malloc(n * sizeof *back);
        if (!back) {
            fail(r, "out of memory");
            goto done;
        }
        k->f32_to_bf16(back, out.p, n);
        for (size_t i = 0; i < n; i++) {
            bf16 b = ((const bf16 *)copy.p)[i];
            if (back[i] != round_trip_of(b))
                fail(r, "0x%04x -> 0x%08x -> 0x%04x, expected 0x%04x back", (unsigned)b,
                     (unsigned)f32_bits(((const float *)out.p)[i]), (unsigned)back[i], (unsigned)round_trip_of(b));
        }
        free(back);
        ref->bf16_to_f32(want.p, copy.p, n);
        break;
    }
    }
    if (memcmp(out.p, want.p, n * out_size) != 0) {
        for (size_t i = 0; i < n; i++) {
            if (from_f32) {
                bf16 got = ((const bf16 *)out.p)[i], exp = ((const bf16 *)want.p)[i];
                if (got != exp) {
                    fail(r, "[%zu] 0x%08x -> 0x%04x, reference 0x%04x", i,
                         (unsigned)f32_bits(((const float *)copy.p)[i]), (unsigned)got, (unsigned)exp);
                    break;
                }
            } else {
                uint32_t got = f32_bits(((const float *)out.p)[i]), exp = f32_bits(((const float *)want.p)[i]);
                if (got != exp) {
                    fail(r, "[%zu] 0x%04x -> 0x%08x, reference 0x%08x", i, (unsigned)((const bf16 *)copy.p)[i],
                         (unsigned)got, (unsigned)exp);
                    break;
                }
            }
        }
    }
    if (!guards_intact(&out)) fail(r, "a write outside the output (guard bytes clobbered)");
    if (memcmp(in.p, copy.p, n * in_size) != 0 || !guards_intact(&in)) fail(r, "the input changed");
done:
    free(in.buf);
    free(out.buf);
    free(want.buf);
    free(copy.buf);
}

size_t bf16_check_all(const simd_kernels *k, bf16_check_kind kind, char *msg, size_t len)
{
    report r = {.msg = msg, .len = len, .isa = k->isa, .kind = bf16_check_kind_name(kind)};
    if (len) msg[0] = '\0';
    if (kind == BF16_CHECK_KNOWN) {
        check_known(&r, k);
        return r.fails;
    }
    if (kind >= BF16_CHECK_KINDS) {
        fail(&r, "unknown check %d", (int)kind);
        return r.fails;
    }
    size_t whole = kind == BF16_CHECK_TO_BF16 ? NPATTERN : 65536;
    for (size_t mis = 0; mis <= MAX_MISALIGN; mis++) {
        /* every tail, each window starting at another place of the pattern (a hash, so the
         * windows fall on NaNs, infinities and denormals as well as normals) */
        for (size_t n = 1; n <= MAX_TAIL; n++) check_one(&r, k, kind, n, mis, (n * 2654435761u + mis * 40503u) % whole);
        check_one(&r, k, kind, whole, mis, 0);
        check_one(&r, k, kind, whole - 1, mis, 1); /* every value in another lane */
    }
    return r.fails;
}
