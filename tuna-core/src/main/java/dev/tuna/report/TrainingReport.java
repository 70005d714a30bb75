package dev.tuna.report;

import dev.tuna.TunaException;
import dev.tuna.data.DatasetSummary;
import dev.tuna.data.ImageDecoder;
import dev.tuna.data.SkippedFile;
import dev.tuna.data.UnreadableImageException;
import dev.tuna.inference.Predictions;
import dev.tuna.learn.BatchRecord;
import dev.tuna.learn.EpochRecord;
import dev.tuna.learn.LrFind;
import dev.tuna.transform.Resize;
import dev.tuna.transform.ResizeMethod;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One self-contained HTML page per training run, every image inlined: settings, dataset summary,
 * sample batch, loss curves, learning-rate schedule, learning-rate finder, epoch table, confusion
 * matrix heat-map, top losses and the test accuracy. The page marks itself once loaded
 * ({@code data-images-ok} on {@code <body>}) so a headless browser can check that every image decoded.
 */
public final class TrainingReport {
    private final String title;
    private final Map<String, String> settings = new LinkedHashMap<>();
    private DatasetSummary dataset;
    private BufferedImage sampleBatch;
    private List<EpochRecord> history = List.of();
    private List<BatchRecord> steps = List.of();
    private LrFind lrFind;
    private Predictions test;
    private String testLabel = "Test";

    /**
     * Starts a report.
     *
     * @param title the page title
     */
    public TrainingReport(String title) {
        this.title = title;
    }

    /**
     * Adds a run setting (shown in a table, in insertion order).
     *
     * @param name the setting
     * @param value its value
     * @return this report
     */
    public TrainingReport setting(String name, Object value) {
        settings.put(name, String.valueOf(value));
        return this;
    }

    /**
     * Sets the dataset summary and a sample-batch picture.
     *
     * @param summary the summary
     * @param batch the picture, or null
     * @return this report
     */
    public TrainingReport dataset(DatasetSummary summary, BufferedImage batch) {
        this.dataset = summary;
        this.sampleBatch = batch;
        return this;
    }

    /**
     * Sets the training history.
     *
     * @param epochs the epoch table
     * @param batches every training step
     * @return this report
     */
    public TrainingReport training(List<EpochRecord> epochs, List<BatchRecord> batches) {
        this.history = List.copyOf(epochs);
        this.steps = List.copyOf(batches);
        return this;
    }

    /**
     * Sets the learning-rate finder's result.
     *
     * @param result the result, or null
     * @return this report
     */
    public TrainingReport lrFind(LrFind result) {
        this.lrFind = result;
        return this;
    }

    /**
     * Sets the predictions on the test set.
     *
     * @param label the set's name, e.g. "Test"
     * @param predictions the predictions
     * @return this report
     */
    public TrainingReport test(String label, Predictions predictions) {
        this.testLabel = label;
        this.test = predictions;
        return this;
    }

    /**
     * Renders the page.
     *
     * @return HTML
     */
    public String html() {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                        + "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                        + "text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
                        + "img{max-width:100%;border:1px solid #ddd;margin:.3em 0}.accuracy{font-size:1.6em;"
                        + "font-weight:bold}</style></head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        if (test != null) {
            h.append("<p class=\"accuracy\" id=\"accuracy\">").append(esc(test.accuracyLine(testLabel))).append("</p>\n");
        }
        if (!settings.isEmpty()) {
            h.append("<h2>Run settings</h2>\n<table>");
            settings.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td>").append(esc(v))
                    .append("</td></tr>"));
            h.append("</table>\n");
        }
        if (dataset != null) {
            h.append("<h2>Dataset</h2>\n<table><tr><th>class</th><th>train</th><th>valid</th></tr>");
            for (DatasetSummary.ClassCount c : dataset.classes()) {
                h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%d</td></tr>", esc(c.name()),
                        c.train(), c.valid()));
            }
            h.append(String.format(Locale.ROOT, "<tr><th>all</th><th>%d</th><th>%d</th></tr></table>\n",
                    dataset.trainCount(), dataset.validCount()));
            h.append(String.format(Locale.ROOT, "<p>Image sizes %d–%d × %d–%d px; %d unreadable files skipped, %d"
                    + " other files ignored.</p>\n", dataset.minWidth(), dataset.maxWidth(), dataset.minHeight(),
                    dataset.maxHeight(), dataset.unreadable().size(), dataset.ignored().size()));
            for (SkippedFile skipped : dataset.unreadable().stream().limit(20).toList()) {
                h.append("<div>skipped ").append(esc(skipped.toString())).append("</div>\n");
            }
            for (String warning : dataset.warnings()) {
                h.append("<div>warning: ").append(esc(warning)).append("</div>\n");
            }
        }
        if (sampleBatch != null) {
            h.append("<h2>Sample batch</h2>\n").append(img(sampleBatch, "sample batch"));
        }
        if (!history.isEmpty()) {
            h.append("<h2>Training</h2>\n<table><tr><th>phase</th><th>epoch</th><th>train_loss</th><th>valid_loss</th>"
                    + "<th>error_rate</th><th>time</th><th>img/s</th></tr>");
            for (EpochRecord r : history) {
                h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.6f</td><td>%.6f</td><td>%.6f</td>"
                        + "<td>%.1f s</td><td>%.1f</td></tr>", esc(r.phase().id()), r.epoch(), r.trainLoss(), r.validLoss(),
                        r.errorRate(), r.seconds(), r.trainImagesPerSecond()));
            }
            h.append("</table>\n");
        }
        if (!steps.isEmpty()) {
            h.append(img(lossChart(), "loss curves")).append(img(lrChart(), "learning-rate schedule"));
        }
        if (lrFind != null) {
            h.append("<h2>Learning-rate finder</h2>\n").append(img(Plots.lrFinder(lrFind, 800, 420),
                    "learning-rate finder"));
        }
        if (test != null) {
            h.append("<h2>").append(esc(testLabel)).append(" set</h2>\n")
                    .append(img(Charts.confusionMatrix(test.classes(), test.confusionMatrix(), 560), "confusion matrix"));
            List<Predictions.Confusion> confused = test.mostConfused(1);
            if (!confused.isEmpty()) {
                h.append("<h3>Most confused</h3>\n<table><tr><th>actual</th><th>predicted</th><th>count</th></tr>");
                confused.stream().limit(10).forEach(c -> h.append("<tr><td>").append(esc(c.actual())).append("</td><td>")
                        .append(esc(c.predicted())).append("</td><td>").append(c.count()).append("</td></tr>"));
                h.append("</table>\n");
            }
            h.append("<h3>Top losses</h3>\n").append(img(topLosses(test.topLosses(12)), "top losses"));
        }
        h.append("<script>window.addEventListener('load',function(){var all=document.images,ok=0;"
                + "for(var i=0;i<all.length;i++){if(all[i].complete&&all[i].naturalWidth>0)ok++;}"
                + "document.body.setAttribute('data-images-ok',ok+'/'+all.length);});</script>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    /**
     * Writes the page atomically (temporary file, then rename).
     *
     * @param file the HTML file
     * @return the file
     */
    public Path write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            // not createTempFile: its owner-only permissions would stick to the report
            Path tmp = parent.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
            Files.writeString(tmp, html(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write the report " + file + ": "
                    + e.getMessage() + ". Choose a writable path with --report.", e);
        }
    }

    private BufferedImage lossChart() {
        int n = steps.size();
        double[] x = new double[n];
        double[] loss = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            loss[i] = steps.get(i).smoothLoss();
        }
        List<Plots.Series> series = new ArrayList<>();
        series.add(new Plots.Series("train (smoothed, per batch)", x, loss));
        if (!history.isEmpty() && n > 0) {
            double perEpoch = (double) n / history.size();
            double[] ex = new double[history.size()];
            double[] ev = new double[history.size()];
            for (int i = 0; i < history.size(); i++) {
                ex[i] = (i + 1) * perEpoch;
                ev[i] = history.get(i).validLoss();
            }
            series.add(new Plots.Series("valid (per epoch)", ex, ev));
        }
        return Plots.lines("Loss", "training step", "loss", false, series, Double.NaN, "", 800, 400);
    }

    private BufferedImage lrChart() {
        int n = steps.size();
        double[] x = new double[n];
        double[] lr = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i + 1;
            lr[i] = steps.get(i).learningRate();
        }
        return Plots.lines("Learning rate of the head (one-cycle)", "training step", "learning rate", false,
                List.of(new Plots.Series("learning rate", x, lr)), Double.NaN, "", 800, 320);
    }

    /** A grid of the worst-predicted images with predicted / actual / probability / loss captions. */
    static BufferedImage topLosses(List<Predictions.Loss> losses) {
        int cell = 160;
        int caption = 36;
        int columns = 4;
        int rows = Math.max(1, (losses.size() + columns - 1) / columns);
        BufferedImage canvas = new BufferedImage(columns * (cell + 6) + 6, rows * (cell + caption + 6) + 6,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i < losses.size(); i++) {
                Predictions.Loss l = losses.get(i);
                int x = 6 + (i % columns) * (cell + 6);
                int y = 6 + (i / columns) * (cell + caption + 6);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%s / %s", l.predicted(), l.actual()), x, y + 13);
                g.drawString(String.format(Locale.ROOT, "p=%.2f  loss=%.2f", l.probability(), l.loss()), x, y + 28);
                try {
                    RgbImage image = Resize.presize(ImageDecoder.standard().decode(l.path()), cell, ResizeMethod.PAD,
                            PadMode.ZEROS);
                    g.drawImage(image.toBufferedImage(), x, y + caption, null);
                } catch (UnreadableImageException e) {
                    g.drawString("(unreadable: " + e.getMessage() + ")", x, y + caption + 20);
                }
            }
        } finally {
            g.dispose();
        }
        return canvas;
    }

    private static String img(BufferedImage image, String alt) {
        return "<div><img alt=\"" + esc(alt) + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(Plots.png(image)) + "\"></div>\n";
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
