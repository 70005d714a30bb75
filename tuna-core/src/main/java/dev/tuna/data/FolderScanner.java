package dev.tuna.data;

import dev.tuna.TunaException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** Walks a dataset folder and lists its image files (see {@link ImageFolder#scan()}). */
final class FolderScanner {
    static final String LAYOUT_HINT =
            "Expected one sub-folder per class with the images inside, e.g. <folder>/cat/001.jpg and "
                    + "<folder>/dog/002.jpg (deeper nesting is fine: the label is the image's parent folder).";

    /** Orders strings by Unicode code point, the same on every platform and locale. */
    static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private FolderScanner() {}

    static ImageList scan(Path root) {
        checkRoot(root);
        Path base = root.toAbsolutePath().normalize();
        List<ImageItem> items = new ArrayList<>();
        List<SkippedFile> unreadable = new ArrayList<>();
        List<SkippedFile> ignored = new ArrayList<>();
        try {
            Files.walkFileTree(base, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                            if (dir.equals(base)) {
                                return FileVisitResult.CONTINUE;
                            }
                            String name = dir.getFileName().toString();
                            if (name.equals("__MACOSX")) {
                                ignored.add(new SkippedFile(dir, "macOS archive metadata folder"));
                                return FileVisitResult.SKIP_SUBTREE;
                            }
                            if (name.startsWith(".")) {
                                ignored.add(new SkippedFile(dir, "hidden folder"));
                                return FileVisitResult.SKIP_SUBTREE;
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            visit(base, file, attrs, items, unreadable, ignored);
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            if (e instanceof FileSystemLoopException) {
                                ignored.add(new SkippedFile(file, "symbolic link loop (already visited)"));
                            } else if (e instanceof AccessDeniedException) {
                                unreadable.add(new SkippedFile(file, "permission denied"));
                            } else {
                                unreadable.add(new SkippedFile(file, "cannot read: " + e.getMessage()));
                            }
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.BAD_DATA,
                    "Cannot list the folder " + root + ": " + e.getMessage(), e);
        }
        items.sort(Comparator.comparing(ImageItem::relativePath, CODE_POINT_ORDER));
        unreadable.sort(Comparator.comparing(s -> s.path().toString(), CODE_POINT_ORDER));
        ignored.sort(Comparator.comparing(s -> s.path().toString(), CODE_POINT_ORDER));
        TreeSet<String> labels = new TreeSet<>(CODE_POINT_ORDER);
        for (ImageItem item : items) {
            labels.add(item.label());
        }
        List<String> warnings = emptyClassFolders(base, items);
        return new ImageList(root, items, new ArrayList<>(labels), unreadable, ignored, warnings);
    }

    private static void checkRoot(Path root) {
        if (!Files.exists(root)) {
            throw TunaException.badData("Folder not found: " + root + ". " + LAYOUT_HINT);
        }
        if (!Files.isDirectory(root)) {
            throw TunaException.badData("Not a folder: " + root + " is a file. " + LAYOUT_HINT);
        }
        if (!Files.isReadable(root)) {
            throw TunaException.badData("Cannot read the folder " + root
                    + ": permission denied. Make it readable (chmod +rx) or choose another folder.");
        }
    }

    private static void visit(Path base, Path file, BasicFileAttributes attrs, List<ImageItem> items,
            List<SkippedFile> unreadable, List<SkippedFile> ignored) {
        String name = file.getFileName().toString();
        if (name.startsWith(".")) {
            ignored.add(new SkippedFile(file, "hidden file"));
            return;
        }
        boolean imageName = ImageFormat.hasImageExtension(name);
        if (attrs.isSymbolicLink()) {
            // the walk follows links, so it hands over a link's own attributes only when its target is missing
            (imageName ? unreadable : ignored).add(new SkippedFile(file,
                    "broken symbolic link (its target does not exist)"));
            return;
        }
        if (!attrs.isRegularFile()) {
            // never opened: reading a named pipe or a device could block or never end
            (imageName ? unreadable : ignored).add(new SkippedFile(file,
                    "not a regular file (a named pipe, socket or device)"));
            return;
        }
        byte[] header = new byte[ImageFormat.HEADER_BYTES];
        int length;
        try (InputStream in = Files.newInputStream(file)) {
            length = in.readNBytes(header, 0, header.length);
        } catch (AccessDeniedException e) {
            (imageName ? unreadable : ignored).add(new SkippedFile(file, "permission denied"));
            return;
        } catch (IOException e) {
            (imageName ? unreadable : ignored).add(new SkippedFile(file, "cannot read: " + e.getMessage()));
            return;
        }
        Optional<ImageFormat> format = ImageFormat.sniff(header, length);
        if (format.isEmpty()) {
            if (!imageName) {
                ignored.add(new SkippedFile(file, "not an image file"));
            } else if (length == 0) {
                unreadable.add(new SkippedFile(file, "empty file (0 bytes)"));
            } else {
                unreadable.add(new SkippedFile(file, "not an image: content is not " + ImageFormat.NAMES));
            }
            return;
        }
        Path parent = file.getParent();
        if (parent == null || parent.equals(base)) {
            ignored.add(new SkippedFile(file, "image is not inside a class folder"));
            return;
        }
        String relative = base.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
        items.add(new ImageItem(file, relative, parent.getFileName().toString()));
    }

    private static List<String> emptyClassFolders(Path base, List<ImageItem> items) {
        Map<String, Integer> perTopFolder = new HashMap<>();
        for (ImageItem item : items) {
            String top = item.relativePath().substring(0, item.relativePath().indexOf('/'));
            perTopFolder.merge(top, 1, Integer::sum);
        }
        List<String> warnings = new ArrayList<>();
        try (var children = Files.list(base)) {
            children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && !n.equals("__MACOSX"))
                    .filter(n -> !perTopFolder.containsKey(n))
                    .sorted(CODE_POINT_ORDER)
                    .forEach(n -> warnings.add("class folder '" + n + "' has no usable images; it is left out"));
        } catch (IOException e) {
            warnings.add("could not list " + base + ": " + e.getMessage());
        }
        return warnings;
    }
}
