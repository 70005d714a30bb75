package dev.tuna.serve;

import dev.tuna.TunaException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model to serve: the name in {@code /predictions/{name}} and the artifact folder it is loaded from.
 *
 * <pre>{@code
 * ModelSpec.parse("flowers-mobilenet_v2.tuna");   // name "flowers-mobilenet_v2"
 * ModelSpec.parse("flowers=models/v3.tuna");      // name "flowers"
 * }</pre>
 *
 * @param name letters, digits, {@code .}, {@code _} and {@code -}
 * @param path the model folder written by {@code tuna train} or {@code Learner.export}
 */
public record ModelSpec(String name, Path path) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    /**
     * Validates the name.
     *
     * @param name the name
     * @param path the folder
     * @throws TunaException ({@link TunaException.Kind#USAGE}) for a name that cannot be a URL path segment
     */
    public ModelSpec {
        Objects.requireNonNull(path, "path");
        if (name == null || !NAME.matcher(name).matches()) {
            throw TunaException.usage("A model name must be 1 to 100 letters, digits, '.', '_' or '-'; found '"
                    + name + "'. Name it explicitly: name=path.");
        }
    }

    /**
     * Reads {@code path} (named after its folder, without {@code .tuna}) or {@code name=path}.
     *
     * @param argument the command-line argument
     * @return the spec
     * @throws TunaException ({@link TunaException.Kind#USAGE}) when no valid name results
     */
    public static ModelSpec parse(String argument) {
        Objects.requireNonNull(argument, "argument");
        int eq = argument.indexOf('=');
        if (eq > 0) {
            return new ModelSpec(argument.substring(0, eq), Path.of(argument.substring(eq + 1)));
        }
        Path path = Path.of(argument);
        Path file = path.toAbsolutePath().normalize().getFileName();
        String name = file == null ? "" : file.toString();
        if (name.endsWith(".tuna")) {
            name = name.substring(0, name.length() - ".tuna".length());
        }
        return new ModelSpec(name, path);
    }
}
