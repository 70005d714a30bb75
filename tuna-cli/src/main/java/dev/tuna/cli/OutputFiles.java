package dev.tuna.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Chooses output paths without destroying what the user already has. */
final class OutputFiles {
    private OutputFiles() {}

    /**
     * Returns {@code wanted} if it is free (or {@code overwrite} is set); otherwise the first free
     * {@code name-2.ext}, {@code name-3.ext}, ... next to it.
     */
    static Path freshPath(Path wanted, boolean overwrite) {
        if (overwrite || !Files.exists(wanted)) {
            return wanted;
        }
        String name = wanted.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        for (int i = 2; ; i++) {
            Path candidate = wanted.resolveSibling(stem + "-" + i + ext);
            if (!Files.exists(candidate)) {
                return candidate;
            }
        }
    }
}
