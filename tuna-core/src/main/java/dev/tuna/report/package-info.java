/**
 * Training reports: charts (JFreeChart) and, later, the self-contained HTML report.
 *
 * <pre>{@code
 * BufferedImage chart = Plots.lines("Loss", "step", "loss", false,
 *         List.of(new Plots.Series("train", steps, losses)), Double.NaN, "", 640, 400);
 * Plots.write(chart, Path.of("loss.png"));
 * }</pre>
 */
package dev.tuna.report;
