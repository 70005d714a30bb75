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

    /**
     * Returns the bytes currently allocated through jemalloc (libtorch's tensors and every other
     * native allocation; not the Java heap), when jemalloc is the process's allocator.
     *
     * @return bytes, or -1 when jemalloc is not loaded
     */
    public static long nativeAllocatedBytes() {
        try {
            com.sun.jna.Function mallctl = com.sun.jna.NativeLibrary.getProcess().getFunction("mallctl");
            com.sun.jna.Memory value = new com.sun.jna.Memory(8);
            com.sun.jna.Memory length = new com.sun.jna.Memory(8);
            value.setLong(0, 1);
            length.setLong(0, 8);
            // advancing the "epoch" refreshes jemalloc's cached statistics
            if (mallctl.invokeInt(new Object[] {"epoch", value, length, value, 8L}) != 0) {
                return -1;
            }
            length.setLong(0, 8);
            if (mallctl.invokeInt(new Object[] {"stats.allocated", value, length, null, 0L}) != 0) {
                return -1;
            }
            return value.getLong(0);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return -1;
        }
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
