package dev.tuna.cli;

import java.util.List;

/**
 * Configures the command line's SLF4J backend (slf4j-simple) before the first logger is made: Tuna's
 * warnings only, on stderr, in one short line each; DJL's own logging off, as before Tuna logged at all.
 * {@code --verbose} raises Tuna to debug, other libraries to info and DJL to warnings. Any
 * {@code -Dorg.slf4j.simpleLogger.*} setting given to the JVM (e.g. through {@code TUNA_JAVA_OPTS}) wins.
 */
final class Logging {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logging() {}

    /**
     * Sets the backend's properties that are not set yet. slf4j-simple reads them once, when the first
     * logger is made, so later calls (a second command in the same JVM) change nothing.
     *
     * @param args the command line, searched for {@code --verbose}
     */
    static void configure(String... args) {
        boolean verbose = List.of(args).contains("--verbose");
        setDefault("defaultLogLevel", verbose ? "info" : "warn");
        setDefault("log.dev.tuna", verbose ? "debug" : "warn");
        setDefault("log.ai.djl", verbose ? "warn" : "off");
        // the CLI prints the numerical check's notes itself, one line each (TunaCommand.execute)
        setDefault("log.dev.tuna.internal.nn.Numerics", "off");
        setDefault("logFile", "System.err");
        setDefault("showThreadName", "false");
        setDefault("showShortLogName", "true");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) {
            System.setProperty(PREFIX + key, value);
        }
    }
}
