package dev.tuna.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The result of scanning a folder: every image file in a stable order, the class vocabulary and
 * what was left out.
 *
 * @param root the scanned folder
 * @param items image files sorted by relative path (code-point order, '/' separators)
 * @param classes the vocabulary: distinct labels, sorted
 * @param unreadable files that look like images but cannot be used (bad content, no permission,
 *     broken symbolic links, named pipes)
 * @param ignored files deliberately left out (hidden files, {@code __MACOSX}, non-images, files
 *     outside class folders, symlink loops)
 * @param warnings observations worth showing (empty class folders, label conflicts)
 */
public record ImageList(
        Path root,
        List<ImageItem> items,
        List<String> classes,
        List<SkippedFile> unreadable,
        List<SkippedFile> ignored,
        List<String> warnings) {

    /**
     * Copies the lists.
     *
     * @param root the scanned folder
     * @param items image files sorted by relative path (code-point order, '/' separators)
     * @param classes the vocabulary: distinct labels, sorted
     * @param unreadable files that look like images but cannot be used (bad content, no permission,
     *     broken symbolic links, named pipes)
     * @param ignored files deliberately left out (hidden files, {@code __MACOSX}, non-images, files
     *     outside class folders, symlink loops)
     * @param warnings observations worth showing (empty class folders, label conflicts)
     */
    public ImageList {
        items = List.copyOf(items);
        classes = List.copyOf(classes);
        unreadable = List.copyOf(unreadable);
        ignored = List.copyOf(ignored);
        warnings = List.copyOf(warnings);
    }

    /**
     * Returns the index of each item's label in {@link #classes()}.
     *
     * @return one class index per item
     */
    public int[] targets() {
        Map<String, Integer> index = new TreeMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.put(classes.get(i), i);
        }
        int[] targets = new int[items.size()];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = index.get(items.get(i).label());
        }
        return targets;
    }

    /**
     * Counts items per class.
     *
     * @return class name to count, in vocabulary order
     */
    public Map<String, Integer> countsPerClass() {
        Map<String, Integer> counts = new TreeMap<>();
        for (String c : classes) {
            counts.put(c, 0);
        }
        for (ImageItem item : items) {
            counts.merge(item.label(), 1, Integer::sum);
        }
        return counts;
    }
}
