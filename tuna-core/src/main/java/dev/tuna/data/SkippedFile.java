package dev.tuna.data;

import java.nio.file.Path;

/**
 * A file that was left out of a dataset, and why.
 *
 * @param path the file
 * @param reason a short human-readable reason, e.g. "truncated JPEG file"
 */
public record SkippedFile(Path path, String reason) {
    @Override
    public String toString() {
        return path + ": " + reason;
    }
}
