package dev.tuna.internal.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's resident memory, Java heap and native (libtorch) together, from {@code /proc}. */
public final class ProcessMemory {
    private ProcessMemory() {}

    /**
     * Returns the current resident set size.
     *
     * @return bytes, or 0 where {@code /proc/self/status} is not available
     */
    public static long residentBytes() {
        return field("VmRSS:");
    }

    /**
     * Returns the peak resident set size since the process started.
     *
     * @return bytes, or 0 where {@code /proc/self/status} is not available
     */
    public static long peakResidentBytes() {
        return field("VmHWM:");
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }
}
