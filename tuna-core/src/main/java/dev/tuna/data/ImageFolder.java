package dev.tuna.data;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
import dev.tuna.transform.AugTransforms;
import dev.tuna.transform.Normalization;
import dev.tuna.transform.PadMode;
import dev.tuna.transform.ResizeMethod;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A folder of labelled images ({@code <root>/<class>/<image>}) and how to turn it into mini-batches.
 *
 * <p>An {@code ImageFolder} is an immutable specification: every {@code with}-style method returns a
 * new instance. Work happens only in the terminal verbs {@link #scan()} and {@link #dataloaders()}.
 *
 * <pre>{@code
 * try (DataLoaders data = ImageFolder.from(Path.of("flowers"))
 *         .split(Splitter.random(0.2, 42))
 *         .resize(192, ResizeMethod.SQUISH)
 *         .dataloaders()) {
 *     ...
 * }
 * }</pre>
 */
public final class ImageFolder {
    /** The default mini-batch size. */
    public static final int DEFAULT_BATCH_SIZE = 64;
    /** The default image side in pixels. */
    public static final int DEFAULT_SIZE = 192;

    // Set once, by from() or by the setter that makes the copy, and never changed afterwards: every
    // setter returns a new specification (a copy with one field changed).
    private Path root;
    private Splitter splitter;
    private int size;
    private ResizeMethod method;
    private PadMode padMode;
    private Normalization normalization;
    private int batchSize;
    private boolean flip;
    private AugTransforms augment;
    private long seed;
    private int threads;
    private CacheMode cacheMode;
    private Path cacheDirectory;
    private long memoryBudget;
    private ImageDecoder decoder;
    private List<String> vocabulary;
    private ProgressListener progress;
    private int limitPerClass;

    private ImageFolder(Path root) {
        this.root = root;
    }

    private ImageFolder(ImageFolder other) {
        this.root = other.root;
        this.splitter = other.splitter;
        this.size = other.size;
        this.method = other.method;
        this.padMode = other.padMode;
        this.normalization = other.normalization;
        this.batchSize = other.batchSize;
        this.flip = other.flip;
        this.augment = other.augment;
        this.seed = other.seed;
        this.threads = other.threads;
        this.cacheMode = other.cacheMode;
        this.cacheDirectory = other.cacheDirectory;
        this.memoryBudget = other.memoryBudget;
        this.decoder = other.decoder;
        this.vocabulary = other.vocabulary;
        this.progress = other.progress;
        this.limitPerClass = other.limitPerClass;
    }

    /**
     * Starts a specification with fast.ai's defaults: random 20% validation split with seed 42,
     * 192 px squish, ImageNet normalisation, batches of 64, no flips, one decoding thread per core.
     *
     * @param root the dataset folder
     * @return the specification
     */
    public static ImageFolder from(Path root) {
        ImageFolder copy = new ImageFolder(Objects.requireNonNull(root, "root"));
        copy.splitter = Splitter.random(0.2, 42);
        copy.size = DEFAULT_SIZE;
        copy.method = ResizeMethod.SQUISH;
        copy.padMode = PadMode.REFLECTION;
        copy.normalization = Normalization.IMAGENET;
        copy.batchSize = DEFAULT_BATCH_SIZE;
        copy.flip = false;
        copy.seed = 42;
        copy.threads = Runtime.getRuntime().availableProcessors();
        copy.cacheMode = CacheMode.AUTO;
        copy.cacheDirectory = Path.of(System.getProperty("java.io.tmpdir"));
        copy.memoryBudget = -1;
        copy.decoder = ImageDecoder.standard();
        copy.vocabulary = null;
        copy.progress = ProgressListener.NONE;
        copy.limitPerClass = 0;
        return copy;
    }

    /**
     * Sets how items are divided into training and validation.
     *
     * @param splitter the splitter
     * @return a new specification
     */
    public ImageFolder split(Splitter splitter) {
        ImageFolder copy = new ImageFolder(this);
        copy.splitter = Objects.requireNonNull(splitter);
        return copy;
    }

    /**
     * Returns how items are split into training and validation.
     *
     * @return the splitter
     */
    public Splitter splitter() {
        return splitter;
    }

    /**
     * Sets the square image size and how images are brought to it.
     *
     * @param size side in pixels (8 to 4096)
     * @param method squish, crop or pad
     * @return a new specification
     */
    public ImageFolder resize(int size, ResizeMethod method) {
        if (size < 8 || size > 4096) {
            throw TunaException.usage("The image size must be between 8 and 4096 pixels; found " + size + ".");
        }
        ImageFolder copy = new ImageFolder(this);
        copy.method = Objects.requireNonNull(method);
        copy.size = size;
        return copy;
    }

    /**
     * Sets how {@link ResizeMethod#PAD} fills borders (reflection by default, as fast.ai).
     *
     * @param padMode zeros or reflection
     * @return a new specification
     */
    public ImageFolder padMode(PadMode padMode) {
        ImageFolder copy = new ImageFolder(this);
        copy.padMode = Objects.requireNonNull(padMode);
        return copy;
    }

    /**
     * Sets the input normalisation; use the one the architecture declares.
     *
     * @param normalization the statistics
     * @return a new specification
     */
    public ImageFolder normalize(Normalization normalization) {
        ImageFolder copy = new ImageFolder(this);
        copy.normalization = Objects.requireNonNull(normalization);
        return copy;
    }

    /**
     * Sets the mini-batch size.
     *
     * @param batchSize items per batch, at least 1
     * @return a new specification
     */
    public ImageFolder batchSize(int batchSize) {
        if (batchSize < 1) {
            throw TunaException.usage("The batch size must be at least 1; found " + batchSize + ".");
        }
        ImageFolder copy = new ImageFolder(this);
        copy.batchSize = batchSize;
        return copy;
    }

    /**
     * Turns random horizontal flips of training images on or off (off by default).
     *
     * @param flip whether to flip half of the training images, chosen at random each epoch
     * @return a new specification
     */
    public ImageFolder flip(boolean flip) {
        ImageFolder copy = new ImageFolder(this);
        copy.flip = flip;
        return copy;
    }

    /**
     * Turns fast.ai's augmentations of training images on (with these settings) or off (null, the
     * default). They replace the random crop and {@link #flip(boolean) flip}; validation and test images
     * are never augmented.
     *
     * @param augment e.g. {@link AugTransforms#FASTAI}, or null
     * @return a new specification
     */
    public ImageFolder augment(AugTransforms augment) {
        ImageFolder copy = new ImageFolder(this);
        copy.augment = augment;
        return copy;
    }

    /**
     * Returns the augmentations of training images.
     *
     * @return the settings, or null for none (random crop and the optional flip only)
     */
    public AugTransforms augment() {
        return augment;
    }

    /**
     * Sets the seed of the per-epoch shuffle and augmentation (the split has its own seed).
     *
     * @param seed the seed
     * @return a new specification
     */
    public ImageFolder seed(long seed) {
        ImageFolder copy = new ImageFolder(this);
        copy.seed = seed;
        return copy;
    }

    /**
     * Sets the number of decoding threads (one per core by default).
     *
     * @param threads at least 1
     * @return a new specification
     */
    public ImageFolder threads(int threads) {
        if (threads < 1) {
            throw TunaException.usage("The number of threads must be at least 1; found " + threads + ".");
        }
        ImageFolder copy = new ImageFolder(this);
        copy.threads = threads;
        return copy;
    }

    /**
     * Sets where the presized cache lives.
     *
     * @param mode auto, memory or disk
     * @param directory folder for the disk cache
     * @param memoryBudget largest in-memory cache for {@link CacheMode#AUTO}, in bytes; negative
     *     for the default (a quarter of RAM within the direct-memory limit)
     * @return a new specification
     */
    public ImageFolder cache(CacheMode mode, Path directory, long memoryBudget) {
        ImageFolder copy = new ImageFolder(this);
        copy.cacheMode = Objects.requireNonNull(mode);
        copy.cacheDirectory = Objects.requireNonNull(directory);
        copy.memoryBudget = memoryBudget;
        return copy;
    }

    /**
     * Sets the decoder (e.g. with a different pixel budget).
     *
     * @param decoder the decoder
     * @return a new specification
     */
    public ImageFolder decoder(ImageDecoder decoder) {
        ImageFolder copy = new ImageFolder(this);
        copy.decoder = Objects.requireNonNull(decoder);
        return copy;
    }

    /**
     * Fixes the class vocabulary, e.g. to a trained model's classes when loading a test folder.
     * Every folder label must then be one of these classes.
     *
     * @param classes the classes, in the model's order
     * @return a new specification
     */
    public ImageFolder vocabulary(List<String> classes) {
        ImageFolder copy = new ImageFolder(this);
        copy.vocabulary = List.copyOf(classes);
        return copy;
    }

    /**
     * Keeps only the first {@code count} images of each class (in the stable, sorted order), e.g. for
     * a quick trial run; 0 keeps everything.
     *
     * @param count images per class, or 0 for all
     * @return a new specification
     */
    public ImageFolder limitPerClass(int count) {
        if (count < 0) {
            throw TunaException.usage("The per-class limit must be >= 0 (0 = no limit); found " + count + ".");
        }
        ImageFolder copy = new ImageFolder(this);
        copy.limitPerClass = count;
        return copy;
    }

    /**
     * Sets a listener for decoding progress.
     *
     * @param progress the listener
     * @return a new specification
     */
    public ImageFolder progress(ProgressListener progress) {
        ImageFolder copy = new ImageFolder(this);
        copy.progress = Objects.requireNonNull(progress);
        return copy;
    }

    /**
     * Returns the dataset folder.
     *
     * @return the root
     */
    public Path root() {
        return root;
    }

    /**
     * Returns the same specification for another folder (e.g. a test folder laid out like the
     * training one).
     *
     * @param folder the other folder
     * @return a new specification
     */
    public ImageFolder root(Path folder) {
        ImageFolder copy = new ImageFolder(this);
        copy.root = Objects.requireNonNull(folder);
        return copy;
    }

    /**
     * Returns the image side in pixels.
     *
     * @return the size
     */
    public int size() {
        return size;
    }

    /**
     * Returns the resize method.
     *
     * @return squish, crop or pad
     */
    public ResizeMethod resizeMethod() {
        return method;
    }

    /**
     * Returns the pad mode used by {@link ResizeMethod#PAD}.
     *
     * @return the pad mode
     */
    public PadMode padMode() {
        return padMode;
    }

    /**
     * Returns the input normalisation.
     *
     * @return the normalisation
     */
    public Normalization normalization() {
        return normalization;
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
     * Returns the seed of shuffling and augmentation.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * Whether training images are flipped at random.
     *
     * @return true when flips are on
     */
    public boolean flip() {
        return flip;
    }

    /**
     * Lists the folder: every image file by content, in a stable order, with its label.
     *
     * @return the listing
     * @throws TunaException when the folder is missing or unreadable
     */
    public ImageList scan() {
        ImageList list = FolderScanner.scan(root);
        if (limitPerClass <= 0) {
            return list;
        }
        java.util.Map<String, Integer> taken = new java.util.HashMap<>();
        List<ImageItem> kept = list.items().stream()
                .filter(item -> taken.merge(item.label(), 1, Integer::sum) <= limitPerClass).toList();
        return new ImageList(list.root(), kept, list.classes(), list.unreadable(), list.ignored(), list.warnings());
    }

    /**
     * Scans, splits, decodes and presizes every image once, and returns the training and validation
     * loaders over the cache.
     *
     * @return the loaders; close them to free the cache
     * @throws TunaException with {@link TunaException.Kind#BAD_DATA} for an empty folder, a single
     *     class, or a class left without training images
     */
    public DataLoaders dataloaders() {
        ImageList list = scan();
        List<String> classes = vocabulary != null ? vocabulary : list.classes();
        DataChecks.checkListing(list, classes, vocabulary != null);
        Split split = splitter.split(list.items());
        long budget = memoryBudget >= 0 ? memoryBudget : ImageCache.defaultMemoryBudget();
        long start = System.nanoTime();
        ImageCache cache = ImageCache.build(list.items(), size, method, padMode, decoder, cacheMode,
                cacheDirectory, budget, threads, progress);
        double seconds = (System.nanoTime() - start) / 1e9;
        try {
            return DataLoaders.create(this, list, classes, split, cache, seconds);
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
    }

    @Override
    public String toString() {
        return "ImageFolder[" + root + ", size=" + size + ", " + method + ", bs=" + batchSize + "]";
    }
}
