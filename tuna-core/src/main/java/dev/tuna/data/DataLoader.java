package dev.tuna.data;

import ai.djl.ndarray.NDManager;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.RgbImage;
import dev.tuna.transform.Tta;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Mini-batches of one split (training or validation) read from the presized cache.
 *
 * <p>A training loader reshuffles every epoch from its seed, drops the last partial batch and applies
 * the random parts of the item transforms (crop position, optional horizontal flip). A validation
 * loader keeps its order, keeps every item and is deterministic. The next batch is assembled on a
 * background thread while the current one is used.
 */
public final class DataLoader {
    private final String name;
    private final ImageCache cache;
    private final List<ImageItem> allItems;
    private final int[] itemIndices;
    private final int[] targets;
    private final List<String> classes;
    private final boolean training;
    private final boolean flip;
    private final AugTransforms augment;
    private final int batchSize;
    private final int size;
    private final Normalization normalization;
    private final long seed;
    private final Tta tta;
    private final int ttaPass;

    DataLoader(String name, ImageCache cache, List<ImageItem> allItems, int[] itemIndices, int[] targets,
            List<String> classes, boolean training, boolean flip, AugTransforms augment, int batchSize, int size,
            Normalization normalization, long seed) {
        this.name = name;
        this.cache = cache;
        this.allItems = allItems;
        this.itemIndices = itemIndices.clone();
        this.targets = targets;
        this.classes = List.copyOf(classes);
        this.training = training;
        this.flip = flip;
        this.augment = augment;
        this.batchSize = batchSize;
        this.size = size;
        this.normalization = normalization;
        this.seed = seed;
        this.tta = null;
        this.ttaPass = 0;
    }

    /** A copy of {@code other} in evaluation mode whose images take test-time augmentation pass {@code pass}. */
    private DataLoader(DataLoader other, Tta tta, int pass) {
        this.name = other.name;
        this.cache = other.cache;
        this.allItems = other.allItems;
        this.itemIndices = other.itemIndices;
        this.targets = other.targets;
        this.classes = other.classes;
        this.training = false;
        this.flip = false;
        this.augment = null;
        this.batchSize = other.batchSize;
        this.size = other.size;
        this.normalization = other.normalization;
        this.seed = other.seed;
        this.tta = tta;
        this.ttaPass = pass;
    }

    /**
     * Returns this loader's items in evaluation order (base order, every item), each image under pass
     * {@code pass} of the test-time augmentation {@code tta} (see {@link Tta#draw}).
     *
     * @param tta the test-time augmentation
     * @param pass the pass, from 0
     * @return the augmented evaluation loader
     */
    public DataLoader withTta(Tta tta, int pass) {
        return new DataLoader(this, java.util.Objects.requireNonNull(tta), pass);
    }

    /**
     * Returns "train", "valid" or another name given at creation.
     *
     * @return the loader's name
     */
    public String name() {
        return name;
    }

    /**
     * Returns a loader over the same items, in their base order, without shuffling, without dropping
     * a last partial batch and with the deterministic (validation) transforms; item positions are
     * the same as this loader's.
     *
     * @return this loader itself when it is not a training loader
     */
    public DataLoader forEvaluation() {
        if (!training) {
            return this;
        }
        return new DataLoader(name, cache, allItems, itemIndices, targets, classes, false, flip, augment, batchSize,
                size, normalization, seed);
    }

    /**
     * Whether batches vary from epoch to epoch beyond their order: a training loader with flips, or
     * with images larger than the batch size to crop at random.
     *
     * @return true when the training transforms are random
     */
    public boolean augments() {
        if (!training) {
            return false;
        }
        if (flip || augment != null) {
            return true;
        }
        for (int item : itemIndices) {
            if (cache.width(item) != size || cache.height(item) != size) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns the number of items.
     *
     * @return usable (decoded) items in this split
     */
    public int size() {
        return itemIndices.length;
    }

    /**
     * Returns the items of this split in their base order.
     *
     * @return the items
     */
    public List<ImageItem> items() {
        ImageItem[] out = new ImageItem[itemIndices.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = allItems.get(itemIndices[i]);
        }
        return List.of(out);
    }

    /**
     * Returns the class index of every item, in {@link #items()} order.
     *
     * @return targets
     */
    public int[] targets() {
        int[] out = new int[itemIndices.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = targets[itemIndices[i]];
        }
        return out;
    }

    /**
     * Returns the class vocabulary.
     *
     * @return sorted class names; a target is an index into this list
     */
    public List<String> classes() {
        return classes;
    }

    /**
     * Returns the batch size.
     *
     * @return items per batch
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Returns the image side in pixels.
     *
     * @return the size of every image in a batch
     */
    public int imageSize() {
        return size;
    }

    /**
     * Returns the input normalisation applied to batches.
     *
     * @return the normalisation
     */
    public Normalization normalization() {
        return normalization;
    }

    /**
     * Whether this loader shuffles, drops the last partial batch and augments.
     *
     * @return true for a training loader
     */
    public boolean training() {
        return training;
    }

    /**
     * Returns the number of batches one epoch yields.
     *
     * @return batches per epoch
     */
    public int batchCount() {
        int n = itemIndices.length;
        return training ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /**
     * Starts an epoch. The returned iterator prepares batches ahead on a background thread; close
     * it (try-with-resources) to stop that thread early.
     *
     * @param manager the parent manager; each batch gets its own sub-manager
     * @param epoch the epoch number, which selects the shuffle order and augmentations
     * @return the epoch's batches
     */
    public BatchIterator iterate(NDManager manager, int epoch) {
        return new BatchIterator(this, manager, epoch);
    }

    /**
     * Returns one item as it appears in a batch (after crop and flip), without normalisation.
     *
     * @param position the item's position in {@link #items()}
     * @param random randomness for the training transforms, or null for the deterministic version
     * @return a {@code size × size} image
     */
    public RgbImage image(int position, SplittableRandom random) {
        int item = itemIndices[position];
        byte[] pixels = new byte[cache.width(item) * cache.height(item) * 3];
        cache.read(item, pixels);
        byte[] out = new byte[size * size * 3];
        if (augmenting(random)) {
            AugTransforms.Draw draw = augment.draw(random, cache.width(item), cache.height(item), size);
            float[] values = new float[out.length];
            AugTransforms.resample(pixels, cache.width(item), cache.height(item), draw, AugTransforms.byteTable(draw),
                    size, values, 0);
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) Math.min(255, Math.max(0, Math.round(values[i])));
            }
            return new RgbImage(size, size, out);
        }
        Placement place = placement(item, random);
        for (int y = 0; y < size; y++) {
            int row = ((place.top + y) * cache.width(item) + place.left) * 3;
            for (int x = 0; x < size; x++) {
                int s = row + (place.flip ? size - 1 - x : x) * 3;
                int d = (y * size + x) * 3;
                out[d] = pixels[s];
                out[d + 1] = pixels[s + 1];
                out[d + 2] = pixels[s + 2];
            }
        }
        return new RgbImage(size, size, out);
    }

    /** The order of the epoch's items (positions into itemIndices' items), shuffled when training. */
    int[] epochOrder(SplittableRandom random) {
        int n = itemIndices.length;
        return training ? shuffled(n, random) : java.util.stream.IntStream.range(0, n).toArray();
    }

    SplittableRandom epochRandom(int epoch) {
        return epochRandom(seed, epoch);
    }

    private static SplittableRandom epochRandom(long seed, int epoch) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 1);
    }

    /** Fisher-Yates over 0..n-1 with {@code random}. */
    private static int[] shuffled(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /**
     * The order in which a training loader of {@code n} items built with data seed {@code seed} visits
     * them in epoch {@code epoch} (positions into its {@link #items()}): what {@link #iterate} uses, for
     * code that trains on rows other than images (e.g. body features computed elsewhere) in the same order.
     *
     * @param n the number of training items
     * @param seed the data seed ({@link ImageFolder#seed()})
     * @param epoch the epoch number given to {@link #iterate}
     * @return a permutation of 0..n-1
     */
    public static int[] trainingOrder(int n, long seed, int epoch) {
        return shuffled(n, epochRandom(seed, epoch));
    }

    /** Whether items get fast.ai's augmentations: a training loader with them, given randomness. */
    private boolean augmenting(SplittableRandom random) {
        return training && random != null && augment != null;
    }

    /**
     * Returns the augmentations of this loader's training batches.
     *
     * @return fast.ai's {@code aug_transforms} settings, or null (random crop and optional flip only)
     */
    public AugTransforms augmentations() {
        return augment;
    }

    record Placement(int left, int top, boolean flip) {}

    /** Where the square comes from in the cached image, and whether it is mirrored. */
    Placement placement(int item, SplittableRandom random) {
        int w = cache.width(item);
        int h = cache.height(item);
        boolean augment = training && random != null;
        int left = augment ? random.nextInt(w - size + 1) : (w - size) / 2;
        int top = augment ? random.nextInt(h - size + 1) : (h - size) / 2;
        boolean mirror = augment && flip && random.nextBoolean();
        return new Placement(left, top, mirror);
    }

    /**
     * Writes a batch of normalised images into {@code out} in NHWC order (the batch tensor is a
     * channels-last view of it, which libtorch's CPU convolutions run fastest on) and their targets
     * into {@code labels}.
     */
    void assemble(int[] positions, SplittableRandom random, float[] out, long[] labels, byte[] scratch,
            float[][] lut) {
        float[] r = lut[0];
        float[] g = lut[1];
        float[] bl = lut[2];
        for (int b = 0; b < positions.length; b++) {
            int item = itemIndices[positions[b]];
            labels[b] = targets[item];
            cache.read(item, scratch);
            int w = cache.width(item);
            int o = b * 3 * size * size;
            if (tta != null) {
                tta.view(scratch, w, cache.height(item), size, ttaPass, normalization, lut, out, o);
                continue;
            }
            if (augmenting(random)) {
                AugTransforms.Draw draw = augment.draw(random, w, cache.height(item), size);
                AugTransforms.resample(scratch, w, cache.height(item), draw,
                        AugTransforms.table(draw, normalization, lut), size, out, o);
                continue;
            }
            Placement place = placement(item, random);
            for (int y = 0; y < size; y++) {
                int row = ((place.top + y) * w + place.left) * 3;
                if (place.flip) {
                    for (int x = 0; x < size; x++, o += 3) {
                        int s = row + (size - 1 - x) * 3;
                        out[o] = r[scratch[s] & 0xFF];
                        out[o + 1] = g[scratch[s + 1] & 0xFF];
                        out[o + 2] = bl[scratch[s + 2] & 0xFF];
                    }
                } else {
                    for (int x = 0, s = row; x < size; x++, s += 3, o += 3) {
                        out[o] = r[scratch[s] & 0xFF];
                        out[o + 1] = g[scratch[s + 1] & 0xFF];
                        out[o + 2] = bl[scratch[s + 2] & 0xFF];
                    }
                }
            }
        }
    }

    int maxCachedBytes() {
        int max = 0;
        for (int item : itemIndices) {
            max = Math.max(max, cache.width(item) * cache.height(item) * 3);
        }
        return max;
    }
}
