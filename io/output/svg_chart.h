/* A small line-chart writer: one or more panels side by side, each with axes (nice ticks,
 * grid, labels) and series (colour, dash, markers), under a title, a subtitle and one legend
 * shared by all panels. The output is a self-contained SVG 1.1 document: no scripts, no
 * external fonts (font-family sans-serif), all text escaped.
 *
 *   svg_series s = {.label = "train", .colour = "#0072b2", .x = xs, .y = ys, .n = 10};
 *   svg_panel p = {.title = "Loss", .x = {.label = "epoch", .integer = true},
 *                  .y = {.label = "loss"}, .series = &s, .nseries = 1};
 *   svg_chart c = {.title = "Training", .subtitle = "batch 128", .panels = &p, .npanels = 1};
 *   svg_chart_write(f, &c);  then check ferror(f) */
#ifndef GCBENCH_IO_SVG_CHART_H
#define GCBENCH_IO_SVG_CHART_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    SVG_MARK_NONE,   /* a plain line (an isolated point still gets a dot, or it would not show) */
    SVG_MARK_FILLED, /* a filled dot at every point */
    SVG_MARK_OPEN,   /* a hollow dot at every point: tells dashed series apart at a glance */
} svg_mark;

typedef enum {
    SVG_SCALE_LINEAR,
    SVG_SCALE_LOG2, /* ticks at powers of two: thread counts */
} svg_scale;

typedef struct {
    const char *label; /* legend text; series with the same label share one legend entry */
    const char *colour; /* an SVG colour, e.g. "#0072b2" */
    bool dashed;
    svg_mark mark;
    const double *x, *y; /* n points; a non-finite value (or x <= 0 on a log axis) leaves a gap */
    int n;
    double width;        /* of the line; 0: 2 */
    double opacity;      /* of the line and its dots; 0: opaque */
    bool no_line;        /* dots only (give it a mark) */
    const double *lo, *hi; /* optional: a band from lo to hi at each x, filled lightly under the lines */
} svg_series;

typedef struct {
    const char *label;
    svg_scale scale;
    bool integer;   /* ticks at whole numbers only (epochs) */
    bool from_zero; /* the range reaches down (or up) to 0 (throughput) */
    bool fraction;  /* values lie in [0, 1] (accuracy): the axis does not go beyond */
} svg_axis;

typedef struct {
    const char *title;
    svg_axis x, y;
    const svg_series *series;
    int nseries;
} svg_panel;

typedef struct {
    const char *title;
    const char *subtitle; /* may be NULL; long text wraps at spaces */
    const svg_panel *panels;
    int npanels;
} svg_chart;

/* The ticks of a linear axis: lo, lo + step, ..., hi (count of them), with lo <= the data's
 * minimum and hi >= its maximum. */
typedef struct {
    double lo, hi, step;
    int count;
} svg_ticks;

/* "Nice numbers" (after Heckbert, Graphics Gems, 1990): about `target` ticks over [lo, hi] at
 * a step of 1, 2 or 5 times a power of ten. An empty range is widened around its value;
 * integer keeps the step >= 1. */
svg_ticks svg_nice_ticks(double lo, double hi, int target, bool integer);

/* Writes the chart as a whole SVG document. Output errors are left in ferror(f). */
void svg_chart_write(FILE *f, const svg_chart *c);

#endif
