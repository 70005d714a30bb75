package dev.tuna.testing;

import dev.tuna.TunaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ThrowableAssert;

/**
 * Shared rules of the {@code @FuzzTest}s (Jazzer). A parser fed arbitrary bytes may return a result or
 * throw the exception it documents; anything else (another exception, an error, a hang) is a finding.
 *
 * <p>Seeds live in Jazzer's inputs directory, {@code src/test/resources/<package>/<Class>Inputs/<method>/};
 * they are made by each fuzz test's {@code seeds()} and written by {@link #syncSeeds}.
 */
public final class Fuzzing {
    /**
     * The pixel budget of the image fuzz targets (1,048,576): a decode within it stays well under 2 s
     * with Jazzer's instrumentation on a loaded machine, and well within the fuzz JVM's 1 GB heap.
     */
    public static final long PIXEL_BUDGET = 1L << 20;

    private static final Map<String, LongAdder> EXECUTIONS = new ConcurrentHashMap<>();
    private static Path scratch;

    static {
        String stats = System.getProperty("tuna.fuzz.stats");
        if (stats != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> writeStats(Path.of(stats))));
        }
    }

    private Fuzzing() {}

    /**
     * Counts one input given to a fuzz target; with {@code -Dtuna.fuzz.stats=FILE} the counts are
     * appended to that file when the JVM exits ({@code scripts/fuzz.sh} reports them).
     *
     * @param target the target, e.g. {@code "ImageDecoderFuzzTest#decode"}
     */
    public static void executed(String target) {
        EXECUTIONS.computeIfAbsent(target, t -> new LongAdder()).increment();
    }

    private static void writeStats(Path file) {
        StringBuilder lines = new StringBuilder();
        EXECUTIONS.forEach((target, count) -> lines.append(target).append(' ').append(count.sum()).append('\n'));
        try {
            Files.writeString(file, lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot write fuzzing statistics to " + file + ": " + e);
        }
    }

    /**
     * Checks that a parser refused its input the documented way: a {@link TunaException} of the given
     * kind with a message for people.
     *
     * @param e the exception thrown
     * @param kind the kind the parser documents
     */
    public static void expectDocumented(TunaException e, TunaException.Kind kind) {
        if (e.kind() != kind) {
            throw new AssertionError("expected a TunaException of kind " + kind + ", got " + e.kind(), e);
        }
        requireMessage(e);
    }

    /**
     * Checks that a call fails the documented way: a {@link TunaException} of the kind given whose
     * message contains the text given (the regression tests of the fuzzers' findings).
     *
     * @param call the call
     * @param kind the kind the parser documents
     * @param messagePart text the message must contain
     */
    public static void assertRefused(ThrowableAssert.ThrowingCallable call, TunaException.Kind kind,
            String messagePart) {
        Assertions.assertThatThrownBy(call)
                .isInstanceOf(TunaException.class)
                .satisfies(e -> expectDocumented((TunaException) e, kind))
                .hasMessageContaining(messagePart);
    }

    /**
     * Checks that an exception has a non-blank message (the reason shown to people).
     *
     * @param e the exception
     */
    public static void requireMessage(Exception e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError("the exception has no message", e);
        }
    }

    /**
     * A folder for the files a fuzz target writes, one per JVM, removed when the JVM exits.
     *
     * @return the folder
     */
    public static synchronized Path scratch() {
        if (scratch == null) {
            try {
                scratch = Files.createTempDirectory("tuna-fuzz");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path folder = scratch;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(folder)));
        }
        return scratch;
    }

    /**
     * Writes bytes to a file of the scratch folder, replacing it.
     *
     * @param name the file's name inside {@link #scratch()}
     * @param bytes the content
     * @return the file
     */
    public static Path scratchFile(String name, byte[] bytes) {
        try {
            Path file = scratch().resolve(name);
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Keeps a fuzz test's committed seeds in step with the code that makes them: with
     * {@code -Dtuna.fuzz.writeSeeds=true} writes them into Jazzer's inputs directory
     * ({@code src/test/resources/<package>/<Class>Inputs/<method>/}), otherwise checks that each is there.
     *
     * @param testClass the fuzz test's class
     * @param method the fuzz test method
     * @param seeds file name to content
     */
    public static void syncSeeds(Class<?> testClass, String method, Map<String, byte[]> seeds) {
        Path folder = Path.of("src", "test", "resources").resolve(testClass.getPackageName().replace('.', '/'))
                .resolve(testClass.getSimpleName() + "Inputs").resolve(method);
        if (Boolean.getBoolean("tuna.fuzz.writeSeeds")) {
            seeds.forEach((name, bytes) -> Images.write(folder.resolve(name), bytes));
        }
        for (String name : seeds.keySet()) {
            if (!Files.isRegularFile(folder.resolve(name))) {
                throw new AssertionError("seed " + folder.resolve(name) + " is missing; write the seeds with"
                        + " mvn -o test -pl tuna-core -Dtest='*FuzzTest' -Dtuna.fuzz.writeSeeds=true");
            }
        }
    }

    private static void deleteTree(Path folder) {
        try (Stream<Path> paths = Files.walk(folder)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary folder
        }
    }
}
