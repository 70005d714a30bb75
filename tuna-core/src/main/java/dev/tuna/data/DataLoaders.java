package dev.tuna.data;

import dev.tuna.TunaException;
import dev.tuna.transform.Normalization;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The training and validation loaders of a dataset, sharing one presized cache.
 *
 * <p>Owns the cache's memory: close it when done (try-with-resources).
 */
public final class DataLoaders implements AutoCloseable {
    /** Classes with fewer usable images than this get a warning in the summary. */
    static final int FEW_IMAGES = 5;
    /** How a label-conflict warning starts; the two relative paths follow, joined by " and ". */
    static final String LABEL_CONFLICT = "the same image is in two classes: ";

    private final ImageCache cache;
    private final DataLoader train;
    private final DataLoader valid;
    private final List<String> classes;
    private final DatasetSummary summary;
    private final ImageFolder spec;

    private DataLoaders(ImageFolder spec, ImageCache cache, DataLoader train, DataLoader valid, List<String> classes,
            DatasetSummary summary) {
        this.spec = spec;
        this.cache = cache;
        this.train = train;
        this.valid = valid;
        this.classes = List.copyOf(classes);
        this.summary = summary;
    }

    static DataLoaders create(ImageFolder spec, ImageList list, List<String> classes, Split split, ImageCache cache,
            double decodeSeconds) {
        int size = spec.size();
        Normalization normalization = spec.normalization();
        int batchSize = spec.batchSize();
        boolean flip = spec.flip();
        long seed = spec.seed();
        List<ImageItem> items = list.items();
        Map<String, Integer> classIndex = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            classIndex.put(classes.get(i), i);
        }
        int[] targets = new int[items.size()];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = classIndex.get(items.get(i).label());
        }
        List<SkippedFile> unreadable = new ArrayList<>(list.unreadable());
        for (int i = 0; i < items.size(); i++) {
            if (!cache.ok(i)) {
                unreadable.add(new SkippedFile(items.get(i).path(), cache.failure(i)));
            }
        }
        int[] trainItems = Arrays.stream(split.train()).filter(cache::ok).toArray();
        int[] validItems = Arrays.stream(split.valid()).filter(cache::ok).toArray();
        if (trainItems.length + validItems.length == 0) {
            throw TunaException.badData("None of the " + items.size() + " image files under " + list.root()
                    + " could be decoded (first: " + unreadable.get(0) + "). Check that they are valid"
                    + " " + ImageFormat.NAMES + " images.");
        }
        int[] trainPerClass = new int[classes.size()];
        int[] validPerClass = new int[classes.size()];
        for (int i : trainItems) {
            trainPerClass[targets[i]]++;
        }
        for (int i : validItems) {
            validPerClass[targets[i]]++;
        }
        List<String> warnings = new ArrayList<>(list.warnings());
        List<DatasetSummary.ClassCount> counts = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            counts.add(new DatasetSummary.ClassCount(classes.get(c), trainPerClass[c], validPerClass[c]));
        }
        if (trainItems.length > 0) {
            checkEveryClassTrains(list, classes, trainPerClass, validPerClass, unreadable);
            for (int c = 0; c < classes.size(); c++) {
                int total = trainPerClass[c] + validPerClass[c];
                if (total < FEW_IMAGES) {
                    warnings.add("class '" + classes.get(c) + "' has only " + total + " usable image"
                            + (total == 1 ? "" : "s") + "; a class needs at least 2 (one to train on, one to"
                            + " validate), better 20 or more");
                }
            }
            for (int c = 0; c < classes.size(); c++) {
                if (validPerClass[c] == 0 && validItems.length > 0) {
                    warnings.add("class '" + classes.get(c) + "' has no validation images; its error is not measured");
                }
            }
        }
        warnings.addAll(labelConflicts(items, trainItems, validItems, cache));
        int trainBatch = batchSize;
        if (trainItems.length > 0 && trainItems.length < batchSize) {
            trainBatch = trainItems.length;
            warnings.add("only " + trainItems.length + " training images, fewer than the batch size " + batchSize
                    + "; using batches of " + trainBatch);
        }
        int minW = Integer.MAX_VALUE;
        int maxW = 0;
        int minH = Integer.MAX_VALUE;
        int maxH = 0;
        for (int i = 0; i < items.size(); i++) {
            if (cache.ok(i)) {
                minW = Math.min(minW, cache.sourceWidth(i));
                maxW = Math.max(maxW, cache.sourceWidth(i));
                minH = Math.min(minH, cache.sourceHeight(i));
                maxH = Math.max(maxH, cache.sourceHeight(i));
            }
        }
        java.util.Map<ImageFormat, Integer> formats = new java.util.EnumMap<>(ImageFormat.class);
        for (int[] part : new int[][] {trainItems, validItems}) {
            for (int i : part) {
                if (cache.format(i) != null) {
                    formats.merge(cache.format(i), 1, Integer::sum);
                }
            }
        }
        DatasetSummary summary = new DatasetSummary(list.root(), counts, minW, maxW, minH, maxH, unreadable,
                list.ignored(), warnings, cache.bytes(), cache.onDisk(), decodeSeconds, formats);
        DataLoader train = new DataLoader("train", cache, items, trainItems, targets, classes, true, flip,
                spec.augment(), trainBatch, size, normalization, seed);
        DataLoader valid = new DataLoader("valid", cache, items, validItems, targets, classes, false, false, null,
                batchSize, size, normalization, seed);
        return new DataLoaders(spec, cache, train, valid, classes, summary);
    }

    private static void checkEveryClassTrains(ImageList list, List<String> classes, int[] trainPerClass,
            int[] validPerClass, List<SkippedFile> unreadable) {
        for (int c = 0; c < classes.size(); c++) {
            if (trainPerClass[c] == 0) {
                int total = trainPerClass[c] + validPerClass[c];
                if (total == 0) {
                    String label = classes.get(c);
                    List<SkippedFile> failed = unreadable.stream()
                            .filter(s -> s.path().getParent() != null
                                    && s.path().getParent().getFileName().toString().equals(label))
                            .toList();
                    if (failed.isEmpty()) {
                        throw TunaException.badData("Class '" + label + "' has no images in " + list.root()
                                + ". Add images to a folder named '" + label + "'.");
                    }
                    throw TunaException.badData("Class '" + label + "' in " + list.root() + " has no usable"
                            + " images: " + (failed.size() == 1 ? "its only image file was" : "all " + failed.size()
                            + " of its image files were") + " skipped (first: " + failed.get(0) + ")"
                            + ". Replace them with valid " + ImageFormat.NAMES + " images, or remove the folder.");
                }
                throw TunaException.badData("Class '" + classes.get(c) + "' in " + list.root() + " has " + total
                        + " usable image" + (total == 1 ? "" : "s") + ", none of which is left for training after"
                        + " the validation split. Add more images to that class (at least 2, better 20+),"
                        + " lower the validation fraction, or remove the folder.");
            }
        }
    }

    private static List<String> labelConflicts(List<ImageItem> items, int[] trainItems, int[] validItems,
            ImageCache cache) {
        Map<String, Integer> firstByDigest = new HashMap<>();
        List<String> conflicts = new ArrayList<>();
        int[] all = new int[trainItems.length + validItems.length];
        System.arraycopy(trainItems, 0, all, 0, trainItems.length);
        System.arraycopy(validItems, 0, all, trainItems.length, validItems.length);
        Arrays.sort(all);
        for (int i : all) {
            String key = java.util.HexFormat.of().formatHex(cache.digest(i));
            Integer first = firstByDigest.putIfAbsent(key, i);
            if (first != null && !items.get(first).label().equals(items.get(i).label())) {
                conflicts.add(LABEL_CONFLICT + items.get(first).relativePath() + " and "
                        + items.get(i).relativePath());
            }
        }
        return conflicts;
    }

    /**
     * Returns the training loader (shuffled, drops the last partial batch, augmented).
     *
     * @return the training loader
     */
    public DataLoader train() {
        return train;
    }

    /**
     * Returns the validation loader (fixed order, every item, deterministic).
     *
     * @return the validation loader
     */
    public DataLoader valid() {
        return valid;
    }

    /**
     * Returns the vocabulary.
     *
     * @return class names, sorted; a target is an index into this list
     */
    public List<String> classes() {
        return classes;
    }

    /**
     * Returns counts, size range, skipped files and warnings.
     *
     * @return the summary
     */
    public DatasetSummary summary() {
        return summary;
    }

    /**
     * Returns the specification these loaders were made from, e.g. to load a test folder the same way.
     *
     * @return the specification
     */
    public ImageFolder spec() {
        return spec;
    }

    /** Frees the presized cache; the loaders must not be used afterwards. */
    @Override
    public void close() {
        cache.close();
    }
}
