package dev.tuna.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a dataset holds and what was left out: the basis of {@code tuna describe}.
 *
 * @param root the dataset folder
 * @param classes per-class counts in vocabulary order
 * @param minWidth smallest source width (before resizing) of the usable images
 * @param maxWidth largest source width
 * @param minHeight smallest source height
 * @param maxHeight largest source height
 * @param unreadable files that looked like images but could not be used, with reasons
 * @param ignored files deliberately left out (hidden, debris, non-images), with reasons
 * @param warnings observations worth showing
 * @param cacheBytes size of the presized cache in bytes
 * @param cacheOnDisk whether the cache is a memory-mapped file rather than memory
 * @param decodeSeconds wall time of decoding and presizing
 */
public record DatasetSummary(
        Path root,
        List<ClassCount> classes,
        int minWidth,
        int maxWidth,
        int minHeight,
        int maxHeight,
        List<SkippedFile> unreadable,
        List<SkippedFile> ignored,
        List<String> warnings,
        long cacheBytes,
        boolean cacheOnDisk,
        double decodeSeconds) {

    /**
     * Image counts of one class.
     *
     * @param name the class
     * @param train training images
     * @param valid validation images
     */
    public record ClassCount(String name, int train, int valid) {}

    /** Copies the lists. */
    public DatasetSummary {
        classes = List.copyOf(classes);
        unreadable = List.copyOf(unreadable);
        ignored = List.copyOf(ignored);
        warnings = List.copyOf(warnings);
    }

    /**
     * Returns the number of training images.
     *
     * @return training images over all classes
     */
    public int trainCount() {
        return classes.stream().mapToInt(ClassCount::train).sum();
    }

    /**
     * Returns the number of validation images.
     *
     * @return validation images over all classes
     */
    public int validCount() {
        return classes.stream().mapToInt(ClassCount::valid).sum();
    }

    /**
     * Returns the decode and presize throughput.
     *
     * @return usable images per second of decoding, or 0 when nothing was decoded
     */
    public double decodeImagesPerSecond() {
        int total = trainCount() + validCount() + unreadable.size();
        return decodeSeconds > 0 ? total / decodeSeconds : 0;
    }

    /**
     * Formats the summary as a table for people.
     *
     * @param maxListed how many unreadable and ignored files to list by name
     * @return multi-line text
     */
    public String format(int maxListed) {
        StringBuilder out = new StringBuilder();
        out.append("Dataset ").append(root).append('\n');
        out.append(String.format(Locale.ROOT, "  %-20s %8s %8s %8s%n", "class", "train", "valid", "total"));
        for (ClassCount c : classes) {
            out.append(String.format(Locale.ROOT, "  %-20s %8d %8d %8d%n", c.name(), c.train(), c.valid(),
                    c.train() + c.valid()));
        }
        out.append(String.format(Locale.ROOT, "  %-20s %8d %8d %8d%n", "all (" + classes.size() + " classes)",
                trainCount(), validCount(), trainCount() + validCount()));
        if (trainCount() + validCount() > 0) {
            out.append(String.format(Locale.ROOT, "  image sizes: width %d–%d px, height %d–%d px%n",
                    minWidth, maxWidth, minHeight, maxHeight));
        }
        out.append(String.format(Locale.ROOT, "  decoded in %.1f s (%.0f images/s); cache %.1f MiB %s%n",
                decodeSeconds, decodeImagesPerSecond(), cacheBytes / 1048576.0,
                cacheOnDisk ? "on disk (memory-mapped)" : "in memory"));
        out.append("  unreadable files skipped: ").append(unreadable.size()).append('\n');
        listFiles(out, unreadable, maxListed);
        out.append("  other files ignored: ").append(ignored.size()).append('\n');
        listFiles(out, ignored, maxListed);
        for (String warning : warnings) {
            out.append("  warning: ").append(warning).append('\n');
        }
        return out.toString();
    }

    private static void listFiles(StringBuilder out, List<SkippedFile> files, int maxListed) {
        for (int i = 0; i < files.size() && i < maxListed; i++) {
            out.append("    ").append(files.get(i)).append('\n');
        }
        if (files.size() > maxListed) {
            out.append("    ... and ").append(files.size() - maxListed).append(" more\n");
        }
    }

    @Override
    public String toString() {
        return format(10);
    }
}
