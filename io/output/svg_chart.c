#include "io/output/svg_chart.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Layout, in SVG user units (pixels at 100%). */
enum {
    MARGIN = 24,     /* around the whole chart */
    PANEL_W = 520,   /* one panel: plot area, tick labels, axis labels */
    PANEL_H = 360,
    PANEL_GAP = 24,
    TITLE_PX = 20,
    SUBTITLE_PX = 13,
    PANEL_TITLE_PX = 15,
    LABEL_PX = 13,   /* axis labels and legend */
    TICK_PX = 12,
    SWATCH_W = 32,   /* the line sample of a legend entry */
    LEGEND_ROW = 22,
    LEGEND_MAX = 16,
    TICKS_TARGET = 6,
};

static const char *const TEXT_GREY = "#444444";

/* There are no font metrics without a renderer, so text width is estimated from the number of
 * characters: sans-serif averages about 0.55 em per character, 0.6 errs towards room. */
static double text_width(const char *s, size_t n, int px)
{
    size_t chars = 0;
    for (size_t i = 0; i < n && s[i]; i++) chars += ((unsigned char)s[i] & 0xc0) != 0x80; /* UTF-8 lead bytes */
    return (double)chars * 0.6 * px;
}

/* Text and attribute values: the five XML specials become entities, and control characters
 * (not allowed in XML 1.0) become spaces. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(c < 0x20 ? ' ' : c, f);
        }
    }
}

/* <text> at (x, y) with the given size and anchor; `attrs` adds attributes (" font-weight=..."). */
static void put_text(FILE *f, double x, double y, int px, const char *anchor, const char *attrs, const char *s,
                     size_t n)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\"%s>", x, y, px, anchor, attrs);
    put_escaped(f, s, n);
    fputs("</text>\n", f);
}

/* The first line of s that fits `width`, breaking at spaces (a longer word stands alone on its
 * line) or at '\n': returns its length and sets *next to the rest (NULL when none). */
static size_t wrap_line(const char *s, double width, int px, const char **next)
{
    size_t end = 0, i = 0;
    while (s[i] && s[i] != '\n') {
        size_t j = i;
        while (s[j] && s[j] != ' ' && s[j] != '\n') j++;
        if (end > 0 && text_width(s, j, px) > width) break;
        end = j;
        while (s[j] == ' ') j++;
        i = j;
    }
    const char *rest = s + end;
    while (*rest == ' ') rest++;
    if (*rest == '\n') rest++;
    *next = *rest ? rest : NULL;
    return end;
}

/* Writes s (when f is not NULL) as centred lines, wrapped to width, from baseline *y down;
 * advances *y past them. Measuring and drawing share this, so the layout cannot disagree. */
static void text_block(FILE *f, const char *s, double cx, double width, int px, double leading, const char *attrs,
                       double *y)
{
    while (s && *s) {
        const char *next;
        size_t n = wrap_line(s, width, px, &next);
        *y += px;
        if (f) put_text(f, cx, *y, px, "middle", attrs, s, n);
        *y += leading;
        s = next;
    }
}

/* ---- nice ticks ---------------------------------------------------------------------- */

/* The ticks of step `step` that cover [lo, hi]. The epsilon keeps 0.62 / 0.02 = 30.999...
 * from widening the range by a whole step. */
static svg_ticks ticks_of_step(double lo, double hi, double step)
{
    double a = floor(lo / step + 1e-9), b = ceil(hi / step - 1e-9);
    return (svg_ticks){.lo = a * step, .hi = b * step, .step = step, .count = (int)(b - a) + 1};
}

svg_ticks svg_nice_ticks(double lo, double hi, int target, bool integer)
{
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = 1;
    if (lo > hi) {
        double t = lo;
        lo = hi, hi = t;
    }
    if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) { /* one value: give it some room */
        if (lo == 0)
            hi = 1;
        else
            lo -= 0.1 * fabs(lo), hi += 0.1 * fabs(hi);
    }
    if (target < 2) target = 2;
    /* Nice steps are 1, 2 or 5 times a power of ten: of those around the raw step, the one
     * whose tick count comes closest to target (on a tie, the longer step: fewer labels). */
    double raw = (hi - lo) / (target - 1), decade = pow(10.0, floor(log10(raw)));
    static const double multiples[] = {1, 2, 5, 10};
    svg_ticks best = {0};
    for (int i = 0; i < 4; i++) {
        double step = multiples[i] * decade;
        if (integer && step < 1) step = 1;
        svg_ticks t = ticks_of_step(lo, hi, step);
        if (i == 0 || abs(t.count - target) <= abs(best.count - target)) best = t;
    }
    return best;
}

/* ---- axes ------------------------------------------------------------------------------ */

/* An axis as drawn: its range (log2 units on a log axis) and ticks. */
typedef struct {
    svg_scale scale;
    double lo, hi, step;
    int count;
    int decimals; /* of the tick labels on a linear axis */
} axis_range;

static bool usable(const svg_axis *a, double v) { return isfinite(v) && (a->scale != SVG_SCALE_LOG2 || v > 0); }

static bool plotted(const svg_panel *p, const svg_series *s, int i)
{
    return s->y && i >= 0 && i < s->n && usable(&p->x, s->x[i]) && usable(&p->y, s->y[i]);
}

static bool band_plotted(const svg_panel *p, const svg_series *s, int i)
{
    return i >= 0 && i < s->n && usable(&p->x, s->x[i]) && usable(&p->y, s->lo[i]) && usable(&p->y, s->hi[i]);
}

static axis_range resolve_axis(const svg_panel *p, bool is_x)
{
    const svg_axis *a = is_x ? &p->x : &p->y;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < p->nseries; k++)
        for (int i = 0; i < p->series[k].n; i++)
            if (plotted(p, &p->series[k], i)) {
                double v = is_x ? p->series[k].x[i] : p->series[k].y[i];
                lo = fmin(lo, v), hi = fmax(hi, v);
            }

    if (!is_x) /* bands widen the value range too */
        for (int k = 0; k < p->nseries; k++)
            for (int i = 0; p->series[k].lo && p->series[k].hi && i < p->series[k].n; i++)
                if (band_plotted(p, &p->series[k], i)) {
                    lo = fmin(lo, p->series[k].lo[i]);
                    hi = fmax(hi, p->series[k].hi[i]);
                }

    axis_range r = {.scale = a->scale};
    if (a->scale == SVG_SCALE_LOG2) {
        if (lo > hi) lo = 1, hi = 2;
        double e0 = floor(log2(lo) + 1e-9), e1 = ceil(log2(hi) - 1e-9);
        if (e1 <= e0) { /* one value: room on each side, but no ticks below 1 when it is 1 */
            if (e0 > 0) e0 -= 1;
            e1 = e0 == floor(log2(lo) + 1e-9) ? e0 + 1 : e0 + 2;
        }
        r.lo = e0, r.hi = e1;
        r.step = ceil((e1 - e0) / 10.0); /* at most about ten labels */
        r.count = (int)floor((e1 - e0) / r.step) + 1;
        return r;
    }
    if (lo > hi) lo = 0, hi = 1;
    if (a->from_zero) lo = fmin(lo, 0), hi = fmax(hi, 0);
    if (!is_x && hi > lo) { /* a little room, so a line at the extreme does not run along the frame */
        double pad = 0.02 * (hi - lo);
        if (!(a->from_zero && hi == 0)) hi += pad;
        if (!(a->from_zero && lo == 0)) lo -= pad;
    }
    svg_ticks t = svg_nice_ticks(lo, hi, TICKS_TARGET, a->integer);
    if (a->fraction && t.lo < 0) t.count -= (int)lround(-t.lo / t.step), t.lo = 0;
    if (a->fraction && t.hi > 1) t.count -= (int)lround((t.hi - 1) / t.step), t.hi = 1;
    r.lo = t.lo, r.hi = t.hi, r.step = t.step, r.count = t.count;
    r.decimals = t.step >= 1 ? 0 : (int)ceil(-log10(t.step) - 1e-9);
    return r;
}

/* Where v falls on the axis, from 0 (lo) to 1 (hi). */
static double axis_fraction(const axis_range *r, double v)
{
    if (r->scale == SVG_SCALE_LOG2) v = log2(v);
    return (v - r->lo) / (r->hi - r->lo);
}

static double tick_value(const axis_range *r, int i)
{
    double v = r->lo + i * r->step;
    return r->scale == SVG_SCALE_LOG2 ? exp2(v) : v;
}

static size_t tick_label(char *buf, size_t size, const axis_range *r, int i)
{
    double v = tick_value(r, i);
    if (r->scale == SVG_SCALE_LOG2)
        snprintf(buf, size, "%g", v);
    else
        snprintf(buf, size, "%.*f", r->decimals, fabs(v) < 1e-6 * r->step ? 0.0 : v); /* no "-0.0" */
    return strlen(buf);
}

/* ---- legend ---------------------------------------------------------------------------- */

/* One entry per distinct label, in order of first appearance. */
typedef struct {
    const svg_series *entry[LEGEND_MAX];
    int n;
} legend;

static void legend_collect(const svg_chart *c, legend *l)
{
    l->n = 0;
    for (int p = 0; p < c->npanels; p++)
        for (int k = 0; k < c->panels[p].nseries; k++) {
            const svg_series *s = &c->panels[p].series[k];
            if (!s->label || !*s->label) continue;
            bool seen = false;
            for (int j = 0; j < l->n && !seen; j++) seen = strcmp(l->entry[j]->label, s->label) == 0;
            if (!seen && l->n < LEGEND_MAX) l->entry[l->n++] = s;
        }
}

static double legend_entry_width(const svg_series *s)
{
    return SWATCH_W + 6 + text_width(s->label, strlen(s->label), LABEL_PX) + 26;
}

static void marker(FILE *f, double x, double y, const char *colour, bool open)
{
    fputs("<circle cx=\"", f);
    fprintf(f, "%.1f\" cy=\"%.1f\" r=\"3.5\" stroke-width=\"1.5\" fill=\"", x, y);
    put_escaped(f, open ? "#ffffff" : colour, SIZE_MAX);
    fputs("\" stroke=\"", f);
    put_escaped(f, colour, SIZE_MAX);
    fputs("\"/>\n", f);
}

static void stroke_attrs(FILE *f, const svg_series *s)
{
    fputs(" fill=\"none\" stroke=\"", f);
    put_escaped(f, s->colour, SIZE_MAX);
    fprintf(f, "\" stroke-width=\"%g\" stroke-linejoin=\"round\"%s", s->width > 0 ? s->width : 2.0,
            s->dashed ? " stroke-dasharray=\"7 4\"" : "");
    if (s->opacity > 0 && s->opacity < 1) fprintf(f, " stroke-opacity=\"%g\"", s->opacity);
}

/* The light fill of a band, in the series' colour. */
static void band_fill(FILE *f, const svg_series *s)
{
    fputs(" fill=\"", f);
    put_escaped(f, s->colour, SIZE_MAX);
    fputs("\" fill-opacity=\"0.18\" stroke=\"none\"", f);
}

/* Rows of entries, each row centred on cx; advances *y past them. Draws only when f is set. */
static void legend_block(FILE *f, const legend *l, double cx, double width, double *y)
{
    for (int start = 0; start < l->n;) {
        int end = start;
        double row = 0;
        while (end < l->n && (end == start || row + legend_entry_width(l->entry[end]) <= width))
            row += legend_entry_width(l->entry[end++]);
        *y += LEGEND_ROW;
        double x = cx - row / 2 + 13; /* entries carry 13 units of spacing on each side */
        for (int k = start; f && k < end; k++) {
            const svg_series *s = l->entry[k];
            double mid = *y - 4.5; /* the middle of the text's x-height */
            if (s->lo && s->hi) {
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"10\"", x, mid - 5, SWATCH_W);
                band_fill(f, s);
                fputs("/>\n", f);
            }
            if (!s->no_line) fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x, mid, x + SWATCH_W, mid);
            if (!s->no_line) {
                stroke_attrs(f, s);
                fputs("/>\n", f);
            }
            if (s->mark != SVG_MARK_NONE) marker(f, x + SWATCH_W / 2.0, mid, s->colour, s->mark == SVG_MARK_OPEN);
            put_text(f, x + SWATCH_W + 6, *y, LABEL_PX, "start", "", s->label, SIZE_MAX);
            x += legend_entry_width(s);
        }
        start = end;
    }
}

/* ---- panels ---------------------------------------------------------------------------- */

/* A band: one closed path per stretch of plotted points, along hi and back along lo. */
static void write_band(FILE *f, const svg_panel *p, const svg_series *s, const axis_range *xr, const axis_range *yr,
                       double left, double top, double w, double h)
{
    if (!s->lo || !s->hi) return;
    for (int i = 0; i < s->n;) {
        if (!band_plotted(p, s, i)) {
            i++;
            continue;
        }
        int j = i;
        while (j < s->n && band_plotted(p, s, j)) j++;
        fputs("<path class=\"band\" d=\"", f);
        for (int k = i; k < j; k++)
            fprintf(f, "%s%.1f %.1f", k == i ? "M" : " L", left + axis_fraction(xr, s->x[k]) * w,
                    top + (1 - axis_fraction(yr, s->hi[k])) * h);
        for (int k = j - 1; k >= i; k--)
            fprintf(f, " L%.1f %.1f", left + axis_fraction(xr, s->x[k]) * w, top + (1 - axis_fraction(yr, s->lo[k])) * h);
        fputs(" Z\"", f);
        band_fill(f, s);
        fputs("/>\n", f);
        i = j;
    }
}

static void write_series(FILE *f, const svg_panel *p, const svg_series *s, const axis_range *xr,
                         const axis_range *yr, double left, double top, double w, double h)
{
    if (s->no_line || !s->y) return;
    fputs("<path class=\"series\" d=\"", f);
    bool down = false, first = true;
    for (int i = 0; i < s->n; i++) {
        if (!plotted(p, s, i)) {
            down = false; /* a gap: the next point starts a new subpath */
            continue;
        }
        double x = left + axis_fraction(xr, s->x[i]) * w, y = top + (1 - axis_fraction(yr, s->y[i])) * h;
        fprintf(f, "%s%.1f %.1f", down ? " L" : first ? "M" : " M", x, y);
        down = true, first = false;
    }
    fputc('"', f);
    stroke_attrs(f, s);
    fputs("/>\n", f);
}

/* Dots after the lines, so they sit on top. A point with no plotted neighbour would draw
 * nothing as a line, so it gets a dot even in a series without marks: those `implied` dots
 * are drawn first, so that a reference line's dot never hides a measured one. */
static void write_markers(FILE *f, const svg_panel *p, const svg_series *s, bool implied, const axis_range *xr,
                          const axis_range *yr, double left, double top, double w, double h)
{
    if (implied != (s->mark == SVG_MARK_NONE)) return;
    for (int i = 0; i < s->n; i++) {
        if (!plotted(p, s, i)) continue;
        bool isolated = !plotted(p, s, i - 1) && !plotted(p, s, i + 1);
        if (implied && !isolated) continue;
        double x = left + axis_fraction(xr, s->x[i]) * w, y = top + (1 - axis_fraction(yr, s->y[i])) * h;
        marker(f, x, y, s->colour, s->mark == SVG_MARK_OPEN);
    }
}

static void write_panel(FILE *f, const svg_panel *p, double x0, double y0)
{
    axis_range xr = resolve_axis(p, true), yr = resolve_axis(p, false);
    char label[64];

    /* The plot area leaves room on the left for the widest y tick label and the y axis label. */
    double widest = 0;
    for (int i = 0; i < yr.count; i++) {
        size_t n = tick_label(label, sizeof label, &yr, i);
        widest = fmax(widest, text_width(label, n, TICK_PX));
    }
    double left = x0 + 28 + widest + 8, right = x0 + PANEL_W - 16;
    double top = y0 + 34, bottom = y0 + PANEL_H - 50, w = right - left, h = bottom - top;

    fputs("<g class=\"panel\">\n", f);
    if (p->title)
        put_text(f, (left + right) / 2, y0 + 18, PANEL_TITLE_PX, "middle", " font-weight=\"bold\"", p->title, SIZE_MAX);

    fputs("<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < yr.count; i++) {
        double y = bottom - axis_fraction(&yr, tick_value(&yr, i)) * h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, y, right, y);
    }
    for (int i = 0; i < xr.count; i++) {
        double x = left + axis_fraction(&xr, tick_value(&xr, i)) * w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, top, x, bottom);
    }
    fputs("</g>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888888\"/>\n",
            left, top, w, h);

    fprintf(f, "<g fill=\"%s\">\n", TEXT_GREY);
    for (int i = 0; i < yr.count; i++) {
        double y = bottom - axis_fraction(&yr, tick_value(&yr, i)) * h;
        put_text(f, left - 6, y + 4, TICK_PX, "end", "", label, tick_label(label, sizeof label, &yr, i));
    }
    for (int i = 0; i < xr.count; i++) {
        double x = left + axis_fraction(&xr, tick_value(&xr, i)) * w;
        put_text(f, x, bottom + 17, TICK_PX, "middle", "", label, tick_label(label, sizeof label, &xr, i));
    }
    fputs("</g>\n", f);

    if (p->x.label) put_text(f, (left + right) / 2, bottom + 40, LABEL_PX, "middle", "", p->x.label, SIZE_MAX);
    if (p->y.label) {
        double x = x0 + 14, y = (top + bottom) / 2;
        char rotate[80];
        snprintf(rotate, sizeof rotate, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
        put_text(f, x, y, LABEL_PX, "middle", rotate, p->y.label, SIZE_MAX);
    }

    for (int k = 0; k < p->nseries; k++) write_band(f, p, &p->series[k], &xr, &yr, left, top, w, h);
    for (int k = 0; k < p->nseries; k++) write_series(f, p, &p->series[k], &xr, &yr, left, top, w, h);
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < p->nseries; k++) write_markers(f, p, &p->series[k], pass == 0, &xr, &yr, left, top, w, h);
    fputs("</g>\n", f);
}

/* ---- the document ---------------------------------------------------------------------- */

/* Title, subtitle and legend from the top; returns where the panels start. Draws when f is set. */
static double header(FILE *f, const svg_chart *c, const legend *l, double width)
{
    double y = MARGIN - 4, cx = width / 2, room = width - 2 * MARGIN;
    text_block(f, c->title, cx, room, TITLE_PX, 6, " font-weight=\"bold\"", &y);
    char grey[40];
    snprintf(grey, sizeof grey, " fill=\"%s\"", TEXT_GREY);
    text_block(f, c->subtitle, cx, room, SUBTITLE_PX, 5, grey, &y);
    legend_block(f, l, cx, room, &y);
    return y + 14;
}

void svg_chart_write(FILE *f, const svg_chart *c)
{
    int panels = c->npanels > 0 ? c->npanels : 1;
    double width = 2 * MARGIN + panels * PANEL_W + (panels - 1) * PANEL_GAP;
    legend l;
    legend_collect(c, &l);
    double top = header(NULL, c, &l, width), height = top + (c->npanels > 0 ? PANEL_H : 0) + MARGIN;

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n",
            width, height, width, height);
    fputs("<title>", f);
    put_escaped(f, c->title ? c->title : "", SIZE_MAX);
    fputs("</title>\n<desc>", f);
    put_escaped(f, c->subtitle ? c->subtitle : "", SIZE_MAX);
    fputs("</desc>\n", f);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
    header(f, c, &l, width);
    for (int p = 0; p < c->npanels; p++) write_panel(f, &c->panels[p], MARGIN + p * (PANEL_W + PANEL_GAP), top);
    fputs("</svg>\n", f);
}
