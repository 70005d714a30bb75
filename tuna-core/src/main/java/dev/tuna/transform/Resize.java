package dev.tuna.transform;

/**
 * Resizing with proper anti-aliasing: a separable triangle (bilinear) filter whose support widens
 * with the downscale factor, so every source pixel contributes when shrinking (the same idea as
 * Pillow's {@code Image.resize(..., BILINEAR)}). Graphics2D's default nearest/bilinear sampling
 * skips pixels when shrinking and aliases; this does not.
 */
public final class Resize {
    /** The longest side {@link #presize} keeps for {@link ResizeMethod#CROP}, as a multiple of the size. */
    public static final int MAX_CROP_ASPECT = 8;

    private static final int WEIGHT_BITS = 14;
    private static final int INTERMEDIATE_BITS = 4;

    private Resize() {}

    /**
     * Resizes to exactly {@code width × height}.
     *
     * @param image the source
     * @param width target width
     * @param height target height
     * @return the resized image (the source itself when the size is unchanged)
     */
    public static RgbImage to(RgbImage image, int width, int height) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("target size must be positive: " + width + "x" + height);
        }
        if (width == image.width() && height == image.height()) {
            return image;
        }
        Filter horizontal = Filter.build(image.width(), width);
        Filter vertical = Filter.build(image.height(), height);
        byte[] src = image.pixels();
        int srcStride = image.width() * 3;
        // Fixed point: weights carry WEIGHT_BITS fraction bits; the intermediate keeps 4 more bits than
        // 8-bit pixels (so nothing is lost to rounding between passes) and stays well inside an int.
        // Vertical pass first (whole rows at a time), then horizontal on the smaller intermediate.
        int[] tmp = new int[height * srcStride];
        int[] acc = new int[srcStride];
        for (int y = 0; y < height; y++) {
            int first = vertical.first[y];
            int base = y * vertical.taps;
            java.util.Arrays.fill(acc, 1 << (WEIGHT_BITS - INTERMEDIATE_BITS - 1));
            for (int k = 0; k < vertical.count[y]; k++) {
                int w = vertical.fixed[base + k];
                int row = (first + k) * srcStride;
                for (int i = 0; i < srcStride; i++) {
                    acc[i] += w * (src[row + i] & 0xFF);
                }
            }
            int out = y * srcStride;
            for (int i = 0; i < srcStride; i++) {
                tmp[out + i] = acc[i] >> (WEIGHT_BITS - INTERMEDIATE_BITS);
            }
        }
        // Horizontal pass on the (usually smaller) intermediate.
        byte[] dst = new byte[width * height * 3];
        int shift = WEIGHT_BITS + INTERMEDIATE_BITS;
        int half = 1 << (shift - 1);
        for (int y = 0; y < height; y++) {
            int row = y * srcStride;
            int out = y * width * 3;
            for (int x = 0; x < width; x++) {
                int first = row + horizontal.first[x] * 3;
                int base = x * horizontal.taps;
                int r = half;
                int g = half;
                int b = half;
                for (int k = 0, s = first; k < horizontal.count[x]; k++, s += 3) {
                    int w = horizontal.fixed[base + k];
                    r += w * tmp[s];
                    g += w * tmp[s + 1];
                    b += w * tmp[s + 2];
                }
                dst[out++] = (byte) clamp(r >> shift);
                dst[out++] = (byte) clamp(g >> shift);
                dst[out++] = (byte) clamp(b >> shift);
            }
        }
        return new RgbImage(width, height, dst);
    }

    /**
     * Makes the image that is cached for a dataset item: exactly {@code size × size} for SQUISH and
     * PAD; for CROP, the short side scaled to {@code size} (the square is cut per epoch).
     *
     * @param image the decoded image
     * @param size the training size
     * @param method how to change the aspect ratio
     * @param padMode how PAD fills borders
     * @return the presized image
     */
    public static RgbImage presize(RgbImage image, int size, ResizeMethod method, PadMode padMode) {
        int w = image.width();
        int h = image.height();
        return switch (method) {
            case SQUISH -> to(image, size, size);
            case CROP -> {
                int longSide = (int) Math.min((long) size * MAX_CROP_ASPECT,
                        Math.max(size, Math.round((double) Math.max(w, h) * size / Math.min(w, h))));
                yield w <= h ? to(image, size, longSide) : to(image, longSide, size);
            }
            case PAD -> {
                double scale = Math.min((double) size / w, (double) size / h);
                int fw = Math.max(1, Math.min(size, (int) Math.round(w * scale)));
                int fh = Math.max(1, Math.min(size, (int) Math.round(h * scale)));
                yield pad(to(image, fw, fh), size, padMode);
            }
        };
    }

    /**
     * Cuts a {@code size × size} square out of an image at the given offset.
     *
     * @param image the source, at least {@code size} on each side
     * @param left column of the square's left edge
     * @param top row of the square's top edge
     * @param size side of the square
     * @return the square
     */
    public static RgbImage crop(RgbImage image, int left, int top, int size) {
        if (left < 0 || top < 0 || left + size > image.width() || top + size > image.height()) {
            throw new IllegalArgumentException("crop " + size + "x" + size + " at (" + left + "," + top
                    + ") is outside a " + image.width() + "x" + image.height() + " image");
        }
        byte[] dst = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            System.arraycopy(image.pixels(), ((top + y) * image.width() + left) * 3, dst, y * size * 3, size * 3);
        }
        return new RgbImage(size, size, dst);
    }

    /**
     * Centres an image on a {@code size × size} canvas and fills the border.
     *
     * @param image an image no larger than {@code size} on either side
     * @param size the canvas side
     * @param mode zeros or reflection
     * @return the padded image
     */
    public static RgbImage pad(RgbImage image, int size, PadMode mode) {
        int w = image.width();
        int h = image.height();
        if (w == size && h == size) {
            return image;
        }
        int left = (size - w) / 2;
        int top = (size - h) / 2;
        byte[] src = image.pixels();
        byte[] dst = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            int sy = mode == PadMode.REFLECTION ? reflect(y - top, h) : y - top;
            if (sy < 0 || sy >= h) {
                continue;
            }
            for (int x = 0; x < size; x++) {
                int sx = mode == PadMode.REFLECTION ? reflect(x - left, w) : x - left;
                if (sx < 0 || sx >= w) {
                    continue;
                }
                int s = (sy * w + sx) * 3;
                int d = (y * size + x) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }
        return new RgbImage(size, size, dst);
    }

    /** Mirror index into [0, n) without repeating the edge (…2 1 | 0 1 2 … n-1 | n-2 …). */
    static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** Precomputed taps for one axis: output i reads count[i] inputs from first[i]. */
    private static final class Filter {
        final int taps;
        final int[] first;
        final int[] count;
        final int[] fixed;

        private Filter(int taps, int[] first, int[] count, int[] fixed) {
            this.taps = taps;
            this.first = first;
            this.count = count;
            this.fixed = fixed;
        }

        static Filter build(int in, int out) {
            double scale = (double) in / out;
            double filterScale = Math.max(scale, 1.0);
            double support = filterScale; // triangle filter has radius 1
            int taps = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[out];
            int[] count = new int[out];
            int[] fixed = new int[out * taps];
            double[] w = new double[taps];
            for (int i = 0; i < out; i++) {
                double center = (i + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(center - support + 0.5));
                int hi = Math.min(in, (int) Math.floor(center + support + 0.5));
                int n = Math.min(taps, hi - lo);
                double total = 0;
                for (int k = 0; k < n; k++) {
                    double t = Math.abs((lo + k + 0.5 - center) / filterScale);
                    w[k] = t < 1 ? 1 - t : 0;
                    total += w[k];
                }
                if (total <= 0) { // degenerate: take the nearest pixel
                    n = 1;
                    lo = Math.min(in - 1, Math.max(0, (int) Math.floor(center)));
                    w[0] = 1;
                    total = 1;
                }
                first[i] = lo;
                count[i] = n;
                // Quantise so that the weights of every output sum to exactly 1 << WEIGHT_BITS.
                int sum = 0;
                int largest = 0;
                for (int k = 0; k < n; k++) {
                    fixed[i * taps + k] = (int) Math.round(w[k] / total * (1 << WEIGHT_BITS));
                    sum += fixed[i * taps + k];
                    if (w[k] > w[largest]) {
                        largest = k;
                    }
                }
                fixed[i * taps + largest] += (1 << WEIGHT_BITS) - sum;
            }
            return new Filter(taps, first, count, fixed);
        }
    }
}
