package dev.tuna.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Debian's {@code /usr/bin/python3} and the repository's {@code scripts/}, for tests that compare with Python. */
public final class DebianPython {
    /** Debian's interpreter (not a virtual environment's), where python3-torch and python3-pil install. */
    public static final Path PYTHON = Path.of("/usr/bin/python3");

    private DebianPython() {}

    /**
     * Whether Debian's python3 can import the modules.
     *
     * @param modules e.g. {@code "torch, torchvision"}
     * @return true when {@code import <modules>} succeeds within a minute
     */
    public static boolean canImport(String modules) {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        try {
            Process process = new ProcessBuilder(PYTHON.toString(), "-c", "import " + modules)
                    .redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Finds a file of the repository's {@code scripts/} folder from the test's working directory (a
     * module folder or the repository root).
     *
     * @param name the script's file name
     * @return its path
     */
    public static Path script(String name) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolve("scripts").resolve(name);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("scripts/" + name + " not found above " + Path.of("").toAbsolutePath());
    }
}
