package dev.tuna.data;

import dev.tuna.TunaException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The checks that turn unusable folders into clear messages (what was found, what is expected). */
final class DataChecks {
    private DataChecks() {}

    static void checkListing(ImageList list, List<String> classes, boolean fixedVocabulary) {
        if (list.items().isEmpty()) {
            long topLevel = list.ignored().stream()
                    .filter(s -> s.reason().equals("image is not inside a class folder")).count();
            if (topLevel > 0) {
                throw TunaException.badData("Found " + topLevel + " images directly in " + list.root()
                        + " but no class folders. Move each image into a folder named after its class. "
                        + FolderScanner.LAYOUT_HINT);
            }
            throw TunaException.badData("No images found under " + list.root() + " ("
                    + list.unreadable().size() + " unreadable and " + list.ignored().size()
                    + " other files were skipped). " + FolderScanner.LAYOUT_HINT);
        }
        if (fixedVocabulary) {
            Set<String> known = new HashSet<>(classes);
            Set<String> unknown = new TreeSet<>(FolderScanner.CODE_POINT_ORDER);
            for (ImageItem item : list.items()) {
                if (!known.contains(item.label())) {
                    unknown.add(item.label());
                }
            }
            if (!unknown.isEmpty()) {
                throw TunaException.badData("The folder " + list.root() + " has classes the model does not know: "
                        + unknown + ". The model's classes are " + classes
                        + ". Remove or rename those folders.");
            }
        } else if (classes.size() < 2) {
            throw TunaException.badData("Found only one class ('" + classes.get(0) + "', " + list.items().size()
                    + " images) in " + list.root() + ". A classifier needs at least two classes: add one folder"
                    + " per class next to '" + classes.get(0) + "'. " + FolderScanner.LAYOUT_HINT);
        }
    }
}
