package dev.tuna.inference;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.Properties;

/**
 * The versions of the libraries that made a model, recorded in {@code model.json} for diagnosis.
 *
 * @param tuna Tuna's version ("development" when run from a source tree)
 * @param djl the Deep Java Library version, e.g. "0.36.0"
 * @param pytorch the PyTorch engine version, e.g. "2.7.1" ("unknown" when no engine is loaded)
 */
public record LibraryVersions(String tuna, String djl, String pytorch) {
    /** Version text used when a version cannot be found. */
    public static final String UNKNOWN = "unknown";

    /**
     * Checks that no version is null.
     *
     * @param tuna Tuna's version
     * @param djl the Deep Java Library version
     * @param pytorch the PyTorch engine version
     */
    public LibraryVersions {
        Objects.requireNonNull(tuna, "tuna");
        Objects.requireNonNull(djl, "djl");
        Objects.requireNonNull(pytorch, "pytorch");
    }

    /**
     * Returns the versions running now. Asks the default engine for its version, which loads it if
     * it is not loaded yet.
     *
     * @return the current versions
     */
    public static LibraryVersions current() {
        String djl;
        try {
            djl = Objects.requireNonNullElse(Engine.getDjlVersion(), UNKNOWN);
        } catch (RuntimeException e) {
            djl = UNKNOWN;
        }
        String pytorch;
        try {
            pytorch = Objects.requireNonNullElse(Engine.getInstance().getVersion(), UNKNOWN);
        } catch (RuntimeException e) {
            pytorch = UNKNOWN;
        }
        return new LibraryVersions(tunaVersion(), djl, pytorch);
    }

    private static String tunaVersion() {
        String version = LibraryVersions.class.getPackage().getImplementationVersion();
        if (version != null) {
            return version;
        }
        try (InputStream in = LibraryVersions.class.getResourceAsStream(
                "/META-INF/maven/dev.tuna/tuna-core/pom.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                String fromPom = properties.getProperty("version");
                if (fromPom != null) {
                    return fromPom;
                }
            }
        } catch (IOException e) {
            // fall through: not packaged
        }
        return "development";
    }
}
