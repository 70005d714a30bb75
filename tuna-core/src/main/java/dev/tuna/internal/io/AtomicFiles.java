package dev.tuna.internal.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Crash-safe small-file writes (not API): the bytes go to a hidden temporary sibling, are forced to
 * disk, and the sibling is renamed over the destination; the folder is then forced too, so after a
 * crash the destination holds either the old or the new content, never a mix.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Replaces {@code file} with {@code bytes} atomically and durably.
     *
     * @param file the destination (its folder must exist)
     * @param bytes the new content
     * @throws IOException when writing, forcing or renaming fails (the temporary file is removed)
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path target = file.toAbsolutePath();
        Path temporary = target.resolveSibling("." + target.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffL));
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
        }
        syncDirectory(target.getParent());
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
