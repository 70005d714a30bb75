package dev.tuna.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code scripts/make_reference.py} with Debian's PyTorch once per test JVM and hands out the
 * generated files. Tests that need it are skipped when {@code /usr/bin/python3} has no torch.
 */
public final class PyTorchReference {
    private static final Path PYTHON = DebianPython.PYTHON;
    private static Path directory;
    private static String failure;

    private PyTorchReference() {}

    /** Whether Debian's python3 with torch and torchvision is installed. */
    public static boolean available() {
        return DebianPython.canImport("torch, torchvision");
    }

    /**
     * Returns the folder with the reference files, generating them on first use; skips the calling
     * test when PyTorch is not installed.
     *
     * @return the folder
     */
    public static synchronized Path files() {
        Assumptions.assumeTrue(available(), "Debian python3-torch/python3-torchvision not installed");
        if (directory == null && failure == null) {
            try {
                Path out = Files.createTempDirectory("tuna-reference");
                Path script = DebianPython.script("make_reference.py");
                List<String> command = new ArrayList<>(List.of(PYTHON.toString(), script.toString(), "--out",
                        out.toString(), "--tf-same"));
                Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
                String log = new String(process.getInputStream().readAllBytes());
                if (!process.waitFor(15, TimeUnit.MINUTES) || process.exitValue() != 0) {
                    failure = "make_reference.py failed:\n" + log;
                } else {
                    directory = out;
                }
            } catch (IOException e) {
                failure = "cannot run make_reference.py: " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = "interrupted";
            }
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
        return directory;
    }
}
