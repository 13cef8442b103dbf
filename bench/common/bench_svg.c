#include "bench_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define W 720.0
#define H 440.0
#define LEFT 80.0
#define RIGHT 180.0
#define TOP 40.0
#define BOTTOM 60.0

static const char *const colors[] = { "#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b" };

/* Decades that cover [lo, hi]. */
static void decades(double lo, double hi, double *dlo, double *dhi)
{
    *dlo = floor(log10(lo));
    *dhi = ceil(log10(hi));
    if (*dhi <= *dlo)
        *dhi = *dlo + 1;
}

/* The document's start on a fresh memstream: white page, title, and a
 * logarithmic y axis over decades ylo..yhi (a grid line and label each). */
static FILE *svg_open(char **out, size_t *len, double w, const char *title, double ylo, double yhi,
                      double pw, double ph)
{
    FILE *f = open_memstream(out, len);
    if (!f)
        return NULL;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s</text>\n", w, H, LEFT, title);
    for (double d = ylo; d <= yhi; d++) {
        double y = TOP + ph - (d - ylo) / (yhi - ylo) * ph;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                LEFT, y, LEFT + pw, y, LEFT - 6, y + 4, pow(10, d));
    }
    return f;
}

/* Close the document: its text, or NULL. *out is read after fclose, which
 * sets it (the buffer may move). */
static char *svg_close(FILE *f, char **out)
{
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) {
        free(*out);
        return NULL;
    }
    return *out;
}

char *tm_svg_loglog(const char *title, const char *xlabel, const char *ylabel,
                    const struct tm_svg_series *series, size_t nseries)
{
    double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
    for (size_t s = 0; s < nseries; s++)
        for (size_t i = 0; i < series[s].n; i++) {
            if (series[s].x[i] <= 0 || series[s].y[i] <= 0)
                continue;
            xmin = fmin(xmin, series[s].x[i]);
            xmax = fmax(xmax, series[s].x[i]);
            ymin = fmin(ymin, series[s].y[i]);
            ymax = fmax(ymax, series[s].y[i]);
        }
    if (xmax <= 0 || ymax <= 0)
        return NULL;
    double xlo = log2(xmin), xhi = log2(xmax), ylo, yhi;
    if (xhi <= xlo)
        xhi = xlo + 1;
    decades(ymin, ymax, &ylo, &yhi);
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(v) (LEFT + (log2(v) - xlo) / (xhi - xlo) * pw)
#define PY(v) (TOP + ph - (log10(v) - ylo) / (yhi - ylo) * ph)

    char *out = NULL;
    size_t len = 0;
    FILE *f = svg_open(&out, &len, W, title, ylo, yhi, pw, ph);
    if (!f)
        return NULL;
    for (double v = pow(2, ceil(xlo)); v <= xmax * 1.0001; v *= 2) {   /* x ticks: powers of two */
        double x = PX(v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                x, TOP, x, TOP + ph, x, TOP + ph + 18, v);
    }
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
               "<text transform=\"translate(20 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
            LEFT, TOP, pw, ph, LEFT + pw / 2, H - 18, xlabel, TOP + ph / 2, ylabel);
    for (size_t s = 0; s < nseries; s++) {
        const char *color = colors[s % (sizeof colors / sizeof colors[0])];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t i = 0; i < series[s].n; i++)
            if (series[s].x[i] > 0 && series[s].y[i] > 0)
                fprintf(f, "%.1f,%.1f ", PX(series[s].x[i]), PY(series[s].y[i]));
        fprintf(f, "\"/>\n");
        for (size_t i = 0; i < series[s].n; i++)
            if (series[s].x[i] > 0 && series[s].y[i] > 0)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(series[s].x[i]),
                        PY(series[s].y[i]), color);
        double ly = TOP + 10 + 20.0 * (double)s;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                LEFT + pw + 12, ly, LEFT + pw + 32, ly, color, LEFT + pw + 38, ly + 4, series[s].label);
    }
#undef PX
#undef PY
    return svg_close(f, &out);
}

/* Segment colors of stacked bars: a different palette from the lines'. */
static const char *const seg_colors[] = { "#8dd3c7", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
                                          "#bebada", "#fccde5", "#d9d9d9", "#bc80bd", "#ffed6f" };

char *tm_svg_stacked_bars(const char *title, const char *ylabel, const char *const *groups,
                          size_t ngroups, const char *const *bars, size_t nbars,
                          const char *const *segments, size_t nseg, const double *v)
{
    double ymin = INFINITY, ymax = 0;
    for (size_t i = 0; i < ngroups * nbars; i++) {
        double cum = 0;
        for (size_t s = 0; s < nseg; s++)
            if (v[i * nseg + s] > 0) {
                cum += v[i * nseg + s];
                ymin = fmin(ymin, cum);
            }
        ymax = fmax(ymax, cum);
    }
    if (ymax <= 0 || ngroups == 0 || nbars == 0)
        return NULL;
    double ylo, yhi, w = fmax(W, 140.0 + (double)(ngroups * (nbars + 1)) * 14.0 + RIGHT);
    decades(ymin, ymax, &ylo, &yhi);
    double pw = w - LEFT - RIGHT, ph = H - TOP - BOTTOM, gw = pw / (double)ngroups;
    double bw = gw / (double)(nbars + 1);
#define BY(val) (TOP + ph - (fmax(log10(val), ylo) - ylo) / (yhi - ylo) * ph)
    char *out = NULL;
    size_t len = 0;
    FILE *f = svg_open(&out, &len, w, title, ylo, yhi, pw, ph);
    if (!f)
        return NULL;
    for (size_t g = 0; g < ngroups; g++) {
        double gx = LEFT + gw * (double)g + bw / 2;
        for (size_t b = 0; b < nbars; b++) {
            const double *seg = v + (g * nbars + b) * nseg;
            double x = gx + bw * (double)b, cum = 0;
            for (size_t s = 0; s < nseg; s++) {
                if (seg[s] <= 0)
                    continue;
                double y0 = cum > 0 ? BY(cum) : TOP + ph;
                cum += seg[s];
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                           "stroke=\"#555\" stroke-width=\"0.5\"/>\n",
                        x, BY(cum), bw * 0.9, fmax(y0 - BY(cum), 0), seg_colors[s % 10]);
            }
            if (cum > 0)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%s</text>\n",
                        x + bw * 0.45, BY(cum) - 3, bars[b]);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
                   "transform=\"rotate(-30 %.1f %.1f)\">%s</text>\n",
                gx + gw / 2, TOP + ph + 14, gx + gw / 2, TOP + ph + 14, groups[g]);
    }
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n"
               "<text transform=\"translate(20 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
            LEFT, TOP, pw, ph, TOP + ph / 2, ylabel);
    for (size_t s = 0; s < nseg; s++) {
        double ly = TOP + 10 + 18.0 * (double)s;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#555\"/>\n"
                   "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                LEFT + pw + 12, ly - 6, seg_colors[s % 10], LEFT + pw + 32, ly + 4, segments[s]);
    }
#undef BY
    return svg_close(f, &out);
}
