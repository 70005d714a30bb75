package dev.tuna.data;

import dev.tuna.ProgressListener;
import dev.tuna.TunaException;
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

    private final Path root;
    private final Splitter splitter;
    private final int size;
    private final ResizeMethod method;
    private final PadMode padMode;
    private final Normalization normalization;
    private final int batchSize;
    private final boolean flip;
    private final long seed;
    private final int threads;
    private final CacheMode cacheMode;
    private final Path cacheDirectory;
    private final long memoryBudget;
    private final ImageDecoder decoder;
    private final List<String> vocabulary;
    private final ProgressListener progress;
    private final int limitPerClass;

    private ImageFolder(Path root, Splitter splitter, int size, ResizeMethod method, PadMode padMode,
            Normalization normalization, int batchSize, boolean flip, long seed, int threads, CacheMode cacheMode,
            Path cacheDirectory, long memoryBudget, ImageDecoder decoder, List<String> vocabulary,
            ProgressListener progress, int limitPerClass) {
        this.limitPerClass = limitPerClass;
        this.root = root;
        this.splitter = splitter;
        this.size = size;
        this.method = method;
        this.padMode = padMode;
        this.normalization = normalization;
        this.batchSize = batchSize;
        this.flip = flip;
        this.seed = seed;
        this.threads = threads;
        this.cacheMode = cacheMode;
        this.cacheDirectory = cacheDirectory;
        this.memoryBudget = memoryBudget;
        this.decoder = decoder;
        this.vocabulary = vocabulary;
        this.progress = progress;
    }

    /**
     * Starts a specification with fast.ai's defaults: random 20% validation split with seed 42,
     * 192 px squish, ImageNet normalisation, batches of 64, no flips, one decoding thread per core.
     *
     * @param root the dataset folder
     * @return the specification
     */
    public static ImageFolder from(Path root) {
        Objects.requireNonNull(root, "root");
        return new ImageFolder(root, Splitter.random(0.2, 42), DEFAULT_SIZE, ResizeMethod.SQUISH,
                PadMode.REFLECTION, Normalization.IMAGENET, DEFAULT_BATCH_SIZE, false, 42,
                Runtime.getRuntime().availableProcessors(), CacheMode.AUTO,
                Path.of(System.getProperty("java.io.tmpdir")), -1, ImageDecoder.standard(), null,
                ProgressListener.NONE, 0);
    }

    /**
     * Sets how items are divided into training and validation.
     *
     * @param splitter the splitter
     * @return a new specification
     */
    public ImageFolder split(Splitter splitter) {
        return new ImageFolder(root, Objects.requireNonNull(splitter), size, method, padMode, normalization,
                batchSize, flip, seed, threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                progress, limitPerClass);
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
        return new ImageFolder(root, splitter, size, Objects.requireNonNull(method), padMode, normalization,
                batchSize, flip, seed, threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                progress, limitPerClass);
    }

    /**
     * Sets how {@link ResizeMethod#PAD} fills borders (reflection by default, as fast.ai).
     *
     * @param padMode zeros or reflection
     * @return a new specification
     */
    public ImageFolder padMode(PadMode padMode) {
        return new ImageFolder(root, splitter, size, method, Objects.requireNonNull(padMode), normalization,
                batchSize, flip, seed, threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                progress, limitPerClass);
    }

    /**
     * Sets the input normalisation; use the one the architecture declares.
     *
     * @param normalization the statistics
     * @return a new specification
     */
    public ImageFolder normalize(Normalization normalization) {
        return new ImageFolder(root, splitter, size, method, padMode, Objects.requireNonNull(normalization),
                batchSize, flip, seed, threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                progress, limitPerClass);
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
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary, progress, limitPerClass);
    }

    /**
     * Turns random horizontal flips of training images on or off (off by default).
     *
     * @param flip whether to flip half of the training images, chosen at random each epoch
     * @return a new specification
     */
    public ImageFolder flip(boolean flip) {
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary, progress, limitPerClass);
    }

    /**
     * Sets the seed of the per-epoch shuffle and augmentation (the split has its own seed).
     *
     * @param seed the seed
     * @return a new specification
     */
    public ImageFolder seed(long seed) {
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary, progress, limitPerClass);
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
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary, progress, limitPerClass);
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
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, Objects.requireNonNull(mode), Objects.requireNonNull(directory), memoryBudget, decoder,
                vocabulary, progress, limitPerClass);
    }

    /**
     * Sets the decoder (e.g. with a different pixel budget).
     *
     * @param decoder the decoder
     * @return a new specification
     */
    public ImageFolder decoder(ImageDecoder decoder) {
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, Objects.requireNonNull(decoder), vocabulary,
                progress, limitPerClass);
    }

    /**
     * Fixes the class vocabulary, e.g. to a trained model's classes when loading a test folder.
     * Every folder label must then be one of these classes.
     *
     * @param classes the classes, in the model's order
     * @return a new specification
     */
    public ImageFolder vocabulary(List<String> classes) {
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, List.copyOf(classes), progress, limitPerClass);
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
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary, progress, count);
    }

    /**
     * Sets a listener for decoding progress.
     *
     * @param progress the listener
     * @return a new specification
     */
    public ImageFolder progress(ProgressListener progress) {
        return new ImageFolder(root, splitter, size, method, padMode, normalization, batchSize, flip, seed,
                threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                Objects.requireNonNull(progress), limitPerClass);
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
        return new ImageFolder(Objects.requireNonNull(folder), splitter, size, method, padMode, normalization,
                batchSize, flip, seed, threads, cacheMode, cacheDirectory, memoryBudget, decoder, vocabulary,
                progress, limitPerClass);
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
