package dev.tuna.report;

import dev.tuna.TunaException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYPointerAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Line charts for training reports, drawn with JFreeChart into PNG images. */
public final class Plots {
    private Plots() {}

    /**
     * A named series of (x, y) points.
     *
     * @param name the legend entry
     * @param x the x values
     * @param y the y values, same length
     */
    public record Series(String name, double[] x, double[] y) {}

    /**
     * Draws a line chart.
     *
     * @param title the title
     * @param xLabel the x-axis label
     * @param yLabel the y-axis label
     * @param logX whether the x axis is logarithmic
     * @param series the lines
     * @param markerX an x value to point at with an arrow, or NaN for none
     * @param markerLabel the arrow's label
     * @param width image width
     * @param height image height
     * @return the image
     */
    public static BufferedImage lines(String title, String xLabel, String yLabel, boolean logX, List<Series> series,
            double markerX, String markerLabel, int width, int height) {
        XYSeriesCollection dataset = new XYSeriesCollection();
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.y()[i]) && Double.isFinite(s.x()[i])) {
                    xy.add(s.x()[i], s.y()[i]);
                }
            }
            dataset.addSeries(xy);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, dataset, PlotOrientation.VERTICAL,
                series.size() > 1, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        if (logX) {
            LogAxis axis = new LogAxis(xLabel);
            axis.setSmallestValue(1e-12);
            plot.setDomainAxis(axis);
        }
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        Color[] palette = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728)};
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesPaint(i, palette[i % palette.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
        if (Double.isFinite(markerX) && !series.isEmpty()) {
            Series first = series.get(0);
            int nearest = 0;
            for (int i = 1; i < first.x().length; i++) {
                if (Math.abs(first.x()[i] - markerX) < Math.abs(first.x()[nearest] - markerX)) {
                    nearest = i;
                }
            }
            XYPointerAnnotation arrow = new XYPointerAnnotation(markerLabel, first.x()[nearest], first.y()[nearest],
                    -Math.PI / 4);
            arrow.setPaint(Color.RED);
            arrow.setArrowPaint(Color.RED);
            plot.addAnnotation(arrow);
        }
        return chart.createBufferedImage(width, height);
    }

    /**
     * Draws the learning-rate finder's curve (loss against learning rate, log scale) with the
     * suggestion marked.
     *
     * @param result the finder's result
     * @param width image width
     * @param height image height
     * @return the image
     */
    public static BufferedImage lrFinder(dev.tuna.learn.LrFind result, int width, int height) {
        return lines("Learning-rate finder", "learning rate", "smoothed loss", true,
                List.of(new Series("loss", result.learningRates(), result.losses())), result.suggestion(),
                String.format(java.util.Locale.ROOT, "valley %.2e", result.suggestion()), width, height);
    }

    /**
     * Encodes an image as PNG bytes.
     *
     * @param image the image
     * @return PNG bytes
     */
    public static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new IllegalStateException("PNG encoding failed in memory", e);
        }
        return out.toByteArray();
    }

    /**
     * Writes an image as a PNG file, creating parent folders.
     *
     * @param image the image
     * @param file the file
     * @return the file
     */
    public static Path write(BufferedImage image, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, png(image));
            return file;
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write " + file + ": " + e.getMessage()
                    + ". Choose a writable path.", e);
        }
    }
}
