/**
 * The {@code tuna} command line: a thin layer of picocli commands over the library.
 *
 * <pre>{@code
 * int exitCode = TunaCommand.execute("describe", "flowers/");
 * }</pre>
 */
package dev.tuna.cli;
