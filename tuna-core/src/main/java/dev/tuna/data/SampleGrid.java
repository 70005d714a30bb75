package dev.tuna.data;

import dev.tuna.TunaException;
import dev.tuna.transform.RgbImage;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * A picture of a sample batch: a grid of images as the model sees them (after resizing, cropping and
 * flipping, before normalisation), each captioned with its label, like fast.ai's {@code show_batch}.
 */
public final class SampleGrid {
    private static final int CAPTION = 22;
    private static final int GAP = 6;

    private SampleGrid() {}

    /**
     * Draws {@code rows × columns} items of a loader, chosen at random with {@code seed}.
     *
     * @param loader the loader (training transforms apply to a training loader)
     * @param rows grid rows
     * @param columns grid columns
     * @param seed which items and which augmentations
     * @return the picture
     */
    public static BufferedImage draw(DataLoader loader, int rows, int columns, long seed) {
        int size = loader.imageSize();
        int cellW = size + GAP;
        int cellH = size + CAPTION + GAP;
        BufferedImage canvas = new BufferedImage(columns * cellW + GAP, rows * cellH + GAP, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            FontMetrics metrics = g.getFontMetrics();
            SplittableRandom random = new SplittableRandom(seed);
            int n = Math.min(rows * columns, loader.size());
            int[] order = loader.epochOrder(random);
            int[] targets = loader.targets();
            for (int k = 0; k < n; k++) {
                int position = loader.training() ? order[k] : k;
                RgbImage image = loader.image(position, random);
                int x = GAP + (k % columns) * cellW;
                int y = GAP + (k / columns) * cellH;
                String label = loader.classes().get(targets[position]);
                g.setColor(Color.DARK_GRAY);
                g.drawString(label, x + (size - metrics.stringWidth(label)) / 2, y + CAPTION - 6);
                g.drawImage(image.toBufferedImage(), x, y + CAPTION, null);
            }
        } finally {
            g.dispose();
        }
        return canvas;
    }

    /**
     * Draws a grid and writes it as a PNG file.
     *
     * @param loader the loader
     * @param rows grid rows
     * @param columns grid columns
     * @param seed which items and which augmentations
     * @param png the output file (parent folders are created)
     * @return the file written
     */
    public static Path write(DataLoader loader, int rows, int columns, long seed, Path png) {
        BufferedImage image = draw(loader, rows, columns, seed);
        try {
            Path parent = png.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (!ImageIO.write(image, "png", png.toFile())) {
                throw new IOException("no PNG writer available");
            }
            return png;
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write the sample grid to " + png + ": "
                    + e.getMessage() + ". Choose a writable path.", e);
        }
    }
}
