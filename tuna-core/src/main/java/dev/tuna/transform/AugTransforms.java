package dev.tuna.transform;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tuna.TunaException;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * fast.ai's {@code aug_transforms}: random flip, rotation, zoom, perspective warp, brightness and
 * contrast, plus an optional random-resized crop ({@code min_scale}), for training images only.
 *
 * <p>As in fast.ai, the geometric parts are composed into one coordinate transform per image — here
 * a single 3×3 projective matrix from output pixels to source pixels — and the image is resampled
 * once, bilinearly with reflection padding, from the presized uint8 cache. Lighting works in logit
 * space: {@code sigmoid((logit(v) + logit(b)) · c)} with brightness {@code b} and contrast {@code c}.
 * Every random draw comes from the generator passed to {@link #draw}, so the same seed gives the same
 * augmented batches.
 *
 * @param flipProbability probability of a horizontal flip (fast.ai 0.5)
 * @param maxRotate largest rotation in degrees, either way (10)
 * @param minZoom smallest zoom factor (1.0)
 * @param maxZoom largest zoom factor (1.1)
 * @param maxWarp largest perspective-warp magnitude (0.2)
 * @param affineProbability probability of each of rotation, zoom and warp (0.75)
 * @param maxLighting largest brightness/contrast change (0.2)
 * @param lightingProbability probability of each of brightness and contrast (0.75)
 * @param minScale smallest area fraction of the random-resized crop; 1 for none (fast.ai's default)
 */
public record AugTransforms(double flipProbability, double maxRotate, double minZoom, double maxZoom,
        double maxWarp, double affineProbability, double maxLighting, double lightingProbability,
        double minScale) {

    /** fast.ai's {@code aug_transforms()} defaults. */
    public static final AugTransforms FASTAI = new AugTransforms(0.5, 10, 1.0, 1.1, 0.2, 0.75, 0.2, 0.75, 1.0);

    /**
     * Validates the settings.
     *
     * @param flipProbability probability of a horizontal flip (fast.ai 0.5)
     * @param maxRotate largest rotation in degrees, either way (10)
     * @param minZoom smallest zoom factor (1.0)
     * @param maxZoom largest zoom factor (1.1)
     * @param maxWarp largest perspective-warp magnitude (0.2)
     * @param affineProbability probability of each of rotation, zoom and warp (0.75)
     * @param maxLighting largest brightness/contrast change (0.2)
     * @param lightingProbability probability of each of brightness and contrast (0.75)
     * @param minScale smallest area fraction of the random-resized crop; 1 for none (fast.ai's default)
     */
    public AugTransforms {
        check("flip probability", flipProbability, 0, 1);
        check("rotation", maxRotate, 0, 180);
        check("minimum zoom", minZoom, 0.1, 10);
        check("maximum zoom", maxZoom, minZoom, 10);
        check("warp", maxWarp, 0, 0.9);
        check("affine probability", affineProbability, 0, 1);
        check("lighting", maxLighting, 0, 0.99);
        check("lighting probability", lightingProbability, 0, 1);
        check("minimum crop scale", minScale, 0.01, 1);
    }

    private static void check(String what, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw TunaException.usage(String.format(Locale.ROOT, "Augmentation %s must be between %s and %s; found %s.",
                    what, min, max, value));
        }
    }

    /**
     * Returns these settings with a random-resized crop of at least {@code scale} of the image's area.
     *
     * @param scale fast.ai's {@code min_scale}, in (0, 1]; 1 for no crop
     * @return new settings
     */
    public AugTransforms withMinScale(double scale) {
        return new AugTransforms(flipProbability, maxRotate, minZoom, maxZoom, maxWarp, affineProbability,
                maxLighting, lightingProbability, scale);
    }

    /**
     * These settings as JSON, for the model artifact's training record.
     *
     * @return an object with one number per setting
     */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("flipProbability", flipProbability);
        o.addProperty("maxRotate", maxRotate);
        o.addProperty("minZoom", minZoom);
        o.addProperty("maxZoom", maxZoom);
        o.addProperty("maxWarp", maxWarp);
        o.addProperty("affineProbability", affineProbability);
        o.addProperty("maxLighting", maxLighting);
        o.addProperty("lightingProbability", lightingProbability);
        o.addProperty("minScale", minScale);
        return o;
    }

    /**
     * Reads the settings a training record holds under {@code "augmentations"}.
     *
     * @param training an artifact's training record (any JSON, or null)
     * @return the settings, or null when the record has none (or not in this form)
     */
    public static AugTransforms fromTraining(JsonElement training) {
        if (training == null || !training.isJsonObject()
                || !training.getAsJsonObject().has("augmentations")
                || !training.getAsJsonObject().get("augmentations").isJsonObject()) {
            return null;
        }
        JsonObject o = training.getAsJsonObject().getAsJsonObject("augmentations");
        try {
            return new AugTransforms(o.get("flipProbability").getAsDouble(), o.get("maxRotate").getAsDouble(),
                    o.get("minZoom").getAsDouble(), o.get("maxZoom").getAsDouble(), o.get("maxWarp").getAsDouble(),
                    o.get("affineProbability").getAsDouble(), o.get("maxLighting").getAsDouble(),
                    o.get("lightingProbability").getAsDouble(), o.get("minScale").getAsDouble());
        } catch (RuntimeException e) {
            return null; // a record from another version: test-time augmentation falls back to flips
        }
    }

    /**
     * Draws one image's transform.
     *
     * @param random the generator (consumed in a fixed order)
     * @param width the cached image's width
     * @param height the cached image's height
     * @param size the output side
     * @return the drawn transform
     */
    public Draw draw(SplittableRandom random, int width, int height, int size) {
        // random-resized crop: a square window of the cached image (the whole shorter side when minScale is 1)
        double area = minScale >= 1 ? 1 : minScale + (1 - minScale) * random.nextDouble();
        double left = random.nextDouble();
        double top = random.nextDouble();
        boolean flip = random.nextDouble() < flipProbability;
        double degrees = random.nextDouble() < affineProbability ? uniform(random, -maxRotate, maxRotate) : 0;
        double zoom = random.nextDouble() < affineProbability ? uniform(random, minZoom, maxZoom) : 1;
        double columnPct = random.nextDouble();
        double rowPct = random.nextDouble();
        double warpX = random.nextDouble() < affineProbability ? uniform(random, -maxWarp, maxWarp) : 0;
        double warpY = random.nextDouble() < affineProbability ? uniform(random, -maxWarp, maxWarp) : 0;
        double brightness = random.nextDouble() < lightingProbability
                ? uniform(random, 0.5 * (1 - maxLighting), 0.5 * (1 + maxLighting)) : 0.5;
        double contrast = random.nextDouble() < lightingProbability
                ? Math.exp(uniform(random, Math.log(1 - maxLighting), -Math.log(1 - maxLighting))) : 1;
        return new Params(area, left, top, flip, degrees, zoom, columnPct, rowPct, warpX, warpY, brightness, contrast)
                .draw(width, height, size);
    }

    /**
     * The drawn values of one image's transform, in fast.ai's terms.
     *
     * @param area the crop's area fraction (1: the whole shorter side)
     * @param leftPct where the crop window sits horizontally, 0 to 1 of the free room
     * @param topPct where it sits vertically
     * @param flip horizontal flip
     * @param degrees rotation
     * @param zoom zoom factor (1: none)
     * @param columnPct zoom centre, 0 to 1 of the free room, horizontally
     * @param rowPct zoom centre vertically
     * @param warpX perspective magnitude along x
     * @param warpY perspective magnitude along y
     * @param brightness fast.ai's brightness draw (0.5: none)
     * @param contrast fast.ai's contrast draw (1: none)
     */
    public record Params(double area, double leftPct, double topPct, boolean flip, double degrees, double zoom,
            double columnPct, double rowPct, double warpX, double warpY, double brightness, double contrast) {
        /** No change at all: the centred square, as the validation transform takes it. */
        public static final Params IDENTITY = new Params(1, 0.5, 0.5, false, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1);

        /**
         * Composes these values into one transform for an image of the given size.
         *
         * @param width the cached image's width
         * @param height the cached image's height
         * @param size the output side
         * @return the transform
         */
        public Draw draw(int width, int height, int size) {
            double side = Math.sqrt(area) * Math.min(width, height);
            double left = (width - side) * leftPct;
            double top = (height - side) * topPct;
            // flip · rotate · zoom, then the warp, in normalised coordinates ([-1, 1], corners at pixel centres)
            double[] affine = multiply(flipMatrix(flip), multiply(rotationMatrix(degrees),
                    zoomMatrix(zoom, columnPct, rowPct)));
            double[] toNormalised = {2.0 / (size - 1), 0, -1, 0, 2.0 / (size - 1), -1, 0, 0, 1};
            double[] toSource = {(side - 1) / 2, 0, left + (side - 1) / 2, 0, (side - 1) / 2, top + (side - 1) / 2,
                0, 0, 1};
            double[] matrix = multiply(toSource, multiply(warpMatrix(warpX, warpY), multiply(affine, toNormalised)));
            return new Draw(matrix, Math.log(brightness / (1 - brightness)), contrast);
        }
    }

    private static double uniform(SplittableRandom random, double low, double high) {
        return low + (high - low) * random.nextDouble();
    }

    /**
     * One image's drawn transform.
     *
     * @param matrix row-major 3×3 projective map from an output pixel (x, y, 1) to source pixel
     *     coordinates (homogeneous)
     * @param brightnessLogit {@code logit(b)}, added in logit space (0 for none)
     * @param contrast the factor in logit space (1 for none)
     */
    public record Draw(double[] matrix, double brightnessLogit, double contrast) {
        /**
         * Whether the lighting part changes anything.
         *
         * @return false for brightness 0.5 and contrast 1
         */
        public boolean lights() {
            return brightnessLogit != 0 || contrast != 1;
        }

        /**
         * The lighting transform of a value in [0, 1], as fast.ai computes it (logits clamped at 1e-7).
         *
         * @param value a pixel value in [0, 1]
         * @return the lit value in (0, 1)
         */
        public double light(double value) {
            double p = Math.min(Math.max(value, 1e-7), 1 - 1e-7);
            double logit = (Math.log(p / (1 - p)) + brightnessLogit) * contrast;
            return 1 / (1 + Math.exp(-logit));
        }
    }

    // ------------------------------------------------------------------ fast.ai's matrices

    /** {@code x → −x} when flipping. */
    static double[] flipMatrix(boolean flip) {
        return new double[] {flip ? -1 : 1, 0, 0, 0, 1, 0, 0, 0, 1};
    }

    /** fast.ai's {@code rotate_mat}: [[cos, sin, 0], [−sin, cos, 0]] for the angle in degrees. */
    static double[] rotationMatrix(double degrees) {
        double theta = Math.toRadians(degrees);
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        return new double[] {cos, sin, 0, -sin, cos, 0, 0, 0, 1};
    }

    /**
     * fast.ai's {@code zoom_mat}: scale {@code 1/zoom} about a centre placed at {@code columnPct, rowPct}
     * of the free room, so the zoomed view stays inside the image.
     */
    static double[] zoomMatrix(double zoom, double columnPct, double rowPct) {
        double s = 1 / zoom;
        return new double[] {s, 0, (1 - s) * (2 * columnPct - 1), 0, s, (1 - s) * (2 * rowPct - 1), 0, 0, 1};
    }

    /**
     * fast.ai's perspective warp: the projective map that sends the corners moved by the magnitudes
     * {@code (−1−y, −1−x), (−1+y, 1+x), (1+y, −1+x), (1−y, 1−x)} back to the corners (±1, ±1).
     */
    static double[] warpMatrix(double x, double y) {
        if (x == 0 && y == 0) {
            return new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1};
        }
        double[][] from = {{-1 - y, -1 - x}, {-1 + y, 1 + x}, {1 + y, -1 + x}, {1 - y, 1 - x}};
        double[][] to = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
        return homography(from, to);
    }

    /** The projective map (h33 = 1) sending each {@code from[i]} to {@code to[i]}: an 8×8 linear solve. */
    static double[] homography(double[][] from, double[][] to) {
        double[][] a = new double[8][9];
        for (int i = 0; i < 4; i++) {
            double x = from[i][0];
            double y = from[i][1];
            double u = to[i][0];
            double v = to[i][1];
            a[2 * i] = new double[] {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
            a[2 * i + 1] = new double[] {0, 0, 0, x, y, 1, -v * x, -v * y, v};
        }
        for (int col = 0; col < 8; col++) { // Gaussian elimination with partial pivoting
            int pivot = col;
            for (int row = col + 1; row < 8; row++) {
                if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) {
                    pivot = row;
                }
            }
            double[] t = a[col];
            a[col] = a[pivot];
            a[pivot] = t;
            for (int row = 0; row < 8; row++) {
                if (row != col) {
                    double f = a[row][col] / a[col][col];
                    for (int k = col; k < 9; k++) {
                        a[row][k] -= f * a[col][k];
                    }
                }
            }
        }
        double[] h = new double[9];
        for (int i = 0; i < 8; i++) {
            h[i] = a[i][8] / a[i][i];
        }
        h[8] = 1;
        return h;
    }

    /** Row-major 3×3 product. */
    static double[] multiply(double[] a, double[] b) {
        double[] c = new double[9];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                c[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
            }
        }
        return c;
    }

    /**
     * Resamples one image: for every output pixel, the source position under {@code draw}'s matrix,
     * reflected into the image (about the edge pixels' centres, as {@code grid_sample} with reflection
     * padding and aligned corners), and interpolated bilinearly from {@code table[channel][byte]} —
     * the lit and normalised value of each source byte.
     *
     * @param source the cached image, RGB bytes, row-major
     * @param width its width
     * @param height its height
     * @param draw the drawn transform
     * @param table per channel, the value each byte maps to
     * @param size the output side
     * @param out where the {@code size × size × 3} values go (channels last)
     * @param offset where in {@code out} the image starts
     */
    public static void resample(byte[] source, int width, int height, Draw draw, float[][] table, int size,
            float[] out, int offset) {
        double[] m = draw.matrix();
        float[] r = table[0];
        float[] g = table[1];
        float[] b = table[2];
        int o = offset;
        int maxX = width - 1;
        int maxY = height - 1;
        for (int y = 0; y < size; y++) {
            // homogeneous source coordinates, stepped along the row
            double un = m[1] * y + m[2];
            double vn = m[4] * y + m[5];
            double wn = m[7] * y + m[8];
            for (int x = 0; x < size; x++, o += 3, un += m[0], vn += m[3], wn += m[6]) {
                double u = un / wn;
                double v = vn / wn;
                if (!(u >= 0 && u <= maxX)) {
                    u = reflect(u, maxX);
                }
                if (!(v >= 0 && v <= maxY)) {
                    v = reflect(v, maxY);
                }
                int x0 = (int) u;
                int y0 = (int) v;
                float fx = (float) (u - x0);
                float fy = (float) (v - y0);
                int x1 = Math.min(x0 + 1, width - 1);
                int y1 = Math.min(y0 + 1, height - 1);
                int p00 = (y0 * width + x0) * 3;
                int p01 = (y0 * width + x1) * 3;
                int p10 = (y1 * width + x0) * 3;
                int p11 = (y1 * width + x1) * 3;
                float w00 = (1 - fx) * (1 - fy);
                float w01 = fx * (1 - fy);
                float w10 = (1 - fx) * fy;
                float w11 = fx * fy;
                out[o] = w00 * r[source[p00] & 0xFF] + w01 * r[source[p01] & 0xFF] + w10 * r[source[p10] & 0xFF]
                        + w11 * r[source[p11] & 0xFF];
                out[o + 1] = w00 * g[source[p00 + 1] & 0xFF] + w01 * g[source[p01 + 1] & 0xFF]
                        + w10 * g[source[p10 + 1] & 0xFF] + w11 * g[source[p11 + 1] & 0xFF];
                out[o + 2] = w00 * b[source[p00 + 2] & 0xFF] + w01 * b[source[p01 + 2] & 0xFF]
                        + w10 * b[source[p10 + 2] & 0xFF] + w11 * b[source[p11 + 2] & 0xFF];
            }
        }
    }

    /** Reflects {@code u} into [0, max] about 0 and max (a one-pixel axis maps everything to 0). */
    static double reflect(double u, int max) {
        if (max == 0 || Double.isNaN(u)) {
            return 0;
        }
        double period = 2.0 * max;
        double t = Math.abs(u) % period;
        return t > max ? period - t : t;
    }

    /**
     * The per-byte table of one image: each channel's byte value lit by {@code draw} and normalised.
     *
     * @param draw the drawn transform
     * @param normalization the normalisation
     * @return table[channel][byte]
     */
    public static float[][] table(Draw draw, Normalization normalization) {
        return table(draw, normalization, null);
    }

    /**
     * Like {@link #table(Draw, Normalization)}, returning {@code plainTable} (the normalisation's own
     * lookup table, computed once by the caller) when the draw does not light.
     *
     * @param draw the drawn transform
     * @param normalization the normalisation
     * @param plainTable {@code normalization.lookupTable()}, or null to compute it when needed
     * @return table[channel][byte]
     */
    public static float[][] table(Draw draw, Normalization normalization, float[][] plainTable) {
        if (!draw.lights()) {
            return plainTable != null ? plainTable : normalization.lookupTable();
        }
        float[][] table = new float[3][256];
        double[] lit = new double[256];
        for (int v = 0; v < 256; v++) {
            lit[v] = draw.light(v / 255.0);
        }
        for (int c = 0; c < 3; c++) {
            float mean = normalization.mean()[c];
            float std = normalization.std()[c];
            for (int v = 0; v < 256; v++) {
                table[c][v] = ((float) lit[v] - mean) / std;
            }
        }
        return table;
    }

    /**
     * The per-byte table that gives lit 8-bit values (0–255, unnormalised), for pictures of batches.
     *
     * @param draw the drawn transform
     * @return table[channel][byte]
     */
    public static float[][] byteTable(Draw draw) {
        float[][] table = new float[3][256];
        for (int v = 0; v < 256; v++) {
            float value = (float) (draw.light(v / 255.0) * 255);
            table[0][v] = value;
            table[1][v] = value;
            table[2][v] = value;
        }
        return table;
    }
}
