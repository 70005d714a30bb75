package dev.tuna.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.data.xy.DefaultXYZDataset;

/** Charts beyond line plots: the confusion matrix as a heat-map. */
public final class Charts {
    private Charts() {}

    /**
     * Draws a confusion matrix as a heat-map with the count in every cell (rows: actual class,
     * columns: predicted class), coloured by the share of the row.
     *
     * @param classes the class names
     * @param matrix counts, {@code [actual][predicted]}
     * @param size image side in pixels
     * @return the image
     */
    public static BufferedImage confusionMatrix(List<String> classes, int[][] matrix, int size) {
        int n = classes.size();
        double[] x = new double[n * n];
        double[] y = new double[n * n];
        double[] z = new double[n * n];
        int k = 0;
        for (int actual = 0; actual < n; actual++) {
            int rowTotal = 0;
            for (int v : matrix[actual]) {
                rowTotal += v;
            }
            for (int predicted = 0; predicted < n; predicted++, k++) {
                x[k] = predicted;
                y[k] = n - 1 - actual; // first class on top
                z[k] = rowTotal == 0 ? 0 : (double) matrix[actual][predicted] / rowTotal;
            }
        }
        DefaultXYZDataset dataset = new DefaultXYZDataset();
        dataset.addSeries("confusion", new double[][] {x, y, z});
        String[] names = classes.toArray(new String[0]);
        String[] reversed = new String[n];
        for (int i = 0; i < n; i++) {
            reversed[i] = names[n - 1 - i];
        }
        SymbolAxis xAxis = new SymbolAxis("predicted", names);
        SymbolAxis yAxis = new SymbolAxis("actual", reversed);
        xAxis.setGridBandsVisible(false);
        yAxis.setGridBandsVisible(false);
        LookupPaintScale scale = new LookupPaintScale(0, 1.0001, Color.WHITE);
        for (int step = 0; step <= 20; step++) {
            float t = step / 20f;
            scale.add(step / 20.0, new Color(1 - 0.85f * t, 1 - 0.55f * t, 1 - 0.2f * t));
        }
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(dataset, xAxis, yAxis, renderer);
        plot.setDomainAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        Font font = new Font(Font.SANS_SERIF, Font.BOLD, 14);
        k = 0;
        for (int actual = 0; actual < n; actual++) {
            for (int predicted = 0; predicted < n; predicted++, k++) {
                XYTextAnnotation label = new XYTextAnnotation(Integer.toString(matrix[actual][predicted]), x[k], y[k]);
                label.setFont(font);
                label.setPaint(z[k] > 0.6 ? Color.WHITE : Color.BLACK);
                plot.addAnnotation(label);
            }
        }
        JFreeChart chart = new JFreeChart("Confusion matrix", JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        return chart.createBufferedImage(size, size);
    }
}
