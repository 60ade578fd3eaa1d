package io.raftkv.bench;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Locale;

/**
 * Draws latency distributions as an SVG percentile plot, in the style of HdrHistogram's plotter:
 * x is the percentile on the scale 1/(1-p), so 90%, 99%, 99.9%... are evenly spaced; one line per
 * distribution.
 *
 * <p>The y axis (latency, µs) is logarithmic too: a sweep puts rates the target keeps up with (tens
 * of microseconds) next to rates it does not (a backlog of seconds), and on a linear axis the first
 * would be a flat line at zero.
 */
final class PercentilePlot {
    /** One line of the plot. */
    record Series(String label, Histogram histogram) {}

    private static final int WIDTH = 960;
    private static final int HEIGHT = 600;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 70;
    private static final int BOTTOM = 70;
    /** The x axis ends at 99.999%: 1/(1-p) = 10^5. */
    private static final int X_DECADES = 5;
    private static final double X_STEP = 0.02;
    private static final String[] COLOURS = {
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

    private PercentilePlot() {}

    static String svg(String title, String subtitle, List<Series> series) {
        double plotW = WIDTH - LEFT - RIGHT;
        double plotH = HEIGHT - TOP - BOTTOM;
        // The y range in decades of microseconds, widened to whole decades around every line.
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            Histogram h = s.histogram();
            if (h.getTotalCount() == 0) continue;
            lo = Math.min(lo, Math.log10(Math.max(1, h.getMinValue()) / 1e3));
            hi = Math.max(hi, Math.log10(Math.max(1, h.getMaxValue()) / 1e3));
        }
        if (lo > hi) { lo = 0; hi = 1; }
        int yMin = (int) Math.floor(lo);
        int yMax = Math.max(yMin + 1, (int) Math.ceil(hi));

        StringBuilder b = new StringBuilder(16_384);
        b.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(b, WIDTH / 2.0, 28, "middle", "font-size=\"17\" font-weight=\"bold\"", title);
        text(b, WIDTH / 2.0, 50, "middle", "fill=\"#555\"", subtitle);

        b.append("<g stroke=\"#ddd\" stroke-width=\"1\">\n");
        for (int d = 0; d <= X_DECADES; d++) {
            double x = LEFT + plotW * d / X_DECADES;
            line(b, x, TOP, x, TOP + plotH);
        }
        for (int d = yMin; d <= yMax; d++) {
            double y = TOP + plotH * (yMax - d) / (yMax - yMin);
            line(b, LEFT, y, LEFT + plotW, y);
        }
        b.append("</g>\n");
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                + "stroke=\"#333\"/>%n", LEFT, TOP, plotW, plotH));
        for (int d = 0; d <= X_DECADES; d++) {
            text(b, LEFT + plotW * d / X_DECADES, TOP + plotH + 20, "middle", "", percentileLabel(d));
        }
        for (int d = yMin; d <= yMax; d++) {
            double y = TOP + plotH * (yMax - d) / (yMax - yMin);
            text(b, LEFT - 8, y + 4, "end", "", microsLabel(d));
        }
        text(b, LEFT + plotW / 2, HEIGHT - 22, "middle", "", "percentile");
        b.append(String.format(Locale.ROOT, "<text x=\"22\" y=\"%.1f\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 22 %.1f)\">latency (µs, log scale)</text>%n", TOP + plotH / 2, TOP + plotH / 2));

        for (int i = 0; i < series.size(); i++) {
            Histogram h = series.get(i).histogram();
            if (h.getTotalCount() == 0) continue;
            // Beyond 1 - 1/count every percentile is the maximum: the line stops where the data does.
            double xEnd = Math.min(X_DECADES, Math.log10(h.getTotalCount()));
            b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(colour(i)).append("\" points=\"");
            for (double x = 0; ; x = Math.min(xEnd, x + X_STEP)) {
                double percentile = 100 * (1 - Math.pow(10, -x));
                double us = Math.max(1, h.getValueAtPercentile(percentile)) / 1e3;
                double px = LEFT + plotW * x / X_DECADES;
                double py = TOP + plotH * (yMax - Math.log10(us)) / (yMax - yMin);
                b.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                if (x >= xEnd) break;
            }
            b.setLength(b.length() - 1);
            b.append("\"/>\n");
        }
        legend(b, series);
        b.append("</svg>\n");
        return b.toString();
    }

    private static void legend(StringBuilder b, List<Series> series) {
        // Top left: percentile lines rise to the right, so that corner is the emptiest.
        int x = LEFT + 14, y = TOP + 14, rowH = 20;
        int w = 20;
        for (Series s : series) w = Math.max(w, 40 + 8 * s.label().length());
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
                + "fill-opacity=\"0.9\" stroke=\"#999\"/>%n", x, y, w, 10 + rowH * series.size()));
        for (int i = 0; i < series.size(); i++) {
            int ly = y + 15 + rowH * i;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"3\"/>%n", x + 8, ly, x + 30, ly, colour(i)));
            text(b, x + 36, ly + 4, "start", "", series.get(i).label());
        }
    }

    private static String percentileLabel(int decade) {
        return switch (decade) {
            case 0 -> "0%";
            case 1 -> "90%";
            default -> "99." + "9".repeat(decade - 2) + "%";
        };
    }

    private static String microsLabel(int decade) {
        return decade >= 0 ? String.format(Locale.ROOT, "%,d", Math.round(Math.pow(10, decade)))
                : String.format(Locale.ROOT, "%s", Math.pow(10, decade));
    }

    private static String colour(int i) {
        return COLOURS[i % COLOURS.length];
    }

    private static void line(StringBuilder b, double x1, double y1, double x2, double y2) {
        b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>%n", x1, y1, x2, y2));
    }

    private static void text(StringBuilder b, double x, double y, String anchor, String attributes, String s) {
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s>%s</text>%n",
                x, y, anchor, attributes, escape(s)));
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
