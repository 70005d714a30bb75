package dev.tuna.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

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
 * @param formats usable images per file format (recognised by content), in {@link ImageFormat} order
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
        double decodeSeconds,
        Map<ImageFormat, Integer> formats) {

    /**
     * Image counts of one class.
     *
     * @param name the class
     * @param train training images
     * @param valid validation images
     */
    public record ClassCount(String name, int train, int valid) {}

    /**
     * Copies the lists.
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
     * @param formats usable images per format
     */
    public DatasetSummary {
        classes = List.copyOf(classes);
        unreadable = List.copyOf(unreadable);
        ignored = List.copyOf(ignored);
        warnings = List.copyOf(warnings);
        formats = java.util.Collections.unmodifiableMap(new java.util.EnumMap<>(formats));
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
     * Formats the summary as a table for people. Skipped files are counted per reason and listed by
     * path relative to the dataset folder, at most {@code maxListed} per reason; label conflicts
     * (the same image in two classes) are counted and listed with both paths, then other warnings.
     *
     * @param maxListed how many files to list by name for each reason, and how many label conflicts
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
        if (!formats.isEmpty()) {
            StringBuilder line = new StringBuilder();
            formats.forEach((format, count) -> line.append(line.length() == 0 ? "" : ", ").append(format.name())
                    .append(' ').append(count));
            out.append("  formats: ").append(line).append('\n');
        }
        out.append(String.format(Locale.ROOT, "  decoded in %.1f s (%.0f images/s); cache %.1f MiB %s%n",
                decodeSeconds, decodeImagesPerSecond(), cacheBytes / 1048576.0,
                cacheOnDisk ? "on disk (memory-mapped)" : "in memory"));
        out.append("  unreadable files skipped: ").append(unreadable.size()).append('\n');
        listByReason(out, unreadable, maxListed);
        out.append("  other files ignored: ").append(ignored.size()).append('\n');
        listByReason(out, ignored, maxListed);
        List<String> conflicts = warnings.stream().filter(w -> w.startsWith(DataLoaders.LABEL_CONFLICT)).toList();
        if (!conflicts.isEmpty()) {
            out.append("  label conflicts (the same image in two classes): ").append(conflicts.size()).append('\n');
            for (int i = 0; i < conflicts.size() && i < maxListed; i++) {
                out.append("    ").append(conflicts.get(i).substring(DataLoaders.LABEL_CONFLICT.length())).append('\n');
            }
            if (conflicts.size() > maxListed) {
                out.append("    ... and ").append(conflicts.size() - maxListed).append(" more\n");
            }
        }
        for (String warning : warnings) {
            if (!warning.startsWith(DataLoaders.LABEL_CONFLICT)) {
                out.append("  warning: ").append(warning).append('\n');
            }
        }
        return out.toString();
    }

    /** Counts per reason, the most frequent first, then up to {@code maxListed} paths of each. */
    private void listByReason(StringBuilder out, List<SkippedFile> files, int maxListed) {
        Map<String, List<SkippedFile>> byReason = new TreeMap<>();
        for (SkippedFile file : files) {
            byReason.computeIfAbsent(file.reason(), r -> new ArrayList<>()).add(file);
        }
        List<Map.Entry<String, List<SkippedFile>>> groups = new ArrayList<>(byReason.entrySet());
        groups.sort(Comparator.comparing((Map.Entry<String, List<SkippedFile>> e) -> -e.getValue().size()));
        Path base = root.toAbsolutePath().normalize();
        for (Map.Entry<String, List<SkippedFile>> group : groups) {
            List<SkippedFile> members = group.getValue();
            members.sort(Comparator.comparing(f -> f.path().toString(), FolderScanner.CODE_POINT_ORDER));
            out.append("    ").append(members.size()).append(members.size() == 1 ? " file: " : " files: ")
                    .append(group.getKey()).append('\n');
            for (int i = 0; i < members.size() && i < maxListed; i++) {
                Path path = members.get(i).path();
                Path shown = path.isAbsolute() && path.startsWith(base) && !path.equals(base)
                        ? base.relativize(path) : path;
                out.append("      ").append(shown).append('\n');
            }
            if (members.size() > maxListed) {
                out.append("      ... and ").append(members.size() - maxListed).append(" more\n");
            }
        }
    }

    @Override
    public String toString() {
        return format(10);
    }
}
