package dev.tuna.internal.io;

import dev.tuna.TunaException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Crash-safe small-file writes (not API): the bytes go to a hidden temporary sibling, are forced to
 * disk, and the sibling is renamed over the destination; the folder is then forced too, so after a
 * crash the destination holds either the old or the new content, never a mix.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes a file's content. */
    public interface Content {
        /**
         * Writes everything.
         *
         * @param channel an empty file opened for writing
         * @throws IOException when writing fails
         */
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * Writes all of {@code buffer}.
     *
     * @param channel the channel
     * @param buffer what to write
     * @throws IOException when writing fails
     */
    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * Writes a file under a temporary sibling name, forces it to disk and renames it into place.
     *
     * @param file the destination, replaced if it exists
     * @param content what to write
     * @throws TunaException ({@link TunaException.Kind#RUNTIME}) when the file cannot be written
     */
    public static void writeAtomically(Path file, Content content) {
        try {
            write(file, content);
        } catch (IOException e) {
            throw new TunaException(TunaException.Kind.RUNTIME, "Cannot write " + file + " (" + e
                    + "); check that its folder exists, is writable and has free space.", e);
        }
    }

    /**
     * Replaces {@code file} with {@code bytes} atomically and durably.
     *
     * @param file the destination (its folder must exist)
     * @param bytes the new content
     * @throws IOException when writing, forcing or renaming fails (the temporary file is removed)
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, channel -> writeFully(channel, ByteBuffer.wrap(bytes)));
    }

    /**
     * Writes a file under a temporary sibling name, forces it to disk, renames it into place and forces
     * the folder's entry.
     *
     * @param file the destination, replaced if it exists
     * @param content what to write
     * @throws IOException when writing, forcing or renaming fails (the temporary file is removed)
     */
    public static void write(Path file, Content content) throws IOException {
        write(file, content, true);
    }

    /**
     * Writes a file under a temporary sibling name, forces it to disk, renames it into place and forces
     * the folder's entry; without {@code replace}, an existing destination is left as it is and the
     * write fails (checked before writing and again just before the rename).
     *
     * @param file the destination
     * @param content what to write
     * @param replace whether an existing destination is replaced
     * @throws FileAlreadyExistsException when {@code replace} is false and the destination exists
     * @throws IOException when writing, forcing or renaming fails (the temporary file is removed)
     */
    public static void write(Path file, Content content, boolean replace) throws IOException {
        Path target = file.toAbsolutePath();
        if (!replace && Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        Path temporary = null;
        try {
            temporary = temporarySibling(target, "tmp");
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                content.writeTo(channel);
                channel.force(true);
            }
            if (replace) {
                moveReplacing(temporary, target);
            } else {
                moveNew(temporary, target);
            }
        } catch (IOException | RuntimeException | Error e) {
            deleteQuietly(temporary);
            throw e;
        }
        syncDirectory(target.getParent());
    }

    /**
     * Writes a small file directly (inside a folder that is itself renamed into place later).
     *
     * @param file the new file
     * @param bytes its content
     * @throws IOException when writing fails
     */
    public static void writeNew(Path file, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeFully(channel, ByteBuffer.wrap(bytes));
            channel.force(true);
        }
    }

    /**
     * Returns an unused hidden sibling name such as {@code .model.tmp-3f9a1c}; nothing is created.
     * Unlike {@link Files#createTempFile}, files and folders made under it get the usual
     * permissions rather than owner-only ones.
     *
     * @param target the final path
     * @param tag what the sibling is for ("tmp", "old")
     * @return the sibling path
     * @throws IOException when no unused name is found
     */
    public static Path temporarySibling(Path target, String tag) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        for (int attempt = 0; attempt < 100; attempt++) {
            String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffL);
            Path candidate = parent.resolve("." + name + "." + tag + "-" + suffix);
            if (!Files.exists(candidate, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return candidate;
            }
        }
        throw new FileAlreadyExistsException(parent + "/." + name + "." + tag + "-*",
                null, "no unused temporary name");
    }

    /**
     * Renames, atomically where the file system allows, replacing the target if it exists.
     *
     * @param source the file to rename
     * @param target its new name
     * @throws IOException when the rename fails
     */
    public static void moveReplacing(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Renames, atomically where the file system allows; fails if the target exists.
     *
     * @param source the file to rename
     * @param target its new name, which must not exist
     * @throws FileAlreadyExistsException when the target exists
     * @throws IOException when the rename fails
     */
    public static void moveNew(Path source, Path target) throws IOException {
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target);
        }
    }

    /**
     * Deletes a file or a folder with everything in it; symbolic links are removed, not followed.
     *
     * @param path the file or folder; nothing happens when it does not exist
     * @throws IOException when something cannot be deleted
     */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(path);
            return;
        }
        List<Path> all;
        try (Stream<Path> walk = Files.walk(path)) {
            all = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            Files.deleteIfExists(p);
        }
    }

    /**
     * Deletes, ignoring failures (cleanup after another error).
     *
     * @param path the file or folder, or null for nothing
     */
    public static void deleteQuietly(Path path) {
        if (path == null) {
            return;
        }
        try {
            deleteRecursively(path);
        } catch (IOException | RuntimeException ignored) {
            // best effort: the original failure is what matters
        }
    }

    /**
     * Forces a folder's entries (creations, renames, deletions) to disk, where the platform allows it.
     *
     * @param directory the folder
     */
    public static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open folders; the rename itself is still atomic there
        }
    }
}
