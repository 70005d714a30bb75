package dev.tuna.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code scripts/make_format_samples.py} with Debian's Pillow ({@code python3-pil}): it writes
 * sample images in many formats and modes and the RGB pixels Pillow decodes from every image file
 * in the folder ({@code NAME.rgb} and {@code reference.tsv}). Tests that need it are skipped when
 * {@code /usr/bin/python3} has no Pillow; {@code .ci/run} installs it.
 */
public final class PillowReference {
    private static final Path PYTHON = DebianPython.PYTHON;
    private static Boolean available;

    private PillowReference() {}

    /**
     * Whether Debian's python3 with Pillow is installed.
     *
     * @return true when {@code import PIL} works
     */
    public static synchronized boolean available() {
        if (available == null) {
            available = probe();
        }
        return available;
    }

    private static boolean probe() {
        return DebianPython.canImport("PIL");
    }

    /**
     * Writes Pillow's samples into {@code folder} (unless {@code samples} is false) and Pillow's
     * decoded pixels of every image file there; skips the calling test when Pillow is missing.
     *
     * @param folder the folder (files a test wrote there first are decoded too)
     * @param samples whether to write Pillow's own samples
     */
    public static void run(Path folder, boolean samples) {
        run(folder, samples, null);
    }

    /**
     * As {@link #run(Path, boolean)}, with an RGB ICC profile that Pillow embeds in a TIFF and a PSD sample.
     *
     * @param folder the folder
     * @param samples whether to write Pillow's own samples
     * @param iccProfile the profile file, or null
     */
    public static void run(Path folder, boolean samples, Path iccProfile) {
        Assumptions.assumeTrue(available(), "Debian python3-pil not installed");
        List<String> command = new ArrayList<>(List.of(PYTHON.toString(), DebianPython.script("make_format_samples.py").toString(), "--out",
                folder.toString()));
        if (!samples) {
            command.add("--no-samples");
        }
        if (iccProfile != null) {
            command.addAll(List.of("--icc", iccProfile.toString()));
        }
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new IllegalStateException("make_format_samples.py failed:\n" + log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run make_format_samples.py: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * One line of {@code reference.tsv}.
     *
     * @param name the file name
     * @param width Pillow's width (upright)
     * @param height Pillow's height
     * @param mode Pillow's mode of the file as opened
     * @param rgb Pillow's pixels under Tuna's rules, or null where they are not compared (CMYK)
     */
    public record Decoded(String name, int width, int height, String mode, byte[] rgb) {}

    /**
     * Reads {@code reference.tsv} and the {@code .rgb} files of a folder {@link #run} filled.
     *
     * @param folder the folder
     * @return one entry per image file, by name
     */
    public static List<Decoded> read(Path folder) {
        try {
            List<Decoded> out = new ArrayList<>();
            for (String line : Files.readAllLines(folder.resolve("reference.tsv"))) {
                String[] f = line.split("\t");
                Path rgb = folder.resolve(f[0] + ".rgb");
                out.add(new Decoded(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), f[3],
                        Files.exists(rgb) ? Files.readAllBytes(rgb) : null));
            }
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
