package dev.tuna.testing;

import java.nio.file.Path;
import java.util.Map;

/** Builds small image-folder datasets on disk for tests. */
public final class Datasets {
    private Datasets() {}

    /**
     * Writes {@code root/<class>/img<i>.jpg} for every class and count, 24×16 px, every file distinct.
     *
     * @param root the folder
     * @param counts images per class
     * @return the root
     */
    public static Path folder(Path root, Map<String, Integer> counts) {
        int seed = 1;
        for (Map.Entry<String, Integer> entry : counts.entrySet()) {
            for (int i = 0; i < entry.getValue(); i++) {
                Images.writeJpeg(root.resolve(entry.getKey()).resolve(String.format("img%03d.jpg", i)), 24, 16, seed++);
            }
        }
        return root;
    }

    /** The shared flowers dataset beside the repository, or null when it is absent. */
    public static Path sharedFlowers() {
        return shared("datasets/flowers");
    }

    /** The shared flowers test set, or null when it is absent. */
    public static Path sharedFlowersTest() {
        return shared("datasets/flowers-test");
    }

    /** A path under ../shared (found from the working directory or its parents), or null. */
    public static Path shared(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve(relative);
            if (java.nio.file.Files.exists(candidate)) {
                return candidate;
            }
            candidate = dir.resolveSibling("shared").resolve(relative);
            if (java.nio.file.Files.exists(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
